//! Edge refinement: the cut-out's edge follows the camera frame's edges instead of the model's
//! grid (the landscape model's 256x144 cells are 5x5 pixels of a 720p frame).
//!
//! A fast guided filter (He and Sun, "Fast Guided Filter", 2015) with the frame's luma as the
//! guide: at the mask's resolution, each window of `(2r+1)^2` cells fits the mask as a linear
//! function of the luma, `alpha = A * Y + B`; the coefficients are averaged over the windows,
//! upsampled bilinearly to the frame and applied to every full-resolution luma sample. Where the
//! frame has an edge inside a window, the cut-out takes that edge, at full resolution; where it
//! is flat, the mask is smoothed. `eps` sets how strong an edge must be to be followed.
//!
//! Cost at 720p with a 256x144 mask: the coefficients at mask size (37k cells, seven box
//! filters), then per pixel two bilinear taps and one multiply-add (vectorised f32).

/// Mean over a `(2r+1) x (2r+1)` window, clipped at the borders (divided by the cells that
/// exist), of a `w x h` image. `tmp` is scratch of the same size. Running sums: O(1) per cell.
pub fn box_mean(src: &[f32], (w, h): (usize, usize), r: usize, dst: &mut [f32], tmp: &mut [f32]) {
    // Horizontal pass into tmp.
    for y in 0..h {
        let row = &src[y * w..(y + 1) * w];
        let out = &mut tmp[y * w..(y + 1) * w];
        let mut sum = 0.0f32;
        let mut count = 0usize;
        for &v in row.iter().take(r.min(w - 1) + 1) {
            sum += v;
            count += 1;
        }
        for x in 0..w {
            out[x] = sum / count as f32;
            let add = x + r + 1;
            if add < w {
                sum += row[add];
                count += 1;
            }
            if x >= r {
                sum -= row[x - r];
                count -= 1;
            }
        }
    }
    // Vertical pass into dst, a whole row at a time (vectorises).
    let mut sum = vec![0.0f32; w];
    let mut count = 0usize;
    for y in 0..=r.min(h - 1) {
        for (s, &v) in sum.iter_mut().zip(&tmp[y * w..(y + 1) * w]) {
            *s += v;
        }
        count += 1;
    }
    for y in 0..h {
        let inv = 1.0 / count as f32;
        for (d, &s) in dst[y * w..(y + 1) * w].iter_mut().zip(&sum) {
            *d = s * inv;
        }
        let add = y + r + 1;
        if add < h {
            for (s, &v) in sum.iter_mut().zip(&tmp[add * w..(add + 1) * w]) {
                *s += v;
            }
            count += 1;
        }
        if y >= r {
            for (s, &v) in sum.iter_mut().zip(&tmp[(y - r) * w..(y - r + 1) * w]) {
                *s -= v;
            }
            count -= 1;
        }
    }
}

/// The guided filter's coefficients at low resolution.
pub struct GuidedFilter {
    size: (usize, usize),
    radius: usize,
    eps: f32,
    ip: Vec<f32>,
    ii: Vec<f32>,
    mean_i: Vec<f32>,
    mean_p: Vec<f32>,
    mean_ip: Vec<f32>,
    mean_ii: Vec<f32>,
    tmp: Vec<f32>,
    /// `A` (slope), averaged over the windows.
    pub a: Vec<f32>,
    /// `B` (offset), averaged over the windows.
    pub b: Vec<f32>,
}

impl GuidedFilter {
    /// A filter for `size` images with window radius `radius` and regularisation `eps`
    /// (luma and mask both in 0..1: an edge of luma contrast `c` is followed where
    /// `c^2 >> eps`).
    pub fn new(size: (usize, usize), radius: usize, eps: f32) -> GuidedFilter {
        let n = size.0 * size.1;
        GuidedFilter {
            size,
            radius,
            eps,
            ip: vec![0.0; n],
            ii: vec![0.0; n],
            mean_i: vec![0.0; n],
            mean_p: vec![0.0; n],
            mean_ip: vec![0.0; n],
            mean_ii: vec![0.0; n],
            tmp: vec![0.0; n],
            a: vec![0.0; n],
            b: vec![0.0; n],
        }
    }

    /// Computes `a` and `b` for guide `i` and input `p` (both `size`, values 0..1).
    pub fn run(&mut self, i: &[f32], p: &[f32]) {
        let (size, r) = (self.size, self.radius);
        for (((ip, ii), &iv), &pv) in self.ip.iter_mut().zip(&mut self.ii).zip(i).zip(p) {
            *ip = iv * pv;
            *ii = iv * iv;
        }
        box_mean(i, size, r, &mut self.mean_i, &mut self.tmp);
        box_mean(p, size, r, &mut self.mean_p, &mut self.tmp);
        box_mean(&self.ip, size, r, &mut self.mean_ip, &mut self.tmp);
        box_mean(&self.ii, size, r, &mut self.mean_ii, &mut self.tmp);
        // Per window: a = cov(I, p) / (var(I) + eps), b = mean(p) - a * mean(I). Reuse ip/ii
        // for them before averaging into self.a / self.b.
        for k in 0..self.a.len() {
            let (mi, mp) = (self.mean_i[k], self.mean_p[k]);
            let cov = self.mean_ip[k] - mi * mp;
            let var = self.mean_ii[k] - mi * mi;
            let a = cov / (var + self.eps);
            self.ip[k] = a;
            self.ii[k] = mp - a * mi;
        }
        box_mean(&self.ip, size, r, &mut self.a, &mut self.tmp);
        box_mean(&self.ii, size, r, &mut self.b, &mut self.tmp);
    }
}

/// Applies low-resolution coefficients `A`, `B` to a full-resolution frame: bilinear taps
/// (pixel centres aligned, as [`crate::alpha::Taps`]) and `alpha = A * Y + B` per pixel,
/// written per YUYV byte (`a0 ac a1 ac`, `ac` the pair's mean for the shared chroma).
///
/// Most of a frame is plainly person or plainly background: where the four cells a pixel
/// interpolates from all give alpha 0 (or all 255) for any luma, the pixel is 0 (255) without
/// arithmetic. Only pixels near the outline are computed.
pub struct Applier {
    low: (usize, usize),
    width: usize,
    cols: crate::alpha::Taps,
    rows: crate::alpha::Taps,
    a: Vec<f32>,
    b: Vec<f32>,
    /// Per cell: `ZERO` or `FULL` when `A * Y + B` rounds to 0 (255) for every luma, else
    /// `MIXED`.
    class: Vec<u8>,
    /// Per cell column, for the row being made: the class both rows agree on, or `MIXED`.
    row_class: Vec<u8>,
    /// The output pixels whose left tap is cell column `j`: `first_x[j]..first_x[j + 1]`.
    first_x: Vec<usize>,
    /// Refined probability to alpha.
    curve: Curve,
    /// `A` and `B` of the row being made, per cell column (interpolated between two rows).
    row_a: Vec<f32>,
    row_b: Vec<f32>,
    px: Vec<u8>,
}

/// From refined probability to alpha: the soft threshold (`segmentation.threshold` and
/// `softness`), a smoothstep from `threshold - softness/2` to `threshold + softness/2`, as
/// `alpha::lut` does for the unrefined mask.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Curve {
    pub threshold: f32,
    pub softness: f32,
}

impl Curve {
    /// Probabilities at or below the first give alpha 0, at or above the second 255.
    fn plain_below_above(self) -> (f32, f32) {
        if self.softness <= 0.0 {
            // A hard step: 0 below the threshold, 255 from it on.
            (self.threshold - f32::EPSILON, self.threshold)
        } else {
            // Within half a step of 0 and 255 after rounding.
            let margin = self.softness * 0.02;
            (
                self.threshold - self.softness / 2.0 + margin,
                self.threshold + self.softness / 2.0 - margin,
            )
        }
    }

    /// Alpha 0..255 of refined probability `q`.
    #[inline]
    fn alpha(self, q: f32) -> u8 {
        if self.softness <= 0.0 {
            return if q >= self.threshold { 255 } else { 0 };
        }
        let t = ((q - (self.threshold - self.softness / 2.0)) / self.softness).clamp(0.0, 1.0);
        (t * t * (3.0 - 2.0 * t) * 255.0 + 0.5) as u8
    }
}

const ZERO: u8 = 0;
const FULL: u8 = 1;
const MIXED: u8 = 2;

fn agree(a: u8, b: u8) -> u8 {
    if a == b {
        a
    } else {
        MIXED
    }
}

impl Applier {
    /// For coefficients of `low` size and frames of `frame` size.
    pub fn new(low: (usize, usize), frame: (usize, usize), curve: Curve) -> Applier {
        let (lw, lh) = low;
        let (w, h) = frame;
        let cols = crate::alpha::Taps::new(lw, w);
        // Taps are monotonic: the pixels of each left tap form one run.
        let mut first_x = vec![w; lw + 1];
        for x in (0..w).rev() {
            first_x[cols.i0[x] as usize] = x;
        }
        for j in (0..lw).rev() {
            first_x[j] = first_x[j].min(first_x[j + 1]);
        }
        Applier {
            low,
            width: w,
            cols,
            rows: crate::alpha::Taps::new(lh, h),
            a: vec![0.0; lw * lh],
            b: vec![0.0; lw * lh],
            class: vec![MIXED; lw * lh],
            row_class: vec![MIXED; lw],
            first_x,
            curve,
            row_a: vec![0.0; lw],
            row_b: vec![0.0; lw],
            px: vec![0; w],
        }
    }

    /// Takes new coefficients (`low` size each).
    pub fn set(&mut self, a: &[f32], b: &[f32]) {
        self.a.copy_from_slice(a);
        self.b.copy_from_slice(b);
        // Y in 0..1: A * Y + B lies within B +- |A|; the curve makes it 0 at or below `zero`
        // and 255 at or above `full`.
        let (zero, full) = self.curve.plain_below_above();
        for ((c, &a), &b) in self.class.iter_mut().zip(a).zip(b) {
            let (lo, hi) = (b + a.min(0.0), b + a.max(0.0));
            *c = if hi <= zero {
                ZERO
            } else if lo >= full {
                FULL
            } else {
                MIXED
            };
        }
    }

    /// Alpha of row `y` of the frame whose YUYV row is `frame_row`, per YUYV byte into `out`.
    pub fn row(&mut self, y: usize, frame_row: &[u8], out: &mut [u8]) {
        let (lw, w) = (self.low.0, self.width);
        let (r0, r1) = (self.rows.i0[y] as usize, self.rows.i1[y] as usize);
        let wy = self.rows.w1[y] as f32 * (1.0 / 256.0);
        for j in 0..lw {
            let (k0, k1) = (r0 * lw + j, r1 * lw + j);
            self.row_class[j] = agree(self.class[k0], self.class[k1]);
            self.row_a[j] = self.a[k0] + (self.a[k1] - self.a[k0]) * wy;
            self.row_b[j] = self.b[k0] + (self.b[k1] - self.b[k0]) * wy;
        }
        // Runs of cell columns of one class: a constant run is one fill.
        let class_at =
            |row_class: &[u8], j: usize| agree(row_class[j], row_class[(j + 1).min(lw - 1)]);
        let mut j = 0;
        while j < lw {
            let class = class_at(&self.row_class, j);
            let mut end = j + 1;
            while end < lw && class_at(&self.row_class, end) == class {
                end += 1;
            }
            let run = self.first_x[j]..self.first_x[end];
            match class {
                ZERO => self.px[run].fill(0),
                FULL => self.px[run].fill(255),
                _ => {
                    let (ra, rb) = (&self.row_a, &self.row_b);
                    for x in run {
                        let (c0, c1) = (self.cols.i0[x] as usize, self.cols.i1[x] as usize);
                        let wx = self.cols.w1[x] as f32 * (1.0 / 256.0);
                        let a = ra[c0] + (ra[c1] - ra[c0]) * wx;
                        let b = rb[c0] + (rb[c1] - rb[c0]) * wx;
                        let q = a * (frame_row[2 * x] as f32 * (1.0 / 255.0)) + b;
                        self.px[x] = self.curve.alpha(q);
                    }
                }
            }
            j = end;
        }
        for (q, pair) in out[..2 * w]
            .chunks_exact_mut(4)
            .zip(self.px.chunks_exact(2))
        {
            let ac = ((pair[0] as u16 + pair[1] as u16 + 1) >> 1) as u8;
            q.copy_from_slice(&[pair[0], ac, pair[1], ac]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The box mean by its definition, for comparison.
    fn naive_box(src: &[f32], (w, h): (usize, usize), r: usize) -> Vec<f32> {
        let mut out = vec![0.0; w * h];
        for y in 0..h {
            for x in 0..w {
                let (mut s, mut n) = (0.0, 0);
                for yy in y.saturating_sub(r)..=(y + r).min(h - 1) {
                    for xx in x.saturating_sub(r)..=(x + r).min(w - 1) {
                        s += src[yy * w + xx];
                        n += 1;
                    }
                }
                out[y * w + x] = s / n as f32;
            }
        }
        out
    }

    #[test]
    fn box_mean_matches_its_definition() {
        for (w, h, r) in [(9, 7, 2), (5, 3, 4), (16, 9, 0), (1, 1, 3), (12, 2, 1)] {
            let src: Vec<f32> = (0..w * h).map(|i| ((i * 37 % 11) as f32) / 7.0).collect();
            let mut dst = vec![0.0; w * h];
            let mut tmp = vec![0.0; w * h];
            box_mean(&src, (w, h), r, &mut dst, &mut tmp);
            let want = naive_box(&src, (w, h), r);
            for (g, e) in dst.iter().zip(&want) {
                assert!((g - e).abs() < 1e-5, "{w}x{h} r{r}: {g} vs {e}");
            }
        }
    }

    #[test]
    fn a_mask_that_is_a_linear_function_of_the_guide_is_kept() {
        // p = 0.8 * I + 0.1 exactly: every window fits it, so A = 0.8, B = 0.1 everywhere
        // (up to eps, tiny here).
        let (w, h) = (20, 10);
        let i: Vec<f32> = (0..w * h)
            .map(|k| ((k * 7919) % 101) as f32 / 100.0)
            .collect();
        let p: Vec<f32> = i.iter().map(|v| 0.8 * v + 0.1).collect();
        let mut gf = GuidedFilter::new((w, h), 2, 1e-6);
        gf.run(&i, &p);
        for k in 0..w * h {
            assert!((gf.a[k] - 0.8).abs() < 1e-3, "a {}", gf.a[k]);
            assert!((gf.b[k] - 0.1).abs() < 1e-3, "b {}", gf.b[k]);
        }
    }

    #[test]
    fn a_flat_guide_smooths_and_an_edge_in_the_guide_is_followed() {
        // Guide: dark left half, bright right half. Mask: a blurry ramp across the middle.
        // Applied as A * I + B, the result is a step exactly at the guide's edge.
        let (w, h) = (24, 4);
        let i: Vec<f32> = (0..w * h)
            .map(|k| if k % w < 12 { 0.2 } else { 0.8 })
            .collect();
        let p: Vec<f32> = (0..w * h)
            .map(|k| (((k % w) as f32 - 8.0) / 8.0).clamp(0.0, 1.0))
            .collect();
        let mut gf = GuidedFilter::new((w, h), 3, 1e-4);
        gf.run(&i, &p);
        let q: Vec<f32> = (0..w)
            .map(|x| gf.a[w + x] * i[w + x] + gf.b[w + x])
            .collect();
        // Far from the edge the mask's own values come back; at the edge, a step.
        assert!(q[0] < 0.05 && q[23] > 0.95, "{q:?}");
        assert!(q[11] < 0.45 && q[12] > 0.55, "{q:?}");
        assert!(q[12] - q[11] > 0.3, "a step at the guide's edge: {q:?}");
    }
}
