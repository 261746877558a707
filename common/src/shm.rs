//! POSIX shared-memory segments (`/dev/shm`), created with mode 0600.

use shared_memory::{Shmem, ShmemConf, ShmemError};

/// Why a segment could not be created or opened.
#[derive(Debug, thiserror::Error)]
pub enum ShmError {
    /// A segment of that name is already there.
    #[error("shared memory {0} already exists (is another viba running with this instance name?)")]
    Exists(String),
    /// There is no segment of that name.
    #[error(
        "shared memory {0} does not exist (is viba-supervisor running with this instance name?)"
    )]
    Missing(String),
    /// Any other failure of shm_open, ftruncate or mmap.
    #[error("shared memory {name}: {cause}")]
    Os {
        /// The segment's name.
        name: String,
        /// What the OS said.
        cause: String,
    },
}

/// A mapped segment. The creator removes it from `/dev/shm` when dropped unless told not to.
pub struct Segment {
    shmem: Shmem,
    name: String,
}

// SAFETY: the mapping stays valid for the lifetime of `Segment` and is only accessed through
// atomics and the loan protocol of the types built on it; `Shmem` is not Send/Sync only
// because it holds a raw pointer.
unsafe impl Send for Segment {}
// SAFETY: see `Send`.
unsafe impl Sync for Segment {}

impl Segment {
    /// Creates a new zero-filled segment of `size` bytes. Fails with [`ShmError::Exists`] when
    /// the name is taken.
    pub fn create(name: &str, size: usize) -> Result<Segment, ShmError> {
        match ShmemConf::new().os_id(name).size(size).create() {
            Ok(shmem) => {
                let segment = Segment {
                    shmem,
                    name: name.to_owned(),
                };
                // ftruncate only reserves an address range: on a small /dev/shm (64 MB in a
                // container) a write past what is free would be a SIGBUS later. Take the memory
                // now, so that the failure is a message at start-up (the segment is removed
                // when `segment` drops).
                reserve(name, size)?;
                Ok(segment)
            }
            Err(ShmemError::MappingIdExists) => Err(ShmError::Exists(name.to_owned())),
            Err(e) => Err(ShmError::Os {
                name: name.to_owned(),
                cause: e.to_string(),
            }),
        }
    }

    /// Maps an existing segment; dropping the result never removes it. A segment that is not
    /// this user's own, or that others may use, is refused: whoever made it could read the
    /// camera's frames or write the masks.
    pub fn open(name: &str) -> Result<Segment, ShmError> {
        check_own(name)?;
        match ShmemConf::new().os_id(name).open() {
            Ok(mut shmem) => {
                shmem.set_owner(false);
                Ok(Segment {
                    shmem,
                    name: name.to_owned(),
                })
            }
            Err(ShmemError::MapOpenFailed(code)) if code == libc::ENOENT as u32 => {
                Err(ShmError::Missing(name.to_owned()))
            }
            Err(e) => Err(ShmError::Os {
                name: name.to_owned(),
                cause: e.to_string(),
            }),
        }
    }

    /// Removes a segment by name; a missing one is not an error. Returns whether one was removed.
    pub fn unlink(name: &str) -> Result<bool, ShmError> {
        match nix::sys::mman::shm_unlink(name) {
            Ok(()) => Ok(true),
            Err(nix::errno::Errno::ENOENT) => Ok(false),
            Err(e) => Err(ShmError::Os {
                name: name.to_owned(),
                cause: e.to_string(),
            }),
        }
    }

    /// Keeps the segment in `/dev/shm` when this handle is dropped (or removes it, with `true`).
    pub fn set_owner(&mut self, owner: bool) {
        self.shmem.set_owner(owner);
    }

    /// The segment's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Mapped length in bytes.
    pub fn len(&self) -> usize {
        self.shmem.len()
    }

    /// Whether the mapping is empty (never true for a segment viba made).
    pub fn is_empty(&self) -> bool {
        self.shmem.len() == 0
    }

    /// Start of the mapping (page aligned).
    pub fn as_ptr(&self) -> *mut u8 {
        self.shmem.as_ptr()
    }
}

/// Where a segment shows in the file system.
fn shm_path(name: &str) -> std::path::PathBuf {
    std::path::Path::new("/dev/shm").join(name.trim_start_matches('/'))
}

/// Allocates the segment's memory (`posix_fallocate`).
fn reserve(name: &str, size: usize) -> Result<(), ShmError> {
    let fail = |cause: String| ShmError::Os {
        name: name.to_owned(),
        cause,
    };
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(shm_path(name))
        .map_err(|e| fail(e.to_string()))?;
    match nix::fcntl::posix_fallocate(&file, 0, size as libc::off_t) {
        Ok(()) => Ok(()),
        Err(nix::errno::Errno::ENOSPC) => Err(fail(format!(
            "/dev/shm has no room for {} MB (see df -h /dev/shm; a container needs a larger --shm-size, or use a smaller input size)",
            size.div_ceil(1 << 20)
        ))),
        // A file system without fallocate: the memory is taken on first touch, as before.
        Err(nix::errno::Errno::EOPNOTSUPP) => Ok(()),
        Err(e) => Err(fail(e.to_string())),
    }
}

/// Refuses a segment that belongs to another user or that group or others may use.
fn check_own(name: &str) -> Result<(), ShmError> {
    use std::os::unix::fs::MetadataExt;
    let Ok(meta) = std::fs::symlink_metadata(shm_path(name)) else {
        // Missing: `open` says so in its own words.
        return Ok(());
    };
    let uid = nix::unistd::geteuid().as_raw();
    let why = if !meta.file_type().is_file() {
        "is not a plain file".to_owned()
    } else if meta.uid() != uid {
        format!("belongs to uid {}, not to you ({uid})", meta.uid())
    } else if meta.mode() & 0o077 != 0 {
        format!("has mode {:o}: others may use it", meta.mode() & 0o777)
    } else {
        return Ok(());
    };
    Err(ShmError::Os {
        name: name.to_owned(),
        cause: format!("{why}; viba will not use it (remove it, or choose another \"instance\")"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn a_segment_others_may_use_is_refused() {
        let name = format!("/viba-shm-unit-{}", std::process::id());
        let segment = Segment::create(&name, 4096).unwrap();
        assert!(Segment::open(&name).is_ok());
        std::fs::set_permissions(shm_path(&name), std::fs::Permissions::from_mode(0o666)).unwrap();
        let e = Segment::open(&name).err().unwrap().to_string();
        assert!(e.contains("has mode 666: others may use it"), "{e}");
        drop(segment);
        assert!(!shm_path(&name).exists());
    }

    #[test]
    fn a_segment_larger_than_the_memory_is_refused_when_made() {
        let name = format!("/viba-shm-big-{}", std::process::id());
        // Far more than /dev/shm (half the RAM by default) can hold.
        let e = Segment::create(&name, 1 << 46).err().unwrap().to_string();
        assert!(e.contains("/dev/shm has no room for"), "{e}");
        assert!(!shm_path(&name).exists(), "left behind: {e}");
    }
}
