//! A process-wide "please stop" flag set by SIGTERM and SIGINT.

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

static STOP: AtomicBool = AtomicBool::new(false);
static USR1: AtomicU32 = AtomicU32::new(0);
static HUP: AtomicU32 = AtomicU32::new(0);

extern "C" fn on_hup(_: libc::c_int) {
    HUP.fetch_add(1, Ordering::SeqCst);
}

extern "C" fn on_stop(_: libc::c_int) {
    STOP.store(true, Ordering::SeqCst);
}

extern "C" fn on_usr1(_: libc::c_int) {
    USR1.fetch_add(1, Ordering::SeqCst);
}

/// Installs the handlers: SIGTERM and SIGINT set the stop flag, SIGUSR1 and SIGHUP (the
/// config changed: read it again) bump counters.
/// Handlers are installed without `SA_RESTART` so that blocking waits return early.
pub fn install() {
    use nix::sys::signal::{sigaction, SaFlags, SigAction, SigHandler, SigSet, Signal};
    let stop = SigAction::new(
        SigHandler::Handler(on_stop),
        SaFlags::empty(),
        SigSet::empty(),
    );
    let usr1 = SigAction::new(
        SigHandler::Handler(on_usr1),
        SaFlags::empty(),
        SigSet::empty(),
    );
    // SAFETY: the handlers only touch atomics, which is async-signal-safe.
    unsafe {
        let _ = sigaction(Signal::SIGTERM, &stop);
        let _ = sigaction(Signal::SIGINT, &stop);
        let _ = sigaction(Signal::SIGUSR1, &usr1);
        let _ = sigaction(
            Signal::SIGHUP,
            &SigAction::new(
                SigHandler::Handler(on_hup),
                SaFlags::empty(),
                SigSet::empty(),
            ),
        );
    }
}

/// Whether SIGTERM or SIGINT arrived.
pub fn requested() -> bool {
    STOP.load(Ordering::SeqCst)
}

/// How many SIGUSR1 signals arrived so far.
pub fn usr1_count() -> u32 {
    USR1.load(Ordering::SeqCst)
}

/// How many SIGHUP signals arrived so far.
pub fn hup_count() -> u32 {
    HUP.load(Ordering::SeqCst)
}
