//! Memory-mapped V4L2 streaming with raw ioctls, for the camera source and the fake-webcam
//! sink.
//!
//! The `v4l` crate's own stream panics in `Drop` when `VIDIOC_STREAMOFF` fails (a camera
//! that was unplugged may answer EIO) and, on an output queue, writes every frame into the
//! buffer `VIDIOC_DQBUF` returns, which v4l2loopback answers with the buffer queued last.
//! [`MmapQueue`] never panics when dropped, picks output buffers round-robin itself, queues
//! `bytesused` as given and zero timestamps (the driver then stamps each frame itself).

use std::io;
use std::os::raw::{c_int, c_void};
use std::sync::Arc;
use v4l::device::Handle;
use v4l::v4l2;
use v4l::v4l_sys::{v4l2_buffer, v4l2_requestbuffers};

const MEMORY_MMAP: u32 = 1;

/// Which queue of the device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// `V4L2_BUF_TYPE_VIDEO_CAPTURE`: frames come from the device.
    Capture,
    /// `V4L2_BUF_TYPE_VIDEO_OUTPUT`: frames go to the device.
    Output,
}

impl Direction {
    fn buf_type(self) -> u32 {
        match self {
            Direction::Capture => 1,
            Direction::Output => 2,
        }
    }
}

/// One mapped driver buffer.
struct Mapped {
    ptr: *mut u8,
    len: usize,
}

/// Buffers of one queue, mapped into this process.
pub struct MmapQueue {
    handle: Arc<Handle>,
    direction: Direction,
    bufs: Vec<Mapped>,
    streaming: bool,
    /// Output: the next buffer to fill.
    next_out: usize,
}

/// A dequeued capture buffer.
#[derive(Debug, Clone, Copy)]
pub struct Dequeued {
    /// Buffer index, to give back with [`MmapQueue::requeue`].
    pub index: usize,
    /// Bytes of the buffer that hold the frame.
    pub bytesused: usize,
    /// The driver's frame counter (gaps: frames it dropped; always 0 from some drivers, e.g.
    /// v4l2loopback fed by an mmap producer).
    pub sequence: u32,
}

fn ioctl(handle: &Handle, request: v4l2::vidioc::_IOC_TYPE, arg: *mut c_void) -> io::Result<()> {
    // SAFETY: every caller passes a pointer to a live, properly sized and initialised struct
    // of the type `request` expects; the fd is open for as long as `handle` lives.
    unsafe { v4l2::ioctl(handle.fd(), request, arg) }
}

fn zeroed_buffer() -> v4l2_buffer {
    // SAFETY: v4l2_buffer is a plain C struct (integers, a timeval, a union of integers and
    // pointers); all-zero bytes are a valid value of it.
    unsafe { std::mem::zeroed() }
}

impl MmapQueue {
    /// Requests `count` buffers (the driver may grant fewer or more) and maps them. The format
    /// must already be set.
    pub fn new(handle: Arc<Handle>, direction: Direction, count: u32) -> io::Result<MmapQueue> {
        // SAFETY: all-zero is a valid v4l2_requestbuffers.
        let mut req: v4l2_requestbuffers = unsafe { std::mem::zeroed() };
        req.count = count;
        req.type_ = direction.buf_type();
        req.memory = MEMORY_MMAP;
        ioctl(
            &handle,
            v4l2::vidioc::VIDIOC_REQBUFS,
            &mut req as *mut _ as *mut c_void,
        )?;
        if req.count == 0 {
            return Err(io::Error::other("the driver granted no buffers"));
        }
        let mut queue = MmapQueue {
            handle,
            direction,
            bufs: Vec::new(),
            streaming: false,
            next_out: 0,
        };
        for index in 0..req.count {
            let mut buf = zeroed_buffer();
            buf.index = index;
            buf.type_ = direction.buf_type();
            buf.memory = MEMORY_MMAP;
            ioctl(
                &queue.handle,
                v4l2::vidioc::VIDIOC_QUERYBUF,
                &mut buf as *mut _ as *mut c_void,
            )?;
            let len = buf.length as usize;
            // SAFETY: QUERYBUF succeeded, so `m.offset` is the mmap cookie of this buffer;
            // the union member for MMAP buffers is `offset`.
            let offset = unsafe { buf.m.offset };
            // SAFETY: mapping a driver buffer of the length it reported; the result is checked.
            let ptr = unsafe {
                libc::mmap(
                    std::ptr::null_mut(),
                    len,
                    libc::PROT_READ | libc::PROT_WRITE,
                    libc::MAP_SHARED,
                    queue.handle.fd(),
                    offset as libc::off_t,
                )
            };
            if ptr == libc::MAP_FAILED {
                return Err(io::Error::last_os_error());
            }
            queue.bufs.push(Mapped {
                ptr: ptr as *mut u8,
                len,
            });
        }
        Ok(queue)
    }

    /// Number of buffers granted.
    pub fn len(&self) -> usize {
        self.bufs.len()
    }

    /// Always false: a queue has at least one buffer.
    pub fn is_empty(&self) -> bool {
        self.bufs.is_empty()
    }

    /// The mapped bytes of buffer `index`.
    pub fn buffer(&self, index: usize) -> &[u8] {
        let b = &self.bufs[index];
        // SAFETY: the mapping is live until drop and `len` long; the driver writes into a
        // capture buffer only while it is queued, and callers read only dequeued ones.
        unsafe { std::slice::from_raw_parts(b.ptr, b.len) }
    }

    fn buffer_mut(&mut self, index: usize) -> &mut [u8] {
        let b = &self.bufs[index];
        // SAFETY: as in `buffer`; `&mut self` makes this the only Rust view of it.
        unsafe { std::slice::from_raw_parts_mut(b.ptr, b.len) }
    }

    fn qbuf(&self, index: usize, bytesused: u32) -> io::Result<()> {
        let mut buf = zeroed_buffer();
        buf.index = index as u32;
        buf.type_ = self.direction.buf_type();
        buf.memory = MEMORY_MMAP;
        buf.bytesused = bytesused;
        buf.field = 1; // V4L2_FIELD_NONE
        ioctl(
            &self.handle,
            v4l2::vidioc::VIDIOC_QBUF,
            &mut buf as *mut _ as *mut c_void,
        )
    }

    fn dqbuf(&self) -> io::Result<v4l2_buffer> {
        let mut buf = zeroed_buffer();
        buf.type_ = self.direction.buf_type();
        buf.memory = MEMORY_MMAP;
        ioctl(
            &self.handle,
            v4l2::vidioc::VIDIOC_DQBUF,
            &mut buf as *mut _ as *mut c_void,
        )?;
        Ok(buf)
    }

    fn stream(&mut self, on: bool) -> io::Result<()> {
        let mut typ = self.direction.buf_type() as c_int;
        let request = if on {
            v4l2::vidioc::VIDIOC_STREAMON
        } else {
            v4l2::vidioc::VIDIOC_STREAMOFF
        };
        ioctl(&self.handle, request, &mut typ as *mut _ as *mut c_void)?;
        self.streaming = on;
        Ok(())
    }

    /// Capture: queues every buffer and starts streaming.
    pub fn start_capture(&mut self) -> io::Result<()> {
        for index in 0..self.bufs.len() {
            self.qbuf(index, 0)?;
        }
        self.stream(true)
    }

    /// Capture: waits up to `timeout_ms` for a filled buffer. `Ok(None)` on timeout.
    pub fn dequeue(&mut self, timeout_ms: i32) -> io::Result<Option<Dequeued>> {
        if self.handle.poll(libc::POLLIN, timeout_ms)? == 0 {
            return Ok(None);
        }
        match self.dqbuf() {
            Ok(buf) => Ok(Some(Dequeued {
                index: buf.index as usize,
                bytesused: (buf.bytesused as usize).min(self.bufs[buf.index as usize].len),
                sequence: buf.sequence,
            })),
            Err(e) if e.raw_os_error() == Some(libc::EAGAIN) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Capture: gives a dequeued buffer back to the driver.
    pub fn requeue(&mut self, index: usize) -> io::Result<()> {
        self.qbuf(index, 0)
    }

    /// Output: lets `fill` write the next frame into the next buffer (round-robin), queues it
    /// with `bytesused` bytes, and starts streaming after the first frame.
    pub fn send(&mut self, bytesused: u32, fill: impl FnOnce(&mut [u8])) -> io::Result<()> {
        let index = self.next_out;
        self.next_out = (index + 1) % self.bufs.len();
        let buf = self.buffer_mut(index);
        if buf.len() < bytesused as usize {
            return Err(io::Error::other(format!(
                "driver buffer holds {} bytes, a frame needs {bytesused}",
                buf.len()
            )));
        }
        fill(&mut buf[..bytesused as usize]);
        self.qbuf(index, bytesused)?;
        if !self.streaming {
            self.stream(true)?;
        }
        // Keep the driver's bookkeeping balanced; a buffer not ready yet (EAGAIN) is fine.
        match self.dqbuf() {
            Err(e)
                if e.raw_os_error() != Some(libc::EAGAIN)
                    && e.raw_os_error() != Some(libc::EINVAL) =>
            {
                Err(e)
            }
            _ => Ok(()),
        }
    }

    /// Stops streaming; errors are returned, never panicked on.
    pub fn stop(&mut self) -> io::Result<()> {
        if self.streaming {
            self.stream(false)
        } else {
            Ok(())
        }
    }
}

impl Drop for MmapQueue {
    fn drop(&mut self) {
        // A device that went away answers ENODEV or EIO here: nothing left to do about it.
        let _ = self.stop();
        for b in &self.bufs {
            // SAFETY: unmapping exactly the mappings made in `new`; no slices outlive `self`.
            unsafe {
                libc::munmap(b.ptr as *mut c_void, b.len);
            }
        }
        // SAFETY: all-zero is a valid v4l2_requestbuffers; count 0 frees the buffers.
        let mut req: v4l2_requestbuffers = unsafe { std::mem::zeroed() };
        req.type_ = self.direction.buf_type();
        req.memory = MEMORY_MMAP;
        let _ = ioctl(
            &self.handle,
            v4l2::vidioc::VIDIOC_REQBUFS,
            &mut req as *mut _ as *mut c_void,
        );
    }
}

// SAFETY: the raw pointers are private mappings owned by the queue; moving the queue to
// another thread moves that ownership with it.
unsafe impl Send for MmapQueue {}

/// Why a V4L2 device node cannot be used ([`open_node`]): the words that follow the device's
/// name in a one-line message.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    /// There is no such node.
    #[error("does not exist ({hint})")]
    Missing {
        /// What to do (the caller's `missing_hint`).
        hint: String,
    },
    /// Its metadata cannot be read.
    #[error("cannot be read: {0}")]
    Unreadable(io::Error),
    /// It is a file, a folder, anything but a device node.
    #[error("is not a character device (a V4L2 device is a /dev/videoN node; {hint})")]
    NotCharDevice {
        /// What to do (the caller's `missing_hint`).
        hint: String,
    },
    /// Opening it failed (with the fix when it is a matter of permissions).
    #[error("cannot be opened: {cause}{}", group_hint(.cause))]
    Open {
        /// The OS error.
        cause: io::Error,
    },
    /// The driver reports names the v4l crate cannot decode.
    #[error("reports a driver or card name that is not UTF-8")]
    NameNotUtf8,
    /// It does not answer VIDIOC_QUERYCAP.
    #[error("is not a V4L2 device: {0} (viba-supervisor --list-devices lists cameras and v4l2loopback devices)")]
    NotV4l2(io::Error),
}

/// The way out of a device that may not be opened: the video group.
fn group_hint(e: &io::Error) -> &'static str {
    if e.kind() == io::ErrorKind::PermissionDenied {
        " (add yourself to the video group: sudo usermod -aG video $USER, then log in again)"
    } else {
        ""
    }
}

/// Opens a V4L2 device node and reads its capabilities, checking on the way that it exists and
/// is a character device. Errors are the words that follow the device's name in a one-line
/// message; `missing_hint` says what to do when the node does not exist or is not a device.
pub fn open_node(
    path: &str,
    missing_hint: &str,
) -> Result<(v4l::Device, v4l::capability::Capabilities), NodeError> {
    use std::os::unix::fs::FileTypeExt;
    let meta = std::fs::metadata(path).map_err(|e| {
        if e.kind() == io::ErrorKind::NotFound {
            NodeError::Missing {
                hint: missing_hint.to_owned(),
            }
        } else {
            NodeError::Unreadable(e)
        }
    })?;
    if !meta.file_type().is_char_device() {
        return Err(NodeError::NotCharDevice {
            hint: missing_hint.to_owned(),
        });
    }
    let device = v4l::Device::with_path(path).map_err(|cause| NodeError::Open { cause })?;
    // The v4l crate decodes driver and card names with from_utf8().unwrap(): keep an odd name
    // from aborting the process.
    let caps = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| device.query_caps()))
        .map_err(|_| NodeError::NameNotUtf8)?
        .map_err(NodeError::NotV4l2)?;
    Ok((device, caps))
}
