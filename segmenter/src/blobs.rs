//! Drops islands: parts of the mask that count as person but are not joined to the largest
//! part and are much smaller than it (a cushion, a blanket, a poster the model mistook for a
//! person).

/// The labelling's buffers, kept from mask to mask (the segmenter runs it on every one).
#[derive(Default)]
pub struct Islands {
    label: Vec<u32>,
    sizes: Vec<usize>,
    stack: Vec<usize>,
}

impl Islands {
    /// Labels 4-connected regions of `mask >= low` and lowers every region smaller than
    /// `share` of the largest to 0 (all its cells). `width` x `height` cells.
    pub fn drop(&mut self, mask: &mut [u8], width: usize, height: usize, low: u8, share: f32) {
        let n = width * height;
        self.label.clear();
        self.label.resize(n, u32::MAX);
        self.sizes.clear();
        let Islands {
            label,
            sizes,
            stack,
        } = self;
        drop_islands(mask, width, low, share, label, sizes, stack);
    }
}

fn drop_islands(
    mask: &mut [u8],
    width: usize,
    low: u8,
    share: f32,
    label: &mut [u32],
    sizes: &mut Vec<usize>,
    stack: &mut Vec<usize>,
) {
    let n = label.len();
    let height = n / width;
    for start in 0..n {
        if mask[start] < low || label[start] != u32::MAX {
            continue;
        }
        let id = sizes.len() as u32;
        let mut size = 0;
        label[start] = id;
        stack.push(start);
        while let Some(k) = stack.pop() {
            size += 1;
            let (x, y) = (k % width, k / width);
            let mut visit = |j: usize| {
                if mask[j] >= low && label[j] == u32::MAX {
                    label[j] = id;
                    stack.push(j);
                }
            };
            if x > 0 {
                visit(k - 1);
            }
            if x + 1 < width {
                visit(k + 1);
            }
            if y > 0 {
                visit(k - width);
            }
            if y + 1 < height {
                visit(k + width);
            }
        }
        sizes.push(size);
    }
    let Some(&largest) = sizes.iter().max() else {
        return;
    };
    let keep_from = (largest as f32 * share).ceil() as usize;
    for (m, &l) in mask.iter_mut().zip(label.iter()) {
        if l != u32::MAX && sizes[l as usize] < keep_from {
            *m = 0;
        }
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
}
