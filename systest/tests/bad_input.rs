//! Bad input, table-driven: every case exits 2 with one line naming the key or path, leaves
//! nothing in /dev/shm, no process behind, and never panics.

use serde_json::{json, Value};
use std::path::Path;
use std::process::{Command, Stdio};
use viba_systest::testing::*;

/// One case: a name, how to break the config (given the temp folder), and what the error line
/// must contain.
type Edit = Box<dyn Fn(&mut Value, &Path)>;

fn set(pointer: &'static str, value: Value) -> Edit {
    Box::new(move |c, _| {
        *c.pointer_mut(pointer)
            .unwrap_or_else(|| panic!("{pointer}")) = value.clone()
    })
}

fn insert(parent: &'static str, key: &'static str, value: Value) -> Edit {
    Box::new(move |c, _| {
        c.pointer_mut(parent)
            .unwrap()
            .as_object_mut()
            .unwrap()
            .insert(key.into(), value.clone());
    })
}

fn file(name: &'static str, content: &'static [u8], pointer: &'static str) -> Edit {
    Box::new(move |c, dir| {
        let path = dir.join(name);
        std::fs::write(&path, content).unwrap();
        *c.pointer_mut(pointer).unwrap() = json!(path);
    })
}

/// The input becomes a video file with these bytes.
fn video(name: &'static str, content: Vec<u8>) -> Edit {
    Box::new(move |c, dir| {
        let path = dir.join(name);
        std::fs::write(&path, &content).unwrap();
        c["input"] = json!({"source": "video", "path": path, "width": 320, "height": 240});
    })
}

/// The background becomes a video file with these bytes.
fn background_video(name: &'static str, content: Vec<u8>) -> Edit {
    Box::new(move |c, dir| {
        let path = dir.join(name);
        std::fs::write(&path, &content).unwrap();
        c["background"] = json!({"video": path});
    })
}

/// A Y4M stream of 8x8 4:2:0 frames: `header`, then the frames' own bytes.
fn y4m(header: &str, frames: &[&[u8]]) -> Vec<u8> {
    let mut bytes = format!("{header}\n").into_bytes();
    for f in frames {
        bytes.extend_from_slice(f);
    }
    bytes
}

fn cases() -> Vec<(&'static str, Edit, &'static str)> {
    let whole: Vec<u8> = [b"FRAME\n".as_slice(), &[128u8; 96]].concat();
    let untagged: Vec<u8> = [b"FRAMX\n".as_slice(), &[128u8; 96]].concat();
    let cut: Vec<u8> = [b"FRAME\n".as_slice(), &[128u8; 40]].concat();
    let repo = repo();
    let flat = repo.join("testdata/model_flat_input.onnx");
    let rgba = repo.join("testdata/model_rgba_input.onnx");
    // The CPU build of ONNX Runtime that scripts/setup.sh installs by default (CI's): with it,
    // the CUDA provider cannot be used, and asking for it must say so (never fall back to CPU).
    let cpu_runtime = repo.join(".ort/onnxruntime/capi/libonnxruntime.so.1.31.1");
    let cpu_only = repo.join(".ort/.installed-cpu-1.31.1").exists();
    let mut cases: Vec<(&'static str, Edit, &'static str)> = vec![
        (
            "camera that does not exist",
            set(
                "/input",
                json!({"source": "camera", "device": "/dev/video97", "width": 320, "height": 240}),
            ),
            "input.device: /dev/video97 does not exist (list cameras with: viba-supervisor --list-devices)",
        ),
        (
            "camera that is not a character device",
            Box::new(|c, dir| {
                let path = dir.join("video0");
                std::fs::write(&path, b"").unwrap();
                c["input"] = json!({"source": "camera", "device": path, "width": 320, "height": 240});
            }),
            "is not a character device",
        ),
        (
            "camera that is not a V4L2 device",
            set(
                "/input",
                json!({"source": "camera", "device": "/dev/null", "width": 320, "height": 240}),
            ),
            "input.device: /dev/null is not a V4L2 device",
        ),
        (
            "fake webcam that does not exist",
            set("/output", json!({"sink": "v4l2loopback", "device": "/dev/video98"})),
            "output.device: /dev/video98 does not exist (create the fake webcam with: sudo modprobe v4l2loopback devices=1 video_nr=20 card_label=viba exclusive_caps=1)",
        ),
        (
            "fake webcam that is not a V4L2 device",
            set("/output", json!({"sink": "v4l2loopback", "device": "/dev/null"})),
            "output.device: /dev/null is not a V4L2 device",
        ),
        (
            "unknown top-level key",
            insert("", "colour", json!("red")),
            "colour: unknown field",
        ),
        (
            "unknown nested key",
            insert("/input", "widht", json!(640)),
            "input.widht: unknown field",
        ),
        (
            "wrong type",
            set("/input/width", json!("wide")),
            "input.width: invalid type",
        ),
        (
            "threshold out of range",
            insert("/segmentation", "threshold", json!(7)),
            "segmentation.threshold: 7 is outside 0..1",
        ),
        (
            "islands out of range",
            insert("/segmentation", "islands", json!(2)),
            "segmentation.islands: 2 is outside 0..1",
        ),
        (
            "negative threshold",
            insert("/segmentation", "threshold", json!(-0.1)),
            "segmentation.threshold",
        ),
        (
            "zero width",
            set("/input/width", json!(0)),
            "input.width: 0",
        ),
        (
            "odd width",
            set("/input/width", json!(321)),
            "input.width: 321",
        ),
        (
            "odd height",
            set("/input/height", json!(241)),
            "input.height: 241",
        ),
        ("zero fps", set("/input/fps", json!(0)), "input.fps: 0"),
        (
            "unknown source kind",
            set("/input/source", json!("webcam")),
            "input.source: unknown variant `webcam`",
        ),
        (
            "blur out of range",
            set("/background", json!({"blur": 0})),
            "background.blur: 0 is outside 1..50",
        ),
        (
            "two background kinds",
            set("/background", json!({"color": "#102030", "blur": 12})),
            "background: has more than one of image, color, blur and video (keep one)",
        ),
        (
            "fallback without blur",
            set("/background", json!({"color": "#102030", "fallback": "#000000"})),
            "background.fallback: is only used with blur",
        ),
        (
            "fallback that is not a colour",
            set("/background", json!({"blur": 12, "fallback": "#12"})),
            "background.fallback: \"#12\" is not a colour",
        ),
        (
            "fallback image that does not exist",
            set("/background", json!({"blur": 12, "fallback": "no-such.jpg"})),
            "background.fallback",
        ),
        (
            "smoothing out of range",
            insert("/segmentation", "smoothing", json!(1.5)),
            "segmentation.smoothing: 1.5 is outside 0..0.95",
        ),
        (
            "refine radius out of range",
            insert("", "compositor", json!({"refine_radius": 0})),
            "compositor.refine_radius: 0 is outside 1..8 (or \"auto\")",
        ),
        (
            "refine radius neither a number nor auto",
            insert("", "compositor", json!({"refine_radius": "wide"})),
            "compositor.refine_radius: invalid value: string \"wide\", expected \"auto\" or a whole number of mask cells 1..8",
        ),
        (
            "refine passes out of range",
            insert("", "compositor", json!({"refine_passes": 5})),
            "compositor.refine_passes: 5 is outside 1..4",
        ),
        (
            "unknown camera mode preference",
            insert("/input", "prefer", json!("fps")),
            "input.prefer: unknown variant `fps`, expected `rate` or `size`",
        ),
        (
            "image source without a path",
            Box::new(|c, _| {
                c["input"].as_object_mut().unwrap().remove("path");
            }),
            "input.path: is required",
        ),
        (
            "input image that is not an image",
            file("fake.png", b"not a picture", "/input/path"),
            "fake.png",
        ),
        (
            "video that is not a video",
            Box::new(|c, dir| {
                std::fs::write(dir.join("broken.y4m"), b"YUV4MPEG2 W0 H0\n").unwrap();
                c["input"] = json!({"source": "video", "path": dir.join("broken.y4m"), "width": 320, "height": 240});
            }),
            "broken.y4m",
        ),
        (
            "video ffmpeg cannot decode",
            Box::new(|c, dir| {
                std::fs::write(dir.join("clip.mp4"), b"not a video at all").unwrap();
                c["input"] = json!({"source": "video", "path": dir.join("clip.mp4"), "width": 320, "height": 240});
            }),
            "clip.mp4",
        ),
        (
            "missing model",
            set("/segmentation/model", json!("/nonexistent/model.onnx")),
            "segmentation.model: /nonexistent/model.onnx does not exist",
        ),
        (
            "model that is not ONNX",
            file("model.onnx", b"this is not a model", "/segmentation/model"),
            "segmentation.model",
        ),
        (
            "model with a flat input",
            set("/segmentation/model", json!(flat)),
            "model_flat_input.onnx has input x of shape [1, 10]",
        ),
        (
            "model with an RGBA input",
            set("/segmentation/model", json!(rgba)),
            "model_rgba_input.onnx has input x of shape [1, 64, 64, 4]",
        ),
        (
            "unknown execution provider",
            insert("/segmentation", "execution_provider", json!("tpu")),
            "segmentation.execution_provider: unknown variant",
        ),
        (
            "missing onnx runtime library",
            insert(
                "/segmentation",
                "onnxruntime",
                json!("/nonexistent/libonnxruntime.so"),
            ),
            "segmentation.onnxruntime",
        ),
        (
            "missing background",
            set("/background", json!({"image": "/nonexistent/bg.jpg"})),
            "background.image: /nonexistent/bg.jpg does not exist",
        ),
        (
            "background that is not an image",
            Box::new(|c, dir| {
                std::fs::write(dir.join("bg.jpg"), b"plain text").unwrap();
                c["background"] = json!({"image": dir.join("bg.jpg")});
            }),
            "background.image",
        ),
        (
            "two backgrounds",
            set("/background", json!({"color": "#000000", "image": "x.png"})),
            "background: has more than one of image, color, blur and video",
        ),
        (
            "missing background video",
            set("/background", json!({"video": "/nonexistent/bg.y4m"})),
            "background.video: /nonexistent/bg.y4m does not exist",
        ),
        (
            "background video that is not a video",
            Box::new(|c, dir| {
                std::fs::write(dir.join("bg.y4m"), b"YUV4MPEG2 nonsense\n").unwrap();
                c["background"] = json!({"video": dir.join("bg.y4m")});
            }),
            "background.video",
        ),
        (
            "bad colour",
            set("/background", json!({"color": "#12"})),
            "background.color: \"#12\" is not a colour",
        ),
        (
            "bad cpus list",
            insert("", "stages", json!({"segmenter": {"cpus": "1-0"}})),
            "stages.segmenter.cpus: range 1-0",
        ),
        (
            "cpus not a list",
            insert("", "stages", json!({"capture": {"cpus": "abc"}})),
            "stages.capture.cpus: \"abc\" is not a cpu list",
        ),
        (
            "cpu that does not exist",
            insert("", "stages", json!({"compositor": {"cpus": "1000"}})),
            "stages.compositor.cpus: cpu 1000 is not available",
        ),
        (
            "unknown stage",
            insert("", "stages", json!({"camera": {"cpus": "0"}})),
            "stages.camera: unknown field",
        ),
        (
            "nice out of range",
            insert("", "stages", json!({"segmenter": {"nice": 40}})),
            "stages.segmenter.nice: 40",
        ),
        (
            "file sink without a path",
            Box::new(|c, _| {
                c["output"].as_object_mut().unwrap().remove("path");
            }),
            "output.path: is required",
        ),
        (
            "plate switch that is not a boolean",
            insert("/segmentation", "plate", json!(1)),
            "segmentation.plate: invalid type: integer `1`, expected true or false",
        ),
        (
            "soft-edge switch that is not a boolean",
            insert("", "compositor", json!({"soft_edges": "on"})),
            "compositor.soft_edges: invalid type: string \"on\", expected true or false",
        ),
        (
            "idle switch that is not a boolean",
            insert("/output", "idle_when_unused", json!("yes")),
            "output.idle_when_unused: invalid type: string \"yes\", expected true or false",
        ),
        (
            "bad instance name",
            set("/instance", json!("a/b")),
            "instance: \"a/b\" is not a valid name",
        ),
        (
            "cpu range up to the largest number",
            insert("", "stages", json!({"capture": {"cpus": "0-18446744073709551615"}})),
            "stages.capture.cpus: \"0-18446744073709551615\" names a cpu above 1023",
        ),
        (
            "cpu range of a billion",
            insert("", "stages", json!({"segmenter": {"cpus": "0-1000000000"}})),
            "stages.segmenter.cpus: \"0-1000000000\" names a cpu above 1023",
        ),
        (
            "video header with a tag of two bytes",
            video("accent.y4m", y4m("YUV4MPEG2 W8 H8 \u{e9}t\u{e9}", &[])),
            "accent.y4m: has no whole frame",
        ),
        (
            "video with a header only",
            video("header.y4m", y4m("YUV4MPEG2 W8 H8", &[])),
            "input.path: ",
        ),
        (
            "video whose first frame is cut short",
            video("cut.y4m", y4m("YUV4MPEG2 W8 H8", &[&cut])),
            "cut.y4m: has no whole frame (46 bytes after the header, a frame takes 96)",
        ),
        (
            "video whose second frame is not tagged FRAME",
            video("untagged.y4m", y4m("YUV4MPEG2 W8 H8", &[&whole, &untagged])),
            "untagged.y4m: frame 2 (at byte 118) does not start with a FRAME line",
        ),
        (
            "video of 8192x8192 4:4:4 with no frames",
            video("huge.y4m", y4m("YUV4MPEG2 W8192 H8192 C444", &[])),
            "huge.y4m: has no whole frame (0 bytes after the header, a frame takes 201326592)",
        ),
        (
            "background video with a header only",
            background_video("bg.y4m", y4m("YUV4MPEG2 W8 H8", &[])),
            "background.video: ",
        ),
        (
            "background video whose second frame is not tagged FRAME",
            background_video("bg.y4m", y4m("YUV4MPEG2 W8 H8", &[&whole, &untagged])),
            "does not start with a FRAME line",
        ),
        (
            "output file that is a folder",
            Box::new(|c, dir| {
                c["output"]["path"] = json!(dir);
            }),
            "is a folder (name a .y4m file",
        ),
        (
            "output file under a file",
            Box::new(|c, dir| {
                std::fs::write(dir.join("plain"), b"").unwrap();
                c["output"]["path"] = json!(dir.join("plain/out.y4m"));
            }),
            "plain is not a folder",
        ),
        (
            "output file where no file can be made",
            set("/output/path", json!("/proc/viba-nowhere/out.y4m")),
            "output.path: cannot create /proc/viba-nowhere/out.y4m: folder /proc is not writable",
        ),
        (
            "output file that is the input picture",
            Box::new(|c, dir| {
                let input = dir.join("in.png");
                std::fs::copy(viba_systest::testing::repo().join("testdata/astronaut.png"), &input).unwrap();
                c["input"]["path"] = json!(input);
                c["output"]["path"] = json!(input);
            }),
            "in.png is input.path too: viba would write over it (name another file)",
        ),
        (
            "snapshot over the background picture",
            Box::new(|c, dir| {
                let picture = dir.join("bg.png");
                std::fs::copy(viba_systest::testing::repo().join("testdata/astronaut.png"), &picture).unwrap();
                c["background"] = json!({"image": picture});
                c["output"]["snapshot"] = json!(picture);
            }),
            "bg.png is background.image too: viba would write over it",
        ),
        (
            "snapshot that is a folder",
            Box::new(|c, dir| {
                c["output"]["snapshot"] = json!(dir);
            }),
            "is a folder (name a .png file",
        ),
        (
            "snapshot where no file can be made",
            set("/output/snapshot", json!("/proc/viba-nowhere/shot.png")),
            "output.snapshot: cannot create /proc/viba-nowhere/shot.png: folder /proc is not writable",
        ),
        (
            "odd output width",
            Box::new(|c, _| {
                c["output"]["width"] = json!(1281);
                c["output"]["height"] = json!(720);
            }),
            "output.width: 1281 must be an even number of pixels from 2 to 4096",
        ),
        (
            "output width without a height",
            Box::new(|c, _| {
                c["output"]["width"] = json!(1280);
            }),
            "output.height: is missing: give output.width and output.height together",
        ),
        (
            "backoff bigger than its maximum",
            insert(
                "",
                "restart",
                json!({"backoff_ms": 500, "max_backoff_ms": 100}),
            ),
            "restart.max_backoff_ms",
        ),
    ];
    if cpu_only {
        cases.push((
            "cuda with ONNX Runtime's CPU build",
            Box::new(move |c, _| {
                c["segmentation"]["execution_provider"] = json!("cuda");
                c["segmentation"]["onnxruntime"] = json!(cpu_runtime);
            }),
            "segmentation.execution_provider: cuda could not be used: CUDA execution provider is not enabled in this build",
        ));
    }
    cases
}

fn assert_clean_failure(
    name: &str,
    instance: &str,
    dir: &Path,
    output: &std::process::Output,
    want: &str,
) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        output.status.code(),
        Some(2),
        "{name}: exit code; stderr: {stderr}"
    );
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "{name}: want one line, got: {stderr}");
    assert!(
        lines[0].contains(want),
        "{name}: {:?} does not contain {want:?}",
        lines[0]
    );
    assert!(
        !stderr.contains("panicked") && !stderr.contains("RUST_BACKTRACE"),
        "{name}: {stderr}"
    );
    assert_eq!(
        leftover_segments(instance),
        Vec::<String>::new(),
        "{name}: segments left"
    );
    assert!(
        std::fs::read_dir(dir).unwrap().all(|e| !e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .ends_with(".sock")),
        "{name}: socket left"
    );
    // No process still runs with this config.
    let config = dir.join("viba.json");
    let config = config.to_string_lossy();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        if let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) {
            let cmdline = String::from_utf8_lossy(&cmdline);
            assert!(
                !cmdline.contains(config.as_ref()),
                "{name}: process left: {cmdline}"
            );
        }
    }
}

#[test]
fn bad_config_values_exit_2_with_one_line_and_leave_nothing_behind() {
    let cases = cases();
    assert!(cases.len() >= 60, "{}", cases.len());
    for (name, edit, want) in cases {
        let instance = unique_instance("bad");
        let dir = tempfile::tempdir().unwrap();
        let mut config = base_config(&instance, dir.path());
        edit(&mut config, dir.path());
        std::fs::write(
            dir.path().join("viba.json"),
            serde_json::to_vec_pretty(&config).unwrap(),
        )
        .unwrap();
        let output = Command::new(bin("viba-supervisor"))
            .arg("--config")
            .arg(dir.path().join("viba.json"))
            .env("XDG_RUNTIME_DIR", dir.path())
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert_clean_failure(name, &instance, dir.path(), &output, want);
    }
}

#[test]
fn malformed_or_missing_config_files() {
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("viba.json");
    std::fs::write(&broken, b"{\"instance\": \"x\",,}").unwrap();
    let missing = dir.path().join("missing.json");
    let twice = dir.path().join("twice.json");
    std::fs::write(&twice, b"{\"instance\": \"x\", \"instance\": \"y\"}").unwrap();
    for (path, want) in [
        (&broken, "line 1 column"),
        (&missing, "missing.json"),
        (&twice, "instance: is given twice in its object"),
    ] {
        let output = Command::new(bin("viba-supervisor"))
            .arg("--config")
            .arg(path)
            .env("XDG_RUNTIME_DIR", dir.path())
            .output()
            .unwrap();
        assert_clean_failure(&path.display().to_string(), "x", dir.path(), &output, want);
    }
}

#[test]
fn ctl_without_a_running_instance_or_with_an_unknown_stage() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        Command::new(bin("viba-supervisor"))
            .args(args)
            .env("XDG_RUNTIME_DIR", dir.path())
            .output()
            .unwrap()
    };
    let out = run(&["ctl", "--instance", "nobody-here", "status"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("instance \"nobody-here\" is not running"),
        "{stderr}"
    );
    let out = run(&["ctl", "--instance", "bad/name", "status"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--instance"));
}

#[test]
fn command_line_mistakes_are_one_line_with_the_usage() {
    let cases: [(&str, &[&str], &str); 7] = [
        (
            "viba-supervisor",
            &["--bogus"],
            "unexpected argument '--bogus' found",
        ),
        (
            "viba-supervisor",
            &["ctl"],
            "a command or argument is missing",
        ),
        (
            "viba-supervisor",
            &["ctl", "set", "background.blur"],
            "2 values required",
        ),
        ("viba-capture", &[], "--config <CONFIG>"),
        (
            "viba-segmenter",
            &["--config"],
            "a value is required for '--config <CONFIG>'",
        ),
        (
            "viba-compositor",
            &["--config", "x.json", "extra"],
            "unexpected argument 'extra'",
        ),
        ("viba-bench", &["--sizes", "7"], "\"7\" is not a size"),
    ];
    for (program, args, want) in cases {
        let out = Command::new(bin(program)).args(args).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{program} {args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{program} {args:?}: {stderr}");
        assert!(
            stderr.starts_with(&format!("{program}: "))
                && stderr.contains(want)
                && stderr.contains(&format!("(usage: {program}")),
            "{program} {args:?}: {stderr}"
        );
    }
    // A model file that is not there: one line naming it and the way out, before anything
    // is made (no run folder, no instance).
    let child = Command::new(bin("viba-bench"))
        .args(["--model", "/nonexistent/m.onnx", "--sizes", "320x240"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_eq!(
        stderr,
        "viba-bench: --model /nonexistent/m.onnx: not a file (name an ONNX model, or auto)\n"
    );
    let prefix = format!("viba-bench-{pid}-");
    let left: Vec<_> = std::fs::read_dir("/tmp")
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
        .collect();
    assert!(left.is_empty(), "{left:?}");
    // Help is help: many lines, exit 0.
    let out = Command::new(bin("viba-supervisor"))
        .arg("--help")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).lines().count() > 5);
}

#[test]
fn picture_benchmark_options_out_of_range_are_one_line_and_create_nothing() {
    let dir = tempfile::tempdir().unwrap();
    // The data's files need only be there for these refusals.
    let data = dir.path().join("data");
    for (folder, names) in [
        ("persons", &["franck", "greenman"][..]),
        ("rooms", &["bedroom", "cabin", "living", "office"][..]),
    ] {
        std::fs::create_dir_all(data.join(folder)).unwrap();
        for name in names {
            std::fs::write(data.join(folder).join(format!("{name}.png")), b"").unwrap();
        }
    }
    // Neither the work folder nor the CSV exists before; a refusal must make neither.
    let (work, csv) = (dir.path().join("work"), dir.path().join("frames.csv"));
    let missing = dir.path().join("no-such-folder").join("frames.csv");
    let csv_arg = csv.to_str().unwrap();
    let cases: [(Vec<&str>, String); 6] = [
        (
            vec!["--frames", csv_arg, "--noise", "40"],
            "--noise 40: expected a standard deviation from 0 to 32".into(),
        ),
        (
            vec!["--dump", "--dump-frame", "120", "--frames", csv_arg],
            "--dump-frame 120: a sequence has 120 scored frames, 0..119".into(),
        ),
        (
            vec!["--frames", missing.to_str().unwrap()],
            format!("--frames {}: No such file", missing.display()),
        ),
        (
            vec!["--frames", csv_arg, "--variant", "a,b={}"],
            "--variant a,b={}: expected NAME=JSON".into(),
        ),
        (
            vec!["--frames", csv_arg, "--sequence", "franck-static-64x64"],
            "--sequence franck-static-64x64: expected".into(),
        ),
        (
            vec![
                "--frames",
                csv_arg,
                "--sequence",
                "nobody-office-static-64x64",
            ],
            format!(
                "nobody-office-static-64x64: {}: no such file",
                data.join("persons/nobody.png").display()
            ),
        ),
    ];
    for (args, want) in cases {
        let out = Command::new(bin("viba-quality"))
            .arg("--data")
            .arg(&data)
            .arg("--work")
            .arg(&work)
            .args(&args)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(
            stderr.starts_with("viba-quality: ") && stderr.contains(&want),
            "{args:?}: {stderr}"
        );
        assert!(!work.exists(), "{args:?}: the work folder was made");
        assert!(!csv.exists(), "{args:?}: the CSV was made");
    }
    assert!(!missing.parent().unwrap().exists());
}
