//! Another user on the same machine (`nobody`, uid 65534) against a running instance: it cannot
//! open the control socket or the shared memory, is refused by the supervisor when it reaches
//! the socket anyway, and cannot make viba use a runtime folder it made. Needs root (to act as
//! the other user); CI runs as root. The other user's side runs this test binary again as
//! `nobody` (a copy in a folder it may read), with `VIBA_PROBE` saying what to try.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use viba_systest::testing::*;

const NOBODY: u32 = 65534;

/// What the other user tries, one line of result each: `ok ...` or `denied ...`.
#[test]
#[ignore = "run by other_users_cannot_reach_or_mislead_an_instance as uid 65534"]
fn probe() {
    let Ok(what) = std::env::var("VIBA_PROBE") else {
        return;
    };
    for item in what.split(';') {
        let (kind, target) = item.split_once('=').unwrap();
        let result = match kind {
            "connect" => UnixStream::connect(target).and_then(|mut s| {
                // A refusal is sent before the request is read and the connection closed: the
                // write may find it closed (as `ctl`'s does, `control::call`); read it anyway.
                let written = s.write_all(b"{\"cmd\":\"status\"}\n");
                let mut reply = String::new();
                BufReader::new(s).read_line(&mut reply)?;
                if reply.is_empty() {
                    written?;
                }
                Ok(reply.trim().to_owned())
            }),
            "shm" => nix::sys::mman::shm_open(
                target,
                nix::fcntl::OFlag::O_RDWR,
                nix::sys::stat::Mode::empty(),
            )
            .map(|_| "opened".to_owned())
            .map_err(std::io::Error::from),
            "mkdir" => std::fs::DirBuilder::new()
                .create(target)
                .and_then(|()| {
                    std::fs::set_permissions(target, std::fs::Permissions::from_mode(0o700))
                })
                .map(|()| "made".to_owned()),
            other => panic!("unknown probe {other}"),
        };
        match result {
            Ok(r) => println!("PROBE ok {kind} {r}"),
            Err(e) => println!("PROBE denied {kind} {e}"),
        }
    }
}

/// Runs [`probe`] as `nobody` and returns its result lines.
fn as_nobody(probes: &[String]) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let exe: PathBuf = dir.path().join("probe");
    std::fs::copy(std::env::current_exe().unwrap(), &exe).unwrap();
    std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = Command::new(&exe)
        .args([
            "--exact",
            "probe",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("VIBA_PROBE", probes.join(";"))
        .current_dir("/")
        .uid(NOBODY)
        .gid(NOBODY)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "probe failed: {out:?}");
    stdout
        .lines()
        // The harness prints `test probe ... ` before the first line, on the same line.
        .filter_map(|l| l.find("PROBE ").map(|i| l[i + 6..].to_owned()))
        .collect()
}

fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

#[test]
fn other_users_cannot_reach_or_mislead_an_instance() {
    if !is_root() {
        // The suite runs as root (CI, the VM); a developer's own run cannot act as another user.
        eprintln!("other_user: not root, cannot act as uid {NOBODY}; skipped");
        return;
    }
    let mut inst = Instance::new("other", |_| {});
    inst.start();
    inst.wait_running();
    let socket = inst.dir.path().join(format!("viba-{}.sock", inst.name));
    let segments: Vec<String> = viba_common::names::Segment::ALL
        .iter()
        .map(|&w| viba_common::names::segment(&inst.name, w))
        .collect();

    // Files as they are: the socket (0600) and the segments (0600) are closed to others.
    let mut probes = vec![format!("connect={}", socket.display())];
    probes.extend(segments.iter().map(|s| format!("shm={s}")));
    let seen = as_nobody(&probes);
    assert_eq!(seen.len(), 4, "{seen:?}");
    for line in &seen {
        assert!(
            line.starts_with("denied") && line.contains("Permission denied"),
            "{line}"
        );
    }

    // Even with the socket opened to everyone, the supervisor refuses another uid.
    std::fs::set_permissions(&socket, std::fs::Permissions::from_mode(0o666)).unwrap();
    let seen = as_nobody(&[format!("connect={}", socket.display())]);
    assert_eq!(seen.len(), 1);
    assert!(
        seen[0].contains("refused: uid 65534 may not control an instance of uid 0"),
        "{}",
        seen[0]
    );
    inst.wait_progress(viba_common::stage::Stage::Compositor, 5);
    assert_eq!(inst.terminate(), Some(0));

    // A runtime folder the other user made is not used.
    let shared = tempfile::tempdir().unwrap();
    std::fs::set_permissions(shared.path(), std::fs::Permissions::from_mode(0o1777)).unwrap();
    let theirs = shared.path().join("run");
    let seen = as_nobody(&[format!("mkdir={}", theirs.display())]);
    assert_eq!(seen, vec!["ok mkdir made".to_owned()]);
    assert_eq!(std::fs::metadata(&theirs).unwrap().uid(), NOBODY);
    let out = Command::new(bin("viba-supervisor"))
        .arg("--config")
        .arg(&inst.config_path)
        .env("XDG_RUNTIME_DIR", &theirs)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains(&format!("{} belongs to uid 65534", theirs.display())),
        "{stderr}"
    );
    assert!(
        std::fs::read_dir(&theirs).unwrap().next().is_none(),
        "viba wrote there"
    );
    assert_eq!(leftover_segments(&inst.name), Vec::<String>::new());
    // And `ctl` will not talk through it either.
    let out = Command::new(bin("viba-supervisor"))
        .args(["ctl", "--instance", &inst.name, "status"])
        .env("XDG_RUNTIME_DIR", &theirs)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(Path::new(&theirs).exists());
}
