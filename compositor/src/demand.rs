//! Whether any application has the fake camera open.
//!
//! The kernel does not tell a v4l2loopback producer about its readers, so the compositor
//! finds them itself: inotify reports every `open` of the device node by any process and every
//! last `close` of an opened file, and [`SETTLE_NS`] after such events the compositor counts the
//! descriptors other processes hold on the device (`/proc/<pid>/fd`,
//! [`viba_media::openers`]). Events cannot be counted directly: inotify merges identical
//! events that follow each other (two opens in a row arrive as one).
//!
//! Processes whose `/proc/<pid>/fd` cannot be read (another user's, or sandboxed ones that made
//! themselves non-dumpable) are not seen by the count. An `open` after which the visible count
//! did not grow is taken as such a hidden reader, until a `close` after which the visible count
//! did not shrink. Two races are ruled out: the kernel queues an open's event before its
//! descriptor shows in `/proc`, so an open during the scan could be counted and its event read
//! after the count, then taken for a hidden reader; a count during which events came is
//! therefore not acted on but taken again once they settle. And a descriptor leaves `/proc`
//! before its close event is queued, so an open and a quick close may show as an open with no
//! new descriptor: such an open makes a hidden reader only if no close follows within the next
//! settle time. Without these, a browser opening and probing the camera left a "hidden reader"
//! behind now and then, which kept the real camera on after the call (found by the Chromium
//! test in the guest, where everything is slower).
//!
//! Two delays keep the real camera from flickering on and off: the count is taken only
//! [`SETTLE_NS`] after the events (browsers open every camera for a few milliseconds to list
//! them), and the pipeline stays awake [`LINGER_NS`] after the last reader closed it (call apps
//! close and reopen the device while they start).

use nix::poll::{PollFd, PollFlags, PollTimeout};
use nix::sys::inotify::{AddWatchFlags, InitFlags, Inotify};
use std::os::fd::AsFd;
use std::path::Path;
use std::time::Duration;
use viba_media::openers::{self, Target};

/// How long after an open or close event the count is acted on.
pub const SETTLE_NS: u64 = 100_000_000;
/// How long the pipeline stays awake after the last reader left.
pub const LINGER_NS: u64 = 2_000_000_000;
/// How often `/proc` is scanned without events: a safety net with inotify, the only signal
/// without it. A scan takes 0.7 ms for 65 processes here, tens of ms on a desktop with
/// hundreds of processes.
const RESCAN_NS: u64 = 60_000_000_000;
const RESCAN_BLIND_NS: u64 = 1_000_000_000;
/// Counts put off in a row at most because events came during the scan.
const MAX_RECOUNTS: u32 = 3;

/// Counts the readers of one device.
pub struct Demand {
    device: String,
    target: Target,
    inotify: Option<Inotify>,
    me: u32,
    /// Descriptors on the device seen in `/proc` at the last count.
    visible: u32,
    /// An application we cannot see holds the device (see the module notes).
    hidden: bool,
    /// An open the last count did not explain: a hidden reader unless a close follows within
    /// the next settle time (see the module notes).
    suspect: bool,
    /// Counts in a row put off because events came during the scan.
    recounts: u32,
    /// Events since the last count.
    opened: bool,
    closed: bool,
    /// `visible + hidden` at the last count: what is reported and acted on.
    consumers: u32,
    last_seen_ns: Option<u64>,
    last_scan_ns: u64,
    decide_at_ns: Option<u64>,
}

impl Demand {
    /// Watches `device` and counts its readers now.
    pub fn new(device: &str, now_ns: u64) -> Demand {
        let target = Target::new(Path::new(device));
        let inotify = Inotify::init(InitFlags::IN_NONBLOCK | InitFlags::IN_CLOEXEC)
            .and_then(|i| {
                i.add_watch(
                    target.path(),
                    AddWatchFlags::IN_OPEN | AddWatchFlags::IN_CLOSE,
                )?;
                Ok(i)
            })
            .map_err(|e| blind_warning(device, &e.to_string()))
            .ok();
        let mut d = Demand {
            device: device.to_owned(),
            target,
            inotify,
            me: std::process::id(),
            visible: 0,
            hidden: false,
            suspect: false,
            recounts: 0,
            opened: false,
            closed: false,
            consumers: 0,
            last_seen_ns: None,
            last_scan_ns: now_ns,
            decide_at_ns: None,
        };
        d.decide(now_ns);
        d
    }

    /// Descriptors other processes held on the device at the last count, plus one for a hidden
    /// reader (an application usually holds one).
    pub fn consumers(&self) -> u32 {
        self.consumers
    }

    /// The device watched.
    pub fn device(&self) -> &str {
        &self.device
    }

    /// Whether the pipeline should run: a reader now, or one within [`LINGER_NS`].
    pub fn wanted(&self, now_ns: u64) -> bool {
        self.consumers > 0
            || self
                .last_seen_ns
                .is_some_and(|t| now_ns.saturating_sub(t) < LINGER_NS)
    }

    /// Takes the pending events and counts when due. Never blocks.
    pub fn update(&mut self, now_ns: u64) {
        let rescan = match self.inotify {
            Some(_) => {
                if self.read_events() && self.decide_at_ns.is_none() {
                    self.decide_at_ns = Some(now_ns + SETTLE_NS);
                }
                RESCAN_NS
            }
            None => RESCAN_BLIND_NS,
        };
        let due = self.decide_at_ns.is_some_and(|d| now_ns >= d)
            || now_ns.saturating_sub(self.last_scan_ns) >= rescan;
        if due {
            self.decide(now_ns);
        }
    }

    /// Takes the pending open and close events into `opened` and `closed`; whether any came.
    fn read_events(&mut self) -> bool {
        let Some(inotify) = &self.inotify else {
            return false;
        };
        let (mut changed, mut lost) = (false, false);
        while let Ok(events) = inotify.read_events() {
            if events.is_empty() {
                break;
            }
            for e in events {
                changed = true;
                self.opened |= e.mask.contains(AddWatchFlags::IN_OPEN);
                self.closed |= e.mask.intersects(AddWatchFlags::IN_CLOSE);
                lost |= e.mask.contains(AddWatchFlags::IN_IGNORED);
            }
        }
        if lost {
            // The node went away (module unloaded): nothing more will come.
            blind_warning(&self.device, "the device node was removed");
            self.inotify = None;
        }
        changed
    }

    /// Sleeps until an open or close event, a due decision, or `timeout`.
    pub fn wait(&self, now_ns: u64, timeout: Duration) {
        let mut wait_ns = timeout.as_nanos() as u64;
        if let Some(due) = self.decide_at_ns {
            wait_ns = wait_ns.min(due.saturating_sub(now_ns));
        }
        let ms = wait_ns.div_ceil(1_000_000).min(u16::MAX as u64) as u16;
        match &self.inotify {
            Some(inotify) => {
                let mut fds = [PollFd::new(inotify.as_fd(), PollFlags::POLLIN)];
                // Interrupted by a signal (shutdown, snapshot): the caller looks at it.
                let _ = nix::poll::poll(&mut fds, PollTimeout::from(ms));
            }
            None => {
                let next = (self.last_scan_ns + RESCAN_BLIND_NS).saturating_sub(now_ns);
                let ms = (ms as u64).min(next.div_ceil(1_000_000));
                std::thread::sleep(Duration::from_millis(ms));
            }
        }
    }

    /// Counts the readers and acts on the events since the last count.
    fn decide(&mut self, now_ns: u64) {
        self.last_scan_ns = now_ns;
        let visible: u32 = openers::scan(&self.target, self.me)
            .iter()
            .map(|h| h.fds)
            .sum();
        // Events that came while `/proc` was scanned belong to descriptors the scan may or may
        // not have seen: count again once they settle (a few times at most, so that a device
        // opened and closed without pause is still counted).
        if self.read_events() && self.recounts < MAX_RECOUNTS {
            self.recounts += 1;
            self.decide_at_ns = Some(now_ns + SETTLE_NS);
            return;
        }
        self.recounts = 0;
        // An open the last count did not explain, and no close since: a hidden reader.
        if std::mem::take(&mut self.suspect) && !self.closed {
            self.hidden = true;
        }
        match (self.opened, self.closed) {
            // Opened, and nobody we can see holds more: someone we cannot see does, unless it
            // closes again at once (checked at the next count: an open and close whose
            // descriptor was gone before its close event was queued).
            (true, false) if visible <= self.visible => self.suspect = true,
            // Closed, and everyone we can see still holds it: the hidden reader left.
            (false, true) if visible >= self.visible => self.hidden = false,
            _ => {}
        }
        if self.opened || self.closed || visible != self.visible {
            viba_common::debug_line!(
                "viba-compositor",
                "{}: opened {} closed {}, descriptors seen {} (were {}), hidden reader {}, suspected {}",
                self.device,
                self.opened,
                self.closed,
                visible,
                self.visible,
                self.hidden,
                self.suspect
            );
        }
        (self.opened, self.closed) = (false, false);
        self.visible = visible;
        let consumers = visible + self.hidden as u32;
        // Seen now, or just left: the linger counts from here.
        if self.consumers > 0 || consumers > 0 {
            self.last_seen_ns = Some(now_ns);
        }
        self.consumers = consumers;
        self.decide_at_ns = self.suspect.then_some(now_ns + SETTLE_NS);
    }
}

fn blind_warning(device: &str, why: &str) {
    eprintln!(
        "viba-compositor: {device}: cannot watch for applications opening it ({why}); \
         counting them every {} ms from /proc instead",
        RESCAN_BLIND_NS / 1_000_000
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use viba_common::clock::monotonic_ns;
    use viba_media::openers::spawn_holder;

    /// Updates (sleeping in `wait`) until `done` or 3 s.
    fn settle(d: &mut Demand, done: impl Fn(&Demand) -> bool) -> bool {
        let end = monotonic_ns() + 3_000_000_000;
        loop {
            let now = monotonic_ns();
            d.update(now);
            if done(d) {
                return true;
            }
            if now > end {
                return false;
            }
            d.wait(now, Duration::from_millis(50));
        }
    }

    fn device() -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("video99");
        std::fs::write(&file, b"").unwrap();
        (dir, file)
    }

    fn stop(mut child: std::process::Child) {
        child.kill().unwrap();
        child.wait().unwrap();
    }

    #[test]
    fn an_opening_process_wakes_the_pipeline_and_closing_idles_it_after_the_linger() {
        let (_dir, file) = device();
        // Our own descriptor (the producer's) does not count.
        let _own = std::fs::File::open(&file).unwrap();
        let mut d = Demand::new(file.to_str().unwrap(), monotonic_ns());
        assert!(d.inotify.is_some());
        assert_eq!(d.consumers(), 0);
        assert!(!d.wanted(monotonic_ns()));

        let opened = monotonic_ns();
        let reader = spawn_holder(&file, false);
        assert!(settle(&mut d, |d| d.consumers() == 1));
        let woke = monotonic_ns() - opened;
        assert!(
            woke >= SETTLE_NS,
            "acted on before the settle time: {woke} ns"
        );

        stop(reader);
        assert!(settle(&mut d, |d| d.consumers() == 0));
        let now = monotonic_ns();
        assert!(
            d.wanted(now),
            "still awake right after the last reader left"
        );
        assert!(!d.wanted(now + LINGER_NS));
    }

    #[test]
    fn the_linger_counts_from_the_close_not_from_the_open() {
        let (_dir, file) = device();
        let mut d = Demand::new(file.to_str().unwrap(), monotonic_ns());
        let reader = spawn_holder(&file, false);
        assert!(settle(&mut d, |d| d.consumers() == 1));
        stop(reader);
        // The close event is read 30 s "later" (time is passed in): well after the open.
        let mut later = monotonic_ns() + 30_000_000_000;
        for _ in 0..60 {
            d.wait(monotonic_ns(), Duration::from_millis(50));
            d.update(later);
            if d.decide_at_ns.is_some() {
                break;
            }
        }
        assert!(d.decide_at_ns.is_some(), "no close event");
        later += SETTLE_NS;
        d.update(later);
        assert_eq!(d.consumers(), 0);
        assert!(d.wanted(later));
        assert!(!d.wanted(later + LINGER_NS));
    }

    #[test]
    fn a_quick_open_and_close_does_not_wake_the_pipeline() {
        let (_dir, file) = device();
        let mut d = Demand::new(file.to_str().unwrap(), monotonic_ns());
        // Open and close within a few milliseconds, as a browser listing cameras does.
        let st = std::process::Command::new("sh")
            .args(["-c", "exec 3<\"$1\"; exec 3<&-", "sh"])
            .arg(&file)
            .status()
            .unwrap();
        assert!(st.success());
        assert!(settle(&mut d, |d| d.decide_at_ns.is_none() && !d.opened));
        assert_eq!(d.consumers(), 0);
        assert!(!d.wanted(monotonic_ns()));
    }

    #[test]
    fn readers_present_at_start_are_counted_and_their_close_is_seen() {
        let (_dir, file) = device();
        let reader = spawn_holder(&file, true);
        let mut d = Demand::new(file.to_str().unwrap(), monotonic_ns());
        assert_eq!(d.consumers(), 2, "two descriptors");
        assert!(d.wanted(monotonic_ns()));
        stop(reader);
        assert!(settle(&mut d, |d| d.consumers() == 0));
    }

    #[test]
    fn an_opener_that_cannot_be_seen_counts_until_a_close() {
        let (_dir, file) = device();
        let mut d = Demand::new(file.to_str().unwrap(), monotonic_ns());
        // Our own process is never in the count: a reader the scan cannot see.
        let hidden = std::fs::File::open(&file).unwrap();
        assert!(settle(&mut d, |d| d.consumers() == 1));
        assert!(d.hidden);
        // A visible reader comes and goes; the hidden one stays counted.
        let reader = spawn_holder(&file, false);
        assert!(settle(&mut d, |d| d.consumers() == 2));
        stop(reader);
        assert!(settle(&mut d, |d| d.consumers() == 1));
        drop(hidden);
        assert!(settle(&mut d, |d| d.consumers() == 0));
    }

    #[test]
    fn an_open_whose_event_is_pending_at_the_count_leaves_no_hidden_reader() {
        let (_dir, file) = device();
        let mut d = Demand::new(file.to_str().unwrap(), monotonic_ns());
        // The reader opens during a count: the count sees its descriptor, the event is read
        // after it.
        let reader = spawn_holder(&file, false);
        assert!(wait_for_holders(&file, true));
        d.decide(monotonic_ns());
        assert_eq!(d.recounts, 1, "acted on a count with an event pending");
        assert!(settle(&mut d, |d| d.decide_at_ns.is_none() && !d.opened));
        assert!(!d.hidden, "the late open event made a hidden reader");
        assert_eq!(d.consumers(), 1);
        stop(reader);
        assert!(settle(&mut d, |d| d.consumers() == 0));
    }

    #[test]
    fn a_close_whose_event_is_pending_at_the_count_keeps_the_hidden_reader() {
        let (_dir, file) = device();
        let mut d = Demand::new(file.to_str().unwrap(), monotonic_ns());
        let hidden = std::fs::File::open(&file).unwrap();
        assert!(settle(&mut d, |d| d.consumers() == 1 && d.hidden));
        let reader = spawn_holder(&file, false);
        assert!(settle(&mut d, |d| d.consumers() == 2));
        // The visible reader closes during a count: its close event is read after it.
        stop(reader);
        assert!(wait_for_holders(&file, false));
        d.decide(monotonic_ns());
        assert_eq!(d.recounts, 1, "acted on a count with an event pending");
        assert!(settle(&mut d, |d| d.decide_at_ns.is_none() && !d.closed));
        assert!(d.hidden, "the late close event dropped the hidden reader");
        assert_eq!(d.consumers(), 1);
        drop(hidden);
        assert!(settle(&mut d, |d| d.consumers() == 0));
    }

    #[test]
    fn an_open_whose_close_comes_late_leaves_no_hidden_reader() {
        let (_dir, file) = device();
        let t0 = monotonic_ns();
        let mut d = Demand::new(file.to_str().unwrap(), t0);
        // A probe whose descriptor is gone at the count (our own process is never counted:
        // as if it had closed before its close event was queued).
        let probe = std::fs::File::open(&file).unwrap();
        let read_events = |d: &mut Demand, now: u64, done: fn(&Demand) -> bool| {
            for _ in 0..200 {
                d.update(now);
                if done(d) {
                    return;
                }
                d.wait(now, Duration::from_millis(10));
            }
            panic!("the events never came");
        };
        read_events(&mut d, t0, |d| d.opened);
        d.update(t0 + SETTLE_NS);
        assert!(d.suspect && !d.hidden && d.consumers() == 0);
        // Its close, and an application opening the camera for real, in the next window.
        drop(probe);
        let reader = spawn_holder(&file, false);
        assert!(wait_for_holders(&file, true));
        read_events(&mut d, t0 + SETTLE_NS + 1, |d| d.opened && d.closed);
        d.update(t0 + 2 * SETTLE_NS);
        assert!(!d.hidden, "the probe left a hidden reader");
        assert_eq!(d.consumers(), 1);
        stop(reader);
        assert!(settle(&mut d, |d| d.consumers() == 0));
    }

    /// Waits (10 s at most) until other processes hold `file` (`held`) or none does; whether
    /// that came.
    fn wait_for_holders(file: &std::path::Path, held: bool) -> bool {
        let target = Target::new(file);
        let end = monotonic_ns() + 10_000_000_000;
        while monotonic_ns() < end {
            if openers::scan(&target, std::process::id()).is_empty() != held {
                return true;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        false
    }

    #[test]
    fn without_inotify_proc_is_scanned() {
        let (_dir, file) = device();
        let mut d = Demand::new(file.to_str().unwrap(), monotonic_ns());
        d.inotify = None;
        let reader = spawn_holder(&file, false);
        d.update(monotonic_ns() + RESCAN_BLIND_NS);
        assert_eq!(d.consumers(), 1);
        stop(reader);
        d.update(monotonic_ns() + 2 * RESCAN_BLIND_NS);
        assert_eq!(d.consumers(), 0);
    }
}
