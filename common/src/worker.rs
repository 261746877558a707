//! What every worker's `main` does: install the signal handlers, load the config, then check
//! or run, and turn the outcome into an exit code (0 done, 2 with one line on stderr).

use crate::config::{self, Config};
use std::path::Path;
use std::process::ExitCode;

/// Runs a worker: `check` for `--check`, otherwise `run`. Every error is printed as one line
/// prefixed with the worker's name, with exit code 2.
pub fn main(
    name: &str,
    config_path: &Path,
    check_only: bool,
    check: impl FnOnce(&Config) -> anyhow::Result<()>,
    run: impl FnOnce(&Config) -> anyhow::Result<()>,
) -> ExitCode {
    crate::shutdown::install();
    let config = match config::load(config_path) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{name}: {e}");
            return ExitCode::from(2);
        }
    };
    let result = if check_only {
        check(&config)
    } else {
        run(&config)
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{name}: {e:#}");
            ExitCode::from(2)
        }
    }
}
