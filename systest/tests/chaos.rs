//! Chaos: SIGKILLs of random workers while the pipeline runs. Bounded by events (a number of
//! kills, each after the pipeline has shown progress), never by time. Asserts that every kill
//! is followed by a restart, that the output goes on, that no frame shows the room where the
//! picture is always background, and that nothing is left behind; prints what it measured.
//! `VIBA_CHAOS_KILLS` sets the number of kills (default 24).

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use std::time::{Duration, Instant};
use viba_common::stage::Stage;
use viba_common::stats::Stats;
use viba_supervisor::quality::y4m::OutputReader;
use viba_systest::testing::*;

const SIZE: (usize, usize) = (512, 512);

/// The (Y, U, V) of each pixel of a YUYV frame: its own luma and its pair's chroma.
fn yuv_at(yuyv: &[u8], x: usize, y: usize) -> [u8; 3] {
    let pair = (y * SIZE.0 + x / 2 * 2) * 2;
    [yuyv[(y * SIZE.0 + x) * 2], yuyv[pair + 1], yuyv[pair + 3]]
}

fn close(a: [u8; 3], b: [u8; 3], tolerance: u8) -> bool {
    a.iter().zip(b).all(|(&p, q)| p.abs_diff(q) <= tolerance)
}

/// The pixels at least `margin` pixels from anything but the background in `reference` (a
/// composite with a mask): where the room would show if the person's cut-out went wrong.
fn always_background(reference: &[u8], background: [u8; 3], margin: usize) -> Vec<(usize, usize)> {
    let (w, h) = SIZE;
    let plain: Vec<bool> = (0..w * h)
        .map(|i| close(yuv_at(reference, i % w, i / w), background, 2))
        .collect();
    let mut out = vec![];
    for y in margin..h - margin {
        for x in margin..w - margin {
            let all = (y - margin..=y + margin).step_by(2).all(|yy| {
                (x - margin..=x + margin)
                    .step_by(2)
                    .all(|xx| plain[yy * w + xx])
            });
            if all && x % 3 == 0 && y % 3 == 0 {
                out.push((x, y));
            }
        }
    }
    out
}

/// xorshift64: the same kills on every run.
struct Dice(u64);

impl Dice {
    fn roll(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

#[test]
fn random_sigkills_never_show_the_room_and_every_worker_comes_back() {
    let kills: usize = std::env::var("VIBA_CHAOS_KILLS")
        .ok()
        .and_then(|k| k.parse().ok())
        .unwrap_or(24);
    let mut inst = Instance::new("chaos", |c| {
        portrait(c);
        c["segmentation"]["smoothing"] = 0.8.into();
    });
    inst.start();
    inst.wait_running();
    let stats = Stats::open(&viba_common::names::segment(
        &inst.name,
        viba_common::names::Segment::Stats,
    ))
    .unwrap();
    let produced = |s: Stage| {
        stats
            .stage(s)
            .frames
            .load(std::sync::atomic::Ordering::Relaxed)
    };
    let pid_of = |s: Stage| {
        stats
            .stage(s)
            .pid
            .load(std::sync::atomic::Ordering::Relaxed)
    };
    inst.wait_progress(Stage::Segmenter, 10);
    inst.wait_progress(Stage::Compositor, 10);

    let output_before = produced(Stage::Compositor);
    let mut dice = Dice(0x5eed_cafe_f00d_d00d);
    let mut killed = [0u32; 3];
    let started = Instant::now();
    // The longest time the output stood still, apart from the compositor's own restarts.
    let mut longest_stall = Duration::ZERO;
    let mut compositor_restarts = vec![];
    for _ in 0..kills {
        let stage = Stage::ALL[dice.roll(3) as usize];
        let old = pid_of(stage);
        assert_ne!(old, 0, "{stage} has no process; log:\n{}", inst.log());
        let _ = kill(Pid::from_raw(old as i32), Signal::SIGKILL);
        let killed_at = Instant::now();
        killed[stage as usize] += 1;
        // Back: a new process has entered its loop, and the output has moved on since.
        let mut last_output = (produced(Stage::Compositor), Instant::now());
        let mut stall = Duration::ZERO;
        let mut output_when_new: Option<u64> = None;
        let back = wait_until(Duration::from_secs(60), || {
            let now = produced(Stage::Compositor);
            if now != last_output.0 {
                last_output = (now, Instant::now());
            }
            stall = stall.max(last_output.1.elapsed());
            let p = pid_of(stage);
            if output_when_new.is_none() && p != 0 && p != old {
                output_when_new = Some(now);
            }
            output_when_new.is_some_and(|n| now > n)
        });
        assert!(back, "{stage} did not come back; log:\n{}", inst.log());
        if stage == Stage::Compositor {
            compositor_restarts.push(killed_at.elapsed());
        } else {
            longest_stall = longest_stall.max(stall);
        }
        // Some output before the next kill (3 to 12 frames).
        let extra = 3 + dice.roll(10);
        inst.wait_progress(Stage::Compositor, extra);
    }
    let seconds = started.elapsed().as_secs_f64();
    let fps = (produced(Stage::Compositor) - output_before) as f64 / seconds;
    // Restarts as the supervisor counted them: one per kill.
    for stage in Stage::ALL {
        let s = inst.stage_status(stage.name()).unwrap();
        assert_eq!(
            s["restarts"].as_u64().unwrap(),
            killed[stage as usize] as u64,
            "{stage}: {s}\n{}",
            inst.log()
        );
    }
    // The output goes on with masks.
    inst.wait_progress(Stage::Segmenter, 5);
    inst.wait_progress(Stage::Compositor, 10);
    let pids: Vec<u32> = Stage::ALL.iter().map(|&s| pid_of(s)).collect();
    let written = produced(Stage::Compositor);
    assert_eq!(inst.terminate(), Some(0));
    let gone = wait_until(Duration::from_secs(10), || pids.iter().all(|&p| !alive(p)));
    assert!(gone, "workers left: {pids:?}");
    assert_eq!(leftover_segments(&inst.name), Vec::<String>::new());

    // Every frame of the recording (one file across the compositor's restarts): where the
    // picture is background, it is the background in every frame.
    let path = inst.dir.path().join("out.y4m");
    let mut reader = OutputReader::open(&path, SIZE).unwrap();
    let mut frames = vec![];
    while let Some(f) = reader.next_frame().unwrap() {
        frames.push(f);
    }
    // One recording across the compositor's restarts: a killed compositor loses at most what
    // its 1 MiB write buffer held (two 512x512 frames) and the frame it was writing.
    assert!(
        frames.len() as u64 + 3 * killed[2] as u64 >= written,
        "{} frames in the recording, {written} written",
        frames.len()
    );
    let reference = frames
        .iter()
        .rev()
        .find(|f| f.mask != 0)
        .expect("a composite with a mask");
    let background = yuv_at(&frames[0].yuyv, 0, 0);
    let watched = always_background(&reference.yuyv, background, 12);
    assert!(
        watched.len() > 3000,
        "too little background to watch: {}",
        watched.len()
    );
    let mut alone = 0;
    for (i, f) in frames.iter().enumerate() {
        if f.mask == 0 {
            alone += 1;
        }
        for &(x, y) in &watched {
            let p = yuv_at(&f.yuyv, x, y);
            assert!(
                close(p, background, 4),
                "output frame {i} (camera frame {}, mask {}) shows the room at {x},{y}: {p:?}, background {background:?}",
                f.frame,
                f.mask
            );
        }
    }
    let worst_compositor = compositor_restarts
        .iter()
        .max()
        .copied()
        .unwrap_or_default();
    eprintln!(
        "chaos: {kills} kills in {seconds:.1} s (capture {}, segmenter {}, compositor {}); {} output frames ({fps:.1} fps while killing), {alone} with the background alone; {} pixels watched, none showed the room; longest stall of the output while capture or segmenter restarted: {} ms; compositor back after (kill to its next frame) at most {} ms",
        killed[0],
        killed[1],
        killed[2],
        frames.len(),
        watched.len(),
        longest_stall.as_millis(),
        worst_compositor.as_millis(),
    );
    assert!(!inst.log().contains("panicked"), "{}", inst.log());
}
