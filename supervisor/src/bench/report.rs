//! The results as text: one block per size, a table with one column per size, the targets
//! with PASS/MISS.

use super::metrics::Measurement;
use super::options::Size;
use super::pipeline::SizeResult;
use super::targets::TargetCheck;
use std::fmt::Write as _;

pub(super) fn fmt_opt(v: Option<f64>, digits: usize, unit: &str) -> String {
    match v {
        Some(x) => format!("{x:.digits$}{unit}"),
        None => "n/a".into(),
    }
}

/// A readable block for one size.
pub fn format_measurement(size: Size, m: &Measurement) -> String {
    let mut s = String::new();
    let mut line = |k: &str, v: String| {
        let _ = writeln!(s, "  {k:<34} {v}");
    };
    line("window", format!("{:.2} s", m.seconds));
    line(
        "output fps (new composites)",
        format!("{:.2} ({} frames)", m.output_fps, m.output_frames),
    );
    line("capture fps", format!("{:.2}", m.capture_fps));
    line("masks/s (segmenter)", format!("{:.2}", m.masks_per_s));
    line(
        "masks per output frame",
        fmt_opt(m.masks_per_output_frame, 3, ""),
    );
    line(
        "mean mask age",
        fmt_opt(m.mean_mask_age_frames, 2, " frames"),
    );
    line("background-only frames", m.background_only.to_string());
    line("repeated frames", m.repeats.to_string());
    line("latency p50", fmt_opt(m.latency_p50_ms, 1, " ms"));
    line("latency p99", fmt_opt(m.latency_p99_ms, 1, " ms"));
    line(
        "segmenter busy per mask",
        fmt_opt(m.segmenter_busy_ms_per_mask, 2, " ms"),
    );
    line(
        "compositor busy per frame (+wait)",
        fmt_opt(m.compositor_busy_ms_per_frame, 2, " ms"),
    );
    for c in &m.cpu {
        line(
            &format!("CPU {}", c.name),
            format!(
                "{} ({})",
                fmt_opt(c.ms_per_frame, 2, " ms/frame"),
                fmt_opt(c.percent, 1, "% of a CPU")
            ),
        );
    }
    line(
        "CPU total",
        fmt_opt(m.total_cpu_ms_per_frame, 2, " ms/frame"),
    );
    for r in &m.resident {
        line(&format!("resident {}", r.name), fmt_opt(r.mib, 1, " MiB"));
    }
    line("resident total", fmt_opt(m.total_resident_mib, 1, " MiB"));
    line(
        "other load on the machine",
        fmt_opt(m.other_load_cpus, 2, " CPUs"),
    );
    line("steal", fmt_opt(m.steal_cpus, 2, " CPUs"));
    for w in &m.warnings {
        line("WARNING", w.clone());
    }
    format!("{size}:\n{s}")
}

/// A table with one column per size.
pub fn format_summary(results: &[SizeResult]) -> String {
    type Row = (&'static str, fn(&Measurement) -> String);
    // `cpu` holds capture, segmenter, compositor, supervisor in that order.
    let rows: Vec<Row> = vec![
        ("output fps", |m| format!("{:.2}", m.output_fps)),
        ("capture fps", |m| format!("{:.2}", m.capture_fps)),
        ("masks/s", |m| format!("{:.2}", m.masks_per_s)),
        ("masks per output frame", |m| {
            fmt_opt(m.masks_per_output_frame, 3, "")
        }),
        ("mean mask age (frames)", |m| {
            fmt_opt(m.mean_mask_age_frames, 2, "")
        }),
        ("background-only frames", |m| m.background_only.to_string()),
        ("repeated frames", |m| m.repeats.to_string()),
        ("latency p50 (ms)", |m| fmt_opt(m.latency_p50_ms, 1, "")),
        ("latency p99 (ms)", |m| fmt_opt(m.latency_p99_ms, 1, "")),
        ("segmenter busy/mask (ms)", |m| {
            fmt_opt(m.segmenter_busy_ms_per_mask, 2, "")
        }),
        ("CPU capture (ms/frame)", |m| {
            fmt_opt(m.cpu[0].ms_per_frame, 2, "")
        }),
        ("CPU segmenter (ms/frame)", |m| {
            fmt_opt(m.cpu[1].ms_per_frame, 2, "")
        }),
        ("CPU compositor (ms/frame)", |m| {
            fmt_opt(m.cpu[2].ms_per_frame, 2, "")
        }),
        ("CPU supervisor (ms/frame)", |m| {
            fmt_opt(m.cpu[3].ms_per_frame, 2, "")
        }),
        ("CPU total (ms/frame)", |m| {
            fmt_opt(m.total_cpu_ms_per_frame, 2, "")
        }),
        ("resident total (MiB)", |m| {
            fmt_opt(m.total_resident_mib, 1, "")
        }),
        ("other load (CPUs)", |m| fmt_opt(m.other_load_cpus, 2, "")),
    ];
    let rows: Vec<(String, Cell)> = rows
        .into_iter()
        .map(|(name, f)| (name.to_owned(), Box::new(f) as Cell))
        .collect();
    table("metric", &rows, results)
}

/// How one row of a summary table reads a measurement.
pub(super) type Cell = Box<dyn Fn(&Measurement) -> String>;

/// A Markdown table: a row per `rows` entry, a column per size (`failed` where a size has no
/// measurement).
pub(super) fn table(title: &str, rows: &[(String, Cell)], results: &[SizeResult]) -> String {
    let headers: Vec<String> = results.iter().map(|r| r.size.to_string()).collect();
    let width = headers.iter().map(String::len).max().unwrap_or(0).max(9);
    let names = rows
        .iter()
        .map(|(n, _)| n.len())
        .chain([title.len()])
        .max()
        .unwrap_or(0)
        .max(26);
    let mut out = String::new();
    let _ = write!(out, "| {title:<names$} |");
    for h in &headers {
        let _ = write!(out, " {h:>width$} |");
    }
    out.push('\n');
    let _ = write!(out, "|{}|", "-".repeat(names + 2));
    for _ in &headers {
        let _ = write!(out, "{}:|", "-".repeat(width + 1));
    }
    out.push('\n');
    for (name, f) in rows {
        let _ = write!(out, "| {name:<names$} |");
        for r in results {
            let v = r.measurement.as_ref().map_or("failed".into(), f);
            let _ = write!(out, " {v:>width$} |");
        }
        out.push('\n');
    }
    out
}

/// The targets as lines with PASS/MISS.
pub fn format_targets(checks: &[TargetCheck]) -> String {
    let mut out = String::new();
    for c in checks {
        let verdict = match c.pass {
            Some(true) => "PASS",
            Some(false) => "MISS",
            None => "----",
        };
        let _ = writeln!(out, "  {verdict}  {:<46} {}", c.target, c.measured);
    }
    out
}
