//! Single-writer, many-reader rings of fixed slots in POSIX shared memory.
//!
//! The writer of sequence number `s` picks a slot that is neither the published one nor on
//! loan to a reader (`loan.rs`), stores the slot's lock word `2s-1` (odd: being written),
//! writes the payload, stores `2s` (complete), then publishes `s` with the slot's index and wakes
//! readers through a futex word. A reader loads the published sequence number and index, takes
//! a loan on that slot, checks its lock is `2s`, reads the payload and gives the loan back. The
//! writer never writes a slot on loan, so a reader never sees memory that is being written. A
//! writer killed at any instruction leaves an odd slot that was never published, which its
//! successor reuses; a reader killed while it holds a loan leaves a pid that is no longer alive,
//! whose loan the writer clears. Nothing waits on another process.

mod layout;
mod loan;
mod writer;

pub use layout::{HOLDERS, LAYOUT_VERSION, MAGIC};
pub use writer::{RingWriter, WriteMeta};

use crate::futex;
use crate::shm::{Segment, ShmError};
use layout::{align64, RingHeader, SlotHeader};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// `YUYV` FourCC (packed 4:2:2), the frame ring's pixel format.
pub const FOURCC_YUYV: u32 = u32::from_le_bytes(*b"YUYV");
/// `GREY` FourCC (one byte per pixel), the mask ring's format.
pub const FOURCC_GREY: u32 = u32::from_le_bytes(*b"GREY");

/// Most slots a ring may have: the published word keeps the slot index in 8 bits.
pub const MAX_SLOTS: u32 = 256;

/// What a ring carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RingKind {
    /// Camera frames, YUYV.
    Frames = 1,
    /// Person masks, one byte per pixel (255 = person).
    Masks = 2,
}

impl RingKind {
    fn from_u32(v: u32) -> Option<RingKind> {
        match v {
            1 => Some(RingKind::Frames),
            2 => Some(RingKind::Masks),
            _ => None,
        }
    }
}

/// The geometry a ring is created with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RingSpec {
    /// What it carries.
    pub kind: RingKind,
    /// Number of slots (at least 2).
    pub slot_count: u32,
    /// Image width in pixels.
    pub width: u32,
    /// Image height in pixels.
    pub height: u32,
}

impl RingSpec {
    /// A frame ring of `width` x `height` YUYV frames.
    pub fn frames(width: u32, height: u32) -> RingSpec {
        RingSpec {
            kind: RingKind::Frames,
            slot_count: 4,
            width,
            height,
        }
    }

    /// A mask ring of `width` x `height` one-byte masks.
    pub fn masks(width: u32, height: u32) -> RingSpec {
        RingSpec {
            kind: RingKind::Masks,
            slot_count: 4,
            width,
            height,
        }
    }

    /// FourCC of the payload.
    pub fn fourcc(&self) -> u32 {
        match self.kind {
            RingKind::Frames => FOURCC_YUYV,
            RingKind::Masks => FOURCC_GREY,
        }
    }

    /// Bytes of one payload.
    pub fn payload_size(&self) -> u64 {
        let pixels = self.width as u64 * self.height as u64;
        match self.kind {
            RingKind::Frames => pixels * 2,
            RingKind::Masks => pixels,
        }
    }

    fn slot_stride(&self) -> u64 {
        align64(std::mem::size_of::<SlotHeader>() as u64 + self.payload_size())
    }

    fn total_size(&self) -> u64 {
        std::mem::size_of::<RingHeader>() as u64 + self.slot_stride() * self.slot_count as u64
    }
}

/// Why a ring could not be created or opened.
#[derive(Debug, thiserror::Error)]
pub enum RingError {
    /// The segment itself.
    #[error(transparent)]
    Shm(#[from] ShmError),
    /// The segment does not start with [`MAGIC`]: not a viba ring.
    #[error("{name} is not a viba ring (magic {found:#x})")]
    BadMagic {
        /// Segment name.
        name: String,
        /// What was found.
        found: u64,
    },
    /// Made by a build with another layout, or not finished by its creator.
    #[error("{name} has layout version {found}, this build needs {expected} (restart viba-supervisor so it recreates the rings)")]
    LayoutMismatch {
        /// Segment name.
        name: String,
        /// This build's version.
        expected: u32,
        /// The segment's version (0: its creator never finished).
        found: u32,
    },
    /// Geometry disagrees with what the opener needs or with the segment's own size.
    #[error("{name}: {what}")]
    Geometry {
        /// Segment name.
        name: String,
        /// What disagrees.
        what: String,
    },
    /// Another live process holds the writer role.
    #[error("{name} is already written by pid {pid} (stop that process first, e.g. viba-supervisor ctl stop STAGE)")]
    WriterBusy {
        /// Segment name.
        name: String,
        /// The holder.
        pid: u32,
    },
    /// Bad arguments to [`Ring::create`].
    #[error("{0}")]
    BadSpec(String),
}

/// Metadata of one slot as a reader saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SlotMeta {
    /// Sequence number (1, 2, 3, ...).
    pub seq: u64,
    /// Capture time of the frame (for masks: of their source frame), CLOCK_MONOTONIC ns.
    pub timestamp_ns: u64,
    /// Masks: the source frame's sequence number.
    pub source_seq: u64,
    /// When the writer published the slot.
    pub published_ns: u64,
    /// Payload bytes in use.
    pub len: usize,
}

/// A mapped ring.
pub struct Ring {
    segment: Segment,
    spec: RingSpec,
}

impl Ring {
    /// Creates the ring's segment, writes its header and slots, and marks it ready last.
    pub fn create(name: &str, spec: RingSpec) -> Result<Ring, RingError> {
        if !(2..=MAX_SLOTS).contains(&spec.slot_count) || spec.width == 0 || spec.height == 0 {
            return Err(RingError::BadSpec(format!(
                "{name}: ring needs 2 to {MAX_SLOTS} slots and a non-empty image, got {spec:?}"
            )));
        }
        if spec.kind == RingKind::Frames && !spec.width.is_multiple_of(2) {
            return Err(RingError::BadSpec(format!(
                "{name}: YUYV frames need an even width, got {}",
                spec.width
            )));
        }
        let segment = Segment::create(name, spec.total_size() as usize)?;
        let base = segment.as_ptr() as *mut RingHeader;
        // SAFETY: the segment is at least `total_size` bytes, page aligned, freshly created
        // (zero-filled, nobody else has the geometry yet since `layout_version` is still 0),
        // and `RingHeader` is `repr(C)` with only integer fields, for which zero is valid.
        let header = unsafe { &mut *base };
        let g = &mut header.geometry;
        g.magic = MAGIC;
        g.kind = spec.kind as u32;
        g.slot_count = spec.slot_count;
        g.width = spec.width;
        g.height = spec.height;
        g.fourcc = spec.fourcc();
        g.payload_size = spec.payload_size();
        g.slot_stride = spec.slot_stride();
        g.total_size = spec.total_size();
        // SYNC POINT with the Acquire load of `layout_version` in `Ring::open`: everything above
        // is visible to an opener that sees the version.
        g.layout_version.store(LAYOUT_VERSION, Ordering::Release);
        Ok(Ring { segment, spec })
    }

    /// Opens an existing ring and checks magic, layout version, kind and sizes.
    pub fn open(name: &str, kind: RingKind) -> Result<Ring, RingError> {
        let segment = Segment::open(name)?;
        let header_size = std::mem::size_of::<RingHeader>();
        if segment.len() < header_size {
            return Err(RingError::Geometry {
                name: name.to_owned(),
                what: format!(
                    "segment has {} bytes, less than a ring header",
                    segment.len()
                ),
            });
        }
        // SAFETY: the mapping is page aligned and at least one header long; all fields are
        // integers or atomics, valid for any bit pattern. Nothing is trusted before the checks
        // below.
        let header = unsafe { &*(segment.as_ptr() as *const RingHeader) };
        let g = &header.geometry;
        // SYNC POINT with the Release store in `Ring::create`.
        let version = g.layout_version.load(Ordering::Acquire);
        if g.magic != MAGIC {
            return Err(RingError::BadMagic {
                name: name.to_owned(),
                found: g.magic,
            });
        }
        if version != LAYOUT_VERSION {
            return Err(RingError::LayoutMismatch {
                name: name.to_owned(),
                expected: LAYOUT_VERSION,
                found: version,
            });
        }
        let found_kind = RingKind::from_u32(g.kind);
        if found_kind != Some(kind) {
            return Err(RingError::Geometry {
                name: name.to_owned(),
                what: format!("ring kind {} where {:?} was expected", g.kind, kind),
            });
        }
        let spec = RingSpec {
            kind,
            slot_count: g.slot_count,
            width: g.width,
            height: g.height,
        };
        let consistent = (2..=MAX_SLOTS).contains(&spec.slot_count)
            && g.fourcc == spec.fourcc()
            && g.payload_size == spec.payload_size()
            && g.slot_stride == spec.slot_stride()
            && g.total_size == spec.total_size()
            && segment.len() as u64 >= spec.total_size();
        if !consistent {
            return Err(RingError::Geometry {
                name: name.to_owned(),
                what: format!(
                    "header ({}x{}, {} slots, {} bytes) does not match the segment ({} bytes)",
                    g.width,
                    g.height,
                    g.slot_count,
                    g.total_size,
                    segment.len()
                ),
            });
        }
        Ok(Ring { segment, spec })
    }

    /// Opens a ring and checks that its size is `width` x `height`.
    pub fn open_sized(
        name: &str,
        kind: RingKind,
        width: u32,
        height: u32,
    ) -> Result<Ring, RingError> {
        let ring = Ring::open(name, kind)?;
        if ring.spec.width != width || ring.spec.height != height {
            return Err(RingError::Geometry {
                name: name.to_owned(),
                what: format!(
                    "ring is {}x{} but {}x{} is configured (restart viba-supervisor with this config)",
                    ring.spec.width, ring.spec.height, width, height
                ),
            });
        }
        Ok(ring)
    }

    /// The ring's geometry.
    pub fn spec(&self) -> RingSpec {
        self.spec
    }

    /// The segment's name.
    pub fn name(&self) -> &str {
        self.segment.name()
    }

    /// Keeps the segment in `/dev/shm` when this handle (the creator's) is dropped.
    pub fn keep_on_drop(&mut self) {
        self.segment.set_owner(false);
    }

    fn header(&self) -> &RingHeader {
        // SAFETY: checked in `create`/`open`: the mapping holds a valid header for as long as
        // `self.segment` lives.
        unsafe { &*(self.segment.as_ptr() as *const RingHeader) }
    }

    /// Start of slot `index` (`index < slot_count`).
    fn slot_ptr(&self, index: usize) -> *mut u8 {
        let index = index % self.spec.slot_count as usize;
        let offset =
            std::mem::size_of::<RingHeader>() as u64 + index as u64 * self.spec.slot_stride();
        // SAFETY: `index < slot_count`, so `offset` + one slot stride is within `total_size`,
        // checked at open/create.
        unsafe { self.segment.as_ptr().add(offset as usize) }
    }

    fn slot_header(&self, index: usize) -> &SlotHeader {
        // SAFETY: `slot_ptr` is 64-byte aligned inside the mapping; SlotHeader holds atomics only.
        unsafe { &*(self.slot_ptr(index) as *const SlotHeader) }
    }

    /// The payload area of slot `index`, `payload_size` bytes long.
    fn payload_ptr(&self, index: usize) -> *mut u8 {
        // SAFETY: the payload follows the slot header inside the same slot stride.
        unsafe { self.slot_ptr(index).add(std::mem::size_of::<SlotHeader>()) }
    }

    /// The newest complete slot: (sequence number, slot index); (0, 0) when none yet.
    fn published(&self) -> (u64, usize) {
        // SYNC POINT with the Release store in `RingWriter::write`.
        let word = self.header().dynamic.published.load(Ordering::Acquire);
        (word >> 8, (word & 0xff) as usize)
    }

    /// Sequence number of the newest complete slot (0 when none yet).
    pub fn published_seq(&self) -> u64 {
        self.published().0
    }

    /// Calls `f` with the newest complete slot's payload and metadata and returns its result,
    /// or `None` when nothing was published yet. The slot is on loan to this process while `f`
    /// runs: the writer leaves it alone, so `f` should be quick (a few milliseconds at most; a
    /// ring has few slots) and must not wait for the writer.
    pub fn read_newest<R>(&self, f: impl FnOnce(&[u8], &SlotMeta) -> R) -> Option<(R, SlotMeta)> {
        let pid = std::process::id();
        for _ in 0..64 {
            let (seq, index) = self.published();
            if seq == 0 {
                return None;
            }
            let slot = self.slot_header(index);
            let Some(loan) = loan::Loan::take(slot, pid) else {
                continue;
            };
            // SYNC POINT (Dekker, reader side, see `loan.rs`) with the writer's SeqCst store
            // of the odd lock word; also the Acquire of the even one stored in `write`.
            if slot.lock.load(Ordering::SeqCst) != 2 * seq {
                // Overwritten since it was published: try the then newest.
                continue;
            }
            let meta = SlotMeta {
                seq,
                timestamp_ns: slot.timestamp_ns.load(Ordering::Relaxed),
                source_seq: slot.source_seq.load(Ordering::Relaxed),
                published_ns: slot.published_ns.load(Ordering::Relaxed),
                len: (slot.payload_len.load(Ordering::Relaxed) as usize)
                    .min(self.spec.payload_size() as usize),
            };
            // SAFETY: the payload lies inside the mapping and is `payload_size` bytes long;
            // `meta.len` is clamped to it. The slot is complete (lock `2*seq`, whose writes
            // happen before the Acquire above) and on loan to us, so no writer writes it until
            // `loan` is dropped below, after the last use of `payload` (see `loan.rs`).
            let payload = unsafe { std::slice::from_raw_parts(self.payload_ptr(index), meta.len) };
            let result = f(payload, &meta);
            drop(loan);
            return Some((result, meta));
        }
        None
    }

    /// Waits until a slot newer than `after` is published, the ring is closed, or `timeout`
    /// passes; returns the newest published sequence number (which may still be `after`).
    pub fn wait_newer(&self, after: u64, timeout: Duration) -> u64 {
        self.wait(after, timeout, false)
    }

    /// [`Ring::wait_newer`] that also returns when a signal arrives, so that a worker waiting
    /// long for frames (the pipeline idles) sees a stop or reload request at once.
    pub fn wait_newer_or_signal(&self, after: u64, timeout: Duration) -> u64 {
        self.wait(after, timeout, true)
    }

    fn wait(&self, after: u64, timeout: Duration, until_signal: bool) -> u64 {
        let deadline = Instant::now() + timeout;
        let d = &self.header().dynamic;
        loop {
            // Load the wake word before checking, so a publish in between changes it and the
            // futex wait returns at once (SYNC POINT with the Release fetch_add in `write`).
            let word = d.wake.load(Ordering::Acquire);
            let seq = self.published_seq();
            if seq > after || self.is_closed() {
                return seq;
            }
            let now = Instant::now();
            if now >= deadline {
                return seq;
            }
            if futex::wait(&d.wake, word, deadline - now) && until_signal {
                return self.published_seq();
            }
        }
    }

    /// Marks the ring closed and wakes every waiter; processes using it then exit.
    pub fn close(&self) {
        let d = &self.header().dynamic;
        // SYNC POINT with the Acquire load in `is_closed`.
        d.closed.store(1, Ordering::Release);
        d.wake.fetch_add(1, Ordering::Release);
        futex::wake_all(&d.wake);
    }

    /// Whether the supervisor closed the ring (the instance is shutting down).
    pub fn is_closed(&self) -> bool {
        self.header().dynamic.closed.load(Ordering::Acquire) != 0
    }

    /// Whether the writer said its stream ended (a file source that does not loop).
    pub fn end_of_stream(&self) -> bool {
        self.header().dynamic.end_of_stream.load(Ordering::Acquire) != 0
    }

    /// Pid of the process holding the writer role, if any.
    pub fn writer_pid(&self) -> Option<u32> {
        match self.header().dynamic.writer_pid.load(Ordering::Acquire) {
            0 => None,
            pid => Some(pid),
        }
    }

    /// How many slots are marked "being written" (odd lock word): after a writer was killed
    /// mid-write, one is. For tests and diagnostics.
    #[doc(hidden)]
    pub fn slots_in_write(&self) -> usize {
        (0..self.spec.slot_count as usize)
            .filter(|&i| self.slot_header(i).lock.load(Ordering::Acquire) % 2 == 1)
            .count()
    }

    /// How many loans readers hold now over all slots, including those of readers that were
    /// killed and not yet cleared. For tests and diagnostics.
    #[doc(hidden)]
    pub fn loans(&self) -> usize {
        (0..self.spec.slot_count as usize)
            .map(|i| loan::count(self.slot_header(i)))
            .sum()
    }

    /// Takes the writer role. Fails when another live process holds it; a dead holder's role
    /// (a writer that was killed) is taken over, and writing continues after the newest
    /// published sequence number.
    pub fn writer(&self) -> Result<RingWriter<'_>, RingError> {
        RingWriter::claim(self)
    }
}

/// Whether `pid` names a live (not zombie) process.
pub(crate) fn process_alive(pid: u32) -> bool {
    crate::procfs::alive(pid)
}

#[cfg(test)]
mod tests;
