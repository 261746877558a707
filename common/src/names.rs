//! Names of the shared-memory segments and the control socket of an instance.

use std::os::unix::fs::{DirBuilderExt, MetadataExt};
use std::path::{Path, PathBuf};

/// The shared-memory segments an instance owns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Segment {
    /// The frame ring: capture writes, segmenter and compositor read.
    Frames,
    /// The mask ring: the segmenter writes, the compositor reads.
    Masks,
    /// The stats block: every stage's counters, the idle and pause words.
    Stats,
}

impl Segment {
    /// Every segment, in the order the supervisor creates them.
    pub const ALL: [Segment; 3] = [Segment::Frames, Segment::Masks, Segment::Stats];

    /// The last part of the segment's name.
    pub fn suffix(self) -> &'static str {
        match self {
            Segment::Frames => "frames",
            Segment::Masks => "masks",
            Segment::Stats => "stats",
        }
    }
}

/// The POSIX shared-memory name (`/viba-<uid>-<instance>-<what>`, shown in `/dev/shm` without
/// the leading slash). The uid keeps two users' instances of the same name apart.
pub fn segment(instance: &str, what: Segment) -> String {
    format!("/{}{}", segment_prefix(instance), what.suffix())
}

/// What every segment of an instance starts with in `/dev/shm` (`viba-<uid>-<instance>-`).
pub fn segment_prefix(instance: &str) -> String {
    format!("viba-{}-{instance}-", nix::unistd::geteuid())
}

/// Whether `name` is usable as an instance name: 1 to 32 of `[A-Za-z0-9_-]`.
pub fn valid_instance(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 32
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The folder that holds control sockets: `$XDG_RUNTIME_DIR` when it is set and absolute,
/// otherwise `/tmp/viba-<uid>` (created with mode 0700 by the supervisor). Check it with
/// [`private_runtime_dir`] before trusting what is in it.
pub fn runtime_dir() -> PathBuf {
    match std::env::var_os("XDG_RUNTIME_DIR").map(PathBuf::from) {
        Some(dir) if dir.is_absolute() => dir,
        _ => PathBuf::from(format!("/tmp/viba-{}", nix::unistd::getuid())),
    }
}

/// Where viba looks for its config when none is named: `$XDG_CONFIG_HOME/viba/viba.json`,
/// else `~/.config/viba/viba.json` (`None` without either variable).
pub fn default_config() -> Option<PathBuf> {
    let absolute = |v: std::ffi::OsString| Some(PathBuf::from(v)).filter(|p| p.is_absolute());
    std::env::var_os("XDG_CONFIG_HOME")
        .and_then(absolute)
        .or_else(|| {
            std::env::var_os("HOME")
                .and_then(absolute)
                .map(|h| h.join(".config"))
        })
        .map(|dir| dir.join("viba").join("viba.json"))
}

/// The control socket of an instance.
pub fn control_socket(instance: &str) -> PathBuf {
    runtime_dir().join(format!("viba-{instance}.sock"))
}

/// The config the supervisor hands its workers: the user's, with the changes made by
/// `ctl set` (0600, removed on exit).
pub fn live_config(instance: &str) -> PathBuf {
    runtime_dir().join(format!("viba-{instance}.json"))
}

/// Why the runtime folder cannot be used ([`private_runtime_dir`]).
#[derive(Debug, thiserror::Error)]
pub enum RuntimeDirError {
    /// It was missing and could not be made.
    #[error("cannot create {}: {cause}", dir.display())]
    Create {
        /// The folder.
        dir: PathBuf,
        /// The OS error.
        cause: std::io::Error,
    },
    /// It is not private: [`check_private`]'s line, which names the folder and the way out.
    #[error("{0}")]
    NotPrivate(String),
}

/// The runtime folder, checked to be private: a real folder (not a link), owned by this user,
/// that neither group nor others may write to. Anyone else who could write there could swap
/// the control socket or the live config the workers read (both are 0600 themselves). With `create`, a missing folder is made
/// (mode 0700). Errors are one line naming the folder and the way out.
pub fn private_runtime_dir(create: bool) -> Result<PathBuf, RuntimeDirError> {
    let dir = runtime_dir();
    if create && std::fs::symlink_metadata(&dir).is_err() {
        if let Err(cause) = std::fs::DirBuilder::new().mode(0o700).create(&dir) {
            return Err(RuntimeDirError::Create { dir, cause });
        }
    }
    check_private(&dir, nix::unistd::getuid().as_raw()).map_err(RuntimeDirError::NotPrivate)?;
    Ok(dir)
}

/// Checks that `dir` is a folder (not a link) owned by `uid` that group and others cannot write.
/// The error is the line [`RuntimeDirError::NotPrivate`] holds.
pub fn check_private(dir: &Path, uid: u32) -> Result<(), String> {
    // Only viba's own fallback folder (no XDG_RUNTIME_DIR) is viba's to tell you to remove.
    let own = dir
        .file_name()
        .is_some_and(|n| n == format!("viba-{uid}").as_str());
    let way_out = if own {
        "remove it, or set XDG_RUNTIME_DIR to a folder of your own with mode 0700".to_owned()
    } else {
        format!("set XDG_RUNTIME_DIR to a folder of your own with mode 0700, e.g. /run/user/{uid}, or chmod 700 it if it is yours")
    };
    let refuse = |why: String| {
        Err(format!(
            "{} {why}; viba keeps its control socket there and will not trust it ({way_out})",
            dir.display()
        ))
    };
    let meta = match std::fs::symlink_metadata(dir) {
        Ok(m) => m,
        Err(e) => return refuse(format!("cannot be used ({e})")),
    };
    if meta.file_type().is_symlink() {
        return refuse("is a symbolic link".into());
    }
    if !meta.is_dir() {
        return refuse("is not a folder".into());
    }
    if meta.uid() != uid {
        return refuse(format!("belongs to uid {}, not to you ({uid})", meta.uid()));
    }
    if meta.mode() & 0o022 != 0 {
        return refuse(format!(
            "has mode {:o}: others may write there",
            meta.mode() & 0o7777
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn only_a_private_folder_of_ones_own_is_trusted() {
        let uid = nix::unistd::getuid().as_raw();
        let base = tempfile::tempdir().unwrap();
        let ours = base.path().join("ours");
        std::fs::DirBuilder::new()
            .mode(0o700)
            .create(&ours)
            .unwrap();
        assert_eq!(check_private(&ours, uid), Ok(()));
        std::fs::set_permissions(&ours, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert_eq!(check_private(&ours, uid), Ok(()), "others may look");
        // Someone else's.
        let e = check_private(&ours, uid + 1).unwrap_err();
        assert!(e.contains("belongs to uid"), "{e}");
        // Open to others.
        std::fs::set_permissions(&ours, std::fs::Permissions::from_mode(0o1777)).unwrap();
        let e = check_private(&ours, uid).unwrap_err();
        assert!(e.contains("has mode 1777"), "{e}");
        // Only viba's own fallback folder is viba's to tell you to remove (never /tmp).
        assert!(
            !e.contains("remove it") && e.contains("set XDG_RUNTIME_DIR"),
            "{e}"
        );
        let fallback = base.path().join(format!("viba-{uid}"));
        std::fs::DirBuilder::new()
            .mode(0o777)
            .create(&fallback)
            .unwrap();
        std::fs::set_permissions(&fallback, std::fs::Permissions::from_mode(0o777)).unwrap();
        let e = check_private(&fallback, uid).unwrap_err();
        assert!(e.contains("(remove it, or set XDG_RUNTIME_DIR"), "{e}");
        // A link to a private folder.
        std::fs::set_permissions(&ours, std::fs::Permissions::from_mode(0o700)).unwrap();
        let link = base.path().join("link");
        std::os::unix::fs::symlink(&ours, &link).unwrap();
        let e = check_private(&link, uid).unwrap_err();
        assert!(e.contains("is a symbolic link"), "{e}");
        // A file.
        let file = base.path().join("file");
        std::fs::write(&file, b"").unwrap();
        assert!(check_private(&file, uid)
            .unwrap_err()
            .contains("is not a folder"));
        // Missing.
        assert!(check_private(&base.path().join("gone"), uid).is_err());
    }
}
