//! Micro-benchmark of the segmenter: preprocessing, one model run and the learnt background
//! plate (`segmentation.plate`: lowering and learning, per mask) on a 720p frame:
//! `cargo run --release -p viba-segmenter --example seg_timing -- models/selfie_segmentation_landscape.onnx [cuda]`.
//! `VIBA_TIMING_RUNS=3` times 3 runs instead of 200 (in the VM a run takes 0.3-7 s).
use std::time::Instant;
use viba_common::config::{ExecutionProvider, Segmentation};
use viba_segmenter::{model::Model, plate::Plate, preprocess::Preprocessor};
fn main() {
    let model_path = std::env::args().nth(1).unwrap();
    let (w, h): (usize, usize) = (1280, 720);
    let cuda = std::env::args().nth(2).as_deref() == Some("cuda");
    let config = Segmentation {
        model: model_path.into(),
        execution_provider: if cuda {
            ExecutionProvider::Cuda
        } else {
            ExecutionProvider::Cpu
        },
        ..Segmentation::default()
    };
    let env = viba_segmenter::runtime::init(&config).unwrap();
    let mut model = Model::load(&env, &config).unwrap();
    let frame: Vec<u8> = (0..w * h * 2).map(|i| (i * 7 % 251) as u8).collect();
    let place = viba_segmenter::fit::place(
        config.fit,
        (w, h),
        (model.input_width, model.input_height),
        (model.mask_width, model.mask_height),
    );
    let mut pre = Preprocessor::new(
        model.input_width,
        model.input_height,
        place.input,
        model.layout,
        config.mean,
        config.std,
    );
    let mut mask = vec![0u8; model.mask_width * model.mask_height];
    // VIBA_TIMING_RUNS: timed runs (default 200; a few in the VM, where one takes 0.3-7 s).
    let n: usize = std::env::var("VIBA_TIMING_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    for _ in 0..n.min(20) {
        pre.prepare(&frame, w, h);
        model.run(&pre.tensor, &mut mask).unwrap();
    }
    let t = Instant::now();
    let c0 = viba_common::clock::process_cpu_ns();
    for _ in 0..n {
        pre.prepare(&frame, w, h);
    }
    let pre_ms = t.elapsed().as_secs_f64() * 1000.0 / n as f64;
    let c1 = viba_common::clock::process_cpu_ns();
    let t = Instant::now();
    for _ in 0..n {
        model.run(&pre.tensor, &mut mask).unwrap();
    }
    let run_ms = t.elapsed().as_secs_f64() * 1000.0 / n as f64;
    let c2 = viba_common::clock::process_cpu_ns();
    // The plate: learnt on the frame (its mask as the model gave it), then applied and
    // learnt once per mask as the segmenter does.
    let (mw, mh) = (model.mask_width, model.mask_height);
    let mut plate = Plate::new(mw, mh, true);
    let mut colour: [Vec<f32>; 3] = std::array::from_fn(|_| vec![0.0; mw * mh]);
    pre.colour(&mut colour);
    let yuv = [&colour[0][..], &colour[1], &colour[2]];
    let mut m = mask.clone();
    for _ in 0..20 {
        m.copy_from_slice(&mask);
        plate.apply(yuv, &mut m);
        plate.learn(yuv, &m);
    }
    let t = Instant::now();
    for _ in 0..n {
        m.copy_from_slice(&mask);
        plate.apply(yuv, &mut m);
        plate.learn(yuv, &m);
    }
    let plate_ms = t.elapsed().as_secs_f64() * 1000.0 / n as f64;
    println!(
        "prepare {pre_ms:.3} ms (cpu {:.3}), run {run_ms:.3} ms (cpu {:.3}), plate {plate_ms:.3} ms",
        (c1 - c0) as f64 / 1e6 / n as f64,
        (c2 - c1) as f64 / 1e6 / n as f64
    );
}
