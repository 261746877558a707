//! The debug mode (`debug` in the config, `viba-supervisor --debug`, `ctl debug on|off`): each
//! stage prints what it does. A process-wide switch for the occasional line (a device opened,
//! the camera modes considered), and a [`Reporter`] that prints one line a second from the
//! stage's counters: never a line per frame.

use crate::stats::StageStats;
use std::sync::atomic::{AtomicBool, Ordering};

static ON: AtomicBool = AtomicBool::new(false);

/// Whether the debug mode is on in this process.
pub fn enabled() -> bool {
    ON.load(Ordering::Relaxed)
}

/// Turns the debug mode on or off (at start and when the config changes); says so when it
/// changes.
pub fn set(name: &str, on: bool) {
    if ON.swap(on, Ordering::Relaxed) != on {
        eprintln!("{name}: debug {}", if on { "on" } else { "off" });
    }
}

/// Prints `{name}: debug: {what}` when the debug mode is on.
#[macro_export]
macro_rules! debug_line {
    ($name:expr, $($arg:tt)*) => {
        if $crate::debug::enabled() {
            eprintln!("{}: debug: {}", $name, format_args!($($arg)*));
        }
    };
}

#[derive(Default, Clone, Copy)]
struct Counts {
    frames: u64,
    busy_ns: u64,
    fresh_masks: u64,
    background_only: u64,
    mask_age_sum: u64,
    repeats: u64,
    camera_frames: u64,
}

impl Counts {
    fn of(s: &StageStats) -> Counts {
        let l = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed);
        Counts {
            frames: l(&s.frames),
            busy_ns: l(&s.busy_ns),
            fresh_masks: l(&s.fresh_masks),
            background_only: l(&s.background_only),
            mask_age_sum: l(&s.mask_age_frames_sum),
            repeats: l(&s.repeats),
            camera_frames: l(&s.camera_frames),
        }
    }
}

/// What a stage's once-a-second line holds besides its rate and time per item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Frames in; the camera's own rate.
    Capture,
    /// Masks out.
    Segmenter,
    /// Composites out: masks per frame, mask age, repeats, frames with the background alone.
    Compositor,
}

/// Prints a stage's rates and times once a second while the debug mode is on.
pub struct Reporter {
    name: &'static str,
    kind: Kind,
    last: Option<(u64, Counts)>,
}

impl Reporter {
    /// For the stage `name` (the program's name, which starts each line).
    pub fn new(name: &'static str, kind: Kind) -> Reporter {
        Reporter {
            name,
            kind,
            last: None,
        }
    }

    /// Whether a line is due (the debug mode is on and a second has passed since the last).
    pub fn due(&self, now_ns: u64) -> bool {
        enabled()
            && self
                .last
                .is_none_or(|(then, _)| now_ns.saturating_sub(then) >= 1_000_000_000)
    }

    /// Call often (every item or every wait); prints when a second has passed since the last
    /// line. `extra` is appended (e.g. why frames showed the background alone). Returns whether
    /// it printed.
    pub fn tick(&mut self, stage: &StageStats, now_ns: u64, extra: &str) -> bool {
        if !enabled() {
            self.last = None;
            return false;
        }
        let now = Counts::of(stage);
        let Some((then_ns, then)) = self.last else {
            self.last = Some((now_ns, now));
            return false;
        };
        if now_ns.saturating_sub(then_ns) < 1_000_000_000 {
            return false;
        }
        self.last = Some((now_ns, now));
        let seconds = (now_ns - then_ns) as f64 / 1e9;
        let items = now.frames - then.frames;
        let per_item = if items > 0 {
            (now.busy_ns - then.busy_ns) as f64 / items as f64 / 1e6
        } else {
            0.0
        };
        let mut line = format!(
            "{:.1} {} per second, {per_item:.2} ms each",
            items as f64 / seconds,
            match self.kind {
                Kind::Capture => "frames",
                Kind::Segmenter => "masks",
                Kind::Compositor => "composites",
            }
        );
        match self.kind {
            Kind::Capture if now.camera_frames > 0 => line.push_str(&format!(
                ", the camera sent {:.1} per second",
                (now.camera_frames.saturating_sub(then.camera_frames)) as f64 / seconds
            )),
            Kind::Compositor => {
                let per = |v: u64| {
                    if items > 0 {
                        v as f64 / items as f64
                    } else {
                        0.0
                    }
                };
                line.push_str(&format!(
                    ", {:.2} new masks per frame, mask age {:.2} frames, {} repeated, {} with the background alone",
                    per(now.fresh_masks - then.fresh_masks),
                    per(now.mask_age_sum - then.mask_age_sum),
                    now.repeats - then.repeats,
                    now.background_only - then.background_only,
                ));
            }
            _ => {}
        }
        if !extra.is_empty() {
            line.push_str(&format!(" ({extra})"));
        }
        eprintln!("{}: debug: {line}", self.name);
        true
    }
}
