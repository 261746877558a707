//! Starting worker processes: CPU set, nice level, parent-death signal and a clean signal
//! mask, all applied in the child between fork and exec.

use nix::sched::CpuSet;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use viba_common::stage::Stage;

/// How to start one stage.
#[derive(Debug, Clone)]
pub struct WorkerSpec {
    /// The stage.
    pub stage: Stage,
    /// Its executable.
    pub program: PathBuf,
    /// The config file, absolute: the supervisor's live copy.
    pub config: PathBuf,
    /// The folder relative paths in it are resolved against (the user's config's).
    pub base_dir: PathBuf,
    /// CPUs to pin to, if any.
    pub cpus: Option<Vec<usize>>,
    /// Nice level.
    pub nice: i32,
    /// Started before: the worker gets `VIBA_RESUMED=1` (a file sink goes on with its
    /// recording).
    pub resumed: bool,
}

/// The folder holding the worker executables: `$VIBA_BIN_DIR`, else the supervisor's own.
pub fn bin_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("VIBA_BIN_DIR") {
        return PathBuf::from(dir);
    }
    std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(Path::to_owned))
        .unwrap_or_else(|| PathBuf::from("."))
}

/// Starts the worker; returns its pid.
pub fn spawn(spec: &WorkerSpec) -> std::io::Result<i32> {
    let mut command = Command::new(&spec.program);
    command
        .arg("--config")
        .arg(&spec.config)
        .arg("--base-dir")
        .arg(&spec.base_dir);
    command.env(viba_common::worker::ORT_TELEMETRY_OFF_ENV, "1");
    if spec.resumed {
        command.env(viba_common::worker::RESUMED_ENV, "1");
    } else {
        command.env_remove(viba_common::worker::RESUMED_ENV);
    }
    let cpu_set = match &spec.cpus {
        Some(cpus) => {
            let mut set = CpuSet::new();
            for &c in cpus {
                set.set(c).map_err(std::io::Error::from)?;
            }
            Some(set)
        }
        None => None,
    };
    let nice = spec.nice;
    let parent = nix::unistd::getpid();
    // SAFETY: the closure runs in the forked child before exec and only makes
    // async-signal-safe system calls (setpgid, prctl, getppid, sched_setaffinity,
    // setpriority, sigprocmask); it allocates nothing (the CpuSet was built before fork).
    unsafe {
        command.pre_exec(move || {
            // Own process group: a Ctrl-C in the terminal reaches only the supervisor, which
            // then stops the workers in order.
            libc::setpgid(0, 0);
            // Die with the supervisor, even when it is SIGKILLed.
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            // The supervisor may have died before the prctl took effect.
            if libc::getppid() != parent.as_raw() {
                libc::_exit(1);
            }
            if let Some(set) = &cpu_set {
                nix::sched::sched_setaffinity(nix::unistd::Pid::from_raw(0), set)
                    .map_err(std::io::Error::from)?;
            }
            if nice != 0 && libc::setpriority(libc::PRIO_PROCESS, 0, nice) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            // The supervisor blocks the signals it reads through a signalfd; a blocked mask
            // survives exec, so clear it.
            let mut empty: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut empty);
            libc::sigprocmask(libc::SIG_SETMASK, &empty, std::ptr::null_mut());
            Ok(())
        });
    }
    let child = command.spawn()?;
    Ok(child.id() as i32)
}
