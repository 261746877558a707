//! Edge refinement: the cut-out's edge follows the camera frame's edges and colours instead of
//! the model's grid (the landscape model's 256x144 cells are 5x5 pixels of a 720p frame).
//!
//! A colour guided filter (He, Sun and Tang, "Guided Image Filtering", 2010) with the frame's
//! Y, U and V as the guide, computed the fast way (He and Sun, "Fast Guided Filter", 2015): at
//! the mask's resolution, each window of `(2r+1)^2` cells fits the thresholded mask as a linear
//! function of the colour, `a = Ay * Y + Au * U + Av * V + B0` (a 3x3 covariance solve per
//! cell); the coefficients are interpolated bilinearly to each full-resolution pixel and applied to its own luma and its pair's chroma. Where the person
//! and the room differ in colour inside a window, the cut-out takes the frame's edge, at full
//! resolution; where they do not, the mask is smoothed. `eps` sets how much colour contrast an
//! edge needs to be followed. Pixels whose four cells are all plainly person or plainly room
//! are not computed at all.

/// Mean over a `(2r+1) x (2r+1)` window, clipped at the borders (divided by the cells that
/// exist), of a `w x h` image. `tmp` is scratch of the same size. Running sums: O(1) per cell.
#[inline(always)]
pub fn box_mean(src: &[f32], (w, h): (usize, usize), r: usize, dst: &mut [f32], tmp: &mut [f32]) {
    // Horizontal pass into tmp: sums of 2r+1 shifted slices in the interior (vectorises),
    // running sums near the borders.
    let inv = 1.0 / (2 * r + 1) as f32;
    for y in 0..h {
        let row = &src[y * w..(y + 1) * w];
        let out = &mut tmp[y * w..(y + 1) * w];
        if w > 2 * r {
            let interior = &mut out[r..w - r];
            interior.copy_from_slice(&row[..w - 2 * r]);
            for d in 1..=2 * r {
                for (o, &v) in interior.iter_mut().zip(&row[d..w - 2 * r + d]) {
                    *o += v;
                }
            }
            for o in interior.iter_mut() {
                *o *= inv;
            }
        }
        for x in (0..r.min(w)).chain(w.saturating_sub(r).max(r.min(w))..w) {
            let (a, b) = (x.saturating_sub(r), (x + r + 1).min(w));
            out[x] = row[a..b].iter().sum::<f32>() / (b - a) as f32;
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

/// Sums over a window of `2r + 1` along one row, clipped at its ends, of `src` into `out`:
/// sums of shifted slices in the interior (vectorises), the ends one by one.
#[inline(always)]
fn row_sums(src: &[f32], r: usize, out: &mut [f32]) {
    let w = src.len();
    let out = &mut out[..w];
    if w > 2 * r {
        let interior = &mut out[r..w - r];
        interior.copy_from_slice(&src[..w - 2 * r]);
        for d in 1..=2 * r {
            for (o, &v) in interior.iter_mut().zip(&src[d..w - 2 * r + d]) {
                *o += v;
            }
        }
    }
    for x in (0..r.min(w)).chain(w.saturating_sub(r).max(r.min(w))..w) {
        let (a, b) = (x.saturating_sub(r), (x + r + 1).min(w));
        out[x] = src[a..b].iter().sum();
    }
}

/// A colour guided filter (He et al. 2010, with the frame's Y, U, V as the guide) at mask
/// resolution: per window, the mask as a linear function of the colour.
pub struct ColourGuided {
    size: (usize, usize),
    radius: usize,
    eps: f32,
    /// Window sums are made a row at a time, in one pass: per cell row, the horizontal sums
    /// of the 13 quantities (Y U V p, YY YU YV UU UV VV, Yp Up Vp) go into a ring of the last
    /// `2r + 2` rows and are added to running column sums (`column`), from which the row
    /// `r` above is solved at once. Everything stays in the cache; no plane is written whole.
    ring: [Vec<f32>; 13],
    column: [Vec<f32>; 13],
    /// One product row, before its horizontal sum.
    product: Vec<f32>,
    /// Per cell column: 1 / the window's width there (narrower at the borders).
    inv_width: Vec<f32>,
    /// `[Ay, Au, Av, B0]` per cell.
    pub coef: [Vec<f32>; 4],
    /// Per cell: `ZERO` or `FULL` when its linear model gives alpha 0 (1) for every colour
    /// its window's pixels plausibly have, else `MIXED` (see [`SPREAD`]).
    pub class: Vec<u8>,
    /// Fits per frame (`compositor.refine_passes`). The model's mask is off the person's
    /// outline by a cell or two in places; a fit moves each window's edge towards the colour
    /// edge, and fitting again, to the alpha the fit gives the cells' own colours, moves it
    /// further, to where the colours divide. Only the mixed cells are fitted again (elsewhere
    /// the next fit's mask is plainly 0 or 1 and the fit would not change), from the first
    /// fit's colour statistics. Measured on the middle frames of the 13 sequences
    /// (docs/QUALITY.md): the mean edge-band error 0.0955 with one fit, 0.0904 with two,
    /// 0.0885 with three, and less leak on the fast clips.
    passes: usize,
    /// With more than one pass: the cells the first fit found mixed, with their windows'
    /// colour statistics, which the later fits reuse.
    mixed: Vec<Mixed>,
    /// The mask of the next fit, at the mixed cells.
    next: Vec<f32>,
    /// The new classes of a fit, set once it is done.
    reclassed: Vec<(usize, u8)>,
}

/// A cell the later fits fit again: its index and its window's colour statistics.
struct Mixed {
    k: usize,
    /// The window's mean Y, U, V.
    mu: [f32; 3],
    /// The inverse of the window's colour covariance plus eps: yy yu yv uu uv vv.
    inv: [f32; 6],
    /// The colours' spread per channel ([`SPREAD`]).
    spread: [f32; 3],
}

/// A cell's class from its window's mean mask `mp` and how far its model can move over the
/// colours its pixels plausibly have (`reach`).
#[inline(always)]
fn classify(mp: f32, reach: f32) -> u8 {
    // Rounded to 0..255 the alpha is 0 below half a step above LOW, 255 from half a step
    // below HIGH.
    const HALF: f32 = 0.5 / 255.0 * (HIGH - LOW);
    if mp + reach < LOW + HALF {
        ZERO
    } else if mp - reach > HIGH - HALF {
        FULL
    } else {
        MIXED
    }
}

/// The steepened alpha (0..1) of a fitted value.
#[inline(always)]
fn curve(q: f32) -> f32 {
    ((q - LOW) * (1.0 / (HIGH - LOW))).clamp(0.0, 1.0)
}

/// The colours a cell's pixels plausibly have: the window's mean colour plus or minus this
/// many standard deviations of its cells' colours, plus [`MARGIN`] (the pixels' own noise and
/// texture, which the cells' means average away). A pixel outside gets its cell's constant
/// alpha instead of its computed one: only in cells that are plainly person or plainly room.
pub const SPREAD: f32 = 3.0;
/// What a pixel may lie beyond [`SPREAD`] standard deviations of its cells' colours.
pub const MARGIN: f32 = 0.04;

/// The fitted value `q` becomes the alpha `(q - LOW) / (HIGH - LOW)`, clipped to 0..1: a
/// steeper edge. The linear fit leaves faint tails of a few tenths where the room's colours
/// lie between the person's; shown, they are the room seen through a halo. Measured
/// (docs/QUALITY.md, 13 sequences): against no curve the leak fell on every sequence (e.g.
/// 0.39 to 0.19 %, 0.53 to 0.31 %, 1.96 to 1.10 %), the edge-band error on 9 of 13, flicker on
/// every still one; 0.1..0.9 left more leak, 0.2..0.8 more edge error.
pub const LOW: f32 = 0.15;
/// The fitted value that becomes alpha 1 (see [`LOW`]).
pub const HIGH: f32 = 0.85;

impl ColourGuided {
    /// For cells of `size`, windows of `radius`, `eps`; `passes` fits per frame (at least 1).
    pub fn new(size: (usize, usize), radius: usize, eps: f32, passes: usize) -> ColourGuided {
        let n = size.0 * size.1;
        ColourGuided {
            size,
            radius,
            eps,
            ring: std::array::from_fn(|_| vec![0.0; (2 * radius + 2) * size.0]),
            column: std::array::from_fn(|_| vec![0.0; size.0]),
            product: vec![0.0; size.0],
            inv_width: (0..size.0)
                .map(|x| {
                    let (a, b) = (x.saturating_sub(radius), (x + radius + 1).min(size.0));
                    1.0 / (b - a) as f32
                })
                .collect(),
            coef: std::array::from_fn(|_| vec![0.0; n]),
            class: vec![MIXED; n],
            passes: passes.max(1),
            mixed: Vec::new(),
            next: if passes > 1 { vec![0.0; n] } else { Vec::new() },
            reclassed: Vec::new(),
        }
    }

    /// Fits the mask `p` (0..1, mask size) to the cells' colours `yuv` (planes of mask
    /// size), `passes` times (see [`ColourGuided::new`]); the result is in the filter's coefficients.
    #[inline(always)]
    pub fn run(&mut self, yuv: [&[f32]; 3], p: &[f32]) {
        let ((w, h), r) = (self.size, self.radius);
        let n = w * h;
        let (y, u, v, q) = (&yuv[0][..n], &yuv[1][..n], &yuv[2][..n], &p[..n]);
        let slots = 2 * r + 2;
        for c in &mut self.column {
            c.fill(0.0);
        }
        self.mixed.clear();
        // Rows `0..entered` have been added to the column sums, rows `0..left` taken out again.
        let (mut entered, mut left) = (0, 0);
        for row in 0..h {
            // The window of cell row `row`: rows `row - r ..= row + r`, clipped.
            let (lo, hi) = (row.saturating_sub(r), (row + r).min(h - 1));
            while left < lo {
                let slot = &self.ring.each_ref().map(|g| &g[(left % slots) * w..][..w]);
                for (c, g) in self.column.iter_mut().zip(slot) {
                    for (s, &x) in c.iter_mut().zip(*g) {
                        *s -= x;
                    }
                }
                left += 1;
            }
            while entered <= hi {
                let k0 = entered * w;
                let (y, u, v, q) = (
                    &y[k0..k0 + w],
                    &u[k0..k0 + w],
                    &v[k0..k0 + w],
                    &q[k0..k0 + w],
                );
                let pairs: [(&[f32], &[f32]); 13] = [
                    (y, &[]),
                    (u, &[]),
                    (v, &[]),
                    (q, &[]),
                    (y, y),
                    (y, u),
                    (y, v),
                    (u, u),
                    (u, v),
                    (v, v),
                    (y, q),
                    (u, q),
                    (v, q),
                ];
                let at = (entered % slots) * w;
                for (i, (a, b)) in pairs.into_iter().enumerate() {
                    let src: &[f32] = if b.is_empty() {
                        a
                    } else {
                        for ((o, &x), &z) in self.product.iter_mut().zip(a).zip(b) {
                            *o = x * z;
                        }
                        &self.product
                    };
                    let out = &mut self.ring[i][at..at + w];
                    row_sums(src, r, out);
                    for (s, &x) in self.column[i].iter_mut().zip(out.iter()) {
                        *s += x;
                    }
                }
                entered += 1;
            }
            self.solve_row(row, 1.0 / (hi - lo + 1) as f32);
            if self.passes > 1 {
                self.keep_mixed(row, 1.0 / (hi - lo + 1) as f32);
            }
        }
        for _ in 1..self.passes {
            self.refit([y, u, v]);
        }
    }

    /// Keeps the mixed cells of cell row `row` with their windows' colour statistics, from
    /// the column sums as [`ColourGuided::solve_row`] has them.
    fn keep_mixed(&mut self, row: usize, inv_height: f32) {
        let w = self.size.0;
        let e = self.eps;
        for x in 0..w {
            let k = row * w + x;
            if self.class[k] != MIXED {
                continue;
            }
            let inv = self.inv_width[x] * inv_height;
            let m: [f32; 10] = std::array::from_fn(|i| self.column[i][x] * inv);
            let mu = [m[0], m[1], m[2]];
            let vy = m[4] - mu[0] * mu[0];
            let vu = m[7] - mu[1] * mu[1];
            let vv = m[9] - mu[2] * mu[2];
            let (syy, suu, svv) = (vy + e, vu + e, vv + e);
            let syu = m[5] - mu[0] * mu[1];
            let syv = m[6] - mu[0] * mu[2];
            let suv = m[8] - mu[1] * mu[2];
            let i00 = suu * svv - suv * suv;
            let i01 = syv * suv - syu * svv;
            let i02 = syu * suv - syv * suu;
            let i11 = syy * svv - syv * syv;
            let i12 = syu * syv - syy * suv;
            let i22 = syy * suu - syu * syu;
            let inv_det = 1.0 / (syy * i00 + syu * i01 + syv * i02);
            let spread = |var: f32| SPREAD * var.max(0.0).sqrt() + MARGIN;
            self.mixed.push(Mixed {
                k,
                mu,
                inv: [i00, i01, i02, i11, i12, i22].map(|c| c * inv_det),
                spread: [spread(vy), spread(vu), spread(vv)],
            });
        }
    }

    /// One more fit, of the alpha the last fit gives each cell's own colour (plain cells: 0
    /// or 1), at the cells the first fit found mixed and the last left mixed. The colour
    /// statistics are the first fit's; the mask's four window sums are made afresh.
    fn refit(&mut self, [y, u, v]: [&[f32]; 3]) {
        let ((w, h), r) = (self.size, self.radius);
        let n = w * h;
        // The next fit's mask: 0 or 1 at plain cells (read from the class below), the last
        // fit's alpha at mixed ones.
        let [a0, a1, a2, b0] = &self.coef;
        for cell in &self.mixed {
            let k = cell.k;
            self.next[k] = curve(a0[k] * y[k] + a1[k] * u[k] + a2[k] * v[k] + b0[k]);
        }
        let (next, class) = (&self.next[..n], &self.class[..n]);
        let mut reclassed = std::mem::take(&mut self.reclassed);
        reclassed.clear();
        let coef = &mut self.coef;
        for cell in &self.mixed {
            let k = cell.k;
            if self.class[k] != MIXED {
                continue;
            }
            let (cx, cy) = (k % w, k / w);
            let (x0, x1) = (cx.saturating_sub(r), (cx + r).min(w - 1));
            let (y0, y1) = (cy.saturating_sub(r), (cy + r).min(h - 1));
            let mut sum = [0.0f32; 4];
            for row in y0..=y1 {
                for j in row * w + x0..row * w + x1 + 1 {
                    let p = match class[j] {
                        ZERO => continue,
                        FULL => 1.0,
                        _ => next[j],
                    };
                    sum[0] += p;
                    sum[1] += p * y[j];
                    sum[2] += p * u[j];
                    sum[3] += p * v[j];
                }
            }
            let inv_count = 1.0 / ((x1 - x0 + 1) * (y1 - y0 + 1)) as f32;
            let mp = sum[0] * inv_count;
            let [my, mu, mv] = cell.mu;
            let c = [
                sum[1] * inv_count - my * mp,
                sum[2] * inv_count - mu * mp,
                sum[3] * inv_count - mv * mp,
            ];
            let [iyy, iyu, iyv, iuu, iuv, ivv] = cell.inv;
            let a = [
                iyy * c[0] + iyu * c[1] + iyv * c[2],
                iyu * c[0] + iuu * c[1] + iuv * c[2],
                iyv * c[0] + iuv * c[1] + ivv * c[2],
            ];
            coef[0][k] = a[0];
            coef[1][k] = a[1];
            coef[2][k] = a[2];
            coef[3][k] = mp - a[0] * my - a[1] * mu - a[2] * mv;
            let reach = a
                .iter()
                .zip(cell.spread)
                .map(|(a, s)| a.abs() * s)
                .sum::<f32>();
            reclassed.push((k, classify(mp, reach)));
        }
        // The classes change after the fit: its windows read the mask of the fit before.
        for &(k, c) in &reclassed {
            self.class[k] = c;
        }
        self.reclassed = reclassed;
    }

    /// Solves cell row `row` from the column sums of its window (`inv_height`: 1 / the
    /// window's height there).
    #[inline(always)]
    fn solve_row(&mut self, row: usize, inv_height: f32) {
        let w = self.size.0;
        let k0 = row * w;
        let [r0, r1, r2, r3] = &mut self.coef;
        let (r0, r1, r2, r3) = (
            &mut r0[k0..k0 + w],
            &mut r1[k0..k0 + w],
            &mut r2[k0..k0 + w],
            &mut r3[k0..k0 + w],
        );
        let class = &mut self.class[k0..k0 + w];
        let sums: [&[f32]; 13] = std::array::from_fn(|i| &self.column[i][..w]);
        let inv_width = &self.inv_width[..w];
        let e = self.eps;
        for k in 0..w {
            let inv = inv_width[k] * inv_height;
            let m: [f32; 13] = std::array::from_fn(|i| sums[i][k] * inv);
            let mu = [m[0], m[1], m[2]];
            let mp = m[3];
            // Covariance of the colour (plus eps on the diagonal) and with the mask.
            let vy = m[4] - mu[0] * mu[0];
            let vu = m[7] - mu[1] * mu[1];
            let vv = m[9] - mu[2] * mu[2];
            let syy = vy + e;
            let syu = m[5] - mu[0] * mu[1];
            let syv = m[6] - mu[0] * mu[2];
            let suu = vu + e;
            let suv = m[8] - mu[1] * mu[2];
            let svv = vv + e;
            let c0 = m[10] - mu[0] * mp;
            let c1 = m[11] - mu[1] * mp;
            let c2 = m[12] - mu[2] * mp;
            // Inverse of the symmetric 3x3 matrix by cofactors.
            let i00 = suu * svv - suv * suv;
            let i01 = syv * suv - syu * svv;
            let i02 = syu * suv - syv * suu;
            let i11 = syy * svv - syv * syv;
            let i12 = syu * syv - syy * suv;
            let i22 = syy * suu - syu * syu;
            let inv_det = 1.0 / (syy * i00 + syu * i01 + syv * i02);
            let a0 = (i00 * c0 + i01 * c1 + i02 * c2) * inv_det;
            let a1 = (i01 * c0 + i11 * c1 + i12 * c2) * inv_det;
            let a2 = (i02 * c0 + i12 * c1 + i22 * c2) * inv_det;
            r0[k] = a0;
            r1[k] = a1;
            r2[k] = a2;
            r3[k] = mp - a0 * mu[0] - a1 * mu[1] - a2 * mu[2];
            // At the window's mean colour the model gives the mean mask `mp`; over the
            // plausible colours it moves by at most sum(|a| * spread).
            let spread = |var: f32| SPREAD * var.max(0.0).sqrt() + MARGIN;
            let reach = a0.abs() * spread(vy) + a1.abs() * spread(vu) + a2.abs() * spread(vv);
            class[k] = classify(mp, reach);
        }
        // He et al. average the coefficients over the windows once more; here the bilinear
        // interpolation to the frame smooths them enough, and the benchmark scored the edge
        // better without it (docs/QUALITY.md), with a narrower band of pixels to compute.
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

/// Cell columns `j0..j1` of one class in a row.
#[derive(Debug, Clone, Copy)]
struct Run {
    class: u8,
    j0: usize,
    j1: usize,
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The box mean by its definition, for comparison.
    /// Solves the 3x3 system `mat` (its fourth column the right-hand side) by elimination, in
    /// f64: the reference the filter's f32 solve is checked against.
    fn solve(mut mat: [[f64; 4]; 3]) -> [f64; 3] {
        for c in 0..3 {
            for rr in c + 1..3 {
                let f = mat[rr][c] / mat[c][c];
                let pivot = mat[c];
                for (x, &t) in mat[rr].iter_mut().zip(&pivot).skip(c) {
                    *x -= f * t;
                }
            }
        }
        let mut a = [0.0f64; 3];
        for c in (0..3).rev() {
            let rest: f64 = (c + 1..3).map(|cc| mat[c][cc] * a[cc]).sum();
            a[c] = (mat[c][3] - rest) / mat[c][c];
        }
        a
    }

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
    fn the_filter_matches_its_definition() {
        // Noisy colours and a soft mask, several sizes and radii (the window clipped at the
        // borders; a window taller or wider than the grid): the coefficients against means
        // and a 3x3 solve computed plainly, in f64.
        for (w, h, r, eps) in [
            (23, 17, 2, 1e-2),
            (12, 9, 1, 1e-3),
            (7, 5, 3, 1e-2),
            (30, 4, 2, 1e-2),
        ] {
            let n = w * h;
            let noise = |seed: usize| -> Vec<f32> {
                (0..n)
                    .map(|i| (((i * 7919 + seed * 104729) % 1000) as f32) / 1000.0)
                    .collect()
            };
            let (y, u, v) = (noise(1), noise(2), noise(3));
            let p: Vec<f32> = (0..n)
                .map(|k| ((k % w) as f32 / w as f32 + 0.3 * y[k]).clamp(0.0, 1.0))
                .collect();
            let mut g = ColourGuided::new((w, h), r, eps, 1);
            g.run([&y, &u, &v], &p);
            let f64s = |a: &[f32]| a.iter().map(|&x| x as f64).collect::<Vec<_>>();
            let (y, u, v, p) = (f64s(&y), f64s(&u), f64s(&v), f64s(&p));
            for k in 0..n {
                let (cx, cy) = (k % w, k / w);
                let mut sum = [0.0f64; 13];
                let mut count = 0.0;
                for yy in cy.saturating_sub(r)..=(cy + r).min(h - 1) {
                    for xx in cx.saturating_sub(r)..=(cx + r).min(w - 1) {
                        let j = yy * w + xx;
                        let c = [y[j], u[j], v[j]];
                        sum[0] += c[0];
                        sum[1] += c[1];
                        sum[2] += c[2];
                        sum[3] += p[j];
                        let mut i = 4;
                        for a in 0..3 {
                            for b in a..3 {
                                sum[i] += c[a] * c[b];
                                i += 1;
                            }
                        }
                        for a in 0..3 {
                            sum[10 + a] += c[a] * p[j];
                        }
                        count += 1.0;
                    }
                }
                let m = sum.map(|s| s / count);
                let mu = [m[0], m[1], m[2]];
                // Covariance (+ eps on the diagonal) and with the mask; solve by elimination.
                let cov = |a: usize, b: usize| {
                    let (a, b) = (a.min(b), a.max(b));
                    let i = 4 + [0, 3, 5][a] + (b - a);
                    m[i] - mu[a] * mu[b] + if a == b { eps as f64 } else { 0.0 }
                };
                let mat: [[f64; 4]; 3] = std::array::from_fn(|a| {
                    [cov(a, 0), cov(a, 1), cov(a, 2), m[10 + a] - mu[a] * m[3]]
                });
                let a = solve(mat);
                let b = m[3] - a[0] * mu[0] - a[1] * mu[1] - a[2] * mu[2];
                for (i, want) in [a[0], a[1], a[2], b].into_iter().enumerate() {
                    let got = g.coef[i][k] as f64;
                    assert!(
                        (got - want).abs() <= 2e-3 * (1.0 + want.abs()),
                        "{w}x{h} r{r} cell {k} coefficient {i}: {got} vs {want}"
                    );
                }
            }
        }
    }

    /// `w` x `h` cells of two colours: room left of `edge` (a fractional column), person
    /// right of it, mixed in the cell the edge crosses. Returns the Y, U, V planes and the
    /// true alpha per cell.
    fn two_colours(w: usize, h: usize, edge: f32) -> ([Vec<f32>; 3], Vec<f32>) {
        let room = [0.8, 0.5, 0.5];
        let person = [0.3, 0.45, 0.6];
        let mut planes: [Vec<f32>; 3] = std::array::from_fn(|_| vec![0.0; w * h]);
        let mut alpha = vec![0.0; w * h];
        for y in 0..h {
            for x in 0..w {
                let a = (x as f32 + 1.0 - edge).clamp(0.0, 1.0);
                alpha[y * w + x] = a;
                for c in 0..3 {
                    planes[c][y * w + x] = a * person[c] + (1.0 - a) * room[c];
                }
            }
        }
        (planes, alpha)
    }

    fn apply(g: &ColourGuided, planes: &[Vec<f32>; 3], k: usize) -> f32 {
        g.coef[0][k] * planes[0][k]
            + g.coef[1][k] * planes[1][k]
            + g.coef[2][k] * planes[2][k]
            + g.coef[3][k]
    }

    #[test]
    fn a_mask_off_the_colour_edge_snaps_to_it() {
        // The mask's step (at 11) is most of a cell off the true edge (at 10.3): the mixed
        // cell moves towards its true alpha, the cells either side stay right.
        let (w, h) = (24, 6);
        let (planes, truth) = two_colours(w, h, 10.3);
        let m: Vec<f32> = (0..w * h).map(|k| (k % w >= 11) as u8 as f32).collect();
        let mut g = ColourGuided::new((w, h), 2, 1e-4, 1);
        g.run([&planes[0], &planes[1], &planes[2]], &m);
        let q = |x: usize| apply(&g, &planes, 3 * w + x);
        for x in 0..10 {
            assert!(q(x) < 0.1, "x {x}: {}", q(x));
        }
        assert!(q(10) > 0.3, "the mixed cell (true alpha 0.7): {}", q(10));
        for x in 11..w {
            assert!(q(x) > 0.85, "x {x}: {}", q(x));
        }
        // Without the colours (a flat frame, next test) the mixed cell would stay near 0.
        assert!((truth[3 * w + 10] - 0.7).abs() < 1e-4);
    }

    #[test]
    fn later_fits_match_their_definition() {
        // Noisy colours, a soft mask: the second fit's coefficients at the cells the first
        // found mixed against a plain f64 fit of the first fit's alpha (0 or 1 at plain cells);
        // every other cell keeps the first fit's.
        let (w, h, r, eps) = (23usize, 17usize, 2usize, 1e-2f32);
        let n = w * h;
        let noise = |seed: usize| -> Vec<f32> {
            (0..n)
                .map(|i| (((i * 7919 + seed * 104729) % 1000) as f32) / 1000.0)
                .collect()
        };
        let (y, u, v) = (noise(1), noise(2), noise(3));
        let p: Vec<f32> = (0..n)
            .map(|k| ((k % w) as f32 / w as f32 * 2.0 - 0.5 + 0.3 * y[k]).clamp(0.0, 1.0))
            .collect();
        let mut one = ColourGuided::new((w, h), r, eps, 1);
        one.run([&y, &u, &v], &p);
        let mut two = ColourGuided::new((w, h), r, eps, 2);
        two.run([&y, &u, &v], &p);
        let mixed: Vec<usize> = (0..n).filter(|&k| one.class[k] == MIXED).collect();
        assert!(mixed.len() > 20 && mixed.len() + 20 < n, "{}", mixed.len());
        let next: Vec<f64> = (0..n)
            .map(|k| match one.class[k] {
                ZERO => 0.0,
                FULL => 1.0,
                _ => curve(apply(&one, &[y.clone(), u.clone(), v.clone()], k)) as f64,
            })
            .collect();
        for k in 0..n {
            if one.class[k] != MIXED {
                for i in 0..4 {
                    assert_eq!(two.coef[i][k], one.coef[i][k], "plain cell {k}");
                }
                continue;
            }
            let (cx, cy) = (k % w, k / w);
            let count = ((cx + r).min(w - 1) + 1 - cx.saturating_sub(r)) as f64
                * ((cy + r).min(h - 1) + 1 - cy.saturating_sub(r)) as f64;
            // Means, covariance (+ eps) and with the mask, by a 3x3 elimination.
            let window = |f: &dyn Fn(usize) -> f64| -> f64 {
                let mut t = 0.0;
                for yy in cy.saturating_sub(r)..=(cy + r).min(h - 1) {
                    for xx in cx.saturating_sub(r)..=(cx + r).min(w - 1) {
                        t += f(yy * w + xx);
                    }
                }
                t / count
            };
            let col = |j: usize, a: usize| [y[j], u[j], v[j]][a] as f64;
            let mu: [f64; 3] = std::array::from_fn(|a| window(&|j| col(j, a)));
            let mp = window(&|j| next[j]);
            let mat: [[f64; 4]; 3] = std::array::from_fn(|a| {
                let mut row = [0.0; 4];
                for b in 0..3 {
                    row[b] = window(&|j| col(j, a) * col(j, b)) - mu[a] * mu[b]
                        + if a == b { eps as f64 } else { 0.0 };
                }
                row[3] = window(&|j| col(j, a) * next[j]) - mu[a] * mp;
                row
            });
            let a = solve(mat);
            let b = mp - a[0] * mu[0] - a[1] * mu[1] - a[2] * mu[2];
            for (i, want) in [a[0], a[1], a[2], b].into_iter().enumerate() {
                let got = two.coef[i][k] as f64;
                assert!(
                    (got - want).abs() <= 2e-3 * (1.0 + want.abs()),
                    "cell {k} coefficient {i}: {got} vs {want}"
                );
            }
        }
    }

    #[test]
    fn fitting_again_moves_the_edge_further_to_the_colour_edge() {
        // The mask's step (at 12) is 1.7 cells off the true edge (at 10.3): three fits end
        // nearer the true alpha than one.
        let (w, h) = (24, 6);
        let (planes, truth) = two_colours(w, h, 10.3);
        let m: Vec<f32> = (0..w * h).map(|k| (k % w >= 12) as u8 as f32).collect();
        let error = |passes: usize| -> f32 {
            let mut g = ColourGuided::new((w, h), 2, 1e-4, passes);
            g.run([&planes[0], &planes[1], &planes[2]], &m);
            (0..w)
                .map(|x| (curve(apply(&g, &planes, 3 * w + x)) - truth[3 * w + x]).abs())
                .sum()
        };
        let (one, three) = (error(1), error(3));
        assert!(three < 0.8 * one, "one fit {one}, three {three}");
    }

    #[test]
    fn a_flat_frame_keeps_the_mask_smoothed() {
        // No colour contrast: the filter is a box filter of the mask, so a constant
        // mask stays exactly constant and a step is only smoothed around its place.
        let (w, h) = (24, 6);
        let planes: [Vec<f32>; 3] = std::array::from_fn(|c| vec![[0.8f32, 0.5, 0.5][c]; w * h]);
        let m: Vec<f32> = (0..w * h).map(|k| (k % w >= 12) as u8 as f32).collect();
        let mut g = ColourGuided::new((w, h), 2, 1e-4, 1);
        g.run([&planes[0], &planes[1], &planes[2]], &m);
        for x in 0..w {
            let q = apply(&g, &planes, 3 * w + x);
            let want = if x < 8 {
                0.0
            } else if x >= 16 {
                1.0
            } else {
                q
            };
            assert!(
                (q - want).abs() < 1e-4 && (-1e-4..=1.0001).contains(&q),
                "x {x}: {q}"
            );
        }
        assert!(apply(&g, &planes, 3 * w + 11) < 0.5 && apply(&g, &planes, 3 * w + 12) > 0.5);
    }

    /// An applier whose alpha is the pixel's luma, with smoothing 0.8, and a
    /// function making a flat YUYV row of luma `l`.
    fn luma_applier() -> (Applier, impl Fn(u8) -> Vec<u8>) {
        let (lw, lh, w) = (4, 2, 8);
        let mut g = ColourGuided::new((lw, lh), 1, 1e-4, 1);
        // q = LOW + (HIGH - LOW) * Y: after the curve, the alpha is Y.
        g.coef[0].fill(HIGH - LOW);
        g.coef[1].fill(0.0);
        g.coef[2].fill(0.0);
        g.coef[3].fill(LOW);
        g.class.fill(MIXED);
        let mut applier = Applier::new((lw, lh), (w, lh), 0.8);
        applier.take(&mut g);
        (applier, move |l: u8| [l, 128, l, 128].repeat(w / 2))
    }

    #[test]
    fn a_still_pixel_keeps_its_alpha_through_noise() {
        let (mut a, row) = luma_applier();
        a.compute(0, &row(100));
        assert_eq!(a.alpha()[3], 100);
        // Sensor noise: 3 steps up and down. The alpha moves by a fraction of it.
        for i in 0..20 {
            a.compute(0, &row(if i % 2 == 0 { 103 } else { 100 }));
            assert!((100..=102).contains(&a.alpha()[3]), "{}", a.alpha()[3]);
        }
        // A real change (12 steps) is taken at once.
        a.compute(0, &row(130));
        assert_eq!(a.alpha()[3], 130);
    }

    #[test]
    fn a_slow_drift_of_colour_is_followed() {
        // 4 steps a frame, each under the still threshold: against the last frame alone every
        // frame looks still and the alpha would trail by 0.95 / 0.05 * 4 = 76 steps.
        let (mut a, row) = luma_applier();
        a.compute(0, &row(60));
        for l in (64..=200).step_by(4) {
            a.compute(0, &row(l));
            let got = a.alpha()[3] as i32;
            assert!(l as i32 - got <= 24, "luma {l}: alpha {got}");
        }
    }
}
