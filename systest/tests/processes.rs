//! The pipeline's processes: kills and restarts, ctl stop/start/restart, SIGTERM and SIGKILL of
//! the supervisor, a second start, CPU pinning and nice levels, `ctl status --watch`. Real
//! processes, real shared memory and the real model.

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use std::process::Command;
use std::time::Duration;
use viba_common::stage::Stage;
use viba_systest::testing::*;

fn signal(pid: u32, sig: Signal) {
    let _ = kill(Pid::from_raw(pid as i32), sig);
}

fn worker_pids(inst: &Instance) -> Vec<u32> {
    ["capture", "segmenter", "compositor"]
        .iter()
        .map(|s| inst.pid(s).unwrap_or_else(|| panic!("{s} has no pid")))
        .collect()
}

fn assert_all_gone(inst: &Instance, pids: &[u32]) {
    let gone = wait_until(Duration::from_secs(10), || pids.iter().all(|&p| !alive(p)));
    assert!(gone, "workers still alive: {pids:?}");
    assert_eq!(leftover_segments(&inst.name), Vec::<String>::new());
}

#[test]
fn killed_workers_are_restarted_at_once_and_frames_keep_reaching_the_output() {
    let mut inst = Instance::new("kill", |_| {});
    inst.start();
    inst.wait_running();
    let socket = inst.dir.path().join(format!("viba-{}.sock", inst.name));
    for stage in ["capture", "segmenter", "compositor"] {
        // A control client that has sent part of a request and then nothing must not hold up
        // the supervisor's reaping and restarting.
        let mut stuck = std::os::unix::net::UnixStream::connect(&socket).unwrap();
        std::io::Write::write_all(&mut stuck, b"{").unwrap();
        let old = inst.pid(stage).unwrap();
        signal(old, Signal::SIGKILL);
        let replaced = wait_until(Duration::from_secs(20), || {
            inst.pid(stage).is_some_and(|p| p != old)
        });
        assert!(replaced, "{stage} was not restarted; log:\n{}", inst.log());
        let s = inst.stage_status(stage).unwrap();
        assert!(s["restarts"].as_u64().unwrap() >= 1, "{s}");
        assert!(s["last_exit"].as_str().unwrap().contains("SIGKILL"), "{s}");
        // It had started, so it was restarted without a delay.
        inst.wait_log(&format!("{stage} killed by SIGKILL after"));
        let log = inst.log();
        let line = log
            .lines()
            .find(|l| l.contains(&format!("{stage} killed by SIGKILL")))
            .unwrap();
        assert!(line.ends_with("restarting now"), "{line}");
        inst.wait_progress(Stage::Compositor, 10);
        inst.wait_progress(Stage::Segmenter, 5);
        drop(stuck);
    }
    let pids = worker_pids(&inst);
    assert_eq!(inst.terminate(), Some(0));
    assert_all_gone(&inst, &pids);
    assert!(!inst.log().contains("CRASH LOOP"), "{}", inst.log());
}

#[test]
fn ctl_restart_stop_start_and_a_stage_run_by_hand_joins_the_pipeline() {
    let mut inst = Instance::new("ctl", |_| {});
    inst.start();
    inst.wait_running();

    let before = inst.pid("segmenter").unwrap();
    let out = inst.ctl(&["restart", "segmenter"]);
    assert!(out.status.success(), "{out:?}");
    let after = inst.pid("segmenter").unwrap();
    assert_ne!(before, after);
    assert!(!alive(before));
    assert_eq!(
        inst.stage_status("segmenter").unwrap()["restarts"],
        0,
        "a requested restart is not a crash"
    );
    inst.wait_progress(Stage::Segmenter, 5);

    let out = inst.ctl(&["stop", "segmenter"]);
    assert!(out.status.success(), "{out:?}");
    let s = inst.stage_status("segmenter").unwrap();
    assert_eq!(s["state"], "stopped");
    assert!(s["pid"].is_null());
    assert!(!alive(after));
    // Capture and compositor keep running meanwhile.
    inst.wait_progress(Stage::Compositor, 5);

    // A developer runs the segmenter by hand against the same rings.
    let mut by_hand = Command::new(bin("viba-segmenter"))
        .arg("--config")
        .arg(&inst.config_path)
        .spawn()
        .unwrap();
    let fresh = || {
        inst.stats()
            .stage(Stage::Compositor)
            .fresh_masks
            .load(std::sync::atomic::Ordering::Relaxed)
    };
    inst.wait_progress(Stage::Segmenter, 10);
    let fresh_before = fresh();
    assert!(
        wait_until(Duration::from_secs(20), || fresh() > fresh_before + 5),
        "compositor got no masks from the hand-run segmenter"
    );
    let s = inst.stage_status("segmenter").unwrap();
    assert_eq!(s["external_pid"].as_u64(), Some(by_hand.id() as u64), "{s}");

    // Starting the stage while the hand-run one holds the rings is refused.
    let out = inst.ctl(&["start", "segmenter"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("by hand"),
        "{out:?}"
    );

    signal(by_hand.id(), Signal::SIGTERM);
    by_hand.wait().unwrap();
    let out = inst.ctl(&["start", "segmenter"]);
    assert!(out.status.success(), "{out:?}");
    assert!(inst.pid("segmenter").is_some());
    inst.wait_progress(Stage::Segmenter, 5);

    // A second compositor run by hand beside the supervisor's (which would write the same
    // sink) is refused, and the running one goes on.
    let compositor = inst.pid("compositor").unwrap();
    let out = Command::new(bin("viba-compositor"))
        .arg("--config")
        .arg(&inst.config_path)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains(&format!(
            "already has a compositor, pid {compositor} (end that one first"
        )),
        "{stderr}"
    );
    assert_eq!(inst.pid("compositor"), Some(compositor));
    inst.wait_progress(Stage::Compositor, 5);

    let out = inst.ctl(&["stop", "camera"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown stage"));

    let pids = worker_pids(&inst);
    assert_eq!(inst.terminate(), Some(0));
    assert_all_gone(&inst, &pids);
}

#[test]
fn sigterm_leaves_no_children_no_segments_and_no_socket() {
    let mut inst = Instance::new("term", |_| {});
    inst.start();
    inst.wait_running();
    let pids = worker_pids(&inst);
    assert_eq!(leftover_segments(&inst.name).len(), 3);
    assert_eq!(inst.terminate(), Some(0));
    assert_all_gone(&inst, &pids);
    let socket = inst.dir.path().join(format!("viba-{}.sock", inst.name));
    assert!(!socket.exists());
}

#[test]
fn a_sigkilled_supervisor_takes_its_workers_along_and_the_next_start_cleans_up() {
    let mut inst = Instance::new("sigkill", |_| {});
    inst.start();
    inst.wait_running();
    let pids = worker_pids(&inst);
    let mut child = inst.child.take().unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    let gone = wait_until(Duration::from_secs(10), || pids.iter().all(|&p| !alive(p)));
    assert!(gone, "workers outlived the supervisor: {pids:?}");
    assert_eq!(
        leftover_segments(&inst.name).len(),
        3,
        "SIGKILL leaves the segments"
    );

    inst.start();
    inst.wait_running();
    assert!(
        inst.log().contains("removed stale shared memory"),
        "{}",
        inst.log()
    );
    let pids = worker_pids(&inst);
    assert_eq!(inst.terminate(), Some(0));
    assert_all_gone(&inst, &pids);
}

#[test]
fn a_second_start_of_a_live_instance_is_refused_and_leaves_it_running() {
    let mut inst = Instance::new("twice", |_| {});
    inst.start();
    inst.wait_running();
    let pids = worker_pids(&inst);
    // A client that holds the supervisor's socket busy makes no difference: the socket has a
    // listener, so the instance is alive.
    let socket = inst.dir.path().join(format!("viba-{}.sock", inst.name));
    let _busy = std::os::unix::net::UnixStream::connect(&socket).unwrap();
    let second = Command::new(bin("viba-supervisor"))
        .arg("--config")
        .arg(&inst.config_path)
        .env("XDG_RUNTIME_DIR", inst.dir.path())
        .output()
        .unwrap();
    assert_eq!(second.status.code(), Some(2), "{second:?}");
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(stderr.contains("is already running"), "{stderr}");
    assert_eq!(worker_pids(&inst), pids, "the live instance was disturbed");
    assert_eq!(leftover_segments(&inst.name).len(), 3);
    inst.wait_progress(Stage::Compositor, 5);
    // Started with another XDG_RUNTIME_DIR it finds no socket, but the workers on the
    // segments live: refused all the same, the segments left to their instance.
    let elsewhere = tempfile::tempdir().unwrap();
    let second = Command::new(bin("viba-supervisor"))
        .arg("--config")
        .arg(&inst.config_path)
        .env("XDG_RUNTIME_DIR", elsewhere.path())
        .output()
        .unwrap();
    assert_eq!(second.status.code(), Some(2), "{second:?}");
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("is already running: its capture is pid")
            && stderr.contains("another XDG_RUNTIME_DIR?"),
        "{stderr}"
    );
    assert_eq!(worker_pids(&inst), pids, "the live instance was disturbed");
    assert_eq!(leftover_segments(&inst.name).len(), 3);
    let out = inst.ctl(&["restart", "capture"]);
    assert!(out.status.success(), "{out:?}");
    inst.wait_progress(Stage::Compositor, 5);
    assert_eq!(inst.terminate(), Some(0));
    assert_all_gone(&inst, &pids);
}

fn proc_status_field(pid: u32, field: &str) -> String {
    viba_common::procfs::status(pid, field).unwrap()
}

#[test]
fn workers_run_on_their_configured_cpus_and_nice_levels() {
    let cpus = viba_common::config::cpus::available();
    let seg_cpu = *cpus.last().unwrap();
    let other = cpus[0];
    let mut inst = Instance::new("cpus", |c| {
        c["stages"] = serde_json::json!({
            "capture": { "cpus": other.to_string() },
            "segmenter": { "cpus": seg_cpu.to_string(), "nice": 5 },
            "compositor": { "cpus": other.to_string() }
        });
    });
    inst.start();
    inst.wait_running();
    let seg = inst.pid("segmenter").unwrap();
    assert_eq!(
        proc_status_field(seg, "Cpus_allowed_list"),
        seg_cpu.to_string()
    );
    let stat = viba_common::procfs::stat(seg).unwrap();
    assert_eq!(stat.nice, 5, "nice of the segmenter");
    let cap = inst.pid("capture").unwrap();
    assert_eq!(
        proc_status_field(cap, "Cpus_allowed_list"),
        other.to_string()
    );
    assert_eq!(inst.terminate(), Some(0));
}

#[test]
fn status_watch_refreshes_with_cpu_mask_age_and_background_alone() {
    let mut inst = Instance::new("watch", |_| {});
    inst.start();
    inst.wait_running();
    // Once a window of the supervisor's has passed, every stage has a CPU share.
    let measured = wait_until(Duration::from_secs(60), || {
        inst.status().is_some_and(|s| {
            s["stages"]
                .as_array()
                .unwrap()
                .iter()
                .all(|st| st["cpu_percent"].is_number())
                && s["stages"][2]["mask_age_frames"].is_number()
        })
    });
    assert!(measured, "{:?}", inst.status());
    let out = inst.ctl(&["status", "--watch", "--count", "3"]);
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(text.matches("STAGE").count(), 3, "{text}");
    assert_eq!(
        text.matches("-- ").count(),
        3,
        "not a terminal: a time line each\n{text}"
    );
    let last = text.rsplit("-- ").next().unwrap();
    for stage in ["capture", "segmenter", "compositor"] {
        let line = last.lines().find(|l| l.starts_with(stage)).unwrap();
        assert!(
            line.split_whitespace().any(|w| w.ends_with('%')),
            "no CPU share: {line}"
        );
    }
    assert!(last.contains("mask age"), "{last}");
    let bad = inst.ctl(&["status", "--count", "2"]);
    assert_eq!(bad.status.code(), Some(2), "--count needs --watch");
    assert_eq!(inst.terminate(), Some(0));
}

/// ONNX Runtime's telemetry (1.29 on, on Linux too): files it keeps in the cache folders of
/// `dir`'s fake home, and files of it that process `pid` holds open.
fn telemetry_traces(dir: &std::path::Path, pid: u32) -> Vec<String> {
    let mut found: Vec<String> = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
        .map(|p| p.display().to_string())
        .filter(|p| p.contains("onnxruntime"))
        .collect();
    for cache in ["home/.cache/Microsoft", "cache/Microsoft"] {
        if dir.join(cache).exists() {
            found.push(dir.join(cache).display().to_string());
        }
    }
    found
}

/// An environment as ONNX Runtime would see it on a user's machine: a home and cache folder of
/// the test's own, and none of the variables it reads to stay quiet (its own switch, and the
/// CI services' names it takes to mean a build machine).
fn user_like(command: &mut Command, dir: &std::path::Path) {
    std::fs::create_dir_all(dir.join("home")).unwrap();
    std::fs::create_dir_all(dir.join("cache")).unwrap();
    command
        .env("HOME", dir.join("home"))
        .env("XDG_CACHE_HOME", dir.join("cache"))
        .env("XDG_RUNTIME_DIR", dir);
    for quiet in [
        "ORT_DISABLE_TELEMETRY",
        "TF_BUILD",
        "GITHUB_ACTIONS",
        "GITLAB_CI",
        "CIRCLECI",
        "TRAVIS",
        "JENKINS_URL",
        "CODEBUILD_BUILD_ID",
        "BUILDKITE",
        "TEAMCITY_VERSION",
        "APPVEYOR",
        "BITBUCKET_BUILD_NUMBER",
    ] {
        command.env_remove(quiet);
    }
}

#[test]
fn onnx_runtime_keeps_no_device_id_and_runs_no_telemetry_thread() {
    // Without the switch, at start ONNX Runtime writes a device id and an event database under
    // the cache folder and keeps a thread that tries to upload them every second. The
    // supervisor starts the segmenter with it off; a segmenter run by hand switches it off
    // itself.
    let mut inst = Instance::new("telemetry", |_| {});
    let dir = inst.dir.path().to_owned();
    let log = std::fs::File::create(dir.join("supervisor.log")).unwrap();
    let mut supervisor = Command::new(bin("viba-supervisor"));
    user_like(&mut supervisor, &dir);
    let child = supervisor
        .arg("--config")
        .arg(&inst.config_path)
        .stdin(std::process::Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
    inst.child = Some(child);
    inst.wait_running();
    inst.wait_progress(Stage::Segmenter, 3);
    let pid = inst.pid("segmenter").unwrap();
    assert_eq!(telemetry_traces(&dir, pid), Vec::<String>::new());
    // One thread: the model runs on the segmenter's own (`segmentation.threads` 1).
    let threads = std::fs::read_dir(format!("/proc/{pid}/task"))
        .unwrap()
        .count();
    assert_eq!(threads, 1, "threads of the segmenter");

    // Run by hand, from a shell without the switch.
    let out = inst.ctl(&["stop", "segmenter"]);
    assert!(out.status.success(), "{out:?}");
    let mut command = Command::new(bin("viba-segmenter"));
    user_like(&mut command, &dir);
    let mut by_hand = command
        .arg("--config")
        .arg(&inst.config_path)
        .spawn()
        .unwrap();
    inst.wait_progress(Stage::Segmenter, 3);
    let traces = telemetry_traces(&dir, by_hand.id());
    let threads = std::fs::read_dir(format!("/proc/{}/task", by_hand.id()))
        .unwrap()
        .count();
    signal(by_hand.id(), Signal::SIGTERM);
    by_hand.wait().unwrap();
    assert_eq!(traces, Vec::<String>::new());
    assert_eq!(threads, 1, "threads of the segmenter run by hand");
    inst.terminate();
}
