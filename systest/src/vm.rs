//! The V4L2 test rig in the QEMU guest (`scripts/vm-test.sh`): vivid at /dev/video0, the fake
//! webcam at /dev/video20 and a feed camera at /dev/video21 that ffmpeg fills with the
//! astronaut photo; a viba instance between them; the reference mask that says where the
//! person is. Used by `tests/v4l2.rs` (ffmpeg as the application) and `tests/clients.rs`
//! (browsers and GStreamer).

use crate::testing::{repo, wait_until, Instance};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use viba_media::picture::{self, PixelType};

/// Frame width of the V4L2 tests (camera, feed and fake webcam).
pub const W: usize = 320;

/// Frame height of the V4L2 tests.
pub const H: usize = 240;

/// Bytes of one YUYV frame.
pub const FRAME: usize = W * H * 2;

/// viba's output, the fake webcam (v4l2loopback, card label `viba_cam`).
pub const OUT: &str = "/dev/video20";

/// The feed camera the tests fill with ffmpeg (v4l2loopback, `viba_feed`).
pub const FEED: &str = "/dev/video21";

/// The background colour of these tests and its YUYV samples.
pub const BG: &str = "#20c040";

/// Hang guard for waits in the guest (a slow emulated machine).
pub const SLOW: Duration = Duration::from_secs(120);

/// Whether the V4L2 devices are here (the guest); prints why `test` is skipped when not.
pub fn in_vm(test: &str) -> bool {
    if Path::new("/dev/video0").exists() && Path::new(OUT).exists() {
        return true;
    }
    eprintln!("{test}: skipped: no /dev/video0 and /dev/video20 here (run scripts/vm-test.sh)");
    false
}

/// A fresh v4l2loopback (both devices), as an earlier test's `write()` feeder leaves
/// /dev/video21 unusable (v4l2loopback 0.12.7, upstream issue #525).
pub fn reload_loopback() {
    let st = Command::new(repo().join("vm/reload-loopback.sh"))
        .status()
        .unwrap();
    assert!(st.success(), "vm/reload-loopback.sh failed");
}

/// One YUYV frame of the background colour [`BG`].
pub fn bg_yuyv() -> Vec<u8> {
    let mut bg = vec![0u8; FRAME];
    viba_common::yuv::fill_yuyv(&mut bg, [0x20, 0xc0, 0x40]);
    bg
}

/// Whether `dev` advertises video capture now (v4l2loopback with exclusive_caps: only
/// while a producer streams).
pub fn has_capture(dev: &str) -> bool {
    let out = Command::new("v4l2-ctl")
        .args(["-d", dev, "--info"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    text.split("Device Caps")
        .nth(1)
        .is_some_and(|caps| caps.contains("Video Capture"))
}

/// Waits until `dev` offers capture (a producer streams); fails with `inst`'s log.
pub fn wait_capture(dev: &str, inst: Option<&Instance>) {
    let ok = wait_until(SLOW, || has_capture(dev));
    assert!(
        ok,
        "{dev} never offered capture; log:\n{}",
        inst.map(|i| i.log()).unwrap_or_default()
    );
}

/// A viba instance reading `camera`, writing the fake webcam. These tests look at the
/// pipeline before and between readers, so it runs whether or not an application reads;
/// test (g) covers idling, the default.
pub fn camera_instance(tag: &str, camera: &str) -> Instance {
    Instance::new(tag, |c| {
        c["input"] = json!({
            "source": "camera", "device": camera,
            "width": W, "height": H, "fps": 10
        });
        c["output"] = json!({
            "sink": "v4l2loopback", "device": OUT, "idle_when_unused": false
        });
        c["background"] = json!({ "color": BG });
        // The guest is 30-500x slower than the host (a model run takes 0.3-0.5 s there, and
        // 4-7 s on some hosts when the guest CPU offers AVX2/FMA: see vm/README.md): a mask is
        // older than the default 200 ms allows, and the privacy fail-safe would then show the
        // background alone. These tests check the picture, not the fail-safe: the longest age.
        c["compositor"] = json!({ "max_mask_age_ms": 10000 });
        c["segmentation"] = json!({
            "model": repo().join("models/selfie_segmentation.onnx")
        });
    })
}

/// Starts `inst` with the default `output.idle_when_unused` (on) and waits until it answers.
pub fn start_idling_when_unused(inst: &mut Instance) {
    inst.edit_config(|c| {
        c["output"]
            .as_object_mut()
            .unwrap()
            .remove("idle_when_unused");
    });
    inst.start();
    assert!(
        wait_until(SLOW, || inst.status().is_some()),
        "{}",
        inst.log()
    );
}

/// Kills a child when dropped.
pub struct Proc(pub Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `ffmpeg` without banner, stdin or overwrite questions.
pub fn ffmpeg() -> Command {
    let mut c = Command::new("ffmpeg");
    c.args(["-hide_banner", "-nostdin", "-y"]);
    c
}

/// Share of the samples (all YUYV bytes, or the luma of the pixels `select` keeps) within
/// `tol` of `expected`.
pub fn share_close(got: &[u8], expected: &[u8], tol: u8, select: impl Fn(usize) -> bool) -> f64 {
    let (mut n, mut close) = (0usize, 0usize);
    for p in 0..W * H {
        if !select(p) {
            continue;
        }
        n += 1;
        if got[p * 2].abs_diff(expected[p * 2]) <= tol {
            close += 1;
        }
    }
    close as f64 / n.max(1) as f64
}

/// The reference person mask of the astronaut (general model), as the camera sees her:
/// scaled to cover 320x240 exactly like the feed below.
pub fn reference_mask() -> Vec<u8> {
    let (w, h, rgb) = picture::load_rgb(&repo().join("testdata/astronaut_mask_256.png")).unwrap();
    let scaled = picture::resize_cover(&rgb, (w, h), (W as u32, H as u32), PixelType::U8x3);
    scaled.chunks_exact(3).map(|p| p[0]).collect()
}

/// The astronaut photo as YUYV 320x240 (512x512 scaled to 320x320, centre 240 rows kept),
/// made by ffmpeg so that it is byte for byte what the feed sends.
pub fn photo_yuyv(dir: &Path) -> PathBuf {
    let file = dir.join("photo.yuv");
    let out = ffmpeg()
        .args(["-loglevel", "error", "-i"])
        .arg(repo().join("testdata/astronaut.png"))
        .args(["-vf", "scale=320:320,crop=320:240", "-pix_fmt", "yuyv422"])
        .args(["-f", "rawvideo"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(std::fs::metadata(&file).unwrap().len() as usize, FRAME);
    file
}

/// ffmpeg as a looping fake camera on /dev/video21 (a `write()` producer, paced at 10 fps),
/// sending YUYV.
pub fn start_feed(photo: &Path) -> Proc {
    start_feed_as(photo, &["-pix_fmt", "yuyv422"])
}

/// As [`start_feed`], the frames encoded by ffmpeg's `encoding` arguments (e.g. MJPEG).
pub fn start_feed_as(photo: &Path, encoding: &[&str]) -> Proc {
    let child = ffmpeg()
        .args(["-loglevel", "error", "-re", "-stream_loop", "-1"])
        .args([
            "-f", "rawvideo", "-pix_fmt", "yuyv422", "-s", "320x240", "-r", "10",
        ])
        .arg("-i")
        .arg(photo)
        .args(["-f", "v4l2"])
        .args(encoding)
        .arg(FEED)
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let proc = Proc(child);
    wait_capture(FEED, None);
    proc
}

/// `ctl status` and the log of `inst`, for a failure message.
pub fn diagnostics(inst: &Instance) -> String {
    let status = inst.ctl(&["status"]);
    format!(
        "ctl status:\n{}\nlog:\n{}",
        String::from_utf8_lossy(&status.stdout),
        inst.log()
    )
}
