//! Shared by the system tests: a viba instance in a temp folder, run with
//! the real binaries, real shared memory and the real model.

use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};
use viba_common::stage::Stage;
use viba_common::stats::Stats;

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// The repository root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_owned()
}

/// Path of a workspace binary: all are built into one folder, the parent of the test
/// binaries' `deps/` (`target/<profile>/`).
pub fn bin(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let path = exe.parent().unwrap().parent().unwrap().join(name);
    assert!(
        path.exists(),
        "{} is missing: build the workspace first (cargo build --workspace --bins)",
        path.display()
    );
    path
}

/// A unique instance name for this test process.
pub fn unique_instance(tag: &str) -> String {
    format!(
        "t{}-{}-{tag}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// A config for a small, fast pipeline: moving astronaut at 320x240, file sink, colour
/// background. Tests change what they need.
pub fn base_config(instance: &str, dir: &Path) -> Value {
    json!({
        "instance": instance,
        "input": {
            "source": "image",
            "path": repo().join("testdata/astronaut.png"),
            "width": 320, "height": 240, "fps": 30
        },
        "output": {
            "sink": "file",
            "path": dir.join("out.y4m"),
            "snapshot": dir.join("snapshot.png")
        },
        "background": { "color": "#20c040" },
        "segmentation": { "model": repo().join("models/selfie_segmentation_landscape.onnx") },
        "restart": { "backoff_ms": 100, "max_backoff_ms": 400, "stable_ms": 2000 }
    })
}

/// Changes a config to the still 512x512 portrait through the square general model.
pub fn portrait(c: &mut Value) {
    c["input"]["width"] = 512.into();
    c["input"]["height"] = 512.into();
    c["input"]["motion"] = false.into();
    c["segmentation"]["model"] = repo()
        .join("models/selfie_segmentation.onnx")
        .to_string_lossy()
        .into();
}

/// Segments of an instance still in /dev/shm.
pub fn leftover_segments(instance: &str) -> Vec<String> {
    let prefix = viba_common::names::segment_prefix(instance);
    std::fs::read_dir("/dev/shm")
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with(&prefix))
                .collect()
        })
        .unwrap_or_default()
}

/// Whether a process exists (zombies count as gone).
pub fn alive(pid: u32) -> bool {
    viba_common::procfs::alive(pid)
}

/// Polls `f` every 20 ms until it returns true or `timeout` passes.
pub fn wait_until(timeout: Duration, mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    f()
}

/// Runs `viba-bench ARGS --json DIR/bench.json` with its runtime folder in `dir`; asserts it
/// succeeded and returns what it printed and its JSON report.
pub fn run_bench(args: &[&str], dir: &Path) -> (String, Value) {
    let json_path = dir.join("bench.json");
    let out = Command::new(bin("viba-bench"))
        .args(args)
        .arg("--json")
        .arg(&json_path)
        .env("XDG_RUNTIME_DIR", dir)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let report = serde_json::from_str(&std::fs::read_to_string(&json_path).unwrap()).unwrap();
    (stdout, report)
}

/// A running (or to-be-run) instance.
pub struct Instance {
    /// The instance name (unique per test process).
    pub name: String,
    /// Its temp folder: config, logs, outputs, runtime dir (removed when dropped).
    pub dir: tempfile::TempDir,
    /// The `viba.json` written into `dir`.
    pub config_path: PathBuf,
    /// The running supervisor, once started.
    pub child: Option<Child>,
}

impl Instance {
    /// Writes the config (the base one, changed by `edit`).
    pub fn new(tag: &str, edit: impl FnOnce(&mut Value)) -> Instance {
        let name = unique_instance(tag);
        let dir = tempfile::tempdir().unwrap();
        let mut config = base_config(&name, dir.path());
        edit(&mut config);
        let config_path = dir.path().join("viba.json");
        std::fs::write(&config_path, serde_json::to_vec_pretty(&config).unwrap()).unwrap();
        Instance {
            name,
            dir,
            config_path,
            child: None,
        }
    }

    fn command(&self, program: &Path) -> Command {
        let mut c = Command::new(program);
        c.env("XDG_RUNTIME_DIR", self.dir.path());
        c
    }

    /// Starts the supervisor; stderr goes to `supervisor.log` in the temp folder.
    pub fn start(&mut self) {
        let log = std::fs::File::create(self.dir.path().join("supervisor.log")).unwrap();
        let child = self
            .command(&bin("viba-supervisor"))
            .arg("--config")
            .arg(&self.config_path)
            .stdin(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        self.child = Some(child);
    }

    /// The supervisor's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("supervisor.log")).unwrap_or_default()
    }

    /// Runs `viba-supervisor ctl --instance NAME ARGS...`.
    pub fn ctl(&self, args: &[&str]) -> Output {
        self.command(&bin("viba-supervisor"))
            .args(["ctl", "--instance", &self.name])
            .args(args)
            .output()
            .unwrap()
    }

    /// `ctl --json status`, parsed; `None` while the supervisor does not answer.
    pub fn status(&self) -> Option<Value> {
        let out = self.ctl(&["--json", "status"]);
        out.status
            .success()
            .then(|| serde_json::from_slice(&out.stdout).ok())
            .flatten()
    }

    /// The pid of a stage's process according to `ctl status`.
    pub fn pid(&self, stage: &str) -> Option<u32> {
        let status = self.status()?;
        status["stages"]
            .as_array()?
            .iter()
            .find(|s| s["stage"] == stage)
            .and_then(|s| s["pid"].as_u64())
            .map(|p| p as u32)
    }

    /// One stage's status entry.
    pub fn stage_status(&self, stage: &str) -> Option<Value> {
        let status = self.status()?;
        status["stages"]
            .as_array()?
            .iter()
            .find(|s| s["stage"] == stage)
            .cloned()
    }

    /// The instance's stats segment.
    pub fn stats(&self) -> Stats {
        Stats::open(&viba_common::names::segment(
            &self.name,
            viba_common::names::Segment::Stats,
        ))
        .unwrap()
    }

    /// Items a stage has produced so far.
    pub fn produced(&self, stage: Stage) -> u64 {
        self.stats()
            .stage(stage)
            .frames
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Waits until the supervisor answers and all three stages have produced something.
    pub fn wait_running(&self) {
        let ok = wait_until(Duration::from_secs(60), || {
            self.status().is_some()
                && Stage::ALL.iter().all(|&s| {
                    Stats::open(&viba_common::names::segment(
                        &self.name,
                        viba_common::names::Segment::Stats,
                    ))
                    .map(|st| {
                        st.stage(s)
                            .frames
                            .load(std::sync::atomic::Ordering::Relaxed)
                            > 0
                    })
                    .unwrap_or(false)
                })
        });
        assert!(ok, "pipeline did not start; log:\n{}", self.log());
    }

    /// Waits until `stage` produced at least `n` more items than now.
    pub fn wait_progress(&self, stage: Stage, n: u64) {
        let start = self.produced(stage);
        let ok = wait_until(Duration::from_secs(60), || {
            self.produced(stage) >= start + n
        });
        assert!(ok, "{stage} made no progress; log:\n{}", self.log());
    }

    /// Asks for a snapshot (`ctl snapshot`) and returns it: width, height, RGB.
    pub fn snapshot_now(&self) -> (u32, u32, Vec<u8>) {
        let path = self.dir.path().join("snapshot.png");
        let _ = std::fs::remove_file(&path);
        let out = self.ctl(&["snapshot"]);
        assert!(out.status.success(), "{out:?}");
        assert!(
            wait_until(Duration::from_secs(30), || {
                viba_media::picture::load_rgb(&path).is_ok()
            }),
            "no snapshot; log:\n{}",
            self.log()
        );
        viba_media::picture::load_rgb(&path).unwrap()
    }

    /// Waits until the supervisor's log holds `text`.
    pub fn wait_log(&self, text: &str) {
        assert!(
            wait_until(Duration::from_secs(60), || self.log().contains(text)),
            "no \"{text}\" in the log:\n{}",
            self.log()
        );
    }

    /// Changes the config file written by `new` (before `start`).
    pub fn edit_config(&self, edit: impl FnOnce(&mut Value)) {
        let text = std::fs::read_to_string(&self.config_path).unwrap();
        let mut config: Value = serde_json::from_str(&text).unwrap();
        edit(&mut config);
        std::fs::write(&self.config_path, config.to_string()).unwrap();
    }

    /// Starts the supervisor and waits until it exits by itself (the pipeline finished); asserts
    /// exit code 0 and that nothing is left in /dev/shm.
    pub fn run_to_end(&mut self) {
        self.start();
        let mut child = self.child.take().unwrap();
        let finished = wait_until(Duration::from_secs(60), || {
            child.try_wait().unwrap().is_some()
        });
        if !finished {
            let _ = child.kill();
        }
        assert!(finished, "pipeline did not finish; log:\n{}", self.log());
        assert_eq!(child.wait().unwrap().code(), Some(0), "{}", self.log());
        assert_eq!(leftover_segments(&self.name), Vec::<String>::new());
    }

    /// Sends SIGTERM and waits for the supervisor to exit; returns its exit code.
    pub fn terminate(&mut self) -> Option<i32> {
        let mut child = self.child.take()?;
        let pid = nix::unistd::Pid::from_raw(child.id() as i32);
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                return status.code();
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "supervisor did not exit after SIGTERM; log:\n{}",
                    self.log()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        // Leave nothing behind even when a test failed half-way.
        for what in viba_common::names::Segment::ALL {
            let _ =
                viba_common::shm::Segment::unlink(&viba_common::names::segment(&self.name, what));
        }
    }
}
