//! Applying the fit: the coefficients interpolated to each pixel of the frame, and the
//! refined edge's temporal smoothing.

use super::{ColourGuided, FULL, HIGH, LOW, MIXED, ZERO};
use crate::simd::to_u8;

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
            left: cols.i0.clone(),
            weight,
            runs: Vec::new(),
            runs_for: None,
            next_colour: vec![0; w * 2],
            mixed_spans: Vec::new(),
            kept: Vec::new(),
            kept_colours: Vec::new(),
            trading: false,
        }
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
        // Then pixel pair by pixel pair, everything in one pass (the spans are short, a few
        // cells along the outline: passes over whole arrays, one per step, spent more on
        // starting each loop than on the pixels).
        let rc = &self.row_coef;
        let (left, weight) = (&self.left[start..stop], &self.weight[start..stop]);
        let frame = &frame_row[start * 2..stop * 2];
        let px = &mut self.alpha[y * w + start..y * w + stop];
        let smoothing = self.smoothing;
        let history = smoothing > 0.0 && self.history[y];
        let last = if history {
            &self.last_frame[(y * w + start) * 2..(y * w + stop) * 2]
        } else {
            &[][..]
        };
        let next = &mut self.next_colour[start * 2..stop * 2];
        for (pair, q) in frame.chunks_exact(4).enumerate() {
            let (a, b) = (2 * pair, 2 * pair + 1);
            let [y0, u, y1, v] = [q[0], q[1], q[2], q[3]].map(|x| x as f32);
            let mut alpha = [
                fitted(rc, lw, left[a] as usize, weight[a], [y0, u, v]),
                fitted(rc, lw, left[b] as usize, weight[b], [y1, u, v]),
            ];
            if history {
                // A pixel whose colour is still keeps part of its last alpha; the colour the
                // kept alpha stands for moves as the alpha does.
                let l = &last[4 * pair..4 * pair + 4];
                let [ly0, lu, ly1, lv] = [l[0], l[1], l[2], l[3]].map(|x| x as f32);
                let mut take = [0.0f32; 2];
                for (k, (x, fy, ly)) in [(a, y0, ly0), (b, y1, ly1)].into_iter().enumerate() {
                    let change = (fy - ly).abs() + (u - lu).abs() + (v - lv).abs();
                    let by_colour = (change - STILL) * (1.0 / RAMP);
                    let fall = (px[x] as f32 - alpha[k]) * (1.0 / 255.0);
                    let by_fall = (fall - FALL_STILL) * (1.0 / FALL_RAMP);
                    let still = 1.0 - by_colour.max(by_fall).clamp(0.0, 1.0);
                    let keep = smoothing * still;
                    alpha[k] = keep * px[x] as f32 + (1.0 - keep) * alpha[k];
                    take[k] = 1.0 - keep;
                }
                let mix = |l: f32, f: f32, t: f32| to_u8(l + (f - l) * t + 0.5);
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
        let row_class = &mut self.row_class[..lw];
        for ((rc, &a), &b) in row_class.iter_mut().zip(c0).zip(c1) {
            *rc = agree(a, b);
        }
        // The pixels whose left tap is column j interpolate from j and j + 1 (the last
        // column's from itself alone): one pass, a run ends where that class changes.
        self.runs.clear();
        let first_x = &self.first_x[..lw + 1];
        let mut push = |class: u8, j0: usize, j1: usize| {
            if first_x[j0] < first_x[j1] {
                self.runs.push(Run { class, j0, j1 });
            }
        };
        let mut start = 0;
        let mut class = agree(row_class[0], row_class[1.min(lw - 1)]);
        for j in 1..lw {
            let next = agree(row_class[j], row_class[(j + 1).min(lw - 1)]);
            if next != class {
                push(class, start, j);
                (start, class) = (j, next);
            }
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

/// The alpha (0..255, before smoothing) of a pixel of colour `f` (Y, U, V; 0..255) whose left
/// tap is cell column `j` (of `lw`) and right tap's weight `t`: its coefficients interpolated
/// between the row's coefficients `rc` of its two cell columns. (A function, not a closure:
/// a closure was compiled apart, without AVX2, and called per pixel.)
#[inline(always)]
fn fitted(rc: &[Vec<f32>; 4], lw: usize, j: usize, t: f32, f: [f32; 3]) -> f32 {
    const S: f32 = 1.0 / 255.0;
    let jn = (j + 1).min(lw - 1);
    let c = |p: usize| rc[p][j] + (rc[p][jn] - rc[p][j]) * t;
    let q = c(0) * (f[0] * S) + c(1) * (f[1] * S) + c(2) * (f[2] * S) + c(3);
    ((q - LOW) * (1.0 / (HIGH - LOW))).clamp(0.0, 1.0) * 255.0
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
