//! Any video format ffmpeg reads: decoded by an `ffmpeg` child process that scales to cover
//! the configured size and writes raw YUYV to a pipe.

use super::{Fill, FrameSource, SourceError};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

pub struct FfmpegFile {
    path: PathBuf,
    size: (u32, u32),
    looping: bool,
    child: Child,
    frame: Vec<u8>,
    frames_read: u64,
    /// The frame read by `open` has not been handed out yet.
    first_pending: bool,
}

fn spawn(path: &Path, (w, h): (u32, u32)) -> Result<Child, SourceError> {
    let filter = format!("scale={w}:{h}:force_original_aspect_ratio=increase,crop={w}:{h}");
    Command::new("ffmpeg")
        .args(["-nostdin", "-hide_banner", "-loglevel", "error", "-i"])
        .arg(path)
        .args(["-an", "-vf", &filter, "-pix_fmt", "yuyv422", "-f", "rawvideo", "-"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            SourceError::File(if e.kind() == std::io::ErrorKind::NotFound {
                format!(
                    "{} is not a Y4M file and ffmpeg is not installed (install ffmpeg, or use a .y4m file)",
                    path.display()
                )
            } else {
                format!("cannot start ffmpeg for {}: {e}", path.display())
            })
        })
}

impl FfmpegFile {
    /// Starts decoding and reads the first frame, so a file ffmpeg cannot decode is reported
    /// here (and by `viba-capture --check`), not later.
    pub fn open(path: &Path, size: (u32, u32), looping: bool) -> Result<Self, SourceError> {
        let mut source = FfmpegFile {
            child: spawn(path, size)?,
            path: path.to_owned(),
            size,
            looping,
            frame: vec![0; size.0 as usize * size.1 as usize * 2],
            frames_read: 0,
            first_pending: false,
        };
        if source.advance()? == Fill::EndOfStream {
            return Err(SourceError::File(format!(
                "{} has no frames",
                path.display()
            )));
        }
        source.first_pending = true;
        Ok(source)
    }

    /// Ends the current ffmpeg and returns what it printed on stderr.
    fn finish(&mut self) -> String {
        let _ = self.child.kill();
        let mut err = String::new();
        if let Some(mut stderr) = self.child.stderr.take() {
            let _ = stderr.read_to_string(&mut err);
        }
        let _ = self.child.wait();
        err.lines().last().unwrap_or("").to_owned()
    }

    fn read_frame(&mut self) -> std::io::Result<bool> {
        let stdout = self.child.stdout.as_mut().expect("piped");
        match stdout.read_exact(&mut self.frame) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(false),
            Err(e) => Err(e),
        }
    }
}

impl FrameSource for FfmpegFile {
    fn advance(&mut self) -> Result<Fill, SourceError> {
        if std::mem::take(&mut self.first_pending) {
            return Ok(Fill::Frame);
        }
        let name = self.path.display().to_string();
        let io = |e: std::io::Error| SourceError::File(format!("{name}: {e}"));
        if self.read_frame().map_err(io)? {
            self.frames_read += 1;
            return Ok(Fill::Frame);
        }
        let said = self.finish();
        if self.frames_read == 0 {
            return Err(SourceError::File(format!(
                "ffmpeg could not decode {}: {said} (is it a video file? ffmpeg -i '{}' says what it holds)",
                self.path.display(),
                self.path.display()
            )));
        }
        if !self.looping {
            return Ok(Fill::EndOfStream);
        }
        self.child = spawn(&self.path, self.size)?;
        self.frames_read = 0;
        self.advance()
    }

    fn copy_to(&self, out: &mut [u8]) {
        out[..self.frame.len()].copy_from_slice(&self.frame);
    }

    fn describe(&self) -> String {
        format!("video {} (via ffmpeg)", self.path.display())
    }
}

impl Drop for FfmpegFile {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
