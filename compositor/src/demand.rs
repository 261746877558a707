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
//! did not shrink.
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
        let rescan = match &self.inotify {
            Some(inotify) => {
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
                if changed && self.decide_at_ns.is_none() {
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
        match (self.opened, self.closed) {
            // Opened, and nobody we can see holds more: someone we cannot see does.
            (true, false) if visible <= self.visible => self.hidden = true,
            // Closed, and everyone we can see still holds it: the hidden reader left.
            (false, true) if visible >= self.visible => self.hidden = false,
            _ => {}
        }
        (self.opened, self.closed) = (false, false);
        self.visible = visible;
        let consumers = visible + self.hidden as u32;
        // Seen now, or just left: the linger counts from here.
        if self.consumers > 0 || consumers > 0 {
            self.last_seen_ns = Some(now_ns);
        }
        self.consumers = consumers;
        self.decide_at_ns = None;
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
