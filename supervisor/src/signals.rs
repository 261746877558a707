//! The supervisor reads SIGCHLD, SIGINT, SIGTERM and SIGHUP through a signalfd.

use nix::sys::signal::{SigSet, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};

/// What arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arrived {
    /// A child changed state.
    Child,
    /// Shut down (SIGINT, SIGTERM).
    Stop,
    /// Read the config file again (SIGHUP).
    Reload,
}

/// Blocks the signals and opens a non-blocking signalfd for them. Call before any thread or
/// child is started.
pub fn open() -> nix::Result<SignalFd> {
    let mut mask = SigSet::empty();
    for s in [
        Signal::SIGCHLD,
        Signal::SIGINT,
        Signal::SIGTERM,
        Signal::SIGHUP,
    ] {
        mask.add(s);
    }
    mask.thread_block()?;
    SignalFd::with_flags(&mask, SfdFlags::SFD_NONBLOCK | SfdFlags::SFD_CLOEXEC)
}

/// Drains the signalfd.
pub fn drain(fd: &SignalFd) -> Vec<Arrived> {
    let mut out = Vec::new();
    while let Ok(Some(info)) = fd.read_signal() {
        out.push(if info.ssi_signo == Signal::SIGCHLD as u32 {
            Arrived::Child
        } else if info.ssi_signo == Signal::SIGHUP as u32 {
            Arrived::Reload
        } else {
            Arrived::Stop
        });
    }
    out
}

/// Reaps every exited child: `(pid, how)`.
pub fn reap() -> Vec<(i32, crate::state::Exit)> {
    use crate::state::Exit;
    use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
    let mut out = Vec::new();
    loop {
        match waitpid(None, Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::Exited(pid, code)) => out.push((pid.as_raw(), Exit::Code(code))),
            Ok(WaitStatus::Signaled(pid, sig, _)) => {
                out.push((pid.as_raw(), Exit::Signal(sig as i32)))
            }
            Ok(WaitStatus::StillAlive) | Err(_) => break,
            Ok(_) => continue,
        }
    }
    out
}
