//! Where composites go.

pub mod loopback;
mod scale;
mod y4m;

pub use loopback::{Loopback, LoopbackError};
pub use y4m::Y4mWriter;

use std::io;
use std::path::PathBuf;
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

/// Why a sink cannot be opened or written to.
#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    /// The fake webcam (v4l2loopback).
    #[error("{0}")]
    Loopback(LoopbackError),
    /// The Y4M file (or its folder) cannot be made or opened for writing.
    #[error("output.path: cannot write {}: {cause}", path.display())]
    Open {
        /// The file.
        path: PathBuf,
        /// The OS error.
        cause: io::Error,
    },
    /// The Y4M file cannot be written (checked before starting).
    #[error("{0}")]
    Check(crate::writable::WritableError),
    /// `output.sink` is `file` and `output.path` is not set (a config that was not validated).
    #[error("output.path: is required when output.sink is \"file\" (a .y4m file to write)")]
    NoPath,
    /// Writing a frame (or flushing) failed.
    #[error("cannot write {}: {cause}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// The OS error.
        cause: io::Error,
    },
}

impl From<LoopbackError> for SinkError {
    fn from(e: LoopbackError) -> SinkError {
        SinkError::Loopback(e)
    }
}

/// A consumer of YUYV composites.
pub trait Sink {
    /// Sends one frame.
    fn write(&mut self, yuyv: &[u8], tag: Tag) -> Result<(), SinkError>;
    /// Flushes what is buffered.
    fn finish(&mut self) -> Result<(), SinkError>;
    /// Frames it already held when opened: a recording a restarted compositor goes on with
    /// (they count towards `output.max_frames`).
    fn frames_before(&self) -> u64 {
        0
    }
}

/// Drops every frame (benchmarks).
pub struct NullSink;

impl Sink for NullSink {
    fn write(&mut self, _: &[u8], _: Tag) -> Result<(), SinkError> {
        Ok(())
    }
    fn finish(&mut self) -> Result<(), SinkError> {
        Ok(())
    }
}

/// Opens the configured sink at the fake webcam's size; it takes composites of
/// `config.frame_size()` and scales them up when the output is larger.
pub fn open(config: &Config) -> Result<Box<dyn Sink>, SinkError> {
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

/// What `output.path` is, for the messages of its check.
const Y4M_FILE: crate::writable::Wanted = crate::writable::Wanted {
    key: "output.path",
    what: ".y4m",
    example: "out.y4m",
};

/// Checks the configured sink can be opened (the fake webcam: the device and its format),
/// then closes it again without streaming; a file, that it can be written, creating nothing.
pub fn check(config: &Config) -> Result<(), SinkError> {
    match (config.output.sink, config.output.path.as_deref()) {
        (SinkKind::File, Some(path)) => {
            crate::writable::check(path, Y4M_FILE).map_err(SinkError::Check)
        }
        _ => open_for(config, false).map(drop),
    }
}

fn open_for(config: &Config, stream: bool) -> Result<Box<dyn Sink>, SinkError> {
    let (w, h) = config.output_size();
    match (config.output.sink, config.output.path.as_deref()) {
        (SinkKind::Null, _) => Ok(Box::new(NullSink)),
        (SinkKind::File, Some(path)) => Ok(Box::new(Y4mWriter::create(
            path,
            w,
            h,
            config.input.fps,
            viba_common::worker::resumed(),
        )?)),
        // Validation's own words: only a config it did not see gets here.
        (SinkKind::File, None) => Err(SinkError::NoPath),
        (SinkKind::V4l2loopback, _) => {
            let sink = Loopback::open(
                &config.output.device,
                config.output.format,
                (w, h),
                config.input.fps,
                stream,
            )?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error;

    #[test]
    fn errors_say_it_all_in_one_line_with_no_cause_to_repeat() {
        let write = SinkError::Write {
            path: "/tmp/out.y4m".into(),
            cause: io::Error::other("disk full"),
        };
        assert_eq!(write.to_string(), "cannot write /tmp/out.y4m: disk full");
        let device = SinkError::from(LoopbackError::Io {
            device: "/dev/video20".into(),
            what: "sending a frame",
            cause: io::Error::other("gone"),
        });
        assert_eq!(
            device.to_string(),
            "output.device: /dev/video20: sending a frame: gone"
        );
        // `{:#}` of an anyhow error (how a worker prints its last line) adds each source() to
        // the line: there must be none, or the cause would be said twice.
        for e in [write, device] {
            assert!(e.source().is_none(), "{e}");
            let line = e.to_string();
            assert_eq!(format!("{:#}", anyhow::Error::from(e)), line);
        }
    }
}
