//! viba-quality: the picture benchmark. Sequences with an exact ground truth (`scene`) go
//! through the real pipeline (viba-supervisor and its three workers, real-time pacing, the
//! real model) into a Y4M file over a magenta background; each output frame is read back
//! (`y4m`), the alpha the compositor used recovered and scored against the truth (`score`).
//!
//! Per sequence and variant (a config patch: the raw model, each refinement step, the
//! defaults): IoU, leak (room visible where the truth is background), cut (person lost),
//! alpha error in the edge band, flicker (frame-to-frame change in the band on still input),
//! lag (which earlier frame's truth matches the output best, on moving input), and how many
//! frames showed the background alone.

pub mod report;
pub mod scene;
pub mod score;
pub mod y4m;

use scene::{Motion, Scene, Spec, LEAD_IN};
use score::Truth;
use serde_json::{json, Value};
use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A named change to the default config.
#[derive(Debug, Clone)]
pub struct Variant {
    /// Its name in the report, e.g. `raw` or `default`.
    pub name: String,
    /// Merged into the config (objects merge, other values replace).
    pub patch: Value,
}

/// The variants: the raw model (every picture step off: the landscape model for every frame,
/// stretched to it), then each step on its own (`zoom`: `model: "auto"`, which stretched is
/// the landscape model too, and the square model on a square around a narrow person; `pad`:
/// the model `auto` takes for the frame padded, the frame padded to its aspect instead of
/// stretched), then the defaults, and the defaults with each bundled model (a model named, so
/// no zoom). (`auto` on its own is the raw model since square frames get the landscape model
/// too, so it is no variant.) `models` is the folder of the bundled models.
pub fn variants(models: &Path) -> Vec<Variant> {
    let v = |name: &str, patch: Value| Variant {
        name: name.into(),
        patch,
    };
    let landscape = models.join("selfie_segmentation_landscape.onnx");
    let general = models.join("selfie_segmentation.onnx");
    let raw = json!({
        "segmentation": {
            "model": landscape, "fit": "stretch",
            "threshold": 0.5, "softness": 0.3, "smoothing": 0.0, "islands": 0.0,
            "plate": false
        },
        "compositor": { "refine": false }
    });
    let step = |patch: Value| {
        let mut p = raw.clone();
        crate::json_patch::merge(&mut p, &patch);
        p
    };
    vec![
        // The model's mask as it was before any refinement: threshold 0.5, softness 0.3,
        // no smoothing, upsampled bilinearly; one model for every frame, stretched to it.
        v("raw", raw.clone()),
        v(
            "smoothing",
            step(json!({ "segmentation": { "smoothing": 0.8 } })),
        ),
        v("refine", step(json!({ "compositor": { "refine": true } }))),
        v("plate", step(json!({ "segmentation": { "plate": true } }))),
        // The model `auto` takes (stretched: the landscape one), and the square model on a square
        // around a narrow person.
        v("zoom", step(json!({ "segmentation": { "model": "auto" } }))),
        v(
            "pad",
            step(json!({ "segmentation": { "model": "auto", "fit": "pad" } })),
        ),
        v("default", json!({})),
        v(
            "landscape",
            json!({ "segmentation": { "model": landscape } }),
        ),
        v("general", json!({ "segmentation": { "model": general } })),
    ]
}

/// The sequences: both people, four rooms, every motion but `enter`; 16:9 at 640x360 and 1280x720, 4:3
/// at 640x480 and square at 480x480.
pub fn sequences() -> Vec<Spec> {
    let s = |person: &str, room: &str, motion, (width, height), fill| Spec {
        person: person.into(),
        room: room.into(),
        motion,
        width,
        height,
        fill,
    };
    let (small, hd, four_three, square) = ((640, 360), (1280, 720), (640, 480), (480, 480));
    vec![
        s("franck", "bedroom", Motion::Static, small, 0.95),
        s("franck", "office", Motion::Slow, small, 0.95),
        s("franck", "cabin", Motion::Fast, small, 0.95),
        s("franck", "living", Motion::Scale, small, 0.9),
        s("greenman", "living", Motion::Static, small, 1.0),
        s("greenman", "bedroom", Motion::Fast, small, 1.0),
        s("franck", "office", Motion::Static, hd, 0.95),
        s("franck", "bedroom", Motion::Fast, hd, 0.95),
        s("greenman", "cabin", Motion::Slow, hd, 1.0),
        s("franck", "office", Motion::Static, four_three, 0.95),
        s("greenman", "bedroom", Motion::Fast, four_three, 1.0),
        s("franck", "cabin", Motion::Slow, square, 0.95),
        s("greenman", "living", Motion::Static, square, 1.0),
    ]
}

/// Scores of one sequence through one variant.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Result {
    /// The sequence's name.
    pub sequence: String,
    /// The variant's name.
    pub variant: String,
    /// The sequence's sensor noise, standard deviation in 8-bit RGB steps (`--noise`).
    pub noise: f32,
    /// Output frames scored (after the lead-in, repeats left out).
    pub frames: usize,
    /// Of those, frames that showed the background alone (no usable mask).
    pub background_only: usize,
    /// IoU of the person with the truth, mean over frames.
    pub iou: f64,
    /// Share of the true background where the room shows (alpha > 0.1), mean over frames.
    pub leak: f64,
    /// Worst frame's leak.
    pub leak_max: f64,
    /// Mean alpha over the true background, mean over frames.
    pub leak_mean: f64,
    /// Share of the true person shown at less than half, mean over frames.
    pub cut: f64,
    /// Mean alpha error in the edge band, mean over frames.
    pub band_error: f64,
    /// Mean frame-to-frame alpha change in the edge band (still sequences only).
    pub flicker: Option<f64>,
    /// Mean over the frames where the truth moved of the lag (in frames back) whose truth
    /// matches the output best (moving sequences only).
    pub lag: Option<f64>,
    /// Mean frames between the frame shown and the frame its mask came from.
    pub mask_age: f64,
    /// Each scored frame's own scores, in order (not in the JSON line: `--frames` writes them).
    #[serde(skip)]
    pub per_frame: Vec<FrameScore>,
}

/// One scored output frame's scores (`viba-quality --frames`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FrameScore {
    /// The camera frame shown, counted from the first scored one (0..[`scene::SCORED`]).
    pub frame: usize,
    /// IoU of the person with the truth.
    pub iou: f64,
    /// Share of the true background where the room shows (alpha > 0.1).
    pub leak: f64,
    /// Share of the true person shown at less than half.
    pub cut: f64,
    /// Mean alpha error in the edge band.
    pub band_error: f64,
}

/// Where the benchmark finds things.
pub struct Paths {
    /// `viba-supervisor` and its workers.
    pub bin: PathBuf,
    /// The repository (models).
    pub repo: PathBuf,
    /// Persons and rooms (`scripts/quality.sh` makes them).
    pub data: PathBuf,
    /// Scratch: sequences and outputs.
    pub work: PathBuf,
}

/// Writes the sequence's frames to `path`.
pub fn write_sequence(scene: &Scene, path: &Path) -> std::io::Result<()> {
    let mut w = y4m::Writer::create(path, scene.spec.width, scene.spec.height)?;
    for i in 0..scene.frames() {
        w.frame(&scene.frame(i))?;
    }
    w.finish()
}

/// Runs the pipeline on `input` with `variant` into `output`.
pub fn run_pipeline(
    paths: &Paths,
    scene: &Scene,
    variant: &Variant,
    input: &Path,
    output: &Path,
) -> std::result::Result<(), String> {
    let mut config = json!({
        "instance": format!("quality-{}", std::process::id()),
        "input": {
            "source": "video", "path": input, "loop": false, "pace": "realtime",
            "width": scene.spec.width, "height": scene.spec.height, "fps": scene::FPS as u32
        },
        "output": { "sink": "file", "path": output },
        "background": { "color": score::BACKGROUND }
    });
    crate::json_patch::merge(&mut config, &variant.patch);
    run_supervisor(&paths.bin, &paths.work, &config)
}

/// Writes `config` to `work/viba.json` and runs `bin/viba-supervisor` on it until it exits
/// (the config ends the pipeline: a video that does not loop, `output.max_frames`).
pub fn run_supervisor(bin: &Path, work: &Path, config: &Value) -> std::result::Result<(), String> {
    let config_path = work.join("viba.json");
    std::fs::write(&config_path, serde_json::to_vec_pretty(config).unwrap())
        .map_err(|e| format!("{}: {e}", config_path.display()))?;
    let out = Command::new(bin.join("viba-supervisor"))
        .arg("--config")
        .arg(&config_path)
        .output()
        .map_err(|e| format!("cannot start viba-supervisor: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "viba-supervisor failed ({}):\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(())
}

/// Writes a picture of one scored frame: the camera frame, the alpha the pipeline used, the
/// true alpha, and the error (red: room shown, blue: person cut), side by side.
fn dump(path: &Path, size: (usize, usize), frame: &[u8], est: &[Option<f32>], truth: &[f32]) {
    let (w, h) = size;
    let mut rgb = vec![0u8; w * h * 3];
    viba_common::yuv::yuyv_to_rgb(frame, w, h, &mut rgb);
    let mut sheet = vec![0u8; 4 * w * h * 3];
    for y in 0..h {
        for x in 0..w {
            let i = y * w + x;
            let e = est[i].unwrap_or(0.0);
            let t = truth[i];
            let grey = |v: f32| [(v * 255.0) as u8; 3];
            let d = e - t;
            let err = [(d.max(0.0) * 255.0) as u8, 0, ((-d).max(0.0) * 255.0) as u8];
            let tiles = [
                [rgb[i * 3], rgb[i * 3 + 1], rgb[i * 3 + 2]],
                grey(e),
                grey(t),
                err,
            ];
            for (k, px) in tiles.iter().enumerate() {
                let o = (y * 4 * w + k * w + x) * 3;
                sheet[o..o + 3].copy_from_slice(px);
            }
        }
    }
    if let Err(e) = viba_media::picture::save_png(path, 4 * w as u32, h as u32, &sheet) {
        eprintln!("viba-quality: {}: {e}", path.display());
    }
}

/// Scores `output` (the pipeline's file) against the scene's truth. With `dump_to`, writes a
/// picture of that scored frame (0..[`scene::SCORED`]; the middle one is the usual), or of the
/// first one shown after it, there.
pub fn score_output(
    scene: &Scene,
    input: &Path,
    output: &Path,
    variant: &str,
    dump_to: Option<(&Path, usize)>,
) -> std::result::Result<Result, String> {
    let size = (scene.spec.width, scene.spec.height);
    let band_radius = (scene.spec.height / 72).max(2);
    let mut reader = y4m::OutputReader::open(output, size)?;
    let mut input_file = std::fs::File::open(input).map_err(|e| e.to_string())?;
    let moving = scene.spec.motion != Motion::Static;
    // Truths of the last few input frames, for the lag.
    let mut truths: VecDeque<(usize, Truth)> = VecDeque::new();
    let truth_of = |truths: &mut VecDeque<(usize, Truth)>, k: usize| {
        if let Some(pos) = truths.iter().position(|(i, _)| *i == k) {
            return pos;
        }
        truths.push_back((k, Truth::new(scene.alpha(k), size, band_radius)));
        if truths.len() > 8 {
            truths.pop_front();
        }
        truths.len() - 1
    };
    let mut r = Result {
        sequence: scene.spec.name(),
        variant: variant.into(),
        noise: scene.noise(),
        ..Result::default()
    };
    let (mut last_frame, mut previous) = (0u64, None::<Vec<Option<f32>>>);
    let mut dumped = false;
    let (mut flicker_sum, mut flicker_n) = (0.0, 0usize);
    let (mut lag_sum, mut lag_n, mut age_sum) = (0.0, 0usize, 0.0);
    while let Some(out) = reader.next_frame()? {
        if out.frame == 0 || out.frame == last_frame {
            continue; // the background while nothing came yet, or a repeat
        }
        last_frame = out.frame;
        let index = out.frame as usize - 1;
        if index < LEAD_IN || index >= scene.frames() {
            continue;
        }
        let frame =
            y4m::read_input_frame(&mut input_file, size, index).map_err(|e| e.to_string())?;
        let est = score::estimate_alpha(&out.yuyv, &frame);
        let pos = truth_of(&mut truths, index);
        let s = score::score(&est, &truths[pos].1);
        // That frame, or where the pacing skipped it, the first one shown after it.
        if let Some((path, _)) = dump_to.filter(|&(_, at)| !dumped && index >= LEAD_IN + at) {
            dump(path, size, &frame, &est, &truths[pos].1.alpha);
            dumped = true;
        }
        r.per_frame.push(FrameScore {
            frame: index - LEAD_IN,
            iou: s.iou,
            leak: s.leak,
            cut: s.cut,
            band_error: s.band_error,
        });
        r.frames += 1;
        if out.mask == 0 {
            r.background_only += 1;
        } else {
            age_sum += (out.frame - out.mask) as f64;
        }
        r.iou += s.iou;
        r.leak += s.leak;
        r.leak_max = r.leak_max.max(s.leak);
        r.leak_mean += s.leak_mean;
        r.cut += s.cut;
        r.band_error += s.band_error;
        if moving && index > LEAD_IN {
            // Only frames where the truth moved (its IoU with the frame before is below 0.99):
            // which earlier frame (0..=4 back) does the output match best? An earlier one counts
            // only when it matches clearly better (by 0.002), so ties go to the newest.
            let now_truth = truth_of(&mut truths, index);
            let before = truth_of(&mut truths, index - 1);
            let now_truth = truths
                .iter()
                .position(|(i, _)| *i == index)
                .unwrap_or(now_truth);
            if score::iou_truths(&truths[now_truth].1.alpha, &truths[before].1.alpha) < 0.99 {
                let mut best = (0usize, score::iou(&est, &truths[now_truth].1.alpha));
                for back in 1..=4.min(index - LEAD_IN) {
                    let p = truth_of(&mut truths, index - back);
                    let v = score::iou(&est, &truths[p].1.alpha);
                    if v > best.1 + 0.002 {
                        best = (back, v);
                    }
                }
                lag_sum += best.0 as f64;
                lag_n += 1;
            }
        } else if let Some(prev) = &previous {
            let p = truth_of(&mut truths, index);
            flicker_sum += score::change(&est, prev, &truths[p].1.band);
            flicker_n += 1;
        }
        previous = Some(est);
    }
    if r.frames == 0 {
        return Err(format!(
            "{}: no output frame after the lead-in",
            output.display()
        ));
    }
    let n = r.frames as f64;
    r.iou /= n;
    r.leak /= n;
    r.leak_mean /= n;
    r.cut /= n;
    r.band_error /= n;
    r.mask_age = age_sum / (r.frames - r.background_only).max(1) as f64;
    if moving {
        r.lag = Some(lag_sum / lag_n.max(1) as f64);
    } else if flicker_n > 0 {
        r.flicker = Some(flicker_sum / flicker_n as f64);
    }
    Ok(r)
}
