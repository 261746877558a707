//! The fake webcam: a v4l2loopback device fed with mmap streaming.
//!
//! mmap streaming (not `write()`) because v4l2loopback 0.12.7 with `exclusive_caps=1` cannot
//! take a second `write()` producer after the first one exits; a restarted compositor must be
//! able to attach again. Frames are queued with `bytesused` = the exact frame size (the driver
//! hands readers exactly that many bytes) and zero timestamps (the driver stamps them).

use super::{Sink, SinkError};
use std::io;
use v4l::capability::Flags;
use v4l::format::FourCC;
use v4l::video::output::Parameters;
use v4l::video::Output;
use v4l::{Device, Format};
use viba_common::config::OutputFormat;
use viba_common::yuv;
use viba_media::loopback::{is_loopback, MODPROBE};
use viba_media::v4l2io::{Direction, MmapQueue};

/// Why the fake webcam cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum LoopbackError {
    /// The device cannot be opened or is not a v4l2loopback output.
    #[error("output.device: {0}")]
    Device(String),
    /// Writing a frame failed.
    #[error("output.device: {device}: {what}: {cause}")]
    Io {
        /// The device.
        device: String,
        /// What was being done.
        what: &'static str,
        /// The error (shown in the message, so not a `source()` that would print it twice).
        cause: io::Error,
    },
}

/// An open, configured v4l2loopback output.
pub struct Loopback {
    // Field order: the queue unmaps before the device closes.
    queue: Option<MmapQueue>,
    device: Device,
    path: String,
    format: OutputFormat,
    size: (usize, usize),
    frame_len: usize,
}

fn fourcc(format: OutputFormat) -> FourCC {
    FourCC::new(match format {
        OutputFormat::Yuyv => b"YUYV",
        OutputFormat::Yu12 => b"YU12",
        OutputFormat::Rgb3 => b"RGB3",
    })
}

/// Bytes of one frame and of one line (the first plane's, for YU12).
fn frame_layout(format: OutputFormat, (w, h): (usize, usize)) -> (usize, usize) {
    match format {
        OutputFormat::Yuyv => (w * h * 2, w * 2),
        OutputFormat::Yu12 => (w * h * 3 / 2, w),
        OutputFormat::Rgb3 => (w * h * 3, w * 3),
    }
}

fn device_error(path: &str, what: impl std::fmt::Display) -> LoopbackError {
    LoopbackError::Device(format!("{path} {what}"))
}

impl Loopback {
    /// Opens `path`, checks it is a v4l2loopback output and sets the format. With `stream`,
    /// also maps the buffers so frames can be sent; without (`--check`), only checks.
    pub fn open(
        path: &str,
        format: OutputFormat,
        (w, h): (u32, u32),
        fps: u32,
        stream: bool,
    ) -> Result<Loopback, LoopbackError> {
        let (device, caps) = viba_media::v4l2io::open_node(
            path,
            &format!("create the fake webcam with: {MODPROBE}"),
        )
        .map_err(|what| device_error(path, what))?;
        if !is_loopback(&caps.driver) {
            return Err(device_error(
                path,
                format!(
                    "is a \"{}\" ({}) device, not v4l2loopback (create the fake webcam with: {MODPROBE}, and set output.device to it)",
                    caps.card, caps.driver
                ),
            ));
        }
        let want = fourcc(format);
        let (width, height) = (w as usize, h as usize);
        // With exclusive_caps=1 the device may advertise capture only while readers hold it
        // open after a producer left; setting the output format is the real test.
        let got = Output::set_format(&device, &Format::new(w, h, want)).map_err(|e| {
            if caps.capabilities.contains(Flags::VIDEO_OUTPUT) {
                device_error(path, format!("refused format {want} {w}x{h}: {e}"))
            } else {
                device_error(
                    path,
                    format!(
                        "(\"{}\") takes no output now ({e}): another program is already sending to it, or an earlier write() producer left it unusable (close the other program, or reload the module: sudo rmmod v4l2loopback && {MODPROBE})",
                        caps.card
                    ),
                )
            }
        })?;
        if got.fourcc != want || got.width != w || got.height != h {
            return Err(device_error(
                path,
                format!(
                    "changed the format {want} {w}x{h} to {} {}x{} (output.format must be YUYV, YU12 or RGB3; the size is output.width x output.height, else the input's)",
                    got.fourcc, got.width, got.height
                ),
            ));
        }
        let (frame_len, line) = frame_layout(format, (width, height));
        let current = Output::format(&device)
            .map_err(|e| device_error(path, format!("VIDIOC_G_FMT failed: {e}")))?;
        if current.stride as usize != line {
            return Err(device_error(
                path,
                format!(
                    "uses {} bytes per line for {want} {w}x{h}, viba writes {line}",
                    current.stride
                ),
            ));
        }
        // The frame rate readers see; not every version takes it.
        let _ = Output::set_params(&device, &Parameters::with_fps(fps.max(1)));
        let queue = if stream {
            Some(
                MmapQueue::new(device.handle(), Direction::Output, super::BUFFERS as u32).map_err(
                    |e| LoopbackError::Io {
                        device: path.into(),
                        what: "VIDIOC_REQBUFS",
                        cause: e,
                    },
                )?,
            )
        } else {
            None
        };
        Ok(Loopback {
            queue,
            device,
            path: path.into(),
            format,
            size: (width, height),
            frame_len,
        })
    }

    /// The device node.
    pub fn path(&self) -> &str {
        &self.path
    }

    fn send(&mut self, yuyv: &[u8]) -> Result<(), LoopbackError> {
        let (w, h) = self.size;
        let format = self.format;
        let Some(queue) = self.queue.as_mut() else {
            return Ok(());
        };
        queue
            .send(self.frame_len as u32, |buf| match format {
                OutputFormat::Yuyv => buf.copy_from_slice(&yuyv[..buf.len()]),
                OutputFormat::Yu12 => yuv::yuyv_to_yu12(yuyv, w, h, buf),
                OutputFormat::Rgb3 => yuv::yuyv_to_rgb(yuyv, w, h, buf),
            })
            .map_err(|e| LoopbackError::Io {
                device: self.path.clone(),
                what: "sending a frame",
                cause: e,
            })
    }
}

impl Sink for Loopback {
    fn write(&mut self, yuyv: &[u8], _: super::Tag) -> Result<(), SinkError> {
        Ok(self.send(yuyv)?)
    }

    fn finish(&mut self) -> Result<(), SinkError> {
        let _ = &self.device;
        if let Some(q) = self.queue.as_mut() {
            // A device that went away answers with an error here; nothing to do about it.
            let _ = q.stop();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts() {
        assert_eq!(frame_layout(OutputFormat::Yuyv, (320, 240)), (153_600, 640));
        assert_eq!(frame_layout(OutputFormat::Yu12, (320, 240)), (115_200, 320));
        assert_eq!(frame_layout(OutputFormat::Rgb3, (320, 240)), (230_400, 960));
    }

    #[test]
    fn missing_or_wrong_device_names_it_and_the_modprobe_line() {
        let e = Loopback::open(
            "/dev/viba-no-such",
            OutputFormat::Yuyv,
            (320, 240),
            10,
            false,
        )
        .err()
        .unwrap()
        .to_string();
        assert!(
            e.starts_with("output.device: /dev/viba-no-such does not exist"),
            "{e}"
        );
        assert!(
            e.contains("modprobe v4l2loopback devices=1 video_nr=20"),
            "{e}"
        );
        let e = Loopback::open("/etc/hostname", OutputFormat::Yuyv, (320, 240), 10, false)
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("not a character device"), "{e}");
        let e = Loopback::open("/dev/null", OutputFormat::Yuyv, (320, 240), 10, false)
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("/dev/null is not a V4L2 device"), "{e}");
    }
}
