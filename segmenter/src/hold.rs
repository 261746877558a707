//! Islands held: a part of the mask dropped as an island ([`crate::blobs`]) stays dropped for
//! the next [`HOLD`] masks (half a second at 30 fps) wherever the model is not sure of it
//! (under [`SURE`]), even when the model joins it to the person again.
//!
//! The model often calls a blanket or a cushion beside the shoulder person at 0.5-0.9 and joins
//! it to the person in some frames, not in others. Dropped in one frame and kept in the next,
//! the room there flickered in and out of the picture: on a still clip with such a blanket
//! (`franck-living-static-1280x720` in docs/QUALITY.md) the room showed in 1.0-1.8 % of the
//! background on a fifth of the frames, 0.5 % on the rest.
//!
//! A part the model is sure of again comes back whole, at once: where three quarters or more
//! of a region's held cells are at [`SURE`] or above (an arm that the model lost for a few frames
//! and found again), its hold ends. After a gap longer than `compositor.max_mask_age_ms`
//! nothing is held.

use crate::blobs::Islands;

/// Masks for which a dropped cell stays held (the mask that dropped it not counted).
pub const HOLD: u8 = 15;
/// Mask value (0..255) from which the model is sure of a cell: 0.9. A held cell at or above it
/// is kept (unless the islands drop it again).
pub const SURE: u8 = 230;

/// Per cell, masks left on hold; and the scratch of one mask.
#[derive(Default)]
pub struct Hold {
    left: Vec<u8>,
    /// Some cell is held.
    any: bool,
    /// The mask before the islands were dropped.
    before: Vec<u8>,
    /// Per region (at its root run): held cells, and held cells at [`SURE`] or above.
    held: Vec<u32>,
    sure: Vec<u32>,
    last_ns: Option<u64>,
}

impl Hold {
    /// Forgets every hold (the islands were turned off).
    pub fn clear(&mut self) {
        self.left.fill(0);
        self.any = false;
    }

    /// Before the islands are dropped from `mask` (`size` cells; `low`: the mask value from
    /// which a cell shows the person; `timestamp_ns`: the frame's capture time, `gap_ns`: a
    /// longer time since the last mask forgets every hold): lowers the held cells under
    /// [`SURE`] to 0, except in the regions (of `mask >= low`) where three quarters or more of
    /// the held cells are at [`SURE`] or above, whose hold ends. `labels` is the islands' labelling,
    /// used as scratch.
    pub fn lower(
        &mut self,
        labels: &mut Islands,
        mask: &mut [u8],
        size: (usize, usize),
        low: u8,
        (timestamp_ns, gap_ns): (u64, u64),
    ) {
        let gap = self
            .last_ns
            .is_some_and(|last| timestamp_ns.saturating_sub(last) > gap_ns);
        self.last_ns = Some(timestamp_ns);
        if self.left.len() != mask.len() {
            self.left = vec![0; mask.len()];
            self.any = false;
        }
        if gap {
            self.clear();
        }
        if self.any {
            self.lower_held(labels, mask, size, low);
        }
        self.before.clear();
        self.before.extend_from_slice(mask);
    }

    fn lower_held(&mut self, labels: &mut Islands, mask: &mut [u8], size: (usize, usize), low: u8) {
        let width = size.0;
        let (runs, roots) = labels.label(mask, size, low);
        let Hold {
            left, held, sure, ..
        } = self;
        held.clear();
        held.resize(runs.len(), 0);
        sure.clear();
        sure.resize(runs.len(), 0);
        for (&(y, a, b), &root) in runs.iter().zip(roots) {
            let row = y as usize * width;
            for k in row + a as usize..row + b as usize {
                if left[k] > 0 {
                    held[root as usize] += 1;
                    sure[root as usize] += (mask[k] >= SURE) as u32;
                }
            }
        }
        for (&(y, a, b), &root) in runs.iter().zip(roots) {
            let back = 4 * sure[root as usize] >= 3 * held[root as usize];
            let row = y as usize * width;
            for k in row + a as usize..row + b as usize {
                if left[k] > 0 {
                    if back {
                        left[k] = 0;
                    } else if mask[k] < SURE {
                        mask[k] = 0;
                    }
                }
            }
        }
        let mut any = false;
        for l in left.iter_mut() {
            *l = l.saturating_sub(1);
            any |= *l > 0;
        }
        self.any = any;
    }

    /// After the islands were dropped: every cell they lowered to 0 from `low` or above (in
    /// the mask [`Hold::lower`] last saw) is held for the next [`HOLD`] masks.
    pub fn remember(&mut self, mask: &[u8], low: u8) {
        for ((l, &b), &m) in self.left.iter_mut().zip(&self.before).zip(mask) {
            if b >= low && m == 0 {
                *l = HOLD;
                self.any = true;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const W: usize = 40;
    const H: usize = 20;
    const LOW: u8 = 115;
    const CORE: u8 = 153;
    const GAP: u64 = 500_000_000;

    /// The person: the left half. The part: 6x6 cells to its right (an island under a tenth of
    /// the person) at `value`, joined by a bridge of cells at the threshold when `joined`.
    fn mask(value: u8, joined: bool) -> Vec<u8> {
        (0..W * H)
            .map(|k| {
                let (x, y) = (k % W, k / W);
                if x < W / 2 {
                    255
                } else if (30..36).contains(&x) && (7..13).contains(&y) {
                    value
                } else if joined && (W / 2..30).contains(&x) && (9..11).contains(&y) {
                    CORE
                } else {
                    0
                }
            })
            .collect()
    }

    const PART: usize = 10 * W + 33;
    const BRIDGE: usize = 10 * W + 25;

    /// Runs the islands as the segmenter does, with the hold, on mask `i` (33 ms apart).
    fn run(hold: &mut Hold, labels: &mut Islands, mut m: Vec<u8>, i: u64) -> Vec<u8> {
        hold.lower(labels, &mut m, (W, H), LOW, (i * 33_000_000, GAP));
        labels.drop_shown(&mut m, (W, H), (LOW, CORE), 0.1);
        hold.remember(&m, LOW);
        m
    }

    #[test]
    fn a_dropped_part_stays_dropped_while_the_model_is_unsure_of_it() {
        let (mut hold, mut labels) = (Hold::default(), Islands::default());
        let m = run(&mut hold, &mut labels, mask(200, false), 0);
        assert_eq!(m[PART], 0, "an island");
        // Joined to the person: without the hold it would show.
        let mut plain = mask(200, true);
        labels.drop_shown(&mut plain, (W, H), (LOW, CORE), 0.1);
        assert_eq!(plain[PART], 200);
        for i in 1..=HOLD as u64 + 1 {
            let m = run(&mut hold, &mut labels, mask(200, true), i);
            let expected = if i <= HOLD as u64 { 0 } else { 200 };
            assert_eq!(m[PART], expected, "mask {i}");
            assert_eq!(m[BRIDGE], CORE, "mask {i}: the bridge was never dropped");
            assert_eq!(m[0], 255, "mask {i}: the person");
        }
        // Dropped again as an island: held again.
        run(&mut hold, &mut labels, mask(200, false), 20);
        assert_eq!(run(&mut hold, &mut labels, mask(200, true), 21)[PART], 0);
    }

    #[test]
    fn a_part_the_model_is_sure_of_again_comes_back_whole() {
        let (mut hold, mut labels) = (Hold::default(), Islands::default());
        run(&mut hold, &mut labels, mask(200, false), 0);
        // The part back, mostly sure of: its cells under SURE (one column here) show too.
        let mut back = mask(SURE, true);
        for y in 7..13 {
            back[y * W + 35] = 180;
        }
        let m = run(&mut hold, &mut labels, back.clone(), 1);
        assert_eq!((m[PART], m[10 * W + 35]), (SURE, 180));
        // Unsure again: no longer held.
        assert_eq!(run(&mut hold, &mut labels, mask(200, true), 2)[PART], 200);
        // Sure in under three quarters of it: the sure cells (two, beside the bridge) stay, the rest is
        // held.
        run(&mut hold, &mut labels, mask(200, false), 3);
        let mut few = mask(200, true);
        for y in 9..11 {
            few[y * W + 30] = 250;
        }
        let m = run(&mut hold, &mut labels, few, 4);
        assert_eq!((m[9 * W + 30], m[PART]), (250, 0));
    }

    #[test]
    fn nothing_is_held_after_a_gap() {
        let (mut hold, mut labels) = (Hold::default(), Islands::default());
        run(&mut hold, &mut labels, mask(200, false), 0);
        assert_eq!(run(&mut hold, &mut labels, mask(200, true), 1)[PART], 0);
        // 1 s later (the gap is 0.5 s).
        assert_eq!(run(&mut hold, &mut labels, mask(200, true), 31)[PART], 200);
        // Cleared by hand.
        run(&mut hold, &mut labels, mask(200, false), 32);
        hold.clear();
        assert_eq!(run(&mut hold, &mut labels, mask(200, true), 33)[PART], 200);
    }
}
