//! The writer side of a ring: one process at a time holds the role.

use super::{loan, process_alive, Ring, RingError};
use crate::clock::monotonic_ns;
use crate::futex;
use std::sync::atomic::Ordering;

/// Metadata written with a slot.
#[derive(Debug, Clone, Copy, Default)]
pub struct WriteMeta {
    /// Capture time of the frame (for a mask: of its source frame), CLOCK_MONOTONIC ns.
    pub timestamp_ns: u64,
    /// Masks: the source frame's sequence number.
    pub source_seq: u64,
}

/// The writer role of a ring, released when dropped.
pub struct RingWriter<'a> {
    ring: &'a Ring,
    pid: u32,
    next_seq: u64,
}

impl<'a> RingWriter<'a> {
    pub(super) fn claim(ring: &'a Ring) -> Result<RingWriter<'a>, RingError> {
        let pid = std::process::id();
        let d = &ring.header().dynamic;
        loop {
            let current = d.writer_pid.load(Ordering::Acquire);
            if current != 0 && current != pid && process_alive(current) {
                return Err(RingError::WriterBusy {
                    name: ring.name().to_owned(),
                    pid: current,
                });
            }
            // SYNC POINT with other claimers: only one CAS from `current` succeeds.
            if d.writer_pid
                .compare_exchange(current, pid, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
            {
                break;
            }
        }
        d.end_of_stream.store(0, Ordering::Release);
        Ok(RingWriter {
            ring,
            pid,
            next_seq: ring.published_seq() + 1,
        })
    }

    /// Writes the next slot: `fill` gets the payload buffer (capacity = the ring's payload
    /// size) and returns how many bytes it used; then the slot is published and readers are
    /// woken. Returns the slot's sequence number, or `None` (and `fill` is not called) when
    /// readers hold loans on every slot but the published one: the item is dropped, as a
    /// camera drops a frame no one took, and the next write tries again.
    pub fn write(&mut self, meta: WriteMeta, fill: impl FnOnce(&mut [u8]) -> usize) -> Option<u64> {
        let seq = self.next_seq;
        let index = self.claim_slot(seq)?;
        let slot = self.ring.slot_header(index);
        let capacity = self.ring.spec.payload_size() as usize;
        // SAFETY: the payload area of slot `index` lies inside the mapping and is `capacity`
        // bytes long. This process holds the writer role, so no other process writes it, and
        // `claim_slot` made sure no reader reads it: it is not published, it is marked being
        // written, and no live reader held a loan after that mark (see `loan.rs`).
        let payload =
            unsafe { std::slice::from_raw_parts_mut(self.ring.payload_ptr(index), capacity) };
        let len = fill(payload).min(capacity);
        slot.timestamp_ns
            .store(meta.timestamp_ns, Ordering::Relaxed);
        slot.source_seq.store(meta.source_seq, Ordering::Relaxed);
        slot.published_ns.store(monotonic_ns(), Ordering::Relaxed);
        slot.payload_len.store(len as u64, Ordering::Relaxed);
        // SYNC POINT with the (SeqCst, so Acquire) load of the lock in `read_newest`: complete.
        slot.lock.store(2 * seq, Ordering::Release);
        let d = &self.ring.header().dynamic;
        // SYNC POINT with the Acquire load in `Ring::published`.
        d.published
            .store(seq << 8 | index as u64, Ordering::Release);
        // SYNC POINT with the Acquire load of the wake word in `Ring::wait_newer`.
        d.wake.fetch_add(1, Ordering::Release);
        futex::wake_all(&d.wake);
        self.next_seq = seq + 1;
        Some(seq)
    }

    /// Picks the slot for `seq` and marks it being written: any slot but the published one
    /// with no loan; when every such slot is on loan, the loans of dead readers are cleared
    /// and the slots tried again. `None` when live readers hold them all.
    fn claim_slot(&self, seq: u64) -> Option<usize> {
        let count = self.ring.spec.slot_count as usize;
        let (published_seq, published) = self.ring.published();
        for reclaim in [false, true] {
            for step in 1..=count {
                let index = (published + step) % count;
                if published_seq != 0 && index == published {
                    continue;
                }
                let slot = self.ring.slot_header(index);
                if reclaim {
                    loan::reclaim_dead(slot);
                }
                if loan::held(slot) {
                    continue;
                }
                // SYNC POINT (Dekker, writer side, see `loan.rs`) with the reader's SeqCst
                // loan then lock load in `read_newest`: mark, then look for loans again.
                let before = slot.lock.swap(2 * seq - 1, Ordering::SeqCst);
                if !loan::held(slot) {
                    return Some(index);
                }
                // A reader took a loan in between (on a stale look at an older publish): it
                // keeps the unchanged slot, marked as it was.
                slot.lock.store(before, Ordering::SeqCst);
            }
        }
        None
    }

    /// Says the stream ended: readers may finish after the newest slot.
    pub fn set_end_of_stream(&self) {
        let d = &self.ring.header().dynamic;
        d.end_of_stream.store(1, Ordering::Release);
        d.wake.fetch_add(1, Ordering::Release);
        futex::wake_all(&d.wake);
    }

    /// Sequence number the next `write` will use.
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }
}

impl Drop for RingWriter<'_> {
    fn drop(&mut self) {
        // Release the role only if it is still ours.
        let _ = self.ring.header().dynamic.writer_pid.compare_exchange(
            self.pid,
            0,
            Ordering::AcqRel,
            Ordering::Relaxed,
        );
    }
}
