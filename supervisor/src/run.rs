//! The supervisor's event loop: spawn, reap, restart, answer control commands, shut down.

use crate::checks::{self, MaskSize};
use crate::control::{InputStatus, OutputStatus, Reply, Request, StageStatus};
use crate::serve::Server;
use crate::signals::{self, Arrived};
use crate::spawn::{self, WorkerSpec};
use crate::state::{Action, Event, Machine, Policy, State};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use serde_json::Value;
use std::os::fd::AsFd;
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use viba_common::config::live::{self, Apply};
use viba_common::config::{self, Config};
use viba_common::names;
use viba_common::ring::{Ring, RingSpec};
use viba_common::shm::Segment;
use viba_common::stats::{Stage, Stats, CONSUMERS_UNTRACKED};

/// A failure that is the user's to fix: printed as one line, exit code 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UserError(pub String);

struct Worker {
    machine: Machine,
    spec: WorkerSpec,
    last_frames: u64,
    fps: f64,
    /// Capture from a camera: the camera's frame count at the last tick, and its rate.
    last_camera_frames: u64,
    camera_fps: f64,
    /// The process's CPU time at the last tick (pid, clock ticks), and its share of one CPU.
    last_ticks: Option<(u32, u64)>,
    cpu_percent: Option<f64>,
    /// Compositor: the mask-age sum and background-only count at the last tick, and over the
    /// last window the mean mask age (frames) and frames per second with the background alone.
    last_mask_age_sum: u64,
    last_alone: u64,
    mask_age: Option<f64>,
    alone_fps: f64,
}

/// Everything the running supervisor owns. Dropping it removes the rings.
pub struct Supervisor {
    config: Config,
    /// The user's config file, and its JSON with the changes made since (`ctl set`).
    config_path: PathBuf,
    raw: Value,
    /// The copy of `raw` the workers read (`names::live_config`).
    live_path: PathBuf,
    mask_size: MaskSize,
    workers: Vec<Worker>,
    frames: Ring,
    masks: Ring,
    stats: Stats,
    socket: PathBuf,
    server: Server,
    started: Instant,
    finished: bool,
    /// `sysconf(_SC_CLK_TCK)`, for the stages' CPU share.
    ticks_per_s: f64,
}

fn policy_of(config: &Config) -> Policy {
    Policy {
        restart: config.restart,
        stop_grace_ms: 3000,
    }
}

/// Writes `value` as JSON to `path` (mode 0600), through a temporary file and a rename.
fn write_private(path: &Path, value: &Value) -> Result<(), String> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let tmp = path.with_extension("json.new");
    let text = serde_json::to_string_pretty(value).expect("serialisable");
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .and_then(|()| std::fs::rename(&tmp, path))
        .map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            format!("cannot write {}: {e}", path.display())
        })
}

/// The terminal is gone: stdout and stderr go to /dev/null from now on (writing to a hung-up
/// terminal fails, and a failed log line must not stop the shutdown).
fn hung_up() {
    if let Ok(null) = std::fs::OpenOptions::new().write(true).open("/dev/null") {
        use std::os::fd::AsRawFd;
        // SAFETY: dup2 on descriptors this process owns (the open /dev/null, 1 and 2); it
        // replaces 1 and 2 atomically and touches no memory.
        unsafe {
            libc::dup2(null.as_raw_fd(), 1);
            libc::dup2(null.as_raw_fd(), 2);
        }
    }
}

fn now_ms(started: Instant) -> u64 {
    started.elapsed().as_millis() as u64
}

/// Removes the segments and socket a previous run of this instance left behind. Refuses when
/// that run is still alive: something accepts connections on its socket (a live supervisor
/// that is slow to answer is still alive; only a socket nobody listens on is stale).
fn clear_stale(config: &Config, socket: &Path) -> Result<(), UserError> {
    if std::fs::symlink_metadata(socket).is_ok() {
        let refused = matches!(
            std::os::unix::net::UnixStream::connect(socket),
            Err(e) if matches!(e.kind(), std::io::ErrorKind::ConnectionRefused | std::io::ErrorKind::NotFound)
        );
        if !refused {
            return Err(UserError(format!(
                "instance \"{}\" is already running (control socket {}); stop it, or set another \"instance\" in the config",
                config.instance,
                socket.display()
            )));
        }
        let _ = std::fs::remove_file(socket);
    }
    for what in names::Segment::ALL {
        let name = config.segment(what);
        if Segment::unlink(&name).unwrap_or(false) {
            eprintln!("viba-supervisor: removed stale shared memory {name}");
        }
    }
    Ok(())
}

/// Listens on `socket`, created with mode 0600 from the start (no window in which it is open
/// to others, and no chmod that could follow a link), and serves it off the event loop.
fn bind(socket: &Path) -> Result<Server, UserError> {
    let old = nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(0o177));
    let listener = UnixListener::bind(socket);
    nix::sys::stat::umask(old);
    let listener =
        listener.map_err(|e| UserError(format!("cannot listen on {}: {e}", socket.display())))?;
    Server::start(listener).map_err(|e| {
        let _ = std::fs::remove_file(socket);
        UserError(format!("cannot serve {}: {e}", socket.display()))
    })
}

impl Supervisor {
    /// Validates the config, clears leftovers, creates the rings and the control socket.
    /// Nothing is left behind when this fails.
    /// `debug`: `--debug`, as `"debug": true` in the config.
    pub fn prepare(config_path: &Path, debug: bool) -> Result<Supervisor, UserError> {
        let config_path = std::fs::canonicalize(config_path).map_err(|e| {
            UserError(format!(
                "cannot read config {}: {e} (pass an existing file with --config)",
                config_path.display()
            ))
        })?;
        let mut config = config::load(&config_path).map_err(|e| UserError(e.to_string()))?;
        config.debug |= debug;
        viba_common::debug::set("viba-supervisor", config.debug);
        config
            .check_cpus_available(&config_path)
            .map_err(|e| UserError(e.to_string()))?;
        names::private_runtime_dir(true).map_err(UserError)?;
        let socket = names::control_socket(&config.instance);
        clear_stale(&config, &socket)?;
        // The checks load the model and open the devices: a second or more on a slow machine.
        // On a terminal, say so (logs and scripts get only the outcome).
        if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
            eprintln!("viba-supervisor: checking the input, model, background and output ...");
        }
        let MaskSize { width, height } = checks::run(&config_path).map_err(UserError)?;
        let ring_error = |e: viba_common::ring::RingError| UserError(e.to_string());
        let frames = Ring::create(
            &config.segment(viba_common::names::Segment::Frames),
            RingSpec::frames(config.frame_size().0, config.frame_size().1),
        )
        .map_err(ring_error)?;
        let masks = Ring::create(
            &config.segment(viba_common::names::Segment::Masks),
            RingSpec::masks(width, height),
        )
        .map_err(ring_error)?;
        let stats = Stats::create(
            &config.segment(viba_common::names::Segment::Stats),
            config.idles_when_unused(),
        )
        .map_err(|e| UserError(e.to_string()))?;
        let server = bind(&socket)?;
        // The workers read a copy that `ctl set` can change (the user's file stays as it is).
        let live_path = names::live_config(&config.instance);
        let raw = std::fs::read_to_string(&config_path)
            .map_err(|e| e.to_string())
            .and_then(|t| serde_json::from_str::<Value>(&t).map_err(|e| e.to_string()))
            .and_then(|mut raw| {
                if debug {
                    raw["debug"] = Value::Bool(true);
                }
                write_private(&live_path, &raw).map(|()| raw)
            });
        let raw = match raw {
            Ok(raw) => raw,
            Err(e) => {
                let _ = std::fs::remove_file(&socket);
                return Err(UserError(format!("{}: {e}", live_path.display())));
            }
        };
        let policy = policy_of(&config);
        let workers = Stage::ALL
            .into_iter()
            .map(|stage| Worker {
                machine: Machine::new(stage.name(), policy),
                spec: WorkerSpec {
                    stage,
                    program: spawn::bin_dir().join(stage.binary()),
                    config: live_path.clone(),
                    base_dir: config.base_dir.clone(),
                    cpus: config.stage_cpus(stage),
                    nice: config.stages.get(stage).nice,
                    resumed: false,
                },
                last_frames: 0,
                fps: 0.0,
                last_camera_frames: 0,
                camera_fps: 0.0,
                last_ticks: None,
                cpu_percent: None,
                last_mask_age_sum: 0,
                last_alone: 0,
                mask_age: None,
                alone_fps: 0.0,
            })
            .collect();
        Ok(Supervisor {
            config,
            config_path,
            raw,
            live_path,
            mask_size: MaskSize { width, height },
            workers,
            frames,
            masks,
            stats,
            socket,
            server,
            started: Instant::now(),
            finished: false,
            ticks_per_s: crate::bench::clock_ticks_per_second(),
        })
    }

    fn feed(&mut self, index: usize, event: Event) -> Result<(), String> {
        let now = now_ms(self.started);
        let actions = self.workers[index].machine.next(event, now)?;
        for action in actions {
            self.act(index, action);
        }
        Ok(())
    }

    fn act(&mut self, index: usize, action: Action) {
        let stage = self.workers[index].spec.stage;
        match action {
            Action::Spawn => {
                let event = match spawn::spawn(&self.workers[index].spec) {
                    Ok(pid) => {
                        eprintln!("viba-supervisor: started {stage} (pid {pid})");
                        self.workers[index].spec.resumed = true;
                        let spec = &self.workers[index].spec;
                        viba_common::debug_line!(
                            "viba-supervisor",
                            "{stage}: {} --config {}, CPUs {}, nice {}",
                            spec.program.display(),
                            spec.config.display(),
                            spec.cpus
                                .as_ref()
                                .map_or("any".into(), |c| format!("{c:?}")),
                            spec.nice
                        );
                        Event::Spawned { pid }
                    }
                    Err(e) => {
                        eprintln!(
                            "viba-supervisor: cannot start {}: {e}",
                            self.workers[index].spec.program.display()
                        );
                        Event::SpawnFailed
                    }
                };
                let _ = self.feed(index, event);
            }
            Action::Terminate(pid) => {
                let _ = kill(Pid::from_raw(pid), Signal::SIGTERM);
            }
            Action::Kill(pid) => {
                let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
            }
            Action::Log(line) => eprintln!("viba-supervisor: {line}"),
            Action::Finished => {
                if stage == Stage::Compositor {
                    self.finished = true;
                }
            }
        }
    }

    fn reap(&mut self) {
        for (pid, how) in signals::reap() {
            if let Some(i) = self
                .workers
                .iter()
                .position(|w| w.machine.state.pid() == Some(pid))
            {
                let _ = self.feed(i, Event::Exited { pid, how });
            }
        }
    }

    fn tick(&mut self, fps_window: Option<f64>) {
        for i in 0..self.workers.len() {
            let _ = self.feed(i, Event::Tick);
            // A worker has started once it marks its stats block as its own (it does so when it
            // enters its loop, after opening its source, model or sink).
            if let State::Running {
                pid, ready: false, ..
            } = self.workers[i].machine.state
            {
                let stage = self.workers[i].spec.stage;
                if self.stats.stage(stage).pid.load(Ordering::Relaxed) == pid as u32 {
                    let _ = self.feed(i, Event::Ready { pid });
                }
            }
            if let Some(seconds) = fps_window {
                let stage = self.workers[i].spec.stage;
                let frames = self.stats.stage(stage).frames.load(Ordering::Relaxed);
                let sent = self
                    .stats
                    .stage(stage)
                    .camera_frames
                    .load(Ordering::Relaxed);
                let s = self.stats.stage(stage);
                let pid = s.pid.load(Ordering::Relaxed);
                let ticks = crate::bench::process_ticks(pid).map(|t| (pid, t));
                let age_sum = s.mask_age_frames_sum.load(Ordering::Relaxed);
                let alone = s.background_only.load(Ordering::Relaxed);
                let w = &mut self.workers[i];
                w.cpu_percent = match (w.last_ticks, ticks) {
                    (Some((p0, t0)), Some((p1, t1))) if p0 == p1 => {
                        Some(t1.saturating_sub(t0) as f64 / self.ticks_per_s / seconds * 100.0)
                    }
                    _ => None,
                };
                w.last_ticks = ticks;
                let new = frames.saturating_sub(w.last_frames);
                w.mask_age = (new > 0)
                    .then(|| age_sum.saturating_sub(w.last_mask_age_sum) as f64 / new as f64);
                w.alone_fps = alone.saturating_sub(w.last_alone) as f64 / seconds;
                (w.last_mask_age_sum, w.last_alone) = (age_sum, alone);
                w.fps = new as f64 / seconds;
                w.last_frames = frames;
                // A restarted capture counts from 0 again.
                w.camera_fps = sent.saturating_sub(w.last_camera_frames) as f64 / seconds;
                w.last_camera_frames = sent;
            }
        }
    }

    fn status(&self) -> Vec<StageStatus> {
        let now = now_ms(self.started);
        self.workers
            .iter()
            .map(|w| {
                let s = self.stats.stage(w.spec.stage);
                let stats_pid = s.pid.load(Ordering::Relaxed);
                let pid = w.machine.state.pid();
                let external = (stats_pid != 0
                    && pid != Some(stats_pid as i32)
                    && std::path::Path::new(&format!("/proc/{stats_pid}")).exists())
                .then_some(stats_pid);
                let uptime = match w.machine.state {
                    State::Running { since_ms, .. } => Some((now - since_ms) as f64 / 1000.0),
                    _ => None,
                };
                let latency = s.last_latency_ns.load(Ordering::Relaxed);
                StageStatus {
                    stage: w.spec.stage.name().into(),
                    state: w.machine.state.word().into(),
                    pid,
                    external_pid: external,
                    restarts: w.machine.restarts,
                    crash_loop: w.machine.crash_looping(),
                    uptime_s: uptime,
                    fps: w.fps,
                    latency_ms: (latency > 0 && w.spec.stage != Stage::Capture)
                        .then_some(latency as f64 / 1e6),
                    last_exit: w.machine.last_exit.map(|e| e.to_string()),
                    cpu_percent: w.cpu_percent,
                    mask_age_frames: w.mask_age.filter(|_| w.spec.stage == Stage::Compositor),
                    background_only_fps: (w.spec.stage == Stage::Compositor).then_some(w.alone_fps),
                }
            })
            .collect()
    }

    fn input_status(&self) -> Option<InputStatus> {
        let capture = self
            .workers
            .iter()
            .find(|w| w.spec.stage == Stage::Capture)?;
        let mode = self.stats.stage(Stage::Capture).camera_mode()?;
        Some(InputStatus {
            device: self.config.input.device.clone(),
            mode: mode.to_string(),
            camera_fps: capture.camera_fps,
        })
    }

    fn output_status(&self) -> Option<OutputStatus> {
        let consumers = self.stats.consumers();
        (consumers != CONSUMERS_UNTRACKED).then(|| OutputStatus {
            device: self.config.output.device.clone(),
            consumers,
            idle: self.stats.idle(),
        })
    }

    /// Waits (bounded) until `index` has left the Stopping state, handling its exit.
    fn settle(&mut self, index: usize) {
        let deadline = Instant::now() + Duration::from_secs(5);
        while matches!(self.workers[index].machine.state, State::Stopping { .. })
            && Instant::now() < deadline
        {
            std::thread::sleep(Duration::from_millis(10));
            self.reap();
            let _ = self.feed(index, Event::Tick);
        }
    }

    fn handle(&mut self, request: Request) -> Reply {
        let stage_index = |name: &str| -> Result<usize, String> {
            Stage::parse(name).map(|s| s as usize).ok_or_else(|| {
                format!("unknown stage \"{name}\" (use capture, segmenter or compositor)")
            })
        };
        let result = match &request {
            Request::Status => Ok("ok".to_owned()),
            Request::Set { pairs } => {
                let mut raw = self.raw.clone();
                pairs
                    .iter()
                    .try_for_each(|(k, v)| live::set(&mut raw, k, live::parse_value(v)))
                    .map_err(|e| format!("{e}; nothing changed"))
                    .and_then(|()| self.apply(raw))
            }
            Request::Reload => self.reload(),
            Request::Pause | Request::Resume | Request::Toggle => {
                let pause = match request {
                    Request::Pause => true,
                    Request::Resume => false,
                    _ => !self.stats.paused(),
                };
                self.stats.set_paused(pause);
                let message = if pause {
                    "paused: the fake webcam shows the still and the camera is released"
                } else {
                    "live"
                };
                eprintln!("viba-supervisor: {message}");
                Ok(message.to_owned())
            }
            Request::Snapshot => match self.workers[Stage::Compositor as usize].machine.state.pid()
            {
                Some(pid) => kill(Pid::from_raw(pid), Signal::SIGUSR1)
                    .map(|()| "snapshot requested".to_owned())
                    .map_err(|e| e.to_string()),
                None => Err("the compositor is not running".to_owned()),
            },
            Request::Stop { stage } | Request::Restart { stage } | Request::Start { stage } => {
                stage_index(stage).and_then(|i| {
                    let event = match request {
                        Request::Stop { .. } => Event::Stop,
                        Request::Restart { .. } => Event::Restart,
                        _ => Event::Start,
                    };
                    if event != Event::Stop {
                        let s = self.stats.stage(self.workers[i].spec.stage);
                        let pid = s.pid.load(Ordering::Relaxed);
                        let ours = self.workers[i].machine.state.pid() == Some(pid as i32);
                        if pid != 0 && !ours && Path::new(&format!("/proc/{pid}")).exists() {
                            return Err(format!(
                                "{stage} is running by hand as pid {pid}; stop that process first"
                            ));
                        }
                    }
                    self.feed(i, event)?;
                    self.settle(i);
                    Ok(format!("{stage} {}", self.workers[i].machine.state.word()))
                })
            }
        };
        match result {
            Ok(message) => Reply {
                ok: true,
                message,
                stages: self.status(),
                input: self.input_status(),
                output: self.output_status(),
                paused: self.stats.paused(),
            },
            Err(message) => Reply {
                ok: false,
                message,
                ..Reply::default()
            },
        }
    }

    /// Reads the user's config file again and applies what changed.
    fn reload(&mut self) -> Result<String, String> {
        let raw = std::fs::read_to_string(&self.config_path)
            .map_err(|e| format!("cannot read config {}: {e}", self.config_path.display()))
            .and_then(|t| {
                serde_json::from_str::<Value>(&t)
                    .map_err(|e| format!("config {}: {e}", self.config_path.display()))
            })
            .map_err(|e| format!("{e}; nothing changed"))?;
        self.apply(raw)
    }

    /// Applies a changed config: validated and checked first (a bad value changes nothing),
    /// then picture keys are read again by the running stages (SIGHUP), stages whose keys
    /// changed restart, and keys only a restart of viba can apply are refused.
    fn apply(&mut self, raw: Value) -> Result<String, String> {
        let refuse = |e: String| format!("{e}; nothing changed");
        let text = serde_json::to_string(&raw).expect("serialisable");
        let config = config::parse(&text, &self.config_path, &self.config.base_dir)
            .map_err(|e| refuse(e.to_string()))?;
        config
            .check_cpus_available(&self.config_path)
            .map_err(|e| refuse(e.to_string()))?;
        let changed = live::changed_keys(&self.raw, &raw);
        if changed.is_empty() {
            return Ok("nothing changed".into());
        }
        let mut restart = [false; 3];
        let mut picture = false;
        let mut parts = Vec::new();
        for key in &changed {
            match live::classify(key) {
                Apply::Refused => {
                    return Err(refuse(format!(
                        "{key}: only a restart of viba applies it (stop it and start it again)"
                    )))
                }
                Apply::Live => {
                    picture = true;
                    parts.push(format!("{key} (from the next frame)"));
                }
                Apply::Supervisor => parts.push(format!("{key} (the supervisor's)")),
                Apply::Restart(stages) => {
                    let names: Vec<&str> = stages.iter().map(|s| s.name()).collect();
                    parts.push(format!("{key} (restarts {})", names.join(", ")));
                    for s in stages {
                        restart[*s as usize] = true;
                    }
                }
            }
        }
        // The workers check what they will read: the picture (the compositor's background),
        // a new model (and that its mask has the rings' size), a new input.
        let mut stages = Vec::new();
        if restart[Stage::Capture as usize] {
            stages.push(Stage::Capture);
        }
        if restart[Stage::Segmenter as usize] {
            stages.push(Stage::Segmenter);
        }
        if picture || restart[Stage::Compositor as usize] {
            stages.push(Stage::Compositor);
        }
        // A camera being streamed from cannot be opened a second time to check it: capture
        // stops first, and starts again as it was when the check fails.
        let capture = Stage::Capture as usize;
        let stopped_capture =
            restart[capture] && self.workers[capture].machine.state.pid().is_some();
        if stopped_capture {
            self.feed(capture, Event::Stop).map_err(refuse)?;
            self.settle(capture);
        }
        let candidate = self.live_path.with_extension("candidate.json");
        let checked = write_private(&candidate, &raw).and_then(|()| {
            checks::run_some(
                &candidate,
                Some(&self.config.base_dir),
                &stages,
                "--check-background",
            )
        });
        let _ = std::fs::remove_file(&candidate);
        let checked = checked.and_then(|mask| match mask.filter(|m| *m != self.mask_size) {
            Some(m) => Err(format!(
                "segmentation: the new model's mask would be {}x{}, the rings are made for {}x{}; only a restart of viba applies it",
                m.width, m.height, self.mask_size.width, self.mask_size.height
            )),
            None => Ok(()),
        });
        let checked = checked.and_then(|()| write_private(&self.live_path, &raw));
        if let Err(e) = checked {
            if stopped_capture {
                let _ = self.feed(capture, Event::Start);
            }
            return Err(refuse(e));
        }
        self.raw = raw;
        self.config = config;
        let policy = policy_of(&self.config);
        for w in &mut self.workers {
            w.machine.policy = policy;
            w.spec.cpus = self.config.stage_cpus(w.spec.stage);
            w.spec.nice = self.config.stages.get(w.spec.stage).nice;
        }
        viba_common::debug::set("viba-supervisor", self.config.debug);
        for stage in Stage::ALL {
            let i = stage as usize;
            if picture && !restart[i] {
                if let Some(pid) = self.workers[i].machine.state.pid() {
                    let _ = kill(Pid::from_raw(pid), Signal::SIGHUP);
                }
            }
        }
        if stopped_capture {
            let _ = self.feed(capture, Event::Start);
        }
        for stage in [Stage::Segmenter, Stage::Compositor] {
            let i = stage as usize;
            if restart[i] && self.workers[i].machine.state.pid().is_some() {
                // The change is made; a stage that cannot restart now restarts when it can.
                if let Err(e) = self.feed(i, Event::Restart) {
                    eprintln!("viba-supervisor: {stage}: {e}");
                }
                self.settle(i);
            }
        }
        let message = format!("applied: {}", parts.join("; "));
        eprintln!("viba-supervisor: {message}");
        Ok(message)
    }

    fn answer(&mut self, stopping: bool) {
        for pending in self.server.take() {
            let reply = if stopping {
                Reply {
                    ok: false,
                    message: "the instance is stopping".into(),
                    ..Reply::default()
                }
            } else {
                self.handle(pending.request.clone())
            };
            pending.answer(reply);
        }
    }

    /// Runs until SIGINT/SIGTERM or until the compositor finishes; stops everything.
    pub fn run(mut self, signal_fd: nix::sys::signalfd::SignalFd) -> anyhow::Result<()> {
        eprintln!(
            "viba-supervisor: instance \"{}\" running; control: viba-supervisor ctl --instance {} status",
            self.config.instance, self.config.instance
        );
        for i in 0..self.workers.len() {
            let _ = self.feed(i, Event::Launch);
        }
        let mut last_fps = Instant::now();
        let mut stopping = false;
        // SIGHUP reads the config again, unless it is the terminal hanging up (the supervisor
        // had one and has lost it): then viba stops, as a program in a closed terminal does.
        let had_terminal = std::fs::File::open("/dev/tty").is_ok();
        loop {
            let mut fds = [
                PollFd::new(signal_fd.as_fd(), PollFlags::POLLIN),
                PollFd::new(self.server.fd(), PollFlags::POLLIN),
            ];
            let _ = poll(&mut fds, PollTimeout::from(100u16));
            let requests = fds[1].revents().is_some_and(|r| !r.is_empty());
            for arrived in signals::drain(&signal_fd) {
                match arrived {
                    Arrived::Stop => stopping = true,
                    Arrived::Reload if !stopping => {
                        if had_terminal && std::fs::File::open("/dev/tty").is_err() {
                            hung_up();
                            stopping = true;
                        } else if let Err(e) = self.reload() {
                            eprintln!("viba-supervisor: SIGHUP: {e}");
                        }
                    }
                    _ => {}
                }
            }
            self.reap();
            if requests {
                self.answer(stopping);
            }
            let window = last_fps.elapsed();
            let fps_window = (window >= Duration::from_secs(1)).then(|| {
                last_fps = Instant::now();
                window.as_secs_f64()
            });
            self.tick(fps_window);
            if stopping || self.finished {
                break;
            }
        }
        self.shutdown();
        Ok(())
    }

    /// Stops every worker (SIGTERM, then SIGKILL after a grace period), closes the rings so
    /// hand-run workers exit too, and removes segments and socket.
    pub fn shutdown(&mut self) {
        eprintln!("viba-supervisor: stopping");
        for i in 0..self.workers.len() {
            let _ = self.feed(i, Event::Shutdown);
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        while self
            .workers
            .iter()
            .any(|w| !matches!(w.machine.state, State::Gone))
            && Instant::now() < deadline
        {
            std::thread::sleep(Duration::from_millis(10));
            self.reap();
            self.tick(None);
            self.answer(true);
        }
        self.answer(true);
        self.frames.close();
        self.masks.close();
        let _ = std::fs::remove_file(&self.socket);
        let _ = std::fs::remove_file(&self.live_path);
    }
}
