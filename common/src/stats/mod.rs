//! The stats segment in shared memory (`/viba-<uid>-<instance>-stats`): a header with the
//! pipeline's shared words ([`Pipeline`]: idle futex, consumers, paused), then one block of
//! counters per stage ([`StageStats`]).
//!
//! Each stage writes only its own block; the supervisor (for `ctl status`) and the benchmark
//! read them. Every field is an independent atomic: a reader may see one counter a little ahead
//! of another, which is fine for statistics.

mod pipeline;
mod stage_stats;

pub use pipeline::{Pipeline, CONSUMERS_UNTRACKED};
pub use stage_stats::StageStats;

use crate::shm::{Segment, ShmError};
use crate::stage::Stage;
use std::sync::atomic::{AtomicU32, Ordering};

/// `b"VIBASTAT"` as a little-endian u64.
pub const STATS_MAGIC: u64 = u64::from_le_bytes(*b"VIBASTAT");
/// Bumped when any structure here changes.
pub const STATS_VERSION: u32 = 5;
/// Latency histogram buckets, each [`HIST_BUCKET_NS`] wide; the last one collects the rest.
pub const HIST_BUCKETS: usize = 2048;
/// Width of one histogram bucket: 100 microseconds.
pub const HIST_BUCKET_NS: u64 = 100_000;

#[repr(C, align(64))]
struct StatsHeader {
    magic: u64,
    version: AtomicU32,
    stages: u32,
    /// The pipeline's words (idle futex, consumers, paused).
    pipeline: Pipeline,
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
        header.pipeline.init(idle);
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

    /// The pipeline's words: consumers, idle, paused.
    pub fn pipeline(&self) -> &Pipeline {
        &self.header().pipeline
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
}
