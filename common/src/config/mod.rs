//! `viba.json`: parsing with unknown keys rejected, validation with key paths, and resolution
//! of relative paths against the config file's folder.
//!
//! Every error is one line naming the key and the offending value, e.g.
//! `segmentation.threshold: 7 is outside 0..1`.

pub mod cpus;
pub mod live;
pub mod models;
mod schema;

pub use schema::*;

use crate::names;
use crate::stats::Stage;
use std::path::{Path, PathBuf};

/// Why a config could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config {path}: {cause} (pass an existing file with --config)")]
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

/// Parses and validates config text; `path` is only used in messages. Keys that start with
/// `//` are comments, in any object.
pub fn parse(text: &str, path: &Path, base_dir: &Path) -> Result<Config, ConfigError> {
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
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

type Invalid = (String, String);

fn invalid(key: &str, message: impl Into<String>) -> Invalid {
    (key.to_owned(), message.into())
}

fn resolve(base: &Path, p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_owned()
    } else {
        base.join(p)
    }
}

fn existing_file(key: &str, base: &Path, p: &mut PathBuf, what: &str) -> Result<(), Invalid> {
    *p = resolve(base, p);
    if !p.is_file() {
        return Err(invalid(
            key,
            format!("{} does not exist or is not a file ({what})", p.display()),
        ));
    }
    Ok(())
}

fn validate(c: &mut Config) -> Result<(), Invalid> {
    let base = c.base_dir.clone();
    if !names::valid_instance(&c.instance) {
        return Err(invalid(
            "instance",
            format!(
                "\"{}\" is not a valid name (1 to 32 letters, digits, '-' or '_')",
                c.instance
            ),
        ));
    }

    let i = &mut c.input;
    for (key, v) in [("input.width", i.width), ("input.height", i.height)] {
        if v == 0 || v % 2 != 0 || v > 4096 {
            return Err(invalid(
                key,
                format!("{v} must be an even number of pixels from 2 to 4096"),
            ));
        }
    }
    if !(1..=120).contains(&i.fps) {
        return Err(invalid("input.fps", format!("{} is outside 1..120", i.fps)));
    }
    match i.source {
        SourceKind::Video | SourceKind::Image => match i.path.as_mut() {
            Some(p) => existing_file("input.path", &base, p, "the file to read frames from")?,
            None => {
                return Err(invalid(
                    "input.path",
                    "is required when input.source is \"video\" or \"image\"",
                ))
            }
        },
        SourceKind::Camera => {
            if i.device.is_empty() {
                return Err(invalid(
                    "input.device",
                    "is empty (name the camera, e.g. /dev/video0; list them with viba-supervisor --list-devices)",
                ));
            }
        }
        SourceKind::Synthetic => {}
    }

    let o = &mut c.output;
    match (o.width, o.height) {
        (None, None) => {}
        (Some(w), Some(h)) => {
            for (key, v) in [("output.width", w), ("output.height", h)] {
                if v == 0 || v % 2 != 0 || v > 4096 {
                    return Err(invalid(
                        key,
                        format!("{v} must be an even number of pixels from 2 to 4096"),
                    ));
                }
            }
        }
        (Some(_), None) | (None, Some(_)) => {
            return Err(invalid(
                if o.width.is_some() {
                    "output.height"
                } else {
                    "output.width"
                },
                "is missing: give output.width and output.height together, or neither (the fake webcam then has the input's size)",
            ))
        }
    }
    match o.sink {
        SinkKind::File => match o.path.as_mut() {
            Some(p) => *p = resolve(&base, p),
            None => {
                return Err(invalid(
                    "output.path",
                    "is required when output.sink is \"file\" (a .y4m file to write)",
                ))
            }
        },
        SinkKind::V4l2loopback => {
            if o.device.is_empty() {
                return Err(invalid(
                    "output.device",
                    "is empty (name the v4l2loopback device, e.g. /dev/video20)",
                ));
            }
        }
        SinkKind::Null => {}
    }
    if let Some(p) = o.snapshot.as_mut() {
        *p = resolve(&base, p);
    }
    if let Some(p) = o.pause_image.as_mut() {
        existing_file(
            "output.pause_image",
            &base,
            p,
            "a JPEG or PNG shown while paused",
        )?;
    }
    if o.max_frames == Some(0) {
        return Err(invalid(
            "output.max_frames",
            "0 must be at least 1 (or leave it out)",
        ));
    }

    let b = &mut c.background;
    let kinds = [
        b.image.is_some(),
        b.color.is_some(),
        b.blur.is_some(),
        b.video.is_some(),
    ];
    match kinds.iter().filter(|&&k| k).count() {
        0 => {
            return Err(invalid(
                "background",
                "needs an image (\"image\": \"path.jpg\"), a color (\"color\": \"#336699\"), a blur (\"blur\": 12) or a video (\"video\": \"path.y4m\")",
            ))
        }
        1 => {}
        _ => {
            return Err(invalid(
                "background",
                "has more than one of image, color, blur and video (keep one)",
            ))
        }
    }
    if let Some(p) = b.image.as_mut() {
        existing_file("background.image", &base, p, "a JPEG or PNG")?;
    }
    if let Some(p) = b.video.as_mut() {
        existing_file(
            "background.video",
            &base,
            p,
            "a video file: Y4M, or anything ffmpeg reads",
        )?;
    }
    if let Some(color) = &b.color {
        parse_color(color).ok_or_else(|| {
            invalid(
                "background.color",
                format!("\"{color}\" is not a colour (use #rrggbb, e.g. #336699)"),
            )
        })?;
    }
    if let Some(blur) = b.blur {
        if !(1.0..=50.0).contains(&blur) {
            return Err(invalid(
                "background.blur",
                format!("{blur} is outside 1..50"),
            ));
        }
    }
    match (&mut b.fallback, b.blur.is_some()) {
        (Some(_), false) => {
            return Err(invalid(
                "background.fallback",
                "is only used with blur (remove it, or use \"blur\")",
            ))
        }
        (Some(f), true) if f.starts_with('#') => {
            parse_color(f).ok_or_else(|| {
                invalid(
                    "background.fallback",
                    format!("\"{f}\" is not a colour (use #rrggbb, or a JPEG/PNG path)"),
                )
            })?;
        }
        (Some(f), true) => {
            let mut path = PathBuf::from(&*f);
            existing_file(
                "background.fallback",
                &base,
                &mut path,
                "a JPEG or PNG, or a colour #rrggbb",
            )?;
            *f = path.to_string_lossy().into_owned();
        }
        (None, _) => {}
    }

    let (w, h) = c.frame_size();
    let s = &mut c.segmentation;
    if s.model == Path::new(AUTO_MODEL) {
        let wanted = models::choose(w, h);
        let dirs = models::search_dirs(&base);
        s.model = models::find(&wanted, &dirs).ok_or_else(|| {
            let looked: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
            invalid(
                "segmentation.model",
                format!(
                    "\"auto\" wants the bundled {} and found it in none of {} (copy viba's models/ there, or name a model file)",
                    wanted.file,
                    looked.join(", ")
                ),
            )
        })?;
    } else {
        existing_file(
            "segmentation.model",
            &base,
            &mut s.model,
            "an ONNX model, or \"auto\"; the bundled ones are in models/",
        )?;
    }
    if !(s.threshold > 0.0 && s.threshold < 1.0) {
        return Err(invalid(
            "segmentation.threshold",
            format!("{} is outside 0..1", s.threshold),
        ));
    }
    if !(0.0..=1.0).contains(&s.softness) {
        return Err(invalid(
            "segmentation.softness",
            format!("{} is outside 0..1", s.softness),
        ));
    }
    if !(0.0..=0.95).contains(&s.smoothing) {
        return Err(invalid(
            "segmentation.smoothing",
            format!("{} is outside 0..0.95", s.smoothing),
        ));
    }
    if !(0.0..=1.0).contains(&s.islands) {
        return Err(invalid(
            "segmentation.islands",
            format!("{} is outside 0..1", s.islands),
        ));
    }
    if !(1..=64).contains(&s.threads) {
        return Err(invalid(
            "segmentation.threads",
            format!("{} is outside 1..64", s.threads),
        ));
    }
    if let Some(k) = s.std.iter().position(|v| !v.is_finite() || *v == 0.0) {
        return Err(invalid(
            &format!("segmentation.std[{k}]"),
            format!("{} must be a non-zero number", s.std[k]),
        ));
    }
    if let Some(k) = s.mean.iter().position(|v| !v.is_finite()) {
        return Err(invalid(
            &format!("segmentation.mean[{k}]"),
            "must be a finite number",
        ));
    }
    if let Some(p) = s.onnxruntime.as_mut() {
        existing_file(
            "segmentation.onnxruntime",
            &base,
            p,
            "libonnxruntime.so; scripts/setup.sh installs one into .ort/",
        )?;
    }

    let comp = &c.compositor;
    if !(1..=10_000).contains(&comp.max_mask_age_ms) {
        return Err(invalid(
            "compositor.max_mask_age_ms",
            format!("{} is outside 1..10000", comp.max_mask_age_ms),
        ));
    }
    if comp.mask_wait_ms > 1000 {
        return Err(invalid(
            "compositor.mask_wait_ms",
            format!("{} is outside 0..1000", comp.mask_wait_ms),
        ));
    }
    if !(1..=8).contains(&comp.refine_radius) {
        return Err(invalid(
            "compositor.refine_radius",
            format!("{} is outside 1..8", comp.refine_radius),
        ));
    }
    if !(1..=4).contains(&comp.refine_passes) {
        return Err(invalid(
            "compositor.refine_passes",
            format!("{} is outside 1..4", comp.refine_passes),
        ));
    }
    if !(0.000001..=1.0).contains(&comp.refine_eps) {
        return Err(invalid(
            "compositor.refine_eps",
            format!("{} is outside 0.000001..1", comp.refine_eps),
        ));
    }

    for stage in Stage::ALL {
        let sc = c.stages.get(stage);
        if let Some(list) = &sc.cpus {
            cpus::parse(list).map_err(|m| invalid(&format!("stages.{}.cpus", stage.name()), m))?;
        }
        if !(-20..=19).contains(&sc.nice) {
            return Err(invalid(
                &format!("stages.{}.nice", stage.name()),
                format!("{} is outside -20..19", sc.nice),
            ));
        }
    }

    let r = &c.restart;
    if r.backoff_ms == 0 || r.backoff_ms > 60_000 {
        return Err(invalid(
            "restart.backoff_ms",
            format!("{} is outside 1..60000", r.backoff_ms),
        ));
    }
    if r.max_backoff_ms < r.backoff_ms || r.max_backoff_ms > 600_000 {
        return Err(invalid(
            "restart.max_backoff_ms",
            format!(
                "{} must be between restart.backoff_ms ({}) and 600000",
                r.max_backoff_ms, r.backoff_ms
            ),
        ));
    }
    if !(1000..=600_000).contains(&r.stable_ms) {
        return Err(invalid(
            "restart.stable_ms",
            format!("{} is outside 1000..600000", r.stable_ms),
        ));
    }
    if r.crash_loop_after == 0 {
        return Err(invalid("restart.crash_loop_after", "0 must be at least 1"));
    }
    Ok(())
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

    /// The parsed CPU set of a stage (validated already), `None` when not pinned.
    pub fn stage_cpus(&self, stage: Stage) -> Option<Vec<usize>> {
        self.stages
            .get(stage)
            .cpus
            .as_deref()
            .and_then(|l| cpus::parse(l).ok())
    }
}

#[cfg(test)]
mod tests;
