//! The refined edge's feather. The refinement puts the edge where the frame's colours divide,
//! but steeply (`refine::LOW`/`HIGH`), about a pixel wide; a camera's edges are softer (optics,
//! focus, hair, motion), so the cut-out looked cut with scissors and scored worse against the
//! true mattes than a slightly softer edge. The alpha is blurred with a 3x3 binomial kernel at
//! the refinement's working resolution (a Gaussian of about 0.7 pixels there; 1.4 pixels of a
//! frame that is refined at half size), then stretched, `(b - LIFT) / (TOP - LIFT)`: the
//! blur's outer fringe (a quarter of the edge's alpha one pixel out) shows less of the room
//! (a sixth), the fit's faint tails beyond it none, and the pixels just inside the outline,
//! which the fit and the blur leave a little short of the person, all of the person. Plain
//! person and plain room stay exactly 255 and 0.
//!
//! Measured through the pipeline on the 13 sequences (docs/QUALITY.md, 2026-12-04 23:06): the
//! edge-band error lower on 11 of 13, the leak on all 13; 10 targets missed against 13. The
//! top (2026-12-07): a pixel inside the true outline the alpha was 0.04-0.11 under the truth
//! on all six still sequences measured (`--dump`); with `TOP` the edge-band error fell on 16
//! of the 23 studied sequences of docs/QUALITY.md (by up to a fifth; it rose by up to a tenth
//! on 7), IoU rose on 21, and the leak stayed within 0.01 points of where it was (the lift
//! went from 0.1 to 0.13 with it, which keeps the blurred alpha that shows a tenth of the
//! room about where it was).

/// The share of alpha taken off after the blur (of 1): a blurred alpha under it is room.
pub const LIFT: f32 = 0.13;

/// The blurred alpha at and over which a pixel is all person (of 1).
pub const TOP: f32 = 0.85;

/// `s / 16` (a blurred alpha, 0..255, times 16) stretched: `(s / 16 - 255 LIFT) / (TOP -
/// LIFT)`, as `(s * MUL - OFF) >> 16`.
const MUL: i32 = (65536.0 / (16.0 * (TOP - LIFT)) + 0.5) as i32;
const OFF: i32 = (255.0 * LIFT / (TOP - LIFT) * 65536.0 - 32768.0 + 0.5) as i32;

/// The feathered alpha of frames of one size.
pub struct Feather {
    size: (usize, usize),
    /// One row of the vertical pass: `above + 2 * row + below`.
    column: Vec<u16>,
    alpha: Vec<u8>,
}

impl Feather {
    /// For alpha planes of `(w, h)`.
    pub fn new((w, h): (usize, usize)) -> Feather {
        Feather {
            size: (w, h),
            column: vec![0; w],
            alpha: vec![0; w * h],
        }
    }

    /// Feathers `alpha` (0..255 per pixel, this size; the borders repeat outwards).
    #[inline(always)]
    pub fn make(&mut self, alpha: &[u8]) {
        let (w, h) = self.size;
        let alpha = &alpha[..w * h];
        let column = &mut self.column[..w];
        for y in 0..h {
            let row = |y: usize| &alpha[y * w..(y + 1) * w];
            let (above, here, below) = (row(y.saturating_sub(1)), row(y), row((y + 1).min(h - 1)));
            for (((c, &a), &b), &d) in column.iter_mut().zip(above).zip(here).zip(below) {
                *c = a as u16 + 2 * b as u16 + d as u16;
            }
            let out = &mut self.alpha[y * w..(y + 1) * w];
            let lift = |s: u16| ((s as i32 * MUL - OFF) >> 16).clamp(0, 255) as u8;
            if w >= 3 {
                let interior = &mut out[1..w - 1];
                let (left, mid, right) = (&column[..w - 2], &column[1..w - 1], &column[2..]);
                for (((o, &l), &m), &r) in interior.iter_mut().zip(left).zip(mid).zip(right) {
                    *o = lift(l + 2 * m + r);
                }
            }
            for x in [0, w - 1] {
                let (l, r) = (column[x.saturating_sub(1)], column[(x + 1).min(w - 1)]);
                out[x] = lift(l + 2 * column[x] + r);
            }
        }
    }

    /// The feathered alpha of the last [`Feather::make`] (unless [`Feather::plane`] was traded
    /// since: then it is the buffer traded in, until the next `make`).
    pub fn alpha(&self) -> &[u8] {
        &self.alpha
    }

    /// The feathered alpha's buffer, for [`crate::soft_edge::SoftEdge::make_from`] to take
    /// over: it gives back one of the same size (then [`Feather::alpha`] is not this frame's
    /// until the next [`Feather::make`], which overwrites it whole).
    pub fn plane(&mut self) -> &mut Vec<u8> {
        &mut self.alpha
    }
}

/// One row of per-pixel alpha as alpha per YUYV byte (`a0 ac a1 ac`, `ac` the pair's mean for
/// the shared chroma).
#[inline(always)]
pub fn per_byte(px: &[u8], out: &mut [u8]) {
    for (q, pair) in out[..2 * px.len()]
        .chunks_exact_mut(4)
        .zip(px.chunks_exact(2))
    {
        let ac = ((pair[0] as u16 + pair[1] as u16 + 1) >> 1) as u8;
        q.copy_from_slice(&[pair[0], ac, pair[1], ac]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The feather by its definition, in f64.
    fn naive(alpha: &[u8], (w, h): (usize, usize)) -> Vec<u8> {
        let k = [1.0, 2.0, 1.0];
        let mut out = vec![0; w * h];
        for y in 0..h {
            for x in 0..w {
                let mut s = 0.0f64;
                for (dy, ky) in k.iter().enumerate() {
                    for (dx, kx) in k.iter().enumerate() {
                        let yy = (y + dy).saturating_sub(1).min(h - 1);
                        let xx = (x + dx).saturating_sub(1).min(w - 1);
                        s += ky * kx * alpha[yy * w + xx] as f64;
                    }
                }
                let b = s / 16.0 / 255.0;
                let lifted = ((b - LIFT as f64) / (TOP as f64 - LIFT as f64)).clamp(0.0, 1.0);
                out[y * w + x] = (lifted * 255.0).round() as u8;
            }
        }
        out
    }

    #[test]
    fn the_feather_matches_its_definition() {
        for (w, h) in [(9, 7), (2, 2), (1, 1), (16, 3), (3, 1)] {
            let alpha: Vec<u8> = (0..w * h).map(|i| (i * 97 % 256) as u8).collect();
            let mut f = Feather::new((w, h));
            f.make(&alpha);
            for (i, (&got, &want)) in f.alpha().iter().zip(&naive(&alpha, (w, h))).enumerate() {
                assert!(
                    (got as i32 - want as i32).abs() <= 1,
                    "{w}x{h} pixel {i}: {got} vs {want}"
                );
            }
        }
    }

    #[test]
    fn plain_person_and_room_stay_plain_and_the_fringe_outside_is_cut() {
        // A hard vertical edge: room (0) left of column 4, person (255) from it.
        let (w, h) = (8, 3);
        let alpha: Vec<u8> = (0..w * h)
            .map(|i| if i % w >= 4 { 255 } else { 0 })
            .collect();
        let mut f = Feather::new((w, h));
        f.make(&alpha);
        let row = &f.alpha()[w..2 * w];
        assert_eq!(&row[..3], &[0, 0, 0], "the room stays room: {row:?}");
        assert_eq!(
            &row[5..],
            &[255, 255, 255],
            "the person stays person: {row:?}"
        );
        // The blur's fringe one pixel out (a quarter) is lowered to a sixth; the edge pixel
        // (three quarters) is raised to 0.86.
        let sixth = 255.0f64 / 6.0;
        assert!((row[3] as f64 - sixth).abs() <= 1.0, "{row:?}");
        assert!((row[4] as f64 - 0.86 * 255.0).abs() <= 1.0, "{row:?}");
    }
}
