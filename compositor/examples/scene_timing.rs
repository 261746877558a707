//! What the refinement and the blur cost per frame, on a real photo with the real model's mask:
//! the photo (covered to the size asked) is segmented once, then composited again and again
//! with the picture as it was before the picture work (threshold 0.5, no refinement, a still
//! picture behind) and with the defaults and a blurred room, in alternating blocks, so a host
//! whose speed drifts slows both alike.
//!
//! ```sh
//! cargo run --release -p viba-compositor --example scene_timing -- [PHOTO] [WxH] [ROUNDS] [paced]
//! ```
//!
//! Defaults: `testdata/astronaut.png`, 1280x720, 8 rounds of 100 composites each. The same
//! frame every time, so the refined edge's smoothing over time sees a still person. `paced`:
//! the compositor's life in the pipeline, a frame's wait (33 ms asleep) before each composite,
//! 30 composites a block, only the composites timed: after each wait the working set comes
//! back from memory (docs/BENCHMARKS.md: the same cost as in `viba-bench`, far above the hot
//! loop's).

use std::path::Path;
use std::time::Instant;
use viba_common::config;
use viba_compositor::Scene;
use viba_media::picture;
use viba_segmenter::Segmenter;

/// Composites per block, back to back and paced.
const PER_BLOCK: usize = 100;
const PER_PACED_BLOCK: usize = 30;
/// The wait before each paced composite: a frame at 30 fps.
const FRAME_WAIT: std::time::Duration = std::time::Duration::from_millis(33);

mod timing_args;

fn main() -> std::process::ExitCode {
    timing_args::exit("scene_timing", run())
}

fn run() -> anyhow::Result<()> {
    let timing_args::Args {
        photo,
        size: (w, h),
        rounds,
        rest,
        repo,
    } = timing_args::parse(8)?;
    let paced = match rest.first().map(String::as_str) {
        None => false,
        Some("paced") => true,
        Some(other) => anyhow::bail!("{other}: the fourth argument can only be `paced`"),
    };
    let per_block = if paced { PER_PACED_BLOCK } else { PER_BLOCK };
    let make = |background: serde_json::Value, extra: serde_json::Value| {
        let mut text = serde_json::json!({
            "input": { "source": "image", "path": photo, "width": w, "height": h },
            "output": { "sink": "file", "path": "/dev/null" },
            "background": background,
        });
        merge(&mut text, extra);
        config::parse(&text.to_string(), Path::new("(scene_timing)"), &repo)
    };
    let before = make(
        serde_json::json!({ "image": repo.join("backgrounds/default.jpg") }),
        serde_json::json!({
            "segmentation": { "threshold": 0.5, "smoothing": 0, "islands": 0, "plate": false },
            "compositor": { "refine": false },
        }),
    )?;
    let defaults = make(serde_json::json!({ "blur": 12 }), serde_json::json!({}))?;

    let frame = picture::load_cover_yuyv(&photo, w, h)?;
    let mut segmenter = Segmenter::new(&defaults)?;
    let mask = segmenter.segment(&frame, 0)?.to_vec();
    let mut scenes = [
        Scene::new(&before, segmenter.mask_size())?,
        Scene::new(&defaults, segmenter.mask_size())?,
    ];
    let mut out = vec![0u8; frame.len()];
    let mut times: [Vec<f64>; 2] = [Vec::new(), Vec::new()];
    for round in 0..=rounds {
        for (scene, times) in scenes.iter_mut().zip(&mut times) {
            let mut spent = std::time::Duration::ZERO;
            for _ in 0..per_block {
                if paced {
                    std::thread::sleep(FRAME_WAIT);
                }
                let t0 = Instant::now();
                scene.set_mask(&mask);
                scene.composite(&frame, &mut out);
                spent += t0.elapsed();
            }
            // Round 0 warms up.
            if round > 0 {
                times.push(spent.as_secs_f64() * 1000.0 / per_block as f64);
            }
        }
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let differences: Vec<f64> = times[1].iter().zip(&times[0]).map(|(b, a)| b - a).collect();
    let (a, b) = (median(&mut times[0]), median(&mut times[1]));
    println!(
        "{w}x{h}, {} blocks of {per_block}{}: before the picture work {a:.3} ms, defaults with a blurred room {b:.3} ms, difference {:.3} ms (median of the blocks' differences {:.3})",
        rounds,
        if paced { ", paced" } else { "" },
        b - a,
        median(&mut differences.clone())
    );
    Ok(())
}

/// `extra`'s keys into `into`, objects merged key by key.
fn merge(into: &mut serde_json::Value, extra: serde_json::Value) {
    match (into, extra) {
        (serde_json::Value::Object(a), serde_json::Value::Object(b)) => {
            for (k, v) in b {
                match a.get_mut(&k) {
                    Some(slot) => merge(slot, v),
                    None => {
                        a.insert(k, v);
                    }
                }
            }
        }
        (slot, v) => *slot = v,
    }
}
