//! viba-segmenter: takes the newest frame from the frame ring, runs the person-segmentation
//! model with ONNX Runtime (CPU, or CUDA when configured) and publishes a one-byte-per-pixel
//! mask tagged with the frame's sequence number and capture time.

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

/// The mask geometry `--check` prints for the supervisor, as one JSON line.
pub fn describe(model: &Model) -> String {
    format!(
        "{{\"mask_width\":{},\"mask_height\":{},\"input_width\":{},\"input_height\":{},\"layout\":\"{:?}\"}}",
        model.mask_width, model.mask_height, model.input_width, model.input_height, model.layout
    )
}

/// Segments frames until stopped.
pub fn run(config: &Config) -> anyhow::Result<()> {
    let mut model = load(config)?;
    let frames = Ring::open_sized(
        &config.segment("frames"),
        RingKind::Frames,
        config.input.width,
        config.input.height,
    )?;
    let masks = Ring::open_sized(
        &config.segment("masks"),
        RingKind::Masks,
        model.mask_width as u32,
        model.mask_height as u32,
    )?;
    let stats = Stats::open(&config.segment("stats"))?;
    let stage = stats.stage(Stage::Segmenter);
    let mut writer = masks.writer()?;
    let seg = &config.segmentation;
    let mut pre = Preprocessor::new(
        model.input_width,
        model.input_height,
        model.layout,
        seg.mean,
        seg.std,
    );
    let mut mask = vec![0u8; model.mask_width * model.mask_height];
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
    let (fw, fh) = (config.input.width as usize, config.input.height as usize);
    stage.begin(monotonic_ns());
    let mut last = 0u64;
    let result = loop {
        if shutdown::requested() || frames.is_closed() {
            break Ok(());
        }
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
        if let Err(e) = model.run(&pre.tensor, &mut mask) {
            break Err(e.into());
        }
        if same_size {
            pre.colour(&mut colour);
            temporal.apply(
                [&colour[0], &colour[1], &colour[2]],
                &mut mask,
                frame.timestamp_ns,
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
