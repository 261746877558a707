//! `scripts/install.sh` into a temporary prefix and the Debian package of `scripts/deb.sh`
//! unpacked into a throw-away root: the demo runs from there on the installed files (ONNX
//! Runtime, models, background), the systemd user unit is valid, and uninstalling leaves no
//! file behind.

use std::path::Path;
use std::process::{Command, Output};
use viba_systest::testing::*;

fn files_under(dir: &Path) -> Vec<String> {
    let mut out = vec![];
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() && !p.is_symlink() {
                out.extend(files_under(&p));
            } else {
                out.push(p.display().to_string());
            }
        }
    }
    out
}

fn ok(out: &Output, what: &str) {
    assert!(
        out.status.success(),
        "{what}: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Runs the installed demo to its end, then a copy of it that does not end, to check on the
/// running segmenter that the ONNX Runtime it loaded is the installed one.
fn run_demo(supervisor: &Path, share: &Path, lib: &Path, runtime: &Path) {
    let demo = share.join("viba/demo");
    let out = Command::new(supervisor)
        .arg("--config")
        .arg(demo.join("demo.json"))
        .env("XDG_RUNTIME_DIR", runtime)
        .env_remove("ORT_DYLIB_PATH")
        .output()
        .unwrap();
    ok(&out, "demo");
    let y4m = demo.join("demo.y4m");
    assert!(std::fs::metadata(&y4m).unwrap().len() > 640 * 480 * 2 * 30);

    let mut config: serde_json::Value =
        serde_json::from_slice(&std::fs::read(demo.join("demo.json")).unwrap()).unwrap();
    let instance = unique_instance("installed");
    config["instance"] = instance.clone().into();
    config["output"] = serde_json::json!({"sink": "null"});
    let copy = demo.join("running.json");
    std::fs::write(&copy, config.to_string()).unwrap();
    let mut child = Command::new(supervisor)
        .arg("--config")
        .arg(&copy)
        .env("XDG_RUNTIME_DIR", runtime)
        .env_remove("ORT_DYLIB_PATH")
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let stats_name = viba_common::names::segment(&instance, viba_common::names::Segment::Stats);
    let mut maps = String::new();
    let found = wait_until(std::time::Duration::from_secs(120), || {
        let Ok(stats) = viba_common::stats::Stats::open(&stats_name) else {
            return false;
        };
        let s = stats.stage(viba_common::stage::Stage::Segmenter);
        let pid = s.pid.load(std::sync::atomic::Ordering::Relaxed);
        if pid == 0 || s.frames.load(std::sync::atomic::Ordering::Relaxed) == 0 {
            return false;
        }
        maps = std::fs::read_to_string(format!("/proc/{pid}/maps")).unwrap_or_default();
        !maps.is_empty()
    });
    let _ = nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    );
    let _ = child.wait();
    std::fs::remove_file(&copy).unwrap();
    assert!(found, "the installed pipeline made no mask");
    let ort = std::fs::canonicalize(lib.join("viba")).unwrap();
    let loaded: Vec<&str> = maps
        .lines()
        .filter(|l| l.contains("libonnxruntime.so"))
        .collect();
    assert!(!loaded.is_empty(), "no ONNX Runtime mapped");
    assert!(
        loaded
            .iter()
            .all(|l| l.contains(&format!("{}/libonnxruntime.so.", ort.display()))),
        "not the installed ONNX Runtime: {loaded:?}"
    );
}

#[test]
fn install_run_the_demo_uninstall_and_the_debian_package() {
    let repo = repo();
    let bin_dir = bin("viba-supervisor").parent().unwrap().to_owned();
    let dir = tempfile::tempdir().unwrap();
    let prefix = dir.path().join("prefix");

    let out = Command::new(repo.join("scripts/install.sh"))
        .arg("--prefix")
        .arg(&prefix)
        .arg("--bin-dir")
        .arg(&bin_dir)
        .output()
        .unwrap();
    ok(&out, "install");
    for f in [
        "bin/viba-supervisor",
        "bin/viba-segmenter",
        "share/viba/models/selfie_segmentation_landscape.onnx",
        "share/viba/backgrounds/default.jpg",
        "share/systemd/user/viba.service",
    ] {
        assert!(prefix.join(f).is_file(), "{f} not installed");
    }
    // The unit is valid (and names an executable that is there).
    let unit = prefix.join("share/systemd/user/viba.service");
    let verify = Command::new("systemd-analyze")
        .arg("verify")
        .arg(&unit)
        .output()
        .expect("systemd-analyze (Debian's systemd) is needed");
    ok(&verify, "systemd-analyze verify");
    assert!(
        verify.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&verify.stderr)
    );
    assert!(std::fs::read_to_string(&unit).unwrap().contains(&format!(
        "ExecStart={}/bin/viba-supervisor",
        prefix.display()
    )));
    run_demo(
        &prefix.join("bin/viba-supervisor"),
        &prefix.join("share"),
        &prefix.join("lib"),
        dir.path(),
    );
    // doctor finds the installed unit (where systemd looks for user units of this prefix).
    let doctor = Command::new(prefix.join("bin/viba-supervisor"))
        .arg("doctor")
        .env("XDG_DATA_HOME", prefix.join("share"))
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&doctor.stdout);
    assert!(said.contains("viba.service: disabled"), "{said}");

    let out = Command::new(repo.join("scripts/install.sh"))
        .arg("--uninstall")
        .arg("--prefix")
        .arg(&prefix)
        .output()
        .unwrap();
    ok(&out, "uninstall");
    assert_eq!(files_under(&prefix), Vec::<String>::new());

    // The Debian package, unpacked into a throw-away root.
    let debs = dir.path().join("deb");
    let out = Command::new(repo.join("scripts/deb.sh"))
        .arg("--bin-dir")
        .arg(&bin_dir)
        .arg("--out")
        .arg(&debs)
        .output()
        .unwrap();
    ok(&out, "deb.sh");
    let deb = std::fs::read_dir(&debs)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let info = Command::new("dpkg-deb")
        .arg("--info")
        .arg(&deb)
        .output()
        .unwrap();
    ok(&info, "dpkg-deb --info");
    assert!(String::from_utf8_lossy(&info.stdout).contains("Package: viba"));
    let root = dir.path().join("root");
    ok(
        &Command::new("dpkg-deb")
            .arg("-x")
            .arg(&deb)
            .arg(&root)
            .output()
            .unwrap(),
        "dpkg-deb -x",
    );
    assert!(root.join("usr/lib/systemd/user/viba.service").is_file());
    run_demo(
        &root.join("usr/bin/viba-supervisor"),
        &root.join("usr/share"),
        &root.join("usr/lib"),
        dir.path(),
    );
}
