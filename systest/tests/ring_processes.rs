//! Rings across real processes: a writer process publishing checksummed frames at full speed,
//! readers in this process taking the newest; the writer SIGKILLed mid-write again and again; a
//! reader process holding a loan while the writer runs, then SIGKILLed with it.

use std::path::PathBuf;
use std::process::{Child, Command};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use viba_common::ring::{Ring, RingSpec};
use viba_systest::ring_pattern::check_pattern;

fn writer_exe() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_ring_writer"))
}

/// What one reader thread has seen so far, shared with the test's main thread.
#[derive(Default)]
struct Seen {
    reads: AtomicU64,
    torn: AtomicU64,
    last_seq: AtomicU64,
}

/// Reads the newest frame until `stop`, recording into `seen`. Panics if the sequence ever
/// goes back or the metadata belongs to another slot.
fn read_until(ring: &Ring, stop: &AtomicBool, seen: &Seen) {
    let mut last = 0u64;
    while !stop.load(Ordering::Relaxed) {
        if let Some((ok, meta)) = ring.read_newest(|p, m| check_pattern(m.seq, p)) {
            if !ok {
                seen.torn.fetch_add(1, Ordering::Relaxed);
            }
            assert!(
                meta.seq >= last,
                "sequence went back from {last} to {}",
                meta.seq
            );
            assert_eq!(
                meta.timestamp_ns, meta.seq,
                "metadata belongs to another slot"
            );
            last = meta.seq;
            seen.last_seq.store(last, Ordering::Relaxed);
            seen.reads.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Sets the flag when dropped, so reader threads stop even when the test panics.
struct StopOnDrop<'a>(&'a AtomicBool);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// Kills the writer when dropped (also when the test panics).
struct Writer(Child);

impl Writer {
    fn start(name: &str) -> Writer {
        Writer(
            Command::new(writer_exe())
                .arg(name)
                .spawn()
                .expect("start ring_writer"),
        )
    }

    fn kill(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Waits until `done` holds. Bounded by events, not by speed: the limit only turns a hang
/// (a broken ring) into a failure, and is far beyond what the slowest machine needs.
fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let hang = Instant::now() + Duration::from_secs(300);
    while !done() {
        assert!(Instant::now() < hang, "gave up waiting (hang?): {what}");
        std::thread::sleep(Duration::from_millis(1));
    }
}

fn name(what: &str) -> String {
    format!("/viba-it-{}-{what}", std::process::id())
}

#[test]
fn readers_never_see_a_torn_frame_from_a_full_speed_writer() {
    let name = name("speed");
    let ring = Ring::create(&name, RingSpec::frames(640, 480)).unwrap();
    let mut writer = Writer::start(&name);
    let stop = AtomicBool::new(false);
    let seen = [Seen::default(), Seen::default()];
    std::thread::scope(|s| {
        for r in &seen {
            let (ring, stop) = (&ring, &stop);
            s.spawn(move || read_until(ring, stop, r));
        }
        let _guard = StopOnDrop(&stop);
        // Until the writer has published 2000 frames and each reader has read 200, however
        // long that takes on this machine.
        wait_for("2000 frames written, 200 read by each reader", || {
            ring.published_seq() >= 2000
                && seen.iter().all(|r| r.reads.load(Ordering::Relaxed) >= 200)
        });
    });
    writer.kill();
    for r in &seen {
        let reads = r.reads.load(Ordering::Relaxed);
        assert_eq!(
            r.torn.load(Ordering::Relaxed),
            0,
            "torn reads out of {reads}"
        );
    }
}

#[test]
fn a_writer_killed_mid_write_is_replaced_and_readers_resume() {
    let name = name("kill");
    // Large frames: a write takes long enough that most kills land inside one.
    let ring = Ring::create(&name, RingSpec::frames(1920, 1080)).unwrap();
    let stop = AtomicBool::new(false);
    let seen = [Seen::default(), Seen::default()];
    let mut published_before_each_kill = Vec::new();
    let mut killed_mid_write = 0;
    std::thread::scope(|s| {
        for r in &seen {
            let (ring, stop) = (&ring, &stop);
            s.spawn(move || read_until(ring, stop, r));
        }
        let _guard = StopOnDrop(&stop);
        let mut jitter = 7u64;
        let mut kills = 0;
        // 25 kills, and more until one has landed inside a write (most do).
        while kills < 25 || killed_mid_write == 0 {
            assert!(kills < 1000, "no kill in 1000 landed inside a write");
            let before = ring.published_seq();
            let mut writer = Writer::start(&name);
            // This writer continues the sequence, and both readers read one of its frames.
            wait_for("a restarted writer continues", || {
                ring.published_seq() > before
            });
            wait_for("both readers read a frame of the new writer", || {
                seen.iter()
                    .all(|r| r.last_seq.load(Ordering::Relaxed) > before)
            });
            // Kill it at a varying moment.
            jitter = (jitter * 37 + 11) % 23;
            std::thread::sleep(Duration::from_millis(jitter));
            published_before_each_kill.push(ring.published_seq());
            writer.kill();
            kills += 1;
            if ring.slots_in_write() > 0 {
                killed_mid_write += 1;
            }
        }
    });
    assert!(
        published_before_each_kill.windows(2).all(|w| w[1] > w[0]),
        "each writer continued after its predecessor: {published_before_each_kill:?}"
    );
    for r in &seen {
        let reads = r.reads.load(Ordering::Relaxed);
        assert_eq!(
            r.torn.load(Ordering::Relaxed),
            0,
            "torn reads out of {reads}"
        );
    }
}

#[test]
fn a_loan_holds_against_a_full_speed_writer_and_a_killed_readers_loan_is_cleared() {
    use std::io::BufRead;
    let name = name("loan");
    let ring = Ring::create(&name, RingSpec::frames(640, 480)).unwrap();
    let mut writer = Writer::start(&name);
    wait_for("the writer publishes", || ring.published_seq() > 0);
    let mut reader = Command::new(env!("CARGO_BIN_EXE_ring_reader"))
        .args([&name, "500"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("start ring_reader");
    let mut lines = std::io::BufReader::new(reader.stdout.take().unwrap()).lines();
    let mut next_line = || lines.next().expect("ring_reader said nothing").unwrap();
    let holding = next_line();
    assert!(holding.starts_with("holding "), "{holding}");
    // The writer goes on into the other slots, and the frame on loan stays as it was (the
    // reader checks it until 500 more frames are out; on a change it says TORN and exits).
    let intact = next_line();
    assert_eq!(intact, holding.replace("holding", "intact"));
    assert_eq!(ring.loans(), 1);
    let _ = reader.kill();
    let _ = reader.wait();
    // The dead reader's loan is cleared once its slot is needed: this thread holds two more
    // loans, so with the published slot only the dead reader's one is left to write.
    ring.read_newest(|_, first| {
        wait_for("a newer publish", || ring.published_seq() > first.seq);
        ring.read_newest(|_, second| {
            let target = second.seq + 10;
            wait_for("the writer writes on into the dead reader's slot", || {
                ring.published_seq() >= target
            });
            assert_eq!(ring.loans(), 2, "only this thread's loans are left");
        });
    });
    writer.kill();
    assert_eq!(ring.loans(), 0);
}
