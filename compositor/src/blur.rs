//! The blurred room as background (`background.blur`), made from each camera frame at half the
//! mask's resolution (cells of 2x2 mask cells: 10 pixels at 720p with the landscape model; a
//! blur is at least that wide).
//!
//! Halo-free: the blur is a normalised convolution that leaves the person out. Each cell's
//! weight is 1 minus the person's alpha in the 3x3 cells around it (so cells the person's edge
//! crosses count for nothing), and the blurred colour is `blur(weight * colour) / blur(weight)`:
//! behind the person and next to them it is made from the room nearby only, so the person's
//! colours never bleed into it. The blur is three box passes (close to a Gaussian), then
//! bilinear upsampling to the frame, block by block as the blend asks for it
//! ([`Blur::row_of`]): only where the room shows, never under a block the person covers whole,
//! and never written out whole.
//!
//! Where no room is in reach (deep inside the person, or a gap narrower than two cells that the
//! person encloses), a cell keeps its own colour: behind the person that is covered; in a small
//! gap it is blurred less.
//!
//! It needs the mask: without a usable one the compositor shows `background.fallback`, never
//! the frame, blurred or not.

use crate::alpha::Taps;
use crate::blend::BLOCK;
use crate::refine::box_mean;

/// The blurred background for frames of one size from cells of one size.
pub struct Blur {
    /// The mask's size.
    mask: (usize, usize),
    /// The blur's cells: half the mask's size.
    cells: (usize, usize),
    /// The frame's colour and the person's alpha at the blur's cells.
    yuv: [Vec<f32>; 3],
    alpha: Vec<u8>,
    frame: (usize, usize),
    /// Box radii in cells (three passes), across and down: the same radius in pixels both
    /// ways, on cells that need not be square (the landscape model on a 4:3 or square frame).
    radius: (usize, usize),
    weight: Vec<f32>,
    num: [Vec<f32>; 3],
    den: Vec<f32>,
    tmp: [Vec<f32>; 2],
    /// The blurred colour per cell, 0..255.
    small: [Vec<u8>; 3],
    rows: Taps,
    /// The 3x3 maximum's first pass (along rows).
    most: Vec<u8>,
    /// The pixels between each two cells, for lumas (per pixel) and chromas (per pair).
    luma_runs: Runs,
    pair_runs: Runs,
    /// One cell row widened: Y per pixel, U and V per pair.
    lines: [Vec<u8>; 3],
    /// Cell rows widened to the frame's width, already as YUYV.
    widened: Vec<u8>,
    /// Use the AVX2 build of [`Blur::make`] ([`crate::simd`]).
    wide: bool,
}

impl Blur {
    /// `strength`: `background.blur`, the blur radius in pixels of a 720-line frame (scaled to
    /// the frame's height).
    /// `mask`: the mask's size (the colour and alpha `make` gets come at it).
    pub fn new(strength: f32, mask: (usize, usize), frame: (usize, usize)) -> Blur {
        let cells = (mask.0.div_ceil(2), mask.1.div_ceil(2));
        let (cw, ch) = cells;
        let (w, h) = frame;
        let n = cw * ch;
        let sigma_px = strength * h as f32 / 720.0;
        // Three box passes of radius r have a standard deviation of about r (r >= 1).
        let cells_for = |pixels: usize, cells: usize| {
            ((sigma_px * cells as f32 / pixels as f32).round() as usize).max(1)
        };
        let radius = (cells_for(w, cw), cells_for(h, ch));
        Blur {
            mask,
            cells,
            yuv: std::array::from_fn(|_| vec![0.0; n]),
            alpha: vec![0; n],
            frame,
            radius,
            weight: vec![0.0; n],
            num: std::array::from_fn(|_| vec![0.0; n]),
            den: vec![0.0; n],
            tmp: std::array::from_fn(|_| vec![0.0; n]),
            small: std::array::from_fn(|_| vec![0; n]),
            most: vec![0; n],
            luma_runs: Runs::new(&Taps::new(cw, w)),
            pair_runs: Runs::new(&Taps::new(cw, w / 2)),
            lines: [w, w / 2, w / 2].map(|n| vec![0; n]),
            rows: Taps::new(ch, h),
            widened: vec![0; ch * w * 2],
            wide: crate::simd::wide(),
        }
    }

    /// Three box passes of `plane` in place.
    #[inline(always)]
    fn blur3(&mut self, which: Plane) {
        let (size, r) = (self.cells, self.radius);
        let [a, b] = &mut self.tmp;
        let plane = match which {
            Plane::Num(c) => &mut self.num[c],
            Plane::Den => &mut self.den,
        };
        for _ in 0..3 {
            box_mean(plane, size, r, a, b);
            // The result becomes the plane (the buffers trade places; nothing is copied).
            std::mem::swap(plane, a);
        }
    }

    /// Makes the blurred room from the frame's colour per mask cell (`yuv`: Y, U, V in 0..1)
    /// and the person's alpha per mask cell (`alpha`, 0..255); [`Blur::row_of`] then gives its
    /// rows at the frame's size.
    pub fn make(&mut self, yuv: [&[f32]; 3], alpha: &[u8]) {
        #[cfg(target_arch = "x86_64")]
        if self.wide {
            // SAFETY: `wide` is set only where the CPU has AVX2 and FMA (`simd::wide`).
            return unsafe { self.make_wide(yuv, alpha) };
        }
        self.make_body(yuv, alpha)
    }

    /// The same blur on the baseline build ([`crate::simd`]).
    pub fn narrow(mut self) -> Blur {
        self.wide = false;
        self
    }

    /// [`Blur::make`] compiled for AVX2 and FMA ([`crate::simd`]).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn make_wide(&mut self, yuv: [&[f32]; 3], alpha: &[u8]) {
        self.make_body(yuv, alpha)
    }

    #[inline(always)]
    fn make_body(&mut self, yuv: [&[f32]; 3], alpha: &[u8]) {
        let (mw, mh) = self.mask;
        let (cw, ch) = self.cells;
        // Halve: the mean colour and the largest alpha of each 2x2 mask cells (pairs of
        // cells in whole pairs, so the loops vectorise; an odd last cell with itself).
        let whole = (mw / 2).min(cw);
        for y in 0..ch {
            let (y0, y1) = (2 * y, (2 * y + 1).min(mh - 1));
            for (half, full) in self.yuv.iter_mut().zip(yuv) {
                let (top, bottom) = (&full[y0 * mw..][..mw], &full[y1 * mw..][..mw]);
                let half = &mut half[y * cw..][..cw];
                let pairs = top.chunks_exact(2).zip(bottom.chunks_exact(2));
                for (h, (t, b)) in half[..whole].iter_mut().zip(pairs) {
                    *h = (t[0] + t[1] + b[0] + b[1]) * 0.25;
                }
                for (x, h) in half.iter_mut().enumerate().skip(whole) {
                    let (x0, x1) = (2 * x, (2 * x + 1).min(mw - 1));
                    *h = (top[x0] + top[x1] + bottom[x0] + bottom[x1]) * 0.25;
                }
            }
            let (top, bottom) = (&alpha[y0 * mw..][..mw], &alpha[y1 * mw..][..mw]);
            let half = &mut self.alpha[y * cw..][..cw];
            let pairs = top.chunks_exact(2).zip(bottom.chunks_exact(2));
            for (a, (t, b)) in half[..whole].iter_mut().zip(pairs) {
                *a = t[0].max(t[1]).max(b[0]).max(b[1]);
            }
            for (x, a) in half.iter_mut().enumerate().skip(whole) {
                let (x0, x1) = (2 * x, (2 * x + 1).min(mw - 1));
                *a = top[x0].max(top[x1]).max(bottom[x0]).max(bottom[x1]);
            }
        }
        // Weight: the room, minus anything within a cell of the person (a 3x3 maximum of the
        // alpha: along each row into `most`, then down). Along the row, the interior from
        // three shifted slices, the two ends on their own.
        for (row, out) in self
            .alpha
            .chunks_exact(cw)
            .zip(self.most.chunks_exact_mut(cw))
        {
            if cw > 2 {
                let n = cw - 2;
                let (l, m, r) = (&row[..n], &row[1..n + 1], &row[2..n + 2]);
                for (i, o) in out[1..n + 1].iter_mut().enumerate() {
                    *o = l[i].max(m[i]).max(r[i]);
                }
            }
            for x in [0, cw - 1] {
                out[x] = row[x.saturating_sub(1)]
                    .max(row[x])
                    .max(row[(x + 1).min(cw - 1)]);
            }
        }
        for y in 0..ch {
            let (a, b) = (y.saturating_sub(1), (y + 1).min(ch - 1));
            let most = &self.most;
            let (above, here, below) = (
                &most[a * cw..][..cw],
                &most[y * cw..][..cw],
                &most[b * cw..][..cw],
            );
            for (((w, &a), &h), &b) in self.weight[y * cw..][..cw]
                .iter_mut()
                .zip(above)
                .zip(here)
                .zip(below)
            {
                *w = 1.0 - a.max(h).max(b) as f32 / 255.0;
            }
        }
        for c in 0..3 {
            for (n, (&v, &w)) in self.num[c]
                .iter_mut()
                .zip(self.yuv[c].iter().zip(&self.weight))
            {
                *n = v * w;
            }
        }
        self.den.copy_from_slice(&self.weight);
        for c in 0..3 {
            self.blur3(Plane::Num(c));
        }
        self.blur3(Plane::Den);
        for c in 0..3 {
            let (num, den, own) = (&self.num[c], &self.den, &self.yuv[c]);
            for (((s, &n), &d), &own) in self.small[c].iter_mut().zip(num).zip(den).zip(own) {
                // No room anywhere in reach (deep inside a person wider than the blur): the
                // cell's own colour, which the person covers anyway. (Divided either way, so
                // that the loop has no branch and vectorises.)
                let blurred = n / d;
                let v = if d > 1e-3 { blurred } else { own };
                *s = crate::simd::to_u8(v * 255.0 + 0.5);
            }
        }
        self.widen();
    }

    /// Bilinear upsampling of the blurred cells, horizontally: each cell row widened once,
    /// straight into YUYV. [`BlurredRow::part`] blends two of them per output row.
    ///
    /// Lumas and chromas interpolate between neighbouring cells; a pixel pair's chroma is
    /// taken at the pair's centre. The pixels between two cells form a run ([`Runs`]), made
    /// with the two cells' values held (no per-pixel gathers), then interleaved.
    #[inline(always)]
    fn widen(&mut self) {
        let (cw, ch) = self.cells;
        let w = self.frame.0;
        let [ly, lu, lv] = &mut self.lines;
        for r in 0..ch {
            let at = r * cw..(r + 1) * cw;
            self.luma_runs.fill(&self.small[0][at.clone()], ly);
            self.pair_runs.fill(&self.small[1][at.clone()], lu);
            self.pair_runs.fill(&self.small[2][at], lv);
            let row = &mut self.widened[r * w * 2..(r + 1) * w * 2];
            let pixels = row.chunks_exact_mut(4).zip(ly.chunks_exact(2));
            for ((q, y), (&u, &v)) in pixels.zip(lu.iter().zip(lv.iter())) {
                q.copy_from_slice(&[y[0], u, y[1], v]);
            }
        }
    }

    /// Row `y` of the blurred room last made, YUYV of the frame's width, into `out`.
    pub fn row(&self, y: usize, out: &mut [u8]) {
        let stride = self.frame.0 * 2;
        self.row_of(y).part(0..stride, &mut out[..stride]);
    }

    /// Row `y` of the blurred room last made, to be made in parts ([`BlurredRow::part`]).
    #[inline(always)]
    pub fn row_of(&self, y: usize) -> BlurredRow<'_> {
        let stride = self.frame.0 * 2;
        let (r0, r1) = (self.rows.i0[y] as usize, self.rows.i1[y] as usize);
        let wb = self.rows.w1[y];
        BlurredRow {
            a: &self.widened[r0 * stride..(r0 + 1) * stride],
            b: &self.widened[r1 * stride..(r1 + 1) * stride],
            wa: 256 - wb,
            wb,
        }
    }

    /// The whole blurred room last made (YUYV of the frame size): for pictures and tests.
    pub fn picture(&self) -> Vec<u8> {
        let (w, h) = self.frame;
        let mut out = vec![0; w * h * 2];
        for (y, row) in out.chunks_exact_mut(w * 2).enumerate() {
            self.row(y, row);
        }
        out
    }
}

/// A row of the blurred room: a blend of two widened cell rows.
pub struct BlurredRow<'a> {
    a: &'a [u8],
    b: &'a [u8],
    wa: u16,
    wb: u16,
}

impl BlurredRow<'_> {
    /// Bytes `at` of the row (YUYV) into `out` (vectorises; the blend's whole block as a
    /// fixed-size array).
    #[inline(always)]
    pub fn part(&self, at: std::ops::Range<usize>, out: &mut [u8]) {
        let (a, b, wa, wb) = (&self.a[at.clone()], &self.b[at], self.wa, self.wb);
        // (The formula written out twice: a closure may be compiled apart, without AVX2.)
        match (
            <&[u8; BLOCK]>::try_from(a),
            <&[u8; BLOCK]>::try_from(b),
            <&mut [u8; BLOCK]>::try_from(&mut *out),
        ) {
            (Ok(a), Ok(b), Ok(out)) => {
                for i in 0..BLOCK {
                    out[i] = ((a[i] as u16 * wa + b[i] as u16 * wb + 128) >> 8) as u8;
                }
            }
            _ => {
                for ((o, &x0), &x1) in out.iter_mut().zip(a).zip(b) {
                    *o = ((x0 as u16 * wa + x1 as u16 * wb + 128) >> 8) as u8;
                }
            }
        }
    }
}

/// Linear interpolation between cells along a line, without a gather per position: the
/// positions between the same two cells form a run (taps are monotonic); each run's two cell
/// values are spread over it [`Runs::PAD`] at a time (a fixed-size store; a block running past
/// its run is overwritten by the next run, or falls in the spare end), then one pass over the
/// line blends them (it vectorises).
struct Runs {
    /// Per run: first position, end, the two cells.
    runs: Vec<(usize, usize, usize, usize)>,
    /// The second cell's weight per position (0..=256).
    w1: Vec<u16>,
    /// The two cells' values per position, with `PAD` to spare.
    a: Vec<u8>,
    b: Vec<u8>,
}

impl Runs {
    const PAD: usize = 16;

    fn new(taps: &Taps) -> Runs {
        let mut runs: Vec<(usize, usize, usize, usize)> = Vec::new();
        for (x, (&i0, &i1)) in taps.i0.iter().zip(&taps.i1).enumerate() {
            let (i0, i1) = (i0 as usize, i1 as usize);
            match runs.last_mut() {
                Some(run) if (run.2, run.3) == (i0, i1) => run.1 = x + 1,
                _ => runs.push((x, x + 1, i0, i1)),
            }
        }
        let n = taps.w1.len();
        Runs {
            runs,
            w1: taps.w1.clone(),
            a: vec![0; n + Self::PAD],
            b: vec![0; n + Self::PAD],
        }
    }

    /// The line from `cells` into `out`: `(a * (256 - w1) + b * w1 + 128) >> 8` per
    /// position, `a` and `b` its two cells.
    #[inline(always)]
    fn fill(&mut self, cells: &[u8], out: &mut [u8]) {
        const PAD: usize = Runs::PAD;
        for &(start, end, i0, i1) in &self.runs {
            let (a, b) = (cells[i0], cells[i1]);
            let mut x = start;
            while x < end {
                let to: &mut [u8; PAD] = (&mut self.a[x..x + PAD]).try_into().expect("PAD");
                *to = [a; PAD];
                let to: &mut [u8; PAD] = (&mut self.b[x..x + PAD]).try_into().expect("PAD");
                *to = [b; PAD];
                x += PAD;
            }
        }
        let n = self.w1.len();
        let (av, bv, w1) = (&self.a[..n], &self.b[..n], &self.w1[..n]);
        for (((o, &a), &b), &wb) in out[..n].iter_mut().zip(av).zip(bv).zip(w1) {
            *o = ((a as u16 * (256 - wb) + b as u16 * wb + 128) >> 8) as u8;
        }
    }
}

#[derive(Clone, Copy)]
enum Plane {
    Num(usize),
    Den,
}

/// For tests: a blur of 12 over 20x6 cells of random colour (from `random`) for frames of
/// 200x12 (a row: six whole 64-byte blocks and a shorter last one), the person plainly over the
/// first `person` cell columns.
#[cfg(test)]
pub(crate) fn test_blur(random: &mut impl FnMut() -> u8, person: usize) -> Blur {
    let (mw, mh) = (20usize, 6usize);
    let yuv: [Vec<f32>; 3] =
        std::array::from_fn(|_| (0..mw * mh).map(|_| random() as f32 / 255.0).collect());
    let alpha: Vec<u8> = (0..mw * mh)
        .map(|k| if k % mw < person { 255 } else { 0 })
        .collect();
    let mut blur = Blur::new(12.0, (mw, mh), (200, 12));
    blur.make([&yuv[0], &yuv[1], &yuv[2]], &alpha);
    blur
}

#[cfg(test)]
mod tests {
    use super::*;

    fn planes(w: usize, h: usize, colour: impl Fn(usize, usize) -> [f32; 3]) -> [Vec<f32>; 3] {
        std::array::from_fn(|c| {
            (0..w * h)
                .map(|k| colour(k % w, k / w)[c])
                .collect::<Vec<f32>>()
        })
    }

    #[test]
    fn halving_and_weights_follow_their_definition_on_odd_and_even_masks() {
        for (mw, mh) in [(8, 6), (7, 5), (9, 3), (2, 2), (1, 1), (3, 4)] {
            let mut random = crate::test_bytes::random_bytes((mw * 31 + mh) as u32);
            let yuv: [Vec<f32>; 3] =
                std::array::from_fn(|_| (0..mw * mh).map(|_| random() as f32 / 255.0).collect());
            let alpha: Vec<u8> = (0..mw * mh).map(|_| random()).collect();
            for mut blur in [
                Blur::new(12.0, (mw, mh), (32, 18)),
                Blur::new(12.0, (mw, mh), (32, 18)).narrow(),
            ] {
                blur.make([&yuv[0], &yuv[1], &yuv[2]], &alpha);
                let (cw, ch) = blur.cells;
                let cell = |x: usize, y: usize| {
                    let (x0, x1, y0, y1) = (
                        2 * x,
                        (2 * x + 1).min(mw - 1),
                        2 * y,
                        (2 * y + 1).min(mh - 1),
                    );
                    [(x0, y0), (x1, y0), (x0, y1), (x1, y1)].map(|(x, y)| y * mw + x)
                };
                for y in 0..ch {
                    for x in 0..cw {
                        let [a, b, c, d] = cell(x, y);
                        for (full, half) in yuv.iter().zip(&blur.yuv) {
                            let want = (full[a] + full[b] + full[c] + full[d]) * 0.25;
                            assert_eq!(half[y * cw + x], want, "{mw}x{mh} {x},{y}");
                        }
                        assert_eq!(
                            blur.alpha[y * cw + x],
                            alpha[a].max(alpha[b]).max(alpha[c]).max(alpha[d])
                        );
                    }
                }
                for y in 0..ch {
                    for x in 0..cw {
                        let mut most = 0u8;
                        for yy in y.saturating_sub(1)..=(y + 1).min(ch - 1) {
                            for xx in x.saturating_sub(1)..=(x + 1).min(cw - 1) {
                                most = most.max(blur.alpha[yy * cw + xx]);
                            }
                        }
                        let want = 1.0 - most as f32 / 255.0;
                        assert_eq!(blur.weight[y * cw + x], want, "{mw}x{mh} {x},{y}");
                    }
                }
            }
        }
    }

    #[test]
    fn a_row_and_its_parts_are_the_blend_of_two_widened_rows() {
        let (w, h) = (200usize, 12usize);
        let blur = test_blur(&mut crate::test_bytes::random_bytes(5), 6);
        let stride = 2 * w;
        for y in 0..h {
            let (r0, r1) = (blur.rows.i0[y] as usize, blur.rows.i1[y] as usize);
            let wb = blur.rows.w1[y] as u32;
            let want: Vec<u8> = (0..stride)
                .map(|i| {
                    let (a, b) = (blur.widened[r0 * stride + i], blur.widened[r1 * stride + i]);
                    ((a as u32 * (256 - wb) + b as u32 * wb + 128) >> 8) as u8
                })
                .collect();
            let mut whole = vec![0u8; stride];
            blur.row(y, &mut whole);
            assert_eq!(whole, want, "row {y}");
            // The blend's blocks (the last one short), and a range of neither kind.
            let row = blur.row_of(y);
            for at in (0..stride)
                .step_by(BLOCK)
                .map(|s| s..(s + BLOCK).min(stride))
                .chain(std::iter::once(5..42))
            {
                let mut part = vec![0u8; at.len()];
                row.part(at.clone(), &mut part);
                assert_eq!(part, want[at.clone()], "row {y} bytes {at:?}");
            }
        }
    }

    #[test]
    fn a_plain_room_stays_plain_and_the_person_never_bleeds_in() {
        // Cells: the room is one colour; a person of another colour covers columns 10..20.
        let (cw, ch) = (32, 18);
        let room = [0.6f32, 0.4, 0.55];
        let person = [0.2f32, 0.7, 0.3];
        let inside = |x: usize| (10..20).contains(&x);
        let yuv = planes(cw, ch, |x, _| if inside(x) { person } else { room });
        let alpha: Vec<u8> = (0..cw * ch)
            .map(|k| if inside(k % cw) { 255 } else { 0 })
            .collect();
        let (w, h) = (320, 180);
        let mut blur = Blur::new(20.0, (cw, ch), (w, h));
        blur.make([&yuv[0], &yuv[1], &yuv[2]], &alpha);
        let out = blur.picture();
        // Everywhere around the person, right up to their edge (pixel 100 and 200): the room's
        // colour, none of the person's. (Behind the person, which covers it, the blur is made
        // from the room nearby where there is some in reach.)
        let want = room.map(|v| (v * 255.0 + 0.5) as u8);
        for (i, q) in out.chunks_exact(4).enumerate() {
            let x = (i * 2) % w;
            if (100..200).contains(&x) {
                continue;
            }
            assert_eq!(
                [q[0], q[1], q[2], q[3]],
                [want[0], want[1], want[0], want[2]],
                "x {x}"
            );
        }
    }

    #[test]
    fn runs_interpolate_as_the_taps_do_at_every_position() {
        // Against the taps' formula per position, for cells and lines of many sizes: wider,
        // narrower, equal, runs longer than a block, a line of one cell.
        let mut seed = 7u32;
        let mut next = move || {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (seed >> 24) as u8
        };
        for (cells, line) in [
            (128, 1280),
            (128, 640),
            (72, 720),
            (128, 1920),
            (5, 99),
            (1, 17),
            (300, 200),
            (64, 64),
            (3, 100),
            (4, 6),
            (1, 1),
            (20, 3),
        ] {
            let taps = Taps::new(cells, line);
            let mut runs = Runs::new(&taps);
            let values: Vec<u8> = (0..cells).map(|_| next()).collect();
            let mut out = vec![0u8; line];
            runs.fill(&values, &mut out);
            for x in 0..line {
                let (a, b, wb) = (
                    values[taps.i0[x] as usize] as u16,
                    values[taps.i1[x] as usize] as u16,
                    taps.w1[x],
                );
                let want = ((a * (256 - wb) + b * wb + 128) >> 8) as u8;
                assert_eq!(out[x], want, "{cells} cells to {line}, position {x}");
            }
        }
    }

    #[test]
    fn a_room_edge_is_blurred() {
        // Left half dark, right half bright, no person: a smooth ramp across the middle.
        let (cw, ch) = (32, 18);
        let yuv = planes(cw, ch, |x, _| {
            if x < 16 {
                [0.2, 0.5, 0.5]
            } else {
                [0.8, 0.5, 0.5]
            }
        });
        let alpha = vec![0u8; cw * ch];
        let (w, h) = (320, 180);
        let mut blur = Blur::new(20.0, (cw, ch), (w, h));
        blur.make([&yuv[0], &yuv[1], &yuv[2]], &alpha);
        let out = blur.picture();
        let row = &out[90 * w * 2..91 * w * 2];
        let luma: Vec<u8> = row.chunks_exact(2).map(|p| p[0]).collect();
        assert!(luma.windows(2).all(|p| p[0] <= p[1]), "monotonic");
        assert!(
            luma[160] > 60 && luma[160] < 200,
            "mid-grey at the edge: {}",
            luma[160]
        );
        assert_eq!(luma[0], (0.2f32 * 255.0 + 0.5) as u8);
        assert_eq!(luma[319], (0.8f32 * 255.0 + 0.5) as u8);
    }

    #[test]
    fn the_blur_is_as_wide_across_as_down_on_cells_that_are_not_square() {
        // A square frame with the landscape model's cells: the blur's cells (2x2 mask cells)
        // 10 pixels wide and 17.8 tall. A dark to bright edge down the middle, then across
        // it: the ramp (a quarter to three quarters of the way) is about as many pixels wide as
        // tall. One radius in cells for both would make it about half as wide.
        let (mw, mh) = (64, 36);
        let (w, h) = (320, 320);
        let ramp = |luma: &[u8]| {
            let (lo, hi) = (luma[0] as f32, luma[luma.len() - 1] as f32);
            let at = |share: f32| {
                luma.iter()
                    .position(|&v| v as f32 >= lo + share * (hi - lo))
                    .unwrap()
            };
            at(0.75) - at(0.25)
        };
        let blurred = |dark: &dyn Fn(usize, usize) -> bool| {
            let yuv = planes(mw, mh, |x, y| {
                if dark(x, y) {
                    [0.2, 0.5, 0.5]
                } else {
                    [0.8, 0.5, 0.5]
                }
            });
            let mut blur = Blur::new(50.0, (mw, mh), (w, h));
            blur.make([&yuv[0], &yuv[1], &yuv[2]], &vec![0; mw * mh]);
            blur.picture()
        };
        let across = blurred(&|x, _| x < mw / 2);
        let row: Vec<u8> = (0..w).map(|x| across[(160 * w + x) * 2]).collect();
        let down = blurred(&|_, y| y < mh / 2);
        let column: Vec<u8> = (0..h).map(|y| down[(y * w + 160) * 2]).collect();
        let (wide, tall) = (ramp(&row) as f32, ramp(&column) as f32);
        assert!(
            (0.75..=1.35).contains(&(wide / tall)),
            "ramp {wide} pixels across, {tall} down"
        );
    }
}
