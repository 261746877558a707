//! The performance targets and their check against the results of a run.

use super::options::Size;
use super::pipeline::SizeResult;
use super::report::fmt_opt;
use serde::Serialize;

/// The frame rate the targets are about.
pub const TARGET_FPS: f64 = 30.0;
/// "Sustained" means at least this share of the target frame rate over the window.
pub const SUSTAINED_SHARE: f64 = 0.97;
/// p99 capture-to-output latency target.
pub const TARGET_P99_MS: f64 = 33.0;
/// CPU budget per 1280x720 output frame (all processes together).
pub const TARGET_CPU_720P_MS: f64 = 4.3;
/// CPU budget per 1920x1080 output frame.
pub const TARGET_CPU_1080P_MS: f64 = 8.0;

/// One target and whether it was met.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct TargetCheck {
    /// What is required.
    pub target: String,
    /// What was measured.
    pub measured: String,
    /// `None`: not measured in this run.
    pub pass: Option<bool>,
}

/// Checks the targets against the results.
pub fn check_targets(results: &[SizeResult]) -> Vec<TargetCheck> {
    let find = |w: u32, h: u32| {
        results
            .iter()
            .find(|r| {
                r.size
                    == Size {
                        width: w,
                        height: h,
                    }
            })
            .and_then(|r| r.measurement.as_ref())
    };
    let mut checks = Vec::new();
    for (name, w, h, cpu_limit) in [
        ("720p", 1280, 720, TARGET_CPU_720P_MS),
        ("1080p", 1920, 1080, TARGET_CPU_1080P_MS),
    ] {
        let m = find(w, h);
        let need = TARGET_FPS * SUSTAINED_SHARE;
        checks.push(TargetCheck {
            target: format!("{name}30 sustained (output >= {need:.1} fps)"),
            measured: m.map_or("not run".into(), |m| format!("{:.2} fps", m.output_fps)),
            pass: m.map(|m| m.output_fps >= need),
        });
        checks.push(TargetCheck {
            target: format!("{name} total CPU <= {cpu_limit} ms/frame"),
            measured: m.map_or("not run".into(), |m| {
                fmt_opt(m.total_cpu_ms_per_frame, 2, " ms/frame")
            }),
            pass: m.and_then(|m| m.total_cpu_ms_per_frame.map(|v| v <= cpu_limit)),
        });
    }
    for r in results {
        let Some(m) = &r.measurement else { continue };
        checks.push(TargetCheck {
            target: format!("{} p99 latency <= {TARGET_P99_MS} ms", r.size),
            measured: fmt_opt(m.latency_p99_ms, 1, " ms"),
            pass: m.latency_p99_ms.map(|v| v <= TARGET_P99_MS),
        });
    }
    checks
}
