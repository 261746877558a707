//! The cut-out's edge as soft as the frame's own edge there (`compositor.soft_edges`).
//!
//! The refined, feathered edge ([`crate::feather`]) has one width everywhere, about a Gaussian
//! of [`OWN_SIGMA`] pixels of the picture it is made at. A camera's edges are not all alike:
//! hair, a shoulder out of focus or a moving arm change from person to room over several
//! pixels, a sharp collar in one. Where the frame's own transition is wider than the cut-out's,
//! the cut-out's edge was too hard, and the room's side of it too low (docs/QUALITY.md: on
//! `franck-office-static-640x480` 95 % of the edge error was there). So the width of the
//! frame's edge is measured at each pixel, as a ramp's height over its steepest slope: the
//! luma's range `C` in a 7x7 window over the largest Sobel gradient `G` in a 5x5 one (a sharp
//! step measures 2 pixels, a Gaussian-blurred step of `s` pixels `s * sqrt(2 pi)`), and where
//! it is wider than the cut-out's own, the alpha moves towards its 5x5 binomial blur (a
//! Gaussian of 1 pixel) by the missing softness, `sqrt(s^2 - OWN_SIGMA^2)`, up to all of it.
//! Where the frame's edge is no softer than the cut-out's (most of greenman's outline), the
//! alpha stays as it was. Plain person and plain room, whose whole 5x5 neighbourhood is plain,
//! stay exactly 255 and 0.

/// The cut-out's own edge (the refinement's steep fit, feathered): about a Gaussian of this
/// many pixels of the picture it is made at (measured on the dumps of docs/QUALITY.md with
/// the estimate below; 0.76-0.94 on the still sequences).
pub const OWN_SIGMA: f32 = 0.85;

/// What the estimate gives a sharp step: Sobel's central difference spreads it over two
/// pixels, so its width squared is 4.
const STEP_WIDTH2: f32 = 4.0;

/// The softening is computed in runs of chunks of this many pixels of a row: only chunks
/// where the alpha's blur differs from it (near the outline) and what their windows need.
const CHUNK: usize = 16;

/// The softened alpha of frames of one size.
pub struct SoftEdge {
    size: (usize, usize),
    /// Chunks per row.
    chunks: usize,
    /// Per chunk (row-major): the alpha's blur differs from it there (`near`); within 2 rows
    /// and a chunk of one that does (`near2`), within 3 (`near3`).
    near: Vec<bool>,
    near2: Vec<bool>,
    near3: Vec<bool>,
    scratch_mask: Vec<bool>,
    /// The frame's luma.
    luma: Vec<u8>,
    /// Horizontal passes of the luma (computed in `near3` chunks): the largest and smallest
    /// values of 7, the central difference `l[x+1] - l[x-1]` and the smoothing `l[x-1] + 2
    /// l[x] + l[x+1]`.
    hi: Vec<u8>,
    lo: Vec<u8>,
    diff: Vec<i16>,
    smooth: Vec<i16>,
    /// The squared Sobel gradient (`gx^2 + gy^2`, each 8x the luma's slope), then its
    /// largest value in 5 of a row (in `near2` chunks).
    grad: Vec<i32>,
    grad_max: Vec<i32>,
    /// Scratch rows: the alpha's 5x5 binomial sums, a vertical pass and then both (256x the
    /// blurred alpha).
    vert: Vec<u16>,
    sums: Vec<u16>,
    tmp_mask: Vec<bool>,
    /// Scratch rows: the 7x7 largest and smallest luma, the 5x5 largest squared gradient.
    most: Vec<u8>,
    least: Vec<u8>,
    steepest: Vec<i32>,
    /// Per pixel: the weight of the blur last used (0..255).
    kept: Vec<u8>,
    alpha: Vec<u8>,
}

/// The share of the new estimate a pixel's weight takes each frame.
const WEIGHT_FOLLOWS: f32 = 0.25;

impl SoftEdge {
    /// For alpha planes and frames (YUYV) of `(w, h)`.
    pub fn new((w, h): (usize, usize)) -> SoftEdge {
        let n = w * h;
        let chunks = w.div_ceil(CHUNK);
        SoftEdge {
            size: (w, h),
            chunks,
            near: vec![false; chunks * h],
            near2: vec![false; chunks * h],
            near3: vec![false; chunks * h],
            scratch_mask: vec![false; chunks * h],
            luma: vec![0; n],
            hi: vec![0; n],
            lo: vec![0; n],
            diff: vec![0; n],
            smooth: vec![0; n],
            grad: vec![0; n],
            grad_max: vec![0; n],
            vert: vec![0; w],
            sums: vec![0; w],
            tmp_mask: vec![false; chunks * h],
            most: vec![0; w],
            least: vec![0; w],
            steepest: vec![0; w],
            kept: vec![0; n],
            alpha: vec![0; n],
        }
    }

    /// Softens `alpha` (0..255 per pixel) where `frame` (YUYV, this size) has softer edges.
    #[inline(always)]
    pub fn make(&mut self, frame: &[u8], alpha: &[u8]) {
        let (w, h) = self.size;
        let n = w * h;
        let alpha = &alpha[..n];
        self.alpha.copy_from_slice(alpha);
        // The chunks holding part of an edge: a value between plain room and plain person,
        // or both. The feather leaves no plain room pixel beside plain person, so every pixel
        // whose 5x5 neighbourhood is not of one value (where the blur can differ from the
        // alpha) lies within 2 rows and 2 pixels of such a chunk.
        let kw = self.chunks;
        let mut any = false;
        for (row, edges) in alpha
            .chunks_exact(w)
            .zip(self.scratch_mask.chunks_exact_mut(kw))
        {
            let (whole, rest) = row.split_at(w / CHUNK * CHUNK);
            for (chunk, e) in whole.chunks_exact(CHUNK).zip(edges.iter_mut()) {
                let chunk: &[u8; CHUNK] = chunk.try_into().expect("CHUNK bytes");
                *e = u128::from_ne_bytes(*chunk) != u128::from_ne_bytes([chunk[0]; CHUNK]);
                any |= *e;
            }
            if let (Some(&first), Some(e)) = (rest.first(), edges.last_mut()) {
                if !whole.is_empty() || rest.len() == w {
                    *e = rest.iter().any(|&a| a != first);
                    any |= *e;
                }
            }
        }
        if !any {
            return;
        }
        let edge = std::mem::take(&mut self.scratch_mask);
        let mut tmp = std::mem::take(&mut self.tmp_mask);
        // `near`: where the blur can differ from the alpha; `near2`: the gradients its 5x5
        // windows read, a chunk either side; `near3`: the rows of luma those and its 7x7
        // windows read.
        dilate(&edge, (kw, h), (1, 2), &mut tmp, &mut self.near);
        dilate(&edge, (kw, h), (2, 4), &mut tmp, &mut self.near2);
        dilate(&edge, (kw, h), (2, 5), &mut tmp, &mut self.near3);
        (self.scratch_mask, self.tmp_mask) = (edge, tmp);
        for (l, pair) in self.luma.iter_mut().zip(frame[..2 * n].chunks_exact(2)) {
            *l = pair[0];
        }
        self.rows();
        self.soften(alpha);
    }

    /// The softened alpha of the last [`SoftEdge::make`].
    pub fn alpha(&self) -> &[u8] {
        &self.alpha
    }

    /// The horizontal passes of the luma in `near3` chunks, then the squared Sobel gradient
    /// and its 5-wide largest value in `near2` chunks. A run's outermost pixels see their
    /// windows clipped at the run's ends; only pixels a chunk or more inside are read later
    /// (or at the frame's borders, where the clipping is the definition).
    #[inline(always)]
    fn rows(&mut self) {
        let (w, h) = self.size;
        let kw = self.chunks;
        for y in 0..h {
            let row = &self.luma[y * w..(y + 1) * w];
            for_runs(&self.near3[y * kw..(y + 1) * kw], w, |x0, x1| {
                let span = y * w + x0..y * w + x1;
                window(&row[x0..x1], &mut self.hi[span.clone()], 3, |a, b| a.max(b));
                window(&row[x0..x1], &mut self.lo[span.clone()], 3, |a, b| a.min(b));
                let (diff, smooth) = (&mut self.diff[span.clone()], &mut self.smooth[span]);
                // Interior pixels from their neighbours, the frame's border pixels
                // repeated outwards.
                let (i0, i1) = (x0.max(1), x1.min(w - 1));
                if i1 > i0 {
                    let n = i1 - i0;
                    let (l, m, r) = (&row[i0 - 1..i1 - 1], &row[i0..i1], &row[i0 + 1..i1 + 1]);
                    for ((((d, s), &l), &m), &r) in diff[i0 - x0..i1 - x0]
                        .iter_mut()
                        .zip(smooth[i0 - x0..i1 - x0].iter_mut())
                        .zip(&l[..n])
                        .zip(&m[..n])
                        .zip(&r[..n])
                    {
                        *d = r as i16 - l as i16;
                        *s = l as i16 + 2 * m as i16 + r as i16;
                    }
                }
                for x in [x0, x1 - 1] {
                    if x == 0 || x == w - 1 {
                        let (l, m, r) = (
                            row[x.saturating_sub(1)] as i16,
                            row[x] as i16,
                            row[(x + 1).min(w - 1)] as i16,
                        );
                        diff[x - x0] = r - l;
                        smooth[x - x0] = l + 2 * m + r;
                    }
                }
            });
        }
        for y in 0..h {
            let (up, mid, down) = (y.saturating_sub(1) * w, y * w, (y + 1).min(h - 1) * w);
            for_runs(&self.near2[y * kw..(y + 1) * kw], w, |x0, x1| {
                let len = x1 - x0;
                let d = |k: usize| &self.diff[k + x0..k + x0 + len];
                let s = |k: usize| &self.smooth[k + x0..k + x0 + len];
                let g = &mut self.grad[mid + x0..mid + x1];
                for ((((o, &du), &dm), &dd), (&su, &sd)) in g
                    .iter_mut()
                    .zip(d(up))
                    .zip(d(mid))
                    .zip(d(down))
                    .zip(s(up).iter().zip(s(down)))
                {
                    let gx = du as i32 + 2 * dm as i32 + dd as i32;
                    let gy = sd as i32 - su as i32;
                    *o = gx * gx + gy * gy;
                }
                window(g, &mut self.grad_max[mid + x0..mid + x1], 2, |a, b| {
                    a.max(b)
                });
            });
        }
    }

    /// In `near` chunks: the frame's edge width from the 7x7 luma range and the 5x5 largest
    /// gradient, and the alpha moved towards its blur by the softness it lacks.
    #[inline(always)]
    fn soften(&mut self, alpha: &[u8]) {
        let (w, h) = self.size;
        let kw = self.chunks;
        let own2 = OWN_SIGMA * OWN_SIGMA;
        let per_sigma2 = 1.0 / std::f32::consts::TAU;
        for y in 0..h {
            let (r3, r3_end) = (y.saturating_sub(3), (y + 4).min(h));
            let (r2, r2_end) = (y.saturating_sub(2), (y + 3).min(h));
            for_runs(&self.near[y * kw..(y + 1) * kw], w, |x0, x1| {
                let most = &mut self.most[x0..x1];
                let least = &mut self.least[x0..x1];
                let steepest = &mut self.steepest[x0..x1];
                most.copy_from_slice(&self.hi[r3 * w + x0..r3 * w + x1]);
                least.copy_from_slice(&self.lo[r3 * w + x0..r3 * w + x1]);
                for r in r3 + 1..r3_end {
                    let span = r * w + x0..r * w + x1;
                    for ((m, l), (&hv, &lv)) in most
                        .iter_mut()
                        .zip(least.iter_mut())
                        .zip(self.hi[span.clone()].iter().zip(&self.lo[span]))
                    {
                        *m = (*m).max(hv);
                        *l = (*l).min(lv);
                    }
                }
                steepest.copy_from_slice(&self.grad_max[r2 * w + x0..r2 * w + x1]);
                for r in r2 + 1..r2_end {
                    for (g, &v) in steepest
                        .iter_mut()
                        .zip(&self.grad_max[r * w + x0..r * w + x1])
                    {
                        *g = (*g).max(v);
                    }
                }
                // 256x the alpha's 5x5 binomial blur (borders repeated outwards): the
                // vertical pass over the run and 2 pixels either side, then across.
                let (v0, v1) = (x0.saturating_sub(2), (x1 + 2).min(w));
                let row = |d: isize| {
                    let r = (y as isize + d).clamp(0, h as isize - 1) as usize;
                    &alpha[r * w + v0..r * w + v1]
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
                let span = y * w + x0..y * w + x1;
                for ((((((o, &a), &s), &hi), &lo), &g2), kept) in self.alpha[span.clone()]
                    .iter_mut()
                    .zip(&alpha[span.clone()])
                    .zip(sums.iter())
                    .zip(most.iter())
                    .zip(least.iter())
                    .zip(steepest.iter())
                    .zip(self.kept[span.clone()].iter_mut())
                {
                    // The frame's edge width squared, (C / G)^2 with G the Sobel gradient
                    // over 8.
                    let c = (hi - lo) as f32;
                    let width2 = 64.0 * c * c / (g2.max(1) as f32);
                    let missing2 = (width2 - STEP_WIDTH2) * per_sigma2 - own2;
                    let now = missing2.clamp(0.0, 1.0).sqrt();
                    // The frame's sensor noise moves the estimate a little from frame to
                    // frame: the weight rises smoothly (so noise does not make the edge
                    // flicker) and falls at once (an edge that moved onto a sharp one of the
                    // frame is sharp at once).
                    let last = *kept as f32 * (1.0 / 255.0);
                    let smooth = last + (now - last) * WEIGHT_FOLLOWS;
                    *kept = (smooth * 255.0 + 0.5) as u8;
                    let t = now.min(smooth);
                    let (a, blurred) = (a as f32, s as f32 * (1.0 / 256.0));
                    *o = (a + (blurred - a) * t + 0.5) as u8;
                }
            });
        }
    }
}

/// Calls `f(x0, x1)` for the pixels `x0..x1` of each run of set chunks in `row` (a row of
/// `w` pixels).
#[inline(always)]
fn for_runs(row: &[bool], w: usize, mut f: impl FnMut(usize, usize)) {
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
        f(start * CHUNK, (k * CHUNK).min(w));
    }
}

/// `out`: `mask` (`kw x h` chunks) dilated by `across` chunks and `rows` rows either way;
/// `tmp` holds the horizontal pass.
#[inline(always)]
fn dilate(
    mask: &[bool],
    (kw, h): (usize, usize),
    (across, rows): (usize, usize),
    tmp: &mut [bool],
    out: &mut [bool],
) {
    for y in 0..h {
        let (src, dst) = (&mask[y * kw..(y + 1) * kw], &mut tmp[y * kw..(y + 1) * kw]);
        window(src, dst, across, |a, b| a | b);
    }
    for y in 0..h {
        let (a, b) = (y.saturating_sub(rows), (y + rows + 1).min(h));
        let dst = &mut out[y * kw..(y + 1) * kw];
        dst.copy_from_slice(&tmp[a * kw..(a + 1) * kw]);
        for r in a + 1..b {
            for (d, &t) in dst.iter_mut().zip(&tmp[r * kw..(r + 1) * kw]) {
                *d |= t;
            }
        }
    }
}
/// `out[x]` = `f` over `row[x - r..=x + r]` (clipped at the ends).
#[inline(always)]
fn window<T: Copy>(row: &[T], out: &mut [T], r: usize, f: impl Fn(T, T) -> T) {
    let w = row.len();
    let out = &mut out[..w];
    out.copy_from_slice(row);
    for d in 1..=r.min(w.saturating_sub(1)) {
        // out[x] takes row[x + d] and row[x - d].
        for (o, &v) in out[..w - d].iter_mut().zip(&row[d..]) {
            *o = f(*o, v);
        }
        for (o, &v) in out[d..].iter_mut().zip(&row[..w - d]) {
            *o = f(*o, v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::feather::Feather;

    /// The softening by its definition, every pixel, whole windows clipped at the borders.
    fn naive(frame: &[u8], alpha: &[u8], (w, h): (usize, usize), kept: &mut [u8]) -> Vec<u8> {
        let luma = |x: isize, y: isize| {
            let (x, y) = (x.clamp(0, w as isize - 1), y.clamp(0, h as isize - 1));
            frame[2 * (y as usize * w + x as usize)] as i32
        };
        let al = |x: isize, y: isize| {
            let (x, y) = (x.clamp(0, w as isize - 1), y.clamp(0, h as isize - 1));
            alpha[y as usize * w + x as usize] as u32
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
        let k = [1u32, 4, 6, 4, 1];
        let mut out = vec![0; w * h];
        for y in 0..h as isize {
            for x in 0..w as isize {
                let i = y as usize * w + x as usize;
                let mut sum = 0;
                for (dy, ky) in k.iter().enumerate() {
                    for (dx, kx) in k.iter().enumerate() {
                        sum += ky * kx * al(x + dx as isize - 2, y + dy as isize - 2);
                    }
                }
                let a = alpha[i];
                if sum == (a as u32) << 8 {
                    out[i] = a;
                    continue;
                }
                let inside = |v: isize, n: usize| v >= 0 && v < n as isize;
                let (mut hi, mut lo, mut g2) = (0, 255, 0);
                for yy in y - 3..=y + 3 {
                    for xx in x - 3..=x + 3 {
                        if inside(xx, w) && inside(yy, h) {
                            hi = hi.max(luma(xx, yy));
                            lo = lo.min(luma(xx, yy));
                            if (xx - x).abs() <= 2 && (yy - y).abs() <= 2 {
                                g2 = g2.max(sobel2(xx, yy));
                            }
                        }
                    }
                }
                let c = (hi - lo) as f32;
                let width2 = 64.0 * c * c / (g2.max(1) as f32);
                let missing2 =
                    (width2 - STEP_WIDTH2) / std::f32::consts::TAU - OWN_SIGMA * OWN_SIGMA;
                let now = missing2.clamp(0.0, 1.0).sqrt();
                let last = kept[i] as f32 / 255.0;
                let smooth = last + (now - last) * WEIGHT_FOLLOWS;
                kept[i] = (smooth * 255.0 + 0.5) as u8;
                let t = now.min(smooth);
                let blurred = sum as f32 / 256.0;
                out[i] = (a as f32 + (blurred - a as f32) * t + 0.5) as u8;
            }
        }
        out
    }

    /// A YUYV frame whose luma is `luma(x, y)`.
    fn frame(w: usize, h: usize, luma: impl Fn(usize, usize) -> u8) -> Vec<u8> {
        (0..w * h).flat_map(|i| [luma(i % w, i / w), 128]).collect()
    }

    /// A feathered cut-out (the soft edge's input): an ellipse with a noisy patch.
    fn cut_out(w: usize, h: usize) -> Vec<u8> {
        let hard: Vec<u8> = (0..w * h)
            .map(|i| {
                let (x, y) = (
                    (i % w) as f32 / w as f32 - 0.5,
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
        for (w, h) in [(45, 23), (64, 20), (17, 9), (3, 2), (1, 1), (100, 7)] {
            let f = frame(w, h, |x, y| ((x * 37 + y * 11) % 200 + (x / 5) * 3) as u8);
            let alpha = cut_out(w, h);
            let mut soft = SoftEdge::new((w, h));
            let mut kept = vec![0u8; w * h];
            for round in 0..3 {
                soft.make(&f, &alpha);
                let want = naive(&f, &alpha, (w, h), &mut kept);
                for (i, (&got, &want)) in soft.alpha().iter().zip(&want).enumerate() {
                    assert!(
                        (got as i32 - want as i32).abs() <= 1,
                        "{w}x{h} round {round} pixel {i}: {got} vs {want}"
                    );
                }
            }
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
