//! The mean of each cell's 3x3 neighbourhood (clipped at the borders: divided by the cells
//! that exist), computed separably so that the loops vectorise: sums of three along each row,
//! then of three rows. The temporal filter and the plate both need it. The plate also takes
//! the least of that mean and the means of the cell's four half neighbourhoods (the 2x3 and
//! 3x2 blocks that hold the cell and its row or column, on each side).

/// Scratch for the means of a `width` x `height` plane of cells.
pub struct Mean3x3 {
    width: usize,
    height: usize,
    /// Each cell summed with its left and right neighbours.
    rows: Vec<f32>,
    /// One row of means.
    means: Vec<f32>,
    /// 1 / the cells in each column's 3-wide window (2 at the borders).
    inv_cols: Vec<f32>,
    /// For [`Mean3x3::least_means`]: one row of three-row column sums.
    columns: Vec<f32>,
}

impl Mean3x3 {
    /// For planes of `width` x `height` cells.
    pub fn new(width: usize, height: usize) -> Mean3x3 {
        Mean3x3 {
            width,
            height,
            rows: vec![0.0; width * height],
            means: vec![0.0; width],
            inv_cols: (0..width)
                .map(|x| 1.0 / ((x + 2).min(width) - x.saturating_sub(1)) as f32)
                .collect(),
            columns: vec![0.0; width],
        }
    }

    /// Takes `src` (`width` x `height`): each cell summed with its left and right neighbours,
    /// for [`Mean3x3::means`].
    #[inline(always)]
    pub fn sum_rows(&mut self, src: &[f32]) {
        let w = self.width;
        if w == 0 {
            return;
        }
        for (sums, row) in self.rows.chunks_exact_mut(w).zip(src.chunks_exact(w)) {
            sums.copy_from_slice(row);
            for (s, &c) in sums[1..].iter_mut().zip(&row[..w - 1]) {
                *s += c;
            }
            for (s, &c) in sums[..w - 1].iter_mut().zip(&row[1..]) {
                *s += c;
            }
        }
    }

    /// The 3x3 means of row `y`'s cells of the plane last given to [`Mean3x3::sum_rows`].
    /// (The callers loop over the rows themselves: a closure called per row was compiled
    /// apart, without the AVX2 of the loop around it.)
    #[inline(always)]
    pub fn means(&mut self, y: usize) -> &[f32] {
        let (w, h) = (self.width, self.height);
        let (top, bottom) = (y.saturating_sub(1), (y + 2).min(h));
        let inv_rows = 1.0 / (bottom - top) as f32;
        let means = &mut self.means[..w];
        means.copy_from_slice(&self.rows[top * w..][..w]);
        for yy in top + 1..bottom {
            for (s, &r) in means.iter_mut().zip(&self.rows[yy * w..][..w]) {
                *s += r;
            }
        }
        for (s, &inv_col) in means.iter_mut().zip(&self.inv_cols) {
            *s = *s * inv_col * inv_rows;
        }
        means
    }

    /// Per cell of row `y`: the least of its 3x3 mean ([`Mean3x3::means`]) and the means of
    /// its four half neighbourhoods (the cell's column and the one to its left, or to its
    /// right, over three rows; the cell's row and the one above, or below, over three
    /// columns; all clipped at the borders). `src` is the plane last given to
    /// [`Mean3x3::sum_rows`]. A cell on the edge of a region of low values (the room learnt,
    /// beside the person) gets that region's mean.
    #[inline(always)]
    pub fn least_means(&mut self, src: &[f32], y: usize) -> &[f32] {
        let (w, h) = (self.width, self.height);
        self.means(y);
        let (top, bottom) = (y.saturating_sub(1), (y + 2).min(h));
        // Left and right: three-row column sums, two columns at a time.
        let columns = &mut self.columns[..w];
        columns.copy_from_slice(&src[top * w..][..w]);
        for yy in top + 1..bottom {
            for (s, &c) in columns.iter_mut().zip(&src[yy * w..][..w]) {
                *s += c;
            }
        }
        let inv_rows = 1.0 / (bottom - top) as f32;
        let means = &mut self.means[..w];
        // Each column with the one to its left (the first alone), then to its right (the
        // last alone): zipped slices, so that it vectorises.
        let (first, last) = (columns[0], columns[w - 1]);
        means[0] = means[0].min(first * inv_rows);
        means[w - 1] = means[w - 1].min(last * inv_rows);
        let (before, after) = (&columns[..w - 1], &columns[1..]);
        let inv_pairs = 0.5 * inv_rows;
        for ((m, &a), &b) in means[1..].iter_mut().zip(before).zip(after) {
            *m = m.min((a + b) * inv_pairs);
        }
        for ((m, &a), &b) in means[..w - 1].iter_mut().zip(before).zip(after) {
            *m = m.min((a + b) * inv_pairs);
        }
        // Above and below: the rows' three-column sums, two rows at a time (at the top and
        // bottom borders, the cell's row alone).
        let (row, inv_cols) = (&self.rows[y * w..][..w], &self.inv_cols[..w]);
        for other in [y.checked_sub(1), (y + 1 < h).then_some(y + 1)] {
            match other {
                Some(o) => {
                    let other = &self.rows[o * w..][..w];
                    for (((m, &r), &o), &inv_col) in
                        means.iter_mut().zip(row).zip(other).zip(inv_cols)
                    {
                        *m = m.min((r + o) * inv_col * 0.5);
                    }
                }
                None => {
                    for ((m, &r), &inv_col) in means.iter_mut().zip(row).zip(inv_cols) {
                        *m = m.min(r * inv_col);
                    }
                }
            }
        }
        means
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn means_of_the_clipped_neighbourhoods() {
        for (w, h) in [(1, 1), (1, 4), (5, 1), (6, 5)] {
            let src: Vec<f32> = (0..w * h).map(|i| (i * 7 % 11) as f32).collect();
            let mut got = vec![0.0f32; w * h];
            let mut window = Mean3x3::new(w, h);
            window.sum_rows(&src);
            for y in 0..h {
                got[y * w..][..w].copy_from_slice(window.means(y));
            }
            for y in 0..h {
                for x in 0..w {
                    let (mut sum, mut n) = (0.0, 0.0);
                    for yy in y.saturating_sub(1)..(y + 2).min(h) {
                        for xx in x.saturating_sub(1)..(x + 2).min(w) {
                            sum += src[yy * w + xx];
                            n += 1.0;
                        }
                    }
                    let want = sum / n;
                    assert!((got[y * w + x] - want).abs() < 1e-4, "{w}x{h} ({x},{y})");
                }
            }
        }
    }

    #[test]
    fn least_of_the_mean_and_the_half_neighbourhoods() {
        // The mean of src over the cells of columns xa..=xb and rows ya..=yb (clipped).
        let block = |src: &[f32],
                     w: usize,
                     h: usize,
                     (xa, xb): (isize, isize),
                     (ya, yb): (isize, isize)| {
            let (mut sum, mut n) = (0.0, 0.0);
            for yy in ya.max(0)..=yb.min(h as isize - 1) {
                for xx in xa.max(0)..=xb.min(w as isize - 1) {
                    sum += src[yy as usize * w + xx as usize];
                    n += 1.0;
                }
            }
            sum / n
        };
        for (w, h) in [(1, 1), (1, 4), (5, 1), (6, 5), (9, 7)] {
            let src: Vec<f32> = (0..w * h).map(|i| (i * 7 % 11) as f32).collect();
            let mut window = Mean3x3::new(w, h);
            window.sum_rows(&src);
            for y in 0..h {
                for (x, &got) in window.least_means(&src, y).iter().enumerate() {
                    let (xi, yi) = (x as isize, y as isize);
                    let want = [
                        block(&src, w, h, (xi - 1, xi + 1), (yi - 1, yi + 1)),
                        block(&src, w, h, (xi - 1, xi), (yi - 1, yi + 1)),
                        block(&src, w, h, (xi, xi + 1), (yi - 1, yi + 1)),
                        block(&src, w, h, (xi - 1, xi + 1), (yi - 1, yi)),
                        block(&src, w, h, (xi - 1, xi + 1), (yi, yi + 1)),
                    ]
                    .into_iter()
                    .fold(f32::INFINITY, f32::min);
                    assert!((got - want).abs() < 1e-4, "{w}x{h} ({x},{y}): {got} {want}");
                }
            }
        }
        // A cell at the edge of a low region takes that region's mean.
        let src = [0.0, 0.0, 0.0, 9.0, 9.0, 9.0];
        let mut window = Mean3x3::new(6, 1);
        window.sum_rows(&src);
        assert_eq!(window.least_means(&src, 0)[2], 0.0);
        assert_eq!(window.means(0)[2], 3.0);
    }
}
