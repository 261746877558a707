//! Loans: how a reader makes sure the writer leaves the slot it reads alone.
//!
//! A reader takes a loan by storing its pid into a free entry of the slot's `holders`, and only
//! then checks that the slot still holds the sequence number it wants. The writer, before it
//! writes a slot, marks it "being written" (an odd lock word) and only then checks that no entry
//! holds a live pid. Both sides store, then load the other side's word, all `SeqCst`: in the
//! single total order of these operations at least one side sees the other's store (Dekker's
//! argument; the store-buffering outcome is forbidden for `SeqCst`). So either the reader sees
//! the odd lock and gives the loan back unread, or the writer sees the loan and picks another
//! slot. A payload that a reader reads is therefore never written while it is read, and the
//! `&[u8]` handed to safe code is sound.
//!
//! A reader killed while it holds a loan leaves its pid in the entry; the writer clears entries
//! of pids that are no longer alive when it finds no free slot. Readers and the writer must
//! share one pid namespace (they do: one viba instance, one machine).

use super::layout::{SlotHeader, HOLDERS};
use std::sync::atomic::{AtomicU32, Ordering};

/// A reader's loan on one slot, given back when dropped (also when the reader's closure
/// panics).
pub(super) struct Loan<'a> {
    entry: &'a AtomicU32,
}

impl<'a> Loan<'a> {
    /// Takes a free holder entry of `slot` for `pid`; `None` when all [`HOLDERS`] are taken.
    /// The caller must still check that the slot holds what it wants (see the module doc).
    pub(super) fn take(slot: &'a SlotHeader, pid: u32) -> Option<Loan<'a>> {
        // SYNC POINT (Dekker, reader side) with the writer's SeqCst store of the odd lock word
        // and its SeqCst loads of the entries in `RingWriter::claim_slot`.
        let entry = slot.holders.iter().find(|entry| {
            entry
                .compare_exchange(0, pid, Ordering::SeqCst, Ordering::Relaxed)
                .is_ok()
        })?;
        // Made only for the entry this CAS filled: dropping a `Loan` frees its entry.
        Some(Loan { entry })
    }
}

impl Drop for Loan<'_> {
    fn drop(&mut self) {
        // SYNC POINT with the writer's SeqCst (so also Acquire) load in `held`: the payload
        // reads made under this loan happen before any write that follows the writer seeing 0.
        self.entry.store(0, Ordering::Release);
    }
}

/// Whether a reader holds a loan on `slot` (the writer's side of the Dekker pair).
pub(super) fn held(slot: &SlotHeader) -> bool {
    slot.holders
        .iter()
        .any(|entry| entry.load(Ordering::SeqCst) != 0)
}

/// Clears the loans of processes that are gone (killed while reading); returns how many.
pub(super) fn reclaim_dead(slot: &SlotHeader) -> usize {
    let mut freed = 0;
    for entry in &slot.holders {
        let pid = entry.load(Ordering::Acquire);
        if pid != 0 && !crate::procfs::alive(pid) {
            // Only that dead pid's entry: a live reader may have reused it meanwhile.
            if entry
                .compare_exchange(pid, 0, Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
            {
                freed += 1;
            }
        }
    }
    freed
}

/// Loans held on `slot` now (live or not), for diagnostics and tests.
pub(super) fn count(slot: &SlotHeader) -> usize {
    slot.holders
        .iter()
        .filter(|entry| entry.load(Ordering::Acquire) != 0)
        .count()
}

const _: () = assert!(HOLDERS > 0);
