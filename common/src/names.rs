//! Names of the shared-memory segments and the control socket of an instance.

use std::path::PathBuf;

/// The kinds of segment an instance owns.
pub const SEGMENTS: [&str; 3] = ["frames", "masks", "stats"];

/// The POSIX shared-memory name (`/viba-<instance>-<what>`, shown in `/dev/shm` without the
/// leading slash).
pub fn segment(instance: &str, what: &str) -> String {
    format!("/viba-{instance}-{what}")
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
/// otherwise `/tmp/viba-<uid>` (created with mode 0700 by the supervisor).
pub fn runtime_dir() -> PathBuf {
    match std::env::var_os("XDG_RUNTIME_DIR").map(PathBuf::from) {
        Some(dir) if dir.is_absolute() => dir,
        _ => PathBuf::from(format!("/tmp/viba-{}", nix::unistd::getuid())),
    }
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
