//! Islands held: a part of the mask dropped as an island ([`crate::blobs`]) stays dropped for
//! the next half second ([`HOLD_NS`], counted in masks at the rate they come: [`Pace`])
//! wherever the model is not sure of it (under [`SURE`]), even when the model joins it to the
//! person again.
//!
//! The model often takes a blanket or a cushion beside the shoulder for part of the person
//! (0.5-0.9), and joins it to them in some frames and not in others. Dropped in one frame and
//! kept in the next, the room there flickered in and out of the picture: on a still clip with
//! such a blanket (`franck-living-static-1280x720` in docs/QUALITY.md) the room's share of the
//! background rose from 0.5 % to peaks of 0.6-1.8 % a few frames at a time, on about a fifth of
//! the frames.
//!
//! A part the model is sure of again comes back whole, at once: where three quarters or more
//! of a held part's cells (a 4-connected region of the held cells the mask shows) are at
//! [`SURE`] or above (an arm that the model lost for a few frames and found again), its hold
//! ends. After a gap longer than `compositor.max_mask_age_ms` nothing is held.
//!
//! It works on the mask the islands left ([`Hold::before`] the islands, [`Hold::after`]
//! them), so it only ever lowers their mask; the segmenter then drops the islands once more,
//! for the parts the hold cut off the person.

use crate::blobs::Islands;
use crate::pace::Pace;

/// How long a dropped cell stays held, in capture time (the mask that dropped it not
/// counted): 15 masks at 30 a second, 30 at 60.
pub const HOLD_NS: u64 = 500_000_000;
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
    /// The mask where held, 0 elsewhere.
    parts: Vec<u8>,
    /// Per held part (at its root run): its cells, and those at [`SURE`] or above.
    held: Vec<u32>,
    sure: Vec<u32>,
    pace: Pace,
}

impl Hold {
    /// Forgets every hold (the islands were turned off).
    pub fn clear(&mut self) {
        if self.any {
            self.left.fill(0);
            self.any = false;
        }
    }

    /// Before the islands are dropped from `mask`: keeps it, to see what they drop.
    /// `timestamp_ns`: the frame's capture time; a longer time than `gap_ns` since the last
    /// mask forgets every hold.
    pub fn before(&mut self, mask: &[u8], (timestamp_ns, gap_ns): (u64, u64)) {
        let gap = self.pace.tick(timestamp_ns, gap_ns);
        if self.left.len() != mask.len() {
            self.left = vec![0; mask.len()];
            self.any = false;
        }
        if gap {
            self.clear();
        }
        self.before.clear();
        self.before.extend_from_slice(mask);
    }

    /// After the islands were dropped from `mask` (`size` cells; `low`: the mask value from
    /// which a cell shows the person): every cell they lowered to 0 from `low` or above is
    /// held for the masks of the next [`HOLD_NS`]; the cells held from earlier masks are
    /// lowered to 0 where under [`SURE`], except in the held parts (4-connected regions of
    /// the held cells at `low` or above) where three quarters or more of the cells are at
    /// [`SURE`] or above, whose hold ends. `labels` is the islands' labelling, used as
    /// scratch. True where a cell was lowered: the caller drops the islands again, for the
    /// parts the hold cut off.
    ///
    /// Only ever lowers: the islands are dropped before, so a hold that shrinks the person
    /// never lets an island through that they would drop.
    pub fn after(
        &mut self,
        labels: &mut Islands,
        mask: &mut [u8],
        size: (usize, usize),
        low: u8,
    ) -> bool {
        // Without branches, so that it vectorises (it runs on every mask). One more than
        // the hold: the countdown below takes one off this mask.
        let hold = self.pace.masks(HOLD_NS, u8::MAX as u32 - 1) as u8 + 1;
        let mut fresh = 0u8;
        for ((l, &b), &m) in self.left.iter_mut().zip(&self.before).zip(mask.iter()) {
            let dropped = ((b >= low) & (m == 0)) as u8;
            *l = (*l).max(dropped * hold);
            fresh |= dropped;
        }
        self.any |= fresh != 0;
        self.any && self.lower_held(labels, mask, size, low)
    }

    fn lower_held(
        &mut self,
        labels: &mut Islands,
        mask: &mut [u8],
        size: (usize, usize),
        low: u8,
    ) -> bool {
        let width = size.0;
        // The held parts as the mask shows them now, each a region of its own (joined to the
        // person or not).
        self.parts.clear();
        self.parts.extend(
            mask.iter()
                .zip(&self.left)
                .map(|(&m, &l)| if l > 0 { m } else { 0 }),
        );
        let (runs, roots) = labels.label(&self.parts, size, low);
        let Hold {
            left, held, sure, ..
        } = self;
        held.clear();
        held.resize(runs.len(), 0);
        sure.clear();
        sure.resize(runs.len(), 0);
        for (&(y, a, b), &root) in runs.iter().zip(roots) {
            let row = y as usize * width;
            held[root as usize] += b - a;
            let run = &mask[row + a as usize..row + b as usize];
            sure[root as usize] += run.iter().filter(|&&m| m >= SURE).count() as u32;
        }
        let mut lowered = false;
        for (&(y, a, b), &root) in runs.iter().zip(roots) {
            let back = 4 * sure[root as usize] >= 3 * held[root as usize];
            let row = y as usize * width;
            // Every cell of these runs is held.
            for k in row + a as usize..row + b as usize {
                if back {
                    left[k] = 0;
                } else if mask[k] < SURE {
                    mask[k] = 0;
                    lowered = true;
                }
            }
        }
        let mut any = false;
        for l in left.iter_mut() {
            *l = l.saturating_sub(1);
            any |= *l > 0;
        }
        self.any = any;
        lowered
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
    fn run(hold: &mut Hold, labels: &mut Islands, m: Vec<u8>, i: u64) -> Vec<u8> {
        run_at(hold, labels, m, i * 33_000_000)
    }

    /// [`run`] on the mask of a frame captured at `t_ns`.
    fn run_at(hold: &mut Hold, labels: &mut Islands, mut m: Vec<u8>, t_ns: u64) -> Vec<u8> {
        hold.before(&m, (t_ns, GAP));
        labels.drop_shown(&mut m, (W, H), (LOW, CORE), 0.1);
        if hold.after(labels, &mut m, (W, H), LOW) {
            labels.drop_shown(&mut m, (W, H), (LOW, CORE), 0.1);
        }
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
        // Half a second at 30 masks a second.
        for i in 1..=16 {
            let m = run(&mut hold, &mut labels, mask(200, true), i);
            let expected = if i <= 15 { 0 } else { 200 };
            assert_eq!(m[PART], expected, "mask {i}");
            assert_eq!(m[BRIDGE], CORE, "mask {i}: the bridge was never dropped");
            assert_eq!(m[0], 255, "mask {i}: the person");
        }
        // Dropped again as an island: held again.
        run(&mut hold, &mut labels, mask(200, false), 20);
        assert_eq!(run(&mut hold, &mut labels, mask(200, true), 21)[PART], 0);
    }

    #[test]
    fn the_hold_is_half_a_second_at_any_rate() {
        for (interval_ns, masks) in [(16_666_667, 30), (50_000_000, 10), (100_000_000, 5)] {
            let (mut hold, mut labels) = (Hold::default(), Islands::default());
            // The rate is known after a few masks in which nothing is dropped.
            for i in 0..10 {
                run_at(&mut hold, &mut labels, mask(0, false), i * interval_ns);
            }
            let t = |i: u64| (10 + i) * interval_ns;
            assert_eq!(
                run_at(&mut hold, &mut labels, mask(200, false), t(0))[PART],
                0
            );
            for i in 1..=masks + 1 {
                let m = run_at(&mut hold, &mut labels, mask(200, true), t(i));
                let expected = if i <= masks { 0 } else { 200 };
                assert_eq!(m[PART], expected, "{interval_ns} ns apart, mask {i}");
            }
        }
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

    /// A mask of `w` x `h` cells: 0 but for the given blocks `(x0..x1, y0..y1, value)`.
    fn blocks(w: usize, h: usize, parts: &[(usize, usize, usize, usize, u8)]) -> Vec<u8> {
        let mut m = vec![0; w * h];
        for &(x0, x1, y0, y1, v) in parts {
            for y in y0..y1 {
                m[y * w + x0..y * w + x1].fill(v);
            }
        }
        m
    }

    /// The hold never shows what the islands alone would drop: held cells lowered in the
    /// person's region make the largest region smaller, and so the size an island must reach
    /// to stay; the islands are dropped before the hold, so that cannot keep one.
    #[test]
    fn never_more_than_the_islands_alone() {
        let (w, h) = (60, 40);
        let (mut hold, mut labels) = (Hold::default(), Islands::default());
        // The person (800 cells), a blanket (36) apart, then joined by a bridge (40); a poster
        // (85 cells) apart: under a tenth of 876 cells, over a tenth of 840.
        let person = (0, 20, 0, 40, 255);
        let blanket = (40, 46, 17, 23, 200);
        let bridge = (20, 40, 19, 21, CORE);
        let poster = (50, 55, 0, 17, 255);
        let mut m = blocks(w, h, &[person, blanket]);
        hold.before(&m, (0, GAP));
        labels.drop_shown(&mut m, (w, h), (LOW, CORE), 0.1);
        assert!(!hold.after(&mut labels, &mut m, (w, h), LOW));
        assert_eq!(m[20 * w + 42], 0, "the blanket is an island");
        let joined = blocks(w, h, &[person, blanket, bridge, poster]);
        let mut alone = joined.clone();
        labels.drop_shown(&mut alone, (w, h), (LOW, CORE), 0.1);
        assert_eq!((alone[20 * w + 42], alone[5 * w + 52]), (200, 0));
        let mut m = joined;
        hold.before(&m, (33_000_000, GAP));
        labels.drop_shown(&mut m, (w, h), (LOW, CORE), 0.1);
        assert!(hold.after(&mut labels, &mut m, (w, h), LOW));
        labels.drop_shown(&mut m, (w, h), (LOW, CORE), 0.1);
        assert_eq!(
            (m[20 * w + 42], m[5 * w + 52]),
            (0, 0),
            "blanket held, poster dropped"
        );
        assert!(m.iter().zip(&alone).all(|(a, b)| a <= b));
    }

    /// Whether a part comes back is decided per region, at three quarters of its held cells.
    #[test]
    fn a_part_comes_back_from_three_quarters_sure_each_on_its_own() {
        let (w, h) = (60, 40);
        let person = (0, 20, 0, 40, 255);
        // Two parts of 36 cells, apart from each other, each joined to the person by a bridge
        // of its own in the second mask.
        let parts = [(30, 36, 5, 11, 200), (30, 36, 25, 31, 200)];
        let bridges = [(20, 30, 7, 9, CORE), (20, 30, 27, 29, CORE)];
        // The first part's last cell (never among its sure ones), the second's centre.
        let centres = [10 * w + 35, 28 * w + 33];
        for (sure_cells, back) in [(27, true), (26, false)] {
            let (mut hold, mut labels) = (Hold::default(), Islands::default());
            let mut m = blocks(w, h, &[person, parts[0], parts[1]]);
            hold.before(&m, (0, GAP));
            labels.drop_shown(&mut m, (w, h), (LOW, CORE), 0.1);
            hold.after(&mut labels, &mut m, (w, h), LOW);
            assert_eq!((m[centres[0]], m[centres[1]]), (0, 0));
            // The first part: `sure_cells` of its 36 at SURE (row by row from its top); the
            // second: none.
            let mut m = blocks(w, h, &[person, parts[0], parts[1], bridges[0], bridges[1]]);
            for k in 0..sure_cells {
                let (x, y) = (30 + k % 6, 5 + k / 6);
                m[y * w + x] = SURE;
            }
            hold.before(&m, (33_000_000, GAP));
            labels.drop_shown(&mut m, (w, h), (LOW, CORE), 0.1);
            if hold.after(&mut labels, &mut m, (w, h), LOW) {
                labels.drop_shown(&mut m, (w, h), (LOW, CORE), 0.1);
            }
            let first = if back { 200 } else { 0 };
            assert_eq!(m[centres[0]], first, "{sure_cells} of 36 sure");
            assert_eq!(
                m[centres[1]], 0,
                "{sure_cells} of 36 sure: the other part stays held"
            );
        }
    }
}
