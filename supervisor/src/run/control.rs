//! `ctl` requests answered: status, restart, stop, start, snapshot, pause, live changes.

use super::*;

/// Why a `ctl` request was refused: the reply's message.
#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    /// A stage name that is not one.
    #[error("unknown stage \"{0}\" (use capture, segmenter or compositor)")]
    UnknownStage(String),
    /// The stage runs outside the supervisor (started by hand).
    #[error("{stage} is running by hand as pid {pid}; stop that process first")]
    RunByHand {
        /// The stage as named in the request.
        stage: String,
        /// The process running it.
        pid: u32,
    },
    /// `snapshot` while the compositor is not running.
    #[error("the compositor is not running")]
    CompositorNotRunning,
    /// `snapshot` with no `output.snapshot` to write it to.
    #[error("output.snapshot is not set: name the PNG to write first (ctl set output.snapshot /tmp/viba.png)")]
    NoSnapshotPath,
    /// The compositor could not be signalled.
    #[error("{0}")]
    Signal(nix::Error),
    /// The stage's state does not allow the command now.
    #[error("{0}")]
    Command(CommandError),
    /// A live change was refused.
    #[error("{0}")]
    Change(ChangeError),
}

impl Supervisor {
    pub(super) fn status(&self) -> Vec<StageStatus> {
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
                    ring_full: s.ring_full.load(Ordering::Relaxed),
                }
            })
            .collect()
    }

    pub(super) fn input_status(&self) -> Option<InputStatus> {
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

    pub(super) fn output_status(&self) -> Option<OutputStatus> {
        let consumers = self.stats.pipeline().consumers();
        (consumers != CONSUMERS_UNTRACKED).then(|| OutputStatus {
            device: self.config.output.device.clone(),
            consumers,
            idle: self.stats.pipeline().idle(),
        })
    }

    /// Waits (bounded) until `index` has left the Stopping state, handling its exit.
    pub(super) fn settle(&mut self, index: usize) {
        let deadline = Instant::now() + Duration::from_secs(5);
        while matches!(self.workers[index].machine.state, State::Stopping { .. })
            && Instant::now() < deadline
        {
            std::thread::sleep(Duration::from_millis(10));
            self.reap();
            let _ = self.feed(index, Event::Tick);
        }
    }

    pub(super) fn handle(&mut self, request: Request) -> Reply {
        let stage_index = |name: &str| -> Result<usize, ControlError> {
            Stage::parse(name)
                .map(|s| s as usize)
                .ok_or_else(|| ControlError::UnknownStage(name.to_owned()))
        };
        let result = match &request {
            Request::Status => Ok("ok".to_owned()),
            Request::Set { pairs } => {
                let mut raw = self.raw.clone();
                pairs
                    .iter()
                    .try_for_each(|(k, v)| live::set(&mut raw, k, live::parse_value(v)))
                    .map_err(ChangeError::Key)
                    .and_then(|()| self.apply(raw))
                    .map_err(ControlError::Change)
            }
            Request::Reload => self.reload().map_err(ControlError::Change),
            Request::Pause | Request::Resume | Request::Toggle => {
                let pause = match request {
                    Request::Pause => true,
                    Request::Resume => false,
                    _ => !self.stats.pipeline().paused(),
                };
                self.stats.pipeline().set_paused(pause);
                let message = if pause {
                    "paused: the fake webcam shows the still and capture releases the camera"
                } else {
                    "live"
                };
                eprintln!("viba-supervisor: {message}");
                Ok(message.to_owned())
            }
            Request::Snapshot => match (
                &self.config.output.snapshot,
                self.workers[Stage::Compositor as usize].machine.state.pid(),
            ) {
                (None, _) => Err(ControlError::NoSnapshotPath),
                (Some(path), Some(pid)) => kill(Pid::from_raw(pid), Signal::SIGUSR1)
                    .map(|()| format!("snapshot requested: {}", path.display()))
                    .map_err(ControlError::Signal),
                (Some(_), None) => Err(ControlError::CompositorNotRunning),
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
                            return Err(ControlError::RunByHand {
                                stage: stage.clone(),
                                pid,
                            });
                        }
                    }
                    self.feed(i, event).map_err(ControlError::Command)?;
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
                paused: self.stats.pipeline().paused(),
            },
            Err(e) => Reply {
                ok: false,
                message: e.to_string(),
                ..Reply::default()
            },
        }
    }

    pub(super) fn answer(&mut self, stopping: bool) {
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
}
