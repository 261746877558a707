//! Micro-benchmark of an MJPEG camera frame made into the ring's YUYV frame, at 640x480, 720p
//! and 1080p: the `image` crate's decoder to RGB and RGB to YUYV (what the camera source did
//! before), against libjpeg-turbo decompressing to YUV planes and one interleaving pass (what
//! it does now), and how far the decoded frame lies from the frame before encoding. Frames:
//! `testdata/astronaut.png` scaled to cover, JPEG 4:2:2 quality 90 like a webcam's. `cargo run --release -p viba-capture --example mjpeg_timing`.
use std::time::Instant;
use viba_common::yuv;
use viba_media::jpeg::{Decoder, Encoder, Subsampling};
use viba_media::picture;

fn main() {
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let (w, h, rgb) = picture::load_rgb(&repo.join("testdata/astronaut.png")).unwrap();
    let mut encoder = Encoder::new().unwrap();
    let mut decoder = Decoder::new().unwrap();
    for (fw, fh) in [(640u32, 480u32), (1280, 720), (1920, 1080)] {
        let frame = picture::resize_cover(&rgb, (w, h), (fw, fh), picture::PixelType::U8x3);
        let jpeg = encoder
            .encode_rgb(&frame, (fw, fh), 90, Subsampling::S422)
            .unwrap();
        let n = 100;
        let mut out = vec![0u8; fw as usize * fh as usize * 2];
        let t0 = Instant::now();
        for _ in 0..n {
            let img = image::load_from_memory_with_format(&jpeg, image::ImageFormat::Jpeg)
                .unwrap()
                .to_rgb8();
            yuv::rgb_to_yuyv(img.as_raw(), fw as usize, fh as usize, &mut out);
        }
        let before = t0.elapsed().as_secs_f64() * 1000.0 / n as f64;
        let mut yuyv = Vec::new();
        let t0 = Instant::now();
        for _ in 0..n {
            decoder.decode_yuyv(&jpeg, &mut yuyv).unwrap();
        }
        let after = t0.elapsed().as_secs_f64() * 1000.0 / n as f64;
        // What the round trip through JPEG changed: the decoded frame against the frame
        // before encoding, in the ring's YUYV (mean and largest difference, 8-bit steps).
        let mut original = vec![0u8; fw as usize * fh as usize * 2];
        yuv::rgb_to_yuyv(&frame, fw as usize, fh as usize, &mut original);
        let diff = |offsets: [usize; 2]| {
            let d = yuyv
                .chunks_exact(4)
                .zip(original.chunks_exact(4))
                .flat_map(|(a, b)| offsets.map(|i| a[i].abs_diff(b[i]) as u64));
            let (sum, max, count) = d.fold((0, 0, 0), |(s, m, c), x| (s + x, m.max(x), c + 1));
            (sum as f64 / count as f64, max)
        };
        let ((luma, luma_max), (chroma, chroma_max)) = (diff([0, 2]), diff([1, 3]));
        println!(
            "{fw}x{fh} ({} KiB): image crate + RGB to YUYV {before:.2} ms, libjpeg-turbo to YUYV {after:.2} ms per frame; \
             decoded against the frame before encoding: luma {luma:.3} (at most {luma_max}), chroma {chroma:.3} (at most {chroma_max})",
            jpeg.len() / 1024
        );
    }
}
