//! The picture the pipeline makes: the person kept and the backdrop replaced, the model `auto`
//! takes, no camera pixel without a mask, video inputs, blurred, mirrored and video
//! backgrounds, the fake webcam's own size. Real processes, real shared memory and the real
//! model.

use std::time::Duration;
use viba_common::stage::Stage;
use viba_supervisor::quality::y4m::OutputReader;
use viba_systest::testing::*;

fn load_rgb(path: &std::path::Path) -> (usize, usize, Vec<u8>) {
    let (w, h, rgb) = viba_media::picture::load_rgb(path).unwrap();
    (w as usize, h as usize, rgb)
}

/// Mean absolute difference over a box of two RGB images of the same width.
fn box_diff(
    a: &[u8],
    b: &[u8],
    width: usize,
    (x0, y0, x1, y1): (usize, usize, usize, usize),
) -> f64 {
    let mut sum = 0u64;
    for y in y0..y1 {
        for x in x0..x1 {
            for c in 0..3 {
                let i = (y * width + x) * 3 + c;
                sum += (a[i] as i32 - b[i] as i32).unsigned_abs() as u64;
            }
        }
    }
    sum as f64 / ((x1 - x0) * (y1 - y0) * 3) as f64
}

/// Runs the still 512x512 portrait through the pipeline with `segmentation` and checks that
/// the face is kept and the backdrop replaced.
fn portrait_cut_out(tag: &str, segmentation: serde_json::Value) -> Instance {
    let mut inst = Instance::new(tag, |c| {
        portrait(c);
        c["output"]["max_frames"] = 15.into();
        c["segmentation"] = segmentation;
    });
    // The compositor stops after 15 frames and the supervisor exits by itself.
    inst.run_to_end();

    let (w, h, out) = load_rgb(&inst.dir.path().join("snapshot.png"));
    assert_eq!((w, h), (512, 512));
    let (_, _, photo) = load_rgb(&repo().join("testdata/astronaut.png"));
    let green: Vec<u8> = [0x20u8, 0xc0, 0x40].repeat(w * h);
    let face = (185, 80, 265, 170);
    let backdrop = (290, 10, 360, 60);
    let flag = (0, 0, 60, 120);
    // YUYV (4:2:2) round trips cost a few levels; a face that was replaced would differ by ~100.
    assert!(
        box_diff(&out, &photo, w, face) < 6.0,
        "face changed: {}",
        box_diff(&out, &photo, w, face)
    );
    assert!(
        box_diff(&out, &green, w, backdrop) < 6.0,
        "backdrop kept: {}",
        box_diff(&out, &green, w, backdrop)
    );
    assert!(
        box_diff(&out, &green, w, flag) < 6.0,
        "flag kept: {}",
        box_diff(&out, &green, w, flag)
    );
    // The Y4M file holds the 15 frames.
    let y4m = std::fs::metadata(inst.dir.path().join("out.y4m"))
        .unwrap()
        .len();
    assert!(y4m >= 15 * 512 * 512 * 2, "{y4m} bytes");
    inst
}

#[test]
fn the_composite_keeps_the_face_and_replaces_the_backdrop() {
    let general = repo().join("models/selfie_segmentation.onnx");
    portrait_cut_out("face", serde_json::json!({ "model": general }));
}

#[test]
fn auto_takes_the_landscape_model_stretched_or_the_one_the_frame_fills_padded() {
    // A square frame: "auto" takes the landscape model, the frame stretched into its input.
    let inst = portrait_cut_out("auto", serde_json::json!({ "model": "auto" }));
    assert!(
        inst.log().contains("viba-segmenter: selfie_segmentation_landscape.onnx: input 256x144, the frame fills 256x144 of it (segmentation.fit stretch)"),
        "{}",
        inst.log()
    );
    // Padded, "auto" takes the square general model: the whole frame in its input.
    let inst = portrait_cut_out(
        "auto-pad",
        serde_json::json!({ "model": "auto", "fit": "pad" }),
    );
    assert!(
        inst.log().contains("viba-segmenter: selfie_segmentation.onnx: input 256x256, the frame fills 256x256 of it"),
        "{}",
        inst.log()
    );
    // The landscape model with the frame padded: 144x144 of its 256x144, and that part of
    // its output is the mask.
    let landscape = repo().join("models/selfie_segmentation_landscape.onnx");
    let inst = portrait_cut_out(
        "pad",
        serde_json::json!({ "model": landscape, "fit": "pad" }),
    );
    assert!(
        inst.log()
            .contains("the frame fills 144x144 of it (segmentation.fit pad), mask 144x144"),
        "{}",
        inst.log()
    );
}

#[test]
fn with_the_segmenter_stopped_the_output_contains_no_camera_pixels() {
    let mut inst = Instance::new("privacy", |c| {
        c["compositor"] = serde_json::json!({ "max_mask_age_ms": 100 });
    });
    inst.start();
    inst.wait_running();
    let stats = inst.stats();
    let background_only = || {
        stats
            .stage(Stage::Compositor)
            .background_only
            .load(std::sync::atomic::Ordering::Relaxed)
    };
    assert!(inst.ctl(&["stop", "segmenter"]).status.success());
    let before = background_only();
    // Frames keep coming, masks do not: after max_mask_age_ms only the background is shown.
    assert!(
        wait_until(Duration::from_secs(20), || background_only() > before + 10),
        "{}",
        inst.log()
    );
    let (w, h, out) = inst.snapshot_now();
    let (w, h) = (w as usize, h as usize);
    assert_eq!((w, h), (320, 240));
    // Every pixel is the background colour (#20c040 after a YUV round trip).
    for (i, px) in out.chunks_exact(3).enumerate() {
        let close = px
            .iter()
            .zip([0x20, 0xc0, 0x40])
            .all(|(&a, b)| (a as i32 - b).abs() <= 3);
        assert!(close, "pixel {} is {px:?}, not the background", i);
    }
    assert_eq!(inst.terminate(), Some(0));
}

/// Writes a 4:2:0 Y4M clip of `frames` frames, `w` x `h`, whose luma ramps up per frame.
fn write_y4m(path: &std::path::Path, w: usize, h: usize, frames: usize) {
    let mut data = format!("YUV4MPEG2 W{w} H{h} F30:1 Ip A1:1 C420jpeg\n").into_bytes();
    let (cw, ch) = (w.div_ceil(2), h.div_ceil(2));
    for f in 0..frames {
        data.extend_from_slice(b"FRAME\n");
        data.extend(std::iter::repeat_n((40 + f * 10) as u8, w * h));
        data.extend(std::iter::repeat_n(90u8, cw * ch));
        data.extend(std::iter::repeat_n(200u8, cw * ch));
    }
    std::fs::write(path, data).unwrap();
}

/// Frames in a Y4M file written by the compositor (4:2:2, `w` x `h`); each header must name the
/// frame shown and its mask's frame (`FRAME Xframe=N Xmask=M`), and no frame be cut short.
fn y4m_frames(path: &std::path::Path, w: usize, h: usize) -> usize {
    let mut reader = OutputReader::open(path, (w, h)).unwrap();
    let mut frames = 0;
    while reader.next_frame().unwrap().is_some() {
        frames += 1;
    }
    frames
}

#[test]
fn a_video_that_does_not_loop_ends_the_pipeline_after_its_last_frame() {
    let mut inst = Instance::new("y4m", |c| {
        c["input"]["source"] = "video".into();
        c["input"]["loop"] = false.into();
    });
    // 176x144 in, 320x240 out: every plane is scaled to cover.
    let clip = inst.dir.path().join("clip.y4m");
    write_y4m(&clip, 176, 144, 12);
    inst.edit_config(|c| {
        c["input"]["path"] = clip.to_string_lossy().into();
    });
    inst.run_to_end();
    assert!(inst.log().contains("capture finished"), "{}", inst.log());
    assert_eq!(leftover_segments(&inst.name), Vec::<String>::new());
    let frames = y4m_frames(&inst.dir.path().join("out.y4m"), 320, 240);
    // 12 frames at the same pace in and out; a few may be skipped (newest wins) or repeated.
    assert!((6..=24).contains(&frames), "{frames} frames written");
}

#[test]
fn other_video_formats_go_through_ffmpeg() {
    if std::process::Command::new("ffmpeg")
        .arg("-version")
        .output()
        .is_err()
    {
        eprintln!("skipped: ffmpeg is not installed (.ci/run installs it)");
        return;
    }
    let mut inst = Instance::new("mp4", |_| {});
    let clip = inst.dir.path().join("clip.mp4");
    let made = std::process::Command::new("ffmpeg")
        .args(["-nostdin", "-loglevel", "error", "-y", "-loop", "1", "-i"])
        .arg(repo().join("testdata/astronaut.png"))
        .args(["-t", "1", "-r", "10", "-pix_fmt", "yuv420p"])
        .arg(&clip)
        .status()
        .unwrap();
    assert!(made.success());
    // The clip loops until a frame composited with a mask has been written: bounded by that
    // event, not by a count of frames (on a busy machine the model may take longer to load
    // than a short clip lasts, and frames before the first mask show the background alone).
    inst.edit_config(|c| {
        c["input"]["source"] = "video".into();
        c["input"]["path"] = clip.to_string_lossy().into();
        c["input"]["loop"] = true.into();
    });
    inst.start();
    let out = inst.dir.path().join("out.y4m");
    let found = wait_until(Duration::from_secs(120), || {
        first_masked_frame(&out, 320, 240).is_some()
    });
    assert!(
        found,
        "no frame composited with a mask; log:\n{}",
        inst.log()
    );
    assert_eq!(inst.terminate(), Some(0));
    // The person is there: the frame is not the plain green background.
    let frame = first_masked_frame(&out, 320, 240).unwrap();
    let mut green = [0u8; 4];
    viba_common::yuv::rgb_to_yuyv(&[0x20, 0xc0, 0x40, 0x20, 0xc0, 0x40], 2, 1, &mut green);
    let near = |a: u8, b: u8| (a as i32 - b as i32).abs() <= 12;
    let pairs = frame.len() / 4;
    let background = frame
        .chunks_exact(4)
        .filter(|q| near(q[0], green[0]) && near(q[1], green[1]) && near(q[3], green[3]))
        .count();
    assert!(
        background < pairs * 9 / 10,
        "only background in a frame composited with a mask: {background} of {pairs} pairs"
    );
}

/// The first whole frame (YUYV) of a Y4M file being written by the compositor (4:2:2, `w` x
/// `h`) whose header names a mask (`Xmask=M`, M > 0: composited with the person shown).
fn first_masked_frame(path: &std::path::Path, w: usize, h: usize) -> Option<Vec<u8>> {
    let mut reader = OutputReader::open(path, (w, h)).ok()?;
    // A frame still being written reads as cut short: not yet.
    while let Some(frame) = reader.next_frame().ok()? {
        if frame.mask > 0 {
            return Some(frame.yuyv);
        }
    }
    None
}

/// Mean colour of a box of an RGB image.
fn box_mean(img: &[u8], width: usize, (x0, y0, x1, y1): (usize, usize, usize, usize)) -> [f64; 3] {
    let mut sum = [0u64; 3];
    for y in y0..y1 {
        for x in x0..x1 {
            for (c, s) in sum.iter_mut().enumerate() {
                *s += img[(y * width + x) * 3 + c] as u64;
            }
        }
    }
    sum.map(|s| s as f64 / ((x1 - x0) * (y1 - y0)) as f64)
}

#[test]
fn a_blurred_background_keeps_the_face_and_blurs_the_room() {
    let mut inst = Instance::new("blur", |c| {
        c["input"]["width"] = 512.into();
        c["input"]["height"] = 512.into();
        c["input"]["motion"] = false.into();
        c["output"]["max_frames"] = 15.into();
        c["background"] = serde_json::json!({ "blur": 20 });
        c["segmentation"]["model"] = repo()
            .join("models/selfie_segmentation.onnx")
            .to_string_lossy()
            .into();
    });
    inst.run_to_end();
    let (w, _, out) = load_rgb(&inst.dir.path().join("snapshot.png"));
    let (_, _, photo) = load_rgb(&repo().join("testdata/astronaut.png"));
    let face = (185, 80, 265, 170);
    let flag = (0, 0, 60, 120);
    assert!(
        box_diff(&out, &photo, w, face) < 6.0,
        "face changed: {}",
        box_diff(&out, &photo, w, face)
    );
    // The flag's stripes are blurred away (far from the sharp photo pixel by pixel) but its
    // colours stay (close on average): the room, blurred, not the fallback grey.
    let sharp = box_diff(&out, &photo, w, flag);
    assert!(sharp > 10.0, "the flag is not blurred: {sharp}");
    let (a, b) = (box_mean(&out, w, flag), box_mean(&photo, w, flag));
    for c in 0..3 {
        assert!((a[c] - b[c]).abs() < 20.0, "flag colour {a:?} vs {b:?}");
    }
}

#[test]
fn a_blurred_background_without_a_mask_is_the_fallback_never_the_frame() {
    let mut inst = Instance::new("blurprivacy", |c| {
        c["background"] = serde_json::json!({ "blur": 12, "fallback": "#2050a0" });
        c["compositor"] = serde_json::json!({ "max_mask_age_ms": 100 });
    });
    inst.start();
    inst.wait_running();
    let stats = inst.stats();
    let background_only = || {
        stats
            .stage(Stage::Compositor)
            .background_only
            .load(std::sync::atomic::Ordering::Relaxed)
    };
    assert!(inst.ctl(&["stop", "segmenter"]).status.success());
    let before = background_only();
    assert!(
        wait_until(Duration::from_secs(20), || background_only() > before + 10),
        "{}",
        inst.log()
    );
    let (_, _, out) = inst.snapshot_now();
    for (i, px) in out.chunks_exact(3).enumerate() {
        let close = px
            .iter()
            .zip([0x20, 0x50, 0xa0])
            .all(|(&a, b)| (a as i32 - b).abs() <= 3);
        assert!(close, "pixel {i} is {px:?}, not the fallback colour");
    }
    assert_eq!(inst.terminate(), Some(0));
}

#[test]
fn a_mirrored_output_is_the_composite_flipped_left_to_right() {
    let mut inst = Instance::new("mirror", |c| {
        portrait(c);
        c["output"]["max_frames"] = 15.into();
        c["output"]["mirror"] = true.into();
    });
    inst.run_to_end();
    let (w, h, out) = load_rgb(&inst.dir.path().join("snapshot.png"));
    // Flip it back: then it is the plain composite (face kept, backdrop and flag replaced).
    let mut back = vec![0u8; out.len()];
    for y in 0..h {
        for x in 0..w {
            let (a, b) = ((y * w + x) * 3, (y * w + (w - 1 - x)) * 3);
            back[a..a + 3].copy_from_slice(&out[b..b + 3]);
        }
    }
    let (_, _, photo) = load_rgb(&repo().join("testdata/astronaut.png"));
    let green: Vec<u8> = [0x20u8, 0xc0, 0x40].repeat(w * h);
    let face = (185, 80, 265, 170);
    let flag = (0, 0, 60, 120);
    assert!(box_diff(&back, &photo, w, face) < 6.0, "face, flipped back");
    assert!(box_diff(&back, &green, w, flag) < 6.0, "flag replaced");
    // Unflipped, the face is not where the photo has it (the photo is not symmetric there).
    assert!(
        box_diff(&out, &photo, w, face) > 10.0,
        "the output is not mirrored"
    );
}

#[test]
fn a_video_background_plays_behind_the_person() {
    let clip = tempfile::tempdir().unwrap();
    let video = clip.path().join("bg.y4m");
    // Ten frames whose luma steps 40, 50, ... 130.
    write_y4m(&video, 512, 512, 10);
    let mut inst = Instance::new("video-bg", |c| {
        portrait(c);
        c["output"]["max_frames"] = 40.into();
        c["background"] = serde_json::json!({ "video": video });
    });
    inst.run_to_end();
    // The output's backdrop in the top right corner, frame by frame: the clip's lumas, changing.
    let data = std::fs::read(inst.dir.path().join("out.y4m")).unwrap();
    let mut at = data.iter().position(|&b| b == b'\n').unwrap() + 1;
    let (w, h) = (512usize, 512usize);
    let mut lumas = Vec::new();
    let mut face = Vec::new();
    while at < data.len() {
        let end = at + data[at..].iter().position(|&b| b == b'\n').unwrap();
        // A frame shown with a mask says which (`Xmask=0`: the background alone).
        let masked = !data[at..end].ends_with(b" Xmask=0");
        at = end + 1;
        let frame = &data[at..at + w * h * 2];
        // 4:2:2 planar: the Y plane first.
        let luma = |x: usize, y: usize| frame[y * w + x];
        lumas.push(luma(490, 12));
        if masked {
            face.push(luma(225, 125));
        }
        at += w * h * 2;
    }
    assert_eq!(lumas.len(), 40);
    let mut distinct = lumas.clone();
    distinct.sort();
    distinct.dedup();
    assert!(distinct.len() >= 3, "the video did not play: {lumas:?}");
    for l in &distinct {
        assert!(
            (0..10).any(|k: i32| (40 + 10 * k - *l as i32).abs() <= 2),
            "backdrop luma {l} is not a frame of the clip: {lumas:?}"
        );
    }
    // The face is the camera's once masks come (before the first one: the background alone).
    let (_, _, photo) = load_rgb(&repo().join("testdata/astronaut.png"));
    let i = (125 * w + 225) * 3;
    let y = (0.299 * photo[i] as f64 + 0.587 * photo[i + 1] as f64 + 0.114 * photo[i + 2] as f64)
        as i32;
    assert!(
        !face.is_empty(),
        "no frame with a mask; log:\n{}",
        inst.log()
    );
    assert!(
        face.iter().all(|&f| (f as i32 - y).abs() < 25),
        "{face:?} vs {y}; log:\n{}",
        inst.log()
    );
}

/// The last frame of an instance's Y4M output at `size`, as RGB.
fn last_output_rgb(inst: &Instance, (w, h): (usize, usize)) -> Vec<u8> {
    let path = inst.dir.path().join("out.y4m");
    let mut reader = viba_supervisor::quality::y4m::OutputReader::open(&path, (w, h)).unwrap();
    let mut last = None;
    while let Some(f) = reader.next_frame().unwrap() {
        last = Some(f);
    }
    let last = last.expect("no frame in the output");
    assert_ne!(last.mask, 0, "the last frame has no mask");
    let mut rgb = vec![0u8; w * h * 3];
    viba_common::yuv::yuyv_to_rgb(&last.yuyv, w, h, &mut rgb);
    rgb
}

fn mean_close(a: [f64; 3], b: [f64; 3], tolerance: f64) -> bool {
    a.iter().zip(b).all(|(x, y)| (x - y).abs() <= tolerance)
}

#[test]
fn the_fake_webcam_gets_its_own_size_larger_or_smaller_with_the_picture_in_place() {
    let (_, _, photo) = load_rgb(&repo().join("testdata/astronaut.png"));
    let green = [32.0, 192.0, 64.0];
    let face = (185, 80, 265, 170);
    let flag = (0, 0, 60, 120);
    // 512x512 in, 1024x1024 out (composited at 512, scaled up), and 256x256 out (everything at
    // 256): the face where the photo has it, the flag replaced by the background.
    for (side, tag) in [(1024usize, "bigger"), (256, "smaller")] {
        let mut inst = Instance::new(tag, |c| {
            portrait(c);
            c["output"]["max_frames"] = 15.into();
            c["output"]["width"] = side.into();
            c["output"]["height"] = side.into();
        });
        inst.run_to_end();
        let out = last_output_rgb(&inst, (side, side));
        let k = side as f64 / 512.0;
        let at = |(x0, y0, x1, y1): (usize, usize, usize, usize)| {
            let s = |v: usize| (v as f64 * k) as usize;
            (s(x0), s(y0), s(x1), s(y1))
        };
        let (out_face, photo_face) = (box_mean(&out, side, at(face)), box_mean(&photo, 512, face));
        assert!(
            mean_close(out_face, photo_face, 6.0),
            "{side}: face {out_face:?}, photo {photo_face:?}"
        );
        let out_flag = box_mean(&out, side, at(flag));
        assert!(
            mean_close(out_flag, green, 6.0),
            "{side}: flag {out_flag:?}"
        );
    }

    // Another aspect: 512x512 in, 1280x720 out. Composited at 512x288 (the middle band of the
    // portrait, as cover crops it), then scaled up 2.5x: each composite pixel is where the
    // output has it.
    let mut inst = Instance::new("wide", |c| {
        portrait(c);
        c["output"]["max_frames"] = 15.into();
        c["output"]["width"] = 1280.into();
        c["output"]["height"] = 720.into();
    });
    inst.run_to_end();
    let out = last_output_rgb(&inst, (1280, 720));
    let (w, h, composite) = load_rgb(&inst.dir.path().join("snapshot.png"));
    assert_eq!((w, h), (512, 288));
    let mut diff = 0.0;
    let mut n = 0;
    for y in (4..h - 4).step_by(8) {
        for x in (4..w - 4).step_by(8) {
            let (ox, oy) = (x * 5 / 2, y * 5 / 2);
            let a = box_mean(&composite, w, (x - 1, y - 1, x + 2, y + 2));
            let b = box_mean(&out, 1280, (ox - 2, oy - 2, ox + 5, oy + 5));
            diff += a.iter().zip(b).map(|(p, q)| (p - q).abs()).sum::<f64>() / 3.0;
            n += 1;
        }
    }
    assert!(
        diff / n as f64 <= 4.0,
        "the output is not the composite scaled up: mean difference {}",
        diff / n as f64
    );
    // And the face is where the crop puts it: rows 112..400 of the photo.
    let band_face = (face.0, face.1.max(112) - 112, face.2, face.3 - 112);
    let composite_face = box_mean(&composite, w, band_face);
    let photo_face = box_mean(&photo, 512, (face.0, face.1.max(112), face.2, face.3));
    assert!(
        mean_close(composite_face, photo_face, 6.0),
        "{composite_face:?} {photo_face:?}"
    );
}
