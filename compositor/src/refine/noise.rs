//! The camera's noise, measured on the room, for the refined edge's temporal smoothing
//! ([`super::Applier`]). A pixel counts as still while its colour changes by less than a
//! threshold; thresholds set for a camera in a well-lit room (sensor noise of 2 steps of
//! 8-bit RGB) count most pixels of a dim room's camera (6 steps and more) as moving, and
//! the refined edge flickered again: on two still sequences at noise 6, 0.0090 and 0.0066
//! against the raw model's 0.0155 and 0.0106, over half of it (docs/QUALITY.md,
//! 2026-12-07 17:30). So the threshold is raised by the noise the frame shows where nothing
//! moves: the plain room, away from the person.
//!
//! Measured per frame as the median colour change (|dY| + |dU| + |dV|, 0..255 each, against
//! the last frame) of a sample of the plain room's pixels, it sets the scale of the still
//! threshold (at least 1: at the noise the threshold was set for, nothing changes). The
//! scale falls at once and rises by at most [`RISE`] a frame, so a change of light or a
//! camera's pan, which change the whole room for a few frames, move it little; noise that
//! stays raises the threshold within about a second and a half.

/// The median change of a still room's pixel the smoothing's threshold was set for: a
/// camera with noise of 2 steps (8-bit RGB), whose median change at the refinement's working
/// resolution is 3 (1 on a half-size copy, which averages the noise away).
pub const REFERENCE: f32 = 3.5;

/// The most the threshold is raised: noise of about 9 steps at full size.
pub const MAX_SCALE: f32 = 4.0;

/// The most the scale rises from one frame to the next (it falls at once).
pub const RISE: f32 = 1.03;

/// Samples a frame needs for its median to count (a frame with less room keeps the scale).
pub const MIN_SAMPLES: u32 = 64;

/// Rows sampled: every `ROW_STEP`-th ...
pub const ROW_STEP: usize = 4;
/// ... and of those, every `PAIR_STEP`-th pixel pair (its first pixel).
pub const PAIR_STEP: usize = 4;

/// Changes counted apart in the histogram; larger ones count as the last (they are motion,
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

    /// The still threshold's scale: 1 up to the noise it was set for, then the measured
    /// median change over [`REFERENCE`], up to [`MAX_SCALE`].
    pub fn scale(&self) -> f32 {
        self.scale
    }

    /// Samples a span of plain room: `now` and `last` are the YUYV bytes of the same pixels
    /// (whole pairs) in this frame and the last; every [`PAIR_STEP`]-th pair's first pixel
    /// is counted.
    #[inline(always)]
    pub fn sample(&mut self, now: &[u8], last: &[u8]) {
        for (q, l) in now
            .chunks_exact(4)
            .zip(last.chunks_exact(4))
            .step_by(PAIR_STEP)
        {
            let change = q[0].abs_diff(l[0]) as usize
                + q[1].abs_diff(l[1]) as usize
                + q[3].abs_diff(l[3]) as usize;
            self.counts[change.min(BINS - 1)] += 1;
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

    /// `n` pixel pairs whose first pixel's change is `change` (all in luma).
    fn pairs(n: usize, change: u8) -> (Vec<u8>, Vec<u8>) {
        let last = [100u8, 128, 100, 128].repeat(n);
        let now = [100 + change, 128, 100, 128].repeat(n);
        (now, last)
    }

    /// A frame of `n` sampled pairs with these changes, in turn.
    fn frame(f: &mut NoiseFloor, changes: &[u8], n: usize) {
        for i in 0..n {
            let (now, last) = pairs(PAIR_STEP, changes[i % changes.len()]);
            f.sample(&now, &last);
        }
        f.end_frame();
    }

    #[test]
    fn every_pair_step_th_pairs_first_pixel_and_its_chroma_count() {
        let mut f = NoiseFloor::new();
        // Eight pairs: two sampled (the first and the fifth), each changed by 3 + 4 + 5 in Y,
        // U and V; the second pixel's luma and the unsampled pairs changed by far more.
        let last = [100u8, 128, 100, 128].repeat(2 * PAIR_STEP);
        let mut now = last.clone();
        for (p, q) in now.chunks_exact_mut(4).enumerate() {
            if p % PAIR_STEP == 0 {
                q.copy_from_slice(&[103, 124, 200, 133]);
            } else {
                q.copy_from_slice(&[0, 0, 0, 0]);
            }
        }
        for _ in 0..MIN_SAMPLES / 2 {
            f.sample(&now, &last);
        }
        assert_eq!(f.samples, MIN_SAMPLES);
        assert_eq!(f.counts[12], MIN_SAMPLES);
    }

    #[test]
    fn the_noise_the_threshold_was_set_for_changes_nothing() {
        let mut f = NoiseFloor::new();
        for _ in 0..100 {
            // Noise of 2 steps at full size: changes around 3, a few outliers of motion.
            frame(&mut f, &[1, 2, 3, 3, 4, 5, 3, 200], 400);
        }
        assert_eq!(f.scale(), 1.0);
    }

    #[test]
    fn a_noisier_camera_raises_the_threshold_by_at_most_rise_a_frame() {
        let mut f = NoiseFloor::new();
        let mut last = f.scale();
        for _ in 0..100 {
            frame(&mut f, &[7, 9, 9, 11], 400);
            assert!(f.scale() >= last && f.scale() <= last * RISE + 1e-6);
            last = f.scale();
        }
        assert_eq!(
            f.scale(),
            9.0 / REFERENCE,
            "the median change over the reference"
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
            frame(&mut f, &[14], 400);
        }
        assert_eq!(f.scale(), 4.0);
        frame(&mut f, &[3], 400);
        assert_eq!(f.scale(), 1.0);
    }

    #[test]
    fn a_few_frames_of_change_everywhere_move_it_little() {
        // A light switched on: the whole room changes by 40 for three frames.
        let mut f = NoiseFloor::new();
        for _ in 0..3 {
            frame(&mut f, &[40], 400);
        }
        assert!(f.scale() <= RISE * RISE * RISE + 1e-6, "{}", f.scale());
    }

    #[test]
    fn too_few_samples_keep_the_scale() {
        let mut f = NoiseFloor::new();
        for _ in 0..100 {
            frame(&mut f, &[9], 400);
        }
        let kept = f.scale();
        frame(&mut f, &[1], MIN_SAMPLES as usize - 1);
        assert_eq!(f.scale(), kept);
        // And the next frame starts afresh: the few samples are not added to it.
        frame(&mut f, &[1], MIN_SAMPLES as usize);
        assert_eq!(f.scale(), 1.0);
    }
}
