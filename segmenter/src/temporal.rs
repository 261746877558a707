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

/// The per-cell temporal filter.
pub struct Temporal {
    /// Share of the last output kept where the frame is still (0: off).
    strength: f32,
    width: usize,
    height: usize,
    last_yuv: [Vec<f32>; 3],
    last_out: Vec<f32>,
    change: Vec<f32>,
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
            height,
            last_yuv: std::array::from_fn(|_| vec![0.0; n]),
            last_out: vec![0.0; n],
            change: vec![0.0; n],
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
    pub fn apply(&mut self, yuv: [&[f32]; 3], mask: &mut [u8], timestamp_ns: u64) {
        let (w, h) = (self.width, self.height);
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
        for y in 0..h {
            for x in 0..w {
                // Mean change over the 3x3 cells (clipped at the borders).
                let (mut sum, mut n) = (0.0, 0.0);
                for yy in y.saturating_sub(1)..(y + 2).min(h) {
                    for xx in x.saturating_sub(1)..(x + 2).min(w) {
                        sum += self.change[yy * w + xx];
                        n += 1.0;
                    }
                }
                let moving = ((sum / n - STILL) / RAMP).clamp(0.0, 1.0);
                let keep = self.strength * (1.0 - moving);
                let k = y * w + x;
                let out = keep * self.last_out[k] + (1.0 - keep) * mask[k] as f32;
                self.last_out[k] = out;
                mask[k] = (out + 0.5) as u8;
            }
        }
        for (last, now) in self.last_yuv.iter_mut().zip(yuv) {
            last.copy_from_slice(now);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn still_cells_are_averaged_and_moving_cells_follow_at_once() {
        let (w, h) = (8, 4);
        let mut t = Temporal::new(w, h, 0.75, 1_000);
        let still = vec![100.0f32; w * h];
        let flat = vec![128.0f32; w * h];
        let mut first = vec![0u8; w * h];
        t.apply([&still, &flat, &flat], &mut first, 100);
        // The mask jumps to 200 everywhere; the frame changed only in the right half.
        let mut luma = still.clone();
        for y in 0..h {
            for x in 4..w {
                luma[y * w + x] = 160.0;
            }
        }
        let mut mask = vec![200u8; w * h];
        t.apply([&luma, &flat, &flat], &mut mask, 200);
        // Left, away from the change: 25 % of the new value. Right, inside it: all of it.
        assert_eq!(mask[w], 50);
        assert_eq!(mask[w + 7], 200);
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
        // One frame period later instead, it keeps 90 % of the person (the frame is still).
        let mut t = Temporal::new(4, 1, 0.9, 200_000_000);
        let mut person = vec![255u8; 4];
        t.apply([&still, &still, &still], &mut person, 1_000_000_000);
        let mut room = vec![0u8; 4];
        t.apply([&still, &still, &still], &mut room, 1_033_000_000);
        assert_eq!(room, [230, 230, 230, 230]);
    }
}
