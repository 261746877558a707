//! Whether a file the compositor will write (`output.path`, `output.snapshot`) can be
//! written, checked before anything starts, leaving nothing behind: an existing file is opened
//! for writing (not truncated); a new one's nearest existing folder gets a file made and
//! removed at once (permission bits alone say nothing for root, and nothing for folders such
//! as /proc, where no file can be made whatever they say).

use std::io;
use std::path::{Path, PathBuf};

/// Why the file cannot be written; every message starts with the key.
#[derive(Debug, thiserror::Error)]
pub enum WritableError {
    /// The file exists and cannot be opened for writing.
    #[error("{key}: cannot write {}: {cause}", path.display())]
    Open {
        /// The config key.
        key: &'static str,
        /// The file.
        path: PathBuf,
        /// The OS error.
        cause: io::Error,
    },
    /// The path names a folder.
    #[error("{key}: {} is a folder (name a {what} file, e.g. {}/{example})", path.display(), path.display())]
    IsFolder {
        /// The config key.
        key: &'static str,
        /// The folder.
        path: PathBuf,
        /// The kind of file wanted (`.y4m`).
        what: &'static str,
        /// A file name to suggest.
        example: &'static str,
    },
    /// The file does not exist and no file can be made in its nearest existing folder.
    #[error("{key}: cannot create {}: folder {} is not writable ({cause})", path.display(), folder.display())]
    FolderNotWritable {
        /// The config key.
        key: &'static str,
        /// The file.
        path: PathBuf,
        /// The nearest existing folder.
        folder: PathBuf,
        /// The OS error of the trial.
        cause: io::Error,
    },
    /// The file does not exist and a part of its path is not a folder.
    #[error("{key}: cannot create {}: {} is not a folder", path.display(), folder.display())]
    NotAFolder {
        /// The config key.
        key: &'static str,
        /// The file.
        path: PathBuf,
        /// The part of its path that is not a folder.
        folder: PathBuf,
    },
}

/// What a checked file is, for the messages.
#[derive(Debug, Clone, Copy)]
pub struct Wanted {
    /// The config key (`output.path`).
    pub key: &'static str,
    /// The kind of file (`.y4m`).
    pub what: &'static str,
    /// A file name to suggest in a folder named instead (`out.y4m`).
    pub example: &'static str,
}

/// Checks that `path` can be written (see the module's text).
pub fn check(path: &Path, wanted: Wanted) -> Result<(), WritableError> {
    let key = wanted.key;
    match std::fs::metadata(path) {
        Ok(m) if m.is_dir() => {
            return Err(WritableError::IsFolder {
                key,
                path: path.to_owned(),
                what: wanted.what,
                example: wanted.example,
            })
        }
        Ok(_) => {
            return std::fs::OpenOptions::new()
                .write(true)
                .open(path)
                .map(drop)
                .map_err(|cause| WritableError::Open {
                    key,
                    path: path.to_owned(),
                    cause,
                })
        }
        Err(_) => {}
    }
    let mut dir = path.parent();
    while let Some(d) = dir {
        let d = if d.as_os_str().is_empty() {
            Path::new(".")
        } else {
            d
        };
        match std::fs::metadata(d) {
            Ok(m) if m.is_dir() => {
                return try_make_file(d).map_err(|cause| WritableError::FolderNotWritable {
                    key,
                    path: path.to_owned(),
                    folder: d.to_owned(),
                    cause,
                });
            }
            Ok(_) => {
                return Err(WritableError::NotAFolder {
                    key,
                    path: path.to_owned(),
                    folder: d.to_owned(),
                })
            }
            Err(_) => dir = d.parent(),
        }
    }
    Ok(())
}

/// Makes a file of a name no one else uses in `dir` and removes it again.
fn try_make_file(dir: &Path) -> io::Result<()> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let trial = dir.join(format!(".viba-write-check-{}-{now}", std::process::id()));
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&trial)?;
    std::fs::remove_file(&trial).map_err(|e| {
        io::Error::new(
            e.kind(),
            format!(
                "a file made there cannot be removed again: {e}; remove {}",
                trial.display()
            ),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const Y4M: Wanted = Wanted {
        key: "output.path",
        what: ".y4m",
        example: "out.y4m",
    };

    #[test]
    fn writable_files_pass_and_leave_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(d.join("old.y4m"), b"kept").unwrap();
        check(&d.join("old.y4m"), Y4M).unwrap();
        check(&d.join("new.y4m"), Y4M).unwrap();
        check(&d.join("a/b/new.y4m"), Y4M).unwrap();
        // Nothing made, nothing truncated.
        let names: Vec<_> = std::fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["old.y4m"]);
        assert_eq!(std::fs::read(d.join("old.y4m")).unwrap(), b"kept");
    }

    #[test]
    fn unwritable_places_are_named_with_the_key() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(d.join("plain"), b"").unwrap();
        let e = check(d, Y4M).unwrap_err().to_string();
        assert!(
            e.starts_with("output.path: ") && e.contains("is a folder (name a .y4m file, e.g. "),
            "{e}"
        );
        let e = check(&d.join("plain/out.y4m"), Y4M)
            .unwrap_err()
            .to_string();
        assert!(e.ends_with("plain is not a folder"), "{e}");
        // No file can be made in /proc, whatever its permission bits say (and root may
        // write anywhere else).
        let snapshot = Wanted {
            key: "output.snapshot",
            what: ".png",
            example: "snapshot.png",
        };
        let e = check(Path::new("/proc/viba-nowhere/shot.png"), snapshot)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("output.snapshot: cannot create /proc/viba-nowhere/shot.png: folder /proc is not writable ("),
            "{e}"
        );
    }
}
