//! Drops islands: parts of the mask that count as person but are not joined to the largest
//! part and are much smaller than it (a cushion, a blanket, a poster the model mistook for a
//! person).
//!
//! [`Islands::drop_shown`] counts them twice: first among the cells the picture shows at half or
//! more (the threshold), so that a blanket joined to the shoulder only by a faint neck the model
//! is unsure of is an island of its own; then among all the cells it shows (the soft threshold's
//! lower end): faint islands (the faint rim of an island gone in the first count stays where it
//! touches the neck).

/// The labelling's buffers, kept from mask to mask (the segmenter runs it on every one).
///
/// The regions are labelled run by run, not cell by cell: each row's runs of cells at or above
/// the threshold, joined (union-find) to the runs of the row above that they touch. A mask has a
/// few runs per row (about 600 in a 256x144 mask against 37k cells), so this costs a tenth of a
/// flood fill over the cells, with the same regions.
#[derive(Default)]
pub struct Islands {
    /// Runs, row after row: `(row, first cell, one past the last)`.
    runs: Vec<(u32, u32, u32)>,
    /// The index of each row's first run in `runs` (and one past the last row's).
    rows: Vec<usize>,
    /// Union-find parent of each run.
    parent: Vec<u32>,
    /// Cells per region, at the region's root run.
    sizes: Vec<usize>,
    /// [`Islands::label`]: each run's region (its root run).
    roots: Vec<u32>,
}

impl Islands {
    /// Labels 4-connected regions of `mask >= low` and lowers every region smaller than
    /// `share` of the largest to 0 (all its cells). `width` x `height` cells.
    pub fn drop(&mut self, mask: &mut [u8], width: usize, height: usize, low: u8, share: f32) {
        debug_assert_eq!(mask.len(), width * height);
        self.find_runs(mask, width, height, low);
        if self.runs.is_empty() {
            return;
        }
        self.join_rows();
        // Cells per region.
        let Islands {
            runs,
            parent,
            sizes,
            ..
        } = self;
        sizes.clear();
        sizes.resize(runs.len(), 0);
        for (i, &(_, a, b)) in runs.iter().enumerate() {
            let root = find(parent, i as u32) as usize;
            sizes[root] += (b - a) as usize;
        }
        let largest = sizes.iter().copied().max().unwrap_or(0);
        let keep_from = (largest as f32 * share).ceil() as usize;
        for (i, &(y, a, b)) in runs.iter().enumerate() {
            let root = find(parent, i as u32) as usize;
            if sizes[root] < keep_from {
                let row = y as usize * width;
                mask[row + a as usize..row + b as usize].fill(0);
            }
        }
    }

    /// [`Islands::drop`] among the cells at or above `core` (shown at half or more), then among
    /// those at or above `low` (shown at all; `low <= core`).
    pub fn drop_shown(
        &mut self,
        mask: &mut [u8],
        (width, height): (usize, usize),
        (low, core): (u8, u8),
        share: f32,
    ) {
        if core > low {
            self.drop(mask, width, height, core, share);
        }
        self.drop(mask, width, height, low, share);
    }

    /// Labels the 4-connected regions of `mask >= low` (`width` x `height` cells) and returns
    /// the runs, `(row, first cell, one past the last)` row after row, with each run's region:
    /// the index of one of its runs, the same for every run of the region.
    pub(crate) fn label(
        &mut self,
        mask: &[u8],
        (width, height): (usize, usize),
        low: u8,
    ) -> (&[(u32, u32, u32)], &[u32]) {
        self.find_runs(mask, width, height, low);
        self.roots.clear();
        if !self.runs.is_empty() {
            self.join_rows();
            for i in 0..self.runs.len() as u32 {
                let root = find(&mut self.parent, i);
                self.roots.push(root);
            }
        }
        (&self.runs, &self.roots)
    }

    /// Each row's runs of cells at or above `low`.
    fn find_runs(&mut self, mask: &[u8], width: usize, height: usize, low: u8) {
        self.runs.clear();
        self.rows.clear();
        for (y, row) in mask.chunks_exact(width).take(height).enumerate() {
            self.rows.push(self.runs.len());
            let mut x = 0;
            while x < width {
                // Skip the room, then take the person, 16 cells at a time where they are
                // all one or the other.
                x = skip(row, x, |m| m < low);
                if x == width {
                    break;
                }
                let end = skip(row, x, |m| m >= low);
                self.runs.push((y as u32, x as u32, end as u32));
                x = end;
            }
        }
        self.rows.push(self.runs.len());
    }

    /// Joins each run to the runs of the row above that share a column with it.
    fn join_rows(&mut self) {
        let Islands {
            runs, rows, parent, ..
        } = self;
        parent.clear();
        parent.extend(0..runs.len() as u32);
        for y in 1..rows.len() - 1 {
            let (above, here) = (rows[y - 1]..rows[y], rows[y]..rows[y + 1]);
            // Both rows' runs are in order: walk them together.
            let mut j = above.start;
            for i in here {
                let (_, a, b) = runs[i];
                while j < above.end && runs[j].2 <= a {
                    j += 1;
                }
                let mut k = j;
                while k < above.end && runs[k].1 < b {
                    union(parent, i as u32, k as u32);
                    k += 1;
                }
            }
        }
    }
}

/// The first cell from `x` on for which `keep_going` is false (or the row's length).
#[inline]
fn skip(row: &[u8], mut x: usize, keep_going: impl Fn(u8) -> bool) -> usize {
    const BLOCK: usize = 16;
    while x + BLOCK <= row.len() && row[x..x + BLOCK].iter().all(|&m| keep_going(m)) {
        x += BLOCK;
    }
    while x < row.len() && keep_going(row[x]) {
        x += 1;
    }
    x
}

/// The root of `i`'s set, halving the path on the way.
fn find(parent: &mut [u32], mut i: u32) -> u32 {
    while parent[i as usize] != i {
        let up = parent[parent[i as usize] as usize];
        parent[i as usize] = up;
        i = up;
    }
    i
}

/// Joins the sets of `a` and `b` (the smaller index becomes the root).
fn union(parent: &mut [u32], a: u32, b: u32) {
    let (ra, rb) = (find(parent, a), find(parent, b));
    if ra != rb {
        let (lo, hi) = (ra.min(rb), ra.max(rb));
        parent[hi as usize] = lo;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_islands_go_and_the_person_and_large_parts_stay() {
        // 8x4: a big region on the left (8 cells), an island of 1 on the right, one of 4.
        #[rustfmt::skip]
        let mut mask = vec![
            255, 255, 0, 0, 0, 0, 200, 200,
            255, 255, 0, 0, 0, 0, 200, 200,
            255, 255, 0, 0, 0, 0,   0,   0,
            255, 255, 0, 0, 90, 0,  0,   0,
        ];
        let mut islands = Islands::default();
        islands.drop(&mut mask, 8, 4, 128, 0.6);
        assert_eq!(mask[0], 255, "the largest stays");
        assert_eq!(mask[6], 0, "4 cells < 60 % of 8: gone");
        assert_eq!(mask[28], 90, "below the threshold: not a region, untouched");
        let mut mask2 = vec![255, 0, 255, 255];
        islands.drop(&mut mask2, 4, 1, 128, 0.4);
        assert_eq!(mask2, [255, 0, 255, 255], "1 cell >= 40 % of 2: stays");
    }

    #[test]
    fn a_part_joined_only_through_faint_cells_is_an_island() {
        // 10x3: the person (left, 15 cells), a blanket (right, 3 cells) joined to it by a neck
        // the model gives 0.5 (shown, under the threshold of 0.6).
        #[rustfmt::skip]
        let person_and_blanket = |neck: u8| vec![
            255, 255, 255, 255, 255, neck, neck, 255, 0, 0,
            255, 255, 255, 255, 255,    0,    0, 255, 0, 0,
            255, 255, 255, 255, 255,    0,    0, 255, 0, 0,
        ];
        let (low, core) = (114, 153);
        let mut islands = Islands::default();
        let mut mask = person_and_blanket(128);
        islands.drop_shown(&mut mask, (10, 3), (low, core), 0.3);
        assert_eq!([mask[7], mask[17], mask[27]], [0; 3], "the blanket goes");
        assert_eq!(&mask[..5], &[255; 5], "the person stays");
        assert_eq!(mask[5], 128, "the neck stays with the person");
        // Joined at the threshold or above: one part, kept whole.
        let mut mask = person_and_blanket(160);
        islands.drop_shown(&mut mask, (10, 3), (low, core), 0.3);
        assert_eq!(mask, person_and_blanket(160));
        // Counted among the cells shown at all only (the islands as they were): kept.
        let mut mask = person_and_blanket(128);
        islands.drop_shown(&mut mask, (10, 3), (low, low), 0.3);
        assert_eq!(mask, person_and_blanket(128));
        // A faint island on its own (under the threshold: no part in the first count) goes in
        // the second.
        let mut mask = person_and_blanket(128);
        mask[29] = 128;
        islands.drop_shown(&mut mask, (10, 3), (low, core), 0.3);
        assert_eq!(mask[29], 0, "the faint island goes");
        assert_eq!(mask[5], 128, "the neck stays with the person");
    }

    /// The definition: 4-connected regions by flood fill, cell by cell.
    fn drop_by_flood_fill(mask: &mut [u8], width: usize, low: u8, share: f32) {
        let n = mask.len();
        let height = n / width;
        let mut label = vec![usize::MAX; n];
        let mut sizes = Vec::new();
        for start in 0..n {
            if mask[start] < low || label[start] != usize::MAX {
                continue;
            }
            let id = sizes.len();
            let (mut size, mut stack) = (0, vec![start]);
            label[start] = id;
            while let Some(k) = stack.pop() {
                size += 1;
                let (x, y) = (k % width, k / width);
                let mut next = vec![];
                if x > 0 {
                    next.push(k - 1);
                }
                if x + 1 < width {
                    next.push(k + 1);
                }
                if y > 0 {
                    next.push(k - width);
                }
                if y + 1 < height {
                    next.push(k + width);
                }
                for j in next {
                    if mask[j] >= low && label[j] == usize::MAX {
                        label[j] = id;
                        stack.push(j);
                    }
                }
            }
            sizes.push(size);
        }
        let Some(&largest) = sizes.iter().max() else {
            return;
        };
        let keep_from = (largest as f32 * share).ceil() as usize;
        for (m, &l) in mask.iter_mut().zip(&label) {
            if l != usize::MAX && sizes[l] < keep_from {
                *m = 0;
            }
        }
    }

    #[test]
    fn the_runs_drop_what_a_flood_fill_drops() {
        // Random blobs (U shapes, spirals and diagonals arise), of every density, on masks
        // of odd sizes, including ones narrower than a block of 16 and single rows/columns;
        // one Islands reused throughout (its buffers must not carry anything over).
        let mut islands = Islands::default();
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut rand = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut dropped_some = 0;
        for case in 0..400 {
            let width = 1 + (rand() % 70) as usize;
            let height = 1 + (rand() % 40) as usize;
            let density = rand() % 100;
            // Blobs: a random field smoothed by taking the max of a cell and a neighbour.
            let mut mask: Vec<u8> = (0..width * height)
                .map(|_| {
                    if rand() % 100 < density {
                        200
                    } else {
                        (rand() % 120) as u8
                    }
                })
                .collect();
            if case % 2 == 0 {
                for i in (1..mask.len()).rev() {
                    mask[i] = mask[i].max(mask[i - 1]);
                }
            }
            let share = [0.1, 0.5, 0.9, 1.0][case % 4];
            let low = [128, 100, 60][case % 3];
            let mut want = mask.clone();
            drop_by_flood_fill(&mut want, width, low, share);
            let mut got = mask.clone();
            islands.drop(&mut got, width, height, low, share);
            assert_eq!(
                got, want,
                "case {case}: {width}x{height}, density {density}"
            );
            dropped_some += (want != mask) as usize;
        }
        assert!(
            dropped_some > 100,
            "only {dropped_some} cases dropped anything"
        );
    }

    #[test]
    fn a_u_shape_is_one_region_joined_below() {
        // Two arms joined only by the bottom row: the right arm's runs meet the left arm's
        // set late (a union of two roots found earlier); with a share of 1 nothing goes.
        #[rustfmt::skip]
        let base = vec![
            200, 0, 0, 200,
            200, 0, 0, 200,
            200, 0, 0, 200,
            200, 200, 200, 200,
            0, 0, 0, 0,
            0, 200, 0, 0,
        ];
        let mut mask = base.clone();
        Islands::default().drop(&mut mask, 4, 6, 128, 1.0);
        let mut want = base.clone();
        want[21] = 0;
        assert_eq!(mask, want, "the U stays whole, the lone cell goes");
    }
}
