//! A process as `/proc` shows it: the one parser of `/proc/<pid>/stat` and `/proc/<pid>/status`
//! (liveness for the rings' writer role, CPU time and memory for the benchmark, nice level and
//! CPU list for the tests).

/// The fields of `/proc/<pid>/stat` viba reads (`man 5 proc`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stat {
    /// Field 3: `R`, `S`, `D`, `Z` (zombie), `X` (dead), ...
    pub state: char,
    /// Fields 14 and 15: user plus system CPU time of all its threads, clock ticks.
    pub cpu_ticks: u64,
    /// Field 19: the nice level.
    pub nice: i64,
}

impl Stat {
    /// Whether the process runs or sleeps (a zombie or a dead one does not).
    pub fn alive(&self) -> bool {
        !matches!(self.state, 'Z' | 'X')
    }
}

/// Parses the text of `/proc/<pid>/stat`.
pub fn parse_stat(text: &str) -> Option<Stat> {
    // The command name (field 2) is in parentheses and may contain spaces or ')'.
    let rest = &text[text.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // `fields[0]` is field 3.
    let field = |n: usize| fields.get(n - 3).copied();
    let utime: u64 = field(14)?.parse().ok()?;
    let stime: u64 = field(15)?.parse().ok()?;
    Some(Stat {
        state: field(3)?.chars().next()?,
        cpu_ticks: utime + stime,
        nice: field(19)?.parse().ok()?,
    })
}

/// `/proc/<pid>/stat` of a process; `None` when there is no such process (or pid 0).
pub fn stat(pid: u32) -> Option<Stat> {
    if pid == 0 {
        return None;
    }
    parse_stat(&std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
}

/// Whether `pid` names a live (not zombie) process.
pub fn alive(pid: u32) -> bool {
    stat(pid).is_some_and(|s| s.alive())
}

/// The program name of a process (`/proc/<pid>/comm`: at most 15 bytes); `None` when there
/// is no such process.
pub fn comm(pid: u32) -> Option<String> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/comm")).ok()?;
    Some(text.trim_end_matches('\n').to_owned())
}

/// The value of one `Key:` line of the text of `/proc/<pid>/status`, trimmed.
pub fn status_field<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    text.lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(':'))
        .map(str::trim)
}

/// One `Key:` line of `/proc/<pid>/status` (e.g. `Cpus_allowed_list`); `None` when there is
/// no such process or line.
pub fn status(pid: u32, key: &str) -> Option<String> {
    if pid == 0 {
        return None;
    }
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status_field(&text, key).map(str::to_owned)
}

/// Resident memory (`VmRSS`, KiB) from the text of `/proc/<pid>/status`.
pub fn parse_vm_rss(text: &str) -> Option<u64> {
    status_field(text, "VmRSS")?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Resident memory of a process, KiB; `None` when it is gone.
pub fn rss_kib(pid: u32) -> Option<u64> {
    if pid == 0 {
        return None;
    }
    parse_vm_rss(&std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_and_status_are_parsed() {
        // A command name with a space and a parenthesis.
        let text = "4242 (viba seg) x) S 1 4242 4242 0 -1 4194560 2000 0 0 0 \
                    123 45 0 0 20 5 5 0 100 1000000 500 18446744073709551615";
        assert_eq!(
            parse_stat(text),
            Some(Stat {
                state: 'S',
                cpu_ticks: 168,
                nice: 5
            })
        );
        assert!(!parse_stat(&text.replace(") S ", ") Z ")).unwrap().alive());
        assert_eq!(parse_stat("1 (x) S 1 2"), None);
        let own = stat(std::process::id()).unwrap();
        assert!(own.alive());
        assert!(alive(std::process::id()));
        assert_eq!(stat(0), None);
        assert!(!alive(0));

        let text = "Name:\tviba-segmenter\nVmPeak:\t  90000 kB\nVmRSS:\t   51234 kB\nThreads:\t3\n";
        assert_eq!(parse_vm_rss(text), Some(51234));
        assert_eq!(status_field(text, "Threads"), Some("3"));
        assert_eq!(status_field(text, "Vm"), None);
        assert_eq!(parse_vm_rss("Name:\tx\n"), None);
        assert!(rss_kib(std::process::id()).is_some_and(|k| k > 0));
        assert_eq!(rss_kib(0), None);
        assert!(status(std::process::id(), "Cpus_allowed_list").is_some());
    }
}
