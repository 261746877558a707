//! `viba-bench --idle DEVICE`: what the pipeline costs while no application has the fake
//! camera open. The output goes to a v4l2loopback device with `output.idle_when_unused`, and
//! nobody opens it, so the pipeline idles from its start: the numbers are each process's share
//! of a CPU and how often it wakes, over a window in which nothing was captured.

use super::metrics::Measurement;
use super::pipeline::SizeResult;
use super::report::{fmt_opt, table, Cell};
use super::targets::TargetCheck;
use std::sync::atomic::Ordering;
use viba_common::stage::Stage;
use viba_common::stats::{Stats, CONSUMERS_UNTRACKED};

/// The whole pipeline's CPU while idle, percent of one CPU.
pub const TARGET_IDLE_PERCENT: f64 = 0.2;

/// The start of the warning for a window in which the pipeline worked.
const DID_NOT_IDLE: &str = "the pipeline did not idle all the window";

/// The warning `measure` gives for a window without composites: expected here.
const NO_FRAMES: &str = "the compositor made no frames during the window";

/// Whether an idle run may start measuring: every stage is in its loop (its pid written), the
/// compositor has counted the fake camera's readers (the pipeline is created idle, so the
/// `idle` word alone says nothing before that count), and the pipeline idles.
pub(super) fn ready(stats: &Stats) -> bool {
    Stage::ALL
        .iter()
        .all(|&s| stats.stage(s).pid.load(Ordering::Relaxed) != 0)
        && stats.pipeline().consumers() != CONSUMERS_UNTRACKED
        && stats.pipeline().idle()
}

/// Adjusts the warnings of an idle window: no composites is what idling means; anything
/// captured, segmented or composited means the pipeline did not idle all the window.
pub(super) fn review(m: &mut Measurement) {
    m.warnings.retain(|w| w != NO_FRAMES);
    let captured = (m.capture_fps * m.seconds).round() as u64;
    let masks = (m.masks_per_s * m.seconds).round() as u64;
    if captured + masks + m.output_frames > 0 {
        m.warnings.push(format!(
            "{DID_NOT_IDLE}: {captured} frames captured, {masks} masks, {} composites",
            m.output_frames
        ));
    }
}

/// The idle target, one line per size.
pub(super) fn check_targets(results: &[SizeResult]) -> Vec<TargetCheck> {
    results
        .iter()
        .map(|r| {
            let m = r.measurement.as_ref();
            let idled = m.is_some_and(|m| m.warnings.iter().all(|w| !w.starts_with(DID_NOT_IDLE)));
            TargetCheck {
                target: format!(
                    "{} idle: whole pipeline <= {TARGET_IDLE_PERCENT} % of a CPU",
                    r.size
                ),
                measured: m.map_or("not run".into(), |m| {
                    format!(
                        "{}, {} wake-ups/s",
                        fmt_opt(m.total_cpu_percent, 3, " %"),
                        fmt_opt(m.total_wakeups_per_s, 1, "")
                    )
                }),
                pass: m
                    .and_then(|m| m.total_cpu_percent)
                    .map(|p| idled && p <= TARGET_IDLE_PERCENT),
            }
        })
        .collect()
}

/// A table with one column per size: each process's share of a CPU, wake-ups per second and
/// resident memory while idle.
pub fn format_summary(results: &[SizeResult]) -> String {
    let names = ["capture", "segmenter", "compositor", "supervisor"];
    type PerProcess = fn(&Measurement, usize) -> Option<f64>;
    type Total = fn(&Measurement) -> Option<f64>;
    // Per quantity: a row per process, then the total.
    let quantities: [(&str, &str, usize, PerProcess, Total); 3] = [
        (
            "CPU",
            " (% of a CPU)",
            3,
            |m, i| m.cpu.get(i).and_then(|c| c.percent),
            |m| m.total_cpu_percent,
        ),
        (
            "wake-ups/s",
            "",
            1,
            |m, i| m.cpu.get(i).and_then(|c| c.wakeups_per_s),
            |m| m.total_wakeups_per_s,
        ),
        (
            "resident",
            " (MiB)",
            1,
            |m, i| m.resident.get(i).and_then(|r| r.mib),
            |m| m.total_resident_mib,
        ),
    ];
    let mut rows: Vec<(String, Cell)> = Vec::new();
    for (what, unit, digits, each, total) in quantities {
        for (i, name) in names.iter().enumerate() {
            rows.push((
                format!("{what} {name}{unit}"),
                Box::new(move |m| fmt_opt(each(m, i), digits, "")),
            ));
        }
        rows.push((
            format!("{what} total{unit}"),
            Box::new(move |m| fmt_opt(total(m), digits, "")),
        ));
    }
    rows.push((
        "frames captured".into(),
        Box::new(|m| format!("{:.0}", m.capture_fps * m.seconds)),
    ));
    rows.push((
        "other load (CPUs)".into(),
        Box::new(|m| fmt_opt(m.other_load_cpus, 2, "")),
    ));
    table("idle, window of each size", &rows, results)
}
