//! Compositing a synthetic frame over a synthetic background with a synthetic mask: the
//! output is the background exactly where the mask is 0 and the frame where it is 1.

use viba_common::config::RefineRadius;
use viba_compositor::blend::{Behind, Blender};
use viba_compositor::matte::{Matte, MatteSettings};

/// The default soft threshold, without or with the guided filter.
fn settings(refine: bool) -> MatteSettings {
    MatteSettings {
        threshold: 0.5,
        softness: 0.3,
        smoothing: 0.0,
        refine: refine.then_some((RefineRadius::Cells(2), 0.0001, 3)),
        soft_edges: refine,
    }
}

fn pseudo_random(n: usize, seed: u32) -> Vec<u8> {
    let mut x = seed;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x >> 8) as u8
        })
        .collect()
}

/// `frame` over `background` (YUYV of `(w, h)`) with the alpha `matte` gives for it.
fn over(matte: &mut Matte, frame: &[u8], background: &[u8], (w, h): (usize, usize)) -> Vec<u8> {
    matte.prepare(frame);
    let mut out = vec![0u8; w * h * 2];
    Blender::new(w).composite(frame, Behind::Picture(background), matte, (w, h), &mut out);
    out
}

#[test]
fn background_where_the_mask_is_zero_and_frame_where_it_is_one() {
    let (w, h) = (320usize, 180usize);
    let (mw, mh) = (32usize, 18usize);
    let frame = pseudo_random(w * h * 2, 1);
    let background = pseudo_random(w * h * 2, 2);
    // Left half background (0), right half person (255).
    let probabilities: Vec<u8> = (0..mw * mh)
        .map(|i| if i % mw < mw / 2 { 0 } else { 255 })
        .collect();
    let mut matte = Matte::new(settings(false), (mw, mh), (w, h), false);
    matte.set_mask(&probabilities);
    let out = over(&mut matte, &frame, &background, (w, h));

    // Columns well inside each half (the soft edge spans about one mask pixel = 10 px).
    for y in 0..h {
        for x in 0..w {
            for byte in 0..2 {
                let i = (y * w + x) * 2 + byte;
                if x < w / 2 - 16 {
                    assert_eq!(out[i], background[i], "background at ({x},{y})");
                } else if x >= w / 2 + 16 {
                    assert_eq!(out[i], frame[i], "frame at ({x},{y})");
                }
            }
        }
    }
    // In the soft edge each byte lies between the two sources.
    for y in 0..h {
        for x in (w / 2 - 16)..(w / 2 + 16) {
            let i = (y * w + x) * 2;
            let (lo, hi) = (frame[i].min(background[i]), frame[i].max(background[i]));
            assert!(
                (lo..=hi).contains(&out[i]),
                "({x},{y}): {} outside {lo}..={hi}",
                out[i]
            );
        }
    }
}

#[test]
fn a_half_mask_blends_halfway() {
    let (w, h) = (64usize, 32usize);
    let frame = vec![200u8; w * h * 2];
    let background = vec![100u8; w * h * 2];
    // A threshold of 0.5 with no soft edge width maps 128 to 255: use a wide soft edge so
    // that 128/255 maps to about a half.
    let half = MatteSettings {
        threshold: 0.5,
        softness: 1.0,
        smoothing: 0.0,
        refine: None,
        soft_edges: false,
    };
    let mut matte = Matte::new(half, (8, 4), (w, h), false);
    matte.set_mask(&[128u8; 32]);
    let out = over(&mut matte, &frame, &background, (w, h));
    assert!(out.iter().all(|&v| v == 150), "{:?}", &out[..8]);
}

#[test]
fn refined_all_background_and_all_person_masks_stay_exact() {
    // The guided filter of a constant mask is that constant, whatever the frame: no room
    // pixel leaks into an all-background output, no background into an all-person one.
    // (1280x720 is refined at half size and doubled.)
    for (w, h) in [(320usize, 180usize), (1280, 720)] {
        let frame = pseudo_random(w * h * 2, 3);
        let background = pseudo_random(w * h * 2, 4);
        for (p, want) in [(0u8, &background), (255u8, &frame)] {
            let mut matte = Matte::new(settings(true), (32, 18), (w, h), false);
            matte.set_mask(&vec![p; 32 * 18]);
            let out = over(&mut matte, &frame, &background, (w, h));
            assert!(out == *want, "{w}x{h}, mask {p}: not an exact copy");
        }
    }
}

/// A frame dark left of `edge` and bright from there on, and a mask (32x18 cells) of the person
/// from the middle cell column on.
fn two_tones((w, h): (usize, usize), edge: usize) -> (Vec<u8>, Vec<u8>) {
    let mut frame = vec![0u8; w * h * 2];
    for (i, px) in frame.chunks_exact_mut(2).enumerate() {
        px[0] = if i % w < edge { 40 } else { 200 };
        px[1] = 128;
    }
    let probabilities = (0..32 * 18)
        .map(|i| if i % 32 < 16 { 0 } else { 255 })
        .collect();
    (frame, probabilities)
}

/// The alpha of row `y` (one per pixel) of `frame` under `probabilities` (32x18 cells).
fn alpha_row(
    refine: bool,
    frame: &[u8],
    probabilities: &[u8],
    (w, h): (usize, usize),
    y: usize,
) -> Vec<u8> {
    let mut matte = Matte::new(settings(refine), (32, 18), (w, h), false);
    matte.set_mask(probabilities);
    matte.prepare(frame);
    let mut row = vec![0u8; w * 2];
    matte.row(y, &mut row);
    row.iter().step_by(2).copied().collect()
}

/// Asserts `ok` of every alpha in `pixels`.
fn all_in(alpha: &[u8], pixels: std::ops::RangeInclusive<usize>, ok: impl Fn(u8) -> bool) {
    for x in pixels {
        assert!(ok(alpha[x]), "x {x}: {}", alpha[x]);
    }
}

#[test]
fn refined_at_half_size_the_edge_still_follows_the_frame() {
    // 1280x720 is refined on a 640x360 copy. The frame: dark left of x = 630, bright from
    // there on; the mask: person from mask column 16 (x = 640) on. The cut-out's edge moves
    // to the frame's edge, to within the doubling's quarter steps (629 and 630).
    let size = (1280, 720);
    let (frame, probabilities) = two_tones(size, 630);
    let alpha = alpha_row(true, &frame, &probabilities, size, 360);
    all_in(&alpha, 600..=628, |a| a < 40);
    assert!(
        alpha[629] < 128 && alpha[630] > 128,
        "{} {}",
        alpha[629],
        alpha[630]
    );
    all_in(&alpha, 631..=680, |a| a > 200);
}

#[test]
fn refined_edge_follows_the_frame_not_the_mask_grid() {
    // The frame: dark left of x = 157, bright from there on (not on the mask's 10 px grid).
    // The mask: person from mask column 16 (x = 160) on. Refined, the cut-out's edge moves
    // to the frame's edge: pixels 158..160 show the frame, 148..155 the background.
    let size = (320, 180);
    let (frame, probabilities) = two_tones(size, 157);
    let plain = alpha_row(false, &frame, &probabilities, size, 90);
    let refined = alpha_row(true, &frame, &probabilities, size, 90);
    // Without refinement the edge is a ramp centred on the mask's cell border (x = 160).
    assert!(plain[158] < 128 && plain[162] > 128);
    // With it, a step at the frame's edge, feathered by a pixel each side (`feather`).
    assert!(refined[156] < 128 && refined[157] > 128, "{refined:?}");
    all_in(&refined, 158..=160, |a| a > 200);
    all_in(&refined, 148..=155, |a| a < 40);
}

#[test]
fn a_frame_narrower_than_the_mask_gets_no_alpha_left_over() {
    // 16x4 mask cells over a 6x4 frame: most cell columns hold no pixel. After a frame with a
    // soft mask, an all-room mask must give alpha 0 everywhere (no coefficients of the frame
    // before).
    let (w, h) = (6usize, 4usize);
    let frame = pseudo_random(w * h * 2, 5);
    let mut matte = Matte::new(
        MatteSettings {
            threshold: 0.5,
            softness: 0.3,
            smoothing: 0.8,
            refine: Some((RefineRadius::Cells(2), 0.0001, 3)),
            soft_edges: true,
        },
        (16, 4),
        (w, h),
        false,
    );
    let mut row = vec![0u8; w * 2];
    matte.set_mask(&(0..64).map(|i| (i * 37 % 256) as u8).collect::<Vec<_>>());
    matte.prepare(&frame);
    for y in 0..h {
        matte.row(y, &mut row);
    }
    matte.set_mask(&[0u8; 64]);
    matte.prepare(&frame);
    for y in 0..h {
        matte.row(y, &mut row);
        assert_eq!(row, vec![0u8; w * 2], "row {y}");
    }
}

#[test]
fn the_avx2_build_and_the_baseline_build_give_the_same_bytes() {
    // Several frames (the smoothing keeps alpha from one to the next), a noisy frame and a
    // mask with an outline, with and without refinement, over a picture and over the blur,
    // at full and at half size. Where the CPU lacks AVX2 both are the baseline build.
    use viba_compositor::blur::Blur;
    for (w, h) in [(320usize, 180usize), (1280, 720)] {
        let (mw, mh) = (64usize, 36usize);
        let background = pseudo_random(w * h * 2, 9);
        for refine in [false, true] {
            let s = MatteSettings {
                smoothing: 0.8,
                ..settings(refine)
            };
            let mut wide = (
                Matte::new(s, (mw, mh), (w, h), true),
                Blender::new(w),
                Blur::new(12.0, (mw, mh), (w, h)),
            );
            let mut narrow = (
                Matte::new(s, (mw, mh), (w, h), true).narrow(),
                Blender::new(w).narrow(),
                Blur::new(12.0, (mw, mh), (w, h)).narrow(),
            );
            for step in 0..3u32 {
                let mut frame = pseudo_random(w * h * 2, 1 + step);
                for (i, p) in frame.iter_mut().enumerate() {
                    // A bright person right of a wavy line, over noise.
                    let (x, y) = ((i / 2) % w, (i / 2) / w);
                    let edge = w / 2 + ((y as f32 / 9.0).sin() * 12.0) as usize + step as usize;
                    if x >= edge && i % 2 == 0 {
                        *p = p.saturating_add(120);
                    }
                }
                let mask: Vec<u8> = (0..mw * mh)
                    .map(|k| {
                        let (x, y) = (k % mw, k / mw);
                        let edge = mw / 2 + ((y as f32 * 2.0 / 9.0).sin() * 2.4) as usize;
                        [0u8, 128, 255][(x + 1).saturating_sub(edge).min(2)]
                    })
                    .collect();
                let mut outs = Vec::new();
                for (matte, blender, blur) in [&mut wide, &mut narrow] {
                    matte.set_mask(&mask);
                    matte.prepare(&frame);
                    let cells = matte.cells().expect("cells kept");
                    let yuv = &cells.yuv;
                    blur.make([&yuv[0], &yuv[1], &yuv[2]], matte.mask());
                    let mut out = vec![0u8; w * h * 2];
                    blender.composite(
                        &frame,
                        Behind::Picture(&background),
                        matte,
                        (w, h),
                        &mut out,
                    );
                    let mut blurred = vec![0u8; w * h * 2];
                    blender.composite(&frame, Behind::Blur(blur), matte, (w, h), &mut blurred);
                    outs.push((out, blurred));
                }
                assert!(
                    outs[0] == outs[1],
                    "{w}x{h} refine {refine} frame {step}: the builds differ"
                );
            }
        }
    }
}
