//! The logic of `viba-bench`: runs the real pipeline (supervisor, worker processes, rings,
//! model) once per frame size, samples the shared-memory stats block and the workers'
//! `/proc/<pid>/stat` before and after a measuring window, and turns the deltas into numbers.
//!
//! Pure parts (parsing, delta maths, formatting, target checks) are separate from the parts
//! that start processes so they can be unit-tested.

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use serde::Serialize;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::str::FromStr;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use viba_common::stats::{quantile_ns, Stage, StageStats, Stats};

pub mod median;
pub mod mjpeg_clip;

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
/// How long to wait for the pipeline to produce its first composite.
pub const START_TIMEOUT: Duration = Duration::from_secs(30);
/// How long the supervisor gets to stop after SIGTERM before it is killed.
pub const STOP_TIMEOUT: Duration = Duration::from_secs(10);

/// A frame size, `WIDTHxHEIGHT`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Size {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
}

impl FromStr for Size {
    type Err = String;

    fn from_str(s: &str) -> Result<Size, String> {
        let bad = || format!("\"{s}\" is not a size (use WIDTHxHEIGHT, e.g. 1280x720)");
        let (w, h) = s.trim().split_once(['x', 'X']).ok_or_else(bad)?;
        let width: u32 = w.trim().parse().map_err(|_| bad())?;
        let height: u32 = h.trim().parse().map_err(|_| bad())?;
        for v in [width, height] {
            if v == 0 || v % 2 != 0 || v > 4096 {
                return Err(format!(
                    "\"{s}\": {v} must be an even number of pixels from 2 to 4096"
                ));
            }
        }
        Ok(Size { width, height })
    }
}

impl std::fmt::Display for Size {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}x{}", self.width, self.height)
    }
}

/// Parses a comma-separated list of sizes.
pub fn parse_sizes(list: &str) -> Result<Vec<Size>, String> {
    let sizes = list
        .split(',')
        .filter(|s| !s.trim().is_empty())
        .map(Size::from_str)
        .collect::<Result<Vec<_>, _>>()?;
    if sizes.is_empty() {
        return Err("no sizes given (use e.g. 640x480,1280x720)".into());
    }
    Ok(sizes)
}

/// How fast the capture stage delivers frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Pace {
    /// At `--fps`, like a camera.
    Realtime,
    /// As fast as possible (throughput).
    Fast,
}

/// The frame source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum InputKind {
    /// `testdata/astronaut.png`, slowly moving (a real person for the model).
    Image,
    /// The generated test pattern.
    Synthetic,
    /// The moving image as an MJPEG webcam would send it (JPEG 4:2:2, quality 90), decoded
    /// by the camera source's decoder: capture's figure includes the decode.
    Mjpeg,
}

/// Where the segmenter runs the model (`segmentation.execution_provider`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    /// ONNX Runtime's CPU provider.
    Cpu,
    /// ONNX Runtime's CUDA provider (the GPU runtime from `VIBA_ORT=gpu scripts/setup.sh`).
    Cuda,
}

/// CPU lists (taskset syntax) per stage; `None` = not pinned.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Pinning {
    /// viba-capture.
    pub capture: Option<String>,
    /// viba-segmenter.
    pub segmenter: Option<String>,
    /// viba-compositor.
    pub compositor: Option<String>,
}

impl Pinning {
    /// capture and compositor on CPU 0, segmenter on CPU 1, when there are at least two CPUs;
    /// nothing pinned otherwise.
    pub fn defaults(cpus: usize) -> Pinning {
        if cpus >= 2 {
            Pinning {
                capture: Some("0".into()),
                segmenter: Some("1".into()),
                compositor: Some("0".into()),
            }
        } else {
            Pinning::default()
        }
    }

    fn slot(&mut self, stage: Stage) -> &mut Option<String> {
        match stage {
            Stage::Capture => &mut self.capture,
            Stage::Segmenter => &mut self.segmenter,
            Stage::Compositor => &mut self.compositor,
        }
    }

    /// The list of one stage.
    pub fn get(&self, stage: Stage) -> Option<&str> {
        match stage {
            Stage::Capture => self.capture.as_deref(),
            Stage::Segmenter => self.segmenter.as_deref(),
            Stage::Compositor => self.compositor.as_deref(),
        }
        .filter(|s| !s.is_empty())
    }

    /// Applies `capture=0,segmenter=1-3,compositor=0,2` on top of `self`: a part without `=`
    /// continues the previous stage's CPU list; `STAGE=none` unpins a stage; `none` alone
    /// unpins all. Stages not named keep their value.
    pub fn apply(&mut self, spec: &str) -> Result<(), String> {
        if spec.trim() == "none" {
            *self = Pinning::default();
            return Ok(());
        }
        let mut current: Option<Stage> = None;
        for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            match part.split_once('=') {
                Some((name, list)) => {
                    let stage = Stage::parse(name.trim()).ok_or_else(|| {
                        format!(
                            "--cpus: unknown stage \"{name}\" (use capture, segmenter or compositor)"
                        )
                    })?;
                    let list = list.trim();
                    *self.slot(stage) = if list == "none" {
                        None
                    } else {
                        viba_common::config::cpus::parse(list)
                            .map_err(|e| format!("--cpus {name}: {e}"))?;
                        Some(list.to_owned())
                    };
                    current = Some(stage);
                }
                None => {
                    let stage = current.ok_or_else(|| {
                        format!("--cpus: \"{part}\" names no stage (use e.g. capture=0,segmenter=1,compositor=0)")
                    })?;
                    let slot = self.slot(stage);
                    let joined = match slot.take() {
                        Some(prev) => format!("{prev},{part}"),
                        None => part.to_owned(),
                    };
                    viba_common::config::cpus::parse(&joined)
                        .map_err(|e| format!("--cpus {}: {e}", stage.name()))?;
                    *slot = Some(joined);
                }
            }
        }
        Ok(())
    }

    /// `capture=0 segmenter=1 compositor=0` (or `unpinned`).
    pub fn describe(&self) -> String {
        let parts: Vec<String> = Stage::ALL
            .into_iter()
            .filter_map(|s| self.get(s).map(|l| format!("{}={l}", s.name())))
            .collect();
        if parts.is_empty() {
            "unpinned".into()
        } else {
            parts.join(" ")
        }
    }
}

/// Everything one benchmark run needs.
#[derive(Debug, Clone, Serialize)]
pub struct Options {
    /// Frame sizes, one pipeline run each.
    pub sizes: Vec<Size>,
    /// Measuring window, seconds.
    pub seconds: f64,
    /// Warm-up after the first composite, seconds.
    pub warmup: f64,
    /// Capture frame rate.
    pub fps: u32,
    /// Capture pacing.
    pub pace: Pace,
    /// ONNX model.
    pub model: PathBuf,
    /// Execution provider of the segmenter.
    pub provider: Provider,
    /// Frame source.
    pub input: InputKind,
    /// Picture for `InputKind::Image`.
    pub image: PathBuf,
    /// Background picture.
    pub background: PathBuf,
    /// CPU pinning of the workers.
    pub pinning: Pinning,
    /// The `viba-supervisor` executable.
    pub supervisor: PathBuf,
    /// Merged into each run's config (e.g. `{"background":{"blur":12}}`).
    pub patch: serde_json::Value,
    /// Rounds: every size is measured this many times (rounds interleaved) and reported as
    /// the medians.
    pub repeat: usize,
}

/// The repository the binaries were built from (`supervisor/..`).
pub fn repo_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The `viba.json` of one run.
///
/// `dir` is the run's folder: `InputKind::Mjpeg` reads `dir/input.mjpeg` ([`mjpeg_clip`]).
pub fn config_json(options: &Options, size: Size, instance: &str, dir: &Path) -> serde_json::Value {
    let input = match options.input {
        InputKind::Image => serde_json::json!({
            "source": "image",
            "path": options.image,
            "motion": true,
        }),
        InputKind::Synthetic => serde_json::json!({ "source": "synthetic" }),
        InputKind::Mjpeg => serde_json::json!({
            "source": "video",
            "path": mjpeg_path(dir),
            "loop": true,
        }),
    };
    let mut input = input;
    let fields = input.as_object_mut().expect("object");
    fields.insert("width".into(), size.width.into());
    fields.insert("height".into(), size.height.into());
    fields.insert("fps".into(), options.fps.into());
    fields.insert(
        "pace".into(),
        serde_json::to_value(options.pace).expect("enum"),
    );
    let stage = |s: Stage| match options.pinning.get(s) {
        Some(list) => serde_json::json!({ "cpus": list }),
        None => serde_json::json!({}),
    };
    let mut config = serde_json::json!({
        "instance": instance,
        "input": input,
        "output": { "sink": "null" },
        "background": { "image": options.background },
        "segmentation": {
            "model": options.model,
            "execution_provider": serde_json::to_value(options.provider).expect("enum"),
        },
        "stages": {
            "capture": stage(Stage::Capture),
            "segmenter": stage(Stage::Segmenter),
            "compositor": stage(Stage::Compositor),
        },
    });
    crate::json_patch::merge(&mut config, &options.patch);
    config
}

/// The MJPEG clip of a run whose folder is `dir`.
fn mjpeg_path(dir: &Path) -> PathBuf {
    dir.join("input.mjpeg")
}

/// utime + stime (clock ticks) from the text of `/proc/<pid>/stat`.
pub fn parse_proc_stat(text: &str) -> Option<u64> {
    // The command name (field 2) is in parentheses and may contain spaces or ')'.
    let rest = &text[text.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // rest starts at field 3 (state); utime and stime are fields 14 and 15.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

/// CPU time of a process (all its threads) in clock ticks; `None` when it is gone.
pub fn process_ticks(pid: u32) -> Option<u64> {
    if pid == 0 {
        return None;
    }
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_proc_stat(&text)
}

/// Resident memory (`VmRSS`, KiB) from the text of `/proc/<pid>/status`.
pub fn parse_vm_rss(text: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with("VmRSS:"))?;
    line["VmRSS:".len()..]
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Resident memory of a process, KiB; `None` when it is gone.
pub fn process_rss_kib(pid: u32) -> Option<u64> {
    if pid == 0 {
        return None;
    }
    parse_vm_rss(&std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?)
}

/// Whole-machine CPU time from `/proc/stat`, clock ticks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SystemTicks {
    /// Non-idle time of all CPUs.
    pub busy: u64,
    /// Time stolen by the hypervisor.
    pub steal: u64,
}

/// The `cpu` line of `/proc/stat`.
pub fn parse_system_stat(text: &str) -> Option<SystemTicks> {
    let line = text.lines().find(|l| l.starts_with("cpu "))?;
    let v: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .map(|f| f.parse().ok())
        .collect::<Option<_>>()?;
    // user nice system idle iowait irq softirq steal [guest guest_nice: already in user/nice]
    let get = |i: usize| v.get(i).copied().unwrap_or(0);
    Some(SystemTicks {
        busy: get(0) + get(1) + get(2) + get(5) + get(6),
        steal: get(7),
    })
}

fn system_ticks() -> Option<SystemTicks> {
    parse_system_stat(&std::fs::read_to_string("/proc/stat").ok()?)
}

/// System clock ticks per second (`sysconf(_SC_CLK_TCK)`).
pub fn clock_ticks_per_second() -> f64 {
    // SAFETY: sysconf has no preconditions.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 {
        t as f64
    } else {
        100.0
    }
}

/// The counters of one stage at one moment.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StageSnapshot {
    /// Process running the stage (0: none).
    pub pid: u32,
    /// Its CPU time, clock ticks.
    pub ticks: Option<u64>,
    /// Its resident memory, KiB.
    pub rss_kib: Option<u64>,
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
        cpu.push((s.name().to_owned(), ticks));
    }
    let sup = match (a.supervisor_ticks, b.supervisor_ticks) {
        (Some(x), Some(y)) => Some(y.saturating_sub(x)),
        _ => {
            warnings.push("supervisor CPU time unreadable".into());
            None
        }
    };
    cpu.push(("supervisor".to_owned(), sup));
    let cpu: Vec<CpuUse> = cpu
        .into_iter()
        .map(|(name, ticks)| {
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
        resident,
        total_resident_mib,
        other_load_cpus,
        steal_cpus,
        warnings,
    }
}

/// The outcome of one size.
#[derive(Debug, Clone, Serialize)]
pub struct SizeResult {
    /// The frame size.
    pub size: Size,
    /// Its numbers, when the run got that far.
    pub measurement: Option<Measurement>,
    /// Why it failed, if it did.
    pub error: Option<String>,
    /// Shared-memory segments of the instance still present after the supervisor stopped.
    pub leftover_shm: Vec<String>,
    /// The supervisor's exit status after SIGTERM.
    pub supervisor_exit: Option<String>,
}

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

fn fmt_opt(v: Option<f64>, digits: usize, unit: &str) -> String {
    match v {
        Some(x) => format!("{x:.digits$}{unit}"),
        None => "n/a".into(),
    }
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
    let headers: Vec<String> = results.iter().map(|r| r.size.to_string()).collect();
    let width = headers.iter().map(String::len).max().unwrap_or(0).max(9);
    let mut out = String::new();
    let _ = write!(out, "| {:<26} |", "metric");
    for h in &headers {
        let _ = write!(out, " {h:>width$} |");
    }
    out.push('\n');
    let _ = write!(out, "|{}|", "-".repeat(28));
    for _ in &headers {
        let _ = write!(out, "{}:|", "-".repeat(width + 1));
    }
    out.push('\n');
    for (name, f) in rows {
        let _ = write!(out, "| {name:<26} |");
        for r in results {
            let v = match &r.measurement {
                Some(m) => f(m),
                None => "failed".into(),
            };
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

/// The whole report, as printed in JSON.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The machine.
    pub machine: Machine,
    /// `sysconf(_SC_CLK_TCK)`.
    pub clock_ticks_per_s: f64,
    /// The options used.
    pub options: Options,
    /// One per size (with `repeat` above 1: the medians of its rounds).
    pub results: Vec<SizeResult>,
    /// With `repeat` above 1: every round's result, round by round.
    pub rounds: Vec<Vec<SizeResult>>,
    /// The targets.
    pub targets: Vec<TargetCheck>,
}

/// The last `lines` lines of a file.
pub fn tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// Shared-memory segments of an instance present in /dev/shm.
pub fn shm_leftovers(instance: &str) -> Vec<String> {
    let prefix = viba_common::names::segment_prefix(instance);
    let mut found: Vec<String> = std::fs::read_dir("/dev/shm")
        .map(|dir| {
            dir.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with(&prefix))
                .collect()
        })
        .unwrap_or_default();
    found.sort();
    found
}

/// A started supervisor, stopped (and its log kept) on drop if not stopped before.
struct Pipeline {
    child: Child,
    stopped: bool,
}

impl Pipeline {
    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The exit status if it has ended.
    fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// SIGTERM, wait up to [`STOP_TIMEOUT`], then SIGKILL. Returns a description of the exit.
    fn stop(&mut self) -> String {
        self.stopped = true;
        if let Some(status) = self.exited() {
            return format!("had already exited: {status}");
        }
        let _ = kill(Pid::from_raw(self.pid() as i32), Signal::SIGTERM);
        let deadline = Instant::now() + STOP_TIMEOUT;
        while Instant::now() < deadline {
            if let Some(status) = self.exited() {
                return status.to_string();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let status = self.child.wait();
        format!(
            "did not stop within {} s after SIGTERM; killed ({})",
            STOP_TIMEOUT.as_secs(),
            status.map_or_else(|e| e.to_string(), |s| s.to_string())
        )
    }
}

impl Drop for Pipeline {
    fn drop(&mut self) {
        if !self.stopped {
            self.stop();
        }
    }
}

fn sleep_s(seconds: f64) {
    if seconds > 0.0 {
        std::thread::sleep(Duration::from_secs_f64(seconds));
    }
}

/// Waits until the stats segment exists and the compositor has made a frame. Gives up early
/// when the supervisor exits or reports a crash loop in its log.
fn wait_started(pipeline: &mut Pipeline, instance: &str, log_path: &Path) -> Result<Stats, String> {
    let name = viba_common::names::segment(instance, "stats");
    let deadline = Instant::now() + START_TIMEOUT;
    loop {
        if let Some(status) = pipeline.exited() {
            return Err(format!("viba-supervisor exited early: {status}"));
        }
        let log = std::fs::read_to_string(log_path).unwrap_or_default();
        if let Some(line) = log.lines().find(|l| l.contains("CRASH LOOP")) {
            return Err(format!("a worker keeps crashing ({line})"));
        }
        if let Ok(stats) = Stats::open(&name) {
            // Started: a composite is out and every stage is in its loop (its pid written; the
            // first composite may come before the segmenter's first mask, and a window that
            // starts before a stage's pid is known has no CPU figure for it).
            let comp = stats.stage(Stage::Compositor);
            let ready = Stage::ALL.map(|s| stats.stage(s).pid.load(Ordering::Relaxed) != 0);
            if comp.frames.load(Ordering::Relaxed) > 0 && ready.iter().all(|&r| r) {
                return Ok(stats);
            }
        }
        if Instant::now() >= deadline {
            return Err(format!(
                "no composite within {} s of starting the supervisor",
                START_TIMEOUT.as_secs()
            ));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Runs the pipeline at one size and measures it. `log` receives progress lines.
pub fn run_size(options: &Options, size: Size, log: &mut dyn FnMut(&str)) -> SizeResult {
    let instance = format!("bench-{}-{size}", std::process::id());
    let mut result = SizeResult {
        size,
        measurement: None,
        error: None,
        leftover_shm: vec![],
        supervisor_exit: None,
    };
    let dir = std::env::temp_dir().join(format!("viba-{instance}"));
    let fail = |result: &mut SizeResult, message: String, log: &mut dyn FnMut(&str)| {
        log(&format!("{size}: FAILED: {message}"));
        result.error = Some(message);
    };
    if let Err(e) = std::fs::create_dir_all(&dir) {
        fail(
            &mut result,
            format!("cannot create {}: {e}", dir.display()),
            log,
        );
        return result;
    }
    let config_path = dir.join("viba.json");
    let log_path = dir.join("supervisor.log");
    if options.input == InputKind::Mjpeg {
        let path = mjpeg_path(&dir);
        match mjpeg_clip::write(&options.image, (size.width, size.height), &path) {
            Ok(bytes) => log(&format!(
                "{size}: MJPEG input: {} frames, {} KiB each on average",
                mjpeg_clip::FRAMES,
                bytes / 1024
            )),
            Err(e) => {
                fail(&mut result, format!("MJPEG input: {e}"), log);
                return result;
            }
        }
    }
    let config = config_json(options, size, &instance, &dir);
    let written = std::fs::write(
        &config_path,
        serde_json::to_string_pretty(&config).expect("json"),
    );
    let log_file = std::fs::File::create(&log_path);
    let (log_file, log_file2) = match (written, log_file) {
        (Ok(()), Ok(f)) => match f.try_clone() {
            Ok(g) => (f, g),
            Err(e) => {
                fail(&mut result, format!("{}: {e}", log_path.display()), log);
                return result;
            }
        },
        (Err(e), _) | (_, Err(e)) => {
            fail(
                &mut result,
                format!("cannot write into {}: {e}", dir.display()),
                log,
            );
            return result;
        }
    };
    let child = Command::new(&options.supervisor)
        .arg("--config")
        .arg(&config_path)
        .stdin(Stdio::null())
        .stdout(log_file)
        .stderr(log_file2)
        .spawn();
    let mut pipeline = match child {
        Ok(child) => Pipeline {
            child,
            stopped: false,
        },
        Err(e) => {
            fail(
                &mut result,
                format!(
                    "cannot run {} ({e}); build it with cargo build --release --workspace",
                    options.supervisor.display()
                ),
                log,
            );
            return result;
        }
    };
    log(&format!(
        "{size}: started viba-supervisor (pid {}), instance {instance}, log {}",
        pipeline.pid(),
        log_path.display()
    ));
    let measured = (|| -> Result<Measurement, String> {
        let stats = wait_started(&mut pipeline, &instance, &log_path)?;
        log(&format!(
            "{size}: first composite out; warming up {:.1} s, then measuring {:.1} s",
            options.warmup, options.seconds
        ));
        sleep_s(options.warmup);
        let origin = Instant::now();
        let ticks = clock_ticks_per_second();
        let a = Snapshot::take(&stats, pipeline.pid(), origin);
        sleep_s(options.seconds);
        let b = Snapshot::take(&stats, pipeline.pid(), origin);
        if let Some(status) = pipeline.exited() {
            return Err(format!("viba-supervisor exited while measuring: {status}"));
        }
        Ok(measure(&a, &b, ticks))
    })();
    let exit = pipeline.stop();
    result.supervisor_exit = Some(exit.clone());
    result.leftover_shm = shm_leftovers(&instance);
    match measured {
        Ok(m) => result.measurement = Some(m),
        Err(e) => fail(&mut result, e, log),
    }
    if exit != "exit status: 0" {
        log(&format!("{size}: viba-supervisor stop: {exit}"));
    }
    if !result.leftover_shm.is_empty() {
        log(&format!(
            "{size}: shared memory left behind: {} (removing it)",
            result.leftover_shm.join(", ")
        ));
        for name in &result.leftover_shm {
            let _ = viba_common::shm::Segment::unlink(&format!("/{name}"));
        }
    }
    let clean = result.error.is_none() && result.leftover_shm.is_empty();
    if clean {
        let _ = std::fs::remove_dir_all(&dir);
    } else {
        log(&format!(
            "{size}: last lines of {}:\n{}",
            log_path.display(),
            tail(&log_path, 30)
        ));
    }
    result
}

/// Runs every size in turn and checks the targets.
pub fn run(options: &Options, log: &mut dyn FnMut(&str)) -> Report {
    let machine = Machine::probe();
    let repeat = options.repeat.max(1);
    let mut rounds: Vec<Vec<SizeResult>> = Vec::new();
    for round in 1..=repeat {
        let mut results = Vec::new();
        for &size in &options.sizes {
            if repeat > 1 {
                log(&format!("{size}: round {round} of {repeat}"));
            }
            let r = run_size(options, size, log);
            if let Some(m) = &r.measurement {
                log(&format!(
                    "{size}: {:.2} fps, {} masks/frame, p99 {}, CPU {}",
                    m.output_fps,
                    fmt_opt(m.masks_per_output_frame, 3, ""),
                    fmt_opt(m.latency_p99_ms, 1, " ms"),
                    fmt_opt(m.total_cpu_ms_per_frame, 2, " ms/frame"),
                ));
                for w in &m.warnings {
                    log(&format!("{size}: warning: {w}"));
                }
            }
            results.push(r);
        }
        rounds.push(results);
    }
    let results = if repeat == 1 {
        rounds.pop().unwrap_or_default()
    } else {
        (0..options.sizes.len())
            .map(|i| medians(rounds.iter().map(|r| &r[i])))
            .collect()
    };
    let targets = check_targets(&results);
    Report {
        machine,
        clock_ticks_per_s: clock_ticks_per_second(),
        options: options.clone(),
        results,
        rounds,
        targets,
    }
}

/// One size's rounds as one result: the medians of the rounds that measured; the errors of
/// those that failed (so a failed round still fails the run); the leftovers of all.
fn medians<'a>(rounds: impl Iterator<Item = &'a SizeResult>) -> SizeResult {
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

#[cfg(test)]
mod tests {
    use super::*;
    use viba_common::stats::HIST_BUCKETS;

    #[test]
    fn sizes_parse_and_reject() {
        assert_eq!(
            parse_sizes("640x480, 1280x720").unwrap(),
            vec![
                Size {
                    width: 640,
                    height: 480
                },
                Size {
                    width: 1280,
                    height: 720
                }
            ]
        );
        assert!(parse_sizes("641x480").is_err());
        assert!(parse_sizes("1280").is_err());
        assert!(parse_sizes("").is_err());
        assert_eq!(
            Size::from_str("1920X1080").unwrap().to_string(),
            "1920x1080"
        );
    }

    #[test]
    fn pinning_spec() {
        let mut p = Pinning::defaults(2);
        assert_eq!(p.describe(), "capture=0 segmenter=1 compositor=0");
        p.apply("segmenter=1-3,compositor=0,2").unwrap();
        assert_eq!(p.segmenter.as_deref(), Some("1-3"));
        assert_eq!(p.compositor.as_deref(), Some("0,2"));
        assert_eq!(p.capture.as_deref(), Some("0"));
        p.apply("capture=none").unwrap();
        assert_eq!(p.capture, None);
        p.apply("none").unwrap();
        assert_eq!(p, Pinning::default());
        assert_eq!(Pinning::defaults(1).describe(), "unpinned");
        assert!(p.apply("camera=0").is_err());
        assert!(p.apply("0,1").is_err());
        assert!(p.apply("capture=x").is_err());
    }

    #[test]
    fn proc_stat_parsing() {
        // A command name with a space and a parenthesis.
        let text = "4242 (viba seg) x) S 1 4242 4242 0 -1 4194560 2000 0 0 0 \
                    123 45 0 0 20 0 5 0 100 1000000 500 18446744073709551615";
        assert_eq!(parse_proc_stat(text), Some(168));
        assert_eq!(parse_proc_stat("1 (x) S 1 2"), None);
        let own = process_ticks(std::process::id());
        assert!(own.is_some());
        assert_eq!(process_ticks(0), None);

        let status =
            "Name:\tviba-segmenter\nVmPeak:\t  90000 kB\nVmRSS:\t   51234 kB\nThreads:\t3\n";
        assert_eq!(parse_vm_rss(status), Some(51234));
        assert_eq!(parse_vm_rss("Name:\tx\n"), None);
        assert!(process_rss_kib(std::process::id()).is_some_and(|k| k > 0));
        assert_eq!(process_rss_kib(0), None);

        let sys = "cpu  10 2 30 1000 7 1 1 5 0 0\ncpu0 1 1 1 1 1 1 1 1 0 0\n";
        assert_eq!(
            parse_system_stat(sys),
            Some(SystemTicks { busy: 44, steal: 5 })
        );
    }

    fn snap(at_s: f64, frames: u64, ticks: [u64; 4], latency_bucket: usize) -> Snapshot {
        let mut stages: [StageSnapshot; 3] = Default::default();
        for (i, s) in stages.iter_mut().enumerate() {
            s.pid = 100 + i as u32;
            s.ticks = Some(ticks[i]);
            s.rss_kib = Some(1024 * (10 + i as u64));
            s.hist = vec![0; HIST_BUCKETS];
        }
        stages[0].frames = frames;
        stages[1].frames = frames / 2;
        stages[1].busy_ns = frames / 2 * 20_000_000;
        let c = &mut stages[2];
        c.frames = frames;
        c.fresh_masks = frames / 2;
        c.background_only = frames / 10;
        c.mask_age_frames_sum = frames;
        c.hist[latency_bucket] = frames as u32;
        Snapshot {
            at_s,
            stages,
            supervisor_ticks: Some(ticks[3]),
            supervisor_rss_kib: Some(512),
            bench_ticks: Some(0),
            system: Some(SystemTicks {
                busy: ticks.iter().sum::<u64>() + at_s as u64 * 50,
                steal: 0,
            }),
        }
    }

    #[test]
    fn deltas_and_ratios() {
        let a = snap(1.0, 100, [10, 100, 20, 1], 0);
        let mut b = snap(11.0, 400, [40, 400, 80, 2], 0);
        // 300 new composites, latency 15 ms for all but 4 at 40 ms.
        b.stages[2].hist[0] = 100;
        b.stages[2].hist[149] = 296;
        b.stages[2].hist[399] = 4;
        let m = measure(&a, &b, 100.0);
        assert!((m.seconds - 10.0).abs() < 1e-9);
        assert_eq!(m.output_frames, 300);
        assert!((m.output_fps - 30.0).abs() < 1e-9);
        assert!((m.masks_per_s - 15.0).abs() < 1e-9);
        assert_eq!(m.masks_per_output_frame, Some(0.5));
        assert_eq!(m.background_only, 30);
        // 300 frames of age, over the 270 composites that showed the person.
        assert!((m.mean_mask_age_frames.unwrap() - 300.0 / 270.0).abs() < 1e-9);
        assert_eq!(m.latency_p50_ms, Some(15.0));
        assert_eq!(m.latency_p99_ms, Some(40.0));
        assert_eq!(m.segmenter_busy_ms_per_mask, Some(20.0));
        // segmenter: 300 ticks = 3000 ms over 300 frames.
        assert_eq!(m.cpu[1].ms_per_frame, Some(10.0));
        assert_eq!(m.cpu[1].percent, Some(30.0));
        // 30 + 300 + 60 + 1 ticks = 3910 ms / 300 frames.
        assert!((m.total_cpu_ms_per_frame.unwrap() - 3910.0 / 300.0).abs() < 1e-9);
        // 500 ticks of foreign load over 10 s at 100 ticks/s.
        assert!((m.other_load_cpus.unwrap() - 0.5).abs() < 1e-9);
        // Resident memory at the end of the window: 10, 11, 12 MiB and 0.5 MiB.
        let names: Vec<&str> = m.resident.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["capture", "segmenter", "compositor", "supervisor"]);
        assert_eq!(m.resident[2].mib, Some(12.0));
        assert_eq!(m.total_resident_mib, Some(33.5));
        assert!(m.warnings.is_empty());
    }

    #[test]
    fn rounds_become_medians_and_a_failed_round_fails_the_size() {
        let a = snap(0.0, 100, [10, 100, 20, 1], 5);
        let size = Size {
            width: 640,
            height: 480,
        };
        let round = |ticks: u64, error: Option<&str>| SizeResult {
            size,
            measurement: error
                .is_none()
                .then(|| measure(&a, &snap(10.0, 400, [40, ticks, 80, 2], 5), 100.0)),
            error: error.map(str::to_owned),
            leftover_shm: Vec::new(),
            supervisor_exit: Some("exit status: 0".into()),
        };
        let rounds = [round(400, None), round(1000, None), round(700, None)];
        let m = medians(rounds.iter());
        assert!(m.error.is_none());
        // Segmenter ticks 300, 900, 600 over 300 frames: 10, 30, 20 ms; the median 20.
        assert_eq!(m.measurement.unwrap().cpu[1].ms_per_frame, Some(20.0));
        let failed = [round(400, None), round(0, Some("exited early"))];
        let m = medians(failed.iter());
        assert_eq!(m.error.as_deref(), Some("round 2: exited early"));
        assert!(m.measurement.is_some());
    }

    #[test]
    fn a_restarted_stage_has_no_cpu_figure() {
        let a = snap(0.0, 100, [10, 100, 20, 1], 5);
        let mut b = snap(10.0, 400, [40, 400, 80, 2], 5);
        b.stages[1].pid = 999;
        let m = measure(&a, &b, 100.0);
        assert_eq!(m.cpu[1].ms_per_frame, None);
        assert_eq!(m.total_cpu_ms_per_frame, None);
        assert_eq!(m.warnings.len(), 1);
        let idle = measure(&a, &a, 100.0);
        assert_eq!(idle.output_frames, 0);
        assert_eq!(idle.masks_per_output_frame, None);
        assert_eq!(idle.latency_p99_ms, None);
    }

    #[test]
    fn targets_pass_and_miss() {
        let a = snap(0.0, 0, [0, 0, 0, 0], 100);
        let b = snap(10.0, 300, [30, 300, 60, 1], 100);
        let m = measure(&a, &b, 100.0);
        let results = vec![SizeResult {
            size: Size {
                width: 1280,
                height: 720,
            },
            measurement: Some(m.clone()),
            error: None,
            leftover_shm: vec![],
            supervisor_exit: None,
        }];
        let checks = check_targets(&results);
        let verdicts: Vec<Option<bool>> = checks.iter().map(|c| c.pass).collect();
        // 720p fps pass, 720p CPU (13 ms) miss, 1080p not run, 720p latency (10.1 ms) pass.
        assert_eq!(
            verdicts,
            vec![Some(true), Some(false), None, None, Some(true)]
        );
        let table = format_summary(&results);
        assert!(table.contains("1280x720"));
        assert!(format_targets(&checks).contains("MISS"));
        assert!(format_measurement(results[0].size, &m).contains("masks per output frame"));
        let options = Options {
            sizes: vec![results[0].size],
            seconds: 1.0,
            warmup: 0.0,
            fps: 30,
            pace: Pace::Fast,
            model: "m.onnx".into(),
            provider: Provider::Cpu,
            input: InputKind::Synthetic,
            image: "a.png".into(),
            background: "b.jpg".into(),
            pinning: Pinning::defaults(2),
            supervisor: "viba-supervisor".into(),
            patch: serde_json::json!({}),
            repeat: 1,
        };
        let config = config_json(
            &options,
            results[0].size,
            "bench-1-1280x720",
            Path::new("/tmp/run"),
        );
        assert_eq!(config["input"]["pace"], "fast");
        assert_eq!(config["input"]["width"], 1280);
        // Every input gives a config viba accepts; the MJPEG clip is made as a run makes it.
        let dir = tempfile::tempdir().unwrap();
        let clip = mjpeg_clip::write(
            &repo_dir().join("testdata/astronaut.png"),
            (320, 240),
            &mjpeg_path(dir.path()),
        );
        assert!(clip.is_ok_and(|bytes| bytes > 1000));
        for input in [InputKind::Image, InputKind::Synthetic, InputKind::Mjpeg] {
            let options = Options {
                input,
                model: repo_dir().join("models/selfie_segmentation_landscape.onnx"),
                image: repo_dir().join("testdata/astronaut.png"),
                background: repo_dir().join("backgrounds/default.jpg"),
                ..options.clone()
            };
            let json = config_json(&options, results[0].size, "bench-1", dir.path());
            let parsed =
                viba_common::config::parse(&json.to_string(), Path::new("x"), Path::new("/"));
            assert!(parsed.is_ok(), "{input:?}: {parsed:?}");
        }
        assert_eq!(config["stages"]["segmenter"]["cpus"], "1");
        assert_eq!(config["output"]["sink"], "null");
    }
}
