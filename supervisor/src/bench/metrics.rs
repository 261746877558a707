//! Snapshots of the stats block and `/proc` at one moment, the numbers two of them make
//! ([`Measurement`]), and the medians of several rounds.

use super::median;
use super::pipeline::SizeResult;
use super::procfs::{process_rss_kib, process_switches, process_ticks, system_ticks, SystemTicks};
use serde::Serialize;
use std::sync::atomic::Ordering;
use std::time::Instant;
use viba_common::stage::Stage;
use viba_common::stats::{quantile_ns, StageStats, Stats};

/// The counters of one stage at one moment.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StageSnapshot {
    /// Process running the stage (0: none).
    pub pid: u32,
    /// Its CPU time, clock ticks.
    pub ticks: Option<u64>,
    /// Its resident memory, KiB.
    pub rss_kib: Option<u64>,
    /// Its context switches, all threads.
    pub switches: Option<u64>,
    /// Items produced.
    pub frames: u64,
    /// Busy time, ns.
    pub busy_ns: u64,
    /// Compositor: composites with a new mask.
    pub fresh_masks: u64,
    /// Compositor: composites showing the background alone.
    pub background_only: u64,
    /// Compositor: sum of mask ages in frames.
    pub mask_age_frames_sum: u64,
    /// Compositor: repeated composites.
    pub repeats: u64,
    /// Latency histogram.
    pub hist: Vec<u32>,
}

impl StageSnapshot {
    /// Reads a stage block and the process's CPU time.
    pub fn read(s: &StageStats) -> StageSnapshot {
        let pid = s.pid.load(Ordering::Relaxed);
        StageSnapshot {
            pid,
            ticks: process_ticks(pid),
            rss_kib: process_rss_kib(pid),
            switches: process_switches(pid),
            frames: s.frames.load(Ordering::Relaxed),
            busy_ns: s.busy_ns.load(Ordering::Relaxed),
            fresh_masks: s.fresh_masks.load(Ordering::Relaxed),
            background_only: s.background_only.load(Ordering::Relaxed),
            mask_age_frames_sum: s.mask_age_frames_sum.load(Ordering::Relaxed),
            repeats: s.repeats.load(Ordering::Relaxed),
            hist: s.histogram(),
        }
    }
}

/// Everything sampled at one moment.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Snapshot {
    /// When, as seconds from an arbitrary origin.
    pub at_s: f64,
    /// capture, segmenter, compositor.
    pub stages: [StageSnapshot; 3],
    /// The supervisor's CPU time, ticks.
    pub supervisor_ticks: Option<u64>,
    /// The supervisor's resident memory, KiB.
    pub supervisor_rss_kib: Option<u64>,
    /// The supervisor's context switches.
    pub supervisor_switches: Option<u64>,
    /// viba-bench's own CPU time, ticks.
    pub bench_ticks: Option<u64>,
    /// The whole machine.
    pub system: Option<SystemTicks>,
}

impl Snapshot {
    /// Samples the stats block and `/proc`.
    pub fn take(stats: &Stats, supervisor_pid: u32, origin: Instant) -> Snapshot {
        let stages = Stage::ALL.map(|s| StageSnapshot::read(stats.stage(s)));
        Snapshot {
            at_s: origin.elapsed().as_secs_f64(),
            stages,
            supervisor_ticks: process_ticks(supervisor_pid),
            supervisor_rss_kib: process_rss_kib(supervisor_pid),
            supervisor_switches: process_switches(supervisor_pid),
            bench_ticks: process_ticks(std::process::id()),
            system: system_ticks(),
        }
    }

    fn stage(&self, stage: Stage) -> &StageSnapshot {
        &self.stages[stage as usize]
    }
}

/// CPU time of one process over the window.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CpuUse {
    /// Who.
    pub name: String,
    /// Milliseconds of CPU per output frame; `None` when unknown (process gone or restarted).
    pub ms_per_frame: Option<f64>,
    /// Share of one CPU over the window, percent.
    pub percent: Option<f64>,
    /// Context switches per second over the window (about how often it woke).
    pub wakeups_per_s: Option<f64>,
}

/// Resident memory of one process at the end of the window.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Resident {
    /// Who.
    pub name: String,
    /// `VmRSS`, MiB; `None` when unreadable.
    pub mib: Option<f64>,
}

/// The numbers of one size.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Measurement {
    /// Window length, seconds.
    pub seconds: f64,
    /// Composites made (new frames; repeats not included).
    pub output_frames: u64,
    /// Composites per second.
    pub output_fps: f64,
    /// Frames captured per second.
    pub capture_fps: f64,
    /// Masks computed per second.
    pub masks_per_s: f64,
    /// Composites that used a mask newer than the previous composite's, per composite.
    pub masks_per_output_frame: Option<f64>,
    /// Mean of (frame seq - mask's frame seq) over composites that showed the person.
    pub mean_mask_age_frames: Option<f64>,
    /// Composites showing the background alone.
    pub background_only: u64,
    /// Composites sent again because no new frame came in time.
    pub repeats: u64,
    /// Capture-to-output latency, median, ms (upper edge of a 0.1 ms bucket).
    pub latency_p50_ms: Option<f64>,
    /// Capture-to-output latency, 99th percentile, ms.
    pub latency_p99_ms: Option<f64>,
    /// Segmenter busy time per mask (preprocess + inference + publish), ms.
    pub segmenter_busy_ms_per_mask: Option<f64>,
    /// Compositor busy time per composite (including its wait for the frame's mask), ms.
    pub compositor_busy_ms_per_frame: Option<f64>,
    /// capture, segmenter, compositor, supervisor.
    pub cpu: Vec<CpuUse>,
    /// Sum of `cpu`, ms per output frame; `None` when any part is unknown.
    pub total_cpu_ms_per_frame: Option<f64>,
    /// Sum of `cpu`, percent of one CPU; `None` when any part is unknown.
    pub total_cpu_percent: Option<f64>,
    /// Sum of `cpu`, context switches per second; `None` when any part is unknown.
    pub total_wakeups_per_s: Option<f64>,
    /// capture, segmenter, compositor, supervisor: resident memory at the end of the window.
    pub resident: Vec<Resident>,
    /// Sum of `resident`, MiB; `None` when any part is unknown. (Pages shared between the
    /// processes, the rings and libraries, count once per process.)
    pub total_resident_mib: Option<f64>,
    /// CPU used on the machine by everything else (other processes, kernel), in CPUs.
    pub other_load_cpus: Option<f64>,
    /// Hypervisor steal, in CPUs.
    pub steal_cpus: Option<f64>,
    /// Something that makes the numbers less trustworthy.
    pub warnings: Vec<String>,
}

fn ratio(num: f64, den: u64) -> Option<f64> {
    (den > 0).then(|| num / den as f64)
}

/// Turns two snapshots into numbers. `ticks_per_s` is `sysconf(_SC_CLK_TCK)`.
pub fn measure(a: &Snapshot, b: &Snapshot, ticks_per_s: f64) -> Measurement {
    let seconds = (b.at_s - a.at_s).max(1e-9);
    let d = |s: Stage, f: fn(&StageSnapshot) -> u64| f(b.stage(s)).saturating_sub(f(a.stage(s)));
    let comp = Stage::Compositor;
    let frames = d(comp, |s| s.frames);
    let masks = d(Stage::Segmenter, |s| s.frames);
    let captured = d(Stage::Capture, |s| s.frames);
    let background_only = d(comp, |s| s.background_only);
    let shown = frames.saturating_sub(background_only);
    let hist: Vec<u32> = b
        .stage(comp)
        .hist
        .iter()
        .zip(a.stage(comp).hist.iter().chain(std::iter::repeat(&0)))
        .map(|(&x, &y)| x.wrapping_sub(y))
        .collect();
    let ms = |ns: Option<u64>| ns.map(|n| n as f64 / 1e6);
    let mut warnings = Vec::new();
    let tick_ms = |t: u64| t as f64 * 1000.0 / ticks_per_s;

    let mut cpu = Vec::new();
    let mut total = Some(0.0);
    let mut ours_ticks = Some(0u64);
    for s in Stage::ALL {
        let (sa, sb) = (a.stage(s), b.stage(s));
        let ticks = match (sa.ticks, sb.ticks) {
            (Some(x), Some(y)) if sa.pid == sb.pid && sa.pid != 0 => Some(y.saturating_sub(x)),
            _ => {
                warnings.push(if sa.pid != sb.pid {
                    format!(
                        "{s} changed pid during the window ({} -> {})",
                        sa.pid, sb.pid
                    )
                } else {
                    format!("{s} CPU time unreadable (pid {})", sb.pid)
                });
                None
            }
        };
        let switches = sa
            .switches
            .zip(sb.switches)
            .filter(|_| sa.pid == sb.pid)
            .map(|(x, y)| y.saturating_sub(x));
        cpu.push((s.name().to_owned(), ticks, switches));
    }
    let sup = match (a.supervisor_ticks, b.supervisor_ticks) {
        (Some(x), Some(y)) => Some(y.saturating_sub(x)),
        _ => {
            warnings.push("supervisor CPU time unreadable".into());
            None
        }
    };
    let sup_switches = a
        .supervisor_switches
        .zip(b.supervisor_switches)
        .map(|(x, y)| y.saturating_sub(x));
    cpu.push(("supervisor".to_owned(), sup, sup_switches));
    let cpu: Vec<CpuUse> = cpu
        .into_iter()
        .map(|(name, ticks, switches)| {
            let per_frame = ticks.and_then(|t| ratio(tick_ms(t), frames));
            total = match (total, per_frame) {
                (Some(sum), Some(v)) => Some(sum + v),
                _ => None,
            };
            ours_ticks = ours_ticks.zip(ticks).map(|(x, y)| x + y);
            CpuUse {
                name,
                ms_per_frame: per_frame,
                percent: ticks.map(|t| tick_ms(t) / 10.0 / seconds),
                wakeups_per_s: switches.map(|n| n as f64 / seconds),
            }
        })
        .collect();
    if frames == 0 {
        warnings.push("the compositor made no frames during the window".into());
    }
    let bench = b.bench_ticks.zip(a.bench_ticks).map(|(y, x)| y - x);
    let (other_load_cpus, steal_cpus) = match (a.system, b.system) {
        (Some(x), Some(y)) => {
            let busy = y.busy.saturating_sub(x.busy);
            let other = ours_ticks
                .zip(bench)
                .map(|(o, be)| busy.saturating_sub(o + be) as f64 / ticks_per_s / seconds);
            (
                other,
                Some(y.steal.saturating_sub(x.steal) as f64 / ticks_per_s / seconds),
            )
        }
        _ => (None, None),
    };
    let total_cpu_percent = cpu.iter().map(|c| c.percent).sum();
    let total_wakeups_per_s = cpu.iter().map(|c| c.wakeups_per_s).sum();
    let mib = |kib: Option<u64>| kib.map(|k| k as f64 / 1024.0);
    let resident: Vec<Resident> = Stage::ALL
        .iter()
        .map(|&s| (s.name(), b.stage(s).rss_kib))
        .chain([("supervisor", b.supervisor_rss_kib)])
        .map(|(name, kib)| Resident {
            name: name.to_owned(),
            mib: mib(kib),
        })
        .collect();
    let total_resident_mib = resident.iter().map(|r| r.mib).sum::<Option<f64>>();
    Measurement {
        seconds,
        output_frames: frames,
        output_fps: frames as f64 / seconds,
        capture_fps: captured as f64 / seconds,
        masks_per_s: masks as f64 / seconds,
        masks_per_output_frame: ratio(d(comp, |s| s.fresh_masks) as f64, frames),
        mean_mask_age_frames: ratio(d(comp, |s| s.mask_age_frames_sum) as f64, shown),
        background_only,
        repeats: d(comp, |s| s.repeats),
        latency_p50_ms: ms(quantile_ns(&hist, 0.5)),
        latency_p99_ms: ms(quantile_ns(&hist, 0.99)),
        segmenter_busy_ms_per_mask: ratio(d(Stage::Segmenter, |s| s.busy_ns) as f64 / 1e6, masks),
        compositor_busy_ms_per_frame: ratio(d(comp, |s| s.busy_ns) as f64 / 1e6, frames),
        cpu,
        total_cpu_ms_per_frame: total.filter(|_| frames > 0),
        total_cpu_percent,
        total_wakeups_per_s,
        resident,
        total_resident_mib,
        other_load_cpus,
        steal_cpus,
        warnings,
    }
}

/// One size's rounds as one result: the medians of the rounds that measured; the errors of
/// those that failed (so a failed round still fails the run); the leftovers of all.
pub(super) fn medians<'a>(rounds: impl Iterator<Item = &'a SizeResult>) -> SizeResult {
    let rounds: Vec<&SizeResult> = rounds.collect();
    let measured: Vec<Measurement> = rounds
        .iter()
        .filter_map(|r| r.measurement.clone())
        .collect();
    let errors: Vec<String> = rounds
        .iter()
        .enumerate()
        .filter_map(|(i, r)| Some(format!("round {}: {}", i + 1, r.error.as_ref()?)))
        .collect();
    let mut leftover_shm: Vec<String> = rounds
        .iter()
        .flat_map(|r| r.leftover_shm.iter().cloned())
        .collect();
    leftover_shm.dedup();
    SizeResult {
        size: rounds[0].size,
        measurement: median::of(&measured),
        error: (!errors.is_empty()).then(|| errors.join("; ")),
        leftover_shm,
        supervisor_exit: rounds.last().and_then(|r| r.supervisor_exit.clone()),
    }
}
