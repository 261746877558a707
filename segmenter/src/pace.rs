//! How many masks make a span of time. The islands' hold, the zoom's hold and its looks are
//! meant in time (half a second), but they count masks, and masks come at the camera's rate
//! (`input.fps` 1..120; cameras drop to 15 fps in dim light) or slower, when the segmenter
//! cannot keep up. [`Pace`] follows the time between the frames segmented, from their
//! capture times, and turns a span into that many masks: 15 for half a second at 30 masks a
//! second, 10 at 20, 30 at 60. (An interval over `compositor.max_mask_age_ms`, 200 ms by
//! default, is a pause and not counted: under 5 masks a second every frame forgets what was
//! held anyway.)

/// The rate assumed until a frame has followed another: 30 a second.
const FIRST_INTERVAL_NS: u64 = 33_333_333;
/// The intervals the median is taken of: one late frame (or two) does not move it, and a
/// change of rate is followed within five masks.
const KEPT: usize = 9;

/// The time between the frames segmented: the median of the last 9 intervals between
/// capture times, gaps left out.
#[derive(Debug, Clone)]
pub struct Pace {
    last_ns: Option<u64>,
    intervals: [u64; KEPT],
    next: usize,
    median_ns: u64,
}

impl Default for Pace {
    fn default() -> Pace {
        Pace {
            last_ns: None,
            intervals: [FIRST_INTERVAL_NS; KEPT],
            next: 0,
            median_ns: FIRST_INTERVAL_NS,
        }
    }
}

impl Pace {
    /// The frame captured at `timestamp_ns` is segmented. True when the time since the frame
    /// before is over `gap_ns` (a pause: the caller forgets what it held); such a gap is not
    /// counted, nor is time standing still or going backwards (a restarted capture).
    pub fn tick(&mut self, timestamp_ns: u64, gap_ns: u64) -> bool {
        let since = self.last_ns.and_then(|t| timestamp_ns.checked_sub(t));
        self.last_ns = Some(timestamp_ns);
        match since {
            Some(dt) if dt > gap_ns => true,
            Some(dt) if dt > 0 => {
                self.intervals[self.next] = dt;
                self.next = (self.next + 1) % KEPT;
                let mut sorted = self.intervals;
                sorted.sort_unstable();
                self.median_ns = sorted[KEPT / 2];
                false
            }
            _ => false,
        }
    }

    /// The masks that `span_ns` takes at the present rate, rounded, at least 1 and at most
    /// `max`.
    pub fn masks(&self, span_ns: u64, max: u32) -> u32 {
        let n = (span_ns + self.median_ns / 2) / self.median_ns;
        n.clamp(1, max.max(1) as u64) as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HALF_S: u64 = 500_000_000;
    const GAP: u64 = 200_000_000;

    /// A pace after `n` frames `interval_ns` apart.
    fn at(interval_ns: u64, n: u64) -> Pace {
        let mut p = Pace::default();
        for i in 0..n {
            assert!(!p.tick(1_000 + i * interval_ns, GAP));
        }
        p
    }

    #[test]
    fn half_a_second_is_as_many_masks_as_the_rate_makes() {
        assert_eq!(
            Pace::default().masks(HALF_S, 255),
            15,
            "30 a second until known"
        );
        assert_eq!(at(33_333_333, 60).masks(HALF_S, 255), 15);
        assert_eq!(at(50_000_000, 60).masks(HALF_S, 255), 10);
        assert_eq!(at(16_666_667, 60).masks(HALF_S, 255), 30);
        assert_eq!(at(100_000_000, 60).masks(HALF_S, 255), 5);
        // Bounds.
        assert_eq!(at(8_333_333, 60).masks(HALF_S, 40), 40);
        assert_eq!(at(100_000_000, 60).masks(10_000_000, 255), 1);
    }

    #[test]
    fn one_late_frame_does_not_change_the_count() {
        let mut p = at(33_333_333, 60);
        let t = 1_000 + 60 * 33_333_333;
        // 100 ms late (under the gap), the next one early, then on time again.
        assert!(!p.tick(t + 100_000_000, GAP));
        assert_eq!(p.masks(HALF_S, 255), 15);
        assert!(!p.tick(t + 110_000_000, GAP));
        assert_eq!(p.masks(HALF_S, 255), 15);
        for i in 1..=10 {
            p.tick(t + 110_000_000 + i * 33_333_333, GAP);
            assert_eq!(p.masks(HALF_S, 255), 15);
        }
    }

    #[test]
    fn a_gap_is_told_and_not_counted() {
        let mut p = at(33_333_333, 60);
        let mut t = 1_000 + 60 * 33_333_333;
        // Pauses, more of them than the median could hide if they were counted.
        for _ in 0..6 {
            t += GAP + 1;
            assert!(p.tick(t, GAP), "a pause");
        }
        assert_eq!(p.masks(HALF_S, 255), 15);
        // The same time again, six times: not counted (and no interval of 0).
        for _ in 0..6 {
            assert!(!p.tick(t, GAP));
        }
        assert_eq!(p.masks(HALF_S, 255), 15);
        // Backwards (a restarted capture), six times: not a gap, not counted.
        for k in 0..6 {
            assert!(!p.tick(5 - k, GAP));
        }
        assert_eq!(p.masks(HALF_S, 255), 15);
        // The rate changes: the count follows within five masks.
        let mut p = at(33_333_333, 60);
        for i in 1..=5 {
            assert_eq!(p.masks(HALF_S, 255), 15, "mask {i}");
            p.tick(1_000 + 59 * 33_333_333 + i * 50_000_000, GAP);
        }
        assert_eq!(p.masks(HALF_S, 255), 10);
    }
}
