//! Per-stage counters in shared memory (`/viba-<uid>-<instance>-stats`).
//!
//! Each stage writes only its own block; the supervisor (for `ctl status`) and the benchmark
//! read them. Every field is an independent atomic: a reader may see one counter a little ahead
//! of another, which is fine for statistics.

use crate::shm::{Segment, ShmError};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

/// `b"VIBASTAT"` as a little-endian u64.
pub const STATS_MAGIC: u64 = u64::from_le_bytes(*b"VIBASTAT");
/// Bumped when any structure here changes.
pub const STATS_VERSION: u32 = 4;
/// [`Stats::consumers`] when nobody counts the readers of the output (a file sink, or
/// `output.idle_when_unused` off).
pub const CONSUMERS_UNTRACKED: u32 = u32::MAX;
/// Latency histogram buckets, each [`HIST_BUCKET_NS`] wide; the last one collects the rest.
pub const HIST_BUCKETS: usize = 2048;
/// Width of one histogram bucket: 100 microseconds.
pub const HIST_BUCKET_NS: u64 = 100_000;

/// The three worker stages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Stage {
    /// viba-capture.
    Capture = 0,
    /// viba-segmenter.
    Segmenter = 1,
    /// viba-compositor.
    Compositor = 2,
}

impl Stage {
    /// All stages in pipeline order.
    pub const ALL: [Stage; 3] = [Stage::Capture, Stage::Segmenter, Stage::Compositor];

    /// `capture`, `segmenter` or `compositor`.
    pub fn name(self) -> &'static str {
        match self {
            Stage::Capture => "capture",
            Stage::Segmenter => "segmenter",
            Stage::Compositor => "compositor",
        }
    }

    /// Parses a stage name.
    pub fn parse(name: &str) -> Option<Stage> {
        Stage::ALL.into_iter().find(|s| s.name() == name)
    }

    /// The stage's executable name.
    pub fn binary(self) -> &'static str {
        match self {
            Stage::Capture => "viba-capture",
            Stage::Segmenter => "viba-segmenter",
            Stage::Compositor => "viba-compositor",
        }
    }
}

impl std::fmt::Display for Stage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Counters of one stage.
#[repr(C, align(64))]
pub struct StageStats {
    /// Pid of the process now running the stage (0: none).
    pub pid: AtomicU32,
    /// Capture from a camera: the mode's fourcc (little-endian `YUYV`/`MJPG`; 0: no camera
    /// open). See [`StageStats::set_camera_mode`].
    pub camera_fourcc: AtomicU32,
    /// When that process started its loop (CLOCK_MONOTONIC ns).
    pub started_ns: AtomicU64,
    /// Last time the process showed life.
    pub heartbeat_ns: AtomicU64,
    /// Items produced: frames captured, masks computed, composites written.
    pub frames: AtomicU64,
    /// Sequence number of the last item handled.
    pub last_seq: AtomicU64,
    /// Capture-to-output latency of the last item, ns.
    pub last_latency_ns: AtomicU64,
    /// Sum of time spent on items (busy time), ns.
    pub busy_ns: AtomicU64,
    /// Compositor: composites made with a mask newer than the one before.
    pub fresh_masks: AtomicU64,
    /// Compositor: frames that showed the background alone (no mask, or too old).
    pub background_only: AtomicU64,
    /// Compositor: sum over composites of (frame seq - mask source seq).
    pub mask_age_frames_sum: AtomicU64,
    /// Compositor: the last composite sent again because no new frame came in time.
    pub repeats: AtomicU64,
    /// Capture from a camera: the mode's `width << 32 | height`.
    pub camera_size: AtomicU64,
    /// Capture from a camera: the mode's frame interval, `numerator << 32 | denominator`.
    pub camera_interval: AtomicU64,
    /// Capture from a camera: frames the camera sent, by its sequence numbers (frames the
    /// driver dropped because capture was late count too): the camera's own rate.
    pub camera_frames: AtomicU64,
    /// Capture-to-output latency histogram.
    pub latency_hist: [AtomicU32; HIST_BUCKETS],
}

#[repr(C, align(64))]
struct StatsHeader {
    magic: u64,
    version: AtomicU32,
    stages: u32,
    /// Applications with the fake camera open, as the compositor last counted them.
    consumers: AtomicU32,
    /// 1 while the pipeline idles (nobody watches, or paused): capture releases the camera. A
    /// futex word.
    idle: AtomicU32,
    /// 1 while paused (`ctl pause`): the compositor shows the still and idles the pipeline.
    /// Set by the supervisor only; kept across worker restarts.
    paused: AtomicU32,
}

const _: () = assert!(std::mem::size_of::<StatsHeader>() == 64);
const _: () = assert!(std::mem::size_of::<StageStats>().is_multiple_of(64));

const SIZE: usize = std::mem::size_of::<StatsHeader>() + 3 * std::mem::size_of::<StageStats>();

/// Why the stats segment could not be used.
#[derive(Debug, thiserror::Error)]
pub enum StatsError {
    /// The segment itself.
    #[error(transparent)]
    Shm(#[from] ShmError),
    /// Not a stats segment of this build.
    #[error("{0} is not a viba stats segment of this version (restart viba-supervisor)")]
    Mismatch(String),
}

/// The mapped stats segment.
pub struct Stats {
    segment: Segment,
}

impl Stats {
    /// Creates the segment (zeroed) and marks it ready. With `idle`, the pipeline starts idle
    /// (capture leaves the camera closed) until the compositor has counted the readers.
    pub fn create(name: &str, idle: bool) -> Result<Stats, StatsError> {
        let segment = Segment::create(name, SIZE)?;
        // SAFETY: fresh zero-filled mapping of SIZE bytes, page aligned; integer fields only.
        let header = unsafe { &mut *(segment.as_ptr() as *mut StatsHeader) };
        header.magic = STATS_MAGIC;
        header.stages = 3;
        header.consumers = AtomicU32::new(CONSUMERS_UNTRACKED);
        header.idle = AtomicU32::new(idle as u32);
        // SYNC POINT with the Acquire load in `open`.
        header.version.store(STATS_VERSION, Ordering::Release);
        Ok(Stats { segment })
    }

    /// Opens an existing segment and checks it.
    pub fn open(name: &str) -> Result<Stats, StatsError> {
        let segment = Segment::open(name)?;
        if segment.len() < SIZE {
            return Err(StatsError::Mismatch(name.to_owned()));
        }
        // SAFETY: mapping at least SIZE bytes long, page aligned; integer fields only.
        let header = unsafe { &*(segment.as_ptr() as *const StatsHeader) };
        // SYNC POINT with the Release store in `create`.
        let version = header.version.load(Ordering::Acquire);
        if header.magic != STATS_MAGIC || version != STATS_VERSION || header.stages != 3 {
            return Err(StatsError::Mismatch(name.to_owned()));
        }
        Ok(Stats { segment })
    }

    /// Keeps the segment in `/dev/shm` when the creator's handle is dropped.
    pub fn keep_on_drop(&mut self) {
        self.segment.set_owner(false);
    }

    fn header(&self) -> &StatsHeader {
        // SAFETY: the mapping is at least SIZE bytes (checked in `open`, made so in `create`),
        // page aligned; the header's mutable fields are atomics.
        unsafe { &*(self.segment.as_ptr() as *const StatsHeader) }
    }

    /// Applications reading the fake camera as last counted; [`CONSUMERS_UNTRACKED`] when
    /// nobody counts.
    pub fn consumers(&self) -> u32 {
        self.header().consumers.load(Ordering::Relaxed)
    }

    /// Publishes the count of applications reading the fake camera.
    pub fn set_consumers(&self, n: u32) {
        self.header().consumers.store(n, Ordering::Relaxed);
    }

    /// Whether the pipeline idles (no application watches the fake camera).
    pub fn idle(&self) -> bool {
        self.header().idle.load(Ordering::Acquire) != 0
    }

    /// Starts or ends idling and wakes everyone waiting in [`Stats::wait_while_idle`].
    pub fn set_idle(&self, idle: bool) {
        let word = &self.header().idle;
        // SYNC POINT with the Acquire load in `idle`.
        word.store(idle as u32, Ordering::Release);
        crate::futex::wake_all(word);
    }

    /// Whether the user paused the pipeline (`ctl pause`).
    pub fn paused(&self) -> bool {
        self.header().paused.load(Ordering::Acquire) != 0
    }

    /// Pauses or resumes (the supervisor, on `ctl pause|resume|toggle`).
    pub fn set_paused(&self, paused: bool) {
        // SYNC POINT with the Acquire load in `paused`.
        self.header().paused.store(paused as u32, Ordering::Release);
    }

    /// Sleeps while the pipeline idles, at most `timeout`; returns whether it still idles.
    pub fn wait_while_idle(&self, timeout: std::time::Duration) -> bool {
        crate::futex::wait(&self.header().idle, 1, timeout);
        self.idle()
    }

    /// The block of one stage.
    pub fn stage(&self, stage: Stage) -> &StageStats {
        let offset =
            std::mem::size_of::<StatsHeader>() + stage as usize * std::mem::size_of::<StageStats>();
        // SAFETY: offset + size_of::<StageStats> <= SIZE <= mapping length; 64-byte aligned;
        // atomics only.
        unsafe { &*(self.segment.as_ptr().add(offset) as *const StageStats) }
    }
}

impl StageStats {
    /// Marks the stage as run by this process, starting now; counters keep counting.
    pub fn begin(&self, now_ns: u64) {
        self.pid.store(std::process::id(), Ordering::Relaxed);
        self.started_ns.store(now_ns, Ordering::Relaxed);
        self.heartbeat_ns.store(now_ns, Ordering::Relaxed);
    }

    /// Clears the pid when the process leaves (if still its own).
    pub fn end(&self) {
        let _ =
            self.pid
                .compare_exchange(std::process::id(), 0, Ordering::Relaxed, Ordering::Relaxed);
    }

    /// Records one item: its sequence number, the time spent on it and its latency from capture.
    pub fn record(&self, seq: u64, busy_ns: u64, latency_ns: u64, now_ns: u64) {
        self.frames.fetch_add(1, Ordering::Relaxed);
        self.last_seq.store(seq, Ordering::Relaxed);
        self.busy_ns.fetch_add(busy_ns, Ordering::Relaxed);
        self.last_latency_ns.store(latency_ns, Ordering::Relaxed);
        self.heartbeat_ns.store(now_ns, Ordering::Relaxed);
        let bucket = ((latency_ns / HIST_BUCKET_NS) as usize).min(HIST_BUCKETS - 1);
        self.latency_hist[bucket].fetch_add(1, Ordering::Relaxed);
    }

    /// Shows life without producing an item.
    pub fn heartbeat(&self, now_ns: u64) {
        self.heartbeat_ns.store(now_ns, Ordering::Relaxed);
    }

    /// Publishes the camera mode capture runs (`None`: no camera open).
    pub fn set_camera_mode(&self, mode: Option<&crate::camera_mode::Mode>) {
        let Some(m) = mode else {
            self.camera_fourcc.store(0, Ordering::Relaxed);
            return;
        };
        self.camera_size
            .store((m.width as u64) << 32 | m.height as u64, Ordering::Relaxed);
        self.camera_interval.store(
            (m.interval.numerator as u64) << 32 | m.interval.denominator as u64,
            Ordering::Relaxed,
        );
        self.camera_fourcc
            .store(u32::from_le_bytes(m.format.fourcc()), Ordering::Relaxed);
    }

    /// The camera mode capture runs, if a camera is open.
    pub fn camera_mode(&self) -> Option<crate::camera_mode::Mode> {
        use crate::camera_mode::{Interval, Mode, PixelFormat};
        let format =
            PixelFormat::from_fourcc(self.camera_fourcc.load(Ordering::Relaxed).to_le_bytes())?;
        let size = self.camera_size.load(Ordering::Relaxed);
        let interval = self.camera_interval.load(Ordering::Relaxed);
        Some(Mode {
            format,
            width: (size >> 32) as u32,
            height: size as u32,
            interval: Interval {
                numerator: (interval >> 32) as u32,
                denominator: interval as u32,
            },
        })
    }

    /// A copy of the latency histogram.
    pub fn histogram(&self) -> Vec<u32> {
        self.latency_hist
            .iter()
            .map(|b| b.load(Ordering::Relaxed))
            .collect()
    }
}

/// The `q`-quantile (0..=1) of a histogram in nanoseconds (upper edge of its bucket); `None`
/// when it is empty.
pub fn quantile_ns(hist: &[u32], q: f64) -> Option<u64> {
    let total: u64 = hist.iter().map(|&c| c as u64).sum();
    if total == 0 {
        return None;
    }
    let rank = ((q * total as f64).ceil() as u64).clamp(1, total);
    let mut seen = 0u64;
    for (i, &c) in hist.iter().enumerate() {
        seen += c as u64;
        if seen >= rank {
            return Some((i as u64 + 1) * HIST_BUCKET_NS);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_of_a_known_histogram() {
        let mut hist = vec![0u32; HIST_BUCKETS];
        hist[0] = 50; // < 0.1 ms
        hist[9] = 49; // 0.9..1.0 ms
        hist[99] = 1; // 9.9..10 ms
        assert_eq!(quantile_ns(&hist, 0.5), Some(100_000));
        assert_eq!(quantile_ns(&hist, 0.99), Some(1_000_000));
        assert_eq!(quantile_ns(&hist, 1.0), Some(10_000_000));
        assert_eq!(quantile_ns(&[0; 4], 0.5), None);
    }

    #[test]
    fn stage_names_round_trip() {
        for s in Stage::ALL {
            assert_eq!(Stage::parse(s.name()), Some(s));
        }
        assert_eq!(Stage::parse("camera"), None);
    }
}
