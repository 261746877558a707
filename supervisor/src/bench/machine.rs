//! The machine the benchmark ran on, read from `/proc`.

use serde::Serialize;

/// Where and on what the benchmark ran.
#[derive(Debug, Clone, Serialize)]
pub struct Machine {
    /// `model name` from /proc/cpuinfo.
    pub cpu_model: String,
    /// CPUs this process may use.
    pub cpus: usize,
    /// Kernel release.
    pub kernel: String,
    /// Seconds since the Unix epoch at the start.
    pub unix_time: u64,
    /// /proc/loadavg at the start.
    pub loadavg: String,
}

impl Machine {
    /// Reads it from /proc.
    pub fn probe() -> Machine {
        let read = |p: &str| std::fs::read_to_string(p).unwrap_or_default();
        let cpu_model = read("/proc/cpuinfo")
            .lines()
            .find(|l| l.starts_with("model name"))
            .and_then(|l| l.split_once(':'))
            .map_or_else(|| "unknown".into(), |(_, v)| v.trim().to_owned());
        Machine {
            cpu_model,
            cpus: viba_common::config::cpus::available().len(),
            kernel: read("/proc/sys/kernel/osrelease").trim().to_owned(),
            unix_time: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
            loadavg: read("/proc/loadavg").trim().to_owned(),
        }
    }
}
