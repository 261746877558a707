//! The cut-out's edge as soft as the frame's own edge there (`compositor.soft_edges`).
//!
//! The refined, feathered edge ([`crate::feather`]) has one width everywhere, about a Gaussian
//! of [`OWN_SIGMA`] pixels of the picture it is made at. A camera's edges are not all alike:
//! hair, a shoulder out of focus or a moving arm change from person to room over several
//! pixels, a sharp collar in one. Where the frame's own transition is wider than the cut-out's,
//! the cut-out's edge was too hard, and the room's side of it too low (docs/QUALITY.md: on
//! `franck-office-static-640x480` 95 % of the edge error was there). So the width of the
//! frame's edge is measured, as a ramp's height over its steepest slope, for each chunk of
//! [`CHUNK`] pixels of a row near the outline: the luma's range `C` over the chunk and 3
//! pixels and 3 rows around it, over the largest Sobel gradient `G` over the chunk and 2
//! around (a sharp step measures 2 pixels, a Gaussian-blurred step of `s` pixels `s * sqrt(2
//! pi)`). Where it is wider than the cut-out's own, the chunk's alpha moves towards its 5x5
//! binomial blur (a Gaussian of 1 pixel) by the missing softness, `sqrt(s^2 - OWN_SIGMA^2)`,
//! up to all of it. Where the frame's edge is no softer than the cut-out's (most of greenman's
//! outline), the alpha stays as it was. Plain person and plain room, whose whole 5x5
//! neighbourhood is plain, stay exactly 255 and 0. (Measured per chunk rather than per pixel:
//! the same scores on the sequences of docs/QUALITY.md within a thousandth, for a fraction of
//! the work.)

/// The cut-out's own edge (the refinement's steep fit, feathered): about a Gaussian of this
/// many pixels of the picture it is made at. Measured on the dumps of docs/QUALITY.md with
/// the estimate below, 0.76-0.94 on the still sequences (0.85 taken) with the feather's old
/// stretch; the feather's top (2026-12-07) makes the edge 1.25 times steeper, about 0.68.
/// Through the pipeline 0.7 lowered the edge error on all 13 franck sequences of the 23
/// studied (by 0.6-3.4 %) and raised it on 6 of the 10 greenman ones by up to 2 %.
pub const OWN_SIGMA: f32 = 0.7;

/// What the estimate gives a sharp step: Sobel's central difference spreads it over two
/// pixels, so its width squared is 4.
const STEP_WIDTH2: f32 = 4.0;

/// Pixels of a row per chunk: the width is measured once per chunk, and only chunks near the
/// outline are computed.
pub const CHUNK: usize = 16;

/// Rows of luma kept (the Sobel operator reads 3).
const RING: usize = 4;

/// The share of each new estimate a chunk's running average takes (the weight used is the
/// smaller of the two).
const WEIGHT_FOLLOWS: f32 = 0.25;

/// The softened alpha of frames of one size.
pub struct SoftEdge {
    size: (usize, usize),
    /// Chunks per row.
    chunks: usize,
    /// Per chunk (row-major): it holds an alpha between plain room and plain person (`edge`);
    /// one does within 2, 4, 5 rows (`near2`, `near4`, `near5`).
    edge: Vec<bool>,
    near2: Vec<bool>,
    near4: Vec<bool>,
    near5: Vec<bool>,
    /// A ring of `RING` rows of luma (row `y` at `y % RING`, in `near5` runs and 3 pixels
    /// beyond).
    luma: Vec<u8>,
    /// Per chunk and row (in `near5` chunks): the largest and smallest luma over the chunk and
    /// 3 pixels either side; (in `near4` chunks) the largest squared Sobel gradient (`gx^2 +
    /// gy^2`, each 8x the luma's slope) over the chunk and 2 either side.
    most: Vec<u8>,
    least: Vec<u8>,
    steepest: Vec<i32>,
    /// Per chunk and row: the running average of the estimated weight (0..1), of the last
    /// frame that had the chunk near the outline.
    kept: Vec<f32>,
    /// Scratch rows: one row's squared gradient; the alpha's binomial sums, a vertical pass
    /// and then both (256x the blurred alpha).
    grad: Vec<i32>,
    vert: Vec<u16>,
    sums: Vec<u16>,
    /// The weight of the blur for each chunk of the row being softened, in 256ths, and
    /// whether it is above 0 there (a `near2` chunk the softening moves).
    weights: Vec<i32>,
    moving: Vec<bool>,
    /// The runs of the row being made (`runs`).
    spans: Vec<(usize, usize)>,
    /// The feathered alpha, softened in place: rows before the one being softened are read
    /// as they were from `original` (the last [`ORIGINALS`] rows softened, saved before it;
    /// row `y` at `y % ORIGINALS`, `original_row` saying which row a slot holds).
    alpha: Vec<u8>,
    original: Vec<u8>,
    original_row: [usize; ORIGINALS],
}

/// Rows of the alpha as it was kept while it is softened in place: a row's blur reads the
/// two rows above it and itself as they were.
const ORIGINALS: usize = 3;

impl SoftEdge {
    /// For alpha planes and frames (YUYV) of `(w, h)`.
    pub fn new((w, h): (usize, usize)) -> SoftEdge {
        let chunks = w.div_ceil(CHUNK);
        let m = chunks * h;
        SoftEdge {
            size: (w, h),
            chunks,
            edge: vec![false; m],
            near2: vec![false; m],
            near4: vec![false; m],
            near5: vec![false; m],
            luma: vec![0; RING * w],
            most: vec![0; m],
            least: vec![0; m],
            steepest: vec![0; m],
            kept: vec![0.0; m],
            grad: vec![0; w],
            vert: vec![0; w],
            sums: vec![0; w],
            weights: vec![0; chunks],
            moving: vec![false; chunks],
            spans: Vec::with_capacity(chunks),
            alpha: vec![0; w * h],
            original: vec![0; ORIGINALS * w],
            original_row: [usize::MAX; ORIGINALS],
        }
    }

    /// Softens `alpha` (0..255 per pixel, the feather's output: [`crate::feather`]) where
    /// `frame` (YUYV, this size) has softer edges.
    #[inline(always)]
    pub fn make(&mut self, frame: &[u8], alpha: &[u8]) {
        self.alpha
            .copy_from_slice(&alpha[..self.size.0 * self.size.1]);
        self.soften(frame);
    }

    /// [`SoftEdge::make`] of the plane `feathered` (this size) without copying it: the plane
    /// becomes the softened alpha, and `feathered` gets the buffer of the last one (to be
    /// overwritten whole).
    #[inline(always)]
    pub fn make_from(&mut self, frame: &[u8], feathered: &mut Vec<u8>) {
        assert_eq!(feathered.len(), self.alpha.len(), "a plane of this size");
        std::mem::swap(&mut self.alpha, feathered);
        self.soften(frame);
    }

    /// Softens `self.alpha` in place.
    #[inline(always)]
    fn soften(&mut self, frame: &[u8]) {
        let (w, h) = self.size;
        let n = w * h;
        let frame = &frame[..2 * n];
        let alpha = &self.alpha[..n];
        // The chunks holding an alpha between plain room and plain person. The feather
        // leaves no plain room pixel beside (or diagonal to) plain person, so a 5x5
        // neighbourhood that is not of one value (where the blur differs from the alpha)
        // holds such a pixel: every pixel the softening can change lies within 2 rows and 2
        // pixels of an edge chunk.
        let kw = self.chunks;
        let mut any = false;
        for (row, edges) in alpha.chunks_exact(w).zip(self.edge.chunks_exact_mut(kw)) {
            let (whole, rest) = row.split_at(w / CHUNK * CHUNK);
            for (chunk, e) in whole.chunks_exact(CHUNK).zip(edges.iter_mut()) {
                // Not all plain room, not all plain person (all plain but mixed cannot be:
                // see above).
                let x = u128::from_ne_bytes(chunk.try_into().expect("CHUNK bytes"));
                *e = x != 0 && x != u128::MAX;
                any |= *e;
            }
            if !rest.is_empty() {
                let e = !(rest.iter().all(|&a| a == 0) || rest.iter().all(|&a| a == 255));
                edges[kw - 1] = e;
                any |= e;
            }
        }
        if !any {
            return;
        }
        dilate_rows(&self.edge, (kw, h), 2, &mut self.near2);
        dilate_rows(&self.edge, (kw, h), 4, &mut self.near4);
        dilate_rows(&self.edge, (kw, h), 5, &mut self.near5);
        // Row by row, each stage as soon as the rows it reads are made: the luma of row `t`
        // and its chunks' range, the gradient of row `t - 1` (the Sobel operator reads a row
        // down), the softening of row `t - 3` (its ranges reach 3 rows down).
        let mut spans = std::mem::take(&mut self.spans);
        self.original_row = [usize::MAX; ORIGINALS];
        for t in 0..h + 3 {
            if t < h {
                self.luma_row(frame, t, &mut spans);
            }
            if (1..=h).contains(&t) {
                self.gradient_row(t - 1, &mut spans);
            }
            if t >= 3 {
                self.soften_row(t - 3, &mut spans);
            }
        }
        self.spans = spans;
    }

    /// Forgets the weights of the frames before (after a frame shown without the person, or
    /// a pause): the next frame's softening starts from none.
    pub fn forget(&mut self) {
        self.kept.fill(0.0);
    }

    /// The softened alpha of the last [`SoftEdge::make`] or [`SoftEdge::make_from`].
    pub fn alpha(&self) -> &[u8] {
        &self.alpha
    }

    /// Row `y`'s luma in its `near5` runs (3 pixels beyond) into the ring, and each `near5`
    /// chunk's largest and smallest luma over it and 3 pixels either side.
    #[inline(always)]
    fn luma_row(&mut self, frame: &[u8], y: usize, spans: &mut Vec<(usize, usize)>) {
        let (w, kw) = (self.size.0, self.chunks);
        let luma = &mut self.luma[(y % RING) * w..][..w];
        let chunks = &self.near5[y * kw..(y + 1) * kw];
        runs(chunks, w, 3, spans);
        for &(x0, x1) in spans.iter() {
            let pairs = frame[2 * (y * w + x0)..2 * (y * w + x1)].chunks_exact(2);
            for (l, pair) in luma[x0..x1].iter_mut().zip(pairs) {
                *l = pair[0];
            }
        }
        for (k, _) in chunks.iter().enumerate().filter(|(_, &near)| near) {
            let (x0, x1) = reach(k, w, 3);
            let (lo, hi) = luma[x0..x1]
                .iter()
                .fold((255u8, 0u8), |(lo, hi), &l| (lo.min(l), hi.max(l)));
            self.most[y * kw + k] = hi;
            self.least[y * kw + k] = lo;
        }
    }

    /// Row `y`'s squared Sobel gradient in its `near4` runs (2 pixels beyond), from the
    /// ring's rows `y - 1..=y + 1`, and each `near4` chunk's largest over it and 2 either
    /// side.
    #[inline(always)]
    fn gradient_row(&mut self, y: usize, spans: &mut Vec<(usize, usize)>) {
        let (w, h) = self.size;
        let kw = self.chunks;
        let row = |r: usize| &self.luma[(r % RING) * w..][..w];
        let (up, mid, down) = (row(y.saturating_sub(1)), row(y), row((y + 1).min(h - 1)));
        let chunks = &self.near4[y * kw..(y + 1) * kw];
        runs(chunks, w, 2, spans);
        for &(x0, x1) in spans.iter() {
            // Interior pixels from their neighbours; the frame's border pixels repeated
            // outwards.
            let (i0, i1) = (x0.max(1), x1.min(w - 1));
            if i1 > i0 {
                let n = i1 - i0;
                // The row's pixels i0 - 1 + d.., n of them.
                fn cut(r: &[u8], start: usize, n: usize) -> &[u8] {
                    &r[start..][..n]
                }
                let (u0, u1, u2) = (cut(up, i0 - 1, n), cut(up, i0, n), cut(up, i0 + 1, n));
                let (m0, m2) = (cut(mid, i0 - 1, n), cut(mid, i0 + 1, n));
                let (d0, d1, d2) = (cut(down, i0 - 1, n), cut(down, i0, n), cut(down, i0 + 1, n));
                let g = &mut self.grad[i0..i1];
                for i in 0..n {
                    let p = |v: &[u8]| v[i] as i32;
                    g[i] = sobel2([p(u0), p(u1), p(u2)], [p(m0), p(m2)], [p(d0), p(d1), p(d2)]);
                }
            }
            for x in [x0, x1 - 1] {
                if x == 0 || x == w - 1 {
                    let (l, r) = (x.saturating_sub(1), (x + 1).min(w - 1));
                    let p = |row: &[u8], i: usize| row[i] as i32;
                    self.grad[x] = sobel2(
                        [p(up, l), p(up, x), p(up, r)],
                        [p(mid, l), p(mid, r)],
                        [p(down, l), p(down, x), p(down, r)],
                    );
                }
            }
        }
        for (k, _) in chunks.iter().enumerate().filter(|(_, &near)| near) {
            let (x0, x1) = reach(k, w, 2);
            self.steepest[y * kw + k] = self.grad[x0..x1].iter().copied().max().unwrap_or(0);
        }
    }

    /// Row `y` in its `near2` runs (2 pixels beyond): each chunk's edge width from the range
    /// of its rows `y - 3..=y + 3` and the largest gradient of its rows `y - 2..=y + 2`, and
    /// the alpha moved towards its 5x5 binomial blur by the softness it lacks (where it lacks
    /// any).
    #[inline(always)]
    fn soften_row(&mut self, y: usize, spans: &mut Vec<(usize, usize)>) {
        let (w, h) = self.size;
        let kw = self.chunks;
        let chunks = &self.near2[y * kw..(y + 1) * kw];
        // The weight of each chunk of the row (and its neighbours, for the 2 pixels beyond).
        let (r3, r3_end) = (y.saturating_sub(3), (y + 4).min(h));
        let (r2, r2_end) = (y.saturating_sub(2), (y + 3).min(h));
        let own2 = OWN_SIGMA * OWN_SIGMA;
        // Each `near2` chunk's weight of the blur, in 256ths.
        for (k, _) in chunks.iter().enumerate().filter(|(_, &near)| near) {
            let (mut hi, mut lo, mut g2) = (0u8, 255u8, 0i32);
            for r in r3..r3_end {
                hi = hi.max(self.most[r * kw + k]);
                lo = lo.min(self.least[r * kw + k]);
            }
            for r in r2..r2_end {
                g2 = g2.max(self.steepest[r * kw + k]);
            }
            // The frame's edge width squared, (C / G)^2 with G the Sobel gradient over 8.
            let c = (hi - lo) as f32;
            let width2 = 64.0 * c * c / g2.max(1) as f32;
            let missing2 = (width2 - STEP_WIDTH2) / std::f32::consts::TAU - own2;
            let now = missing2.clamp(0.0, 1.0).sqrt();
            // The frame's sensor noise moves the estimate a little from frame to frame: the
            // weight is the smaller of the estimate and its running average, so it rises over
            // a few frames (noise does not make the edge flicker) and falls at once (an edge
            // that moved onto a sharp one of the frame is sharp at once).
            let kept = &mut self.kept[y * kw + k];
            *kept += (now - *kept) * WEIGHT_FOLLOWS;
            self.weights[k] = (now.min(*kept) * 256.0 + 0.5) as i32;
        }
        // Only the chunks whose weight is above 0 move (elsewhere `alpha + (blur - alpha) * 0`
        // is the alpha: where the frame's edge is no softer than the cut-out's, most of
        // greenman's outline, no blur is made).
        for ((m, &near), &t) in self.moving.iter_mut().zip(chunks).zip(&self.weights) {
            *m = near && t > 0;
        }
        runs(&self.moving, w, 2, spans);
        if spans.is_empty() {
            return;
        }
        // The row as it was, before it is softened: its own blur and the next two rows'
        // read it so.
        let slot = y % ORIGINALS;
        self.original[slot * w..(slot + 1) * w].copy_from_slice(&self.alpha[y * w..(y + 1) * w]);
        self.original_row[slot] = y;
        for &(x0, x1) in spans.iter() {
            // 256x the alpha's 5x5 binomial blur (borders repeated outwards): the vertical
            // pass over the run and 2 pixels either side, then across.
            let (v0, v1) = (x0.saturating_sub(2), (x1 + 2).min(w));
            let (alpha, original, original_row) = (&self.alpha, &self.original, &self.original_row);
            let row = |d: isize| {
                let r = (y as isize + d).clamp(0, h as isize - 1) as usize;
                // Rows up to this one may have been softened already: as they were.
                let slot = r % ORIGINALS;
                if original_row[slot] == r {
                    &original[slot * w + v0..slot * w + v1]
                } else {
                    &alpha[r * w + v0..r * w + v1]
                }
            };
            let vert = &mut self.vert[v0..v1];
            for (((((o, &a), &b), &c), &d), &e) in vert
                .iter_mut()
                .zip(row(-2))
                .zip(row(-1))
                .zip(row(0))
                .zip(row(1))
                .zip(row(2))
            {
                *o = a as u16 + 4 * b as u16 + 6 * c as u16 + 4 * d as u16 + e as u16;
            }
            let vert = &self.vert;
            let sums = &mut self.sums[x0..x1];
            let (i0, i1) = (x0.max(2), x1.min(w.saturating_sub(2)));
            if i1 > i0 {
                let n = i1 - i0;
                let v = |d: usize| &vert[i0 + d - 2..i0 + d - 2 + n];
                for (((((o, &a), &b), &c), &d), &e) in sums[i0 - x0..i1 - x0]
                    .iter_mut()
                    .zip(v(0))
                    .zip(v(1))
                    .zip(v(2))
                    .zip(v(3))
                    .zip(v(4))
                {
                    *o = a + 4 * b + 6 * c + 4 * d + e;
                }
            }
            for x in (x0..i0.min(x1)).chain(i1.max(x0)..x1) {
                let at = |x: usize| vert[x.clamp(v0, v1 - 1)];
                sums[x - x0] = at(x.saturating_sub(2))
                    + 4 * at(x.saturating_sub(1))
                    + 6 * vert[x]
                    + 4 * at(x + 1)
                    + at(x + 2);
            }
            // Each chunk of the run with its own weight; the 2 pixels beyond the run's first
            // and last chunks (in chunks that are not `near2`) with those chunks'.
            let mut x = x0;
            while x < x1 {
                let k = x / CHUNK;
                let end = ((k + 1) * CHUNK).min(x1);
                let own = if chunks[k] {
                    k
                } else if x % CHUNK < 2 {
                    k - 1
                } else {
                    k + 1
                };
                // alpha + (blur - alpha) * t, rounded.
                let t = self.weights[own];
                let out = &mut self.alpha[y * w + x..y * w + end];
                let a = &self.original[slot * w + x..slot * w + end];
                for ((o, &a), &s) in out.iter_mut().zip(a).zip(&self.sums[x..end]) {
                    let moved = (s as i32 - ((a as i32) << 8)) * t;
                    *o = (a as i32 + ((moved + (1 << 15)) >> 16)) as u8;
                }
                x = end;
            }
        }
    }
}

/// The pixels a chunk's measure reads: chunk `k` and `beyond` pixels either side, clipped to
/// a row of `w`.
#[inline(always)]
fn reach(k: usize, w: usize, beyond: usize) -> (usize, usize) {
    (
        (k * CHUNK).saturating_sub(beyond),
        ((k + 1) * CHUNK + beyond).min(w),
    )
}

/// `gx^2 + gy^2` of the Sobel operator on a 3x3 neighbourhood: the rows above and below
/// (left, middle, right) and the middle row's left and right.
#[inline(always)]
fn sobel2(up: [i32; 3], mid: [i32; 2], down: [i32; 3]) -> i32 {
    let gx = up[2] - up[0] + 2 * (mid[1] - mid[0]) + down[2] - down[0];
    let gy = down[0] - up[0] + 2 * (down[1] - up[1]) + down[2] - up[2];
    gx * gx + gy * gy
}

/// `out`: the pixels `x0..x1` of each run of set chunks in `row` (a row of `w` pixels) and
/// `halo` pixels either side (clipped at the row's ends); runs whose pixels would meet are
/// one, so no pixel is in two.
#[inline(always)]
fn runs(row: &[bool], w: usize, halo: usize, out: &mut Vec<(usize, usize)>) {
    out.clear();
    let mut k = 0;
    while k < row.len() {
        if !row[k] {
            k += 1;
            continue;
        }
        let start = k;
        while k < row.len() && row[k] {
            k += 1;
        }
        let (x0, x1) = (
            (start * CHUNK).saturating_sub(halo),
            (k * CHUNK + halo).min(w),
        );
        match out.last_mut() {
            Some(last) if x0 <= last.1 => last.1 = x1,
            _ => out.push((x0, x1)),
        }
    }
}

/// `out`: `mask` (`kw x h` chunks) dilated by `rows` rows up and down.
#[inline(always)]
fn dilate_rows(mask: &[bool], (kw, h): (usize, usize), rows: usize, out: &mut [bool]) {
    for y in 0..h {
        let (a, b) = (y.saturating_sub(rows), (y + rows + 1).min(h));
        let dst = &mut out[y * kw..(y + 1) * kw];
        dst.copy_from_slice(&mask[a * kw..(a + 1) * kw]);
        for r in a + 1..b {
            for (d, &m) in dst.iter_mut().zip(&mask[r * kw..(r + 1) * kw]) {
                *d |= m;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::feather::Feather;

    /// The softening by its definition, every pixel: the blur, and the weight of the chunk
    /// (or, for a pixel in none near the outline, of the one beside it that is) from whole
    /// windows clipped at the borders. `kept`: each chunk's weight of the last frame.
    fn naive(frame: &[u8], alpha: &[u8], (w, h): (usize, usize), kept: &mut [f32]) -> Vec<u8> {
        let kw = w.div_ceil(CHUNK);
        let luma = |x: isize, y: isize| {
            let (x, y) = (x.clamp(0, w as isize - 1), y.clamp(0, h as isize - 1));
            frame[2 * (y as usize * w + x as usize)] as i32
        };
        let al = |x: isize, y: isize| {
            let (x, y) = (x.clamp(0, w as isize - 1), y.clamp(0, h as isize - 1));
            alpha[y as usize * w + x as usize] as i32
        };
        let sobel2 = |x: isize, y: isize| {
            let gx = luma(x + 1, y - 1) - luma(x - 1, y - 1)
                + 2 * (luma(x + 1, y) - luma(x - 1, y))
                + luma(x + 1, y + 1)
                - luma(x - 1, y + 1);
            let gy = luma(x - 1, y + 1) - luma(x - 1, y - 1)
                + 2 * (luma(x, y + 1) - luma(x, y - 1))
                + luma(x + 1, y + 1)
                - luma(x + 1, y - 1);
            gx * gx + gy * gy
        };
        // A chunk near the outline: one within 2 rows holds a value other than 0 and 255.
        let edge = |k: usize, y: usize| {
            (k * CHUNK..((k + 1) * CHUNK).min(w)).any(|x| !matches!(alpha[y * w + x], 0 | 255))
        };
        let near = |k: usize, y: usize| (y.saturating_sub(2)..(y + 3).min(h)).any(|r| edge(k, r));
        // Each near chunk's weight, in 256ths.
        let mut weight = vec![0i32; kw * h];
        for y in 0..h {
            for k in (0..kw).filter(|&k| near(k, y)) {
                let (mut hi, mut lo, mut g2) = (0, 255, 0);
                let (yi, x0) = (y as isize, (k * CHUNK) as isize);
                for yy in (yi - 3..=yi + 3).filter(|&r| r >= 0 && r < h as isize) {
                    for xx in
                        (x0 - 3..x0 + CHUNK as isize + 3).filter(|&x| x >= 0 && x < w as isize)
                    {
                        hi = hi.max(luma(xx, yy));
                        lo = lo.min(luma(xx, yy));
                        let inner =
                            (yy - yi).abs() <= 2 && xx >= x0 - 2 && xx < x0 + CHUNK as isize + 2;
                        if inner {
                            g2 = g2.max(sobel2(xx, yy));
                        }
                    }
                }
                let c = (hi - lo) as f32;
                let width2 = 64.0 * c * c / g2.max(1) as f32;
                let missing2 =
                    (width2 - STEP_WIDTH2) / std::f32::consts::TAU - OWN_SIGMA * OWN_SIGMA;
                let now = missing2.clamp(0.0, 1.0).sqrt();
                let kept = &mut kept[y * kw + k];
                *kept += (now - *kept) * WEIGHT_FOLLOWS;
                weight[y * kw + k] = (now.min(*kept) * 256.0 + 0.5) as i32;
            }
        }
        let k = [1, 4, 6, 4, 1];
        let mut out = vec![0; w * h];
        for y in 0..h {
            for x in 0..w {
                let i = y * w + x;
                let mut sum = 0;
                for (dy, ky) in k.iter().enumerate() {
                    for (dx, kx) in k.iter().enumerate() {
                        sum += ky
                            * kx
                            * al(x as isize + dx as isize - 2, y as isize + dy as isize - 2);
                    }
                }
                let a = alpha[i] as i32;
                if sum == a << 8 {
                    out[i] = a as u8;
                    continue;
                }
                let own = [x / CHUNK, (x + 2) / CHUNK, x.saturating_sub(2) / CHUNK]
                    .into_iter()
                    .find(|&k| near(k, y))
                    .expect("a changed pixel lies within 2 pixels of a near chunk");
                let moved = (sum - (a << 8)) * weight[y * kw + own];
                out[i] = (a + ((moved + (1 << 15)) >> 16)) as u8;
            }
        }
        out
    }

    /// A YUYV frame whose luma is `luma(x, y)`.
    fn frame(w: usize, h: usize, luma: impl Fn(usize, usize) -> u8) -> Vec<u8> {
        (0..w * h).flat_map(|i| [luma(i % w, i / w), 128]).collect()
    }

    /// A feathered cut-out (the soft edge's input): an ellipse, `shift` of the width right of
    /// the middle, with a noisy patch.
    fn cut_out(w: usize, h: usize, shift: f32) -> Vec<u8> {
        let hard: Vec<u8> = (0..w * h)
            .map(|i| {
                let (x, y) = (
                    (i % w) as f32 / w as f32 - 0.5 - shift,
                    (i / w) as f32 / h as f32 - 0.5,
                );
                if x * x + y * y < 0.1 {
                    255
                } else if x > 0.3 && y > 0.3 {
                    (i * 97 % 256) as u8
                } else {
                    0
                }
            })
            .collect();
        let mut f = Feather::new((w, h));
        f.make(&hard);
        f.alpha().to_vec()
    }

    #[test]
    fn the_softening_matches_its_definition() {
        for (w, h) in [
            (45, 23),
            (64, 20),
            (17, 9),
            (3, 2),
            (100, 7),
            (40, 3),
            (40, 4),
            (40, 5),
        ] {
            // Soft waves on the left (wide edges), a sharp texture on the right.
            let f = frame(w, h, |x, y| {
                if x < w / 2 {
                    (128.0 + 90.0 * (x as f32 / 5.0).sin() * (y as f32 / 4.0).cos()) as u8
                } else {
                    ((x * 37 + y * 11) % 200 + (x / 5) * 3) as u8
                }
            });
            // The outline moves between frames, so a value left from the frame before is
            // read wrong.
            let alphas = [cut_out(w, h, 0.0), cut_out(w, h, 0.07)];
            // One copies each plane, one takes it over (softened in place), handing back
            // the last one's buffer, which is overwritten as the feather does.
            let (mut soft, mut traded) = (SoftEdge::new((w, h)), SoftEdge::new((w, h)));
            let mut plane = vec![0u8; w * h];
            let mut kept = vec![0.0f32; w.div_ceil(CHUNK) * h];
            let mut changed = 0;
            for round in 0..6 {
                let alpha = &alphas[round % 2];
                soft.make(&f, alpha);
                plane.copy_from_slice(alpha);
                traded.make_from(&f, &mut plane);
                let want = naive(&f, alpha, (w, h), &mut kept);
                for (i, (&got, &want)) in soft.alpha().iter().zip(&want).enumerate() {
                    assert_eq!(got, want, "{w}x{h} round {round} pixel {i}");
                }
                assert_eq!(traded.alpha(), &want[..], "{w}x{h} round {round}, in place");
                changed += want.iter().zip(alpha).filter(|(a, b)| a != b).count();
            }
            assert!(changed > 0 || w < 32, "{w}x{h}: nothing softened");
        }
        // Tiny frames, all of one value between room and person: nothing to blur.
        for (w, h) in [(1, 1), (2, 1), (1, 3)] {
            let f = frame(w, h, |x, y| (x * 90 + y * 40) as u8);
            let alpha = vec![128u8; w * h];
            let mut soft = SoftEdge::new((w, h));
            soft.make(&f, &alpha);
            assert_eq!(soft.alpha(), &alpha[..], "{w}x{h}");
            let mut plane = alpha.clone();
            soft.make_from(&f, &mut plane);
            assert_eq!(soft.alpha(), &alpha[..], "{w}x{h}, in place");
        }
        // A vertical edge whose softened pixels reach 2 pixels into a chunk with no edge of
        // its own: the cut-out from column 33 (the feather's fringe starts at 32, a chunk's
        // first pixel) over a soft frame edge.
        let (w, h) = (64, 12);
        let hard: Vec<u8> = (0..w * h)
            .map(|i| if i % w >= 33 { 255 } else { 0 })
            .collect();
        let mut feather = Feather::new((w, h));
        feather.make(&hard);
        let alpha = feather.alpha().to_vec();
        let f = frame(w, h, |x, _| {
            (40.0 + 160.0 / (1.0 + (-(x as f32 - 32.0) / 2.0).exp())) as u8
        });
        let (mut soft, mut kept) = (SoftEdge::new((w, h)), vec![0.0f32; w.div_ceil(CHUNK) * h]);
        for round in 0..3 {
            soft.make(&f, &alpha);
            let want = naive(&f, &alpha, (w, h), &mut kept);
            assert_eq!(soft.alpha(), &want[..], "round {round}");
            assert!(want[5 * w + 30] > alpha[5 * w + 30], "round {round}");
        }
    }

    #[test]
    fn a_soft_frame_edge_softens_the_cut_out_and_a_sharp_one_does_not() {
        let (w, h) = (64, 12);
        // A hard cut-out from column 32, feathered.
        let hard: Vec<u8> = (0..w * h)
            .map(|i| if i % w >= 32 { 255 } else { 0 })
            .collect();
        let mut feather = Feather::new((w, h));
        feather.make(&hard);
        let alpha = feather.alpha().to_vec();
        let step = |x: usize| 40.0 + 160.0 * (x as f64 >= 31.5) as u8 as f64;
        let gaussian = |x: usize| {
            // A step blurred with a Gaussian of 3 pixels (the error function, by a sum).
            let mut s = 0.0;
            for k in -40i32..=40 {
                let g = (-(k as f64).powi(2) / 18.0).exp();
                s += g * step((x as i32 + k).clamp(0, w as i32 - 1) as usize);
            }
            let norm: f64 = (-40i32..=40)
                .map(|k| (-(k as f64).powi(2) / 18.0).exp())
                .sum();
            s / norm
        };
        let sharp = frame(w, h, |x, _| step(x) as u8);
        let soft_frame = frame(w, h, |x, _| gaussian(x).round() as u8);
        let (mut a, mut b) = (SoftEdge::new((w, h)), SoftEdge::new((w, h)));
        for _ in 0..30 {
            a.make(&sharp, &alpha);
            b.make(&soft_frame, &alpha);
        }
        let row = |s: &SoftEdge| s.alpha()[6 * w..7 * w].to_vec();
        assert_eq!(
            row(&a),
            alpha[6 * w..7 * w],
            "a sharp edge keeps the cut-out's"
        );
        let (before, after) = (&alpha[6 * w..7 * w], row(&b));
        assert!(
            after[29] > before[29] && after[30] > before[30],
            "{before:?}\n{after:?}"
        );
        assert!(after[33] < before[33], "{before:?}\n{after:?}");
        // Plain room and plain person stay plain.
        assert_eq!(&after[..24], &[0; 24]);
        assert_eq!(&after[40..], &[255; 24]);
    }
}
