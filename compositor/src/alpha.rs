//! From a low-resolution person probability mask to a full-resolution alpha row.
//!
//! The threshold with a soft edge is applied to the small mask through a 256-entry table,
//! then the result is upsampled bilinearly: the soft edge spans at least one mask pixel,
//! which also feathers the cut-out.

/// Maps mask probabilities (0..255) to alpha (0..255): 0 below `threshold - softness/2`, 255
/// above `threshold + softness/2`, a smoothstep in between. The soft edge is cut to 0..1, so
/// whatever the config, probability 0 is always alpha 0 (the room never shows through where
/// the model sees no person) and probability 1 always alpha 255 (the person is never see-through).
pub fn lut(threshold: f32, softness: f32) -> [u8; 256] {
    let mut table = [0u8; 256];
    let lo = (threshold - softness / 2.0).max(0.0);
    let hi = (threshold + softness / 2.0).min(1.0);
    for (i, a) in table.iter_mut().enumerate() {
        let p = i as f32 / 255.0;
        let t = if hi - lo <= 0.0 {
            if p >= threshold {
                1.0
            } else {
                0.0
            }
        } else {
            ((p - lo) / (hi - lo)).clamp(0.0, 1.0)
        };
        *a = (t * t * (3.0 - 2.0 * t) * 255.0).round() as u8;
    }
    table
}

/// Precomputed bilinear sampling positions from a `src` line of `n_src` samples to `n_dst`
/// samples (pixel centres aligned): for each output position, the two source indices and the
/// weight of the second (0..=256).
#[derive(Debug, Clone)]
pub struct Taps {
    /// The first source index of each output position.
    pub i0: Vec<u32>,
    /// The second source index (the first again at the line's ends).
    pub i1: Vec<u32>,
    /// The second's weight, 0..=256.
    pub w1: Vec<u16>,
}

impl Taps {
    /// The taps from `n_src` samples to `n_dst`.
    pub fn new(n_src: usize, n_dst: usize) -> Taps {
        let (mut i0, mut i1, mut w1) = (Vec::new(), Vec::new(), Vec::new());
        let ratio = n_src as f64 / n_dst as f64;
        for d in 0..n_dst {
            let s = ((d as f64 + 0.5) * ratio - 0.5).clamp(0.0, (n_src - 1) as f64);
            let a = s.floor() as usize;
            let b = (a + 1).min(n_src - 1);
            i0.push(a as u32);
            i1.push(b as u32);
            w1.push(((s - a as f64) * 256.0).round() as u16);
        }
        Taps { i0, i1, w1 }
    }
}

/// Upsamples a small alpha image to the frame size, one output row at a time.
pub struct Upsampler {
    mask_width: usize,
    mask_height: usize,
    width: usize,
    cols: Taps,
    rows: Taps,
    /// Each mask row, upsampled horizontally to `width` and laid out per YUYV byte:
    /// `a0 ac a1 ac` for each pixel pair, `ac` being the mean of the pair's alphas (for the
    /// shared chroma bytes).
    wide: Vec<u8>,
}

impl Upsampler {
    /// For masks of `mask_size` and frames of `frame_size` (width, height).
    pub fn new(mask_size: (usize, usize), frame_size: (usize, usize)) -> Upsampler {
        let (mw, mh) = mask_size;
        let (w, h) = frame_size;
        Upsampler {
            mask_width: mw,
            mask_height: mh,
            width: w,
            cols: Taps::new(mw, w),
            rows: Taps::new(mh, h),
            wide: vec![0; mh * w * 2],
        }
    }

    /// Takes a new small alpha image (`mask_width * mask_height`) and widens its rows.
    pub fn set_mask(&mut self, alpha: &[u8]) {
        let stride = self.width * 2;
        let sample = |src: &[u8], x: usize| {
            let a = src[self.cols.i0[x] as usize] as u16;
            let b = src[self.cols.i1[x] as usize] as u16;
            let wb = self.cols.w1[x];
            (a * (256 - wb) + b * wb + 128) >> 8
        };
        for (r, src) in alpha
            .chunks_exact(self.mask_width)
            .take(self.mask_height)
            .enumerate()
        {
            let dst = &mut self.wide[r * stride..(r + 1) * stride];
            for (pair, q) in dst.chunks_exact_mut(4).enumerate() {
                let a0 = sample(src, 2 * pair);
                let a1 = sample(src, 2 * pair + 1);
                let ac = (a0 + a1 + 1) >> 1;
                q.copy_from_slice(&[a0 as u8, ac as u8, a1 as u8, ac as u8]);
            }
        }
    }

    /// Alpha of output row `y` for each byte of a YUYV row (`2 * width` long): `a0 ac a1 ac`
    /// per pixel pair, where `ac` (for the shared chroma) is the mean of the pair's alphas.
    #[inline(always)]
    pub fn row(&self, y: usize, out: &mut [u8]) {
        let w = self.width * 2;
        let r0 = self.rows.i0[y] as usize;
        let r1 = self.rows.i1[y] as usize;
        let wb = self.rows.w1[y];
        let wa = 256 - wb;
        let a = &self.wide[r0 * w..(r0 + 1) * w];
        let b = &self.wide[r1 * w..(r1 + 1) * w];
        for ((o, &x0), &x1) in out[..w].iter_mut().zip(a).zip(b) {
            *o = ((x0 as u16 * wa + x1 as u16 * wb + 128) >> 8) as u8;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lut_is_a_step_around_the_threshold() {
        let t = lut(0.5, 0.2);
        assert_eq!(t[0], 0);
        assert_eq!(t[101], 0); // p = 0.396 < 0.4
        assert_eq!(t[255], 255);
        assert_eq!(t[154], 255); // p = 0.604 > 0.6
        assert!(t[128] > 100 && t[128] < 155);
        let hard = lut(0.5, 0.0);
        assert_eq!((hard[127], hard[128]), (0, 255));
    }

    #[test]
    fn no_config_shows_the_room_where_the_model_sees_nobody() {
        for threshold in [0.01f32, 0.05, 0.1, 0.3, 0.5, 0.7, 0.9, 0.95, 0.99] {
            for softness in [0.0f32, 0.1, 0.3, 0.6, 1.0] {
                let t = lut(threshold, softness);
                assert_eq!(t[0], 0, "threshold {threshold} softness {softness}");
                assert_eq!(t[255], 255, "threshold {threshold} softness {softness}");
                assert!(t.windows(2).all(|w| w[0] <= w[1]));
            }
        }
    }

    #[test]
    fn constant_masks_upsample_to_constants() {
        for v in [0u8, 77, 255] {
            let mut up = Upsampler::new((4, 3), (10, 7));
            up.set_mask(&[v; 12]);
            let mut row = [0u8; 20];
            for y in 0..7 {
                up.row(y, &mut row);
                assert_eq!(row, [v; 20]);
            }
        }
    }

    #[test]
    fn upsampling_interpolates_between_columns() {
        let mut up = Upsampler::new((2, 1), (8, 1));
        up.set_mask(&[0, 255]);
        let mut row = [0u8; 16];
        up.row(0, &mut row);
        // Luma alphas (bytes 0 and 2 of each pair) rise from 0 to 255.
        let luma: Vec<u8> = row.chunks_exact(4).flat_map(|q| [q[0], q[2]]).collect();
        assert_eq!(luma[0], 0);
        assert_eq!(luma[7], 255);
        assert!(luma.windows(2).all(|w| w[0] <= w[1]), "{luma:?}");
        // Chroma alphas are the mean of the pair.
        for q in row.chunks_exact(4) {
            assert_eq!(q[1], (q[0] as u16 + q[2] as u16).div_ceil(2) as u8);
            assert_eq!(q[1], q[3]);
        }
    }
}
