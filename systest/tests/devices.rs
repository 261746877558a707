//! `--list-devices` and `doctor` against whatever V4L2 the machine has: on a host without
//! video devices they must say so and give the fix; in the VM (vivid at /dev/video0,
//! v4l2loopback at /dev/video20) they must recognise both.

use std::path::Path;
use std::process::Command;
use viba_systest::testing::*;

fn run(args: &[&str]) -> (Option<i32>, String) {
    let out = Command::new(bin("viba-supervisor"))
        .args(args)
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(!text.contains("panicked"), "{text}");
    (out.status.code(), text)
}

#[test]
fn list_devices_names_cameras_and_loopback_devices() {
    let (code, text) = run(&["--list-devices"]);
    assert_eq!(code, Some(0), "{text}");
    if !Path::new("/dev/video0").exists() {
        assert!(text.contains("no V4L2 devices"), "{text}");
        return;
    }
    assert!(
        text.contains("/dev/video0") && text.contains("camera") && text.contains("YUYV"),
        "{text}"
    );
    // vivid (the VM's camera) gives YUYV 1280x720 only at 12.5 fps: for the defaults (1280x720
    // at 30) viba takes the rate at a smaller size.
    if text.contains("(vivid) camera") {
        assert!(
            text.contains("viba takes: YUYV 640x360 at 30 fps (asked 1280x720 at 30, prefer rate; also offered: YUYV 1280x720 at 12.5 fps)"),
            "{text}"
        );
        // With a config, the mode that config asks for.
        let dir = tempfile::tempdir().unwrap();
        let mut config = base_config("list", dir.path());
        config["input"] = serde_json::json!({
            "source": "camera", "width": 1280, "height": 720, "fps": 30, "prefer": "size"
        });
        let path = dir.path().join("viba.json");
        std::fs::write(&path, config.to_string()).unwrap();
        let (code, text) = run(&["--list-devices", "--config", path.to_str().unwrap()]);
        assert_eq!(code, Some(0), "{text}");
        assert!(
            text.contains("viba takes: YUYV 640x360 at 30 fps (asked 1280x720 at 30, prefer size;"),
            "{text}"
        );
    }
    if Path::new("/dev/video20").exists() {
        assert!(
            text.contains("/dev/video20") && text.contains("v4l2loopback"),
            "{text}"
        );
        // A running instance marks the camera it reads and the fake webcam it writes to.
        let mut inst = Instance::new("marks", |c| {
            c["input"] = serde_json::json!({"source": "camera", "device": "/dev/video0",
                "width": 640, "height": 360, "fps": 30});
            c["output"] = serde_json::json!({"sink": "v4l2loopback", "device": "/dev/video20"});
        });
        inst.start();
        assert!(
            wait_until(std::time::Duration::from_secs(120), || inst
                .status()
                .is_some()),
            "{}",
            inst.log()
        );
        let out = Command::new(bin("viba-supervisor"))
            .arg("--list-devices")
            .env("XDG_RUNTIME_DIR", inst.dir.path())
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        let line = |dev: &str| text.lines().find(|l| l.starts_with(dev)).unwrap_or("");
        assert!(
            line("/dev/video0:").ends_with(&format!("camera (instance {} reads it)", inst.name)),
            "{text}"
        );
        assert!(
            line("/dev/video20:").ends_with(&format!("(instance {} writes to it)", inst.name)),
            "{text}"
        );
        assert_eq!(inst.terminate(), Some(0));
    }
}

#[test]
fn doctor_reports_each_problem_with_its_fix() {
    let (code, text) = run(&["doctor"]);
    if !Path::new("/sys/module/v4l2loopback").exists() {
        assert_eq!(code, Some(1), "{text}");
        assert!(text.contains("FAIL  v4l2loopback is not loaded"), "{text}");
        assert!(
            text.contains("modprobe v4l2loopback devices=1 video_nr=20"),
            "{text}"
        );
        assert!(text.contains("/etc/modprobe.d/viba.conf"), "{text}");
    } else {
        assert!(text.contains("ok    v4l2loopback is loaded"), "{text}");
        if Path::new("/dev/video20").exists() {
            assert!(
                text.contains("ok    output /dev/video20 is a v4l2loopback device"),
                "{text}"
            );
        }
        if Path::new("/dev/video0").exists() {
            assert!(text.contains("ok    camera /dev/video0"), "{text}");
        }
    }
    // A config whose output is a camera, not a loopback device, and whose camera is missing.
    let dir = tempfile::tempdir().unwrap();
    let mut config = base_config("doctor", dir.path());
    config["output"] = serde_json::json!({ "sink": "v4l2loopback", "device": "/dev/null" });
    config["input"] = serde_json::json!({ "source": "camera", "device": "/dev/video99" });
    let path = dir.path().join("viba.json");
    std::fs::write(&path, config.to_string()).unwrap();
    let (code, text) = run(&["doctor", "--config", path.to_str().unwrap()]);
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains("FAIL  camera /dev/video99 does not exist"),
        "{text}"
    );
    assert!(text.contains("output /dev/null"), "{text}");
}
