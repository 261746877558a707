//! The logic of `viba-bench`: runs the real pipeline (supervisor, worker processes, rings,
//! model) once per frame size, samples the shared-memory stats block and the workers'
//! `/proc/<pid>/stat` before and after a measuring window, and turns the deltas into numbers.
//!
//! Pure parts (parsing, delta maths, formatting, target checks) are separate from the parts
//! that start processes so they can be unit-tested.

pub mod idle;
mod machine;
pub mod median;
mod metrics;
pub mod mjpeg_clip;
mod options;
mod pipeline;
mod procfs;
mod report;
mod targets;
#[cfg(test)]
mod tests;

pub use machine::Machine;
pub use metrics::{measure, CpuUse, Measurement, Resident, Snapshot, StageSnapshot};
pub use options::{
    config_json, parse_sizes, repo_dir, InputKind, Options, Pace, Pinning, Provider, Size,
};
pub use pipeline::{
    run, run_size, shm_leftovers, tail, Report, SizeResult, START_TIMEOUT, STOP_TIMEOUT,
};
pub use procfs::{
    clock_ticks_per_second, parse_system_stat, process_rss_kib, process_ticks, SystemTicks,
};
pub use report::{format_measurement, format_summary, format_targets};
pub use targets::{
    check_targets, TargetCheck, SUSTAINED_SHARE, TARGET_CPU_1080P_MS, TARGET_CPU_480P_MS,
    TARGET_CPU_720P_MS, TARGET_FPS, TARGET_MJPEG_CAPTURE_MS, TARGET_MJPEG_TOTAL_MS, TARGET_P99_MS,
};
