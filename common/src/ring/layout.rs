//! The `#[repr(C)]` structures that live in a ring segment.
//!
//! ```text
//! RingHeader (128 bytes)  geometry, then the words that change (own cache line)
//! slot 0: SlotHeader (128 bytes: metadata, then the loans) + payload, padded to 64 bytes
//! slot 1: ...
//! ```

use std::sync::atomic::{AtomicU32, AtomicU64};

/// `b"VIBARING"` read as a little-endian u64.
pub const MAGIC: u64 = u64::from_le_bytes(*b"VIBARING");
/// Bumped whenever any structure in this file changes.
pub const LAYOUT_VERSION: u32 = 2;
/// How many readers may hold a loan on one slot at the same time.
pub const HOLDERS: usize = 16;

/// Fixed geometry, written once by the creator before `layout_version`.
#[repr(C, align(64))]
pub struct Geometry {
    /// [`MAGIC`].
    pub magic: u64,
    /// [`LAYOUT_VERSION`], stored last with Release by the creator: 0 means "not ready yet".
    pub layout_version: AtomicU32,
    /// 1 = frames, 2 = masks.
    pub kind: u32,
    /// Number of slots.
    pub slot_count: u32,
    /// Image width in pixels.
    pub width: u32,
    /// Image height in pixels.
    pub height: u32,
    /// FourCC of the payload (`YUYV` for frames, `GREY` for masks).
    pub fourcc: u32,
    /// Payload capacity of one slot in bytes.
    pub payload_size: u64,
    /// Distance between slot starts in bytes.
    pub slot_stride: u64,
    /// Size of the whole segment in bytes.
    pub total_size: u64,
}

/// Words that change while the ring runs.
#[repr(C, align(64))]
pub struct Dynamic {
    /// The newest complete slot: its sequence number shifted left by 8, or'ed with its slot
    /// index; 0 = nothing published yet.
    pub published: AtomicU64,
    /// Wake-up word: bumped after every publish; readers FUTEX_WAIT on it with a timeout.
    pub wake: AtomicU32,
    /// Set to 1 by the supervisor when the instance shuts down; hand-run workers exit on it.
    pub closed: AtomicU32,
    /// Pid of the process that holds the writer role, 0 when none.
    pub writer_pid: AtomicU32,
    /// Set to 1 by the writer when its stream ended (a file source that does not loop).
    pub end_of_stream: AtomicU32,
}

/// The ring's header, at offset 0 of the segment.
#[repr(C)]
pub struct RingHeader {
    /// Geometry.
    pub geometry: Geometry,
    /// Changing words.
    pub dynamic: Dynamic,
}

/// The header in front of each slot's payload.
#[repr(C, align(64))]
pub struct SlotHeader {
    /// Lock word: `2*seq - 1` while slot `seq` is being written, `2*seq` once complete.
    pub lock: AtomicU64,
    /// CLOCK_MONOTONIC time the frame was captured (for a mask: its source frame's).
    pub timestamp_ns: AtomicU64,
    /// For a mask: the sequence number of the frame it was computed from; 0 for frames.
    pub source_seq: AtomicU64,
    /// CLOCK_MONOTONIC time the slot was published.
    pub published_ns: AtomicU64,
    /// Bytes of payload in use.
    pub payload_len: AtomicU64,
    _reserved: [u64; 3],
    /// Loans: the pid of each reader reading this slot's payload right now, 0 = a free entry.
    /// The writer never writes a slot with a loan of a live process (see `ring/loan.rs`).
    pub holders: [AtomicU32; HOLDERS],
}

const _: () = assert!(std::mem::size_of::<Geometry>() == 64);
const _: () = assert!(std::mem::size_of::<Dynamic>() == 64);
const _: () = assert!(std::mem::size_of::<RingHeader>() == 128);
const _: () = assert!(std::mem::align_of::<RingHeader>() == 64);
const _: () = assert!(std::mem::size_of::<SlotHeader>() == 128);
const _: () = assert!(std::mem::offset_of!(SlotHeader, holders) == 64);
const _: () = assert!(std::mem::align_of::<SlotHeader>() == 64);

/// Rounds `n` up to a multiple of 64.
pub const fn align64(n: u64) -> u64 {
    n.div_ceil(64) * 64
}
