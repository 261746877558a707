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
// atomics and the seqlock protocol of the types built on it; `Shmem` is not Send/Sync only
// because it holds a raw pointer.
unsafe impl Send for Segment {}
// SAFETY: see `Send`.
unsafe impl Sync for Segment {}

impl Segment {
    /// Creates a new zero-filled segment of `size` bytes. Fails with [`ShmError::Exists`] when
    /// the name is taken.
    pub fn create(name: &str, size: usize) -> Result<Segment, ShmError> {
        match ShmemConf::new().os_id(name).size(size).create() {
            Ok(shmem) => Ok(Segment {
                shmem,
                name: name.to_owned(),
            }),
            Err(ShmemError::MappingIdExists) => Err(ShmError::Exists(name.to_owned())),
            Err(e) => Err(ShmError::Os {
                name: name.to_owned(),
                cause: e.to_string(),
            }),
        }
    }

    /// Maps an existing segment; dropping the result never removes it.
    pub fn open(name: &str) -> Result<Segment, ShmError> {
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
