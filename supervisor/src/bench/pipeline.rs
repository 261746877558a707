//! Running the real pipeline: starts `viba-supervisor` at each size, waits for its first
//! composite, measures a window, stops it and checks what it left behind.

use super::idle;
use super::machine::Machine;
use super::metrics::{measure, medians, Measurement, Snapshot};
use super::mjpeg_clip;
use super::options::{config_json, mjpeg_path, InputKind, Options, Size};
use super::procfs::clock_ticks_per_second;
use super::report::fmt_opt;
use super::targets::{check_targets, TargetCheck};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use serde::Serialize;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use viba_common::stage::Stage;
use viba_common::stats::Stats;

/// How long to wait for the pipeline to produce its first composite.
pub const START_TIMEOUT: Duration = Duration::from_secs(30);
/// How long to wait for an idle pipeline (`--idle`) to start: longer, as it is measured in
/// an emulated machine (vm/) where loading the model alone takes many seconds.
pub const IDLE_START_TIMEOUT: Duration = Duration::from_secs(180);
/// How long the supervisor gets to stop after SIGTERM before it is killed.
pub const STOP_TIMEOUT: Duration = Duration::from_secs(10);

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

/// Waits until the stats segment exists and the compositor has made a frame (with `idle`: until
/// every stage is in its loop and the pipeline idles). Gives up early when the supervisor
/// exits or reports a stage in a crash loop.
fn wait_started(
    pipeline: &mut Pipeline,
    instance: &str,
    log_path: &Path,
    idle: bool,
) -> Result<Stats, String> {
    let name = viba_common::names::segment(instance, viba_common::names::Segment::Stats);
    let limit = if idle {
        IDLE_START_TIMEOUT
    } else {
        START_TIMEOUT
    };
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = pipeline.exited() {
            return Err(format!("viba-supervisor exited early: {status}"));
        }
        if let Some(stage) = crash_looping(instance) {
            return Err(format!(
                "{stage} keeps crashing (its messages are in {})",
                log_path.display()
            ));
        }
        if let Ok(stats) = Stats::open(&name) {
            if idle && idle::ready(&stats) {
                return Ok(stats);
            }
            // Started: a composite is out and every stage is in its loop (its pid written; the
            // first composite may come before the segmenter's first mask, and a window that
            // starts before a stage's pid is known has no CPU figure for it).
            let comp = stats.stage(Stage::Compositor);
            let ready = Stage::ALL.map(|s| stats.stage(s).pid.load(Ordering::Relaxed) != 0);
            if !idle && comp.frames.load(Ordering::Relaxed) > 0 && ready.iter().all(|&r| r) {
                return Ok(stats);
            }
        }
        if Instant::now() >= deadline {
            return Err(format!(
                "{} within {} s of starting the supervisor",
                if idle {
                    "not idling with every stage in its loop"
                } else {
                    "no composite"
                },
                limit.as_secs()
            ));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The first stage the supervisor reports in a crash loop (asked over its control socket, as
/// `ctl status` does); `None` while it does not answer yet.
fn crash_looping(instance: &str) -> Option<String> {
    let socket = viba_common::names::control_socket(instance);
    let reply = crate::control::call(&socket, &crate::control::Request::Status).ok()?;
    reply
        .stages
        .into_iter()
        .find(|s| s.crash_loop)
        .map(|s| s.stage)
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
        let idle = options.idle.is_some();
        let stats = wait_started(&mut pipeline, &instance, &log_path, idle)?;
        log(&format!(
            "{size}: {}; warming up {:.1} s, then measuring {:.1} s",
            if idle {
                "idling (nobody has the fake camera open)"
            } else {
                "first composite out"
            },
            options.warmup,
            options.seconds
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
        let mut m = measure(&a, &b, ticks);
        if idle {
            idle::review(&mut m);
        }
        Ok(m)
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
            if let (Some(m), true) = (&r.measurement, options.idle.is_some()) {
                log(&format!(
                    "{size}: idle: {} of a CPU, {} wake-ups/s",
                    fmt_opt(m.total_cpu_percent, 3, " %"),
                    fmt_opt(m.total_wakeups_per_s, 1, ""),
                ));
                for w in &m.warnings {
                    log(&format!("{size}: warning: {w}"));
                }
            } else if let Some(m) = &r.measurement {
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
    let targets = if options.idle.is_some() {
        idle::check_targets(&results)
    } else {
        check_targets(&results, options.input)
    };
    Report {
        machine,
        clock_ticks_per_s: clock_ticks_per_second(),
        options: options.clone(),
        results,
        rounds,
        targets,
    }
}
