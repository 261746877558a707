//! `viba.json`: parsing with unknown keys rejected, validation with key paths, and resolution
//! of relative paths against the config file's folder.
//!
//! Every error is one line naming the key and the offending value, e.g.
//! `segmentation.threshold: 7 is outside 0..1`.

pub mod cpus;
mod duplicates;
pub mod live;
pub mod models;
mod outputs;
mod schema;
mod validation;

pub use schema::*;

use crate::names;
use crate::stage::Stage;
use std::path::{Path, PathBuf};
use validation::validate;

/// Why a config could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config {}: {cause} ({})", path.display(), read_hint(cause))]
    Read {
        /// The config path.
        path: PathBuf,
        /// The OS error.
        cause: std::io::Error,
    },
    /// The JSON is malformed or a key has the wrong type or is unknown.
    #[error("config {path}: {key}: {message}")]
    Parse {
        /// The config path.
        path: PathBuf,
        /// Dotted key path (`.` for the top level).
        key: String,
        /// What is wrong.
        message: String,
    },
    /// A value is out of range, missing or names a missing file.
    #[error("config {path}: {key}: {message}")]
    Invalid {
        /// The config path.
        path: PathBuf,
        /// Dotted key path.
        key: String,
        /// What is wrong and how to fix it.
        message: String,
    },
}

impl ConfigError {
    /// The dotted key the error is about, if any.
    pub fn key(&self) -> Option<&str> {
        match self {
            ConfigError::Read { .. } => None,
            ConfigError::Parse { key, .. } | ConfigError::Invalid { key, .. } => Some(key),
        }
    }
}

/// The way out of a config file that cannot be read, by why.
pub fn read_hint(cause: &std::io::Error) -> &'static str {
    match cause.kind() {
        std::io::ErrorKind::PermissionDenied => "make it readable by this user",
        std::io::ErrorKind::IsADirectory => "pass the config file, not its folder, with --config",
        _ => "pass an existing file with --config",
    }
}

/// Reads, parses, validates and resolves a config file.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    load_in(path, None)
}

/// The folder relative paths in the config at `path` are resolved against: its own.
pub fn base_dir_of(path: &Path) -> PathBuf {
    let base_dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::canonicalize(base_dir).unwrap_or_else(|_| base_dir.to_owned())
}

/// Like [`load`], with relative paths resolved against `base_dir` when given (the supervisor
/// hands its workers a copy of the config with live changes, kept elsewhere).
pub fn load_in(path: &Path, base_dir: Option<&Path>) -> Result<Config, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|cause| ConfigError::Read {
        path: path.to_owned(),
        cause,
    })?;
    let base_dir = base_dir.map_or_else(|| base_dir_of(path), Path::to_owned);
    parse(&text, path, &base_dir)
}

/// The config's text without a byte-order mark (some Windows editors write one; it is no
/// part of the JSON). Whatever reads a config's JSON reads it through this.
pub fn without_bom(text: &str) -> &str {
    text.strip_prefix('\u{feff}').unwrap_or(text)
}

/// Parses and validates config text; `path` is only used in messages. Keys that start with
/// `//` are comments, in any object.
pub fn parse(text: &str, path: &Path, base_dir: &Path) -> Result<Config, ConfigError> {
    let text = without_bom(text);
    let mut value: serde_json::Value = serde_json::from_str(text).map_err(|inner| {
        let message = strip_position(&inner.to_string());
        ConfigError::Parse {
            path: path.to_owned(),
            key: ".".into(),
            message: format!(
                "{message} (line {} column {})",
                inner.line(),
                inner.column()
            ),
        }
    })?;
    if let Some(key) = duplicates::first_duplicate(text) {
        return Err(ConfigError::Parse {
            path: path.to_owned(),
            key,
            message: "is given twice in its object; JSON keeps only the last (keep one)".into(),
        });
    }
    strip_comments(&mut value);
    let mut config: Config = serde_path_to_error::deserialize(value).map_err(|e| {
        let key = e.path().to_string();
        ConfigError::Parse {
            path: path.to_owned(),
            key,
            message: strip_position(&e.into_inner().to_string()),
        }
    })?;
    config.base_dir = base_dir.to_owned();
    validate(&mut config).map_err(|(key, message)| ConfigError::Invalid {
        path: path.to_owned(),
        key,
        message,
    })?;
    Ok(config)
}

/// Removes every key that starts with `//` (a comment), in every object.
fn strip_comments(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            map.retain(|k, _| !k.starts_with("//"));
            map.values_mut().for_each(strip_comments);
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(strip_comments),
        _ => {}
    }
}

fn strip_position(message: &str) -> String {
    let message = match message.rfind(" at line ") {
        Some(i) => &message[..i],
        None => message,
    };
    plain_types(message)
}

/// serde's names of Rust types in words: `expected u32` reads `expected a whole number`.
fn plain_types(message: &str) -> String {
    let Some((head, expected)) = message.rsplit_once("expected ") else {
        return message.to_owned();
    };
    let words = match expected {
        "u8" | "u16" | "u32" | "u64" | "usize" => "a whole number, 0 or more",
        "i8" | "i16" | "i32" | "i64" | "isize" => "a whole number",
        "f32" | "f64" => "a number",
        "a boolean" => "true or false",
        other if other.starts_with("struct ") => "an object { ... } of keys",
        other if other.starts_with("enum ") => "one of the values the README lists for this key",
        other => other,
    };
    format!("{head}expected {words}")
}

/// See [`Config::frame_size`]: the part of `input` in the aspect of `output` (cropped as cover
/// does), or `output` itself when that is not larger; even sizes.
pub fn frame_size(input: (u32, u32), output: (u32, u32)) -> (u32, u32) {
    let (iw, ih) = (input.0 as u64, input.1 as u64);
    let (ow, oh) = (output.0 as u64, output.1 as u64);
    // The largest rectangle of the output's aspect inside the input.
    let (cw, ch) = if iw * oh > ow * ih {
        (ih * ow / oh, ih)
    } else {
        (iw, iw * oh / ow)
    };
    if ow * oh <= cw * ch {
        return output;
    }
    let even = |v: u64| (v.max(2) & !1) as u32;
    (even(cw), even(ch))
}

/// Parses `#rrggbb`.
pub fn parse_color(s: &str) -> Option<[u8; 3]> {
    let hex = s.strip_prefix('#')?;
    if hex.len() != 6 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let byte = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).ok();
    Some([byte(0)?, byte(2)?, byte(4)?])
}

impl Stages {
    /// The settings of one stage.
    pub fn get(&self, stage: Stage) -> &StageConfig {
        match stage {
            Stage::Capture => &self.capture,
            Stage::Segmenter => &self.segmenter,
            Stage::Compositor => &self.compositor,
        }
    }

    /// The settings of one stage, to change (validation fills [`StageConfig::cpu_set`]).
    pub(crate) fn get_mut(&mut self, stage: Stage) -> &mut StageConfig {
        match stage {
            Stage::Capture => &mut self.capture,
            Stage::Segmenter => &mut self.segmenter,
            Stage::Compositor => &mut self.compositor,
        }
    }
}

impl Config {
    /// Checks that every configured CPU is one this process may run on. The supervisor calls
    /// this; workers skip it, since they already run pinned to their own subset.
    pub fn check_cpus_available(&self, path: &Path) -> Result<(), ConfigError> {
        let available = cpus::available();
        for stage in Stage::ALL {
            let Some(set) = self.stage_cpus(stage) else {
                continue;
            };
            if let Some(bad) = set.iter().find(|cpu| !available.contains(cpu)) {
                return Err(ConfigError::Invalid {
                    path: path.to_owned(),
                    key: format!("stages.{}.cpus", stage.name()),
                    message: format!(
                        "cpu {bad} is not available here (available: {})",
                        cpus::format(&available)
                    ),
                });
            }
        }
        Ok(())
    }

    /// The fake webcam's size: `output.width` x `output.height`, else the input's.
    pub fn output_size(&self) -> (u32, u32) {
        match (self.output.width, self.output.height) {
            (Some(w), Some(h)) => (w, h),
            _ => (self.input.width, self.input.height),
        }
    }

    /// The size frames travel at through the rings, are segmented and composited at: the
    /// smaller of the output and the input, in the output's aspect. Capture scales the camera's
    /// picture to it (cropping the input to the output's aspect, as it covers any size); the
    /// compositor scales the composite up to the output when the output is larger. So a
    /// larger fake webcam costs one scaling of the finished picture and nothing else, and a
    /// smaller one is cheaper in every stage: nothing works on pixels the call never sees.
    pub fn frame_size(&self) -> (u32, u32) {
        frame_size((self.input.width, self.input.height), self.output_size())
    }

    /// Shared-memory name of one of this instance's segments (`frames`, `masks`, `stats`).
    pub fn segment(&self, what: names::Segment) -> String {
        names::segment(&self.instance, what)
    }

    /// Whether the pipeline idles while no application reads the fake camera: the sink is a
    /// v4l2loopback device and `output.idle_when_unused` is on.
    pub fn idles_when_unused(&self) -> bool {
        self.output.sink == SinkKind::V4l2loopback && self.output.idle_when_unused
    }

    /// The CPU set of a stage, as validation parsed it ([`StageConfig::cpu_set`]); `None` when
    /// not pinned.
    pub fn stage_cpus(&self, stage: Stage) -> Option<Vec<usize>> {
        self.stages.get(stage).cpu_set.clone()
    }
}

#[cfg(test)]
mod tests;
