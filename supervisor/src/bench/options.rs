//! The options of a benchmark run (frame sizes, pacing, input, provider, CPU pinning) and the
//! `viba.json` they make for one run.

use serde::Serialize;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use viba_common::stage::Stage;

/// A frame size, `WIDTHxHEIGHT`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Size {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
}

impl FromStr for Size {
    type Err = String;

    fn from_str(s: &str) -> Result<Size, String> {
        let bad = || format!("\"{s}\" is not a size (use WIDTHxHEIGHT, e.g. 1280x720)");
        let (w, h) = s.trim().split_once(['x', 'X']).ok_or_else(bad)?;
        let width: u32 = w.trim().parse().map_err(|_| bad())?;
        let height: u32 = h.trim().parse().map_err(|_| bad())?;
        for v in [width, height] {
            if v == 0 || v % 2 != 0 || v > 4096 {
                return Err(format!(
                    "\"{s}\": {v} must be an even number of pixels from 2 to 4096"
                ));
            }
        }
        Ok(Size { width, height })
    }
}

impl std::fmt::Display for Size {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}x{}", self.width, self.height)
    }
}

/// Parses a comma-separated list of sizes.
pub fn parse_sizes(list: &str) -> Result<Vec<Size>, String> {
    let sizes = list
        .split(',')
        .filter(|s| !s.trim().is_empty())
        .map(Size::from_str)
        .collect::<Result<Vec<_>, _>>()?;
    if sizes.is_empty() {
        return Err("no sizes given (use e.g. 640x480,1280x720)".into());
    }
    Ok(sizes)
}

/// How fast the capture stage delivers frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Pace {
    /// At `--fps`, like a camera.
    Realtime,
    /// As fast as possible (throughput).
    Fast,
}

/// The frame source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum InputKind {
    /// `testdata/astronaut.png`, slowly moving (a real person for the model).
    Image,
    /// The generated test pattern.
    Synthetic,
    /// The moving image as an MJPEG webcam would send it (JPEG 4:2:2, quality 90), decoded
    /// by the camera source's decoder: capture's figure includes the decode.
    Mjpeg,
}

/// Where the segmenter runs the model (`segmentation.execution_provider`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    /// ONNX Runtime's CPU provider.
    Cpu,
    /// ONNX Runtime's CUDA provider (the GPU runtime from `VIBA_ORT=gpu scripts/setup.sh`).
    Cuda,
}

/// CPU lists (taskset syntax) per stage; `None` = not pinned.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Pinning {
    /// viba-capture.
    pub capture: Option<String>,
    /// viba-segmenter.
    pub segmenter: Option<String>,
    /// viba-compositor.
    pub compositor: Option<String>,
}

impl Pinning {
    /// capture and compositor on CPU 0, segmenter on CPU 1, when there are at least two CPUs;
    /// nothing pinned otherwise.
    pub fn defaults(cpus: usize) -> Pinning {
        if cpus >= 2 {
            Pinning {
                capture: Some("0".into()),
                segmenter: Some("1".into()),
                compositor: Some("0".into()),
            }
        } else {
            Pinning::default()
        }
    }

    fn slot(&mut self, stage: Stage) -> &mut Option<String> {
        match stage {
            Stage::Capture => &mut self.capture,
            Stage::Segmenter => &mut self.segmenter,
            Stage::Compositor => &mut self.compositor,
        }
    }

    /// The list of one stage.
    pub fn get(&self, stage: Stage) -> Option<&str> {
        match stage {
            Stage::Capture => self.capture.as_deref(),
            Stage::Segmenter => self.segmenter.as_deref(),
            Stage::Compositor => self.compositor.as_deref(),
        }
        .filter(|s| !s.is_empty())
    }

    /// Applies `capture=0,segmenter=1-3,compositor=0,2` on top of `self`: a part without `=`
    /// continues the previous stage's CPU list; `STAGE=none` unpins a stage; `none` alone
    /// unpins all. Stages not named keep their value.
    pub fn apply(&mut self, spec: &str) -> Result<(), String> {
        if spec.trim() == "none" {
            *self = Pinning::default();
            return Ok(());
        }
        let mut current: Option<Stage> = None;
        for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            match part.split_once('=') {
                Some((name, list)) => {
                    let stage = Stage::parse(name.trim()).ok_or_else(|| {
                        format!(
                            "--cpus: unknown stage \"{name}\" (use capture, segmenter or compositor)"
                        )
                    })?;
                    let list = list.trim();
                    *self.slot(stage) = if list == "none" {
                        None
                    } else {
                        viba_common::config::cpus::parse(list)
                            .map_err(|e| format!("--cpus {name}: {e}"))?;
                        Some(list.to_owned())
                    };
                    current = Some(stage);
                }
                None => {
                    let stage = current.ok_or_else(|| {
                        format!("--cpus: \"{part}\" names no stage (use e.g. capture=0,segmenter=1,compositor=0)")
                    })?;
                    let slot = self.slot(stage);
                    let joined = match slot.take() {
                        Some(prev) => format!("{prev},{part}"),
                        None => part.to_owned(),
                    };
                    viba_common::config::cpus::parse(&joined)
                        .map_err(|e| format!("--cpus {}: {e}", stage.name()))?;
                    *slot = Some(joined);
                }
            }
        }
        Ok(())
    }

    /// `capture=0 segmenter=1 compositor=0` (or `unpinned`).
    pub fn describe(&self) -> String {
        let parts: Vec<String> = Stage::ALL
            .into_iter()
            .filter_map(|s| self.get(s).map(|l| format!("{}={l}", s.name())))
            .collect();
        if parts.is_empty() {
            "unpinned".into()
        } else {
            parts.join(" ")
        }
    }
}

/// Everything one benchmark run needs.
#[derive(Debug, Clone, Serialize)]
pub struct Options {
    /// Frame sizes, one pipeline run each.
    pub sizes: Vec<Size>,
    /// Measuring window, seconds.
    pub seconds: f64,
    /// Warm-up after the first composite, seconds.
    pub warmup: f64,
    /// Capture frame rate.
    pub fps: u32,
    /// Capture pacing.
    pub pace: Pace,
    /// ONNX model, or `auto` (`segmentation.model`'s default).
    pub model: PathBuf,
    /// Execution provider of the segmenter.
    pub provider: Provider,
    /// Frame source.
    pub input: InputKind,
    /// Picture for `InputKind::Image`.
    pub image: PathBuf,
    /// Background picture.
    pub background: PathBuf,
    /// CPU pinning of the workers.
    pub pinning: Pinning,
    /// The `viba-supervisor` executable.
    pub supervisor: PathBuf,
    /// Merged into each run's config (e.g. `{"background":{"blur":12}}`).
    pub patch: serde_json::Value,
    /// Rounds: every size is measured this many times (rounds interleaved) and reported as
    /// the medians.
    pub repeat: usize,
    /// Measure the pipeline idling instead: the output goes to this v4l2loopback device
    /// (`output.idle_when_unused`), which nobody opens, so the pipeline idles once started.
    pub idle: Option<PathBuf>,
}

/// The repository the binaries were built from (`supervisor/..`).
pub fn repo_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The `viba.json` of one run.
///
/// `dir` is the run's folder: `InputKind::Mjpeg` reads `dir/input.mjpeg` ([`mjpeg_clip`]).
///
/// [`mjpeg_clip`]: super::mjpeg_clip
pub fn config_json(options: &Options, size: Size, instance: &str, dir: &Path) -> serde_json::Value {
    let input = match options.input {
        InputKind::Image => serde_json::json!({
            "source": "image",
            "path": options.image,
            "motion": true,
        }),
        InputKind::Synthetic => serde_json::json!({ "source": "synthetic" }),
        InputKind::Mjpeg => serde_json::json!({
            "source": "video",
            "path": mjpeg_path(dir),
            "loop": true,
        }),
    };
    let mut input = input;
    let fields = input.as_object_mut().expect("object");
    fields.insert("width".into(), size.width.into());
    fields.insert("height".into(), size.height.into());
    fields.insert("fps".into(), options.fps.into());
    fields.insert(
        "pace".into(),
        serde_json::to_value(options.pace).expect("enum"),
    );
    let stage = |s: Stage| match options.pinning.get(s) {
        Some(list) => serde_json::json!({ "cpus": list }),
        None => serde_json::json!({}),
    };
    let mut config = serde_json::json!({
        "instance": instance,
        "input": input,
        "output": { "sink": "null" },
        "background": { "image": options.background },
        "segmentation": {
            "model": options.model,
            "execution_provider": serde_json::to_value(options.provider).expect("enum"),
        },
        "stages": {
            "capture": stage(Stage::Capture),
            "segmenter": stage(Stage::Segmenter),
            "compositor": stage(Stage::Compositor),
        },
    });
    if let Some(device) = &options.idle {
        config["output"] = serde_json::json!({
            "sink": "v4l2loopback",
            "device": device,
            "idle_when_unused": true,
        });
    }
    crate::json_patch::merge(&mut config, &options.patch);
    config
}

/// The MJPEG clip of a run whose folder is `dir`.
pub(super) fn mjpeg_path(dir: &Path) -> PathBuf {
    dir.join("input.mjpeg")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_and_reject() {
        assert_eq!(
            parse_sizes("640x480, 1280x720").unwrap(),
            vec![
                Size {
                    width: 640,
                    height: 480
                },
                Size {
                    width: 1280,
                    height: 720
                }
            ]
        );
        assert!(parse_sizes("641x480").is_err());
        assert!(parse_sizes("1280").is_err());
        assert!(parse_sizes("").is_err());
        assert_eq!(
            Size::from_str("1920X1080").unwrap().to_string(),
            "1920x1080"
        );
    }

    #[test]
    fn pinning_spec() {
        let mut p = Pinning::defaults(2);
        assert_eq!(p.describe(), "capture=0 segmenter=1 compositor=0");
        p.apply("segmenter=1-3,compositor=0,2").unwrap();
        assert_eq!(p.segmenter.as_deref(), Some("1-3"));
        assert_eq!(p.compositor.as_deref(), Some("0,2"));
        assert_eq!(p.capture.as_deref(), Some("0"));
        p.apply("capture=none").unwrap();
        assert_eq!(p.capture, None);
        p.apply("none").unwrap();
        assert_eq!(p, Pinning::default());
        assert_eq!(Pinning::defaults(1).describe(), "unpinned");
        assert!(p.apply("camera=0").is_err());
        assert!(p.apply("0,1").is_err());
        assert!(p.apply("capture=x").is_err());
    }
}
