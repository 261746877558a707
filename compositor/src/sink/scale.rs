//! A sink in front of another that scales each composite to the fake webcam's own size
//! (`output.width` x `output.height`, when larger than the size viba composites at:
//! `Config::frame_size`). Scaled plane by plane (luma at full width, each chroma at half), bilinear,
//! cropping to cover as capture does; the composite already holds no room where the person is
//! not, so scaling it keeps the privacy promise.

use super::{Sink, Tag};
use viba_common::picture::{self, PixelType};

pub struct Scaled {
    inner: Box<dyn Sink>,
    from: (usize, usize),
    to: (usize, usize),
    crop: (f64, f64, f64, f64),
    planes: [Vec<u8>; 3],
    scaled: [Vec<u8>; 3],
    out: Vec<u8>,
}

impl Scaled {
    pub fn new(inner: Box<dyn Sink>, from: (u32, u32), to: (u32, u32)) -> Scaled {
        let (fw, fh) = (from.0 as usize, from.1 as usize);
        let (tw, th) = (to.0 as usize, to.1 as usize);
        Scaled {
            inner,
            from: (fw, fh),
            to: (tw, th),
            crop: picture::cover_crop(from, to),
            planes: [vec![0; fw * fh], vec![0; fw / 2 * fh], vec![0; fw / 2 * fh]],
            scaled: [vec![0; tw * th], vec![0; tw / 2 * th], vec![0; tw / 2 * th]],
            out: vec![0; tw * th * 2],
        }
    }

    /// Scales one YUYV composite into `self.out`.
    fn scale(&mut self, yuyv: &[u8]) {
        let [y, u, v] = &mut self.planes;
        for (i, q) in yuyv.chunks_exact(4).enumerate() {
            y[2 * i] = q[0];
            u[i] = q[1];
            y[2 * i + 1] = q[2];
            v[i] = q[3];
        }
        let (fw, fh) = self.from;
        let (tw, th) = self.to;
        let (left, top, cw, ch) = self.crop;
        for (k, (src, dst)) in self.planes.iter().zip(self.scaled.iter_mut()).enumerate() {
            // Chroma planes are half as wide: the crop's x and width halve with them.
            let (sw, dw, fx) = if k == 0 {
                (fw, tw, 1.0)
            } else {
                (fw / 2, tw / 2, 0.5)
            };
            picture::resize_into(
                src,
                (sw as u32, fh as u32),
                dst,
                (dw as u32, th as u32),
                PixelType::U8,
                Some((left * fx, top, cw * fx, ch)),
            );
        }
        let [y, u, v] = &self.scaled;
        for (i, q) in self.out.chunks_exact_mut(4).enumerate() {
            q.copy_from_slice(&[y[2 * i], u[i], y[2 * i + 1], v[i]]);
        }
    }
}

impl Sink for Scaled {
    fn write(&mut self, yuyv: &[u8], tag: Tag) -> Result<(), String> {
        self.scale(yuyv);
        self.inner.write(&self.out, tag)
    }

    fn finish(&mut self) -> Result<(), String> {
        self.inner.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    /// Keeps the last frame it was given.
    struct Keep(Arc<Mutex<Vec<u8>>>);

    impl Sink for Keep {
        fn write(&mut self, yuyv: &[u8], _: Tag) -> Result<(), String> {
            *self.0.lock().unwrap() = yuyv.to_vec();
            Ok(())
        }
        fn finish(&mut self) -> Result<(), String> {
            Ok(())
        }
    }

    #[test]
    fn a_composite_is_scaled_up_to_cover_the_output() {
        let kept = Arc::new(Mutex::new(vec![]));
        // 8x6: the left half dark, the right half bright, chroma 100 / 150.
        let (w, h) = (8usize, 6usize);
        let mut frame = vec![0u8; w * h * 2];
        for (i, q) in frame.chunks_exact_mut(4).enumerate() {
            let x = (i * 2) % w;
            q.copy_from_slice(&[
                if x < 4 { 20 } else { 220 },
                100,
                if x < 4 { 20 } else { 220 },
                150,
            ]);
        }
        // To 16x8 (the 4:3 composite cropped top and bottom to 2:1).
        let mut s = Scaled::new(Box::new(Keep(kept.clone())), (8, 6), (16, 8));
        s.write(&frame, Tag::default()).unwrap();
        let out = kept.lock().unwrap().clone();
        assert_eq!(out.len(), 16 * 8 * 2);
        for row in out.chunks_exact(32) {
            let luma: Vec<u8> = row.iter().step_by(2).copied().collect();
            assert!(luma[..6].iter().all(|&l| l == 20), "{luma:?}");
            assert!(luma[10..].iter().all(|&l| l == 220), "{luma:?}");
            assert!(luma.windows(2).all(|p| p[0] <= p[1]), "{luma:?}");
            assert!(row.chunks_exact(4).all(|q| q[1] == 100 && q[3] == 150));
        }
    }
}
