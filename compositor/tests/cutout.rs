//! viba as a library: the README's photo example, run as a user runs it.

use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_owned()
}

/// target/<profile>/deps/<this test> -> target/<profile>/examples/cutout
fn cutout() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let path = exe
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("examples/cutout");
    assert!(
        path.exists(),
        "{} is missing: cargo test builds examples; run it through cargo",
        path.display()
    );
    path
}

/// Mean absolute difference of two RGB pictures of width `w` over a box.
fn box_diff(a: &[u8], b: &[u8], w: usize, (x0, y0, x1, y1): (usize, usize, usize, usize)) -> f64 {
    let mut sum = 0u64;
    for y in y0..y1 {
        for i in (y * w + x0) * 3..(y * w + x1) * 3 {
            sum += a[i].abs_diff(b[i]) as u64;
        }
    }
    sum as f64 / ((x1 - x0) * (y1 - y0) * 3) as f64
}

#[test]
fn a_photo_is_cut_out_over_a_colour() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("cutout.png");
    let photo = repo().join("testdata/astronaut.png");
    let run = Command::new(cutout())
        .arg(&photo)
        .arg(&out)
        .arg("#20c040")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(run.status.success(), "{run:?}");
    let (w, h, picture) = viba_media::picture::load_rgb(&out).unwrap();
    assert_eq!((w, h), (512, 512));
    let (_, _, original) = viba_media::picture::load_rgb(&photo).unwrap();
    let green = [0x20u8, 0xc0, 0x40].repeat(512 * 512);
    // The face kept, the backdrop and the flag replaced (YUYV costs a few levels; a replaced
    // face would differ by ~100).
    let face = (185, 80, 265, 170);
    for (what, against, area) in [
        ("face", &original, face),
        ("backdrop", &green, (290, 10, 360, 60)),
        ("flag", &green, (0, 0, 60, 120)),
    ] {
        let d = box_diff(&picture, against, 512, area);
        assert!(d < 6.0, "{what}: {d}");
    }
    assert!(box_diff(&picture, &green, 512, face) > 50.0);
}

#[test]
fn a_missing_photo_is_one_line_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let run = Command::new(cutout())
        .arg(dir.path().join("nothere.png"))
        .arg(dir.path().join("out.png"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("nothere.png"), "{stderr}");
    assert!(!dir.path().join("out.png").exists());
}
