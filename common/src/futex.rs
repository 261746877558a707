//! A futex on a 32-bit word that lives in shared memory.
//!
//! A futex has no owner state: a process killed while waiting leaves nothing behind, unlike a
//! process-shared pthread condition variable (see the project's notes on raw_sync).

use std::sync::atomic::AtomicU32;
use std::time::Duration;

/// Sleeps while `word` still holds `expected`, at most `timeout`. Returns on a wake-up, a
/// timeout, a signal, or at once when the word already changed; callers re-check their
/// condition. Returns `true` when a signal handler ran and cut the wait short (`EINTR`; a
/// futex wait with a timeout is never restarted after a handler).
pub fn wait(word: &AtomicU32, expected: u32, timeout: Duration) -> bool {
    let ts = libc::timespec {
        tv_sec: timeout.as_secs() as libc::time_t,
        tv_nsec: timeout.subsec_nanos() as libc::c_long,
    };
    // SAFETY: `word` is a valid, aligned 32-bit atomic for the duration of the call (it lives
    // in a mapping the caller keeps alive). FUTEX_WAIT only reads it and compares with
    // `expected`; the relative timeout pointer is valid for the call. Not FUTEX_PRIVATE: the
    // word is shared between processes.
    let r = unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAIT,
            expected,
            &ts as *const libc::timespec,
        )
    };
    r == -1 && std::io::Error::last_os_error().raw_os_error() == Some(libc::EINTR)
}

/// Wakes every process waiting on `word`.
pub fn wake_all(word: &AtomicU32) {
    // SAFETY: as in `wait`; FUTEX_WAKE does not touch the word's value.
    unsafe {
        libc::syscall(libc::SYS_futex, word.as_ptr(), libc::FUTEX_WAKE, i32::MAX);
    }
}
