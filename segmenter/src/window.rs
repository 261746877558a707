//! The mean of each cell's 3x3 neighbourhood (clipped at the borders: divided by the cells
//! that exist), computed separably so that the loops vectorise: sums of three along each row,
//! then of three rows. The temporal filter and the plate both need it.

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
}
