//! One stage's block of counters in the stats segment: only that stage writes it.

use super::{HIST_BUCKETS, HIST_BUCKET_NS};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

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
    /// Capture and segmenter: items not written because readers held loans on every slot of
    /// the output ring but the published one (see `ring/loan.rs`); 0 in a healthy pipeline.
    pub ring_full: AtomicU64,
    /// Capture-to-output latency histogram.
    pub latency_hist: [AtomicU32; HIST_BUCKETS],
}

impl StageStats {
    /// Marks the stage as run by this process, starting now; counters keep counting.
    pub fn begin(&self, now_ns: u64) {
        self.pid.store(std::process::id(), Ordering::Relaxed);
        self.started_ns.store(now_ns, Ordering::Relaxed);
        self.heartbeat_ns.store(now_ns, Ordering::Relaxed);
    }

    /// Another live process of this program that runs the stage now (a second compositor
    /// run by hand beside the supervisor's would write the same sink): its pid. Only looks:
    /// the pid is written by [`StageStats::begin`], which the supervisor takes for "started"
    /// (two processes starting at the very same moment both pass). A holder that died without
    /// clearing its pid, or whose pid now names another program, does not count.
    pub fn held_by_another(&self) -> Option<u32> {
        let me = std::process::id();
        let held = self.pid.load(Ordering::Acquire);
        (held != 0
            && held != me
            && crate::procfs::alive(held)
            && crate::procfs::comm(held) == crate::procfs::comm(me))
        .then_some(held)
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

    /// Counts an item the output ring had no free slot for, and shows life.
    pub fn record_ring_full(&self, now_ns: u64) {
        self.ring_full.fetch_add(1, Ordering::Relaxed);
        self.heartbeat_ns.store(now_ns, Ordering::Relaxed);
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
