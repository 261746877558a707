//! viba-pictures: the README's pictures, made through the real pipeline from bundled input
//! (`scripts/pictures.sh`): the bundled portrait with each background kind, and a crop of an
//! edge before (the raw model's mask) and after (the defaults).

use clap::Parser;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use viba_common::exit::{self, Fault};
use viba_supervisor::quality;

/// Runs `testdata/astronaut.png` through viba-supervisor (found next to this executable) once
/// per background kind and writes `image.png`, `color.png`, `blur.png` and `edge.png` (the raw model's edge beside the default one, enlarged) into --out.
#[derive(Parser)]
#[command(version)]
struct Args {
    /// Where the pictures go.
    #[arg(long, default_value = "docs/pictures")]
    out: PathBuf,
}

/// The frame size: the portrait as it is.
const SIZE: u32 = 512;
/// The edge crop: the shoulder and the backdrop beside it, enlarged 3x.
const CROP: (u32, u32, u32, u32) = (290, 215, 100, 100);
const ZOOM: u32 = 3;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Runs the pipeline with `patch` merged into the config; returns the snapshot's RGB.
fn run(work: &Path, name: &str, patch: &Value) -> Result<Vec<u8>, String> {
    let snapshot = work.join(format!("{name}.png"));
    let mut config = json!({
        "instance": format!("pictures-{}", std::process::id()),
        "input": {
            "source": "image", "path": repo().join("testdata/astronaut.png"),
            "width": SIZE, "height": SIZE, "fps": 30, "motion": false
        },
        "output": {
            "sink": "file", "path": work.join("out.y4m"),
            "snapshot": snapshot, "max_frames": 30
        },
        "background": { "image": repo().join("backgrounds/default.jpg") }
    });
    viba_supervisor::json_patch::merge(&mut config, patch);
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let bin = exe.parent().ok_or("the executable has no folder")?;
    quality::run_supervisor(bin, work, &config).map_err(|e| format!("{name}: {e}"))?;
    if !last_frame_masked(&work.join("out.y4m"))? {
        return Err(format!(
            "{name}: the last frame showed the background alone (no mask came in time: a machine far too busy?); run it again"
        ));
    }
    let (_, _, rgb) = viba_media::picture::load_rgb(&snapshot).map_err(|e| e.to_string())?;
    Ok(rgb)
}

/// Whether the last frame of the compositor's Y4M file was composited with a mask.
fn last_frame_masked(path: &Path) -> Result<bool, String> {
    let size = (SIZE as usize, SIZE as usize);
    let mut reader = quality::y4m::OutputReader::open(path, size)?;
    let mut masked = false;
    while let Some(frame) = reader.next_frame()? {
        masked = frame.mask != 0;
    }
    Ok(masked)
}

fn save(path: &Path, w: u32, h: u32, rgb: &[u8]) -> Result<(), String> {
    viba_media::picture::save_png(path, w, h, rgb)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    eprintln!("viba-pictures: wrote {}", path.display());
    Ok(())
}

/// The crop of each picture, enlarged, side by side with a white gap.
fn side_by_side(pictures: &[&[u8]]) -> (u32, u32, Vec<u8>) {
    let (x0, y0, cw, ch) = CROP;
    let gap = 8;
    let tile = cw * ZOOM;
    let w = tile * pictures.len() as u32 + gap * (pictures.len() as u32 - 1);
    let h = ch * ZOOM;
    let mut out = vec![255u8; (w * h * 3) as usize];
    for (k, rgb) in pictures.iter().enumerate() {
        for y in 0..h {
            for x in 0..tile {
                let (sx, sy) = (x0 + x / ZOOM, y0 + y / ZOOM);
                let s = ((sy * SIZE + sx) * 3) as usize;
                let d = ((y * w + k as u32 * (tile + gap) + x) * 3) as usize;
                out[d..d + 3].copy_from_slice(&rgb[s..s + 3]);
            }
        }
    }
    (w, h, out)
}

fn main() -> ExitCode {
    let args: Args = viba_common::exit::parse_args("viba-pictures");
    let result = (|| -> Result<(), String> {
        std::fs::create_dir_all(&args.out).map_err(|e| format!("{}: {e}", args.out.display()))?;
        let work = std::env::temp_dir().join(format!("viba-pictures-{}", std::process::id()));
        std::fs::create_dir_all(&work).map_err(|e| format!("{}: {e}", work.display()))?;
        let made = make(&args.out, &work);
        let _ = std::fs::remove_dir_all(&work);
        made
    })();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => exit::fail("viba-pictures", Fault::Failure, e),
    }
}

fn make(out: &Path, work: &Path) -> Result<(), String> {
    {
        let kinds = [
            ("image", json!({})),
            (
                "color",
                json!({ "background": { "image": null, "color": "#3a6ea5" } }),
            ),
            (
                "blur",
                json!({ "background": { "image": null, "blur": 12 } }),
            ),
        ];
        let mut default = Vec::new();
        for (name, patch) in &kinds {
            let rgb = run(work, name, patch)?;
            save(&out.join(format!("{name}.png")), SIZE, SIZE, &rgb)?;
            if *name == "image" {
                default = rgb;
            }
        }
        // The raw model's mask: what viba showed before refinement and smoothing.
        let raw = run(
            work,
            "raw",
            &json!({
                "segmentation": { "threshold": 0.5, "smoothing": 0.0 },
                "compositor": { "refine": false }
            }),
        )?;
        let (w, h, edge) = side_by_side(&[&raw, &default]);
        save(&out.join("edge.png"), w, h, &edge)
    }
}
