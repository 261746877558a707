//! CPU time and resident memory read from `/proc`: per process (`/proc/<pid>/stat`,
//! `/proc/<pid>/status`) and for the whole machine (`/proc/stat`).

/// utime + stime (clock ticks) from the text of `/proc/<pid>/stat`.
pub fn parse_proc_stat(text: &str) -> Option<u64> {
    // The command name (field 2) is in parentheses and may contain spaces or ')'.
    let rest = &text[text.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // rest starts at field 3 (state); utime and stime are fields 14 and 15.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

/// CPU time of a process (all its threads) in clock ticks; `None` when it is gone.
pub fn process_ticks(pid: u32) -> Option<u64> {
    if pid == 0 {
        return None;
    }
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_proc_stat(&text)
}

/// Resident memory (`VmRSS`, KiB) from the text of `/proc/<pid>/status`.
pub fn parse_vm_rss(text: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with("VmRSS:"))?;
    line["VmRSS:".len()..]
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Resident memory of a process, KiB; `None` when it is gone.
pub fn process_rss_kib(pid: u32) -> Option<u64> {
    if pid == 0 {
        return None;
    }
    parse_vm_rss(&std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?)
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
        // A command name with a space and a parenthesis.
        let text = "4242 (viba seg) x) S 1 4242 4242 0 -1 4194560 2000 0 0 0 \
                    123 45 0 0 20 0 5 0 100 1000000 500 18446744073709551615";
        assert_eq!(parse_proc_stat(text), Some(168));
        assert_eq!(parse_proc_stat("1 (x) S 1 2"), None);
        let own = process_ticks(std::process::id());
        assert!(own.is_some());
        assert_eq!(process_ticks(0), None);

        let status =
            "Name:\tviba-segmenter\nVmPeak:\t  90000 kB\nVmRSS:\t   51234 kB\nThreads:\t3\n";
        assert_eq!(parse_vm_rss(status), Some(51234));
        assert_eq!(parse_vm_rss("Name:\tx\n"), None);
        assert!(process_rss_kib(std::process::id()).is_some_and(|k| k > 0));
        assert_eq!(process_rss_kib(0), None);

        let sys = "cpu  10 2 30 1000 7 1 1 5 0 0\ncpu0 1 1 1 1 1 1 1 1 0 0\n";
        assert_eq!(
            parse_system_stat(sys),
            Some(SystemTicks { busy: 44, steal: 5 })
        );
    }
}
