//! Temporal stability without lag: where the frame has not changed since the last mask, the
//! new mask is blended with the last output (an exponential average, so sensor noise no longer
//! makes the edge flicker); where the frame changed (the person moved), the new mask is taken
//! as it is, so moving parts follow at once. The weight is per mask cell, from the change of
//! the frame's colour (|dY| + |dU| + |dV|) in the 3x3 cells around it (not one global average
//! that trails).

/// Colour change (0..255 per channel, mean over 3x3 cells) up to which a cell counts as
/// still ...
const STILL: f32 = 2.0;
/// ... and from which (still + ramp) as moving.
const RAMP: f32 = 6.0;
/// Fall of the mask itself (0..1) up to which a cell may count as still, and from which (plus
/// [`MASK_RAMP`]) it counts as moving whatever the colour did: where the person and the room
/// look alike (dark hair before a dark wall) the colour barely changes as the person moves
/// away, and the old mask would trail them for frames. Only a fall: a rise on still colour
/// (a one-frame false person on the room) stays averaged, so the room is never flashed.
const MASK_STILL: f32 = 0.3;
const MASK_RAMP: f32 = 0.3;

use crate::window::Mean3x3;

/// The per-cell temporal filter.
pub struct Temporal {
    /// Share of the last output kept where the frame is still (0: off).
    strength: f32,
    width: usize,
    last_yuv: [Vec<f32>; 3],
    last_out: Vec<f32>,
    change: Vec<f32>,
    /// Scratch for the 3x3 mean of `change`.
    window: Mean3x3,
    primed: bool,
    /// Capture time of the last frame filtered; after a longer gap than `gap_ns` (a pause,
    /// a stall, idling) nothing of the older mask is kept.
    last_ns: u64,
    gap_ns: u64,
}

impl Temporal {
    /// For masks of `width` x `height`; `strength` is `segmentation.smoothing`; `gap_ns`: a
    /// longer time between two frames starts afresh (`compositor.max_mask_age_ms`).
    pub fn new(width: usize, height: usize, strength: f32, gap_ns: u64) -> Temporal {
        let n = width * height;
        Temporal {
            strength,
            width,
            last_yuv: std::array::from_fn(|_| vec![0.0; n]),
            last_out: vec![0.0; n],
            change: vec![0.0; n],
            window: Mean3x3::new(width, height),
            primed: false,
            last_ns: 0,
            gap_ns,
        }
    }

    /// Changes the strength and the gap (`segmentation.smoothing`,
    /// `compositor.max_mask_age_ms` changed while running).
    pub fn set(&mut self, strength: f32, gap_ns: u64) {
        self.strength = strength;
        self.gap_ns = gap_ns;
    }

    /// Filters `mask` (0..255, in place) given the colour (Y, U, V planes, 0..255) of the
    /// frame it came from, all `width` x `height`, and the frame's capture time.
    #[inline(always)]
    pub fn apply(&mut self, yuv: [&[f32]; 3], mask: &mut [u8], timestamp_ns: u64) {
        let w = self.width;
        if self.strength <= 0.0 {
            return;
        }
        let gap = timestamp_ns.saturating_sub(self.last_ns) > self.gap_ns;
        self.last_ns = timestamp_ns;
        if !self.primed || gap {
            self.primed = true;
            for (last, now) in self.last_yuv.iter_mut().zip(yuv) {
                last.copy_from_slice(now);
            }
            for (o, &m) in self.last_out.iter_mut().zip(mask.iter()) {
                *o = m as f32;
            }
            return;
        }
        self.change.fill(0.0);
        for (last, now) in self.last_yuv.iter().zip(yuv) {
            for (c, (&a, &b)) in self.change.iter_mut().zip(now.iter().zip(last)) {
                *c += (a - b).abs();
            }
        }
        // Mean change over the 3x3 cells (clipped at the borders).
        let (strength, last_out) = (self.strength, &mut self.last_out);
        self.window.sum_rows(&self.change);
        for y in 0..last_out.len().checked_div(w).unwrap_or(0) {
            let means = self.window.means(y);
            let k = y * w;
            for ((&mean, last), m) in means
                .iter()
                .zip(&mut last_out[k..k + w])
                .zip(&mut mask[k..k + w])
            {
                let moving = moving(mean, *last, *m);
                let keep = strength * (1.0 - moving);
                let out = keep * *last + (1.0 - keep) * *m as f32;
                *last = out;
                *m = viba_common::simd::to_u8(out + 0.5);
            }
        }
        for (last, now) in self.last_yuv.iter_mut().zip(yuv) {
            last.copy_from_slice(now);
        }
    }
}

/// How much a cell counts as moving (0..1), from the mean colour change around it and the
/// fall from the last output to the new mask.
#[inline(always)]
fn moving(colour_change: f32, last: f32, new: u8) -> f32 {
    let by_colour = (colour_change - STILL) / RAMP;
    let by_mask = ((last - new as f32) * (1.0 / 255.0) - MASK_STILL) / MASK_RAMP;
    by_colour.max(by_mask).clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The filter as first written: the 3x3 mean cell by cell.
    fn reference(t: &mut Temporal, yuv: [&[f32]; 3], mask: &mut [u8]) {
        let (w, h) = (t.width, t.last_out.len() / t.width);
        let mut change = vec![0.0f32; w * h];
        for (last, now) in t.last_yuv.iter().zip(yuv) {
            for (c, (&a, &b)) in change.iter_mut().zip(now.iter().zip(last)) {
                *c += (a - b).abs();
            }
        }
        for y in 0..h {
            for x in 0..w {
                let (mut sum, mut n) = (0.0, 0.0);
                for yy in y.saturating_sub(1)..(y + 2).min(h) {
                    for xx in x.saturating_sub(1)..(x + 2).min(w) {
                        sum += change[yy * w + xx];
                        n += 1.0;
                    }
                }
                let k = y * w + x;
                let moving = moving(sum / n, t.last_out[k], mask[k]);
                let keep = t.strength * (1.0 - moving);
                let out = keep * t.last_out[k] + (1.0 - keep) * mask[k] as f32;
                t.last_out[k] = out;
                mask[k] = (out + 0.5) as u8;
            }
        }
        for (last, now) in t.last_yuv.iter_mut().zip(yuv) {
            last.copy_from_slice(now);
        }
    }

    #[test]
    fn the_separable_mean_gives_what_the_cell_by_cell_one_gives() {
        for (w, h) in [(1, 1), (2, 3), (17, 9), (256, 144)] {
            let mut seed = 12345u32;
            let mut rnd = move || {
                seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
                (seed >> 16) as f32 / 65536.0
            };
            let mut a = Temporal::new(w, h, 0.8, u64::MAX);
            let mut b = Temporal::new(w, h, 0.8, u64::MAX);
            for frame in 0..4u64 {
                // Mostly still colour with a few moving cells; a new mask each frame.
                let planes: [Vec<f32>; 3] = std::array::from_fn(|c| {
                    (0..w * h)
                        .map(|_| 100.0 + c as f32 + if rnd() < 0.2 { rnd() * 40.0 } else { rnd() })
                        .collect()
                });
                let mask: Vec<u8> = (0..w * h).map(|_| (rnd() * 255.0) as u8).collect();
                let (mut ma, mut mb) = (mask.clone(), mask);
                let yuv = [&planes[0][..], &planes[1][..], &planes[2][..]];
                a.apply(yuv, &mut ma, frame + 1);
                if frame == 0 {
                    b.apply(yuv, &mut mb, frame + 1);
                } else {
                    reference(&mut b, yuv, &mut mb);
                    b.last_ns = frame + 1;
                }
                let worst = ma.iter().zip(&mb).map(|(x, y)| x.abs_diff(*y)).max();
                assert!(worst <= Some(1), "{w}x{h} frame {frame}: off by {worst:?}");
                for (x, y) in a.last_out.iter().zip(&b.last_out) {
                    assert!((x - y).abs() < 0.01, "{w}x{h} frame {frame}: {x} vs {y}");
                }
            }
        }
    }

    #[test]
    fn still_cells_are_averaged_and_moving_cells_follow_at_once() {
        let (w, h) = (8, 4);
        let mut t = Temporal::new(w, h, 0.75, 1_000);
        let still = vec![100.0f32; w * h];
        let flat = vec![128.0f32; w * h];
        let mut first = vec![0u8; w * h];
        t.apply([&still, &flat, &flat], &mut first, 100);
        // The mask rises to 60 everywhere (less than MASK_STILL); the frame changed only in
        // the right half.
        let mut luma = still.clone();
        for y in 0..h {
            for x in 4..w {
                luma[y * w + x] = 160.0;
            }
        }
        let mut mask = vec![60u8; w * h];
        t.apply([&luma, &flat, &flat], &mut mask, 200);
        // Left, away from the change: 25 % of the new value. Right, inside it: all of it.
        assert_eq!(mask[w], 15);
        assert_eq!(mask[w + 7], 60);
    }

    #[test]
    fn a_large_change_of_the_mask_is_followed_where_the_colour_barely_changed() {
        // Dark hair leaves a dark wall: the colour is still, the mask falls from 255 to 0.
        let (w, h) = (8, 4);
        let mut t = Temporal::new(w, h, 0.8, 1_000);
        let dark = vec![30.0f32; w * h];
        let flat = vec![128.0f32; w * h];
        let mut person = vec![255u8; w * h];
        t.apply([&dark, &flat, &flat], &mut person, 100);
        let mut mask = vec![0u8; w * h];
        mask[..w / 2].fill(255 - 60); // a small change at the left: still averaged
        t.apply([&dark, &flat, &flat], &mut mask, 200);
        assert_eq!(mask[w - 1], 0, "a fall by 1.0 is taken at once");
        assert_eq!(mask[0], 243, "a fall by 0.24 keeps 80 % of the last mask");
        // Between MASK_STILL and MASK_STILL + MASK_RAMP it keeps less and less.
        let mut t = Temporal::new(1, 1, 0.8, 1_000);
        t.apply([&[30.0], &[128.0], &[128.0]], &mut [255u8], 100);
        let mut half = [255u8 - 115]; // a change of 0.45: half moving, keeps 0.4
        t.apply([&[30.0], &[128.0], &[128.0]], &mut half, 200);
        assert_eq!(half[0], (0.4f32 * 255.0 + 0.6 * 140.0 + 0.5) as u8);
    }

    #[test]
    fn a_rise_of_the_mask_on_still_colour_stays_averaged() {
        // A one-frame false person on the still room is not shown at once.
        let mut t = Temporal::new(1, 1, 0.8, 1_000);
        t.apply([&[30.0], &[128.0], &[128.0]], &mut [0u8], 100);
        let mut rise = [255u8];
        t.apply([&[30.0], &[128.0], &[128.0]], &mut rise, 200);
        assert_eq!(rise[0], 51);
    }

    #[test]
    fn off_changes_nothing() {
        let mut t = Temporal::new(4, 1, 0.0, 1_000);
        let mut mask = vec![10u8, 20, 30, 40];
        t.apply([&[0.0; 4], &[0.0; 4], &[0.0; 4]], &mut mask, 100);
        t.apply([&[0.0; 4], &[0.0; 4], &[0.0; 4]], &mut mask, 200);
        assert_eq!(mask, [10, 20, 30, 40]);
    }

    #[test]
    fn after_a_gap_nothing_of_the_old_mask_is_kept() {
        // A person mask, then (still frame) the room 2 s later: taken as it is.
        let mut t = Temporal::new(4, 1, 0.9, 200_000_000);
        let still = [50.0f32; 4];
        let mut person = vec![255u8; 4];
        t.apply([&still, &still, &still], &mut person, 1_000_000_000);
        let mut room = vec![0u8; 4];
        t.apply([&still, &still, &still], &mut room, 3_000_000_000);
        assert_eq!(room, [0, 0, 0, 0]);
        // A smaller change (less than MASK_STILL) one frame period later keeps 90 % of the
        // last mask (the frame is still) ...
        let mut t = Temporal::new(4, 1, 0.9, 200_000_000);
        let mut person = vec![255u8; 4];
        t.apply([&still, &still, &still], &mut person, 1_000_000_000);
        let mut lower = vec![200u8; 4];
        t.apply([&still, &still, &still], &mut lower, 1_033_000_000);
        assert_eq!(lower, [250, 250, 250, 250]);
        // ... and nothing of it after a gap.
        let mut lower = vec![200u8; 4];
        t.apply([&still, &still, &still], &mut lower, 3_000_000_000);
        assert_eq!(lower, [200, 200, 200, 200]);
    }
}
