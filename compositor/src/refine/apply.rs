//! Applying the fit: the coefficients interpolated to each pixel of the frame, and the
//! refined edge's temporal smoothing.

use super::{ColourGuided, FULL, HIGH, LOW, MIXED, ZERO};

/// Applies low-resolution coefficients `[Ay, Au, Av, B0]` to a full-resolution YUYV frame:
/// bilinear taps (pixel centres aligned, as [`crate::alpha::Taps`]) and `alpha = Ay * Y + Au *
/// U + Av * V + B0` per pixel (its own luma, its pair's chroma; all 0..1), written per YUYV
/// byte (`a0 ac a1 ac`, `ac` the pair's mean for the shared chroma).
///
/// Most of a frame is plainly person or plainly background: where the four cells a pixel
/// interpolates from are all `ZERO` (or all `FULL`, [`ColourGuided::class`]), the pixel is 0
/// (255) without arithmetic. Only pixels near the outline are computed.
pub struct Applier {
    low: (usize, usize),
    width: usize,
    rows: crate::alpha::Taps,
    coef: [Vec<f32>; 4],
    /// Per cell: `ZERO`, `FULL` or `MIXED`.
    class: Vec<u8>,
    /// Per cell column, for the row being made: the class both rows agree on, or `MIXED`.
    row_class: Vec<u8>,
    /// The output pixels whose left tap is cell column `j`: `first_x[j]..first_x[j + 1]`.
    first_x: Vec<usize>,
    /// The coefficients of the row being made, per cell column (between two cell rows).
    row_coef: [Vec<f32>; 4],
    /// The alpha of every pixel of the frame being made (0..255), which is also the last
    /// frame's until its row is made again.
    alpha: Vec<u8>,
    /// Temporal smoothing of computed pixels ([`edge_keep`] of `segmentation.smoothing`; 0:
    /// off). A computed pixel whose colour did not change keeps part of its last alpha, so
    /// sensor noise does not make the refined edge flicker; one whose colour changed
    /// (something moved) takes the new alpha at once. `last_frame` holds, per pixel, the
    /// colour the alpha in `alpha` stands for: the frame's own for pixels not smoothed, and
    /// for smoothed ones the same running average of colours as their alpha is of alphas
    /// (so a slow drift of colour, each frame's step under [`STILL`], adds up and counts as
    /// a change; against the last frame alone it never would).
    smoothing: f32,
    last_frame: Vec<u8>,
    /// Rows of `alpha`/`last_frame` that hold the frame composited just before: after a gap
    /// (no usable mask, idle) there is no such frame, and nothing is kept.
    history: Vec<bool>,
    /// Per pixel: the right tap's weight, 0..1.
    weight: Vec<f32>,
    /// The runs of the cell rows `runs_for`.
    runs: Vec<Run>,
    runs_for: Option<(usize, usize)>,
    /// Scratch rows: the four coefficients per pixel, then Y, U, V, the alpha, the kept
    /// colour's Y, U, V, and the share of the new alpha taken.
    scratch: [Vec<f32>; 12],
    /// The colours `last_frame` gets for the pixels smoothed in the row being made.
    next_colour: Vec<u8>,
    /// The spans of the row being made that were smoothed.
    mixed_spans: Vec<(usize, usize)>,
}

/// The share of its last alpha a refined pixel whose colour is still keeps, for
/// `segmentation.smoothing` `s`: `1 - (1 - s) / 4` (0.95 for the default 0.8). More than the
/// mask keeps: a refined pixel's alpha carries its own sensor noise times the edge's steepness
/// (docs/QUALITY.md: at `s` the franck still clips flickered at 0.54-0.66x of the raw mask,
/// at this 0.36-0.45x, and with the steeper edge of [`LOW`] 0.25-0.29x), and a pixel whose colour has not changed has not moved; one whose
/// colour drifts away from the colour its kept alpha stands for takes the new alpha.
pub fn edge_keep(s: f32) -> f32 {
    if s > 0.0 {
        1.0 - (1.0 - s) / 4.0
    } else {
        0.0
    }
}

/// Colour change (|dY| + |dU| + |dV|, 0..255 each, from the colour the kept alpha stands for)
/// up to which a pixel counts as still, and the ramp to moving.
const STILL: f32 = 6.0;
const RAMP: f32 = 10.0;

impl Applier {
    /// For coefficients of `low` size and frames of `frame` size; `smoothing` as
    /// `segmentation.smoothing`.
    pub fn new(low: (usize, usize), frame: (usize, usize), smoothing: f32) -> Applier {
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
        let weight: Vec<f32> = (0..w).map(|x| cols.w1[x] as f32 / 256.0).collect();
        Applier {
            low,
            width: w,
            rows: crate::alpha::Taps::new(lh, h),
            coef: std::array::from_fn(|_| vec![0.0; lw * lh]),
            class: vec![MIXED; lw * lh],
            row_class: vec![MIXED; lw],
            first_x,
            row_coef: std::array::from_fn(|_| vec![0.0; lw]),
            alpha: vec![0; w * h],
            smoothing: edge_keep(smoothing),
            last_frame: if smoothing > 0.0 {
                vec![0; w * h * 2]
            } else {
                Vec::new()
            },
            history: vec![false; h],
            weight,
            runs: Vec::new(),
            runs_for: None,
            scratch: std::array::from_fn(|_| vec![0.0; w]),
            next_colour: vec![0; w * 2],
            mixed_spans: Vec::new(),
        }
    }

    /// Forgets the last frame (after a frame shown without the person, or a pause): the next
    /// frame's edge pixels keep nothing of an older one.
    pub fn forget(&mut self) {
        self.history.fill(false);
    }

    /// The share of cells that need computing per pixel (the rest are plainly person or room).
    pub fn mixed_share(&self) -> f32 {
        self.class.iter().filter(|&&c| c == MIXED).count() as f32 / self.class.len() as f32
    }

    /// Takes new coefficients and classes (`low` size each) from the filter, which gets the
    /// old ones' buffers (it overwrites them all on its next run).
    pub fn take(&mut self, filter: &mut ColourGuided) {
        for (mine, theirs) in self.coef.iter_mut().zip(filter.coef.iter_mut()) {
            std::mem::swap(mine, theirs);
        }
        std::mem::swap(&mut self.class, &mut filter.class);
        self.runs_for = None;
    }

    /// Computes the alpha of pixels `start..stop` (`start` even; `stop` even or the width)
    /// of row `y`.
    #[inline(always)]
    fn span(&mut self, start: usize, stop: usize, y: usize, frame_row: &[u8]) {
        let (lw, w) = (self.low.0, self.width);
        let (r0, r1) = (self.rows.i0[y] as usize, self.rows.i1[y] as usize);
        let wy = self.rows.w1[y] as f32 * (1.0 / 256.0);
        // The cell columns whose pixels overlap the span (pixel x's left tap is the column
        // whose run holds x), and their right neighbours: this row's coefficients for them.
        // (With a frame narrower than the mask some columns hold no pixel: the span's first
        // pixel's column may lie further left than the run's.)
        let lo = self
            .first_x
            .partition_point(|&f| f <= start)
            .saturating_sub(1);
        let hi = self.first_x.partition_point(|&f| f < stop).min(lw);
        for j in lo..(hi + 1).min(lw) {
            let (k0, k1) = (r0 * lw + j, r1 * lw + j);
            for (rc, c) in self.row_coef.iter_mut().zip(&self.coef) {
                rc[j] = c[k0] + (c[k1] - c[k0]) * wy;
            }
        }
        let [sa, su, sv, sb, fy, fu, fv, alpha, ly, lu, lv, take] = &mut self.scratch;
        // The coefficients per pixel: within one cell column both taps are fixed.
        for jj in lo..hi {
            let a = self.first_x[jj].max(start);
            let b = self.first_x[jj + 1].min(stop);
            if a >= b {
                continue;
            }
            let jn = (jj + 1).min(lw - 1);
            let wx = &self.weight[a..b];
            for (plane, coef) in [&mut *sa, &mut *su, &mut *sv, &mut *sb]
                .into_iter()
                .zip(&self.row_coef)
            {
                let (c0, cd) = (coef[jj], coef[jn] - coef[jj]);
                for (o, &t) in plane[a..b].iter_mut().zip(wx) {
                    *o = c0 + cd * t;
                }
            }
        }
        // The frame's Y per pixel, U and V per pair (for both its pixels), 0..255.
        deinterleave(
            &frame_row[start * 2..stop * 2],
            [
                &mut fy[start..stop],
                &mut fu[start..stop],
                &mut fv[start..stop],
            ],
        );
        // Fixed-length slices: no bounds checks in the loops, which then vectorise.
        let n = stop - start;
        let (sa, su, sv, sb) = (
            &sa[start..stop],
            &su[start..stop],
            &sv[start..stop],
            &sb[start..stop],
        );
        let (fy, fu, fv) = (&fy[start..stop], &fu[start..stop], &fv[start..stop]);
        let alpha = &mut alpha[start..stop];
        const S: f32 = 1.0 / 255.0;
        let inv = 1.0 / (HIGH - LOW);
        for i in 0..n {
            let q = sa[i] * (fy[i] * S) + su[i] * (fu[i] * S) + sv[i] * (fv[i] * S) + sb[i];
            alpha[i] = ((q - LOW) * inv).clamp(0.0, 1.0) * 255.0;
        }
        let px = &mut self.alpha[y * w + start..y * w + stop];
        if self.smoothing > 0.0 {
            let last = &self.last_frame[y * w * 2..(y + 1) * w * 2];
            if self.history[y] {
                deinterleave(
                    &last[start * 2..stop * 2],
                    [
                        &mut ly[start..stop],
                        &mut lu[start..stop],
                        &mut lv[start..stop],
                    ],
                );
                let (ly, lu, lv) = (&ly[start..stop], &lu[start..stop], &lv[start..stop]);
                let take = &mut take[start..stop];
                let smoothing = self.smoothing;
                for i in 0..n {
                    let change =
                        (fy[i] - ly[i]).abs() + (fu[i] - lu[i]).abs() + (fv[i] - lv[i]).abs();
                    let still = 1.0 - ((change - STILL) * (1.0 / RAMP)).clamp(0.0, 1.0);
                    let keep = smoothing * still;
                    alpha[i] = keep * px[i] as f32 + (1.0 - keep) * alpha[i];
                    take[i] = 1.0 - keep;
                }
                // The colour the kept alpha stands for moves as the alpha does.
                let out = &mut self.next_colour[start * 2..stop * 2];
                for (i, q) in out.chunks_exact_mut(4).enumerate() {
                    let (a, b) = (2 * i, 2 * i + 1);
                    let t = take[a];
                    let mix = |l: f32, f: f32, t: f32| (l + (f - l) * t + 0.5) as u8;
                    q[0] = mix(ly[a], fy[a], t);
                    q[1] = mix(lu[a], fu[a], t);
                    q[2] = mix(ly[b], fy[b], take[b]);
                    q[3] = mix(lv[a], fv[a], t);
                }
                self.mixed_spans.push((start, stop));
            }
        }
        for (o, &a) in px.iter_mut().zip(alpha.iter()) {
            *o = (a + 0.5) as u8;
        }
    }

    /// The runs of output pixels of one class between cell rows `r0` and `r1`: a constant
    /// run is one fill, a mixed one is computed. Made once per pair of cell rows.
    fn make_runs(&mut self, r0: usize, r1: usize) {
        let lw = self.low.0;
        for j in 0..lw {
            self.row_class[j] = agree(self.class[r0 * lw + j], self.class[r1 * lw + j]);
        }
        self.runs.clear();
        let class_at =
            |row_class: &[u8], j: usize| agree(row_class[j], row_class[(j + 1).min(lw - 1)]);
        let mut j = 0;
        while j < lw {
            let class = class_at(&self.row_class, j);
            let mut end = j + 1;
            while end < lw && class_at(&self.row_class, end) == class {
                end += 1;
            }
            if self.first_x[j] < self.first_x[end] {
                self.runs.push(Run {
                    class,
                    j0: j,
                    j1: end,
                });
            }
            j = end;
        }
        self.runs_for = Some((r0, r1));
    }

    /// Computes the alpha of row `y` of the frame whose YUYV row is `frame_row` into
    /// [`Applier::alpha`].
    #[inline(always)]
    pub fn compute(&mut self, y: usize, frame_row: &[u8]) {
        let w = self.width;
        let (r0, r1) = (self.rows.i0[y] as usize, self.rows.i1[y] as usize);
        if self.runs_for != Some((r0, r1)) {
            self.make_runs(r0, r1);
        }
        self.mixed_spans.clear();
        for i in 0..self.runs.len() {
            let Run { class, j0, j1 } = self.runs[i];
            let (start, stop) = (self.first_x[j0], self.first_x[j1]);
            match class {
                ZERO => self.alpha[y * w + start..y * w + stop].fill(0),
                FULL => self.alpha[y * w + start..y * w + stop].fill(255),
                _ => {
                    // Computed over the whole span in passes over contiguous arrays (they
                    // vectorise), from the even pixel before to the even pixel after, so that
                    // pixel pairs stay whole (the formula is exact for any pixel).
                    let a = start & !1;
                    let b = if stop == w { w } else { (stop + 1) & !1 };
                    self.span(a, b, y, frame_row);
                }
            }
        }
        if self.smoothing > 0.0 {
            self.history[y] = true;
            let last = &mut self.last_frame[y * w * 2..(y + 1) * w * 2];
            last.copy_from_slice(&frame_row[..w * 2]);
            for &(a, b) in &self.mixed_spans {
                last[a * 2..b * 2].copy_from_slice(&self.next_colour[a * 2..b * 2]);
            }
        }
    }

    /// The alpha of every pixel (0..255), as far as computed for this frame.
    pub fn alpha(&self) -> &[u8] {
        &self.alpha
    }
}

/// A YUYV span into Y per pixel and U and V per pair (for both its pixels), 0..255.
#[inline(always)]
fn deinterleave(src: &[u8], [y, u, v]: [&mut [f32]; 3]) {
    let pixels = y
        .chunks_exact_mut(2)
        .zip(u.chunks_exact_mut(2))
        .zip(v.chunks_exact_mut(2));
    for (q, ((y, u), v)) in src.chunks_exact(4).zip(pixels) {
        let [y0, c0, y1, c1] = [q[0], q[1], q[2], q[3]].map(|x| x as f32);
        y.copy_from_slice(&[y0, y1]);
        u.copy_from_slice(&[c0, c0]);
        v.copy_from_slice(&[c1, c1]);
    }
}

#[derive(Debug, Clone, Copy)]
struct Run {
    class: u8,
    j0: usize,
    j1: usize,
}

fn agree(a: u8, b: u8) -> u8 {
    if a == b {
        a
    } else {
        MIXED
    }
}
