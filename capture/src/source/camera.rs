//! A V4L2 camera: YUYV or MJPEG, mmap streaming, scaled to the ring size when the camera
//! cannot deliver it, and reopened when it goes away (unplugged, driver error, stalled).

use super::to_ring::ToRing;
use super::{Fill, FrameSource, SourceError};
use std::time::{Duration, Instant};
use v4l::capability::Flags;
use v4l::format::FourCC;
use v4l::video::capture::Parameters;
use v4l::video::Capture;
use v4l::{Device, Format, Fraction};
use viba_common::camera_mode::{self, Choice, Mode, PixelFormat, Request};
use viba_common::clock::monotonic_ns;
use viba_common::config::{CameraFormat, ModePreference};
use viba_media::camera_modes;
use viba_media::v4l2io::{Direction, MmapQueue};

/// How long one `advance` waits for a frame before it returns to the capture loop.
const WAIT_MS: i32 = 400;
/// No frame for this long: the camera is treated as gone and reopened.
const STALL: Duration = Duration::from_secs(2);
/// Between reopen attempts.
const RETRY: Duration = Duration::from_millis(500);

/// What the camera was asked for.
#[derive(Debug, Clone)]
pub struct Wanted {
    /// Device node.
    pub device: String,
    /// Pixel format preference.
    pub format: CameraFormat,
    /// What to give up first when the camera cannot give both size and rate.
    pub prefer: ModePreference,
    /// The size asked of the camera (`input.width` x `input.height`).
    pub size: (u32, u32),
    /// The ring's frame size the picture is scaled to cover (`Config::frame_size`).
    pub frame: (u32, u32),
    /// Frames per second.
    pub fps: u32,
}

impl Wanted {
    fn request(&self) -> Request {
        Request {
            format: self.format,
            width: self.size.0,
            height: self.size.1,
            fps: self.fps,
            prefer: self.prefer,
        }
    }
}

/// What the camera agreed to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Negotiated {
    /// The mode as the driver set it (its actual size and interval).
    mode: Mode,
    stride: u32,
}

struct Open {
    // Field order: the queue unmaps before the device closes.
    queue: MmapQueue,
    _device: Device,
    got: Negotiated,
    /// The last V4L2 sequence number seen.
    last_sequence: Option<u32>,
}

/// A V4L2 capture device.
pub struct Camera {
    wanted: Wanted,
    open: Option<Open>,
    logged: Option<Negotiated>,
    to_ring: ToRing,
    timestamp_ns: u64,
    last_frame: Instant,
    next_retry: Instant,
    gone_logged: bool,
    /// Frames the camera sent, by its sequence numbers.
    camera_frames: u64,
}

fn err(device: &str, what: impl std::fmt::Display) -> SourceError {
    SourceError::Camera(format!("{device} {what}"))
}

/// Checks the node and opens it; errors name the device and the fix.
fn open_device(device: &str) -> Result<Device, SourceError> {
    let (dev, caps) =
        viba_media::v4l2io::open_node(device, "list cameras with: viba-supervisor --list-devices")
            .map_err(|what| err(device, what))?;
    if !caps.capabilities.contains(Flags::VIDEO_CAPTURE)
        || !caps.capabilities.contains(Flags::STREAMING)
    {
        return Err(err(
            device,
            format!(
                "({}) is not a video capture device with streaming (a v4l2loopback device offers capture only while a program writes to it; list cameras with: viba-supervisor --list-devices)",
                caps.card
            ),
        ));
    }
    Ok(dev)
}

/// Chooses the mode (format, size and rate together: `camera_mode::choose`), sets it and
/// reads back what the driver took. Returns the choice too, for the log line.
fn negotiate(dev: &Device, wanted: &Wanted) -> Result<(Negotiated, Choice), SourceError> {
    let device = wanted.device.as_str();
    let request = wanted.request();
    let modes = camera_modes::enumerate(dev, &request)
        .map_err(|e| err(device, format!("cannot list its formats: {e}")))?;
    let Some(choice) = camera_mode::choose(&modes, &request) else {
        let offered = Capture::enum_formats(dev)
            .unwrap_or_default()
            .iter()
            .map(|d| d.fourcc.to_string())
            .collect::<Vec<_>>()
            .join(", ");
        let key = match wanted.format {
            CameraFormat::Auto => "auto",
            CameraFormat::Yuyv => "yuyv",
            CameraFormat::Mjpeg => "mjpeg",
        };
        return Err(err(
            device,
            format!(
                "offers no mode for input.format \"{key}\" (it offers: {offered}; viba reads YUYV and MJPEG: set input.format to \"auto\", or use another camera)"
            ),
        ));
    };
    viba_common::debug_line!(
        "viba-capture",
        "{device}: {} modes for {}x{} at {} fps ({:?}, prefer {:?}): {}; taking {}",
        modes.len(),
        request.width,
        request.height,
        request.fps,
        wanted.format,
        wanted.prefer,
        modes
            .iter()
            .map(|m| m.to_string())
            .collect::<Vec<_>>()
            .join(", "),
        choice.mode
    );
    let mode = choice.mode;
    let fourcc = FourCC::new(&mode.format.fourcc());
    let (w, h) = (mode.width, mode.height);
    let got = dev
        .set_format(&Format::new(w, h, fourcc))
        .map_err(|e| err(device, format!("refused format {fourcc} {w}x{h}: {e}")))?;
    if got.fourcc != fourcc || got.width < 2 || got.height < 2 {
        return Err(err(
            device,
            format!(
                "did not take format {fourcc} {w}x{h} (it chose {} {}x{})",
                got.fourcc, got.width, got.height
            ),
        ));
    }
    let asked = Fraction::new(mode.interval.numerator, mode.interval.denominator);
    let interval = dev
        .set_params(&Parameters::new(asked))
        .ok()
        .filter(|p| p.interval.numerator > 0)
        .map_or(mode.interval, |p| camera_mode::Interval {
            numerator: p.interval.numerator,
            denominator: p.interval.denominator,
        });
    let stride = if mode.format == PixelFormat::Yuyv {
        got.stride.max(got.width * 2)
    } else {
        0
    };
    let mode = Mode {
        format: mode.format,
        width: got.width & !1,
        height: got.height,
        interval,
    };
    Ok((Negotiated { mode, stride }, choice))
}

impl Camera {
    /// Opens and negotiates; errors are for `--check` and a bad configuration.
    pub fn open(wanted: Wanted) -> Result<Camera, SourceError> {
        let mut cam = Camera::new(wanted);
        cam.open = Some(cam.try_open()?);
        Ok(cam)
    }

    /// A camera that opens on the first `advance` (and keeps retrying until it can).
    pub fn new(wanted: Wanted) -> Camera {
        Camera {
            to_ring: ToRing::new(wanted.frame, &wanted.device),
            wanted,
            open: None,
            logged: None,
            timestamp_ns: 0,
            last_frame: Instant::now(),
            next_retry: Instant::now(),
            gone_logged: false,
            camera_frames: 0,
        }
    }

    fn try_open(&mut self) -> Result<Open, SourceError> {
        let dev = open_device(&self.wanted.device)?;
        let (got, mut choice) = negotiate(&dev, &self.wanted)?;
        let mut queue = MmapQueue::new(dev.handle(), Direction::Capture, 4)
            .map_err(|e| err(&self.wanted.device, format!("cannot map buffers: {e}")))?;
        queue
            .start_capture()
            .map_err(|e| err(&self.wanted.device, format!("cannot start streaming: {e}")))?;
        viba_common::debug_line!(
            "viba-capture",
            "{}: opened, streaming {} (4 mmap buffers)",
            self.wanted.device,
            got.mode
        );
        if self.logged != Some(got) {
            self.logged = Some(got);
            let (w, h) = self.wanted.frame;
            // What the driver took (it may round the rate or the size).
            choice.mode = got.mode;
            eprintln!(
                "viba-capture: {}: {}",
                self.wanted.device,
                choice.describe(&self.wanted.request())
            );
            if (got.mode.width, got.mode.height) != (w, h) {
                eprintln!(
                    "viba-capture: {}: scaling {}x{} to cover {w}x{h}",
                    self.wanted.device, got.mode.width, got.mode.height
                );
            }
        }
        Ok(Open {
            queue,
            _device: dev,
            got,
            last_sequence: None,
        })
    }

    fn lost(&mut self, why: &str) {
        self.open = None;
        self.next_retry = Instant::now() + RETRY;
        if !self.gone_logged {
            self.gone_logged = true;
            eprintln!(
                "viba-capture: {}: camera lost ({why}); retrying every {} ms",
                self.wanted.device,
                RETRY.as_millis()
            );
        }
    }
}

impl FrameSource for Camera {
    fn advance(&mut self) -> Result<Fill, SourceError> {
        let Some(open) = self.open.as_mut() else {
            let now = Instant::now();
            if now < self.next_retry {
                std::thread::sleep(
                    (self.next_retry - now).min(Duration::from_millis(WAIT_MS as u64)),
                );
                return Ok(Fill::Nothing);
            }
            match self.try_open() {
                Ok(o) => {
                    self.open = Some(o);
                    self.last_frame = Instant::now();
                    if self.gone_logged {
                        self.gone_logged = false;
                        eprintln!("viba-capture: {}: camera is back", self.wanted.device);
                    }
                }
                Err(e) => self.lost(&e.to_string()),
            }
            return Ok(Fill::Nothing);
        };
        match open.queue.dequeue(WAIT_MS) {
            Ok(Some(d)) => {
                let timestamp_ns = monotonic_ns();
                // Frames the camera sent since the last one we took (drivers that do not
                // count, like v4l2loopback fed by mmap, always say 0: one frame each).
                self.camera_frames += match open.last_sequence {
                    Some(last) if d.sequence > last => (d.sequence - last) as u64,
                    _ => 1,
                };
                open.last_sequence = Some(d.sequence);
                let got = open.got;
                // Converted straight from the driver's buffer, then handed back.
                let data = &open.queue.buffer(d.index)[..d.bytesused];
                let converted = if got.mode.format == PixelFormat::Mjpeg {
                    self.to_ring.mjpeg(data)
                } else {
                    let size = (got.mode.width, got.mode.height);
                    self.to_ring.yuyv(data, size, got.stride as usize)
                };
                let requeued = open.queue.requeue(d.index);
                self.last_frame = Instant::now();
                if let Err(e) = requeued {
                    self.lost(&format!("VIDIOC_QBUF: {e}"));
                }
                match converted {
                    Ok(()) => {
                        self.timestamp_ns = timestamp_ns;
                        Ok(Fill::Frame)
                    }
                    // A corrupt frame (a torn MJPEG) is skipped, not fatal.
                    Err(_) => Ok(Fill::Nothing),
                }
            }
            Ok(None) => {
                if self.last_frame.elapsed() > STALL {
                    self.lost(&format!("no frame for {} s", STALL.as_secs()));
                }
                Ok(Fill::Nothing)
            }
            // A signal (SIGTERM on stop) interrupted the wait: not a lost camera; the
            // capture loop checks for shutdown next.
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => Ok(Fill::Nothing),
            Err(e) => {
                self.lost(&e.to_string());
                Ok(Fill::Nothing)
            }
        }
    }

    fn copy_to(&self, out: &mut [u8]) {
        self.to_ring.copy_to(out);
    }

    fn describe(&self) -> String {
        format!("camera {}", self.wanted.device)
    }

    fn timestamp_ns(&self) -> Option<u64> {
        Some(self.timestamp_ns)
    }

    fn release(&mut self) {
        if self.open.take().is_some() {
            eprintln!("viba-capture: {}: released", self.wanted.device);
        }
        self.next_retry = Instant::now();
    }

    fn paced_by_itself(&self) -> bool {
        true
    }

    fn camera_state(&self) -> Option<(Option<Mode>, u64)> {
        Some((self.open.as_ref().map(|o| o.got.mode), self.camera_frames))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_device_names_it_and_the_fix() {
        let e = open_device("/dev/viba-no-such-video")
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("/dev/viba-no-such-video does not exist"), "{e}");
        assert!(e.contains("--list-devices"), "{e}");
        let e = open_device("/dev/null").err().unwrap().to_string();
        assert!(e.contains("/dev/null"), "{e}");
        let e = open_device("/etc/hostname").err().unwrap().to_string();
        assert!(e.contains("not a character device"), "{e}");
    }
}
