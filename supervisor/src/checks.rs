//! Before anything is created: each worker checks its part of the config (`--check`), so a
//! bad model, background or input is reported once, as one line, with exit code 2.

use crate::spawn::bin_dir;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use viba_common::check::SegmenterCheck;
use viba_common::stage::Stage;

/// Mask geometry reported by `viba-segmenter --check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MaskSize {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
}

/// Why the checks did not pass.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    /// A worker's binary cannot be run.
    #[error("cannot run {} ({cause}); build the workspace (cargo build --release) or set VIBA_BIN_DIR", program.display())]
    Spawn {
        /// The binary.
        program: PathBuf,
        /// The OS error.
        cause: std::io::Error,
    },
    /// Waiting for a worker failed.
    #[error("{0}")]
    Wait(std::io::Error),
    /// A worker found its part of the config unusable: its last line, without its name.
    #[error("{0}")]
    Failed(String),
    /// `viba-segmenter --check` passed without printing the mask geometry.
    #[error("viba-segmenter --check printed no geometry ({cause}): {stdout}")]
    NoGeometry {
        /// Why its output is not the report.
        cause: serde_json::Error,
        /// What it printed.
        stdout: String,
    },
    /// The segmenter was not among the checks, so there is no mask size.
    #[error("viba-segmenter --check reported nothing")]
    NothingReported,
}

/// Runs the three checks in parallel. `Err` holds the first failure's message, without the
/// worker's name prefix.
pub fn run(config_path: &Path) -> Result<MaskSize, CheckError> {
    run_some(config_path, None, &Stage::ALL, "--check")?.ok_or(CheckError::NothingReported)
}

/// Runs the checks of `stages` in parallel with `flag` (`--check`; the compositor also has
/// `--check-background`), relative paths resolved against `base_dir` when given. The mask
/// size is there when the segmenter was checked.
pub fn run_some(
    config_path: &Path,
    base_dir: Option<&Path>,
    stages: &[Stage],
    flag: &str,
) -> Result<Option<MaskSize>, CheckError> {
    let mut children = Vec::new();
    for &stage in stages {
        let program = bin_dir().join(stage.binary());
        let mut command = Command::new(&program);
        command.env(viba_common::worker::ORT_TELEMETRY_OFF_ENV, "1");
        if let Some(base) = base_dir {
            command.arg("--base-dir").arg(base);
        }
        let flag = if stage == Stage::Compositor {
            flag
        } else {
            "--check"
        };
        let child = command
            .arg("--config")
            .arg(config_path)
            .arg(flag)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|cause| CheckError::Spawn {
                program: program.clone(),
                cause,
            })?;
        children.push((stage, child));
    }
    let mut first_error = None;
    let mut mask = None;
    for (stage, child) in children {
        let out = child.wait_with_output().map_err(CheckError::Wait)?;
        if !out.status.success() {
            let stderr = String::from_utf8_lossy(&out.stderr);
            let line = stderr
                .lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("failed without a message");
            let line = line
                .strip_prefix(&format!("{}: ", stage.binary()))
                .unwrap_or(line)
                .to_owned();
            first_error.get_or_insert(line);
            continue;
        }
        if stage == Stage::Segmenter {
            let report: SegmenterCheck =
                serde_json::from_slice(&out.stdout).map_err(|cause| CheckError::NoGeometry {
                    cause,
                    stdout: String::from_utf8_lossy(&out.stdout).trim().to_owned(),
                })?;
            mask = Some(MaskSize {
                width: report.mask_width,
                height: report.mask_height,
            });
        }
    }
    match first_error {
        Some(e) => Err(CheckError::Failed(e)),
        None => Ok(mask),
    }
}
