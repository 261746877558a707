//! Finding and loading the ONNX Runtime shared library (ort's `load-dynamic`).

use std::path::{Path, PathBuf};
use viba_common::config::Segmentation;

/// The library version the project installs (scripts/setup.sh).
pub const ORT_VERSION: &str = "1.31.1";

/// Why ONNX Runtime could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// No candidate file exists and the system has none either, or loading failed.
    #[error("onnx runtime library {path} could not be loaded: {cause} (run scripts/setup.sh, or set segmentation.onnxruntime or ORT_DYLIB_PATH to libonnxruntime.so.{ORT_VERSION})")]
    Load {
        /// What was tried last.
        path: String,
        /// What the loader said.
        cause: String,
    },
}

/// Where to look for the library, in order: the config key, `$ORT_DYLIB_PATH`, next to the
/// executable, `../lib/viba/` beside it (where `scripts/install.sh` and the Debian package put
/// it), the `.ort/` folder of the checkout the binary was built in; then the system's
/// `libonnxruntime.so.1` through the dynamic loader's search path.
pub fn candidates(config: &Segmentation) -> Vec<PathBuf> {
    let file = format!("libonnxruntime.so.{ORT_VERSION}");
    let mut out = Vec::new();
    if let Some(p) = &config.onnxruntime {
        return vec![p.clone()];
    }
    if let Some(p) = std::env::var_os("ORT_DYLIB_PATH").filter(|p| !p.is_empty()) {
        return vec![PathBuf::from(p)];
    }
    if let Some(dir) = std::env::current_exe()
        .ok()
        .and_then(|e| e.parent().map(Path::to_owned))
    {
        out.push(dir.join(&file));
        out.push(dir.join("../lib/viba").join(&file));
    }
    out.push(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../.ort/onnxruntime/capi")
            .join(&file),
    );
    out
}

/// Loads ONNX Runtime and builds its environment.
pub fn init(config: &Segmentation) -> Result<ort::environment::Environment, RuntimeError> {
    let candidates = candidates(config);
    let explicit = config.onnxruntime.is_some() || std::env::var_os("ORT_DYLIB_PATH").is_some();
    let path = if explicit {
        candidates[0].clone()
    } else {
        candidates
            .into_iter()
            .find(|p| p.is_file())
            .unwrap_or_else(|| PathBuf::from("libonnxruntime.so.1"))
    };
    let load_error = |cause: String| RuntimeError::Load {
        path: path.display().to_string(),
        cause,
    };
    if path.components().count() > 1 && !path.is_file() {
        return Err(load_error("no such file".into()));
    }
    // The file that was checked is the one loaded (not a link that could change meanwhile).
    let load = if path.components().count() > 1 {
        trusted(&path).map_err(load_error)?;
        std::fs::canonicalize(&path).map_err(|e| load_error(e.to_string()))?
    } else {
        path.clone()
    };
    // ONNX Runtime (1.29 on) has telemetry on Linux too, on unless switched off before the
    // library starts: a thread that keeps a device id and an event database under
    // ~/.cache/Microsoft and tries to reach its upload server every second. A camera filter
    // sends nothing anywhere, and an idle pipeline should not wake for it. The supervisor
    // starts the segmenter with the variable set; otherwise it is set here, once, before the
    // library is loaded: call `init` before starting threads that could read the environment
    // meanwhile (the worker and the examples do; the tests call it from a test thread, and
    // `scripts/test.sh` sets the variable, so it is not set there).
    let off = viba_common::worker::ORT_TELEMETRY_OFF_ENV;
    if std::env::var_os(off).is_none_or(|v| v != "1") {
        std::env::set_var(off, "1");
    }
    let builder = ort::init_from(&load).map_err(|e| load_error(e.to_string()))?;
    viba_common::debug_line!(
        "viba-segmenter",
        "ONNX Runtime: {}",
        std::fs::canonicalize(&path)
            .unwrap_or(path.clone())
            .display()
    );
    // Also through the API (builds that read no environment variable).
    builder
        .with_name("viba")
        .with_telemetry(false)
        .build()
        .map_err(|e| load_error(e.to_string()))
}

/// Code loaded into the segmenter runs with the user's rights and sees the camera's frames: the
/// library and its folder must belong to root or to the user, and no one else may write them.
fn trusted(library: &Path) -> Result<(), String> {
    use std::os::unix::fs::MetadataExt;
    let uid = nix::unistd::geteuid().as_raw();
    let resolved = std::fs::canonicalize(library).map_err(|e| e.to_string())?;
    let folder = resolved.parent().unwrap_or(Path::new("/"));
    for p in [resolved.as_path(), folder] {
        let meta = std::fs::metadata(p).map_err(|e| format!("{}: {e}", p.display()))?;
        if meta.uid() != 0 && meta.uid() != uid {
            return Err(format!(
                "{} belongs to uid {}, neither root nor you: not loaded",
                p.display(),
                meta.uid()
            ));
        }
        if meta.mode() & 0o022 != 0 {
            return Err(format!(
                "{} has mode {:o}: others may change it, so it is not loaded",
                p.display(),
                meta.mode() & 0o7777
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn a_library_others_may_change_is_not_loaded() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let lib = dir.path().join("libonnxruntime.so");
        std::fs::write(&lib, b"").unwrap();
        std::fs::set_permissions(&lib, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert_eq!(trusted(&lib), Ok(()));
        std::fs::set_permissions(&lib, std::fs::Permissions::from_mode(0o666)).unwrap();
        assert!(trusted(&lib).unwrap_err().contains("has mode 666"));
        std::fs::set_permissions(&lib, std::fs::Permissions::from_mode(0o644)).unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
        assert!(trusted(&lib).unwrap_err().contains("has mode 777"));
    }
}
