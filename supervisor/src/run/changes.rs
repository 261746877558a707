//! Live changes: `ctl set`, `ctl reload` and SIGHUP, checked, then applied by SIGHUP to the
//! running stages or by restarting the stages concerned.

use super::*;
use viba_common::config::live::SetError;
use viba_common::config::ConfigError;

/// Why a live change (`ctl set`, `ctl reload`, SIGHUP) was refused: the config in use stays as
/// it was, and every message ends in `; nothing changed`.
#[derive(Debug, thiserror::Error)]
pub enum ChangeError {
    /// The config file cannot be read again.
    #[error("cannot read config {}: {cause}; nothing changed", path.display())]
    Read {
        /// The user's config file.
        path: PathBuf,
        /// The OS error.
        cause: std::io::Error,
    },
    /// The config file is not JSON.
    #[error("config {}: {cause}; nothing changed", path.display())]
    Json {
        /// The user's config file.
        path: PathBuf,
        /// Where and why.
        cause: serde_json::Error,
    },
    /// A `ctl set` key cannot be set.
    #[error("{0}; nothing changed")]
    Key(SetError),
    /// The changed config does not validate, or names CPUs that are not there.
    #[error("{0}; nothing changed")]
    Config(ConfigError),
    /// A changed key only a restart of viba applies.
    #[error(
        "{key}: only a restart of viba applies it (stop it and start it again); nothing changed"
    )]
    NeedsRestart {
        /// The dotted key.
        key: String,
    },
    /// Capture could not be stopped to check a new input.
    #[error("{0}; nothing changed")]
    Command(CommandError),
    /// A worker's check of what it would read failed.
    #[error("{0}; nothing changed")]
    Check(checks::CheckError),
    /// A new model whose mask does not fit the rings.
    #[error(
        "segmentation: the new model's mask would be {}x{}, the rings are made for {}x{}; only a restart of viba applies it; nothing changed",
        new.width, new.height, rings.width, rings.height
    )]
    MaskSize {
        /// The new model's mask.
        new: MaskSize,
        /// The mask the rings were made for.
        rings: MaskSize,
    },
    /// The candidate or the live config cannot be written.
    #[error("{0}; nothing changed")]
    Write(WriteError),
}

impl Supervisor {
    /// Reads the user's config file again and applies what changed.
    pub(super) fn reload(&mut self) -> Result<String, ChangeError> {
        let path = &self.config_path;
        let text = std::fs::read_to_string(path).map_err(|cause| ChangeError::Read {
            path: path.clone(),
            cause,
        })?;
        let raw = serde_json::from_str::<Value>(config::without_bom(&text)).map_err(|cause| {
            ChangeError::Json {
                path: path.clone(),
                cause,
            }
        })?;
        self.apply(raw)
    }

    /// Applies a changed config: validated and checked first (a bad value changes nothing),
    /// then picture keys are read again by the running stages (SIGHUP), stages whose keys
    /// changed restart, and keys only a restart of viba can apply are refused.
    pub(super) fn apply(&mut self, raw: Value) -> Result<String, ChangeError> {
        let text = serde_json::to_string(&raw).expect("serialisable");
        let config = config::parse(&text, &self.config_path, &self.config.base_dir)
            .map_err(ChangeError::Config)?;
        config
            .check_cpus_available(&self.config_path)
            .map_err(ChangeError::Config)?;
        let changed = live::changed_keys(&self.raw, &raw);
        if changed.is_empty() {
            return Ok("nothing changed".into());
        }
        let mut restart = [false; 3];
        let mut picture = false;
        let mut parts = Vec::new();
        for key in &changed {
            match live::classify(key) {
                Apply::Refused => return Err(ChangeError::NeedsRestart { key: key.clone() }),
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
            self.feed(capture, Event::Stop)
                .map_err(ChangeError::Command)?;
            self.settle(capture);
        }
        let candidate = self.live_path.with_extension("candidate.json");
        let checked = write_private(&candidate, &raw)
            .map_err(ChangeError::Write)
            .and_then(|()| {
                checks::run_some(
                    &candidate,
                    Some(&self.config.base_dir),
                    &stages,
                    "--check-background",
                )
                .map_err(ChangeError::Check)
            });
        let _ = std::fs::remove_file(&candidate);
        let checked = checked.and_then(|mask| match mask.filter(|m| *m != self.mask_size) {
            Some(new) => Err(ChangeError::MaskSize {
                new,
                rings: self.mask_size,
            }),
            None => Ok(()),
        });
        let checked =
            checked.and_then(|()| write_private(&self.live_path, &raw).map_err(ChangeError::Write));
        if let Err(e) = checked {
            if stopped_capture {
                let _ = self.feed(capture, Event::Start);
            }
            return Err(e);
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
}
