//! A video background (`background.video`), looped. A thread of its own decodes it at the
//! output's frame rate into a shared buffer (Y4M natively, anything else through `ffmpeg`); the
//! frame loop only takes the newest decoded frame when there is one, so a slow decode never
//! delays a frame (the background then shows the same picture a little longer).

use crate::background::BackgroundError;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use viba_capture::source::{Fill, FrameSource};

/// The newest decoded frame and its number (0: none yet).
struct Shared {
    frame: Mutex<(Vec<u8>, u64)>,
    stop: AtomicBool,
    /// While the pipeline idles, nothing is decoded.
    paused: AtomicBool,
}

/// A looping video decoded off the frame loop.
pub struct Video {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
    seen: u64,
}

impl Video {
    /// Opens `path` (errors name `background.video`) for frames of `size`, decoded at `fps`.
    /// The first frame is decoded before this returns, so a file that opens but does not
    /// decode is reported here.
    pub fn open(
        path: &std::path::Path,
        size: (u32, u32),
        fps: u32,
    ) -> Result<Video, BackgroundError> {
        let mut source = viba_capture::source::open_video("background.video", path, size, true)
            .map_err(BackgroundError::VideoOpen)?;
        let bytes = size.0 as usize * size.1 as usize * 2;
        let mut first = vec![0u8; bytes];
        match source.advance() {
            Ok(Fill::Frame) => source.copy_to(&mut first),
            Ok(_) => {
                return Err(BackgroundError::VideoEmpty {
                    path: path.to_owned(),
                })
            }
            Err(e) => return Err(BackgroundError::VideoFrame(e)),
        }
        let shared = Arc::new(Shared {
            frame: Mutex::new((first, 1)),
            stop: AtomicBool::new(false),
            paused: AtomicBool::new(false),
        });
        let theirs = Arc::clone(&shared);
        let period = Duration::from_nanos(1_000_000_000 / fps.max(1) as u64);
        let thread = std::thread::Builder::new()
            .name("background-video".into())
            .spawn(move || decode(source, theirs, bytes, period))
            .map_err(BackgroundError::VideoThread)?;
        Ok(Video {
            shared,
            thread: Some(thread),
            seen: 0,
        })
    }

    /// Stops decoding while the pipeline idles (`true`) and goes on (`false`).
    pub fn set_paused(&self, paused: bool) {
        self.shared.paused.store(paused, Ordering::Relaxed);
        if !paused {
            self.wake();
        }
    }

    /// Wakes the thread if it sleeps while paused.
    fn wake(&self) {
        if let Some(t) = &self.thread {
            t.thread().unpark();
        }
    }

    /// Copies the newest decoded frame into `out` when there is one the caller has not had;
    /// returns whether it did.
    pub fn take_newest(&mut self, out: &mut [u8]) -> bool {
        let guard = self.shared.frame.lock().unwrap_or_else(|p| p.into_inner());
        if guard.1 == self.seen {
            return false;
        }
        out.copy_from_slice(&guard.0);
        self.seen = guard.1;
        true
    }
}

/// The decoding loop: a frame per period on absolute deadlines, until stopped.
fn decode(
    mut source: Box<dyn FrameSource + Send>,
    shared: Arc<Shared>,
    bytes: usize,
    period: Duration,
) {
    let mut next = vec![0u8; bytes];
    let mut count = 1u64;
    let mut deadline = Instant::now() + period;
    while !shared.stop.load(Ordering::Relaxed) {
        if shared.paused.load(Ordering::Relaxed) {
            // Until `set_paused(false)` or the drop unparks it (an idle pipeline does not
            // wake for it); the timeout only guards against a lost unpark.
            std::thread::park_timeout(Duration::from_secs(5));
            deadline = Instant::now() + period;
            continue;
        }
        match source.advance() {
            Ok(Fill::Frame) => {
                source.copy_to(&mut next);
                count += 1;
                let mut guard = shared.frame.lock().unwrap_or_else(|p| p.into_inner());
                std::mem::swap(&mut guard.0, &mut next);
                guard.1 = count;
            }
            Ok(_) => {}
            Err(e) => {
                // The last good frame stays; a file that went away is not worth a crash.
                eprintln!("viba-compositor: {e}; the video background stops there");
                return;
            }
        }
        let now = Instant::now();
        if deadline > now {
            std::thread::sleep(deadline - now);
            deadline += period;
        } else {
            // Behind (a slow decode): go on from now instead of rushing to catch up.
            deadline = now + period;
        }
    }
}

impl Drop for Video {
    /// Tells the thread to stop and lets it go without waiting: it ends after the frame it is
    /// decoding (its `ffmpeg` child with it), and a decoder that hangs cannot hold up the
    /// frame loop.
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
        self.wake();
        drop(self.thread.take());
    }
}
