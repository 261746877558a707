//! The camera mode: pixel format, size and frame rate, chosen together.
//!
//! A USB 2 webcam cannot send 1280x720 YUYV at 30 fps (it offers it at 10), but sends MJPEG at
//! 30. Picking the size first and the rate last gives such a camera's users 10 fps. [`choose`]
//! ranks every mode the camera lists (`viba_media::camera_modes::enumerate`) by this rule:
//!
//! 1. A mode that gives the asked rate (within 3 %: 29.97 counts as 30) and covers the asked
//!    size wins; among those, YUYV before MJPEG (no decoding), then the smallest size, then the
//!    rate nearest the asked one.
//! 2. Where none does, `input.prefer` decides. `rate` (the default: a call looks worse at
//!    10 fps than at a smaller size scaled up): the largest size that gives the rate, as long
//!    as it needs at most 2x scaling up; `size`: the highest rate at a size that covers, as long
//!    as that is at least half the asked rate. Beyond those limits the other side wins.
//! 3. Ties: YUYV before MJPEG, the smaller size, the rate nearest the asked one.

use crate::config::{CameraFormat, ModePreference};
use std::cmp::Ordering;
use std::fmt;

/// A pixel format viba reads from cameras, cheapest to decode first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PixelFormat {
    /// Packed 4:2:2: copied, no decoding.
    Yuyv,
    /// Motion JPEG: decoded per frame.
    Mjpeg,
}

impl PixelFormat {
    /// The V4L2 four-character code.
    pub fn fourcc(self) -> [u8; 4] {
        match self {
            PixelFormat::Yuyv => *b"YUYV",
            PixelFormat::Mjpeg => *b"MJPG",
        }
    }

    /// The format of a four-character code, if viba reads it.
    pub fn from_fourcc(code: [u8; 4]) -> Option<PixelFormat> {
        match &code {
            b"YUYV" => Some(PixelFormat::Yuyv),
            b"MJPG" => Some(PixelFormat::Mjpeg),
            _ => None,
        }
    }

    /// Whether `input.format` allows this format.
    pub fn allowed_by(self, wanted: CameraFormat) -> bool {
        matches!(
            (wanted, self),
            (CameraFormat::Auto, _)
                | (CameraFormat::Yuyv, PixelFormat::Yuyv)
                | (CameraFormat::Mjpeg, PixelFormat::Mjpeg)
        )
    }
}

impl fmt::Display for PixelFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PixelFormat::Yuyv => "YUYV",
            PixelFormat::Mjpeg => "MJPEG",
        })
    }
}

/// A frame interval as V4L2 gives it: `numerator / denominator` seconds per frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Interval {
    /// Seconds per frame, numerator.
    pub numerator: u32,
    /// Seconds per frame, denominator.
    pub denominator: u32,
}

impl Interval {
    /// The interval of `fps` whole frames per second.
    pub fn of_fps(fps: u32) -> Interval {
        Interval {
            numerator: 1,
            denominator: fps.max(1),
        }
    }

    /// Frames per second (0 for a zero numerator).
    pub fn fps(self) -> f64 {
        if self.numerator == 0 {
            0.0
        } else {
            self.denominator as f64 / self.numerator as f64
        }
    }
}

/// One format, size and rate a camera offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Mode {
    /// Pixel format.
    pub format: PixelFormat,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Frame interval.
    pub interval: Interval,
}

impl Mode {
    /// Frames per second.
    pub fn fps(&self) -> f64 {
        self.interval.fps()
    }

    fn area(&self) -> u64 {
        self.width as u64 * self.height as u64
    }
}

/// A rate as people write it: `30`, `12.5`, `29.97`.
pub fn format_fps(fps: f64) -> String {
    let s = format!("{fps:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_owned()
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}x{} at {} fps",
            self.format,
            self.width,
            self.height,
            format_fps(self.fps())
        )
    }
}

/// What the configuration asks of the camera.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Request {
    /// `input.format`.
    pub format: CameraFormat,
    /// `input.width`.
    pub width: u32,
    /// `input.height`.
    pub height: u32,
    /// `input.fps`.
    pub fps: u32,
    /// `input.prefer`.
    pub prefer: ModePreference,
}

/// The chosen mode and what was given up.
#[derive(Debug, Clone, PartialEq)]
pub struct Choice {
    /// The mode to set.
    pub mode: Mode,
    /// Whether it gives the asked rate (within 3 %).
    pub reaches_rate: bool,
    /// Whether it covers the asked size (otherwise frames are scaled up).
    pub covers_size: bool,
    /// What was given up, for the log line: the best mode that covers the size (when the
    /// choice does not), the best that gives the rate (when the choice does not), the best of
    /// the other format.
    pub alternatives: Vec<Mode>,
}

/// Rates within this share of the asked one count as reaching it (29.97 for 30).
const RATE_TOLERANCE: f64 = 0.97;
/// `prefer: rate` scales up by at most this much before size wins; `prefer: size` accepts
/// down to 1/this of the rate before rate wins.
const LIMIT: f64 = 2.0;

/// How well a mode meets the request: rate and size as shares of the asked ones, capped at 1.
#[derive(Debug, Clone, Copy)]
struct Score {
    rate: f64,
    size: f64,
}

fn score(m: &Mode, r: &Request) -> Score {
    let rate = m.fps() / r.fps.max(1) as f64;
    let size =
        (m.width as f64 / r.width.max(1) as f64).min(m.height as f64 / r.height.max(1) as f64);
    Score {
        rate: if rate >= RATE_TOLERANCE { 1.0 } else { rate },
        size: size.min(1.0),
    }
}

/// Orders two modes for the request: `Less` means `a` is better.
fn rank(a: &Mode, b: &Mode, r: &Request, prefer: ModePreference) -> Ordering {
    let (sa, sb) = (score(a, r), score(b, r));
    let key = |s: Score| -> (bool, f64, f64) {
        match prefer {
            // The rate first, unless reaching it needs more than LIMIT x scaling up.
            ModePreference::Rate => (s.size >= 1.0 / LIMIT, s.rate, s.size),
            ModePreference::Size => (s.rate >= 1.0 / LIMIT, s.size, s.rate),
        }
    };
    let (ka, kb) = (key(sa), key(sb));
    kb.0.cmp(&ka.0)
        .then(kb.1.total_cmp(&ka.1))
        .then(kb.2.total_cmp(&ka.2))
        .then(a.format.cmp(&b.format))
        .then(a.area().cmp(&b.area()))
        // The rate nearest the asked one (30 before 29.97 or 60 when 30 is asked), then the
        // lower.
        .then(
            (a.fps() - r.fps as f64)
                .abs()
                .total_cmp(&(b.fps() - r.fps as f64).abs()),
        )
        .then(a.fps().total_cmp(&b.fps()))
}

/// The mode to take from `modes` (what the camera offers) for `request`; `None` when no
/// offered mode has a format `input.format` allows.
pub fn choose(modes: &[Mode], request: &Request) -> Option<Choice> {
    let mut usable: Vec<Mode> = modes
        .iter()
        .filter(|m| m.format.allowed_by(request.format) && m.interval.numerator > 0)
        .copied()
        .collect();
    usable.sort_by(|a, b| rank(a, b, request, request.prefer));
    let mode = *usable.first()?;
    let s = score(&mode, request);
    // What was given up, for the log: the size (when not covered), the rate (when not
    // reached), the other format.
    let best = |prefer: ModePreference, keep: &dyn Fn(&Mode) -> bool| {
        usable
            .iter()
            .filter(|m| keep(m))
            .min_by(|a, b| rank(a, b, request, prefer))
            .copied()
    };
    let mut alternatives: Vec<Mode> = Vec::new();
    let candidates = [
        (s.size < 1.0)
            .then(|| best(ModePreference::Size, &|m| score(m, request).size >= 1.0))
            .flatten(),
        (s.rate < 1.0)
            .then(|| best(ModePreference::Rate, &|m| score(m, request).rate >= 1.0))
            .flatten(),
        best(request.prefer, &|m| m.format != mode.format),
    ];
    for alt in candidates.into_iter().flatten() {
        let same_as_chosen =
            alt.format == mode.format && (alt.width, alt.height) == (mode.width, mode.height);
        if !same_as_chosen && !alternatives.contains(&alt) {
            alternatives.push(alt);
        }
    }
    Some(Choice {
        mode,
        reaches_rate: s.rate >= 1.0,
        covers_size: s.size >= 1.0,
        alternatives,
    })
}

impl Choice {
    /// The log line's tail after the device: `MJPEG 1280x720 at 30 fps (asked 1280x720 at 30,
    /// prefer rate; also offered: YUYV 1280x720 at 10 fps)`.
    pub fn describe(&self, request: &Request) -> String {
        let prefer = match request.prefer {
            ModePreference::Rate => "rate",
            ModePreference::Size => "size",
        };
        let mut s = format!(
            "{} (asked {}x{} at {}, prefer {prefer}",
            self.mode, request.width, request.height, request.fps
        );
        if !self.alternatives.is_empty() {
            let alts: Vec<String> = self.alternatives.iter().map(|m| m.to_string()).collect();
            s.push_str("; also offered: ");
            s.push_str(&alts.join(", "));
        }
        s.push(')');
        s
    }
}

#[cfg(test)]
mod tests;
