//! What the colour guided filter alone costs per frame (`refine::ColourGuided::run`, the
//! refinement's fits at mask size), on a real photo with the real model's mask, with one fit
//! and with `compositor.refine_passes` fits; and what applying the fit to the pixels costs
//! (`refine::Applier::compute` over the frame the refinement works on, half size from 960
//! pixels wide, with its smoothing over time as by default); the AVX2 build where the CPU has
//! it, as in the compositor.
//!
//! ```sh
//! cargo run --release -p viba-compositor --example filter_timing -- [PHOTO] [WxH] [ROUNDS]
//! ```
//!
//! Defaults: `testdata/astronaut.png`, 1280x720, 20 rounds; each round times a block of 50
//! runs with one fit, then one with the default fits, then 50 applications of the default
//! fits (each after a fit, which is not timed); the medians of the rounds are printed.
//! (To compare two builds, run each build's copy of this example in turn.)

use anyhow::Context;
use std::path::Path;
use std::time::Instant;
use viba_common::config::{self, RefineRadius};
use viba_compositor::matte::{Matte, MatteSettings};
use viba_compositor::refine::{self, Applier, ColourGuided};
use viba_media::picture;
use viba_segmenter::Segmenter;

/// Runs of the filter per timed block.
const PER_BLOCK: usize = 50;

mod timing_args;

fn main() -> std::process::ExitCode {
    timing_args::exit("filter_timing", run())
}

fn run() -> anyhow::Result<()> {
    let timing_args::Args {
        photo,
        size: (w, h),
        rounds,
        rest,
        repo,
    } = timing_args::parse(20)?;
    if let Some(other) = rest.first() {
        anyhow::bail!("{other}: give at most PHOTO, WxH and ROUNDS");
    }
    let (w, h) = (w as usize, h as usize);
    let text = serde_json::json!({
        "input": { "source": "image", "path": photo, "width": w, "height": h },
        "output": { "sink": "file", "path": "/dev/null" },
        "background": { "blur": 12 },
    });
    let config = config::parse(&text.to_string(), Path::new("(filter_timing)"), &repo)?;
    let frame = picture::load_cover_yuyv(&photo, w as u32, h as u32)?;
    let mut segmenter = Segmenter::new(&config)?;
    let mask = segmenter.segment(&frame, 0)?.to_vec();
    let mask_size = segmenter.mask_size();
    // The cells and the thresholded mask as the compositor makes them.
    let settings = MatteSettings::of(&config);
    let mut matte = Matte::new(settings, mask_size, (w, h), true);
    matte.set_mask(&mask);
    matte.prepare(&frame);
    let yuv = &matte.cells().context("cells are kept")?.yuv;
    let p: Vec<f32> = matte.mask().iter().map(|&m| m as f32 / 255.0).collect();
    let c = &config.compositor;
    // The picture the refinement works on: half size from 960 pixels wide.
    let work = match viba_compositor::half::wanted((w, h)) {
        true => (w / 2, h / 2),
        false => (w, h),
    };
    let radius = match c.refine_radius {
        RefineRadius::Auto => refine::auto_radius(mask_size, work),
        RefineRadius::Cells(r) => (r as usize, r as usize),
    };
    let passes = c.refine_passes as usize;
    let mut filters = [1, passes].map(|n| ColourGuided::new(mask_size, radius, c.refine_eps, n));
    // The frame the refinement works on, and an applier for it.
    let work_frame = match work == (w, h) {
        true => frame.clone(),
        false => {
            let mut half = vec![0; work.0 * work.1 * 2];
            viba_compositor::half::halve(&frame, (w, h), &mut half);
            half
        }
    };
    let mut applier = Applier::new(mask_size, work, config.segmentation.smoothing);
    let mut times: [Vec<f64>; 3] = [Vec::new(), Vec::new(), Vec::new()];
    for round in 0..=rounds {
        for (filter, times) in filters.iter_mut().zip(&mut times) {
            let t0 = Instant::now();
            for _ in 0..PER_BLOCK {
                fit(filter, yuv, &p);
            }
            // Round 0 warms up.
            if round > 0 {
                times.push(t0.elapsed().as_secs_f64() * 1000.0 / PER_BLOCK as f64);
            }
        }
        let mut spent = std::time::Duration::ZERO;
        for _ in 0..PER_BLOCK {
            fit(&mut filters[1], yuv, &p);
            applier.take(&mut filters[1]);
            let t0 = Instant::now();
            apply(&mut applier, &work_frame, work.0);
            spent += t0.elapsed();
        }
        if round > 0 {
            times[2].push(spent.as_secs_f64() * 1000.0 / PER_BLOCK as f64);
        }
    }
    for t in &mut times {
        t.sort_by(f64::total_cmp);
    }
    println!(
        "{w}x{h} (mask {}x{}, window radius {radius:?}), {rounds} blocks of {PER_BLOCK}: \
         one fit {:.3} ms, {passes} fits {:.3} ms, applied to {}x{} pixels {:.3} ms",
        mask_size.0,
        mask_size.1,
        times[0][rounds / 2],
        times[1][rounds / 2],
        work.0,
        work.1,
        times[2][rounds / 2],
    );
    Ok(())
}

/// One run of the filter, on the AVX2 build where the CPU has it.
fn fit(filter: &mut ColourGuided, yuv: &[Vec<f32>; 3], p: &[f32]) {
    #[cfg(target_arch = "x86_64")]
    if viba_compositor::simd::wide() {
        // SAFETY: `wide` is true only where the CPU has AVX2 and FMA.
        return unsafe { fit_wide(filter, yuv, p) };
    }
    filter.run([&yuv[0], &yuv[1], &yuv[2]], p);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn fit_wide(filter: &mut ColourGuided, yuv: &[Vec<f32>; 3], p: &[f32]) {
    filter.run([&yuv[0], &yuv[1], &yuv[2]], p);
}

/// The fit applied to every row of `frame` (YUYV, `width` pixels a row), on the AVX2 build
/// where the CPU has it.
fn apply(applier: &mut Applier, frame: &[u8], width: usize) {
    #[cfg(target_arch = "x86_64")]
    if viba_compositor::simd::wide() {
        // SAFETY: `wide` is true only where the CPU has AVX2 and FMA.
        return unsafe { apply_wide(applier, frame, width) };
    }
    apply_rows(applier, frame, width);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn apply_wide(applier: &mut Applier, frame: &[u8], width: usize) {
    apply_rows(applier, frame, width);
}

#[inline(always)]
fn apply_rows(applier: &mut Applier, frame: &[u8], width: usize) {
    for (y, row) in frame.chunks_exact(width * 2).enumerate() {
        applier.compute(y, row);
    }
}
