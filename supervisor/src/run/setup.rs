//! Start-up: the config validated, leftovers of an earlier run cleared, the rings and the
//! control socket created.

use super::*;

pub(super) fn policy_of(config: &Config) -> Policy {
    Policy {
        restart: config.restart,
        stop_grace_ms: 3000,
    }
}

/// Why the live config (or a candidate) could not be written.
#[derive(Debug, thiserror::Error)]
#[error("cannot write {}: {cause}", path.display())]
pub struct WriteError {
    /// The file.
    pub path: PathBuf,
    /// The OS error.
    pub cause: std::io::Error,
}

/// Writes `value` as JSON to `path` (mode 0600), through a temporary file and a rename.
pub(super) fn write_private(path: &Path, value: &Value) -> Result<(), WriteError> {
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
        .map_err(|cause| {
            let _ = std::fs::remove_file(&tmp);
            WriteError {
                path: path.to_owned(),
                cause,
            }
        })
}

/// Removes the segments and socket a previous run of this instance left behind. Refuses when
/// that run is still alive: something accepts connections on its socket (a live supervisor
/// that is slow to answer is still alive; only a socket nobody listens on is stale).
pub(super) fn clear_stale(config: &Config, socket: &Path) -> Result<(), UserError> {
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
    // No socket here does not make the segments stale: a supervisor started with another
    // XDG_RUNTIME_DIR keeps its socket elsewhere, and its workers still run on them.
    if let Ok(stats) = Stats::open(&config.segment(names::Segment::Stats)) {
        for stage in Stage::ALL {
            let pid = stats.stage(stage).pid.load(Ordering::Relaxed);
            let program =
                viba_common::procfs::comm(pid).filter(|_| pid != 0 && pid != std::process::id());
            // That stage's own program (a reused pid of something else does not count).
            let worker = format!("viba-{}", stage.name());
            if viba_common::procfs::alive(pid) && program.is_some_and(|p| p == worker) {
                return Err(UserError(format!(
                    "instance \"{}\" is already running: its {} is pid {pid}, though its control socket is not {} (another XDG_RUNTIME_DIR?); stop it, or set another \"instance\" in the config",
                    config.instance,
                    stage.name(),
                    socket.display()
                )));
            }
        }
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
pub(super) fn bind(socket: &Path) -> Result<Server, UserError> {
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
                "cannot read config {}: {e} ({})",
                config_path.display(),
                config::read_hint(&e)
            ))
        })?;
        let mut config = config::load(&config_path).map_err(|e| UserError(e.to_string()))?;
        config.debug |= debug;
        viba_common::debug::set("viba-supervisor", config.debug);
        config
            .check_cpus_available(&config_path)
            .map_err(|e| UserError(e.to_string()))?;
        names::private_runtime_dir(true).map_err(|e| UserError(e.to_string()))?;
        let socket = names::control_socket(&config.instance);
        clear_stale(&config, &socket)?;
        // The checks load the model and open the devices: a second or more on a slow machine.
        // On a terminal, say so (logs and scripts get only the outcome).
        if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
            eprintln!("viba-supervisor: checking the input, model, background and output ...");
        }
        let MaskSize { width, height } =
            checks::run(&config_path).map_err(|e| UserError(e.to_string()))?;
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
            .and_then(|t| {
                serde_json::from_str::<Value>(config::without_bom(&t)).map_err(|e| e.to_string())
            })
            .and_then(|mut raw| {
                if debug {
                    raw["debug"] = Value::Bool(true);
                }
                write_private(&live_path, &raw)
                    .map(|()| raw)
                    .map_err(|e| e.to_string())
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
}
