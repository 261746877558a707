//! Micro-benchmark of the segmenter: preprocessing, one model run and the learnt background
//! plate (`segmentation.plate`: lowering and learning, per mask), the colour planes, the islands
//! (with and without their hold) and the smoothing over time on a 720p frame:
//! `cargo run --release -p viba-segmenter --example seg_timing -- models/selfie_segmentation_landscape.onnx [cpu|cuda] [DRIVE]`.
//! DRIVE: how the session is driven (`model::Drive`), `plain` or a comma list of `bound`,
//! `graph`, `blocking`; default plain (what the segmenter uses). Run each drive in a
//! process of its own: the CUDA driver's blocking flag, once set, stays for the process.
//! `VIBA_TIMING_MASKS=FILE` also writes the masks of the portrait (testdata/astronaut.png) and
//! of its mirror image to FILE, to compare drives and providers byte for byte.
//! `VIBA_TIMING_RUNS=3` times 3 runs instead of 200 (in the VM a run takes 0.3-7 s).
//! `VIBA_TIMING_WAKE=1` also times model runs that follow a pause, as in the pipeline, where the
//! segmenter waits for each frame: after sleeping 5, 15 and 33 ms, after spinning as long, and
//! after writing over 8 and 64 MiB of other memory for 33 ms (the caches evicted, the CPU busy).
//! `VIBA_TIMING_WIDE=1` also times the segmenter's work per mask as the worker does it
//! (`Segmenter::prepare`, and `Segmenter::infer`, the model run included: it is the same run
//! in both), with its AVX2 twins and with the baseline loops (`Segmenter::narrow`), in
//! alternating blocks of 50 masks (which goes first swapped every block), on the portrait
//! stretched to 720p and panned; the masks must be the same.
use std::time::Instant;
use viba_common::config::{ExecutionProvider, Segmentation};
use viba_segmenter::model::{Drive, Model};
use viba_segmenter::{plate::Plate, preprocess::Preprocessor};
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
    let drive = match std::env::args().nth(3) {
        None => Drive::default(),
        Some(list) => {
            let has = |w: &str| list.split(',').any(|x| x == w);
            Drive {
                bound: has("bound"),
                graph: has("graph"),
                blocking_sync: has("blocking"),
            }
        }
    };
    println!("{drive:?}");
    let loaded = std::time::Instant::now();
    let mut model = Model::load_with(&env, &config, drive).unwrap_or_else(|e| {
        eprintln!("seg_timing: {e}");
        std::process::exit(1)
    });
    println!("load {:.0} ms", loaded.elapsed().as_secs_f64() * 1000.0);
    let masks = portrait_masks(&mut model, &config);
    if let Some(file) = std::env::var_os("VIBA_TIMING_MASKS") {
        std::fs::write(file, masks.concat()).unwrap();
    }
    let frame: Vec<u8> = (0..w * h * 2).map(|i| (i * 7 % 251) as u8).collect();
    let mut pre = preprocessor(&model, &config, (w, h));
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
    if std::env::var_os("VIBA_TIMING_WAKE").is_some() {
        wake_up(&mut model, &pre.tensor, &mut mask);
    }
    // The plate: learnt on the frame (its mask as the model gave it), then applied and
    // learnt once per mask as the segmenter does.
    let (mw, mh) = (model.mask_width, model.mask_height);
    let mut plate = Plate::new(mw, mh, true, 114);
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
    // The colour planes the plate and the smoothing read, and the islands dropped from the
    // portrait's mask (a person, and the model's small false parts).
    let t = Instant::now();
    for _ in 0..n {
        pre.colour(&mut colour);
    }
    let colour_ms = t.elapsed().as_secs_f64() * 1000.0 / n as f64;
    // As the defaults count them (threshold 0.6, softness 0.3), and among the cells shown at
    // all only.
    let mut islands = viba_segmenter::blobs::Islands::default();
    let t = Instant::now();
    for _ in 0..n {
        m.copy_from_slice(&masks[0]);
        islands.drop_shown(&mut m, (mw, mh), (114, 153), 0.1);
    }
    let islands_ms = t.elapsed().as_secs_f64() * 1000.0 / n as f64;
    let t = Instant::now();
    for _ in 0..n {
        m.copy_from_slice(&masks[0]);
        islands.drop(&mut m, mw, mh, 114, 0.1);
    }
    let islands_once_ms = t.elapsed().as_secs_f64() * 1000.0 / n as f64;
    // With the hold (`hold.rs`), as the segmenter runs it: the portrait's false parts are
    // dropped every mask, so every mask also lowers held cells and labels the mask once more.
    let mut hold = viba_segmenter::hold::Hold::default();
    let t = Instant::now();
    for i in 0..n {
        m.copy_from_slice(&masks[0]);
        hold.before(&m, (i as u64, u64::MAX));
        islands.drop_shown(&mut m, (mw, mh), (114, 153), 0.1);
        if hold.after(&mut islands, &mut m, (mw, mh), 114) {
            islands.drop_shown(&mut m, (mw, mh), (114, 153), 0.1);
        }
    }
    let held_ms = t.elapsed().as_secs_f64() * 1000.0 / n as f64;
    // ... and on a mask with no island to drop: nothing is ever held.
    let mut clean = masks[0].clone();
    islands.drop_shown(&mut clean, (mw, mh), (114, 153), 0.1);
    let mut hold = viba_segmenter::hold::Hold::default();
    let t = Instant::now();
    for i in 0..n {
        m.copy_from_slice(&clean);
        hold.before(&m, (i as u64, u64::MAX));
        islands.drop_shown(&mut m, (mw, mh), (114, 153), 0.1);
        if hold.after(&mut islands, &mut m, (mw, mh), 114) {
            islands.drop_shown(&mut m, (mw, mh), (114, 153), 0.1);
        }
    }
    let unheld_ms = t.elapsed().as_secs_f64() * 1000.0 / n as f64;
    // The smoothing over time, on the portrait's mask and colour, the mask and the frame
    // alternating between two states each time (so that every cell is worked out).
    let mut temporal = viba_segmenter::temporal::Temporal::new(mw, mh, 0.8, u64::MAX);
    let yuv = [&colour[0][..], &colour[1], &colour[2]];
    let shifted: [Vec<f32>; 3] =
        std::array::from_fn(|c| colour[c].iter().map(|v| v + 3.0).collect());
    let yuv2 = [&shifted[0][..], &shifted[1], &shifted[2]];
    let t = Instant::now();
    for i in 0..n {
        m.copy_from_slice(&masks[i % 2]);
        temporal.apply(if i % 2 == 0 { yuv } else { yuv2 }, &mut m, i as u64);
    }
    let temporal_ms = t.elapsed().as_secs_f64() * 1000.0 / n as f64;
    println!(
        "prepare {pre_ms:.3} ms (cpu {:.3}), run {run_ms:.3} ms (cpu {:.3}), plate {plate_ms:.3} ms, colour {colour_ms:.3} ms, islands {islands_ms:.3} ms (counted once {islands_once_ms:.3}, with the hold {held_ms:.3}, with nothing to hold {unheld_ms:.3}), temporal {temporal_ms:.3} ms",
        (c1 - c0) as f64 / 1e6 / n as f64,
        (c2 - c1) as f64 / 1e6 / n as f64
    );
    if std::env::var_os("VIBA_TIMING_WIDE").is_some() {
        wide_and_narrow(&env, &config, drive);
    }
}

/// `Segmenter::prepare` and `Segmenter::infer` per mask (CPU ms, medians over blocks), with
/// the AVX2 twins and with the baseline loops, alternately; every mask compared.
fn wide_and_narrow(env: &ort::environment::Environment, config: &Segmentation, drive: Drive) {
    use viba_segmenter::Segmenter;
    let repo = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."));
    let text = serde_json::json!({
        "input": { "source": "image", "path": repo.join("testdata/astronaut.png"),
                   "width": 1280, "height": 720 },
        "output": { "sink": "file", "path": "/dev/null" },
        "background": { "color": "#000000" },
        "segmentation": { "model": config.model },
    });
    let mut full = viba_common::config::parse(
        &text.to_string(),
        std::path::Path::new("(seg_timing)"),
        repo,
    )
    .unwrap();
    // The provider, threads and the rest as given (the JSON only made the frame's size).
    full.segmentation = config.clone();
    let load = || Model::load_with(env, &full.segmentation, drive).unwrap();
    let mut twins = [
        Segmenter::with_model(load(), &full),
        Segmenter::with_model(load(), &full).narrow(),
    ];
    // The portrait at 720p (its middle rows), panned two pixels a frame.
    let path = repo.join("testdata/astronaut.png");
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(path).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0u8; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    let (pw, ph) = (info.width as usize, info.height as usize);
    let (w, h) = (1280, 720);
    let frame_at = |shift: usize| -> Vec<u8> {
        let mut rgb = vec![0u8; w * h * 3];
        for y in 0..h {
            for x in 0..w {
                let (sx, sy) = ((x / 2 + shift) % pw, (y * ph / h).min(ph - 1));
                rgb[(y * w + x) * 3..][..3].copy_from_slice(&buf[(sy * pw + sx) * 3..][..3]);
            }
        }
        let mut frame = vec![0u8; w * h * 2];
        viba_common::yuv::rgb_to_yuyv(&rgb, w, h, &mut frame);
        frame
    };
    let frames: Vec<Vec<u8>> = (0..10).map(|i| frame_at(2 * i)).collect();
    let (block, blocks) = (50, 8);
    let mut times: [[Vec<f64>; 2]; 2] = Default::default();
    let mut t = 0u64;
    for round in 0..=blocks {
        let start = t;
        let mut masks: [Vec<Vec<u8>>; 2] = Default::default();
        for k in [round % 2, 1 - round % 2] {
            let (s, times, masks) = (&mut twins[k], &mut times[k], &mut masks[k]);
            t = start;
            let (mut prep, mut inf) = (0u64, 0u64);
            for i in 0..block {
                let c0 = viba_common::clock::process_cpu_ns();
                assert!(s.prepare(&frames[i % frames.len()]));
                let c1 = viba_common::clock::process_cpu_ns();
                let mask = s.infer(t).unwrap();
                let c2 = viba_common::clock::process_cpu_ns();
                masks.push(mask.to_vec());
                (prep, inf, t) = (prep + (c1 - c0), inf + (c2 - c1), t + 33_000_000);
            }
            if round > 0 {
                times[0].push(prep as f64 / 1e6 / block as f64);
                times[1].push(inf as f64 / 1e6 / block as f64);
            }
        }
        assert!(masks[0] == masks[1], "wide and narrow masks differ");
    }
    let median = |v: &Vec<f64>| {
        let mut v = v.clone();
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    println!(
        "per mask, wide / narrow (CPU ms, median of {blocks} blocks of {block}): prepare {:.3} / {:.3}, infer {:.3} / {:.3}",
        median(&times[0][0]),
        median(&times[1][0]),
        median(&times[0][1]),
        median(&times[1][1]),
    );
}

/// The model's input made from frames of `frame` size, placed as `config.fit` says.
fn preprocessor(model: &Model, config: &Segmentation, frame: (usize, usize)) -> Preprocessor {
    let place = viba_segmenter::fit::place(
        config.fit,
        frame,
        (model.input_width, model.input_height),
        (model.mask_width, model.mask_height),
    );
    Preprocessor::new(
        model.input_width,
        model.input_height,
        place.input,
        model.layout,
        config.mean,
        config.std,
    )
}

/// The masks of the portrait, of its mirror image and of the portrait again (different inputs
/// one after the other, so a run that reused a stale input would show).
fn portrait_masks(model: &mut Model, config: &Segmentation) -> Vec<Vec<u8>> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../testdata/astronaut.png");
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(path).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0u8; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!(info.color_type, png::ColorType::Rgb, "{path}");
    let (w, h) = (info.width as usize, info.height as usize);
    let rgb = &buf[..w * h * 3];
    let mirror: Vec<u8> = rgb
        .chunks_exact(w * 3)
        .flat_map(|row| row.chunks_exact(3).rev().flatten().copied())
        .collect();
    let mut pre = preprocessor(model, config, (w, h));
    let mut out = Vec::new();
    for picture in [rgb, &mirror[..], rgb] {
        let mut frame = vec![0u8; w * h * 2];
        viba_common::yuv::rgb_to_yuyv(picture, w, h, &mut frame);
        pre.prepare(&frame, w, h);
        let mut mask = vec![0u8; model.mask_width * model.mask_height];
        model.run(&pre.tensor, &mut mask).unwrap();
        let person = mask.iter().filter(|&&m| m >= 128).count();
        println!("portrait mask: {person} person pixels");
        out.push(mask);
    }
    out
}

/// Model runs after a pause: what a run costs when the thread was idle, spinning, or busy
/// elsewhere just before (CPU ms per run, 60 runs each).
fn wake_up(model: &mut Model, tensor: &[f32], mask: &mut [u8]) {
    enum Pause {
        Sleep,
        Spin,
        Write(usize),
    }
    let cases = [
        ("sleep", Pause::Sleep, 5),
        ("sleep", Pause::Sleep, 15),
        ("sleep", Pause::Sleep, 33),
        ("spin", Pause::Spin, 5),
        ("spin", Pause::Spin, 33),
        ("write 8 MiB", Pause::Write(8 << 20), 33),
        ("write 64 MiB", Pause::Write(64 << 20), 33),
    ];
    for (name, pause, ms) in cases {
        let mut junk = match pause {
            Pause::Write(bytes) => vec![1u8; bytes],
            _ => Vec::new(),
        };
        let (mut cpu, runs) = (0u64, 60);
        for _ in 0..runs {
            let t = Instant::now();
            let long = std::time::Duration::from_millis(ms);
            match pause {
                Pause::Sleep => std::thread::sleep(long),
                Pause::Spin => {
                    while t.elapsed() < long {
                        std::hint::spin_loop();
                    }
                }
                Pause::Write(_) => {
                    while t.elapsed() < long {
                        for b in junk.iter_mut().step_by(64) {
                            *b = b.wrapping_add(1);
                        }
                    }
                    std::hint::black_box(&junk);
                }
            }
            let c0 = viba_common::clock::process_cpu_ns();
            model.run(tensor, mask).unwrap();
            cpu += viba_common::clock::process_cpu_ns() - c0;
        }
        junk.clear();
        println!(
            "after {name} {ms} ms: run {:.3} ms cpu",
            cpu as f64 / 1e6 / runs as f64
        );
    }
}
