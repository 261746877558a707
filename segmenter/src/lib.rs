//! viba-segmenter: takes the newest frame from the frame ring, runs the person-segmentation
//! model with ONNX Runtime (CPU, or CUDA when configured) and publishes a one-byte-per-pixel
//! mask tagged with the frame's sequence number and capture time.
#![deny(missing_docs)]

pub mod blobs;
pub mod cuda;
pub mod fit;
pub mod hold;
pub mod model;
pub mod pace;
pub mod plate;
pub mod preprocess;
pub mod runtime;
mod segmenter;
pub mod temporal;
pub mod window;
pub mod zoom;

pub use segmenter::Segmenter;

use model::Model;
use std::time::Duration;
use viba_common::clock::monotonic_ns;
use viba_common::config::Config;
use viba_common::ring::{Ring, RingKind, WriteMeta};
use viba_common::shutdown;
use viba_common::stage::Stage;
use viba_common::stats::Stats;

/// Loads ONNX Runtime and the model and checks them; what `--check` reports.
pub fn load(config: &Config) -> anyhow::Result<Model> {
    Ok(load_models(config)?.0)
}

/// Loads ONNX Runtime, the model, and the square model `segmentation.zoom` runs when
/// validation found one for these frames (`segmentation.zoom_model`).
pub fn load_models(config: &Config) -> anyhow::Result<(Model, Option<Model>)> {
    let env = runtime::init(&config.segmentation)?;
    let model = Model::load(&env, &config.segmentation)?;
    let zoom = match &config.segmentation.zoom_model {
        Some(path) => {
            let mut seg = config.segmentation.clone();
            seg.model = path.clone();
            Some(Model::load(&env, &seg)?)
        }
        None => None,
    };
    Ok((model, zoom))
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

/// What `--check` prints for the supervisor, as one JSON line: the mask published is the
/// frame's part of the model's output.
pub fn describe(model: &Model, config: &Config) -> String {
    let p = placement(model, config);
    let report = viba_common::check::SegmenterCheck {
        mask_width: p.mask.width as u32,
        mask_height: p.mask.height as u32,
        input_width: model.input_width as u32,
        input_height: model.input_height as u32,
        layout: format!("{:?}", model.layout),
        model: config.segmentation.model.display().to_string(),
    };
    serde_json::to_string(&report).expect("plain fields serialise")
}

/// Segments frames until stopped.
pub fn run(config: &Config) -> anyhow::Result<()> {
    let (model, zoom) = load_models(config)?;
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
        &config.segment(viba_common::names::Segment::Frames),
        RingKind::Frames,
        config.frame_size().0,
        config.frame_size().1,
    )?;
    let masks = Ring::open_sized(
        &config.segment(viba_common::names::Segment::Masks),
        RingKind::Masks,
        place.mask.width as u32,
        place.mask.height as u32,
    )?;
    let stats = Stats::open(&config.segment(viba_common::names::Segment::Stats))?;
    let stage = stats.stage(Stage::Segmenter);
    let mut writer = masks.writer()?;
    let mut segmenter = Segmenter::with_models(model, zoom, config);
    if segmenter.zoom().is_some() {
        eprintln!(
            "viba-segmenter: zoom: a person at most about 0.8 of the frame's height wide is segmented in a square around them by {}",
            config
                .segmentation
                .zoom_model
                .as_deref()
                .and_then(|p| p.file_name())
                .unwrap_or_default()
                .to_string_lossy()
        );
    }
    stage.begin(monotonic_ns());
    let mut last = 0u64;
    let mut reloads = shutdown::hup_count();
    let mut reporter =
        viba_common::debug::Reporter::new("viba-segmenter", viba_common::debug::Kind::Segmenter);
    let result = loop {
        if shutdown::requested() || frames.is_closed() {
            break Ok(());
        }
        if shutdown::hup_count() != reloads {
            // Of the keys that change while running, the segmenter reads the plate, the
            // smoothing, the islands, the threshold and the softness.
            reloads = shutdown::hup_count();
            match viba_common::worker::reload() {
                Ok(c) => {
                    viba_common::debug::set("viba-segmenter", c.debug);
                    segmenter.reconfigure(&c);
                }
                Err(e) => eprintln!("viba-segmenter: not reloaded: {e}"),
            }
        }
        reporter.tick(stage, monotonic_ns(), "");
        // Frames come every 33 ms or so; without them (the pipeline idles) the segmenter
        // sleeps until a frame, a signal or a second's heartbeat, and so wakes about once a
        // second, not ten times. (A signal that lands just before the wait is seen at the
        // timeout: 1 s, well inside the supervisor's 3 s stop grace.)
        let newest = frames.wait_newer_or_signal(last, Duration::from_secs(1));
        if newest <= last {
            stage.heartbeat(monotonic_ns());
            continue;
        }
        let started = monotonic_ns();
        // Newest wins: whatever was published meanwhile is skipped.
        let Some((prepared, frame)) =
            frames.read_newest(|payload, meta| segmenter.prepare(&payload[..meta.len]))
        else {
            continue;
        };
        last = frame.seq;
        if !prepared {
            continue;
        }
        let mask = match segmenter.infer(frame.timestamp_ns) {
            Ok(mask) => mask,
            Err(e) => break Err(e.into()),
        };
        let written = writer.write(
            WriteMeta {
                timestamp_ns: frame.timestamp_ns,
                source_seq: frame.seq,
            },
            |buf| {
                buf[..mask.len()].copy_from_slice(mask);
                mask.len()
            },
        );
        let now = monotonic_ns();
        match written {
            Some(_) => stage.record(frame.seq, now - started, now - frame.timestamp_ns, now),
            None => stage.record_ring_full(now),
        }
    };
    stage.end();
    result
}
