//! Which processes have a file open, read from `/proc/<pid>/fd`.
//!
//! The compositor uses it to learn whether any application has the fake camera open (the
//! kernel tells no one else), and the tests use it to check which process holds a camera.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// The name `/proc/<pid>/fd/<n>` links to for `path`: the path with symbolic links resolved
/// (an application that opens `/dev/v4l/by-id/...` shows up as `/dev/videoN`).
pub fn link_target(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

/// The processes, except `except` (usually the caller itself), with a descriptor linking to
/// `target` (see [`link_target`]), in `/proc` order. Processes of other users are not seen
/// without privileges.
pub fn scan(target: &Path, except: u32) -> Vec<u32> {
    let mut found = Vec::new();
    let Ok(procs) = std::fs::read_dir("/proc") else {
        return found;
    };
    let target = target.as_os_str().as_bytes();
    let mut link = PathBuf::new();
    for entry in procs.flatten() {
        let name = entry.file_name();
        let Some(pid) = parse_pid(&name) else {
            continue;
        };
        if pid == except {
            continue;
        }
        link.clear();
        link.push("/proc");
        link.push(&name);
        link.push("fd");
        // Another user's process, or one that left meanwhile.
        let Ok(fds) = std::fs::read_dir(&link) else {
            continue;
        };
        let holds = fds.flatten().any(|fd| {
            std::fs::read_link(fd.path()).is_ok_and(|to| to.as_os_str().as_bytes() == target)
        });
        if holds {
            found.push(pid);
        }
    }
    found
}

fn parse_pid(name: &OsStr) -> Option<u32> {
    let bytes = name.as_bytes();
    if bytes.is_empty() || !bytes.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(bytes).ok()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::{Command, Stdio};

    #[test]
    fn finds_a_child_holding_the_file_and_not_the_excluded_process() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("device");
        std::fs::write(&file, b"x").unwrap();
        let target = link_target(&file);
        assert!(scan(&target, 0).is_empty());

        // A real process holding the file on descriptor 3.
        let mut child = Command::new("sh")
            .arg("-c")
            .arg("exec 3<\"$1\"; echo ready; exec sleep 30")
            .arg("sh")
            .arg(&file)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut ready = String::new();
        std::io::BufRead::read_line(
            &mut std::io::BufReader::new(child.stdout.as_mut().unwrap()),
            &mut ready,
        )
        .unwrap();
        assert_eq!(scan(&target, 0), vec![child.id()]);
        assert!(scan(&target, child.id()).is_empty());

        // Our own descriptor counts unless we exclude ourselves.
        let own = std::fs::File::open(&file).unwrap();
        let me = std::process::id();
        assert!(scan(&target, 0).contains(&me));
        assert!(!scan(&target, me).contains(&me));
        drop(own);

        child.kill().unwrap();
        child.wait().unwrap();
        assert!(scan(&target, 0).is_empty());
    }

    #[test]
    fn pids_are_decimal_names_only() {
        assert_eq!(parse_pid(OsStr::new("123")), Some(123));
        assert_eq!(parse_pid(OsStr::new("self")), None);
        assert_eq!(parse_pid(OsStr::new("")), None);
    }
}
