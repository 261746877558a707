//! Where the first fit has work: the cells whose window holds more than one mask value.
//!
//! Most of a mask is plain room (0) or plain person (1) over whole windows. There the fit is
//! known without any sums: the mask does not vary, so it has no covariance with the colour,
//! and the coefficients are `[0, 0, 0, p]`, the cell plainly room or person. Only the cells
//! near the outline need their windows' 13 sums and the 3x3 solve. They are found per cell
//! row as one span, from the first to the last cell whose window may not be plain (one span,
//! not several: a row's loops over a span are whole vectors, and starting them again for
//! each of several short spans cost more than the cells between them).

/// The spans of one mask's rows, for windows of `(2rx + 1) x (2ry + 1)` cells.
pub struct Busy {
    size: (usize, usize),
    radius: (usize, usize),
    /// Per cell row: the span from the first to the last cell that differs from its right
    /// or lower neighbour or is neither 0 nor 1, widened by `rx` (`(0, 0)`: none). A window
    /// that is not plain holds two neighbours of different values or a value neither 0 nor
    /// 1, the first of which (left or upper) is in the window: so a window that reaches no
    /// marked span is plain.
    marked: Vec<(usize, usize)>,
    /// Per cell row: the cells whose fit is solved (the marked spans within `ry` rows).
    solve: Vec<(usize, usize)>,
    /// Per cell row: the cells whose sums along the row are needed (the solved spans within
    /// `ry` rows: each row of a solved cell's window).
    sums: Vec<(usize, usize)>,
    /// One row: nonzero where a cell differs from a neighbour or is neither 0 nor 1 (whole
    /// words of 8).
    differs: Vec<u8>,
}

/// The span covering both (an empty span is `(0, 0)`).
#[inline(always)]
pub fn join(a: (usize, usize), b: (usize, usize)) -> (usize, usize) {
    match (a.0 < a.1, b.0 < b.1) {
        (false, _) => b,
        (_, false) => a,
        _ => (a.0.min(b.0), a.1.max(b.1)),
    }
}

impl Busy {
    /// For masks of `size` cells and windows of `radius` (across, down).
    pub fn new(size: (usize, usize), radius: (usize, usize)) -> Busy {
        let h = size.1;
        Busy {
            size,
            radius,
            marked: vec![(0, 0); h],
            solve: vec![(0, 0); h],
            sums: vec![(0, 0); h],
            differs: vec![0; size.0.next_multiple_of(8)],
        }
    }

    /// Finds the spans of mask `p` (0..1, this size).
    #[inline(always)]
    pub fn mark(&mut self, p: &[f32]) {
        let ((w, h), (rx, ry)) = (self.size, self.radius);
        for y in 0..h {
            let row = &p[y * w..(y + 1) * w];
            let below = if y + 1 < h {
                &p[(y + 1) * w..(y + 2) * w]
            } else {
                row
            };
            let differs = &mut self.differs[..w];
            for ((d, &v), &b) in differs.iter_mut().zip(row).zip(below) {
                *d = ((v != b) | ((v != 0.0) & (v != 1.0))) as u8;
            }
            for (d, (&v, &r)) in differs.iter_mut().zip(row.iter().zip(&row[1..])) {
                *d |= (v != r) as u8;
            }
            // The first and last nonzero, a word of 8 at a time.
            let word = |c: &[u8]| u64::from_le_bytes(c.try_into().expect("8 bytes"));
            let words = self.differs.chunks_exact(8);
            let first = words.clone().enumerate().find_map(|(i, c)| {
                let b = word(c);
                (b != 0).then(|| i * 8 + b.trailing_zeros() as usize / 8)
            });
            self.marked[y] = match first {
                None => (0, 0),
                Some(first) => {
                    let n = words.len();
                    let last = words
                        .rev()
                        .enumerate()
                        .find_map(|(i, c)| {
                            let b = word(c);
                            (b != 0).then(|| (n - 1 - i) * 8 + 7 - b.leading_zeros() as usize / 8)
                        })
                        .expect("a first one");
                    (first.saturating_sub(rx), (last + rx + 1).min(w))
                }
            };
        }
        spread_down(&self.marked, &mut self.solve, ry);
        spread_down(&self.solve, &mut self.sums, ry);
    }

    /// The cells of row `y` whose fit is solved, `first..end` (empty: none).
    pub fn solve_span(&self, y: usize) -> (usize, usize) {
        self.solve[y]
    }

    /// The cells of row `y` whose sums along the row are needed (see [`Busy::solve_span`]).
    pub fn sum_span(&self, y: usize) -> (usize, usize) {
        self.sums[y]
    }
}

/// `to[y]` spans `from[y - r] ..= from[y + r]` (clipped).
pub fn spread_down(from: &[(usize, usize)], to: &mut [(usize, usize)], r: usize) {
    let h = from.len();
    for (y, t) in to.iter_mut().enumerate() {
        *t = from[y.saturating_sub(r)..=(y + r).min(h - 1)]
            .iter()
            .fold((0, 0), |s, &f| join(s, f));
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// Brute force: whether the window of cell `(x, y)` holds more than one value or a
    /// value neither 0 nor 1.
    fn window_busy(
        p: &[f32],
        (w, h): (usize, usize),
        (rx, ry): (usize, usize),
        (x, y): (usize, usize),
    ) -> bool {
        let first = p[y.saturating_sub(ry) * w + x.saturating_sub(rx)];
        (y.saturating_sub(ry)..=(y + ry).min(h - 1)).any(|yy| {
            (x.saturating_sub(rx)..=(x + rx).min(w - 1)).any(|xx| {
                let v = p[yy * w + xx];
                v != first || (v != 0.0 && v != 1.0)
            })
        })
    }

    /// `w x h` cells: a blob of person, a soft cell, lone cells at the borders; with `band`,
    /// the rows from `h / 2` on plain person across the whole width (their top edge only
    /// differs down).
    pub fn blobs((w, h): (usize, usize), band: bool) -> Vec<f32> {
        let mut p = vec![0.0f32; w * h];
        for y in h / 4..h / 2 {
            for x in w * 3 / 8..w / 2 {
                p[y * w + x] = 1.0;
            }
        }
        if band {
            p[h / 2 * w..].fill(1.0);
        }
        p[0] = 1.0;
        p[w * h - 1] = 1.0;
        p[h * 3 / 4 * w + w * 4 / 5] = 0.4;
        p[(h - 1) * w + 2] = 1.0;
        p
    }

    #[test]
    fn every_window_that_is_not_plain_is_solved_and_its_rows_summed() {
        // Several radii, with and without a band that differs only down.
        let (w, h) = (37, 21);
        for (r, band) in [(1, 1), (2, 2), (3, 2), (2, 3), (9, 1)]
            .into_iter()
            .flat_map(|r| [(r, false), (r, true)])
        {
            let p = blobs((w, h), band);
            let mut busy = Busy::new((w, h), r);
            busy.mark(&p);
            let mut skipped = 0;
            for y in 0..h {
                let (a, b) = busy.solve_span(y);
                for x in 0..w {
                    if window_busy(&p, (w, h), r, (x, y)) {
                        assert!((a..b).contains(&x), "r {r:?} {band}: ({x}, {y}) not solved");
                        // Every row of its window has its sums there.
                        for yy in y.saturating_sub(r.1)..=(y + r.1).min(h - 1) {
                            let (a, b) = busy.sum_span(yy);
                            assert!(
                                (a..b).contains(&x),
                                "r {r:?}: row {yy} at {x} for ({x}, {y})"
                            );
                        }
                    } else if !(a..b).contains(&x) {
                        skipped += 1;
                    }
                }
            }
            // It does skip: most of this mask is plain.
            assert!(skipped > w * h / 4, "r {r:?} {band}: {skipped} skipped");
        }
    }

    #[test]
    fn a_plain_mask_has_no_work_and_a_soft_one_all() {
        let (w, h) = (20, 6);
        for plain in [0.0, 1.0] {
            let mut busy = Busy::new((w, h), (2, 2));
            busy.mark(&vec![plain; w * h]);
            for y in 0..h {
                let (a, b) = busy.sum_span(y);
                assert!(a >= b, "{plain}: row {y}");
            }
        }
        let mut busy = Busy::new((w, h), (2, 2));
        busy.mark(&vec![0.5; w * h]);
        for y in 0..h {
            assert_eq!(busy.solve_span(y), (0, w));
        }
    }
}
