//! CPU lists in `taskset -c` syntax: `"1"`, `"0,2"`, `"1-3"`, `"0,2-3"`.

/// Why a CPU list is not one; the words follow the key (`stages.capture.cpus: ...`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CpuListError {
    /// Nothing but spaces.
    #[error("empty cpu list (use e.g. \"0\", \"0,2\" or \"1-3\")")]
    Empty,
    /// A part that is not a number or a range of numbers.
    #[error("\"{list}\" is not a cpu list (use e.g. \"0\", \"0,2\" or \"1-3\")")]
    NotAList {
        /// The whole list, as written.
        list: String,
    },
    /// A range whose end is below its start.
    #[error("range {from}-{to} in \"{list}\" goes backwards")]
    Backwards {
        /// The whole list, as written.
        list: String,
        /// The range's start.
        from: usize,
        /// The range's end.
        to: usize,
    },
    /// A CPU number of 1024 or more.
    #[error("\"{list}\" names a cpu above 1023")]
    TooHigh {
        /// The whole list, as written.
        list: String,
    },
}

/// Parses a CPU list. Errors say what is wrong in a few words.
pub fn parse(list: &str) -> Result<Vec<usize>, CpuListError> {
    let mut cpus = Vec::new();
    if list.trim().is_empty() {
        return Err(CpuListError::Empty);
    }
    for part in list.split(',') {
        let part = part.trim();
        let number = |s: &str| -> Result<usize, CpuListError> {
            s.trim()
                .parse::<usize>()
                .map_err(|_| CpuListError::NotAList { list: list.into() })
        };
        match part.split_once('-') {
            Some((a, b)) => {
                let (a, b) = (number(a)?, number(b)?);
                if a > b {
                    return Err(CpuListError::Backwards {
                        list: list.into(),
                        from: a,
                        to: b,
                    });
                }
                if b >= 1024 {
                    return Err(CpuListError::TooHigh { list: list.into() });
                }
                cpus.extend(a..=b);
            }
            None => cpus.push(number(part)?),
        }
    }
    if cpus.iter().any(|&c| c >= 1024) {
        return Err(CpuListError::TooHigh { list: list.into() });
    }
    cpus.sort_unstable();
    cpus.dedup();
    Ok(cpus)
}

/// Formats a sorted CPU list compactly, as `/proc/PID/status` does (`0-2,5`).
pub fn format(cpus: &[usize]) -> String {
    let mut parts = Vec::new();
    let mut i = 0;
    while i < cpus.len() {
        let start = cpus[i];
        let mut end = start;
        while i + 1 < cpus.len() && cpus[i + 1] == end + 1 {
            i += 1;
            end = cpus[i];
        }
        parts.push(if start == end {
            start.to_string()
        } else {
            format!("{start}-{end}")
        });
        i += 1;
    }
    parts.join(",")
}

/// The CPUs this process may run on.
pub fn available() -> Vec<usize> {
    match nix::sched::sched_getaffinity(nix::unistd::Pid::from_raw(0)) {
        Ok(set) => (0..nix::sched::CpuSet::count())
            .filter(|&c| set.is_set(c).unwrap_or(false))
            .collect(),
        Err(_) => (0..std::thread::available_parallelism().map_or(1, |n| n.get())).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn taskset_syntax() {
        assert_eq!(parse("1"), Ok(vec![1]));
        assert_eq!(parse("0,2"), Ok(vec![0, 2]));
        assert_eq!(parse("1-3"), Ok(vec![1, 2, 3]));
        assert_eq!(parse("3,0-1,1"), Ok(vec![0, 1, 3]));
        for bad in ["", "a", "1-", "-1", "3-1", "1,,2", "0x1", "99999"] {
            assert!(parse(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn formats_like_proc_status() {
        assert_eq!(format(&[0, 1, 2, 5]), "0-2,5");
        assert_eq!(format(&[1]), "1");
        assert_eq!(format(&[0, 2]), "0,2");
    }
}
