//! Micro-benchmark of the compositor hot path (matte without and with the guided filter, 1-3
//! fits, and with the soft edges; and the YUYV blend) at 720p and
//! 1080p: `cargo run --release -p viba-compositor --example blend_timing`.
use std::time::Instant;
use viba_common::config::RefineRadius;
use viba_compositor::{
    blend::{Behind, Blender},
    blur::Blur,
    matte::{Matte, MatteSettings},
};
fn main() {
    // `blend_timing blur`: the blurred background alone.
    let blur_only = std::env::args().nth(1).as_deref() == Some("blur");
    for (w, h) in [(1280usize, 720usize), (1920, 1080)] {
        let frame: Vec<u8> = (0..w * h * 2).map(|i| (i * 7 % 251) as u8).collect();
        let bg: Vec<u8> = (0..w * h * 2).map(|i| (i * 13 % 241) as u8).collect();
        // A blob in the middle: realistic share of edge, inside and outside.
        let (mw, mh) = (256, 144);
        let mask: Vec<u8> = (0..mw * mh)
            .map(|i| {
                let (x, y) = ((i % mw) as f32, (i / mw) as f32);
                let d = ((x - 128.0).powi(2) / 3000.0 + (y - 90.0).powi(2) / 2500.0).sqrt();
                if d < 1.0 {
                    255
                } else if d < 1.1 {
                    128
                } else {
                    0
                }
            })
            .collect();
        let configs = [
            (None, false),
            (Some((RefineRadius::Cells(2), 0.0001, 1)), false),
            (Some((RefineRadius::Cells(2), 0.0001, 2)), false),
            (Some((RefineRadius::Cells(2), 0.0001, 3)), false),
            (Some((RefineRadius::Cells(2), 0.0001, 3)), true),
        ];
        for (refine, soft_edges) in configs.into_iter().filter(|_| !blur_only) {
            let settings = MatteSettings {
                threshold: 0.5,
                softness: 0.3,
                smoothing: 0.6,
                refine,
                soft_edges,
            };
            let mut matte = Matte::new(settings, (mw, mh), (w, h), false);
            let mut out = vec![0u8; w * h * 2];
            let mut b = Blender::new(w);
            let n = 200;
            let t0 = Instant::now();
            for _ in 0..n {
                matte.set_mask(&mask);
                matte.prepare(&frame);
                b.composite(&frame, Behind::Picture(&bg), &mut matte, (w, h), &mut out);
            }
            println!(
                "{w}x{h} refine {refine:?} soft_edges {soft_edges}: {:.3} ms per composite",
                t0.elapsed().as_secs_f64() * 1000.0 / n as f64
            );
            let t0 = Instant::now();
            for _ in 0..n {
                matte.set_mask(&mask);
                matte.prepare(&frame);
            }
            println!(
                "  set_mask + prepare {:.3} ms",
                t0.elapsed().as_secs_f64() * 1000.0 / n as f64
            );
            let mut row = vec![0u8; w * 2];
            let t0 = Instant::now();
            for _ in 0..n {
                for y in 0..h {
                    matte.row(y, &mut row);
                }
            }
            println!(
                "  rows {:.3} ms",
                t0.elapsed().as_secs_f64() * 1000.0 / n as f64
            );
        }
        // The blurred background, from cells of the mask's size (the compositor has them
        // from the refinement).
        let cells: [Vec<f32>; 3] = std::array::from_fn(|c| {
            (0..mw * mh)
                .map(|i| ((i * (3 + c)) % 200) as f32 / 255.0)
                .collect()
        });
        let mut blur = Blur::new(12.0, (mw, mh), (w, h));
        let n = 200;
        let mut row = vec![0u8; w * 2];
        let t0 = Instant::now();
        for _ in 0..n {
            blur.make([&cells[0], &cells[1], &cells[2]], &mask);
            for y in 0..h {
                blur.row(y, &mut row);
            }
        }
        println!(
            "  blurred background {:.3} ms",
            t0.elapsed().as_secs_f64() * 1000.0 / n as f64
        );
        let t0 = Instant::now();
        for _ in 0..n {
            blur.make([&cells[0], &cells[1], &cells[2]], &mask);
        }
        println!(
            "    of which made {:.3} ms",
            t0.elapsed().as_secs_f64() * 1000.0 / n as f64
        );
    }
}
