//! Applying the fit: the coefficients interpolated to each pixel of the frame, and the
//! refined edge's temporal smoothing.

use super::noise::{self, NoiseFloor};
use super::{ColourGuided, FULL, HIGH, LOW, MIXED, ZERO};
use crate::simd::to_u8;

/// Applies low-resolution coefficients `[Ay, Au, Av, B0]` to a full-resolution YUYV frame:
/// bilinear taps (pixel centres aligned, as [`crate::alpha::Taps`]) and `alpha = Ay * Y + Au *
/// U + Av * V + B0` per pixel (its own luma, its pair's chroma; all 0..1), one byte per pixel
/// ([`Applier::alpha`]).
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
    /// Per cell column, for the row being made: the class it and the next column agree on
    /// in `row_class` (the class of the pixels whose left tap it is).
    pair_class: Vec<u8>,
    /// The output pixels whose left tap is cell column `j`: `first_x[j]..first_x[j + 1]`.
    first_x: Vec<usize>,
    /// The coefficients of the row being made, per cell column (between two cell rows).
    row_coef: [Vec<f32>; 4],
    /// Per cell column, the step from its coefficients in `row_coef` to the next column's.
    row_slope: [Vec<f32>; 4],
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
    /// Per pixel: its left tap's cell column, and the right tap's weight, 0..1.
    left: Vec<u32>,
    weight: Vec<f32>,
    /// The runs of the cell rows `runs_for`.
    runs: Vec<Run>,
    runs_for: Option<(usize, usize)>,
    /// The colours `last_frame` gets for the pixels smoothed in the row being made.
    next_colour: Vec<u8>,
    /// The spans of the row being made that were smoothed.
    mixed_spans: Vec<(usize, usize)>,
    /// Where the caller's frame is a copy of its own ([`Applier::keep_frame`]): the smoothed
    /// pixels' colours for it (offset in the frame, and the colours in `kept_colours`), written
    /// once the frame is no longer read; then it becomes `last_frame` (no copy of the frame).
    kept: Vec<(usize, usize)>,
    kept_colours: Vec<u8>,
    /// [`Applier::keep_frame`] will be called: `compute` copies no frame row.
    trading: bool,
    /// The camera's noise, measured on the plain room, which raises the smoothing's still
    /// threshold ([`NoiseFloor`]).
    noise: NoiseFloor,
    /// Computes pixel pair by pixel pair ([`Applier::span_by_pairs`]), for the tests.
    #[cfg(test)]
    by_pairs: bool,
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
/// Fall of the alpha itself (0..1, the last alpha against the new fit) up to which a pixel
/// may count as still, and from which (plus [`FALL_RAMP`]) it counts as moving whatever its
/// colour did: where the person and the room look alike (dark hair before a dark wall) the
/// colour barely changes as the person moves away, and the kept alpha would show the room
/// there for a second (0.95 a frame). Only a fall, as the segmenter's smoothing
/// (`segmenter/src/temporal.rs`): a rise on still colour stays averaged. Half the
/// segmenter's 0.3: measured (docs/QUALITY.md, 2026-12-06 11:44-12:08) 0.3 / 0.15 / 0.05
/// (ramp 0.1) left the leak at 0.80 / 0.72 / 0.70 % on `greenman-cabin-slow-1280x720` and
/// 1.83 / 1.73 / 1.69 % on the zoom, the still sequences unchanged at 0.3 and 0.15, worse at
/// 0.05 (the fit's own noise crosses it).
const FALL_STILL: f32 = 0.15;
const FALL_RAMP: f32 = 0.15;

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
            pair_class: vec![MIXED; lw],
            first_x,
            row_coef: std::array::from_fn(|_| vec![0.0; lw]),
            row_slope: std::array::from_fn(|_| vec![0.0; lw]),
            alpha: vec![0; w * h],
            smoothing: edge_keep(smoothing),
            last_frame: if smoothing > 0.0 {
                vec![0; w * h * 2]
            } else {
                Vec::new()
            },
            history: vec![false; h],
            left: cols.i0.clone(),
            weight,
            runs: Vec::new(),
            runs_for: None,
            next_colour: vec![0; w * 2],
            mixed_spans: Vec::new(),
            kept: Vec::new(),
            kept_colours: Vec::new(),
            trading: false,
            noise: NoiseFloor::new(),
            #[cfg(test)]
            by_pairs: false,
        }
    }

    /// The colours the kept alphas stand for ([`Applier::last_frame`]).
    #[cfg(test)]
    pub(super) fn last_frame(&self) -> &[u8] {
        &self.last_frame
    }

    /// The runs of row `y`: class, first pixel, end.
    #[cfg(test)]
    pub(super) fn runs_of_row(&mut self, y: usize) -> Vec<(u8, usize, usize)> {
        self.make_runs(self.rows.i0[y] as usize, self.rows.i1[y] as usize);
        let first_x = &self.first_x;
        self.runs
            .iter()
            .map(|r| (r.class, first_x[r.j0], first_x[r.j1]))
            .collect()
    }

    /// The class of pixel `x` of row `y` by the definition: what the four cells it
    /// interpolates from agree on, or `MIXED`.
    #[cfg(test)]
    pub(super) fn class_of_pixel(&self, x: usize, y: usize) -> u8 {
        let lw = self.low.0;
        let (r0, r1) = (self.rows.i0[y] as usize, self.rows.i1[y] as usize);
        let j = self.left[x] as usize;
        let jn = (j + 1).min(lw - 1);
        let c = |r: usize, j: usize| self.class[r * lw + j];
        agree(agree(c(r0, j), c(r0, jn)), agree(c(r1, j), c(r1, jn)))
    }

    /// Takes what `old` measured of the camera's noise (`refine/noise.rs`): a config read again
    /// changes no camera, and measuring again would bring a dim room's flicker back for a
    /// second and a half.
    pub fn keep_noise_of(&mut self, old: &Applier) {
        self.noise = old.noise.clone();
    }

    /// The scale of the smoothing's still threshold ([`NoiseFloor::scale`]).
    #[cfg(test)]
    pub(crate) fn noise_scale(&self) -> f32 {
        self.noise.scale()
    }

    /// The same applier with the still threshold's scale set to `scale` (until a frame's
    /// samples of the room set it again).
    #[cfg(test)]
    pub(super) fn noise_scaled(mut self, scale: f32) -> Applier {
        self.noise = NoiseFloor::forced(scale);
        self
    }

    /// The same applier computing pixel pair by pixel pair, by the definition.
    #[cfg(test)]
    pub(super) fn by_pairs(mut self) -> Applier {
        self.by_pairs = true;
        self
    }

    /// The frames given to [`Applier::compute`] are the caller's own copies, which it hands
    /// over after each frame ([`Applier::keep_frame`]) instead of `compute` copying them.
    pub fn trading(mut self) -> Applier {
        self.trading = true;
        self
    }

    /// With [`Applier::trading`]: takes the frame whose rows `compute` was given (all of
    /// them, and no longer read by the caller) as the last frame, with the smoothed pixels'
    /// colours written into it, and gives the caller the old one's buffer (to overwrite).
    pub fn keep_frame(&mut self, frame: &mut Vec<u8>) {
        debug_assert!(self.trading, "keep_frame on an applier that copies");
        if self.smoothing == 0.0 {
            return;
        }
        let mut used = 0;
        for &(at, len) in &self.kept {
            frame[at..at + len].copy_from_slice(&self.kept_colours[used..used + len]);
            used += len;
        }
        self.kept.clear();
        self.kept_colours.clear();
        std::mem::swap(frame, &mut self.last_frame);
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
    /// old ones' buffers (it overwrites them all on its next run). Called once per frame,
    /// before its rows are computed.
    pub fn take(&mut self, filter: &mut ColourGuided) {
        // A new frame: the last one's samples of the room set the smoothing's thresholds.
        self.noise.end_frame();
        for (mine, theirs) in self.coef.iter_mut().zip(filter.coef.iter_mut()) {
            std::mem::swap(mine, theirs);
        }
        std::mem::swap(&mut self.class, &mut filter.class);
        self.runs_for = None;
    }

    /// This row's coefficients ([`Applier::row_coef`]) and their slopes to the next column
    /// ([`Applier::row_slope`]) for the cell columns whose pixels overlap `start..stop` of row
    /// `y`, and the right neighbours of those columns.
    #[inline(always)]
    fn row_coefficients(&mut self, start: usize, stop: usize, y: usize) {
        let lw = self.low.0;
        let (r0, r1) = (self.rows.i0[y] as usize, self.rows.i1[y] as usize);
        let wy = self.rows.w1[y] as f32 * (1.0 / 256.0);
        // The cell columns whose pixels overlap the span (from the left tap of its first
        // pixel to that of its last), and their right neighbours: this row's coefficients
        // for them.
        let (lo, hi) = (self.left[start] as usize, self.left[stop - 1] as usize + 1);
        let end = (hi + 1).min(lw);
        for (rc, c) in self.row_coef.iter_mut().zip(&self.coef) {
            let (c0, c1) = (
                &c[r0 * lw + lo..r0 * lw + end],
                &c[r1 * lw + lo..r1 * lw + end],
            );
            for ((r, &a), &b) in rc[lo..end].iter_mut().zip(c0).zip(c1) {
                *r = a + (b - a) * wy;
            }
        }
        // The span's pixels' left taps are lo..hi; each interpolates towards the next column.
        // (The last column's pixels interpolate towards itself: its slope is never written,
        // and stays 0.)
        let inner = hi.min(lw - 1);
        for (sl, rc) in self.row_slope.iter_mut().zip(&self.row_coef) {
            let (now, next) = (&rc[lo..inner], &rc[lo + 1..inner + 1]);
            for ((s, &a), &b) in sl[lo..inner].iter_mut().zip(now).zip(next) {
                *s = b - a;
            }
        }
    }

    /// Computes the alpha of pixels `start..stop` (`start` even; `stop` even or the width)
    /// of row `y`, [`BLOCK`] pixels at a time: each step a pass over the block's pixels in
    /// arrays of their own (the coefficients, the colours, the last colours), which the
    /// compiler vectorises; pixel by pixel the same arithmetic in the same order as
    /// [`Applier::span_by_pairs`], so the same bytes.
    #[inline(always)]
    fn span(&mut self, start: usize, stop: usize, y: usize, frame_row: &[u8]) {
        debug_assert!(start < stop, "an empty span");
        self.row_coefficients(start, stop, y);
        let w = self.width;
        let (smoothing, scale) = (self.smoothing, self.noise.scale());
        let history = smoothing > 0.0 && self.history[y];
        let rc: [&[f32]; 4] = [0, 1, 2, 3].map(|p| &self.row_coef[p][..]);
        let sl: [&[f32]; 4] = [0, 1, 2, 3].map(|p| &self.row_slope[p][..]);
        // Whole pixel pairs only (a last odd pixel of an odd width is never computed).
        let pixels = (stop - start) & !1;
        let mut done = 0;
        while done < pixels {
            let n = (pixels - done).min(BLOCK);
            let x0 = start + done;
            // The block's bytes, zero beyond `n` pixels (those lanes are computed and dropped).
            let mut q = [0u8; 2 * BLOCK];
            q[..2 * n].copy_from_slice(&frame_row[x0 * 2..(x0 + n) * 2]);
            let mut taps = [0usize; BLOCK];
            let mut t = [0.0f32; BLOCK];
            for i in 0..n {
                taps[i] = self.left[x0 + i] as usize;
                t[i] = self.weight[x0 + i];
            }
            // Each pixel's coefficients, its left tap's towards its right tap's; its own luma,
            // its pair's chroma. (Loops, not `array::from_fn`: its closures were compiled apart,
            // without AVX2, and called per value.)
            let mut c = [[0.0f32; BLOCK]; 4];
            for (c, (rc, sl)) in c.iter_mut().zip(rc.iter().zip(sl)) {
                for i in 0..BLOCK {
                    c[i] = rc[taps[i]] + sl[taps[i]] * t[i];
                }
            }
            let mut f = [[0.0f32; BLOCK]; 3];
            deinterleave(&q, &mut f);
            let mut alpha = [0.0f32; BLOCK];
            for (i, a) in alpha.iter_mut().enumerate() {
                *a = fitted(
                    [c[0][i], c[1][i], c[2][i], c[3][i]],
                    [f[0][i], f[1][i], f[2][i]],
                );
            }
            let px = &mut self.alpha[y * w + x0..y * w + x0 + n];
            if history {
                let at = (y * w + x0) * 2;
                let mut l = [0u8; 2 * BLOCK];
                l[..2 * n].copy_from_slice(&self.last_frame[at..at + 2 * n]);
                let mut last = [0.0f32; BLOCK];
                for (k, &p) in last.iter_mut().zip(px.iter()) {
                    *k = p as f32;
                }
                let mut lf = [[0.0f32; BLOCK]; 3];
                deinterleave(&l, &mut lf);
                let mut take = [0.0f32; BLOCK];
                for i in 0..BLOCK {
                    let (a, keep) = smoothed(
                        (smoothing, scale),
                        alpha[i],
                        last[i],
                        [f[0][i], f[1][i], f[2][i]],
                        [lf[0][i], lf[1][i], lf[2][i]],
                    );
                    alpha[i] = a;
                    take[i] = 1.0 - keep;
                }
                // The colours the kept alphas now stand for: each pixel's luma, and the pair's
                // chroma moved as its first pixel's alpha.
                let mut nc = [[0u8; BLOCK]; 3];
                for (nc, (f, lf)) in nc.iter_mut().zip(f.iter().zip(&lf)) {
                    for i in 0..BLOCK {
                        nc[i] = mix(lf[i], f[i], take[i]);
                    }
                }
                let out = &mut self.next_colour[x0 * 2..(x0 + n) * 2];
                for (pair, o) in out.chunks_exact_mut(4).enumerate() {
                    let (a, b) = (2 * pair, 2 * pair + 1);
                    o.copy_from_slice(&[nc[0][a], nc[1][a], nc[0][b], nc[2][a]]);
                }
            }
            for (p, &a) in px.iter_mut().zip(&alpha) {
                *p = to_u8(a + 0.5);
            }
            done += n;
        }
        if history {
            self.mixed_spans.push((start, stop));
        }
    }

    /// [`Applier::span`] pixel pair by pixel pair: its definition, which the tests hold it to.
    #[cfg(test)]
    fn span_by_pairs(&mut self, start: usize, stop: usize, y: usize, frame_row: &[u8]) {
        let (lw, w) = (self.low.0, self.width);
        let (r0, r1) = (self.rows.i0[y] as usize, self.rows.i1[y] as usize);
        let wy = self.rows.w1[y] as f32 * (1.0 / 256.0);
        // Each coefficient between the two cell rows, then between the two columns.
        let cells = &self.coef;
        let row = |p: usize, j: usize| {
            let (c0, c1) = (cells[p][r0 * lw + j], cells[p][r1 * lw + j]);
            c0 + (c1 - c0) * wy
        };
        let (left, weight) = (&self.left[start..stop], &self.weight[start..stop]);
        let frame = &frame_row[start * 2..stop * 2];
        let px = &mut self.alpha[y * w + start..y * w + stop];
        let (smoothing, scale) = (self.smoothing, self.noise.scale());
        let history = smoothing > 0.0 && self.history[y];
        let last = if history {
            &self.last_frame[(y * w + start) * 2..(y * w + stop) * 2]
        } else {
            &[][..]
        };
        let next = &mut self.next_colour[start * 2..stop * 2];
        let coef = |j: usize, t: f32| -> [f32; 4] {
            let jn = (j + 1).min(lw - 1);
            std::array::from_fn(|p| row(p, j) + (row(p, jn) - row(p, j)) * t)
        };
        // A pixel whose colour is still keeps part of its last alpha ([`smoothed`]); the
        // colour the kept alpha stands for moves as the alpha does.
        for (pair, q) in frame.chunks_exact(4).enumerate() {
            let (a, b) = (2 * pair, 2 * pair + 1);
            let [y0, u, y1, v] = [q[0], q[1], q[2], q[3]].map(|x| x as f32);
            let mut alpha = [
                fitted(coef(left[a] as usize, weight[a]), [y0, u, v]),
                fitted(coef(left[b] as usize, weight[b]), [y1, u, v]),
            ];
            if history {
                let l = &last[4 * pair..4 * pair + 4];
                let [ly0, lu, ly1, lv] = [l[0], l[1], l[2], l[3]].map(|x| x as f32);
                let mut take = [0.0f32; 2];
                for (k, (x, fy, ly)) in [(a, y0, ly0), (b, y1, ly1)].into_iter().enumerate() {
                    let (s, keep) = smoothed(
                        (smoothing, scale),
                        alpha[k],
                        px[x] as f32,
                        [fy, u, v],
                        [ly, lu, lv],
                    );
                    alpha[k] = s;
                    take[k] = 1.0 - keep;
                }
                let out = &mut next[4 * pair..4 * pair + 4];
                out[0] = mix(ly0, y0, take[0]);
                out[1] = mix(lu, u, take[0]);
                out[2] = mix(ly1, y1, take[1]);
                out[3] = mix(lv, v, take[0]);
            }
            px[a] = to_u8(alpha[0] + 0.5);
            px[b] = to_u8(alpha[1] + 0.5);
        }
        if history {
            self.mixed_spans.push((start, stop));
        }
    }

    /// The runs of output pixels of one class between cell rows `r0` and `r1`: a constant
    /// run is one fill, a mixed one is computed. Made once per pair of cell rows.
    #[inline(always)]
    fn make_runs(&mut self, r0: usize, r1: usize) {
        let lw = self.low.0;
        let (c0, c1) = (&self.class[r0 * lw..][..lw], &self.class[r1 * lw..][..lw]);
        // The pixels whose left tap is column j interpolate from j and j + 1 (the last
        // column's from itself alone): their class, for every column first (a pass that
        // vectorises), then the runs where it changes.
        let row_class = &mut self.row_class[..lw];
        for ((rc, &a), &b) in row_class.iter_mut().zip(c0).zip(c1) {
            *rc = agree(a, b);
        }
        let pair_class = &mut self.pair_class[..lw];
        for (j, pc) in pair_class[..lw - 1].iter_mut().enumerate() {
            *pc = agree(row_class[j], row_class[j + 1]);
        }
        pair_class[lw - 1] = row_class[lw - 1];
        self.runs.clear();
        let first_x = &self.first_x[..lw + 1];
        // A run without pixels (columns that hold none, on a frame narrower than the mask)
        // is dropped, and the runs either side of it join when they are of one class: two
        // computed runs side by side would compute (and smooth) the pixel pair they share twice.
        let mut push = |class: u8, j0: usize, j1: usize| {
            if first_x[j0] < first_x[j1] {
                match self.runs.last_mut() {
                    Some(last) if last.class == class => last.j1 = j1,
                    _ => self.runs.push(Run { class, j0, j1 }),
                }
            }
        };
        let mut start = 0;
        let mut class = pair_class[0];
        let mut j = 1;
        while j < lw {
            // Most of a row is one class: eight columns at a time while they stay in it.
            let same = [class; 8];
            while j + 8 <= lw && pair_class[j..j + 8] == same {
                j += 8;
            }
            if j == lw {
                break;
            }
            if pair_class[j] != class {
                push(class, start, j);
                (start, class) = (j, pair_class[j]);
            }
            j += 1;
        }
        push(class, start, lw);
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
        // Every few rows the plain room's change since the last frame is sampled: the
        // camera's noise ([`NoiseFloor`]).
        let sampled = self.smoothing > 0.0 && self.history[y] && y.is_multiple_of(noise::ROW_STEP);
        for i in 0..self.runs.len() {
            let Run { class, j0, j1 } = self.runs[i];
            let (start, stop) = (self.first_x[j0], self.first_x[j1]);
            match class {
                ZERO => {
                    if sampled {
                        // Whole pairs of the run (their chroma is the pair's).
                        let (a, b) = ((start + 1) & !1, stop & !1);
                        if a < b {
                            let at = (y * w + a) * 2;
                            self.noise.sample(
                                &frame_row[a * 2..b * 2],
                                &self.last_frame[at..at + (b - a) * 2],
                            );
                        }
                    }
                    self.alpha[y * w + start..y * w + stop].fill(0)
                }
                FULL => self.alpha[y * w + start..y * w + stop].fill(255),
                _ => {
                    // Computed over the whole span in passes over contiguous arrays (they
                    // vectorise), from the even pixel before to the even pixel after, so that
                    // pixel pairs stay whole (the formula is exact for any pixel).
                    let a = start & !1;
                    let b = if stop == w { w } else { (stop + 1) & !1 };
                    #[cfg(test)]
                    if self.by_pairs {
                        self.span_by_pairs(a, b, y, frame_row);
                        continue;
                    }
                    self.span(a, b, y, frame_row);
                }
            }
        }
        if self.smoothing > 0.0 {
            self.history[y] = true;
            if self.trading {
                // The frame itself becomes the last frame (`keep_frame`); these pixels'
                // colours go into it then.
                for &(a, b) in &self.mixed_spans {
                    self.kept.push(((y * w + a) * 2, (b - a) * 2));
                    self.kept_colours
                        .extend_from_slice(&self.next_colour[a * 2..b * 2]);
                }
            } else {
                let last = &mut self.last_frame[y * w * 2..(y + 1) * w * 2];
                last.copy_from_slice(&frame_row[..w * 2]);
                for &(a, b) in &self.mixed_spans {
                    last[a * 2..b * 2].copy_from_slice(&self.next_colour[a * 2..b * 2]);
                }
            }
        }
    }

    /// The alpha of every pixel (0..255), as far as computed for this frame.
    pub fn alpha(&self) -> &[u8] {
        &self.alpha
    }
}

/// Pixels per step of [`Applier::span`]: 8 pixel pairs, two AVX2 registers of floats.
const BLOCK: usize = 16;

/// The alpha (0..255, before smoothing) of a pixel of colour `f` (Y, U, V; 0..255) and
/// coefficients `c` (its left tap's, interpolated towards its right tap's).
#[inline(always)]
fn fitted(c: [f32; 4], f: [f32; 3]) -> f32 {
    const S: f32 = 1.0 / 255.0;
    let q = c[0] * (f[0] * S) + c[1] * (f[1] * S) + c[2] * (f[2] * S) + c[3];
    ((q - LOW) * (1.0 / (HIGH - LOW))).clamp(0.0, 1.0) * 255.0
}

/// A block of YUYV bytes as floats per pixel: its luma, its pair's U and V.
#[inline(always)]
fn deinterleave(q: &[u8; 2 * BLOCK], f: &mut [[f32; BLOCK]; 3]) {
    // All bytes to floats first (a widening pass), then the floats shuffled.
    let mut all = [0.0f32; 2 * BLOCK];
    for (a, &b) in all.iter_mut().zip(q) {
        *a = b as f32;
    }
    for pair in 0..BLOCK / 2 {
        let (a, b) = (2 * pair, 2 * pair + 1);
        f[0][a] = all[4 * pair];
        f[0][b] = all[4 * pair + 2];
        f[1][a] = all[4 * pair + 1];
        f[1][b] = all[4 * pair + 1];
        f[2][a] = all[4 * pair + 3];
        f[2][b] = all[4 * pair + 3];
    }
}

/// The temporal smoothing of one computed pixel: its alpha (0..255) after keeping part of the
/// alpha it had (`kept`), and the share kept. A pixel whose colour `f` is still against the
/// colour its kept alpha stands for (`last`) keeps `smoothing` of it; one whose colour moved,
/// or whose fit fell, takes the new alpha. The colour change up to which a pixel is still
/// ([`STILL`]) is raised `scale` times for a noisy camera ([`NoiseFloor::scale`]; at 1 it is
/// as it is, to the bit); the ramp to moving above it stays [`RAMP`] wide (widened too, it let
/// moving edges keep their alpha: the edge error of the moving franck sequences at noise 6
/// rose by up to a sixth, against up to 7 % with it as it is: docs/QUALITY.md).
#[inline(always)]
fn smoothed(
    (smoothing, scale): (f32, f32),
    alpha: f32,
    kept: f32,
    f: [f32; 3],
    last: [f32; 3],
) -> (f32, f32) {
    let change = (f[0] - last[0]).abs() + (f[1] - last[1]).abs() + (f[2] - last[2]).abs();
    let by_colour = (change - STILL * scale) * (1.0 / RAMP);
    let fall = (kept - alpha) * (1.0 / 255.0);
    let by_fall = (fall - FALL_STILL) * (1.0 / FALL_RAMP);
    let still = 1.0 - by_colour.max(by_fall).clamp(0.0, 1.0);
    let keep = smoothing * still;
    (keep * kept + (1.0 - keep) * alpha, keep)
}

/// A colour byte the share `t` of the way from `l` to `f`.
#[inline(always)]
fn mix(l: f32, f: f32, t: f32) -> u8 {
    to_u8(l + (f - l) * t + 0.5)
}

#[derive(Debug, Clone, Copy)]
struct Run {
    class: u8,
    j0: usize,
    j1: usize,
}

#[inline(always)]
fn agree(a: u8, b: u8) -> u8 {
    if a == b {
        a
    } else {
        MIXED
    }
}
