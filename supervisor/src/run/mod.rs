//! The supervisor's event loop: spawn, reap, restart, answer control commands, shut down.

use crate::checks::{self, MaskSize};
use crate::control::{InputStatus, OutputStatus, Reply, Request, StageStatus};
use crate::serve::Server;
use crate::signals::{self, Arrived};
use crate::spawn::{self, WorkerSpec};
use crate::state::{Action, CommandError, Event, Machine, Policy, State};
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
use viba_common::stage::Stage;
use viba_common::stats::{Stats, CONSUMERS_UNTRACKED};

mod changes;
mod control;
mod setup;

use changes::ChangeError;
use setup::{policy_of, write_private, WriteError};

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

/// The longest the supervisor sleeps: the window of the rates `ctl status` shows.
const LONGEST_SLEEP_MS: u64 = 1000;
/// The longest it sleeps while the pipeline idles (no application has the fake camera open):
/// the rates are all 0 then, and waking for them would cost what idling saves.
const IDLE_SLEEP_MS: u64 = 5000;
/// How often it looks whether a started worker has entered its loop (it marks its stats
/// block; nothing wakes the supervisor for that).
const READY_POLL_MS: u64 = 100;

impl Supervisor {
    fn feed(&mut self, index: usize, event: Event) -> Result<(), CommandError> {
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

    /// How long to sleep until the next tick that matters: soon while a worker starts up,
    /// at a state machine's next deadline, else [`LONGEST_SLEEP_MS`] (signals, dead children
    /// and control requests wake it at once anyway).
    fn sleep_ms(&self) -> u64 {
        let now = now_ms(self.started);
        let starting = self
            .workers
            .iter()
            .any(|w| matches!(w.machine.state, State::Running { ready: false, .. }));
        let longest = if starting {
            READY_POLL_MS
        } else if self.stats.pipeline().idle() {
            IDLE_SLEEP_MS
        } else {
            LONGEST_SLEEP_MS
        };
        self.workers
            .iter()
            .filter_map(|w| w.machine.due_ms())
            .map(|due| due.saturating_sub(now))
            .fold(longest, u64::min)
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
            let sleep = self.sleep_ms().min(u16::MAX as u64) as u16;
            let _ = poll(&mut fds, PollTimeout::from(sleep));
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
            // The rates before the answers, so that a `status` asked after a long idle sleep
            // gets them up to now.
            let window = last_fps.elapsed();
            let fps_window = (window >= Duration::from_secs(1)).then(|| {
                last_fps = Instant::now();
                window.as_secs_f64()
            });
            self.tick(fps_window);
            if requests {
                self.answer(stopping);
            }
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
