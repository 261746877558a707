//! viba as a library: the README's examples run against the real pipeline.

use std::path::PathBuf;
use std::process::Command;
use viba_systest::testing::*;

/// An example of the workspace (`cargo test` builds them beside the binaries).
fn example(name: &str) -> PathBuf {
    let path = bin("viba-supervisor")
        .parent()
        .unwrap()
        .join("examples")
        .join(name);
    assert!(
        path.exists(),
        "{} is missing: cargo build --workspace --examples",
        path.display()
    );
    path
}

#[test]
fn a_fourth_process_reads_the_newest_frames_and_masks_from_the_rings() {
    let mut inst = Instance::new("reader", |_| {});
    inst.start();
    inst.wait_running();
    let png = inst.dir.path().join("newest.png");
    let out = Command::new(example("read_frames"))
        .arg(&inst.config_path)
        .arg("10")
        .arg(&png)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Ten distinct frames, newest first each time: their numbers only go up.
    let seqs: Vec<u64> = stdout
        .lines()
        .filter_map(|l| l.strip_prefix("frame "))
        .map(|l| l.split(' ').next().unwrap().parse().unwrap())
        .collect();
    assert_eq!(seqs.len(), 10, "{stdout}");
    assert!(seqs.windows(2).all(|p| p[0] < p[1]), "{stdout}");
    // The masks are the astronaut's: some person, not all.
    assert!(stdout.contains("newest mask from frame"), "{stdout}");
    assert!(!stdout.contains(": 0.0 % person"), "{stdout}");
    // The last frame is the camera's picture, at the ring's size.
    let (w, h, _) = viba_media::picture::load_rgb(&png).unwrap();
    assert_eq!((w, h), (320, 240));
    // The pipeline went on meanwhile, and stops as usual with a reader gone.
    inst.wait_progress(viba_common::stage::Stage::Compositor, 5);
    assert_eq!(inst.terminate(), Some(0));
    assert_eq!(leftover_segments(&inst.name), Vec::<String>::new());

    // With the pipeline gone: one line naming the instance and the way out, exit 2.
    let out = Command::new(example("read_frames"))
        .arg(&inst.config_path)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains(&inst.name) && stderr.contains("viba-supervisor --config"),
        "{stderr}"
    );
}
