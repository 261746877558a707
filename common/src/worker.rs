//! What every worker's `main` does: install the signal handlers, load the config, then check
//! or run, and turn the outcome into an exit code (0 done, 2 with one line on stderr, through
//! [`crate::exit::fail`]).

use crate::config::{self, Config, ConfigError};
use crate::exit::{self, Fault};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::OnceLock;

/// Set (to `1`) in the environment of a worker the supervisor starts again (after a crash or
/// `ctl restart`/`start`) rather than for the first time: a file sink then goes on with its
/// recording instead of starting it over.
pub const RESUMED_ENV: &str = "VIBA_RESUMED";

/// Set to `1` in every worker's environment: ONNX Runtime's telemetry off (its PyPI build has it
/// on Linux since 1.29, on by default; it must be off before the library starts). The
/// supervisor sets it when it starts a worker; a segmenter started otherwise sets it itself.
pub const ORT_TELEMETRY_OFF_ENV: &str = "ORT_DISABLE_TELEMETRY";

/// Whether this worker was started again ([`RESUMED_ENV`]).
pub fn resumed() -> bool {
    std::env::var_os(RESUMED_ENV).is_some_and(|v| v == "1")
}

/// Where the config was read from, for [`reload`].
static SOURCE: OnceLock<(PathBuf, Option<PathBuf>)> = OnceLock::new();

/// Reads the config again from where [`main`] read it (after SIGHUP: the supervisor changed
/// it while running).
pub fn reload() -> Result<Config, ConfigError> {
    let (path, base) = SOURCE.get().expect("worker::main ran");
    config::load_in(path, base.as_deref())
}

/// Runs a worker: `check` for `--check`, otherwise `run`. Every error is printed as one line
/// prefixed with the worker's name, with exit code 2. Relative paths in the config are
/// resolved against `base_dir` when given, else against the config's folder.
pub fn main(
    name: &str,
    config_path: &Path,
    base_dir: Option<&Path>,
    check_only: bool,
    check: impl FnOnce(&Config) -> anyhow::Result<()>,
    run: impl FnOnce(&Config) -> anyhow::Result<()>,
) -> ExitCode {
    crate::shutdown::install();
    let _ = SOURCE.set((config_path.to_owned(), base_dir.map(Path::to_owned)));
    let config = match config::load_in(config_path, base_dir) {
        Ok(c) => c,
        Err(e) => return exit::fail(name, Fault::User, e),
    };
    if !check_only {
        crate::debug::set(name, config.debug);
    }
    let result = if check_only {
        check(&config)
    } else {
        run(&config)
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => exit::fail(name, Fault::User, format_args!("{e:#}")),
    }
}
