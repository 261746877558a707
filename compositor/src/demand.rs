//! Whether any application has the fake camera open.
//!
//! The kernel does not tell a v4l2loopback producer about its readers, so the compositor
//! watches the device node with inotify (every `open` and `close` of it by any process) and,
//! shortly after each such event, counts the processes other than itself that hold it
//! (`/proc/<pid>/fd`). A rescan every minute covers events inotify could not deliver.
//!
//! Two delays keep the real camera from flickering on and off: a process must still hold the
//! device [`SETTLE_NS`] after its `open` (browsers open every camera for a few milliseconds
//! to list them), and the pipeline stays awake [`LINGER_NS`] after the last reader closes
//! (call apps close and reopen the device while they start).

use nix::poll::{PollFd, PollFlags, PollTimeout};
use nix::sys::inotify::{AddWatchFlags, InitFlags, Inotify};
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::time::Duration;
use viba_common::openers;

/// How long after an open or close event the readers are counted.
pub const SETTLE_NS: u64 = 100_000_000;
/// How long the pipeline stays awake after the last reader left.
pub const LINGER_NS: u64 = 2_000_000_000;
/// Rescan period when inotify works (a safety net) and when it does not (the only signal). A
/// scan reads every process's descriptor links: 0.7 ms for 65 processes here, tens of ms on a
/// desktop with hundreds of processes, so it is rare while inotify works.
const RESCAN_NS: u64 = 60_000_000_000;
const RESCAN_BLIND_NS: u64 = 1_000_000_000;

/// Counts the readers of one device.
pub struct Demand {
    device: String,
    target: PathBuf,
    inotify: Option<Inotify>,
    me: u32,
    consumers: u32,
    last_seen_ns: Option<u64>,
    last_scan_ns: u64,
    scan_due_ns: Option<u64>,
}

impl Demand {
    /// Watches `device` and counts its readers now.
    pub fn new(device: &str, now_ns: u64) -> Demand {
        let target = openers::link_target(Path::new(device));
        let inotify = Inotify::init(InitFlags::IN_NONBLOCK | InitFlags::IN_CLOEXEC)
            .and_then(|i| {
                i.add_watch(&target, AddWatchFlags::IN_OPEN | AddWatchFlags::IN_CLOSE)?;
                Ok(i)
            })
            .map_err(|e| {
                eprintln!(
                    "viba-compositor: {device}: cannot watch for applications opening it ({e}); \
                     counting them every {} ms instead",
                    RESCAN_BLIND_NS / 1_000_000
                )
            })
            .ok();
        let mut d = Demand {
            device: device.to_owned(),
            target,
            inotify,
            me: std::process::id(),
            consumers: 0,
            last_seen_ns: None,
            last_scan_ns: 0,
            scan_due_ns: None,
        };
        d.scan(now_ns);
        d
    }

    /// Applications holding the device at the last count.
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

    /// Takes the pending events and counts again when a count is due. Never blocks.
    pub fn update(&mut self, now_ns: u64) {
        if let Some(inotify) = &self.inotify {
            // Only the fact that something happened matters, not what.
            while inotify.read_events().is_ok_and(|events| !events.is_empty()) {
                let due = now_ns + SETTLE_NS;
                self.scan_due_ns = Some(self.scan_due_ns.map_or(due, |d| d.min(due)));
            }
        }
        let rescan = if self.inotify.is_some() {
            RESCAN_NS
        } else {
            RESCAN_BLIND_NS
        };
        let due = self.scan_due_ns.is_some_and(|d| now_ns >= d)
            || now_ns.saturating_sub(self.last_scan_ns) >= rescan;
        if due {
            self.scan(now_ns);
        }
    }

    /// Sleeps until an open or close event, a due count, or `timeout`.
    pub fn wait(&self, now_ns: u64, timeout: Duration) {
        let mut wait_ns = timeout.as_nanos() as u64;
        if let Some(due) = self.scan_due_ns {
            wait_ns = wait_ns.min(due.saturating_sub(now_ns));
        }
        let ms = wait_ns.div_ceil(1_000_000).min(u16::MAX as u64) as u16;
        match &self.inotify {
            Some(inotify) => {
                let mut fds = [PollFd::new(inotify.as_fd(), PollFlags::POLLIN)];
                // Interrupted by a signal (shutdown, snapshot): the caller looks at it.
                let _ = nix::poll::poll(&mut fds, PollTimeout::from(ms));
            }
            None => std::thread::sleep(Duration::from_millis(ms as u64)),
        }
    }

    fn scan(&mut self, now_ns: u64) {
        let found = openers::scan(&self.target, self.me);
        self.consumers = found.len() as u32;
        self.last_scan_ns = now_ns;
        self.scan_due_ns = None;
        if self.consumers > 0 {
            self.last_seen_ns = Some(now_ns);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::{Command, Stdio};
    use viba_common::clock::monotonic_ns;

    fn hold(file: &Path) -> std::process::Child {
        let mut child = Command::new("sh")
            .arg("-c")
            .arg("exec 3<\"$1\"; echo ready; exec sleep 30")
            .arg("sh")
            .arg(file)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        std::io::BufRead::read_line(
            &mut std::io::BufReader::new(child.stdout.as_mut().unwrap()),
            &mut line,
        )
        .unwrap();
        child
    }

    /// Updates (sleeping in `wait`) until `done` or 3 s.
    fn settle(d: &mut Demand, done: impl Fn(&Demand, u64) -> bool) -> bool {
        let end = monotonic_ns() + 3_000_000_000;
        loop {
            let now = monotonic_ns();
            d.update(now);
            if done(d, now) {
                return true;
            }
            if now > end {
                return false;
            }
            d.wait(now, Duration::from_millis(50));
        }
    }

    #[test]
    fn an_opening_process_wakes_the_pipeline_and_idling_follows_after_the_linger() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("video99");
        std::fs::write(&file, b"").unwrap();
        // Our own descriptor (the producer's) does not count.
        let _own = std::fs::File::open(&file).unwrap();
        let mut d = Demand::new(file.to_str().unwrap(), monotonic_ns());
        assert!(d.inotify.is_some());
        assert_eq!(d.consumers(), 0);
        assert!(!d.wanted(monotonic_ns()));

        let opened = monotonic_ns();
        let mut reader = hold(&file);
        assert!(settle(&mut d, |d, _| d.consumers() == 1));
        let woke = monotonic_ns() - opened;
        // The open event, not the 5 s rescan, brought it (the bound is loose on purpose).
        assert!(woke < 2_000_000_000, "took {woke} ns");

        reader.kill().unwrap();
        reader.wait().unwrap();
        assert!(settle(&mut d, |d, _| d.consumers() == 0));
        let now = monotonic_ns();
        assert!(
            d.wanted(now),
            "still awake right after the last reader left"
        );
        assert!(!d.wanted(now + LINGER_NS));
    }

    #[test]
    fn a_device_that_cannot_be_watched_is_counted_by_rescans() {
        let mut d = Demand::new("/nonexistent/video98", monotonic_ns());
        assert!(d.inotify.is_none());
        d.update(monotonic_ns() + RESCAN_BLIND_NS);
        assert_eq!(d.consumers(), 0);
    }
}
