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
//! edge needs to be followed. Windows of plain room or plain person are not summed (their fit
//! is the mask itself: `busy`), and pixels whose four cells are all plainly person or plainly
//! room are not computed at all.

mod apply;
mod busy;
mod noise;
#[cfg(test)]
mod tests;

pub use apply::{edge_keep, Applier};

/// Mean over a `(2rx+1) x (2ry+1)` window (`rx` across, `ry` down), clipped at the borders
/// (divided by the cells that exist), of a `w x h` image. `tmp` is scratch of the same size.
/// Along rows the sums of `2rx + 1` values (`row_sums`), down the columns running sums.
#[inline(always)]
pub fn box_mean(
    src: &[f32],
    (w, h): (usize, usize),
    (rx, ry): (usize, usize),
    dst: &mut [f32],
    tmp: &mut [f32],
) {
    // Horizontal pass into tmp: the window sums along each row (vectorised in the interior),
    // then the means.
    let inv = 1.0 / (2 * rx + 1) as f32;
    for y in 0..h {
        let row = &src[y * w..(y + 1) * w];
        let out = &mut tmp[y * w..(y + 1) * w];
        // The sums, then the means: the interior's scaled by 1 / (2rx + 1), the ends' divided
        // by their clipped counts.
        row_sums(row, rx, out);
        if w > 2 * rx {
            for o in out[rx..w - rx].iter_mut() {
                *o *= inv;
            }
        }
        for x in (0..rx.min(w)).chain(w.saturating_sub(rx).max(rx.min(w))..w) {
            let (a, b) = (x.saturating_sub(rx), (x + rx + 1).min(w));
            out[x] /= (b - a) as f32;
        }
    }
    // Vertical pass into dst, a whole row at a time (vectorises).
    let mut sum = vec![0.0f32; w];
    let mut count = 0usize;
    for y in 0..=ry.min(h - 1) {
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
        let add = y + ry + 1;
        if add < h {
            for (s, &v) in sum.iter_mut().zip(&tmp[add * w..(add + 1) * w]) {
                *s += v;
            }
            count += 1;
        }
        if y >= ry {
            for (s, &v) in sum.iter_mut().zip(&tmp[(y - ry) * w..(y - ry + 1) * w]) {
                *s -= v;
            }
            count -= 1;
        }
    }
}

/// What `compositor.refine_radius: "auto"` aims for: the filter's window spans at least this
/// many pixels of the picture it works on, in each direction. Radius 2 on the landscape
/// model's cells at 640x360 and 1280x720 (refined at half size) spans 12.5 pixels, across
/// 640x480's 2.5 x 3.3-pixel cells 12.5 x 16.7, and that radius scored best there; on the
/// general model's finer cells at 480x480 (1.9 pixels) radius 2 spans 9.4 and radius 3 (13.1)
/// scored better (docs/QUALITY.md, 2026-12-05).
pub const AUTO_WINDOW_PX: f32 = 12.0;

/// The radii across and down for `compositor.refine_radius: "auto"`, for masks of `mask`
/// cells refined on a picture of `work` pixels: in each direction 2 where 5 cells span
/// [`AUTO_WINDOW_PX`], else 3. Only these two: they are the radii measured for these cells,
/// and 4 scored worse where it was tried (docs/QUALITY.md). Per direction, so that cells
/// that are not square (the landscape model's on square and portrait frames: 1.9 x 3.3
/// pixels at 480x480) get a window about as wide as it is tall.
pub fn auto_radius(mask: (usize, usize), work: (usize, usize)) -> (usize, usize) {
    let for_cells = |pixels: usize, cells: usize| {
        if 5.0 * pixels as f32 / cells.max(1) as f32 >= AUTO_WINDOW_PX {
            2
        } else {
            3
        }
    };
    (for_cells(work.0, mask.0), for_cells(work.1, mask.1))
}

/// Sums over a window of `2r + 1` along one row, clipped at its ends, of `src` into `out`:
/// in the interior each sum in one go, its terms added left to right (for the radii used, a
/// fixed count of shifted loads per sum: vectorises with one store per sum), the ends one by
/// one.
#[inline(always)]
fn row_sums(src: &[f32], r: usize, out: &mut [f32]) {
    row_sums_span(src, r, (0, src.len()), out)
}

/// [`row_sums`] of the cells `a..b` of the row only (`out[a..b]`; the same sums, bit for bit).
#[inline(always)]
fn row_sums_span(src: &[f32], r: usize, (a, b): (usize, usize), out: &mut [f32]) {
    let w = src.len();
    let out = &mut out[..w];
    // The interior: cells whose window lies whole in the row.
    let (ia, ib) = (a.max(r), b.min(w.saturating_sub(r)));
    if ia < ib {
        let (src, interior) = (&src[ia - r..ib + r], &mut out[ia..ib]);
        match r {
            1 => window_sums::<3>(src, interior),
            2 => window_sums::<5>(src, interior),
            3 => window_sums::<7>(src, interior),
            _ => {
                let n = interior.len();
                interior.copy_from_slice(&src[..n]);
                for d in 1..=2 * r {
                    for (o, &v) in interior.iter_mut().zip(&src[d..n + d]) {
                        *o += v;
                    }
                }
            }
        }
    }
    for x in (a..ia.min(b)).chain(ib.max(ia)..b) {
        let (lo, hi) = (x.saturating_sub(r), (x + r + 1).min(w));
        out[x] = src[lo..hi].iter().sum();
    }
}

/// `out[i] = src[i] + src[i + 1] + ... + src[i + N - 1]`, added in that order. (The N shifted
/// slices are cut first, all of `out`'s length, so the loop has no bounds checks and
/// vectorises.)
#[inline(always)]
fn window_sums<const N: usize>(src: &[f32], out: &mut [f32]) {
    let n = out.len();
    let shifted: [&[f32]; N] = std::array::from_fn(|d| &src[d..d + n]);
    for (i, o) in out.iter_mut().enumerate() {
        let mut sum = shifted[0][i];
        for s in &shifted[1..] {
            sum += s[i];
        }
        *o = sum;
    }
}

/// A colour guided filter (He et al. 2010, with the frame's Y, U, V as the guide) at mask
/// resolution: per window, the mask as a linear function of the colour.
pub struct ColourGuided {
    size: (usize, usize),
    /// The window's radii in cells, across and down: `(2rx + 1) x (2ry + 1)` cells.
    radius: (usize, usize),
    eps: f32,
    /// Window sums are made a row at a time, in one pass: per cell row, the horizontal sums
    /// of the 13 quantities (Y U V p, YY YU YV UU UV VV, Yp Up Vp) go into a ring of the last
    /// `2ry + 2` rows and are added to running column sums (`column`), from which the row
    /// `ry` above is solved at once; all of it over the row's span of cells whose windows
    /// are not plain (`busy`). Everything stays in the cache; no fit writes a plane of
    /// sums whole (the later fits keep a ring too: `row_sum`).
    ring: [Vec<f32>; 13],
    column: [Vec<f32>; 13],
    /// One product row, before its horizontal sum (over the cells the row's sums read; stale
    /// elsewhere).
    product: Vec<f32>,
    /// The spans of cells whose windows are not plain, where the first fit sums and solves.
    busy: busy::Busy,
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
    /// One row of the next fit's mask: the last fit's alpha at mixed cells, 0 or 1 elsewhere
    /// (over the cells the row's sums read; stale elsewhere).
    next: Vec<f32>,
    /// The new classes of a fit, set once it is done.
    reclassed: Vec<(usize, u8)>,
    /// Per cell row, for a later fit: the span (first to last, `(0, 0)`: none) of its cells
    /// fitted again (`fitted`), and of the cells whose sums along the row the fitted cells'
    /// windows read (`rows_read`: the fitted spans within `ry` rows). A row's sums are made
    /// over its span only.
    fitted: Vec<(usize, usize)>,
    rows_read: Vec<(usize, usize)>,
    /// A later fit's sums along the last `2ry + 1` rows read (row `y` at `y % (2ry + 1)`), per
    /// cell: of its mask and of the mask times Y, U and V.
    row_sum: [Vec<f32>; 4],
    /// A later fit's window sums of one cell row (the four `row_sum` planes added down the
    /// window's rows), over the columns its mixed cells span.
    window_sum: [Vec<f32>; 4],
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
    /// For cells of `size`, windows of `radius` (across, down), `eps`; `passes` fits per frame
    /// (at least 1).
    pub fn new(
        size: (usize, usize),
        radius: (usize, usize),
        eps: f32,
        passes: usize,
    ) -> ColourGuided {
        let n = size.0 * size.1;
        let (rx, ry) = radius;
        ColourGuided {
            size,
            radius,
            eps,
            ring: std::array::from_fn(|_| vec![0.0; (2 * ry + 2) * size.0]),
            column: std::array::from_fn(|_| vec![0.0; size.0]),
            product: vec![0.0; size.0],
            busy: busy::Busy::new(size, radius),
            inv_width: (0..size.0)
                .map(|x| {
                    let (a, b) = (x.saturating_sub(rx), (x + rx + 1).min(size.0));
                    1.0 / (b - a) as f32
                })
                .collect(),
            coef: std::array::from_fn(|_| vec![0.0; n]),
            class: vec![MIXED; n],
            passes: passes.max(1),
            mixed: Vec::new(),
            next: if passes > 1 {
                vec![0.0; size.0]
            } else {
                Vec::new()
            },
            reclassed: Vec::new(),
            rows_read: vec![(0, 0); size.1],
            fitted: vec![(0, 0); size.1],
            row_sum: std::array::from_fn(|_| {
                if passes > 1 {
                    vec![0.0; (2 * ry + 1) * size.0]
                } else {
                    Vec::new()
                }
            }),
            window_sum: std::array::from_fn(|_| {
                if passes > 1 {
                    vec![0.0; size.0]
                } else {
                    Vec::new()
                }
            }),
        }
    }

    /// Fits the mask `p` (0..1, mask size) to the cells' colours `yuv` (planes of mask
    /// size), `passes` times (see [`ColourGuided::new`]); the result is in the filter's coefficients.
    #[inline(always)]
    pub fn run(&mut self, yuv: [&[f32]; 3], p: &[f32]) {
        let ((w, h), (rx, ry)) = (self.size, self.radius);
        let n = w * h;
        let (y, u, v, q) = (&yuv[0][..n], &yuv[1][..n], &yuv[2][..n], &p[..n]);
        let slots = 2 * ry + 2;
        for c in &mut self.column {
            c.fill(0.0);
        }
        self.mixed.clear();
        // Only the cells whose windows are not plain are summed and solved (`busy`).
        self.busy.mark(q);
        // Rows `0..entered` have been added to the column sums, rows `0..left` taken out again.
        let (mut entered, mut left) = (0, 0);
        for row in 0..h {
            // The window of cell row `row`: rows `row - ry ..= row + ry`, clipped.
            let (lo, hi) = (row.saturating_sub(ry), (row + ry).min(h - 1));
            while left < lo {
                // Taken out over the span it was added over.
                let (a, b) = self.busy.sum_span(left);
                let slot = &self.ring.each_ref().map(|g| &g[(left % slots) * w..][..w]);
                for (c, g) in self.column.iter_mut().zip(slot) {
                    for (s, &x) in c[a..b].iter_mut().zip(&g[a..b]) {
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
                // The cells whose sums are needed, and the products they read.
                let (a, b) = self.busy.sum_span(entered);
                let (pa, pb) = (a.saturating_sub(rx), (b + rx).min(w));
                for (i, (f, g)) in pairs.into_iter().enumerate() {
                    let src: &[f32] = if g.is_empty() {
                        f
                    } else {
                        // (Tests: what the sums read must have been made for them.)
                        #[cfg(test)]
                        self.product.fill(f32::NAN);
                        for ((o, &x), &z) in self.product[pa..pb]
                            .iter_mut()
                            .zip(&f[pa..pb])
                            .zip(&g[pa..pb])
                        {
                            *o = x * z;
                        }
                        &self.product
                    };
                    let out = &mut self.ring[i][at..at + w];
                    row_sums_span(src, rx, (a, b), out);
                    for (s, &x) in self.column[i][a..b].iter_mut().zip(&out[a..b]) {
                        *s += x;
                    }
                }
                entered += 1;
            }
            self.solve_row(row, 1.0 / (hi - lo + 1) as f32, q);
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
    #[inline(always)]
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
    #[inline(always)]
    fn refit(&mut self, [y, u, v]: [&[f32]; 3]) {
        let ((w, h), (rx, ry)) = (self.size, self.radius);
        // The rows some window of a mixed cell reads: their sums along the row (of the mask
        // and of the mask times each colour) made once, over the row's span of cells read
        // (one loop per row and quantity: vectorises),
        // into a ring of the last 2ry + 1 rows as the cells (in row order) come to need them.
        // (A ring, not whole planes: four planes of sums were 590 KB at 256x144 cells,
        // fetched from memory again after each frame's wait.) Then, per cell row, the
        // windows' sums down their rows, over the columns the row's mixed cells span (a
        // row at a time too: cell by cell, the twenty additions and their ring indices were
        // most of a later fit's work).
        self.fitted.fill((0, 0));
        for cell in &self.mixed {
            if self.class[cell.k] == MIXED {
                let (cx, cy) = (cell.k % w, cell.k / w);
                self.fitted[cy] = busy::join(self.fitted[cy], (cx, cx + 1));
            }
        }
        busy::spread_down(&self.fitted, &mut self.rows_read, ry);
        let slots = 2 * ry + 1;
        let (next, rows_read, product) = (&mut self.next, &self.rows_read, &mut self.product);
        let (row_sum, window_sum) = (&mut self.row_sum, &mut self.window_sum);
        let (mixed, class) = (&self.mixed, &self.class);
        // Rows `0..made` have had their sums made (those read) into the ring.
        let mut made = 0;
        let mut reclassed = std::mem::take(&mut self.reclassed);
        reclassed.clear();
        let coef = &mut self.coef;
        // The mixed cells of one cell row at a time: `mixed[start..end]` (in row order).
        let mut start = 0;
        while start < mixed.len() {
            let cy = mixed[start].k / w;
            let end = start + mixed[start..].partition_point(|m| m.k < (cy + 1) * w);
            let cells = &mixed[start..end];
            start = end;
            // The columns of the cells the last fit left mixed.
            let (mut x_lo, mut x_hi) = (w, 0);
            for cell in cells.iter().filter(|c| class[c.k] == MIXED) {
                x_lo = x_lo.min(cell.k - cy * w);
                x_hi = x_hi.max(cell.k - cy * w + 1);
            }
            if x_lo >= x_hi {
                continue;
            }
            let (y0, y1) = (cy.saturating_sub(ry), (cy + ry).min(h - 1));
            while made <= y1 {
                let (a, b) = rows_read[made];
                if a < b {
                    let (at, slot) = (made * w..(made + 1) * w, (made % slots) * w);
                    // The cells the sums a..b read.
                    let (pa, pb) = (a.saturating_sub(rx), (b + rx).min(w));
                    // (Tests: what the sums read must have been made for them.)
                    #[cfg(test)]
                    {
                        next.fill(f32::NAN);
                        product.fill(f32::NAN);
                    }
                    // The row's mask for this fit: 0 or 1 at plain cells, the last fit's
                    // alpha at mixed ones (found in the list of mixed cells, which is in row
                    // order). No cell of a row made here has been fitted again yet (rows are
                    // made up to ry rows ahead of the cells fitted), so its coefficients are
                    // the last fit's.
                    for (p, &c) in next[pa..pb]
                        .iter_mut()
                        .zip(&class[at.start + pa..at.start + pb])
                    {
                        *p = (c == FULL) as u8 as f32;
                    }
                    let first = mixed.partition_point(|m| m.k < at.start);
                    let [a0, a1, a2, b0] = &*coef;
                    for m in mixed[first..].iter().take_while(|m| m.k < at.end) {
                        let k = m.k;
                        if class[k] == MIXED {
                            next[k - at.start] =
                                curve(a0[k] * y[k] + a1[k] * u[k] + a2[k] * v[k] + b0[k]);
                        }
                    }
                    let p = &next[..w];
                    row_sums_span(p, rx, (a, b), &mut row_sum[0][slot..slot + w]);
                    for (c, colour) in [y, u, v].into_iter().enumerate() {
                        let colour = &colour[at.start + pa..at.start + pb];
                        for ((o, &p), &x) in product[pa..pb].iter_mut().zip(&p[pa..pb]).zip(colour)
                        {
                            *o = p * x;
                        }
                        row_sums_span(product, rx, (a, b), &mut row_sum[c + 1][slot..slot + w]);
                    }
                }
                made += 1;
            }
            // The window sums: rows y0..=y1 added in that order to 0 (so each cell's sum is
            // the one its own loop over the rows would make).
            for (sums, plane) in window_sum.iter_mut().zip(row_sum.iter()) {
                let sums = &mut sums[x_lo..x_hi];
                sums.fill(0.0);
                for row in y0..=y1 {
                    let at = (row % slots) * w;
                    for (s, &x) in sums.iter_mut().zip(&plane[at + x_lo..at + x_hi]) {
                        *s += x;
                    }
                }
            }
            for cell in cells {
                let k = cell.k;
                if class[k] != MIXED {
                    continue;
                }
                let cx = k - cy * w;
                let (x0, x1) = (cx.saturating_sub(rx), (cx + rx).min(w - 1));
                let sum: [f32; 4] = std::array::from_fn(|p| window_sum[p][cx]);
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
                // (Written out: as an iterator over the arrays it went through the stack, and
                // the read back stalled on the store, a quarter of the refit's time.)
                let [s0, s1, s2] = cell.spread;
                let reach = a[0].abs() * s0 + a[1].abs() * s1 + a[2].abs() * s2;
                reclassed.push((k, classify(mp, reach)));
            }
        }
        // The classes change after the fit: its windows read the mask of the fit before.
        for &(k, c) in &reclassed {
            self.class[k] = c;
        }
        self.reclassed = reclassed;
    }

    /// Solves cell row `row` from the column sums of its window (`inv_height`: 1 / the
    /// window's height there) where its windows are not plain (`busy`); the plain ones get
    /// the fit of their mask `p` (0 or 1 there): `[0, 0, 0, p]`.
    #[inline(always)]
    fn solve_row(&mut self, row: usize, inv_height: f32, p: &[f32]) {
        let w = self.size.0;
        let k0 = row * w;
        let (a, b) = self.busy.solve_span(row);
        {
            let [r0, r1, r2, r3] = &mut self.coef;
            let p = &p[k0..k0 + w];
            r0[k0..k0 + w].fill(0.0);
            r1[k0..k0 + w].fill(0.0);
            r2[k0..k0 + w].fill(0.0);
            r3[k0..k0 + w].copy_from_slice(p);
            for (c, &p) in self.class[k0..k0 + w].iter_mut().zip(p) {
                *c = if p > 0.5 { FULL } else { ZERO };
            }
        }
        if a >= b {
            return;
        }
        let (ka, kb) = (k0 + a, k0 + b);
        let [r0, r1, r2, r3] = &mut self.coef;
        let (r0, r1, r2, r3) = (
            &mut r0[ka..kb],
            &mut r1[ka..kb],
            &mut r2[ka..kb],
            &mut r3[ka..kb],
        );
        let class = &mut self.class[ka..kb];
        let n = b - a;
        let sums: [&[f32]; 13] = std::array::from_fn(|i| &self.column[i][a..b]);
        let inv_width = &self.inv_width[a..b];
        let e = self.eps;
        for k in 0..n {
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

/// Cell classes: plainly room, plainly person, mixed ([`ColourGuided::run`]).
const ZERO: u8 = 0;
const FULL: u8 = 1;
const MIXED: u8 = 2;
