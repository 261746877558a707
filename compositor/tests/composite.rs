//! Compositing a synthetic frame over a synthetic background with a synthetic mask: the
//! output is the background exactly where the mask is 0 and the frame where it is 1.

use viba_compositor::alpha::{lut, Upsampler};
use viba_compositor::blend::Blender;

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
    let table = lut(0.5, 0.3);
    let alpha: Vec<u8> = probabilities.iter().map(|&p| table[p as usize]).collect();
    let mut up = Upsampler::new((mw, mh), (w, h));
    up.set_mask(&alpha);
    let mut out = vec![0u8; w * h * 2];
    Blender::new(w).composite(&frame, &background, &up, (w, h), &mut out);

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
    let mut up = Upsampler::new((8, 4), (w, h));
    up.set_mask(&[128u8; 32]);
    let mut out = vec![0u8; w * h * 2];
    Blender::new(w).composite(&frame, &background, &up, (w, h), &mut out);
    assert!(out.iter().all(|&v| v == 150), "{:?}", &out[..8]);
}
