//! The structure of `viba.json`, with defaults. Every key is documented in the README.

use serde::Deserialize;
use std::path::PathBuf;

/// The whole configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Names the shared-memory segments and the control socket; run several viba side by side
    /// with different instance names.
    #[serde(default = "default_instance")]
    pub instance: String,
    /// Where frames come from.
    #[serde(default)]
    pub input: Input,
    /// Where composites go.
    #[serde(default)]
    pub output: Output,
    /// What replaces the room.
    pub background: Background,
    /// The person segmentation model.
    #[serde(default)]
    pub segmentation: Segmentation,
    /// Blending and the privacy fail-safe.
    #[serde(default)]
    pub compositor: Compositor,
    /// Per-process CPU sets and nice levels.
    #[serde(default)]
    pub stages: Stages,
    /// Restart policy for crashed workers.
    #[serde(default)]
    pub restart: Restart,
    /// Every stage says what it does: once a second its rates and times, and its device
    /// opens, mode choices and restarts (`viba-supervisor --debug`, `ctl debug on|off`).
    #[serde(default)]
    pub debug: bool,
    /// Folder of the config file; relative paths are resolved against it (not a key).
    #[serde(skip)]
    pub base_dir: PathBuf,
}

fn default_instance() -> String {
    "default".into()
}

/// Kinds of frame source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceKind {
    /// A V4L2 webcam.
    Camera,
    /// A video file (Y4M and Motion JPEG natively, anything else through ffmpeg).
    Video,
    /// A still image, optionally moving.
    Image,
    /// A generated test pattern.
    Synthetic,
}

/// Camera pixel formats to ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CameraFormat {
    /// YUYV when offered, else MJPEG.
    Auto,
    /// Packed 4:2:2.
    Yuyv,
    /// Motion JPEG, decoded.
    Mjpeg,
}

/// What a camera mode gives up first when none gives both the asked size and rate
/// (`input.prefer`; see [`crate::camera_mode`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ModePreference {
    /// Keep the rate: a smaller size, scaled up (at most 2x).
    Rate,
    /// Keep the size: a lower rate (at least half).
    Size,
}

/// How fast a file or synthetic source delivers frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Pace {
    /// At `fps`, like a camera.
    Realtime,
    /// As fast as the ring takes them (benchmarks).
    Fast,
}

/// `input`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Input {
    /// Source kind.
    pub source: SourceKind,
    /// Camera device (`source: camera`).
    pub device: String,
    /// File (`source: video` or `image`).
    pub path: Option<PathBuf>,
    /// Frame width in pixels (even). Sources are scaled to cover it.
    pub width: u32,
    /// Frame height in pixels (even).
    pub height: u32,
    /// Frames per second.
    pub fps: u32,
    /// Camera pixel format.
    pub format: CameraFormat,
    /// Camera mode: the rate or the size first, when the camera cannot give both.
    pub prefer: ModePreference,
    /// Image source: move the picture around so tests and demos see motion.
    pub motion: bool,
    /// Video source: start again at the end (otherwise the pipeline finishes).
    #[serde(rename = "loop")]
    pub looping: bool,
    /// Pacing of file and synthetic sources.
    pub pace: Pace,
}

impl Default for Input {
    fn default() -> Self {
        Input {
            source: SourceKind::Camera,
            device: "/dev/video0".into(),
            path: None,
            width: 1280,
            height: 720,
            fps: 30,
            format: CameraFormat::Auto,
            prefer: ModePreference::Rate,
            motion: true,
            looping: true,
            pace: Pace::Realtime,
        }
    }
}

/// Kinds of sink.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SinkKind {
    /// The fake webcam.
    V4l2loopback,
    /// A Y4M video file.
    File,
    /// Nothing (benchmarks).
    Null,
}

/// Output pixel formats for the fake camera.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum OutputFormat {
    /// Packed 4:2:2.
    #[serde(rename = "YUYV")]
    Yuyv,
    /// Planar 4:2:0 (I420).
    #[serde(rename = "YU12")]
    Yu12,
    /// 24-bit RGB.
    #[serde(rename = "RGB3")]
    Rgb3,
}

/// `output`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Output {
    /// Sink kind.
    pub sink: SinkKind,
    /// Loopback device (`sink: v4l2loopback`).
    pub device: String,
    /// Pixel format sent to the loopback device.
    pub format: OutputFormat,
    /// Y4M file (`sink: file`).
    pub path: Option<PathBuf>,
    /// PNG written on `ctl snapshot` (SIGUSR1 to the compositor) and when the compositor ends.
    pub snapshot: Option<PathBuf>,
    /// Stop the whole pipeline after this many composites (demos, tests).
    pub max_frames: Option<u64>,
    /// While no application has the fake camera open, release the camera and stop
    /// segmenting and compositing (`sink: v4l2loopback` only).
    pub idle_when_unused: bool,
    /// Flip the output left to right (a mirror view). Background images are flipped first,
    /// so they read the right way round.
    pub mirror: bool,
    /// The fake webcam's own width (with `height`; default: the input's). See
    /// [`Config::frame_size`] for where the picture is scaled.
    pub width: Option<u32>,
    /// The fake webcam's own height (with `width`).
    pub height: Option<u32>,
    /// JPEG or PNG shown while paused (`ctl pause`), e.g. "be right back"; default: the
    /// background alone (for a blur background, its `fallback`).
    pub pause_image: Option<PathBuf>,
}

impl Default for Output {
    fn default() -> Self {
        Output {
            sink: SinkKind::V4l2loopback,
            device: "/dev/video20".into(),
            format: OutputFormat::Yuyv,
            path: None,
            snapshot: None,
            max_frames: None,
            idle_when_unused: true,
            mirror: false,
            width: None,
            height: None,
            pause_image: None,
        }
    }
}

/// `background`: exactly one of `image`, `color`, `blur` and `video`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Background {
    /// JPEG or PNG, scaled to cover the frame and cropped.
    pub image: Option<PathBuf>,
    /// A solid colour, `#rrggbb`.
    pub color: Option<String>,
    /// The room itself, blurred: the blur radius in pixels of a 720-line frame (1..50).
    pub blur: Option<f32>,
    /// A video file, looped: Y4M and Motion JPEG read natively, anything else decoded by `ffmpeg`.
    pub video: Option<PathBuf>,
    /// With `blur`: what is shown while no usable mask exists (the blurred room is made from
    /// the camera frame and needs the mask): a colour `#rrggbb` or a JPEG/PNG path.
    pub fallback: Option<String>,
    /// What the keys above say, as validation found it (not a key): the one kind given, its
    /// colours parsed and its paths resolved. `None` only in a config that was not validated.
    #[serde(skip)]
    pub kind: Option<BackgroundKind>,
}

/// The default `background.fallback`.
pub const DEFAULT_FALLBACK: &str = "#404040";

/// [`DEFAULT_FALLBACK`], parsed.
pub const DEFAULT_FALLBACK_COLOR: [u8; 3] = [0x40, 0x40, 0x40];

/// A still picture: a solid colour or a JPEG/PNG file.
#[derive(Debug, Clone, PartialEq)]
pub enum Still {
    /// A colour, RGB.
    Color([u8; 3]),
    /// A JPEG or PNG file (resolved against the config's folder).
    Picture(PathBuf),
}

/// The background a validated config names ([`Background::kind`]).
#[derive(Debug, Clone, PartialEq)]
pub enum BackgroundKind {
    /// `image`: a JPEG or PNG file.
    Image(PathBuf),
    /// `color`, parsed (RGB).
    Color([u8; 3]),
    /// `blur`: the room blurred, and what is shown while there is no usable mask
    /// (`fallback`, else [`DEFAULT_FALLBACK`]).
    Blur {
        /// The blur radius in pixels of a 720-line frame.
        strength: f32,
        /// Shown while there is no usable mask.
        fallback: Still,
    },
    /// `video`: a video file, looped.
    Video(PathBuf),
}

/// Execution providers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ExecutionProvider {
    /// ONNX Runtime's CPU provider.
    Cpu,
    /// NVIDIA CUDA; fails loudly when unavailable, never falls back to CPU.
    Cuda,
}

/// `segmentation.model` naming no file: choose a bundled model by the fit and the frame's aspect.
pub const AUTO_MODEL: &str = "auto";

/// How a frame is fitted to the model's input (`segmentation.fit`). `stretch` is the
/// default: with `model: "auto"` 16:9 frames fit their model anyway, and on other shapes
/// (4:3, 5:4, square, portrait) a stretch into the landscape model scored better than
/// padding or the general model in the picture benchmark (docs/QUALITY.md), as these models
/// were trained on stretched frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Fit {
    /// Scaled to fit inside the input, aspect kept, the rest filled by repeating the frame's
    /// edge pixels; the mask of the frame's part is used.
    Pad,
    /// Stretched to the input's size (the aspect changes unless it is the same).
    Stretch,
}

/// `segmentation`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Segmentation {
    /// ONNX model file, or `auto` (the default): the bundled model for the frame's shape and fit
    /// ([`crate::config::models::choose`]); validation replaces it with that file.
    pub model: PathBuf,
    /// How the frame is fitted to the model's input.
    pub fit: Fit,
    /// Mask probability at which a pixel counts as person (0..1, exclusive).
    pub threshold: f32,
    /// Width of the soft edge around the threshold, in probability units (0..1).
    pub softness: f32,
    /// Temporal smoothing: the share of the last mask kept where the frame has not changed
    /// (0 = off, up to 0.95); where it changed, the new mask is taken at once.
    pub smoothing: f32,
    /// Parts of the mask not joined to the largest and smaller than this share of it are
    /// dropped (a cushion or a blanket the model took for a person); 0: off.
    pub islands: f32,
    /// A learnt background plate: where the frame matches the room seen at that place before
    /// (away from the person, over many frames), the model's mask is lowered.
    pub plate: bool,
    /// A person at most about 0.8 of the frame's height wide is segmented in a square around
    /// them (the frame's height on a side) with the bundled square model: about 1.8 times the
    /// cells on the person at 16:9 (1.33 across at 4:3), for about twice the model's CPU while
    /// it is on. Used with `model: "auto"`, `fit: "stretch"` and frames of 4:3 and wider;
    /// elsewhere it does nothing.
    pub zoom: bool,
    /// The square model the zoom runs: resolved by validation (`None`: no zoom).
    #[serde(skip)]
    pub zoom_model: Option<PathBuf>,
    /// ONNX Runtime execution provider.
    pub execution_provider: ExecutionProvider,
    /// ONNX Runtime intra-op threads.
    pub threads: u32,
    /// Model input = (pixel - mean) / std per RGB channel, pixel in 0..255.
    pub mean: [f32; 3],
    /// See `mean`.
    pub std: [f32; 3],
    /// Path of `libonnxruntime.so`; default: `$ORT_DYLIB_PATH`, else `.ort/` of the checkout
    /// the binaries were built in, else the system's `libonnxruntime.so.1`.
    pub onnxruntime: Option<PathBuf>,
    /// CUDA device index.
    pub cuda_device: u32,
}

impl Default for Segmentation {
    fn default() -> Self {
        Segmentation {
            model: AUTO_MODEL.into(),
            fit: Fit::Stretch,
            threshold: 0.6,
            softness: 0.3,
            smoothing: 0.8,
            islands: 0.1,
            plate: true,
            zoom: true,
            zoom_model: None,
            execution_provider: ExecutionProvider::Cpu,
            threads: 1,
            mean: [0.0; 3],
            std: [255.0; 3],
            onnxruntime: None,
            cuda_device: 0,
        }
    }
}

/// `compositor`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Compositor {
    /// Privacy fail-safe: a mask whose source frame is older than this (relative to the frame
    /// being shown) is not used; the background is shown alone.
    pub max_mask_age_ms: u32,
    /// How long to wait for the mask of the frame being composited before using the newest
    /// older one (0: never wait).
    pub mask_wait_ms: u32,
    /// Edge refinement: a colour guided filter with the frame as guide, so the cut-out
    /// follows the frame's edges instead of the model's grid.
    pub refine: bool,
    /// The filter's window radius: `auto` (from the size of the model's cells in the picture
    /// the filter works on) or mask cells (1..8).
    pub refine_radius: RefineRadius,
    /// The filter's regularisation (Y, U, V in 0..1): colour edges of contrast `c` are
    /// followed where `c^2` is well above it. 0.000001..1.
    pub refine_eps: f32,
    /// Fits per frame (1..4): each fit after the first fits the mixed cells again to the
    /// alpha the one before gives their colours, moving the edge further to where the colours
    /// divide.
    pub refine_passes: u32,
    /// With `refine`: where the frame's own edge is softer than the refined one (hair, focus,
    /// motion), the cut-out's edge is softened to match (`viba_compositor::soft_edge`).
    pub soft_edges: bool,
}

impl Default for Compositor {
    fn default() -> Self {
        Compositor {
            max_mask_age_ms: 200,
            mask_wait_ms: 25,
            refine: true,
            refine_radius: RefineRadius::Auto,
            refine_eps: 0.0001,
            refine_passes: 3,
            soft_edges: true,
        }
    }
}

/// `compositor.refine_radius`: the colour guided filter's window radius.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefineRadius {
    /// `"auto"`: chosen by the compositor from the size of a mask cell in the picture the
    /// filter works on (`viba_compositor::refine::auto_radius`).
    Auto,
    /// This many mask cells (1..8).
    Cells(u32),
}

impl<'de> Deserialize<'de> for RefineRadius {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit;
        impl serde::de::Visitor<'_> for Visit {
            type Value = RefineRadius;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("\"auto\" or a whole number of mask cells 1..8")
            }
            fn visit_u64<E: serde::de::Error>(self, n: u64) -> Result<RefineRadius, E> {
                // Out of range values are refused by validation, with the range; those too
                // large to keep, here, in the same words.
                u32::try_from(n)
                    .map(RefineRadius::Cells)
                    .map_err(|_| E::custom(format!("{n} is outside 1..8 (or \"auto\")")))
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<RefineRadius, E> {
                match s {
                    "auto" => Ok(RefineRadius::Auto),
                    _ => Err(E::invalid_value(serde::de::Unexpected::Str(s), &self)),
                }
            }
        }
        d.deserialize_any(Visit)
    }
}

/// `stages.<name>`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StageConfig {
    /// CPU list in taskset syntax; unset = not pinned.
    pub cpus: Option<String>,
    /// Nice level (-20..19).
    pub nice: i32,
    /// The CPUs of `cpus`, parsed by validation (not a key); `None`: not pinned (or a config
    /// that was not validated).
    #[serde(skip)]
    pub cpu_set: Option<Vec<usize>>,
}

/// `stages`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Stages {
    /// viba-capture.
    pub capture: StageConfig,
    /// viba-segmenter.
    pub segmenter: StageConfig,
    /// viba-compositor.
    pub compositor: StageConfig,
}

/// `restart`.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Restart {
    /// First delay before restarting a worker that died while starting. A worker that had
    /// started (entered its loop) is restarted at once instead, up to `crash_loop_after`
    /// times within `stable_ms`.
    pub backoff_ms: u64,
    /// Longest delay; the delay doubles per crash up to it.
    pub max_backoff_ms: u64,
    /// A worker that ran this long is stable again: its delay goes back to `backoff_ms`.
    pub stable_ms: u64,
    /// This many crashes in a row without a stable run are reported as a crash loop; also
    /// the most immediate restarts of a started worker within `stable_ms`.
    pub crash_loop_after: u32,
}

impl Default for Restart {
    fn default() -> Self {
        Restart {
            backoff_ms: 200,
            max_backoff_ms: 5000,
            stable_ms: 10_000,
            crash_loop_after: 5,
        }
    }
}
