//! The pipeline's shared words in the stats segment's header: who watches the fake camera,
//! whether the pipeline idles (a futex word capture sleeps on), whether the user paused it.

use std::sync::atomic::{AtomicU32, Ordering};

/// [`Pipeline::consumers`] when nobody counts the readers of the output (a file sink, or
/// `output.idle_when_unused` off).
pub const CONSUMERS_UNTRACKED: u32 = u32::MAX;

/// The words every stage and the supervisor share about the whole pipeline.
#[repr(C)]
pub struct Pipeline {
    /// Applications with the fake camera open, as the compositor last counted them.
    consumers: AtomicU32,
    /// 1 while the pipeline idles (nobody watches, or paused): capture releases the camera. A
    /// futex word.
    idle: AtomicU32,
    /// 1 while paused (`ctl pause`): the compositor shows the still and idles the pipeline.
    /// Set by the supervisor only; kept across worker restarts.
    paused: AtomicU32,
}

impl Pipeline {
    /// The words of a new segment: nobody counted yet, idle or not.
    pub(super) fn init(&mut self, idle: bool) {
        self.consumers = AtomicU32::new(CONSUMERS_UNTRACKED);
        self.idle = AtomicU32::new(idle as u32);
    }

    /// Applications reading the fake camera as last counted; [`CONSUMERS_UNTRACKED`] when
    /// nobody counts.
    pub fn consumers(&self) -> u32 {
        self.consumers.load(Ordering::Relaxed)
    }

    /// Publishes the count of applications reading the fake camera.
    pub fn set_consumers(&self, n: u32) {
        self.consumers.store(n, Ordering::Relaxed);
    }

    /// Whether the pipeline idles (no application watches the fake camera).
    pub fn idle(&self) -> bool {
        self.idle.load(Ordering::Acquire) != 0
    }

    /// Starts or ends idling and wakes everyone waiting in [`Pipeline::wait_while_idle`].
    pub fn set_idle(&self, idle: bool) {
        // SYNC POINT with the Acquire load in `idle`.
        self.idle.store(idle as u32, Ordering::Release);
        crate::futex::wake_all(&self.idle);
    }

    /// Whether the user paused the pipeline (`ctl pause`).
    pub fn paused(&self) -> bool {
        self.paused.load(Ordering::Acquire) != 0
    }

    /// Pauses or resumes (the supervisor, on `ctl pause|resume|toggle`).
    pub fn set_paused(&self, paused: bool) {
        // SYNC POINT with the Acquire load in `paused`.
        self.paused.store(paused as u32, Ordering::Release);
    }

    /// Sleeps while the pipeline idles, at most `timeout`; returns whether it still idles.
    pub fn wait_while_idle(&self, timeout: std::time::Duration) -> bool {
        crate::futex::wait(&self.idle, 1, timeout);
        self.idle()
    }
}
