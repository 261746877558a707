//! Where composites go.

pub mod loopback;
mod scale;
mod y4m;

pub use loopback::Loopback;
pub use y4m::Y4mWriter;

use viba_common::config::{Config, SinkKind};

/// Buffers the fake camera's queue holds (v4l2loopback 0.12.7 gives at most 2).
pub const BUFFERS: usize = 2;

/// Where a composite came from: the camera frame shown and the frame its mask was computed
/// from (sequence numbers of the rings; 0: none, the background alone). The file sink writes
/// them into each Y4M frame header (`FRAME Xframe=12 Xmask=11`) for the picture benchmark.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tag {
    /// The camera frame (0: none, e.g. the background while idle).
    pub frame: u64,
    /// The frame the mask was computed from (0: no mask used, the background alone).
    pub mask: u64,
}

/// A consumer of YUYV composites.
pub trait Sink {
    /// Sends one frame.
    fn write(&mut self, yuyv: &[u8], tag: Tag) -> Result<(), String>;
    /// Flushes what is buffered.
    fn finish(&mut self) -> Result<(), String>;
    /// Frames it already held when opened: a recording a restarted compositor goes on with
    /// (they count towards `output.max_frames`).
    fn frames_before(&self) -> u64 {
        0
    }
}

/// Drops every frame (benchmarks).
pub struct NullSink;

impl Sink for NullSink {
    fn write(&mut self, _: &[u8], _: Tag) -> Result<(), String> {
        Ok(())
    }
    fn finish(&mut self) -> Result<(), String> {
        Ok(())
    }
}

/// Opens the configured sink at the fake webcam's size; it takes composites of
/// `config.frame_size()` and scales them up when the output is larger.
pub fn open(config: &Config) -> Result<Box<dyn Sink>, String> {
    let sink = open_for(config, true)?;
    let (from, to) = (config.frame_size(), config.output_size());
    Ok(if from == to {
        sink
    } else {
        viba_common::debug_line!(
            "viba-compositor",
            "compositing at {}x{}, scaled up to the output's {}x{}",
            from.0,
            from.1,
            to.0,
            to.1
        );
        Box::new(scale::Scaled::new(sink, from, to))
    })
}

/// Checks the configured sink can be opened (the fake webcam: the device and its format),
/// then closes it again without streaming; a file, that it can be written, creating nothing.
pub fn check(config: &Config) -> Result<(), String> {
    match (config.output.sink, config.output.path.as_deref()) {
        (SinkKind::File, Some(path)) => y4m::check(path),
        _ => open_for(config, false).map(drop),
    }
}

fn open_for(config: &Config, stream: bool) -> Result<Box<dyn Sink>, String> {
    let (w, h) = config.output_size();
    match config.output.sink {
        SinkKind::Null => Ok(Box::new(NullSink)),
        SinkKind::File => {
            let path = config
                .output
                .path
                .as_deref()
                .expect("validated: file sink has a path");
            Ok(Box::new(Y4mWriter::create(
                path,
                w,
                h,
                config.input.fps,
                viba_common::worker::resumed(),
            )?))
        }
        SinkKind::V4l2loopback => {
            let sink = Loopback::open(
                &config.output.device,
                config.output.format,
                (w, h),
                config.input.fps,
                stream,
            )
            .map_err(|e| e.to_string())?;
            if stream {
                viba_common::debug_line!(
                    "viba-compositor",
                    "{}: opened, {:?} {w}x{h} at {} fps, mmap streaming",
                    config.output.device,
                    config.output.format,
                    config.input.fps
                );
            }
            Ok(Box::new(sink))
        }
    }
}
