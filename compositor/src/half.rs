//! Refinement at half resolution for wide frames: the refined alpha of a 1280x720 frame is
//! computed for a 640x360 copy of it and doubled back. The edge still follows the frame (a
//! step of 2 pixels instead of the model's 5), for a quarter of the per-pixel work.
//!
//! [`halve`] makes the half-size YUYV frame (each half pixel the mean of 2x2 pixels, each half
//! pair's chroma the mean of 2x2 pairs); [`Doubler`] turns a half-size alpha plane into the
//! per-YUYV-byte alpha rows of the frame (bilinear, pixel centres aligned).

use crate::alpha::Taps;

/// Whether frames of this size are refined at half resolution: wider than 960 pixels (a
/// 2-pixel step is then finer than a 640-wide frame's 1 pixel), with a width divisible by 4
/// and an even height, so that the half frame has whole pixel pairs.
pub fn wanted((w, h): (usize, usize)) -> bool {
    w > 960 && w % 4 == 0 && h % 2 == 0
}

/// Halves a YUYV frame of `(w, h)` (as [`wanted`] allows) into `out` (`w / 2 * h / 2 * 2`
/// bytes).
#[inline(always)]
pub fn halve(frame: &[u8], (w, h): (usize, usize), out: &mut [u8]) {
    let stride = 2 * w;
    for (r, dst) in out.chunks_exact_mut(w).take(h / 2).enumerate() {
        let top = &frame[2 * r * stride..(2 * r + 1) * stride];
        let bottom = &frame[(2 * r + 1) * stride..(2 * r + 2) * stride];
        for ((q, a), b) in dst
            .chunks_exact_mut(4)
            .zip(top.chunks_exact(8))
            .zip(bottom.chunks_exact(8))
        {
            let a = u64::from_le_bytes(a.try_into().expect("8 bytes"));
            let b = u64::from_le_bytes(b.try_into().expect("8 bytes"));
            q.copy_from_slice(&halve_pairs(a, b).to_le_bytes());
        }
    }
}

/// Two pairs `Y0 U Y1 V Y2 U' Y3 V'` of a row (`a`) and the row below (`b`), as little-endian
/// words, to one half pair: the means of the 2x2 lumas and of the four chromas, rounded. In
/// 16-bit lanes of one word (no lane exceeds 4 * 255 + 2).
fn halve_pairs(a: u64, b: u64) -> u32 {
    const M: u64 = 0x00ff_00ff_00ff_00ff;
    const ROUND: u64 = 0x0002_0002_0002_0002;
    // Lanes: Y0 Y1 Y2 Y3 and U V U' V', each summed over both rows.
    let luma = (a & M) + (b & M);
    let chroma = ((a >> 8) & M) + ((b >> 8) & M);
    // Lane 0: Y0 + Y1, lane 2: Y2 + Y3; lane 0: U + U', lane 1: V + V'.
    let y = (((luma + (luma >> 16)) + ROUND) >> 2) & M;
    let c = (((chroma + (chroma >> 32)) + ROUND) >> 2) & M;
    ((y & 0xff) | ((c & 0xff) << 8) | (((y >> 32) & 0xff) << 16) | (((c >> 16) & 0xff) << 24))
        as u32
}

/// From a half-size alpha plane (one byte per half pixel) to the frame's alpha rows, per YUYV
/// byte (`a0 ac a1 ac`, `ac` the pair's mean).
pub struct Doubler {
    half_width: usize,
    rows: Taps,
    /// The row between two half rows (where a block is not flat), one pixel of margin
    /// either side.
    between: Vec<u8>,
}

impl Doubler {
    /// For frames of `(w, h)` as [`wanted`] allows.
    pub fn new((w, h): (usize, usize)) -> Doubler {
        Doubler {
            half_width: w / 2,
            rows: Taps::new(h / 2, h),
            between: vec![0; w / 2 + 2],
        }
    }

    /// Alpha row `y` of the frame from the half-size plane `half`, per YUYV byte into `out`.
    #[inline(always)]
    pub fn row(&mut self, y: usize, half: &[u8], out: &mut [u8]) {
        let hw = self.half_width;
        let (r0, r1) = (self.rows.i0[y] as usize, self.rows.i1[y] as usize);
        let (wa, wb) = (256 - self.rows.w1[y], self.rows.w1[y]);
        let (a, b) = (&half[r0 * hw..(r0 + 1) * hw], &half[r1 * hw..(r1 + 1) * hw]);
        // Half pixel j covers pixels 2j and 2j+1, whose centres lie a quarter of a half
        // pixel left and right of its own: 3/4 of it and 1/4 of the neighbour on that side
        // (the edge pixel's own value at the frame's border). Most of a row is plainly person
        // or plainly room: a block whose half pixels and both neighbours are one value in
        // both half rows is one fill.
        const BLOCK: usize = 16;
        // `m[j + 1]` is the row between at half pixel j; `m[0]` and `m[hw + 1]` repeat the
        // edge pixels, so that every pixel has a neighbour either side.
        let m = &mut self.between;
        let splat = |v: u8| u128::from_ne_bytes([v; 16]);
        let mut j0 = 0;
        while j0 < hw {
            let j1 = (j0 + BLOCK).min(hw);
            let (lo, hi) = (j0.saturating_sub(1), (j1 + 1).min(hw));
            let v = a[j0];
            let flat = if j1 - j0 == BLOCK {
                let word = |r: &[u8]| u128::from_ne_bytes(r[j0..j1].try_into().expect("16 bytes"));
                word(a) == splat(v)
                    && word(b) == splat(v)
                    && a[lo] == v
                    && b[lo] == v
                    && a[hi - 1] == v
                    && b[hi - 1] == v
            } else {
                a[lo..hi].iter().chain(&b[lo..hi]).all(|&x| x == v)
            };
            let out = &mut out[4 * j0..4 * j1];
            if flat {
                // A whole block as a fixed-size array (inlined vector stores, not a call to
                // `memset` per block); the row's last, shorter one as a slice.
                match <&mut [u8; 4 * BLOCK]>::try_from(&mut *out) {
                    Ok(block) => *block = [v; 4 * BLOCK],
                    Err(_) => out.fill(v),
                }
            } else {
                for ((o, &p), &q) in m[lo + 1..hi + 1].iter_mut().zip(&a[lo..hi]).zip(&b[lo..hi]) {
                    *o = ((p as u16 * wa + q as u16 * wb + 128) >> 8) as u8;
                }
                if j0 == 0 {
                    m[0] = m[1];
                }
                if j1 == hw {
                    m[hw + 1] = m[hw];
                }
                let (left, mid, right) = (&m[j0..j1], &m[j0 + 1..j1 + 1], &m[j0 + 2..j1 + 2]);
                for (q, ((&l, &c), &r)) in
                    out.chunks_exact_mut(4).zip(left.iter().zip(mid).zip(right))
                {
                    let c = 3 * c as u16 + 2;
                    let a0 = (c + l as u16) >> 2;
                    let a1 = (c + r as u16) >> 2;
                    let ac = (a0 + a1 + 1) >> 1;
                    let word = a0 as u32 | (ac as u32) << 8 | (a1 as u32) << 16 | (ac as u32) << 24;
                    q.copy_from_slice(&word.to_le_bytes());
                }
            }
            j0 = j1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn halving_averages_two_by_two_pixels_and_pairs() {
        // 8x2 pixels: four pairs per row.
        let top = [
            10u8, 100, 20, 200, 30, 110, 40, 210, 0, 0, 0, 0, 255, 255, 255, 255,
        ];
        let bottom = [
            14u8, 104, 24, 204, 34, 114, 44, 214, 0, 0, 0, 0, 255, 255, 255, 255,
        ];
        let frame: Vec<u8> = top.iter().chain(&bottom).copied().collect();
        let mut out = vec![0u8; 8];
        halve(&frame, (8, 2), &mut out);
        // Y0' = mean(10, 20, 14, 24) = 17; U' = mean(100, 110, 104, 114) = 107;
        // Y1' = mean(30, 40, 34, 44) = 37; V' = mean(200, 210, 204, 214) = 207.
        assert_eq!(&out[..4], &[17, 107, 37, 207]);
        assert_eq!(&out[4..], &[0, 128, 255, 128]);
    }

    /// Row `y` of the doubled plane by the definition: the two half rows blended by the
    /// row's taps, then each pixel 3/4 of its half pixel and 1/4 of the neighbour on its
    /// side (the edge's own value at the border), the chroma bytes the pair's mean.
    fn doubled_row(half: &[u8], (w, h): (usize, usize), y: usize) -> Vec<u8> {
        let hw = w / 2;
        let taps = Taps::new(h / 2, h);
        let (r0, r1, wb) = (taps.i0[y] as usize, taps.i1[y] as usize, taps.w1[y]);
        let m: Vec<u16> = (0..hw)
            .map(|j| {
                (half[r0 * hw + j] as u16 * (256 - wb) + half[r1 * hw + j] as u16 * wb + 128) >> 8
            })
            .collect();
        let mut out = Vec::new();
        for j in 0..hw {
            let (l, r) = (m[j.saturating_sub(1)], m[(j + 1).min(hw - 1)]);
            let a0 = (3 * m[j] + 2 + l) >> 2;
            let a1 = (3 * m[j] + 2 + r) >> 2;
            let ac = (a0 + a1 + 1) >> 1;
            out.extend([a0, ac, a1, ac].map(|v| v as u8));
        }
        out
    }

    #[test]
    fn doubling_follows_its_definition_on_plain_and_mixed_blocks() {
        // Half widths with whole blocks, a short last block, and a single short one.
        for (w, h) in [(64, 8), (72, 10), (20, 6), (160, 12)] {
            let mut d = Doubler::new((w, h));
            let mut random = crate::test_bytes::random_bytes((w * 7 + h) as u32);
            for plane in 0..64 {
                // Runs of plain room, plain person and one mixed value, their ends placed
                // anew on each half row, with other values here and there: blocks plain in
                // both half rows, in one, and with a neighbour of another value on either
                // side.
                let hw = w / 2;
                let shift: Vec<(usize, usize)> = (0..h / 2)
                    .map(|_| (random() as usize % 23, random() as usize % 3))
                    .collect();
                let half: Vec<u8> = (0..hw * h / 2)
                    .map(|k| {
                        let (at, value) = shift[k / hw];
                        match (random() % 32, ((k % hw + at) / 23 + value) % 3) {
                            (0, _) => random(),
                            (_, 0) => 0,
                            (_, 1) => 255,
                            _ => 90,
                        }
                    })
                    .collect();
                let mut out = vec![0u8; 2 * w];
                for y in 0..h {
                    d.row(y, &half, &mut out);
                    assert_eq!(
                        out,
                        doubled_row(&half, (w, h), y),
                        "{w}x{h} plane {plane} row {y}"
                    );
                }
            }
        }
    }

    #[test]
    fn doubling_keeps_constants_and_interpolates_a_step() {
        let (w, h) = (16, 4);
        let mut d = Doubler::new((w, h));
        let mut out = vec![0u8; 2 * w];
        for v in [0u8, 90, 255] {
            let half = vec![v; w / 2 * h / 2];
            for y in 0..h {
                d.row(y, &half, &mut out);
                assert!(out.iter().all(|&a| a == v), "{v}: {out:?}");
            }
        }
        // A vertical step between half pixels 3 and 4: pixels 0..6 are 0, 7 is 1/4 up, 8 is
        // 3/4 up, 9.. are 255.
        let half: Vec<u8> = (0..w / 2 * h / 2)
            .map(|k| if k % (w / 2) >= 4 { 255 } else { 0 })
            .collect();
        d.row(1, &half, &mut out);
        let luma: Vec<u8> = out.chunks_exact(4).flat_map(|q| [q[0], q[2]]).collect();
        assert_eq!(&luma[..7], &[0; 7]);
        assert_eq!(luma[7], 64);
        assert_eq!(luma[8], 191);
        assert!(luma[9..].iter().all(|&a| a == 255), "{luma:?}");
    }
}
