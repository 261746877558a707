//! viba-supervisor: see the library crate.

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use viba_common::exit::{self, Fault};
use viba_supervisor::control::{self, Request};
use viba_supervisor::run::Supervisor;

/// Runs the viba pipeline (capture -> segmenter -> compositor) of one instance and keeps it
/// running. Exit codes: 0 = stopped cleanly, 1 = internal error, 2 = bad config or input.
#[derive(Parser)]
#[command(version, args_conflicts_with_subcommands = true)]
struct Args {
    /// The instance's viba.json (see README.md for every key) [default:
    /// $XDG_CONFIG_HOME/viba/viba.json, else ~/.config/viba/viba.json: `init` writes one].
    #[arg(long)]
    config: Option<PathBuf>,
    /// Lists cameras (formats, sizes, rates, and the mode viba takes for --config or the
    /// defaults) and v4l2loopback devices, then exits.
    #[arg(long)]
    list_devices: bool,
    /// Debug mode (as `"debug": true` in the config): every stage prints what it does, its
    /// rates and times once a second; `ctl debug on|off` switches it while running.
    #[arg(long)]
    debug: bool,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Writes a starting config where viba looks for one ($XDG_CONFIG_HOME/viba/viba.json,
    /// else ~/.config/viba/viba.json) for the first camera and v4l2loopback device found.
    Init {
        /// Overwrite an existing config.
        #[arg(long)]
        force: bool,
    },
    /// Checks v4l2loopback, the output and camera devices, permissions, ONNX Runtime and the
    /// model, and prints the fix for each problem (exit 0: all fine, 1: problems found).
    Doctor {
        /// Check the devices and files of this config (default: the one viba-supervisor reads
        /// without --config, else /dev/video0 and /dev/video20).
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Talks to a running supervisor.
    Ctl {
        /// Find the instance through its config file [default: the one viba-supervisor
        /// reads without --config, when it exists].
        #[arg(long)]
        config: Option<PathBuf>,
        /// Or name the instance directly (default: the default config's, else "default").
        #[arg(long, conflicts_with = "config")]
        instance: Option<String>,
        /// Print the raw JSON reply.
        #[arg(long)]
        json: bool,
        #[command(subcommand)]
        action: CtlAction,
    },
}

#[derive(Subcommand, Clone)]
enum CtlAction {
    /// Each stage's pid, state, restarts, uptime, fps, CPU and latest latency; the
    /// compositor's mask age and frames with the background alone; the camera's mode and the
    /// fake webcam's readers.
    Status {
        /// Refresh every second until Ctrl-C (a live view).
        #[arg(long)]
        watch: bool,
        /// With --watch: stop after this many refreshes.
        #[arg(long, requires = "watch", value_parser = clap::value_parser!(u32).range(1..))]
        count: Option<u32>,
    },
    /// Stops a stage and starts it again.
    Restart { stage: String },
    /// Stops a stage and keeps it stopped: run it by hand meanwhile.
    Stop { stage: String },
    /// Starts a stopped stage again.
    Start { stage: String },
    /// Writes a PNG of the current output to output.snapshot.
    Snapshot,
    /// Changes config keys while running: KEY VALUE [KEY VALUE ...], e.g.
    /// `set background.blur 12`, `set background.image null background.color '#336699'`.
    /// Picture keys apply from the next frame; others restart the stages that read them; the
    /// config file is not changed.
    Set {
        /// KEY VALUE pairs; a VALUE is JSON (12, true, null, "text") or else plain text.
        #[arg(required = true, num_args = 2.., value_names = ["KEY", "VALUE"])]
        pairs: Vec<String>,
    },
    /// Reads the config file again and applies what changed (as SIGHUP to the supervisor).
    Reload,
    /// Shows a still (output.pause_image, else the background) and releases the camera, until
    /// `ctl resume`. Kept while stages restart.
    Pause,
    /// Goes live again after `ctl pause`.
    Resume,
    /// Pauses when live, resumes when paused (for a desktop shortcut).
    Toggle,
    /// Switches the debug mode on or off while running (`set debug true|false`).
    Debug {
        #[arg(value_parser = ["on", "off"])]
        state: String,
    },
}

/// This program's name, the start of each line it ends with.
const NAME: &str = "viba-supervisor";

/// Ends on the user's mistake: one line, exit code 2.
fn fail(message: impl std::fmt::Display) -> ExitCode {
    exit::fail(NAME, Fault::User, message)
}

fn ctl(
    config: Option<PathBuf>,
    instance: Option<String>,
    json: bool,
    action: CtlAction,
) -> ExitCode {
    let instance = match (config, instance) {
        (Some(path), _) => match viba_common::config::load(&path) {
            Ok(c) => c.instance,
            Err(e) => return fail(e),
        },
        (None, Some(name)) => name,
        (None, None) => match existing_default_config() {
            Some(path) => match viba_common::config::load(&path) {
                Ok(c) => c.instance,
                Err(e) => return fail(e),
            },
            None => "default".to_owned(),
        },
    };
    if !viba_common::names::valid_instance(&instance) {
        return fail(format!(
            "--instance: \"{instance}\" is not a valid instance name"
        ));
    }
    let mut watch = None;
    let request = match action {
        CtlAction::Status { watch: w, count } => {
            watch = w.then_some(count.unwrap_or(u32::MAX));
            Request::Status
        }
        CtlAction::Restart { stage } => Request::Restart { stage },
        CtlAction::Stop { stage } => Request::Stop { stage },
        CtlAction::Start { stage } => Request::Start { stage },
        CtlAction::Snapshot => Request::Snapshot,
        CtlAction::Set { pairs } => {
            // An odd count: the last key has no value.
            if let Some(key) = pairs.last().filter(|_| pairs.len() % 2 != 0) {
                return fail(format!(
                    "ctl set: \"{key}\" has no value (give KEY VALUE pairs, e.g. ctl set background.blur 12)"
                ));
            }
            Request::Set {
                pairs: pairs
                    .chunks_exact(2)
                    .map(|p| (p[0].clone(), p[1].clone()))
                    .collect(),
            }
        }
        CtlAction::Reload => Request::Reload,
        CtlAction::Pause => Request::Pause,
        CtlAction::Resume => Request::Resume,
        CtlAction::Toggle => Request::Toggle,
        CtlAction::Debug { state } => Request::Set {
            pairs: vec![("debug".into(), (state == "on").to_string())],
        },
    };
    // A socket in a folder someone else controls could be anyone's.
    if std::fs::symlink_metadata(viba_common::names::runtime_dir()).is_ok() {
        if let Err(e) = viba_common::names::private_runtime_dir(false) {
            return fail(e);
        }
    }
    let socket = viba_common::names::control_socket(&instance);
    if let Some(count) = watch {
        return watch_status(&socket, &instance, json, count);
    }
    let reply = match control::call(&socket, &request) {
        Ok(r) => r,
        Err(e) => return not_running(instance.as_str(), &socket, e),
    };
    if json {
        println!("{}", serde_json::to_string(&reply).expect("serialisable"));
    } else if request == Request::Status && reply.ok {
        print!("{}", control::format_status(&reply));
    } else {
        println!("{}", reply.message);
    }
    if reply.ok {
        ExitCode::SUCCESS
    } else if json {
        // The message is in the JSON already.
        Fault::User.into()
    } else {
        fail(reply.message)
    }
}

/// The line for a control socket that does not answer.
fn not_running(instance: &str, socket: &std::path::Path, e: std::io::Error) -> ExitCode {
    fail(format!(
        "instance \"{instance}\" is not running ({}: {e}); start it with viba-supervisor --config viba.json",
        socket.display()
    ))
}

/// `ctl status --watch`: the status every second, `count` times; on a terminal the screen is
/// redrawn, elsewhere each status follows the last under a line with the time.
fn watch_status(socket: &std::path::Path, instance: &str, json: bool, count: u32) -> ExitCode {
    use std::io::IsTerminal;
    let terminal = std::io::stdout().is_terminal() && !json;
    let started = std::time::Instant::now();
    for i in 0..count {
        if i > 0 {
            std::thread::sleep(std::time::Duration::from_secs(1));
        }
        let reply = match control::call(socket, &Request::Status) {
            Ok(r) => r,
            Err(e) => return not_running(instance, socket, e),
        };
        if json {
            println!("{}", serde_json::to_string(&reply).expect("serialisable"));
            continue;
        }
        let table = control::format_status(&reply);
        if terminal {
            print!(
                "\x1b[H\x1b[2J{table}\nviba {instance}: refreshed every second; Ctrl-C to stop\n"
            );
        } else {
            println!("-- {:.1} s", started.elapsed().as_secs_f64());
            print!("{table}");
        }
        let _ = std::io::Write::flush(&mut std::io::stdout());
    }
    ExitCode::SUCCESS
}

/// The config viba reads without --config, when it exists.
fn existing_default_config() -> Option<PathBuf> {
    viba_common::names::default_config().filter(|p| p.exists())
}

fn main() -> ExitCode {
    let args: Args = viba_common::exit::parse_args("viba-supervisor");
    if args.list_devices {
        // With a config, the modes viba takes are the ones that config asks for.
        let loaded = match args.config.clone().or_else(existing_default_config) {
            Some(path) => match viba_common::config::load(&path) {
                Ok(c) => Some(c),
                Err(e) => return fail(e),
            },
            None => None,
        };
        print!(
            "{}",
            viba_supervisor::devices::report(loaded.as_ref().map(|c| &c.input))
        );
        return ExitCode::SUCCESS;
    }
    match args.command {
        Some(Command::Init { force }) => {
            let Some(path) = viba_common::names::default_config() else {
                return fail("neither XDG_CONFIG_HOME nor HOME is set (an absolute path): viba has nowhere to look for its config; write one and pass --config");
            };
            let found = viba_supervisor::init::find();
            match viba_supervisor::init::write(&path, force, &found) {
                Ok(line) => {
                    println!("{line}");
                    ExitCode::SUCCESS
                }
                Err(e) => fail(e),
            }
        }
        Some(Command::Doctor { config }) => {
            let loaded = match &config.or_else(existing_default_config) {
                Some(path) => match viba_common::config::load(path) {
                    Ok(c) => Some((c, path.clone())),
                    Err(e) => return fail(e),
                },
                None => None,
            };
            let findings =
                viba_supervisor::doctor::run(loaded.as_ref().map(|(c, p)| (c, p.as_path())));
            if viba_supervisor::doctor::print(&findings) {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Some(Command::Ctl {
            config,
            instance,
            json,
            action,
        }) => ctl(config, instance, json, action),
        None => {
            let Some(config) = args.config.or_else(existing_default_config) else {
                let default = viba_common::names::default_config()
                    .map_or("~/.config/viba/viba.json".into(), |p| {
                        p.display().to_string()
                    });
                return fail(format!(
                    "no config: {default} does not exist (write it with viba-supervisor init, or pass --config viba.json)"
                ));
            };
            // Signals are blocked and read through a signalfd; do it before any child exists.
            let signal_fd = match viba_supervisor::signals::open() {
                Ok(fd) => fd,
                Err(e) => {
                    return exit::fail(
                        NAME,
                        Fault::Failure,
                        format_args!("cannot set up signals: {e}"),
                    )
                }
            };
            let supervisor = match Supervisor::prepare(&config, args.debug) {
                Ok(s) => s,
                Err(e) => return fail(e),
            };
            match supervisor.run(signal_fd) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => exit::fail(NAME, Fault::Failure, format_args!("{e:#}")),
            }
        }
    }
}
