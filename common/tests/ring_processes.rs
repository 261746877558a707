//! Rings across real processes: a writer process publishing checksummed frames at full speed,
//! readers in this process taking the newest; the writer SIGKILLed mid-write again and again.

use std::path::PathBuf;
use std::process::{Child, Command};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use viba_common::ring::{check_pattern, Ring, RingSpec};

fn writer_exe() -> PathBuf {
    // target/<profile>/deps/<this test> -> target/<profile>/examples/ring_writer
    let exe = std::env::current_exe().unwrap();
    let path = exe
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("examples/ring_writer");
    assert!(
        path.exists(),
        "{} is missing: cargo test builds examples; run it through cargo",
        path.display()
    );
    path
}

fn start_writer(name: &str) -> Child {
    Command::new(writer_exe())
        .arg(name)
        .spawn()
        .expect("start ring_writer")
}

/// Reads the newest frame until `stop`; returns (reads, torn reads, max seq seen). Panics if
/// the sequence ever goes back.
fn read_until(ring: &Ring, stop: &AtomicBool) -> (u64, u64, u64) {
    let (mut reads, mut torn, mut last) = (0u64, 0u64, 0u64);
    while !stop.load(Ordering::Relaxed) {
        if let Some((ok, meta)) = ring.read_newest(|p, m| check_pattern(m.seq, p)) {
            reads += 1;
            if !ok {
                torn += 1;
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
        }
    }
    (reads, torn, last)
}

/// Sets the flag when dropped, so reader threads stop even when the test panics.
struct StopOnDrop<'a>(&'a AtomicBool);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

fn name(what: &str) -> String {
    format!("/viba-it-{}-{what}", std::process::id())
}

#[test]
fn readers_never_see_a_torn_frame_from_a_full_speed_writer() {
    let name = name("speed");
    let ring = Ring::create(&name, RingSpec::frames(640, 480)).unwrap();
    let mut writer = start_writer(&name);
    let stop = AtomicBool::new(false);
    let results = std::thread::scope(|s| {
        let readers: Vec<_> = (0..2)
            .map(|_| s.spawn(|| read_until(&ring, &stop)))
            .collect();
        let guard = StopOnDrop(&stop);
        std::thread::sleep(Duration::from_secs(3));
        drop(guard);
        readers
            .into_iter()
            .map(|r| r.join().unwrap())
            .collect::<Vec<_>>()
    });
    writer.kill().unwrap();
    writer.wait().unwrap();
    for (reads, torn, last) in results {
        assert_eq!(torn, 0, "torn reads out of {reads}");
        assert!(reads > 100, "only {reads} reads");
        assert!(last > 100, "writer published only {last} frames");
    }
}

#[test]
fn a_writer_killed_mid_write_is_replaced_and_readers_resume() {
    let name = name("kill");
    // Large frames: a write takes long enough that most kills land inside one.
    let ring = Ring::create(&name, RingSpec::frames(1920, 1080)).unwrap();
    let stop = AtomicBool::new(false);
    let mut published_before_each_kill = Vec::new();
    let mut killed_mid_write = 0;
    let results = std::thread::scope(|s| {
        let readers: Vec<_> = (0..2)
            .map(|_| s.spawn(|| read_until(&ring, &stop)))
            .collect();
        let guard = StopOnDrop(&stop);
        let mut jitter = 7u64;
        for _ in 0..25 {
            let mut writer = start_writer(&name);
            // Wait until this writer has published something, then kill it at a varying moment.
            let before = ring.published_seq();
            let deadline = Instant::now() + Duration::from_secs(10);
            while ring.published_seq() <= before && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(1));
            }
            assert!(
                ring.published_seq() > before,
                "a restarted writer did not continue"
            );
            jitter = (jitter * 37 + 11) % 23;
            std::thread::sleep(Duration::from_millis(jitter));
            published_before_each_kill.push(ring.published_seq());
            writer.kill().unwrap();
            writer.wait().unwrap();
            if ring.slots_in_write() > 0 {
                killed_mid_write += 1;
            }
        }
        drop(guard);
        readers
            .into_iter()
            .map(|r| r.join().unwrap())
            .collect::<Vec<_>>()
    });
    assert!(
        published_before_each_kill.windows(2).all(|w| w[1] > w[0]),
        "each writer continued after its predecessor: {published_before_each_kill:?}"
    );
    assert!(killed_mid_write > 0, "no kill landed inside a write");
    for (reads, torn, _) in results {
        assert_eq!(torn, 0, "torn reads out of {reads}");
        assert!(reads > 25);
    }
}
