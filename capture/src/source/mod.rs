//! Frame sources. Each delivers YUYV frames of exactly the configured size.

mod camera;
mod ffmpeg;
mod image;
mod mjpeg;
mod synthetic;
mod to_ring;
mod y4m;

use std::path::Path;
use viba_common::config::{Config, SourceKind};

/// What [`FrameSource::advance`] produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fill {
    /// A new frame is ready for [`FrameSource::copy_to`].
    Frame,
    /// The source ended (a video file that does not loop).
    EndOfStream,
    /// Nothing new yet (a camera that is slow, stalled or being reopened); call again.
    Nothing,
}

/// Why a source failed.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The input file could not be used.
    #[error("input.path: {0}")]
    File(String),
    /// The source kind is not available in this build.
    #[error("input.source: {0}")]
    Unsupported(String),
    /// The camera cannot be used.
    #[error("input.device: {0}")]
    Camera(String),
}

/// A video file opened for another key than `input.path` ([`open_video`]): the source's error,
/// named by that key.
#[derive(Debug, thiserror::Error)]
pub struct VideoFileError {
    /// The config key of the path, e.g. `background.video`.
    pub key: String,
    /// What went wrong.
    pub error: SourceError,
}

impl std::fmt::Display for VideoFileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let key = &self.key;
        match &self.error {
            // The file's own words, under the caller's key instead of `input.path`.
            SourceError::File(m) => write!(f, "{key}: {m}"),
            other => write!(f, "{key}: {other}"),
        }
    }
}

/// A producer of YUYV frames.
pub trait FrameSource {
    /// Prepares the next frame.
    fn advance(&mut self) -> Result<Fill, SourceError>;
    /// Copies the prepared frame (`width * height * 2` bytes) into `out`.
    fn copy_to(&self, out: &mut [u8]);
    /// A few words naming the source for messages.
    fn describe(&self) -> String;
    /// When the prepared frame was captured (CLOCK_MONOTONIC ns); `None`: now.
    fn timestamp_ns(&self) -> Option<u64> {
        None
    }
    /// True when the source delivers frames at its own rate (a camera), so the capture
    /// loop must not pace it; `advance` then returns [`Fill::Nothing`] at least every ~500 ms.
    fn paced_by_itself(&self) -> bool {
        false
    }
    /// Lets go of the device while the pipeline idles (a camera closes, its light goes off);
    /// the next `advance` opens it again. Files and generated sources keep their place.
    fn release(&mut self) {}
    /// A camera: the mode it runs now (`None` while it is not open), and the frames it has
    /// sent so far by its own sequence numbers (counting those dropped before capture took
    /// them).
    fn camera_state(&self) -> Option<(Option<viba_common::camera_mode::Mode>, u64)> {
        None
    }
}

/// Opens the source `config.input` describes.
pub fn open(config: &Config) -> Result<Box<dyn FrameSource>, SourceError> {
    let input = &config.input;
    let size = config.frame_size();
    match (input.source, input.path.as_deref()) {
        (SourceKind::Synthetic, _) => Ok(Box::new(synthetic::Synthetic::new(size))),
        (SourceKind::Image, Some(path)) => Ok(Box::new(image::MovingImage::open(
            path,
            size,
            input.motion,
        )?)),
        (SourceKind::Video, Some(path)) => Ok(video_file(path, size, input.looping)?),
        // Validation's own words: only a config it did not see gets here.
        (SourceKind::Image | SourceKind::Video, None) => Err(SourceError::File(
            "is required when input.source is \"video\" or \"image\"".into(),
        )),
        (SourceKind::Camera, _) => Ok(Box::new(camera::Camera::open(camera_wanted(config))?)),
    }
}

/// A video file as frames of `size`: Y4M read natively, anything else through `ffmpeg`. Errors
/// name `key` (the config key of the path).
pub fn open_video(
    key: &str,
    path: &Path,
    size: (u32, u32),
    looping: bool,
) -> Result<Box<dyn FrameSource + Send>, VideoFileError> {
    video_file(path, size, looping).map_err(|error| VideoFileError {
        key: key.to_owned(),
        error,
    })
}

/// A video file: Y4M and Motion JPEG read natively, anything else through `ffmpeg`.
fn video_file(
    path: &Path,
    size: (u32, u32),
    looping: bool,
) -> Result<Box<dyn FrameSource + Send>, SourceError> {
    Ok(if is_y4m(path) {
        Box::new(y4m::Y4mFile::open(path, size, looping)?)
    } else if mjpeg::is_mjpeg(path) {
        Box::new(mjpeg::MjpegFile::open(path, size, looping)?)
    } else {
        Box::new(ffmpeg::FfmpegFile::open(path, size, looping)?)
    })
}

fn camera_wanted(config: &Config) -> camera::Wanted {
    let input = &config.input;
    camera::Wanted {
        device: input.device.clone(),
        format: input.format,
        prefer: input.prefer,
        size: (input.width, input.height),
        frame: config.frame_size(),
        fps: input.fps,
    }
}

/// Like [`open`], but a camera that cannot be opened now is not an error: it is opened (and
/// reopened whenever it goes away) while running. `viba-capture --check` has already reported
/// a bad device at start-up.
pub fn open_running(config: &Config) -> Result<Box<dyn FrameSource>, SourceError> {
    if config.input.source == SourceKind::Camera {
        return Ok(Box::new(camera::Camera::new(camera_wanted(config))));
    }
    open(config)
}

fn is_y4m(path: &Path) -> bool {
    let mut magic = [0u8; 10];
    std::fs::File::open(path)
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut magic))
        .is_ok()
        && &magic == b"YUV4MPEG2 "
}
