//! `viba-bench --repeat N`: the same sizes measured N times (rounds interleaved, so that a slow
//! spell of a noisy machine falls on every size alike), and one [`Measurement`] per size made
//! of the medians of each number over the rounds that measured.

use super::{CpuUse, Measurement, Resident};

/// The median of `values` (the mean of the middle two for an even count); `None` when empty.
pub fn median(values: impl IntoIterator<Item = f64>) -> Option<f64> {
    let mut v: Vec<f64> = values.into_iter().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    })
}

/// The median over the values that are known.
fn median_opt<'a, T: 'a>(of: &'a [T], f: impl Fn(&T) -> Option<f64>) -> Option<f64> {
    median(of.iter().filter_map(f))
}

/// One measurement of the medians of `runs` (all of one size; at least one). Counts (frames,
/// repeats) are medians too, rounded; the per-process lists are taken process by process;
/// the warnings of every round are kept, each once.
pub fn of(runs: &[Measurement]) -> Option<Measurement> {
    let first = runs.first()?;
    let m = |f: fn(&Measurement) -> f64| median(runs.iter().map(f)).unwrap_or(0.0);
    let count = |f: fn(&Measurement) -> u64| m_count(runs, f);
    let cpu = (0..first.cpu.len())
        .map(|i| CpuUse {
            name: first.cpu[i].name.clone(),
            ms_per_frame: median_opt(runs, |r| r.cpu.get(i)?.ms_per_frame),
            percent: median_opt(runs, |r| r.cpu.get(i)?.percent),
            wakeups_per_s: median_opt(runs, |r| r.cpu.get(i)?.wakeups_per_s),
        })
        .collect();
    let resident = (0..first.resident.len())
        .map(|i| Resident {
            name: first.resident[i].name.clone(),
            mib: median_opt(runs, |r| r.resident.get(i)?.mib),
        })
        .collect();
    let mut warnings: Vec<String> = Vec::new();
    for w in runs.iter().flat_map(|r| &r.warnings) {
        if !warnings.contains(w) {
            warnings.push(w.clone());
        }
    }
    Some(Measurement {
        seconds: m(|r| r.seconds),
        output_frames: count(|r| r.output_frames),
        output_fps: m(|r| r.output_fps),
        capture_fps: m(|r| r.capture_fps),
        masks_per_s: m(|r| r.masks_per_s),
        masks_per_output_frame: median_opt(runs, |r| r.masks_per_output_frame),
        mean_mask_age_frames: median_opt(runs, |r| r.mean_mask_age_frames),
        background_only: count(|r| r.background_only),
        repeats: count(|r| r.repeats),
        latency_p50_ms: median_opt(runs, |r| r.latency_p50_ms),
        latency_p99_ms: median_opt(runs, |r| r.latency_p99_ms),
        segmenter_busy_ms_per_mask: median_opt(runs, |r| r.segmenter_busy_ms_per_mask),
        compositor_busy_ms_per_frame: median_opt(runs, |r| r.compositor_busy_ms_per_frame),
        cpu,
        total_cpu_ms_per_frame: median_opt(runs, |r| r.total_cpu_ms_per_frame),
        total_cpu_percent: median_opt(runs, |r| r.total_cpu_percent),
        total_wakeups_per_s: median_opt(runs, |r| r.total_wakeups_per_s),
        resident,
        total_resident_mib: median_opt(runs, |r| r.total_resident_mib),
        other_load_cpus: median_opt(runs, |r| r.other_load_cpus),
        steal_cpus: median_opt(runs, |r| r.steal_cpus),
        warnings,
    })
}

fn m_count(runs: &[Measurement], f: fn(&Measurement) -> u64) -> u64 {
    median(runs.iter().map(|r| f(r) as f64)).map_or(0, |v| v.round() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(total: Option<f64>, fps: f64, warning: &str) -> Measurement {
        Measurement {
            seconds: 10.0,
            output_frames: (fps * 10.0) as u64,
            output_fps: fps,
            capture_fps: fps,
            masks_per_s: fps,
            masks_per_output_frame: Some(1.0),
            mean_mask_age_frames: Some(0.0),
            background_only: 0,
            repeats: 0,
            latency_p50_ms: Some(5.0),
            latency_p99_ms: Some(7.0),
            segmenter_busy_ms_per_mask: Some(2.0),
            compositor_busy_ms_per_frame: Some(3.0),
            cpu: vec![CpuUse {
                name: "compositor".into(),
                ms_per_frame: total.map(|t| t / 2.0),
                percent: Some(5.0),
                wakeups_per_s: Some(30.0),
            }],
            total_cpu_ms_per_frame: total,
            total_cpu_percent: Some(5.0),
            total_wakeups_per_s: Some(30.0),
            resident: vec![Resident {
                name: "compositor".into(),
                mib: Some(fps),
            }],
            total_resident_mib: Some(fps),
            other_load_cpus: Some(0.0),
            steal_cpus: Some(0.0),
            warnings: vec![warning.into()],
        }
    }

    #[test]
    fn medians_of_odd_and_even_counts_and_of_nothing() {
        assert_eq!(median([3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median([4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(median([]), None);
        assert_eq!(median([f64::NAN, 1.0]), Some(1.0));
        assert!(of(&[]).is_none());
    }

    #[test]
    fn each_number_is_its_median_over_the_rounds() {
        let runs = [
            run(Some(5.0), 30.0, "a"),
            run(Some(9.0), 29.0, "b"),
            run(None, 28.0, "a"),
        ];
        let m = of(&runs).unwrap();
        assert_eq!(m.output_fps, 29.0);
        assert_eq!(m.output_frames, 290);
        // The unknown total is left out: the median of 5 and 9.
        assert_eq!(m.total_cpu_ms_per_frame, Some(7.0));
        assert_eq!(m.cpu[0].ms_per_frame, Some(3.5));
        assert_eq!(m.resident[0].mib, Some(29.0));
        assert_eq!(m.warnings, ["a", "b"]);
    }
}
