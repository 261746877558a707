//! The performance targets and their check against the results of a run.

use super::metrics::Measurement;
use super::options::{InputKind, Size};
use super::pipeline::SizeResult;
use super::report::fmt_opt;
use serde::Serialize;

/// The frame rate the targets are about.
pub const TARGET_FPS: f64 = 30.0;
/// "Sustained" means at least this share of the target frame rate over the window.
pub const SUSTAINED_SHARE: f64 = 0.97;
/// p99 capture-to-output latency target.
pub const TARGET_P99_MS: f64 = 33.0;
/// CPU budget per 640x480 output frame (all processes together).
pub const TARGET_CPU_480P_MS: f64 = 3.1;
/// CPU budget per 1280x720 output frame.
pub const TARGET_CPU_720P_MS: f64 = 4.3;
/// CPU budget per 1920x1080 output frame.
pub const TARGET_CPU_1080P_MS: f64 = 8.0;
/// With an MJPEG camera (`--input mjpeg`): capture's CPU per frame, the decode included, and
/// the whole pipeline's, at 1280x720 and 1920x1080.
pub const TARGET_MJPEG_CAPTURE_MS: [f64; 2] = [3.0, 6.0];
/// See [`TARGET_MJPEG_CAPTURE_MS`].
pub const TARGET_MJPEG_TOTAL_MS: [f64; 2] = [7.3, 14.0];

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

/// Checks the targets against the results of a run whose frames came from `input`: with
/// a still picture (or the test pattern) the CPU budgets of 640x480, 720p and 1080p; with
/// MJPEG frames those of capture (the decode) and of the whole pipeline at 720p and 1080p.
pub fn check_targets(results: &[SizeResult], input: InputKind) -> Vec<TargetCheck> {
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
    let capture_ms = |m: &Measurement| {
        m.cpu
            .iter()
            .find(|c| c.name == "capture")
            .and_then(|c| c.ms_per_frame)
    };
    let mut checks = Vec::new();
    let sizes: &[(&str, u32, u32, usize)] = match input {
        InputKind::Mjpeg => &[("720p", 1280, 720, 0), ("1080p", 1920, 1080, 1)],
        _ => &[
            ("640x480", 640, 480, 0),
            ("720p", 1280, 720, 1),
            ("1080p", 1920, 1080, 2),
        ],
    };
    for &(name, w, h, i) in sizes {
        let m = find(w, h);
        let need = TARGET_FPS * SUSTAINED_SHARE;
        checks.push(TargetCheck {
            target: format!("{name} at 30 fps sustained (output >= {need:.1} fps)"),
            measured: m.map_or("not run".into(), |m| format!("{:.2} fps", m.output_fps)),
            pass: m.map(|m| m.output_fps >= need),
        });
        let cpu_limit = match input {
            InputKind::Mjpeg => {
                let limit = TARGET_MJPEG_CAPTURE_MS[i];
                checks.push(TargetCheck {
                    target: format!("{name} MJPEG capture (decode included) <= {limit} ms/frame"),
                    measured: m
                        .map_or("not run".into(), |m| fmt_opt(capture_ms(m), 2, " ms/frame")),
                    pass: m.and_then(|m| capture_ms(m).map(|v| v <= limit)),
                });
                TARGET_MJPEG_TOTAL_MS[i]
            }
            _ => [TARGET_CPU_480P_MS, TARGET_CPU_720P_MS, TARGET_CPU_1080P_MS][i],
        };
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
