//! Which processes have a file open, read from `/proc/<pid>/fd`.
//!
//! The compositor uses it to learn which applications hold the fake camera when it starts (the
//! kernel tells no one else), and the tests use it to check which process holds a camera.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

/// A file to look for.
#[derive(Debug, Clone)]
pub struct Target {
    /// The path with symbolic links resolved: what `/proc/<pid>/fd/<n>` links to for a process
    /// that opened it under any name (`/dev/v4l/by-id/...` shows up as `/dev/videoN`).
    path: PathBuf,
    /// For a character device, its device number: another node of the same device (a copy made
    /// with `mknod`, a container's `/dev`) counts too.
    rdev: Option<u64>,
}

impl Target {
    /// The file at `path`.
    pub fn new(path: &Path) -> Target {
        let path = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        let rdev = std::fs::metadata(&path)
            .ok()
            .filter(|m| m.file_type().is_char_device())
            .map(|m| m.rdev());
        Target { path, rdev }
    }

    /// The resolved path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn matches(&self, link: &Path, fd: &Path) -> bool {
        if link == self.path {
            return true;
        }
        // Only video device nodes are worth a stat (not every /dev/null and terminal).
        let Some(rdev) = self.rdev else { return false };
        link.as_os_str().as_bytes().starts_with(b"/dev/video")
            && std::fs::metadata(fd)
                .is_ok_and(|m| m.file_type().is_char_device() && m.rdev() == rdev)
    }
}

/// One process holding the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Holder {
    /// The process.
    pub pid: u32,
    /// How many of its descriptors refer to the target.
    pub fds: u32,
}

/// The processes, except `except` (usually the caller itself), with descriptors on `target`,
/// in `/proc` order. Processes whose descriptors cannot be read (another user's without
/// privileges, or one that made itself non-dumpable) are not seen.
pub fn scan(target: &Target, except: u32) -> Vec<Holder> {
    let mut found = Vec::new();
    let Ok(procs) = std::fs::read_dir("/proc") else {
        return found;
    };
    let mut dir = PathBuf::new();
    for entry in procs.flatten() {
        let name = entry.file_name();
        let Some(pid) = parse_pid(&name) else {
            continue;
        };
        if pid == except {
            continue;
        }
        dir.clear();
        dir.push("/proc");
        dir.push(&name);
        dir.push("fd");
        // Unreadable, or the process left meanwhile.
        let Ok(fds) = std::fs::read_dir(&dir) else {
            continue;
        };
        let n = fds
            .flatten()
            .filter(|fd| {
                let path = fd.path();
                std::fs::read_link(&path).is_ok_and(|link| target.matches(&link, &path))
            })
            .count() as u32;
        if n > 0 {
            found.push(Holder { pid, fds: n });
        }
    }
    found
}

/// The pids of [`scan`].
pub fn pids(target: &Target, except: u32) -> Vec<u32> {
    scan(target, except).iter().map(|h| h.pid).collect()
}

fn parse_pid(name: &OsStr) -> Option<u32> {
    let bytes = name.as_bytes();
    if bytes.is_empty() || !bytes.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(bytes).ok()?.parse().ok()
}

/// A child process that holds `file` open on descriptor 3 (and, with `twice`, on 4 as well)
/// until killed; returns once it does. For tests.
#[doc(hidden)]
pub fn spawn_holder(file: &Path, twice: bool) -> std::process::Child {
    let script = if twice {
        "exec 3<\"$1\" 4<\"$1\"; echo ready; exec sleep 600"
    } else {
        "exec 3<\"$1\"; echo ready; exec sleep 600"
    };
    let mut child = std::process::Command::new("sh")
        .args(["-c", script, "sh"])
        .arg(file)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("sh");
    let mut line = String::new();
    let stdout = child.stdout.as_mut().expect("piped");
    let _ = std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line);
    child
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_a_child_holding_the_file_and_not_the_excluded_process() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("device");
        std::fs::write(&file, b"x").unwrap();
        let target = Target::new(&file);
        assert!(scan(&target, 0).is_empty());

        let mut child = spawn_holder(&file, true);
        assert_eq!(
            scan(&target, 0),
            vec![Holder {
                pid: child.id(),
                fds: 2
            }]
        );
        assert!(scan(&target, child.id()).is_empty());

        // Our own descriptor counts unless we exclude ourselves.
        let own = std::fs::File::open(&file).unwrap();
        let me = std::process::id();
        assert!(pids(&target, 0).contains(&me));
        assert!(!pids(&target, me).contains(&me));
        drop(own);

        child.kill().unwrap();
        child.wait().unwrap();
        assert!(scan(&target, 0).is_empty());
    }

    #[test]
    fn a_symbolic_link_to_the_file_names_the_same_target() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("video7");
        std::fs::write(&file, b"").unwrap();
        let link = dir.path().join("by-id");
        std::os::unix::fs::symlink(&file, &link).unwrap();
        let mut child = spawn_holder(&link, false);
        assert_eq!(pids(&Target::new(&file), 0), vec![child.id()]);
        assert_eq!(pids(&Target::new(&link), 0), vec![child.id()]);
        child.kill().unwrap();
        child.wait().unwrap();
    }

    #[test]
    fn pids_are_decimal_names_only() {
        assert_eq!(parse_pid(OsStr::new("123")), Some(123));
        assert_eq!(parse_pid(OsStr::new("self")), None);
        assert_eq!(parse_pid(OsStr::new("")), None);
    }
}
