//! A V4L2 camera: YUYV or MJPEG, mmap streaming, scaled to the ring size when the camera
//! cannot deliver it, and reopened when it goes away (unplugged, driver error, stalled).

use super::{Fill, FrameSource, SourceError};
use std::time::{Duration, Instant};
use v4l::capability::Flags;
use v4l::format::FourCC;
use v4l::frameinterval::FrameIntervalEnum;
use v4l::framesize::FrameSizeEnum;
use v4l::video::capture::Parameters;
use v4l::video::Capture;
use v4l::{Device, Format};
use viba_common::clock::monotonic_ns;
use viba_common::config::CameraFormat;
use viba_common::picture::{self, PixelType};
use viba_common::v4l2io::{Direction, MmapQueue};
use viba_common::yuv;

const YUYV: [u8; 4] = *b"YUYV";
const MJPG: [u8; 4] = *b"MJPG";
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
    /// Ring size.
    pub size: (u32, u32),
    /// Frames per second.
    pub fps: u32,
}

/// What the camera agreed to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Negotiated {
    mjpeg: bool,
    width: u32,
    height: u32,
    stride: u32,
    fps: Option<u32>,
}

struct Open {
    // Field order: the queue unmaps before the device closes.
    queue: MmapQueue,
    _device: Device,
    got: Negotiated,
}

/// A V4L2 capture device.
pub struct Camera {
    wanted: Wanted,
    open: Option<Open>,
    logged: Option<Negotiated>,
    frame: Vec<u8>,
    rgb: Vec<u8>,
    scaled: Vec<u8>,
    timestamp_ns: u64,
    last_frame: Instant,
    next_retry: Instant,
    gone_logged: bool,
}

fn err(device: &str, what: String) -> SourceError {
    SourceError::Camera(format!("{device} {what}"))
}

/// Checks the node and opens it; errors name the device and the fix.
fn open_device(device: &str) -> Result<Device, SourceError> {
    let (dev, caps) =
        viba_common::v4l2io::open_node(device, "list cameras with: viba-supervisor --list-devices")
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

/// The offered size nearest the wanted one: the smallest that covers it, else the largest.
fn pick_size(offered: &[(u32, u32)], (w, h): (u32, u32)) -> Option<(u32, u32)> {
    if offered.contains(&(w, h)) {
        return Some((w, h));
    }
    let area = |&(a, b): &(u32, u32)| a as u64 * b as u64;
    offered
        .iter()
        .filter(|&&(a, b)| a >= w && b >= h)
        .min_by_key(|s| area(s))
        .or_else(|| offered.iter().max_by_key(|s| area(s)))
        .copied()
}

/// The offered rate nearest the wanted one.
fn pick_fps(offered: &[u32], fps: u32) -> Option<u32> {
    offered
        .iter()
        .min_by_key(|&&f| (f as i64 - fps as i64).abs())
        .copied()
}

fn negotiate(dev: &Device, wanted: &Wanted) -> Result<Negotiated, SourceError> {
    let device = wanted.device.as_str();
    let formats = Capture::enum_formats(dev)
        .map_err(|e| err(device, format!("cannot list its formats: {e}")))?;
    let has = |f: [u8; 4]| formats.iter().any(|d| d.fourcc == FourCC::new(&f));
    let offered = || {
        formats
            .iter()
            .map(|d| d.fourcc.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let fourcc = match wanted.format {
        CameraFormat::Auto if has(YUYV) => YUYV,
        CameraFormat::Auto if has(MJPG) => MJPG,
        CameraFormat::Yuyv if has(YUYV) => YUYV,
        CameraFormat::Mjpeg if has(MJPG) => MJPG,
        _ => {
            return Err(err(
                device,
                format!(
                    "offers no usable format for input.format {:?} (it offers: {}; viba reads YUYV and MJPEG)",
                    wanted.format,
                    offered()
                ),
            ))
        }
    };
    let fourcc = FourCC::new(&fourcc);
    let mut sizes = Vec::new();
    for s in Capture::enum_framesizes(dev, fourcc).unwrap_or_default() {
        match s.size {
            FrameSizeEnum::Discrete(d) => sizes.push((d.width, d.height)),
            FrameSizeEnum::Stepwise(s) => {
                let fit = |v: u32, min: u32, max: u32, step: u32| {
                    let v = v.clamp(min, max);
                    min + (v - min) / step.max(1) * step.max(1)
                };
                sizes.push((
                    fit(wanted.size.0, s.min_width, s.max_width, s.step_width),
                    fit(wanted.size.1, s.min_height, s.max_height, s.step_height),
                ));
            }
        }
    }
    let (w, h) = pick_size(&sizes, wanted.size).unwrap_or(wanted.size);
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
    let mut rates = Vec::new();
    for i in Capture::enum_frameintervals(dev, fourcc, got.width, got.height).unwrap_or_default() {
        match i.interval {
            FrameIntervalEnum::Discrete(f) if f.numerator > 0 => {
                rates.push((f.denominator as f64 / f.numerator as f64).round() as u32)
            }
            FrameIntervalEnum::Stepwise(s) if s.min.numerator > 0 && s.max.numerator > 0 => {
                let hi = (s.min.denominator as f64 / s.min.numerator as f64).round() as u32;
                let lo = (s.max.denominator as f64 / s.max.numerator as f64).round() as u32;
                rates.push(wanted.fps.clamp(lo.max(1), hi.max(1)));
            }
            _ => {}
        }
    }
    let ask = pick_fps(&rates, wanted.fps).unwrap_or(wanted.fps);
    let fps = dev
        .set_params(&Parameters::with_fps(ask))
        .ok()
        .filter(|p| p.interval.numerator > 0)
        .map(|p| (p.interval.denominator as f64 / p.interval.numerator as f64).round() as u32);
    let stride = if fourcc == FourCC::new(&YUYV) {
        got.stride.max(got.width * 2)
    } else {
        0
    };
    Ok(Negotiated {
        mjpeg: fourcc == FourCC::new(&MJPG),
        width: got.width & !1,
        height: got.height,
        stride,
        fps,
    })
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
        let (w, h) = wanted.size;
        let n = w as usize * h as usize;
        Camera {
            frame: vec![0; n * 2],
            rgb: Vec::new(),
            scaled: Vec::new(),
            wanted,
            open: None,
            logged: None,
            timestamp_ns: 0,
            last_frame: Instant::now(),
            next_retry: Instant::now(),
            gone_logged: false,
        }
    }

    fn try_open(&mut self) -> Result<Open, SourceError> {
        let dev = open_device(&self.wanted.device)?;
        let got = negotiate(&dev, &self.wanted)?;
        let mut queue = MmapQueue::new(dev.handle(), Direction::Capture, 4)
            .map_err(|e| err(&self.wanted.device, format!("cannot map buffers: {e}")))?;
        queue
            .start_capture()
            .map_err(|e| err(&self.wanted.device, format!("cannot start streaming: {e}")))?;
        if self.logged != Some(got) {
            self.logged = Some(got);
            let (w, h) = self.wanted.size;
            let rate = got
                .fps
                .map_or("an unknown rate".into(), |f| format!("{f} fps"));
            eprintln!(
                "viba-capture: {}: {} {}x{} at {rate} (asked {w}x{h} at {})",
                self.wanted.device,
                if got.mjpeg { "MJPEG" } else { "YUYV" },
                got.width,
                got.height,
                self.wanted.fps
            );
            if (got.width, got.height) != (w, h) {
                eprintln!(
                    "viba-capture: {}: scaling {}x{} to cover {w}x{h}",
                    self.wanted.device, got.width, got.height
                );
            }
        }
        Ok(Open {
            queue,
            _device: dev,
            got,
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

    /// Converts the dequeued buffer into `self.frame` (ring size, YUYV).
    fn convert(&mut self, data: &[u8], got: Negotiated) -> Result<(), String> {
        let (dw, dh) = self.wanted.size;
        let (sw, sh) = (got.width, got.height);
        let same = (sw, sh) == (dw, dh);
        if got.mjpeg {
            let img = image::load_from_memory_with_format(data, image::ImageFormat::Jpeg)
                .map_err(|e| format!("bad MJPEG frame: {e}"))?
                .to_rgb8();
            let (iw, ih) = (img.width() & !1, img.height());
            let raw = img.into_raw();
            let full_w = raw.len() / 3 / ih.max(1) as usize;
            self.rgb.clear();
            for row in raw.chunks_exact(full_w * 3).take(ih as usize) {
                self.rgb.extend_from_slice(&row[..iw as usize * 3]);
            }
            self.scale_rgb_into_frame((iw, ih));
            return Ok(());
        }
        let row = sw as usize * 2;
        let stride = got.stride as usize;
        if data.len() < stride * (sh as usize - 1) + row {
            return Err(format!(
                "short frame: {} bytes for {sw}x{sh} YUYV",
                data.len()
            ));
        }
        if same {
            for (y, dst) in self.frame.chunks_exact_mut(row).enumerate() {
                dst.copy_from_slice(&data[y * stride..y * stride + row]);
            }
        } else {
            let mut packed = std::mem::take(&mut self.scaled);
            packed.clear();
            for y in 0..sh as usize {
                packed.extend_from_slice(&data[y * stride..y * stride + row]);
            }
            self.rgb.resize(sw as usize * sh as usize * 3, 0);
            yuv::yuyv_to_rgb(&packed, sw as usize, sh as usize, &mut self.rgb);
            self.scaled = packed;
            self.scale_rgb_into_frame((sw, sh));
        }
        Ok(())
    }

    /// `self.rgb` (`src` size) scaled to cover the ring size, into `self.frame`.
    fn scale_rgb_into_frame(&mut self, src: (u32, u32)) {
        let (dw, dh) = self.wanted.size;
        if src == (dw, dh) {
            yuv::rgb_to_yuyv(&self.rgb, dw as usize, dh as usize, &mut self.frame);
            return;
        }
        let mut out = std::mem::take(&mut self.scaled);
        out.resize(dw as usize * dh as usize * 3, 0);
        picture::resize_into(
            &self.rgb,
            src,
            &mut out,
            (dw, dh),
            PixelType::U8x3,
            Some(picture::cover_crop(src, (dw, dh))),
        );
        yuv::rgb_to_yuyv(&out, dw as usize, dh as usize, &mut self.frame);
        self.scaled = out;
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
                return Ok(Fill::Idle);
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
            return Ok(Fill::Idle);
        };
        match open.queue.dequeue(WAIT_MS) {
            Ok(Some(d)) => {
                let timestamp_ns = monotonic_ns();
                let got = open.got;
                let data = open.queue.buffer(d.index)[..d.bytesused].to_vec();
                let requeued = open.queue.requeue(d.index);
                self.last_frame = Instant::now();
                let converted = self.convert(&data, got);
                if let Err(e) = requeued {
                    self.lost(&format!("VIDIOC_QBUF: {e}"));
                }
                match converted {
                    Ok(()) => {
                        self.timestamp_ns = timestamp_ns;
                        Ok(Fill::Frame)
                    }
                    // A corrupt frame (a torn MJPEG) is skipped, not fatal.
                    Err(_) => Ok(Fill::Idle),
                }
            }
            Ok(None) => {
                if self.last_frame.elapsed() > STALL {
                    self.lost(&format!("no frame for {} s", STALL.as_secs()));
                }
                Ok(Fill::Idle)
            }
            Err(e) => {
                self.lost(&e.to_string());
                Ok(Fill::Idle)
            }
        }
    }

    fn copy_to(&self, out: &mut [u8]) {
        out.copy_from_slice(&self.frame);
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_prefer_exact_then_smallest_cover_then_largest() {
        let offered = [(320, 180), (640, 360), (640, 480), (1280, 720)];
        assert_eq!(pick_size(&offered, (640, 480)), Some((640, 480)));
        assert_eq!(pick_size(&offered, (400, 300)), Some((640, 360)));
        assert_eq!(pick_size(&offered, (1920, 1080)), Some((1280, 720)));
        assert_eq!(pick_size(&[], (640, 480)), None);
        assert_eq!(pick_fps(&[5, 10, 25], 30), Some(25));
        assert_eq!(pick_fps(&[5, 10, 25], 8), Some(10));
    }

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
