//! The lifecycle of one worker stage as a pure state machine: `next(event) -> actions`.
//! No processes here; `run.rs` carries the actions out and feeds back what happened.

use viba_common::config::Restart;

/// How a worker process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Exited with this code (0: finished its job, e.g. end of a video file).
    Code(i32),
    /// Killed by this signal.
    Signal(i32),
}

impl Exit {
    /// Whether the worker finished on its own, so it is not restarted.
    pub fn finished(self) -> bool {
        self == Exit::Code(0)
    }
}

impl std::fmt::Display for Exit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Exit::Code(c) => write!(f, "exit code {c}"),
            Exit::Signal(s) => {
                let name = nix::sys::signal::Signal::try_from(*s)
                    .map(|s| s.as_str())
                    .unwrap_or("unknown signal");
                write!(f, "killed by {name}")
            }
        }
    }
}

/// What should happen once a stopping worker is gone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Then {
    /// Stay stopped until `ctl start` (a developer may run the stage by hand).
    StayStopped,
    /// Start it again (`ctl restart`).
    Restart,
    /// The supervisor is shutting down.
    Gone,
}

/// Where a stage is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Not started yet.
    NotStarted,
    /// Running as `pid` since `since_ms`; `ready` once it has started its loop (opened its
    /// source, model or sink).
    Running {
        /// The process id.
        pid: i32,
        /// When it was spawned, in ms since the supervisor started.
        since_ms: u64,
        /// Whether it has reported that its start-up is over.
        ready: bool,
    },
    /// Crashed; restarts at `until_ms`.
    Backoff {
        /// When to spawn it again, in ms since the supervisor started.
        until_ms: u64,
    },
    /// Sent SIGTERM; SIGKILL at `kill_at_ms`.
    Stopping {
        /// The process id.
        pid: i32,
        /// When to send SIGKILL, in ms since the supervisor started (`u64::MAX` once sent).
        kill_at_ms: u64,
        /// What to do once it is gone.
        then: Then,
    },
    /// Stopped on request.
    Stopped,
    /// Exited 0 on its own.
    Finished,
    /// Gone for good (shutdown).
    Gone,
}

impl State {
    /// A word for `ctl status`.
    pub fn word(&self) -> &'static str {
        match self {
            State::NotStarted => "not started",
            State::Running { .. } => "running",
            State::Backoff { .. } => "restarting",
            State::Stopping { .. } => "stopping",
            State::Stopped => "stopped",
            State::Finished => "finished",
            State::Gone => "gone",
        }
    }

    /// The pid of the running process, if any.
    pub fn pid(&self) -> Option<i32> {
        match *self {
            State::Running { pid, .. } | State::Stopping { pid, .. } => Some(pid),
            _ => None,
        }
    }
}

/// Inputs to the machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// Start the stage for the first time.
    Launch,
    /// A spawn succeeded.
    Spawned {
        /// The new process's id.
        pid: i32,
    },
    /// A spawn failed.
    SpawnFailed,
    /// The process has started its loop: its start-up is over.
    Ready {
        /// The process that reported it.
        pid: i32,
    },
    /// The process ended.
    Exited {
        /// The process that ended.
        pid: i32,
        /// How it ended.
        how: Exit,
    },
    /// Time passed.
    Tick,
    /// `ctl stop`.
    Stop,
    /// `ctl start`.
    Start,
    /// `ctl restart`.
    Restart,
    /// The supervisor shuts down.
    Shutdown,
}

/// What the caller must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Start a new process for the stage (answer with `Spawned` or `SpawnFailed`).
    Spawn,
    /// Send SIGTERM.
    Terminate(i32),
    /// Send SIGKILL.
    Kill(i32),
    /// Print this line.
    Log(String),
    /// The stage finished its job.
    Finished,
}

/// Restart policy: `restart` of the config, and the stop's grace time.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    /// Delays, stability and crash loops (`restart` in the config).
    pub restart: Restart,
    /// How long a stopping worker gets before SIGKILL.
    pub stop_grace_ms: u64,
}

/// Why a control command does not apply to a stage now.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    /// `stop` of a stopped stage.
    #[error("{stage} is already stopped")]
    AlreadyStopped {
        /// The stage's name.
        stage: &'static str,
    },
    /// Any command while the stage is stopping.
    #[error("{stage} is stopping; try again in a moment")]
    Stopping {
        /// The stage's name.
        stage: &'static str,
    },
    /// `start` of a running stage.
    #[error("{stage} is already running")]
    AlreadyRunning {
        /// The stage's name.
        stage: &'static str,
    },
}

/// One stage's machine.
#[derive(Debug, Clone)]
pub struct Machine {
    /// The stage's name, used in log lines.
    pub name: &'static str,
    /// Where the stage is now.
    pub state: State,
    /// The restart policy.
    pub policy: Policy,
    /// Restarts after crashes, in total.
    pub restarts: u32,
    /// Crashes since the last stable run.
    pub crashes_in_row: u32,
    /// How the last process ended.
    pub last_exit: Option<Exit>,
    /// When started workers were last restarted at once (within `stable_ms`).
    quick_restarts: std::collections::VecDeque<u64>,
}

impl Machine {
    /// A machine for stage `name`, not started until `Launch`.
    pub fn new(name: &'static str, policy: Policy) -> Machine {
        Machine {
            name,
            state: State::NotStarted,
            policy,
            restarts: 0,
            crashes_in_row: 0,
            last_exit: None,
            quick_restarts: std::collections::VecDeque::new(),
        }
    }

    /// Whether the stage is in a crash loop.
    pub fn crash_looping(&self) -> bool {
        self.crashes_in_row >= self.policy.restart.crash_loop_after
    }

    /// When a `Tick` next changes something (a restart after its backoff, SIGKILL after the
    /// grace time, the end of a stable run that forgets past crashes), in ms since the
    /// supervisor started; `None` when no tick will until another event comes. The
    /// supervisor sleeps until then, so an idle pipeline does not wake it for nothing.
    pub fn due_ms(&self) -> Option<u64> {
        match self.state {
            State::Backoff { until_ms } => Some(until_ms),
            State::Stopping { kill_at_ms, .. } if kill_at_ms != u64::MAX => Some(kill_at_ms),
            State::Running { since_ms, .. } if self.crashes_in_row > 0 => {
                Some(since_ms + self.policy.restart.stable_ms)
            }
            _ => None,
        }
    }

    fn backoff_ms(&self) -> u64 {
        let doublings = self.crashes_in_row.saturating_sub(1).min(20);
        (self.policy.restart.backoff_ms << doublings).min(self.policy.restart.max_backoff_ms)
    }

    /// Advances the machine. `Err` explains a control command that does not apply.
    pub fn next(&mut self, event: Event, now_ms: u64) -> Result<Vec<Action>, CommandError> {
        use Action::*;
        let name = self.name;
        let actions = match (self.state, event) {
            (State::Gone, _) => vec![],
            (State::NotStarted, Event::Launch) => vec![Spawn],
            (_, Event::Spawned { pid }) => {
                self.state = State::Running {
                    pid,
                    since_ms: now_ms,
                    ready: false,
                };
                vec![]
            }
            (_, Event::SpawnFailed) => self.crashed(now_ms, now_ms, "could not be started"),
            (
                State::Running {
                    pid,
                    since_ms,
                    ready: false,
                },
                Event::Ready { pid: p },
            ) if p == pid => {
                self.state = State::Running {
                    pid,
                    since_ms,
                    ready: true,
                };
                vec![]
            }
            (_, Event::Ready { .. }) => vec![],
            (
                State::Running {
                    pid,
                    since_ms,
                    ready,
                },
                Event::Exited { pid: p, how },
            ) if p == pid => {
                self.last_exit = Some(how);
                if how.finished() {
                    self.state = State::Finished;
                    vec![Log(format!("{name} finished")), Finished]
                } else if ready && self.may_restart_at_once(now_ms) {
                    self.restarted_at_once(since_ms, now_ms, &how.to_string())
                } else {
                    self.crashed(since_ms, now_ms, &how.to_string())
                }
            }
            (State::Stopping { pid, then, .. }, Event::Exited { pid: p, how }) if p == pid => {
                self.last_exit = Some(how);
                match then {
                    Then::StayStopped => {
                        self.state = State::Stopped;
                        vec![Log(format!("{name} stopped"))]
                    }
                    Then::Restart => {
                        self.crashes_in_row = 0;
                        vec![Log(format!("{name} restarting")), Spawn]
                    }
                    Then::Gone => {
                        self.state = State::Gone;
                        vec![]
                    }
                }
            }
            (_, Event::Exited { .. }) => vec![],
            (State::Backoff { until_ms }, Event::Tick) if now_ms >= until_ms => vec![Spawn],
            (
                State::Stopping {
                    pid,
                    kill_at_ms,
                    then,
                },
                Event::Tick,
            ) if now_ms >= kill_at_ms => {
                self.state = State::Stopping {
                    pid,
                    kill_at_ms: u64::MAX,
                    then,
                };
                vec![
                    Log(format!("{name} did not stop in time; killing it")),
                    Kill(pid),
                ]
            }
            (State::Running { since_ms, .. }, Event::Tick) => {
                if self.crashes_in_row > 0 && now_ms - since_ms >= self.policy.restart.stable_ms {
                    self.crashes_in_row = 0;
                }
                vec![]
            }
            (_, Event::Tick) => vec![],
            (State::Running { pid, .. }, Event::Stop) => {
                self.stopping(pid, now_ms, Then::StayStopped)
            }
            (State::Backoff { .. } | State::Finished | State::NotStarted, Event::Stop) => {
                self.state = State::Stopped;
                vec![Log(format!("{name} stopped"))]
            }
            (State::Stopped, Event::Stop) => {
                return Err(CommandError::AlreadyStopped { stage: name })
            }
            (State::Stopping { .. }, Event::Stop | Event::Start | Event::Restart) => {
                return Err(CommandError::Stopping { stage: name })
            }
            (State::Running { .. }, Event::Start) => {
                return Err(CommandError::AlreadyRunning { stage: name })
            }
            (
                State::Stopped | State::Backoff { .. } | State::Finished | State::NotStarted,
                Event::Start | Event::Restart,
            ) => {
                self.crashes_in_row = 0;
                vec![Log(format!("{name} starting")), Spawn]
            }
            (State::Running { pid, .. }, Event::Restart) => {
                self.stopping(pid, now_ms, Then::Restart)
            }
            (State::Running { pid, .. }, Event::Shutdown) => self.stopping(pid, now_ms, Then::Gone),
            (
                State::Stopping {
                    pid, kill_at_ms, ..
                },
                Event::Shutdown,
            ) => {
                self.state = State::Stopping {
                    pid,
                    kill_at_ms,
                    then: Then::Gone,
                };
                vec![]
            }
            (_, Event::Shutdown) => {
                self.state = State::Gone;
                vec![]
            }
            (_, Event::Launch) => vec![],
        };
        Ok(actions)
    }

    fn stopping(&mut self, pid: i32, now_ms: u64, then: Then) -> Vec<Action> {
        self.state = State::Stopping {
            pid,
            kill_at_ms: now_ms + self.policy.stop_grace_ms,
            then,
        };
        vec![Action::Terminate(pid)]
    }

    /// Whether a worker that had started may be restarted without delay: fewer than
    /// `crash_loop_after` such restarts in the last `stable_ms` (the "intensity in a period"
    /// of Erlang/OTP supervisors, systemd's `StartLimitBurst`).
    fn may_restart_at_once(&mut self, now_ms: u64) -> bool {
        while self
            .quick_restarts
            .front()
            .is_some_and(|&t| now_ms.saturating_sub(t) >= self.policy.restart.stable_ms)
        {
            self.quick_restarts.pop_front();
        }
        self.quick_restarts.len() < self.policy.restart.crash_loop_after as usize
    }

    /// A worker that had got through its start-up died: the output needs it back now, and a
    /// delay would only lengthen the gap.
    fn restarted_at_once(&mut self, since_ms: u64, now_ms: u64, how: &str) -> Vec<Action> {
        self.quick_restarts.push_back(now_ms);
        self.restarts += 1;
        self.state = State::Backoff { until_ms: now_ms };
        vec![
            Action::Log(format!(
                "{} {how} after {:.1} s; restarting now",
                self.name,
                now_ms.saturating_sub(since_ms) as f64 / 1000.0
            )),
            Action::Spawn,
        ]
    }

    fn crashed(&mut self, since_ms: u64, now_ms: u64, how: &str) -> Vec<Action> {
        let ran_ms = now_ms.saturating_sub(since_ms);
        if ran_ms >= self.policy.restart.stable_ms {
            self.crashes_in_row = 0;
        }
        self.crashes_in_row += 1;
        self.restarts += 1;
        let delay = self.backoff_ms();
        self.state = State::Backoff {
            until_ms: now_ms + delay,
        };
        let mut actions = vec![Action::Log(format!(
            "{} {how} after {:.1} s; restarting in {delay} ms",
            self.name,
            ran_ms as f64 / 1000.0
        ))];
        if self.crash_looping() {
            actions.push(Action::Log(format!(
                "CRASH LOOP: {} crashed {} times in a row without running {} s (while starting, or too often at once); its own messages above say why (the output shows the background meanwhile)",
                self.name,
                self.crashes_in_row,
                self.policy.restart.stable_ms / 1000
            )));
        }
        actions
    }
}

#[cfg(test)]
mod tests;
