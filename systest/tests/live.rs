//! Live changes through `ctl set`, `ctl reload` and SIGHUP, with the real pipeline: picture
//! keys apply without restarting any stage, other keys restart the stages that read them,
//! bad values change nothing.

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use std::time::Duration;
use viba_common::stage::Stage;
use viba_systest::testing::*;

fn pids(inst: &Instance) -> [u32; 3] {
    ["capture", "segmenter", "compositor"].map(|s| inst.pid(s).expect("running"))
}

/// A snapshot of the output after `frames` more composites.
fn snapshot_after(inst: &Instance, frames: u64) -> Vec<u8> {
    inst.wait_progress(Stage::Compositor, frames);
    inst.snapshot_now().2
}

/// Mean RGB over a box of a 512-wide picture.
fn mean(rgb: &[u8], (x0, y0, x1, y1): (usize, usize, usize, usize)) -> [f64; 3] {
    let mut sum = [0.0; 3];
    for y in y0..y1 {
        for x in x0..x1 {
            for (c, s) in sum.iter_mut().enumerate() {
                *s += rgb[(y * 512 + x) * 3 + c] as f64;
            }
        }
    }
    sum.map(|s| s / ((x1 - x0) * (y1 - y0)) as f64)
}

fn near(a: [f64; 3], b: [f64; 3]) -> bool {
    a.iter().zip(b).all(|(x, y)| (x - y).abs() < 12.0)
}

fn refused(inst: &Instance, args: &[&str], says: &str) {
    let out = inst.ctl(args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {out:?}");
    assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
    assert!(
        stderr.contains(says) && stderr.contains("nothing changed"),
        "{args:?}: {stderr}"
    );
}

#[test]
fn picture_keys_change_live_others_restart_their_stages_bad_values_change_nothing() {
    let mut inst = Instance::new("live", portrait);
    inst.start();
    inst.wait_running();
    let backdrop = (290, 10, 360, 60);
    let face = (185, 80, 265, 170);
    let green = [32.0, 192.0, 64.0];
    let before = snapshot_after(&inst, 3);
    assert!(
        near(mean(&before, backdrop), green),
        "{:?}",
        mean(&before, backdrop)
    );
    let started = pids(&inst);

    // A picture key: from the next frame, no stage restarted.
    let out = inst.ctl(&["set", "background.color", "#ff0000"]);
    assert!(out.status.success(), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("background.color (from the next frame)"),
        "{out:?}"
    );
    let red = snapshot_after(&inst, 5);
    assert!(
        near(mean(&red, backdrop), [255.0, 0.0, 0.0]),
        "{:?}",
        mean(&red, backdrop)
    );
    assert!(
        near(mean(&red, face), mean(&before, face)),
        "the face changed"
    );
    assert_eq!(pids(&inst), started, "a picture key restarted a stage");
    // A segmentation key the segmenter takes live: the learnt plate off.
    let out = inst.ctl(&["set", "segmentation.plate", "false"]);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("segmentation.plate (from the next frame)"),
        "{out:?}"
    );
    snapshot_after(&inst, 3);
    assert_eq!(pids(&inst), started, "segmentation.plate restarted a stage");
    // The refinement's radius, as cells and as `auto` (a bare word on the command line); the
    // soft edges off and on again.
    for (key, value) in [
        ("compositor.refine_radius", "3"),
        ("compositor.refine_radius", "auto"),
        ("compositor.soft_edges", "false"),
        ("compositor.soft_edges", "true"),
    ] {
        let out = inst.ctl(&["set", key, value]);
        assert!(
            String::from_utf8_lossy(&out.stdout).contains(&format!("{key} (from the next frame)")),
            "{key} {value}: {out:?}"
        );
        snapshot_after(&inst, 3);
        assert_eq!(pids(&inst), started, "{key} restarted a stage");
    }

    // Bad values and keys only a restart can apply: refused, one line, nothing changed.
    refused(
        &inst,
        &["set", "segmentation.threshold", "7"],
        "segmentation.threshold",
    );
    refused(&inst, &["set", "input.width", "640"], "input.width");
    refused(
        &inst,
        &["set", "compositor.refine_radius", "wide"],
        "compositor.refine_radius",
    );
    refused(
        &inst,
        &["set", "segmentation.plate", "\"yes\""],
        "segmentation.plate",
    );
    refused(
        &inst,
        &["set", "compositor.soft_edges", "2"],
        "compositor.soft_edges",
    );
    refused(&inst, &["set", "background.colour", "#00ff00"], "colour");
    refused(
        &inst,
        &["set", "output.path", "/tmp/elsewhere.y4m"],
        "output.path",
    );
    refused(&inst, &["set", "stages.segmenter.cpus", "\"1000\""], "cpus");
    refused(
        &inst,
        &[
            "set",
            "background.color",
            "null",
            "background.image",
            "/nonexistent.png",
        ],
        "/nonexistent.png",
    );
    // A pause image that is no picture, a snapshot nowhere it can be written, a snapshot
    // over a file viba reads: refused before the compositor (which would fail on them at
    // its next start) ever sees them.
    let text = inst.dir.path().join("notes.png");
    std::fs::write(&text, b"not a picture").unwrap();
    refused(
        &inst,
        &["set", "output.pause_image", text.to_str().unwrap()],
        "output.pause_image",
    );
    refused(
        &inst,
        &["set", "output.snapshot", "/proc/viba-nowhere/shot.png"],
        "output.snapshot: cannot create /proc/viba-nowhere/shot.png",
    );
    let model = repo().join("models/selfie_segmentation.onnx");
    refused(
        &inst,
        &["set", "output.snapshot", model.to_str().unwrap()],
        "is segmentation.model too",
    );
    assert_eq!(pids(&inst), started);
    let still_red = snapshot_after(&inst, 3);
    assert!(near(mean(&still_red, backdrop), [255.0, 0.0, 0.0]));

    // A key capture reads when it starts: capture restarts, the rest runs on.
    let out = inst.ctl(&["set", "input.motion", "true"]);
    assert!(out.status.success(), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("input.motion (restarts capture)"));
    let now = pids(&inst);
    assert_ne!(now[0], started[0], "capture not restarted");
    assert_eq!(&now[1..], &started[1..], "other stages restarted");
    assert_eq!(inst.stage_status("capture").unwrap()["restarts"], 0);
    inst.wait_progress(Stage::Compositor, 5);
    // A key of a section the file does not have (no "stages" in it): named as the key.
    let out = inst.ctl(&["set", "stages.capture.nice", "3"]);
    assert!(out.status.success(), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("stages.capture.nice (restarts capture)"),
        "{out:?}"
    );
    inst.wait_progress(Stage::Compositor, 5);

    // The file edited and SIGHUP to the supervisor: a blurred room instead of the colour. The
    // file does not have input.motion, so capture restarts again.
    inst.edit_config(|c| {
        c["background"] = serde_json::json!({ "blur": 12 });
    });
    let child = inst.child.as_ref().unwrap().id();
    kill(Pid::from_raw(child as i32), Signal::SIGHUP).unwrap();
    inst.wait_log("background.blur (from the next frame)");
    let blurred = snapshot_after(&inst, 5);
    let b = mean(&blurred, backdrop);
    assert!(!near(b, [255.0, 0.0, 0.0]) && !near(b, green), "{b:?}");
    // And `ctl reload` of the same file: nothing to do.
    let out = inst.ctl(&["reload"]);
    assert!(out.status.success(), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("nothing changed"));

    let live = viba_common::names::live_config(&inst.name);
    assert_eq!(inst.terminate(), Some(0));
    assert!(!inst.dir.path().join(live.file_name().unwrap()).exists());
    assert_eq!(leftover_segments(&inst.name), Vec::<String>::new());
}

#[test]
fn ctl_debug_switches_the_stages_debug_lines_on_and_off() {
    let mut inst = Instance::new("debug", |_| {});
    inst.start();
    inst.wait_running();
    let lines = |inst: &Instance, who: &str| {
        inst.log()
            .lines()
            .filter(|l| l.starts_with(&format!("{who}: debug: ")))
            .count()
    };
    assert_eq!(lines(&inst, "viba-compositor"), 0);
    let out = inst.ctl(&["debug", "on"]);
    assert!(out.status.success(), "{out:?}");
    let before = inst.produced(Stage::Compositor);
    for who in ["viba-capture", "viba-segmenter", "viba-compositor"] {
        assert!(
            wait_until(Duration::from_secs(60), || lines(&inst, who) >= 2),
            "no debug lines from {who}; log:\n{}",
            inst.log()
        );
    }
    let frames = inst.produced(Stage::Compositor) - before;
    // Once a second, never once a frame.
    assert!(
        lines(&inst, "viba-compositor") as u64 * 2 < frames,
        "{} debug lines for {frames} frames",
        lines(&inst, "viba-compositor")
    );
    assert!(inst.log().contains("new masks per frame, mask age"));
    let out = inst.ctl(&["debug", "off"]);
    assert!(out.status.success(), "{out:?}");
    inst.wait_log("viba-compositor: debug off");
    let after_off = lines(&inst, "viba-compositor");
    inst.wait_progress(Stage::Compositor, 90);
    assert_eq!(
        lines(&inst, "viba-compositor"),
        after_off,
        "debug lines after off"
    );
    assert_eq!(inst.terminate(), Some(0));
}

#[test]
fn pause_shows_the_still_and_releases_the_camera_resume_and_toggle_go_live() {
    let magenta = [255.0, 0.0, 255.0];
    let green = [32.0, 192.0, 64.0];
    let face = (185, 80, 265, 170);
    let backdrop = (290, 10, 360, 60);
    let mut inst = Instance::new("pause", |c| {
        portrait(c);
        c["output"]["pause_image"] = "brb.png".into();
    });
    viba_media::picture::save_png(
        &inst.dir.path().join("brb.png"),
        64,
        64,
        &[255u8, 0, 255].repeat(64 * 64),
    )
    .unwrap();
    inst.start();
    inst.wait_running();
    let live = snapshot_after(&inst, 3);
    assert!(!near(mean(&live, face), magenta), "live shows the face");

    let out = inst.ctl(&["pause"]);
    assert!(out.status.success(), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("paused"));
    inst.wait_log("paused: showing output.pause_image");
    assert_eq!(inst.status().unwrap()["paused"], true);
    // The camera is released: capture stops while the output goes on with the still (sent
    // frames that are not new composites count as repeats).
    let repeats = || {
        inst.stats()
            .stage(Stage::Compositor)
            .repeats
            .load(std::sync::atomic::Ordering::Relaxed)
    };
    let sent = repeats();
    assert!(wait_until(Duration::from_secs(60), || repeats() >= sent + 3));
    let captured = inst.produced(Stage::Capture);
    let sent = repeats();
    assert!(wait_until(Duration::from_secs(60), || repeats() >= sent + 20));
    assert!(
        inst.produced(Stage::Capture) <= captured + 1,
        "capture went on while paused"
    );
    let still = inst.snapshot_now().2;
    for area in [face, backdrop, (0, 0, 512, 512)] {
        assert!(
            near(mean(&still, area), magenta),
            "paused: {area:?} is not the still"
        );
    }
    let text = String::from_utf8_lossy(&inst.ctl(&["status"]).stdout).into_owned();
    assert!(
        text.contains("paused: the fake webcam shows the still"),
        "{text}"
    );

    // Resume: the camera, the model and the person come back.
    assert!(inst.ctl(&["resume"]).status.success());
    inst.wait_progress(Stage::Capture, 5);
    inst.wait_progress(Stage::Segmenter, 3);
    let back = snapshot_after(&inst, 5);
    assert!(
        !near(mean(&back, face), magenta),
        "resumed: still the still"
    );
    assert!(near(mean(&back, backdrop), green), "resumed: backdrop");
    assert_eq!(inst.status().unwrap()["paused"], false);

    // Toggle pauses and resumes.
    assert!(inst.ctl(&["toggle"]).status.success());
    assert_eq!(inst.status().unwrap()["paused"], true);
    assert!(
        wait_until(Duration::from_secs(60), || inst
            .log()
            .matches("paused: showing output.pause_image")
            .count()
            == 2),
        "{}",
        inst.log()
    );
    assert!(inst.ctl(&["toggle"]).status.success());
    assert_eq!(inst.status().unwrap()["paused"], false);
    inst.wait_progress(Stage::Capture, 5);
    assert_eq!(inst.terminate(), Some(0));
}

#[test]
fn ctl_snapshot_without_output_snapshot_is_refused() {
    let mut inst = Instance::new("noshot", |c| {
        c["output"].as_object_mut().unwrap().remove("snapshot");
    });
    inst.start();
    inst.wait_running();
    let out = inst.ctl(&["snapshot"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("output.snapshot is not set: name the PNG to write first"),
        "{stderr}"
    );
    // Named live (where `snapshot_now` looks), it is written.
    let shot = inst.dir.path().join("snapshot.png");
    let out = inst.ctl(&["set", "output.snapshot", shot.to_str().unwrap()]);
    assert!(out.status.success(), "{out:?}");
    // The compositor restarted with it: composites from the new one.
    inst.wait_progress(Stage::Compositor, 3);
    inst.snapshot_now();
    assert_eq!(inst.terminate(), Some(0));
}

#[test]
fn after_another_input_is_chosen_the_old_inputs_mask_is_never_used() {
    // Masks stay usable by age for 10 s here, and the segmenter is stopped before the
    // switch: the last mask (the astronaut's outline) is recent by age for every frame of
    // the new input, yet it was made from the old picture.
    let mut inst = Instance::new("switch", |c| {
        c["compositor"] = serde_json::json!({ "max_mask_age_ms": 10000 });
        c["debug"] = true.into();
    });
    inst.start();
    inst.wait_running();
    inst.wait_progress(Stage::Compositor, 5);
    let out = inst.ctl(&["stop", "segmenter"]);
    assert!(out.status.success(), "{out:?}");
    let counters = |inst: &Instance| {
        let stats = inst.stats();
        let c = stats.stage(Stage::Compositor);
        let load = |a: &std::sync::atomic::AtomicU64| a.load(std::sync::atomic::Ordering::Relaxed);
        (load(&c.frames), load(&c.background_only))
    };
    // The same input goes on with the last mask (it is recent, and of this picture).
    inst.wait_progress(Stage::Compositor, 5);
    let (f0, b0) = counters(&inst);
    inst.wait_progress(Stage::Compositor, 10);
    let (f1, b1) = counters(&inst);
    assert!(f1 - f0 >= 10 && b1 == b0, "{f0} {b0} -> {f1} {b1}");

    let room = repo().join("backgrounds/default.jpg");
    let out = inst.ctl(&["set", "input.path", room.to_str().unwrap()]);
    assert!(out.status.success(), "{out:?}");
    inst.wait_progress(Stage::Capture, 5);
    inst.wait_progress(Stage::Compositor, 5);
    let (f2, b2) = counters(&inst);
    inst.wait_progress(Stage::Compositor, 10);
    let (f3, b3) = counters(&inst);
    assert!(
        f3 - f2 >= 10 && b3 - b2 == f3 - f2,
        "composites of the new input with the old input's mask: {f2} {b2} -> {f3} {b3}"
    );
    // And the debug line says why.
    let said = |inst: &Instance| {
        inst.log().lines().any(|l| {
            l.split_once(" with the newest mask from before capture restarted")
                .and_then(|(l, _)| l.rsplit(' ').next())
                .and_then(|n| n.parse::<u64>().ok())
                .is_some_and(|n| n > 0)
        })
    };
    assert!(
        wait_until(Duration::from_secs(60), || said(&inst)),
        "no debug line with the reason:\n{}",
        inst.log()
    );
    assert_eq!(inst.terminate(), Some(0));
}

#[test]
fn a_config_with_a_byte_order_mark_starts_and_reloads() {
    let mut inst = Instance::new("bom", |_| {});
    let text = std::fs::read_to_string(&inst.config_path).unwrap();
    std::fs::write(&inst.config_path, format!("\u{feff}{text}")).unwrap();
    inst.start();
    inst.wait_running();
    let out = inst.ctl(&["reload"]);
    assert!(out.status.success(), "{out:?}");
    inst.wait_progress(Stage::Compositor, 3);
    assert_eq!(inst.terminate(), Some(0));
}
