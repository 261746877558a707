//! Real-time pacing on absolute deadlines, so that jitter does not accumulate.

use std::time::{Duration, Instant};

/// Releases one frame per period.
pub struct Pacer {
    period: Duration,
    realtime: bool,
    next: Option<Instant>,
}

impl Pacer {
    /// A pacer for `period`; with `realtime = false` it never waits.
    pub fn new(period: Duration, realtime: bool) -> Pacer {
        Pacer {
            period,
            realtime,
            next: None,
        }
    }

    /// Sleeps until the next frame is due. When more than a period late, the schedule restarts
    /// from now instead of bursting to catch up.
    pub fn wait(&mut self) {
        if !self.realtime {
            return;
        }
        let now = Instant::now();
        let due = match self.next {
            Some(due) if due + self.period >= now => due,
            _ => now,
        };
        if due > now {
            std::thread::sleep(due - now);
        }
        self.next = Some(due + self.period);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedule_advances_by_one_period_and_resets_when_late() {
        let mut p = Pacer::new(Duration::from_millis(5), true);
        p.wait();
        let first = p.next.unwrap();
        p.wait();
        assert_eq!(p.next.unwrap(), first + Duration::from_millis(5));
        std::thread::sleep(Duration::from_millis(30));
        p.wait();
        assert!(p.next.unwrap() > first + Duration::from_millis(30));
    }
}
