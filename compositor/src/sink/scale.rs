//! A sink in front of another that scales each composite to the fake webcam's own size
//! (`output.width` x `output.height`, when larger than the size viba composites at:
//! `Config::frame_size`). Bilinear, YUYV in and out, luma per pixel and chroma per pixel pair,
//! cropping to cover as capture does. As in `alpha::Upsampler`, each source row is first
//! widened to the output's width (once per frame: there are fewer source rows than output
//! rows), then each output row is a blend of two widened rows, a loop the compiler
//! vectorises. The composite already holds no room where the person is not, so scaling it
//! keeps the privacy promise.

use super::{Sink, SinkError, Tag};

/// For each output position, the two source positions and the weight (0..=256) of the second.
struct Taps {
    i0: Vec<u32>,
    i1: Vec<u32>,
    w1: Vec<u16>,
}

impl Taps {
    /// `n_dst` samples over the source span `[left, left + span)` of `n_src` samples, pixel
    /// centres aligned.
    fn new(n_src: usize, n_dst: usize, left: f64, span: f64) -> Taps {
        let (mut i0, mut i1, mut w1) = (vec![], vec![], vec![]);
        for d in 0..n_dst {
            let s = (left + (d as f64 + 0.5) * span / n_dst as f64 - 0.5)
                .clamp(0.0, (n_src - 1) as f64);
            let a = s.floor() as usize;
            i0.push(a as u32);
            i1.push((a + 1).min(n_src - 1) as u32);
            w1.push(((s - a as f64) * 256.0).round() as u16);
        }
        Taps { i0, i1, w1 }
    }
}

#[inline(always)]
fn lerp(a: u8, b: u8, w1: u16) -> u8 {
    ((a as u16 * (256 - w1) + b as u16 * w1 + 128) >> 8) as u8
}

pub struct Scaled {
    inner: Box<dyn Sink>,
    from: (usize, usize),
    to: (usize, usize),
    luma: Taps,
    chroma: Taps,
    rows: Taps,
    /// Each source row widened to the output's width (YUYV, `2 * to.0` bytes).
    wide: Vec<u8>,
    out: Vec<u8>,
}

impl Scaled {
    pub fn new(inner: Box<dyn Sink>, from: (u32, u32), to: (u32, u32)) -> Scaled {
        let (fw, fh) = (from.0 as usize, from.1 as usize);
        let (tw, th) = (to.0 as usize, to.1 as usize);
        let (left, top, cw, ch) = viba_media::picture::cover_crop(from, to);
        Scaled {
            inner,
            from: (fw, fh),
            to: (tw, th),
            luma: Taps::new(fw, tw, left, cw),
            chroma: Taps::new(fw / 2, tw / 2, left / 2.0, cw / 2.0),
            rows: Taps::new(fh, th, top, ch),
            wide: vec![0; fh * tw * 2],
            out: vec![0; tw * th * 2],
        }
    }

    /// Scales one YUYV composite into `self.out`.
    fn scale(&mut self, yuyv: &[u8]) {
        let (fw, _) = self.from;
        let (tw, th) = self.to;
        let stride = tw * 2;
        for (src, dst) in yuyv
            .chunks_exact(fw * 2)
            .zip(self.wide.chunks_exact_mut(stride))
        {
            let l = &self.luma;
            for (x, y) in dst.iter_mut().step_by(2).enumerate() {
                *y = lerp(
                    src[2 * l.i0[x] as usize],
                    src[2 * l.i1[x] as usize],
                    l.w1[x],
                );
            }
            let c = &self.chroma;
            for (p, q) in dst.chunks_exact_mut(4).enumerate() {
                let (a, b, w) = (4 * c.i0[p] as usize, 4 * c.i1[p] as usize, c.w1[p]);
                q[1] = lerp(src[a + 1], src[b + 1], w);
                q[3] = lerp(src[a + 3], src[b + 3], w);
            }
        }
        for (y, row) in self.out.chunks_exact_mut(stride).take(th).enumerate() {
            let (r0, r1, w1) = (
                self.rows.i0[y] as usize,
                self.rows.i1[y] as usize,
                self.rows.w1[y],
            );
            let a = &self.wide[r0 * stride..(r0 + 1) * stride];
            let b = &self.wide[r1 * stride..(r1 + 1) * stride];
            let w0 = 256 - w1;
            for ((o, &p), &q) in row.iter_mut().zip(a).zip(b) {
                *o = ((p as u16 * w0 + q as u16 * w1 + 128) >> 8) as u8;
            }
        }
    }
}

impl Sink for Scaled {
    fn write(&mut self, yuyv: &[u8], tag: Tag) -> Result<(), SinkError> {
        self.scale(yuyv);
        self.inner.write(&self.out, tag)
    }

    fn finish(&mut self) -> Result<(), SinkError> {
        self.inner.finish()
    }

    fn frames_before(&self) -> u64 {
        self.inner.frames_before()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    /// Keeps the last frame it was given.
    struct Keep(Arc<Mutex<Vec<u8>>>);

    impl Sink for Keep {
        fn write(&mut self, yuyv: &[u8], _: Tag) -> Result<(), SinkError> {
            *self.0.lock().unwrap() = yuyv.to_vec();
            Ok(())
        }
        fn finish(&mut self) -> Result<(), SinkError> {
            Ok(())
        }
    }

    fn scaled(frame: &[u8], from: (u32, u32), to: (u32, u32)) -> Vec<u8> {
        let kept = Arc::new(Mutex::new(vec![]));
        let mut s = Scaled::new(Box::new(Keep(kept.clone())), from, to);
        s.write(frame, Tag::default()).unwrap();
        let out = kept.lock().unwrap().clone();
        assert_eq!(out.len(), to.0 as usize * to.1 as usize * 2);
        out
    }

    #[test]
    fn a_composite_is_scaled_up_to_cover_the_output() {
        // 8x6: the left half dark, the right half bright, chroma 100 / 150.
        let (w, h) = (8usize, 6usize);
        let mut frame = vec![0u8; w * h * 2];
        for (i, q) in frame.chunks_exact_mut(4).enumerate() {
            let x = (i * 2) % w;
            let l = if x < 4 { 20 } else { 220 };
            q.copy_from_slice(&[l, 100, l, 150]);
        }
        // To 16x8 (the 4:3 composite cropped top and bottom to 2:1).
        let out = scaled(&frame, (8, 6), (16, 8));
        for row in out.chunks_exact(32) {
            let luma: Vec<u8> = row.iter().step_by(2).copied().collect();
            assert!(luma[..6].iter().all(|&l| l == 20), "{luma:?}");
            assert!(luma[10..].iter().all(|&l| l == 220), "{luma:?}");
            assert!(luma.windows(2).all(|p| p[0] <= p[1]), "{luma:?}");
            assert!(row.chunks_exact(4).all(|q| q[1] == 100 && q[3] == 150));
        }
    }

    #[test]
    fn a_vertical_ramp_stays_a_ramp_and_a_flat_picture_stays_flat() {
        let (w, h) = (6usize, 4usize);
        let mut frame = vec![0u8; w * h * 2];
        for (y, row) in frame.chunks_exact_mut(w * 2).enumerate() {
            for q in row.chunks_exact_mut(4) {
                let l = 40 + 50 * y as u8;
                q.copy_from_slice(&[l, 128, l, 128]);
            }
        }
        let out = scaled(&frame, (6, 4), (12, 8));
        let column: Vec<u8> = out.chunks_exact(24).map(|r| r[0]).collect();
        assert!(column.windows(2).all(|p| p[0] <= p[1]), "{column:?}");
        assert_eq!((column[0], column[7]), (40, 190));
        let flat = scaled(&[90u8; 6 * 4 * 2], (6, 4), (10, 6));
        assert!(flat.iter().all(|&v| v == 90));
    }
}
