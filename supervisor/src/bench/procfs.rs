//! CPU time and resident memory read from `/proc`: per process (`/proc/<pid>/stat`,
//! `/proc/<pid>/status`) and for the whole machine (`/proc/stat`).

use viba_common::procfs;

/// CPU time of a process (all its threads) in clock ticks; `None` when it is gone.
pub fn process_ticks(pid: u32) -> Option<u64> {
    procfs::stat(pid).map(|s| s.cpu_ticks)
}

/// Resident memory of a process, KiB; `None` when it is gone.
pub fn process_rss_kib(pid: u32) -> Option<u64> {
    procfs::rss_kib(pid)
}

/// Context switches of a process, all its threads together (`voluntary_ctxt_switches` plus
/// `nonvoluntary_ctxt_switches` of each `/proc/<pid>/task/<tid>/status`): how often it went
/// to sleep or was put off the CPU, so about how often it woke. `None` when it is gone. Only
/// the threads alive now count: a thread that ended took its switches with it.
pub fn process_switches(pid: u32) -> Option<u64> {
    if pid == 0 {
        return None;
    }
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).ok()?;
    let mut sum = 0;
    for task in tasks.flatten() {
        // A thread that ended between the listing and the read adds nothing.
        if let Ok(text) = std::fs::read_to_string(task.path().join("status")) {
            sum += parse_switches(&text).unwrap_or(0);
        }
    }
    Some(sum)
}

/// Voluntary plus involuntary context switches from the text of a `status` file.
pub fn parse_switches(text: &str) -> Option<u64> {
    let field = |key| procfs::status_field(text, key)?.parse::<u64>().ok();
    Some(field("voluntary_ctxt_switches")? + field("nonvoluntary_ctxt_switches")?)
}

/// Whole-machine CPU time from `/proc/stat`, clock ticks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SystemTicks {
    /// Non-idle time of all CPUs.
    pub busy: u64,
    /// Time stolen by the hypervisor.
    pub steal: u64,
}

/// The `cpu` line of `/proc/stat`.
pub fn parse_system_stat(text: &str) -> Option<SystemTicks> {
    let line = text.lines().find(|l| l.starts_with("cpu "))?;
    let v: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .map(|f| f.parse().ok())
        .collect::<Option<_>>()?;
    // user nice system idle iowait irq softirq steal [guest guest_nice: already in user/nice]
    let get = |i: usize| v.get(i).copied().unwrap_or(0);
    Some(SystemTicks {
        busy: get(0) + get(1) + get(2) + get(5) + get(6),
        steal: get(7),
    })
}

pub(super) fn system_ticks() -> Option<SystemTicks> {
    parse_system_stat(&std::fs::read_to_string("/proc/stat").ok()?)
}

/// System clock ticks per second (`sysconf(_SC_CLK_TCK)`).
pub fn clock_ticks_per_second() -> f64 {
    // SAFETY: sysconf has no preconditions.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 {
        t as f64
    } else {
        100.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_stat_parsing() {
        // The parsing itself: viba_common::procfs.
        let own = process_ticks(std::process::id());
        assert!(own.is_some());
        assert_eq!(process_ticks(0), None);
        assert!(process_rss_kib(std::process::id()).is_some_and(|k| k > 0));
        assert_eq!(process_rss_kib(0), None);

        assert!(process_switches(std::process::id()).is_some_and(|n| n > 0));
        assert_eq!(process_switches(0), None);
        let status = "Name:\tx\nvoluntary_ctxt_switches:\t7\nnonvoluntary_ctxt_switches:\t3\n";
        assert_eq!(parse_switches(status), Some(10));
        assert_eq!(parse_switches("Name:\tx\n"), None);

        let sys = "cpu  10 2 30 1000 7 1 1 5 0 0\ncpu0 1 1 1 1 1 1 1 1 0 0\n";
        assert_eq!(
            parse_system_stat(sys),
            Some(SystemTicks { busy: 44, steal: 5 })
        );
    }
}
