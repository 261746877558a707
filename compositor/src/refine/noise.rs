//! The camera's noise, measured on the room, for the refined edge's temporal smoothing
//! ([`super::Applier`]). A pixel counts as still while its colour changes by less than a
//! threshold; a threshold set for a camera in a well-lit room (sensor noise of 2 steps of
//! 8-bit RGB) counts many pixels of a dim room's camera (6 steps and more) as moving, and
//! the refined edge flickered again: on two still sequences at noise 6, 0.58 and 0.63 times
//! the raw model's flicker, where the target is half (docs/QUALITY.md, "Results: 2026-12-07
//! 17:20-18:05 UTC"). So the threshold is raised by the noise the frame shows where nothing
//! moves: the plain room, away from the person.
//!
//! The noise is told from other change by being a pixel's own: per sample, the colour change
//! since the last frame of two pixels two apart (the first pixels of neighbouring pairs, each
//! with its own chroma) is taken signed, and the sample is how far the two differ (|dY1 -
//! dY2| + |dU1 - dU2| + |dV1 - dV2|, 0..255 each). A change of the whole room's light (a
//! camera's exposure, a lamp, the bands of a light flickering with the mains) moves
//! neighbours alike and cancels; sensor noise does not. The median over a frame's samples
//! sets the scale of the still threshold: at least 1 (at the noise the threshold was set for
//! nothing changes), falling at once and rising by at most [`RISE`] a frame, so what is left
//! of other change (a pan over the room's texture) moves it little in the few frames it
//! lasts; noise that stays raises the threshold within about a second and a half. The
//! threshold is `max(6, 6 / REFERENCE * median)` at any size: on a half-size copy (frames
//! over 960 pixels wide), which averages the noise, it rises only from about noise 7.

/// The median sample (the two neighbours' changes' difference) of a still room the
/// smoothing's threshold was set for: a camera with noise of 2 steps (8-bit RGB) gives 4 at
/// the refinement's working resolution (2 on a half-size copy), noise of 6 gives 12, of 8
/// 17 (a simulation of the benchmark's noise, docs/QUALITY.md).
pub const REFERENCE: f32 = 4.7;

/// The most the threshold is raised: noise of about 9 steps at full size.
pub const MAX_SCALE: f32 = 4.0;

/// The most the scale rises from one frame to the next (it falls at once).
pub const RISE: f32 = 1.03;

/// Samples a frame needs for its median to count (a frame with less room keeps the scale).
pub const MIN_SAMPLES: u32 = 64;

/// Rows sampled: every `ROW_STEP`-th ...
pub const ROW_STEP: usize = 4;
/// ... and of those, the first two of every `PAIR_STEP` pixel pairs (a sample).
pub const PAIR_STEP: usize = 4;

/// Samples counted apart in the histogram; larger ones count as the last (they are motion,
/// never the median of a room).
const BINS: usize = 64;

/// The noise measured so far, and the scale it sets.
#[derive(Debug, Clone)]
pub struct NoiseFloor {
    /// This frame's samples, by change.
    counts: [u32; BINS],
    samples: u32,
    scale: f32,
}

impl Default for NoiseFloor {
    fn default() -> Self {
        NoiseFloor::new()
    }
}

impl NoiseFloor {
    /// No noise measured: scale 1.
    pub fn new() -> NoiseFloor {
        NoiseFloor {
            counts: [0; BINS],
            samples: 0,
            scale: 1.0,
        }
    }

    /// A floor whose scale is `scale` (for the tests of what uses it).
    #[cfg(test)]
    pub fn forced(scale: f32) -> NoiseFloor {
        NoiseFloor {
            scale,
            ..NoiseFloor::new()
        }
    }

    /// The still threshold's scale: 1 up to the noise it was set for, then the measured
    /// median sample over [`REFERENCE`], up to [`MAX_SCALE`].
    pub fn scale(&self) -> f32 {
        self.scale
    }

    /// Samples a span of plain room: `now` and `last` are the YUYV bytes of the same pixels
    /// (whole pairs) in this frame and the last; of every [`PAIR_STEP`] pairs, the first
    /// pixels of the first two make a sample.
    #[inline(always)]
    pub fn sample(&mut self, now: &[u8], last: &[u8]) {
        for (q, l) in now
            .chunks_exact(4 * PAIR_STEP)
            .zip(last.chunks_exact(4 * PAIR_STEP))
        {
            // Signed changes of Y0, U, V of the first pair (bytes 0, 1, 3) and the second
            // (4, 5, 7).
            let d = |i: usize| q[i] as i16 - l[i] as i16;
            let sample = (d(0) - d(4)).unsigned_abs() as usize
                + (d(1) - d(5)).unsigned_abs() as usize
                + (d(3) - d(7)).unsigned_abs() as usize;
            self.counts[sample.min(BINS - 1)] += 1;
            self.samples += 1;
        }
    }

    /// Ends a frame: the median of its samples sets the scale (rising by at most [`RISE`]),
    /// unless it had fewer than [`MIN_SAMPLES`]. The next frame's samples start afresh.
    pub fn end_frame(&mut self) {
        if self.samples >= MIN_SAMPLES {
            let half = self.samples.div_ceil(2);
            let mut seen = 0;
            let median = self
                .counts
                .iter()
                .position(|&c| {
                    seen += c;
                    seen >= half
                })
                .unwrap_or(BINS - 1);
            let wanted = (median as f32 / REFERENCE).clamp(1.0, MAX_SCALE);
            self.scale = wanted.min(self.scale * RISE);
        }
        self.counts = [0; BINS];
        self.samples = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A frame of `n` samples: each of its first two pairs' luma changed by `changes[i]` and
    /// by `changes[i]` less `diffs[i]` (the sample is the difference).
    fn frame(f: &mut NoiseFloor, diffs: &[u8], n: usize) {
        let last = [100u8, 128, 100, 128].repeat(PAIR_STEP);
        for i in 0..n {
            let diff = diffs[i % diffs.len()];
            // The whole span brightened by 20 as well: it cancels.
            let mut now: Vec<u8> = last.iter().map(|&b| b + 20).collect();
            now[0] += diff;
            f.sample(&now, &last);
        }
        f.end_frame();
    }

    #[test]
    fn a_sample_is_the_difference_of_two_neighbours_changes() {
        let mut f = NoiseFloor::new();
        // Two groups of pairs: Y0, U, V of the first pair changed by +3, -4, +5, of the
        // second by -2, +1, +5: a sample of 5 + 5 + 0. The second pixel of each pair and the
        // pairs after the first two changed by far more, which is not sampled.
        let last = [100u8, 128, 100, 128].repeat(2 * PAIR_STEP);
        let mut now = last.clone();
        for (p, q) in now.chunks_exact_mut(4).enumerate() {
            q.copy_from_slice(match p % PAIR_STEP {
                0 => &[103, 124, 0, 133],
                1 => &[98, 129, 255, 133],
                _ => &[0, 255, 0, 255],
            });
        }
        // And a last group cut short (three pairs) is not sampled.
        let (now, last) = (
            [&now[..], &now[..12]].concat(),
            [&last[..], &last[..12]].concat(),
        );
        for _ in 0..MIN_SAMPLES / 2 {
            f.sample(&now, &last);
        }
        assert_eq!(f.samples, MIN_SAMPLES);
        assert_eq!(f.counts[10], MIN_SAMPLES);
    }

    #[test]
    fn the_noise_the_threshold_was_set_for_changes_nothing() {
        let mut f = NoiseFloor::new();
        for _ in 0..100 {
            // Noise of 2 steps at full size: samples around 4, a few outliers of motion.
            frame(&mut f, &[1, 2, 4, 4, 5, 6, 4, 100], 400);
        }
        assert_eq!(f.scale(), 1.0);
    }

    #[test]
    fn a_noisier_camera_raises_the_threshold_by_at_most_rise_a_frame() {
        let mut f = NoiseFloor::new();
        let mut last = f.scale();
        for _ in 0..100 {
            frame(&mut f, &[9, 12, 12, 15], 400);
            assert!(f.scale() >= last && f.scale() <= last * RISE + 1e-6);
            last = f.scale();
        }
        assert_eq!(
            f.scale(),
            12.0 / REFERENCE,
            "the median sample over the reference"
        );
        // Far more noise: capped.
        for _ in 0..100 {
            frame(&mut f, &[60], 400);
        }
        assert_eq!(f.scale(), MAX_SCALE);
    }

    #[test]
    fn the_scale_falls_at_once() {
        let mut f = NoiseFloor::new();
        for _ in 0..100 {
            frame(&mut f, &[18], 400);
        }
        assert_eq!(f.scale(), 18.0 / REFERENCE);
        frame(&mut f, &[4], 400);
        assert_eq!(f.scale(), 1.0);
    }

    #[test]
    fn a_change_of_the_whole_rooms_light_is_not_noise() {
        // Neighbours changed alike, by 40, then back: every sample 0.
        let mut f = NoiseFloor::new();
        let last = [100u8, 128, 100, 128].repeat(PAIR_STEP);
        for t in 0..30 {
            let now: Vec<u8> = last
                .iter()
                .map(|&b| if t % 2 == 0 { b + 40 } else { b })
                .collect();
            for _ in 0..400 {
                f.sample(&now, &last);
            }
            f.end_frame();
        }
        assert_eq!(f.scale(), 1.0);
    }

    #[test]
    fn a_few_frames_of_change_everywhere_move_it_little() {
        // What does not cancel (a pan over the room's texture) for three frames.
        let mut f = NoiseFloor::new();
        for _ in 0..3 {
            frame(&mut f, &[60], 400);
        }
        assert!(f.scale() <= RISE * RISE * RISE + 1e-6, "{}", f.scale());
    }

    #[test]
    fn too_few_samples_keep_the_scale() {
        let mut f = NoiseFloor::new();
        for _ in 0..100 {
            frame(&mut f, &[12], 400);
        }
        let kept = f.scale();
        frame(&mut f, &[60], MIN_SAMPLES as usize - 1);
        assert_eq!(f.scale(), kept);
        // And the next frame starts afresh: the few samples of 60 are not counted with its
        // 32 of 5 and 32 of 12 (with them, the median would be 12).
        frame(&mut f, &[5, 12], MIN_SAMPLES as usize);
        assert_eq!(f.scale(), 5.0 / REFERENCE);
    }
}
