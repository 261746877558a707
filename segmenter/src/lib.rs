//! viba-segmenter: takes the newest frame from the frame ring, runs the person-segmentation
//! model with ONNX Runtime (CPU, or CUDA when configured) and publishes a one-byte-per-pixel
//! mask tagged with the frame's sequence number and capture time.

pub mod blobs;
pub mod fit;
pub mod model;
pub mod preprocess;
pub mod runtime;
pub mod temporal;

use model::Model;
use preprocess::Preprocessor;
use std::time::Duration;
use viba_common::clock::monotonic_ns;
use viba_common::config::Config;
use viba_common::ring::{Ring, RingKind, WriteMeta};
use viba_common::shutdown;
use viba_common::stats::{Stage, Stats};

/// Loads ONNX Runtime and the model and checks them; what `--check` reports.
pub fn load(config: &Config) -> anyhow::Result<Model> {
    let env = runtime::init(&config.segmentation)?;
    Ok(Model::load(&env, &config.segmentation)?)
}

/// Where frames (of `config.frame_size()`) go in the model's input and output.
pub fn placement(model: &Model, config: &Config) -> fit::Placement {
    let (w, h) = config.frame_size();
    fit::place(
        config.segmentation.fit,
        (w as usize, h as usize),
        (model.input_width, model.input_height),
        (model.mask_width, model.mask_height),
    )
}

/// The mask geometry `--check` prints for the supervisor, as one JSON line: the mask
/// published is the frame's part of the model's output.
pub fn describe(model: &Model, config: &Config) -> String {
    let p = placement(model, config);
    format!(
        "{{\"mask_width\":{},\"mask_height\":{},\"input_width\":{},\"input_height\":{},\"layout\":\"{:?}\",\"model\":{}}}",
        p.mask.width,
        p.mask.height,
        model.input_width,
        model.input_height,
        model.layout,
        serde_json::Value::from(config.segmentation.model.display().to_string())
    )
}

/// Segments frames until stopped.
pub fn run(config: &Config) -> anyhow::Result<()> {
    let mut model = load(config)?;
    let place = placement(&model, config);
    let name = config.segmentation.model.file_name().unwrap_or_default();
    eprintln!(
        "viba-segmenter: {}: input {}x{}, the frame fills {}x{} of it (segmentation.fit {}), mask {}x{}",
        name.to_string_lossy(),
        model.input_width,
        model.input_height,
        place.input.width,
        place.input.height,
        match config.segmentation.fit {
            viba_common::config::Fit::Pad => "pad",
            viba_common::config::Fit::Stretch => "stretch",
        },
        place.mask.width,
        place.mask.height
    );
    let frames = Ring::open_sized(
        &config.segment("frames"),
        RingKind::Frames,
        config.frame_size().0,
        config.frame_size().1,
    )?;
    let masks = Ring::open_sized(
        &config.segment("masks"),
        RingKind::Masks,
        place.mask.width as u32,
        place.mask.height as u32,
    )?;
    let stats = Stats::open(&config.segment("stats"))?;
    let stage = stats.stage(Stage::Segmenter);
    let mut writer = masks.writer()?;
    let seg = &config.segmentation;
    let mut pre = Preprocessor::new(
        model.input_width,
        model.input_height,
        place.input,
        model.layout,
        seg.mean,
        seg.std,
    );
    let mut output = vec![0u8; model.mask_width * model.mask_height];
    let mut mask = vec![0u8; place.mask.width * place.mask.height];
    // Temporal smoothing needs the frame's colour cell for cell: when the model's input and
    // output sizes differ (no bundled model does), it is left off.
    let same_size =
        (model.input_width, model.input_height) == (model.mask_width, model.mask_height);
    let mut temporal = temporal::Temporal::new(
        model.mask_width,
        model.mask_height,
        if same_size { seg.smoothing } else { 0.0 },
        config.compositor.max_mask_age_ms as u64 * 1_000_000,
    );
    let mut colour: [Vec<f32>; 3] =
        std::array::from_fn(|_| vec![0.0f32; model.input_width * model.input_height]);
    let (fw, fh) = (
        config.frame_size().0 as usize,
        config.frame_size().1 as usize,
    );
    stage.begin(monotonic_ns());
    let mut last = 0u64;
    // `segmentation.islands` and the mask value from which a cell shows any of the person
    // (the soft threshold's lower end).
    let islands_of = |c: &Config| {
        let seg = &c.segmentation;
        let low = ((seg.threshold - seg.softness / 2.0).max(0.02) * 255.0) as u8;
        (seg.islands, low.max(1))
    };
    let mut islands = islands_of(config);
    let mut labels = blobs::Islands::default();
    let mut reloads = shutdown::hup_count();
    let mut reporter =
        viba_common::debug::Reporter::new("viba-segmenter", viba_common::debug::Kind::Segmenter);
    let result = loop {
        if shutdown::requested() || frames.is_closed() {
            break Ok(());
        }
        if shutdown::hup_count() != reloads {
            // Of the keys that change while running, the segmenter reads the smoothing.
            reloads = shutdown::hup_count();
            match viba_common::worker::reload() {
                Ok(c) => {
                    viba_common::debug::set("viba-segmenter", c.debug);
                    islands = islands_of(&c);
                    if same_size {
                        temporal.set(
                            c.segmentation.smoothing,
                            c.compositor.max_mask_age_ms as u64 * 1_000_000,
                        );
                    }
                }
                Err(e) => eprintln!("viba-segmenter: not reloaded: {e}"),
            }
        }
        reporter.tick(stage, monotonic_ns(), "");
        let newest = frames.wait_newer(last, Duration::from_millis(100));
        if newest <= last {
            stage.heartbeat(monotonic_ns());
            continue;
        }
        let started = monotonic_ns();
        // Newest wins: whatever was published meanwhile is skipped.
        let Some(((), frame)) = frames.read_newest(|payload, meta| {
            if meta.len == fw * fh * 2 {
                pre.prepare(payload, fw, fh)
            }
        }) else {
            continue;
        };
        last = frame.seq;
        if frame.len != fw * fh * 2 {
            continue;
        }
        if let Err(e) = model.run(&pre.tensor, &mut output) {
            break Err(e.into());
        }
        if same_size {
            pre.colour(&mut colour);
            temporal.apply(
                [&colour[0], &colour[1], &colour[2]],
                &mut output,
                frame.timestamp_ns,
            );
        }
        place.crop(&output, model.mask_width, &mut mask);
        if islands.0 > 0.0 {
            labels.drop(
                &mut mask,
                place.mask.width,
                place.mask.height,
                islands.1,
                islands.0,
            );
        }
        writer.write(
            WriteMeta {
                timestamp_ns: frame.timestamp_ns,
                source_seq: frame.seq,
            },
            |buf| {
                buf[..mask.len()].copy_from_slice(&mask);
                mask.len()
            },
        );
        let now = monotonic_ns();
        stage.record(frame.seq, now - started, now - frame.timestamp_ns, now);
    };
    stage.end();
    result
}
