//! A Y4M (YUV4MPEG2, 4:2:2 planar) video file: plays in mpv, ffplay and VLC, and ffmpeg
//! converts it to anything.

use super::{Sink, SinkError};
use std::fs::File;
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use viba_common::yuv;

/// Writes composites as a YUV4MPEG2 file (4:2:2), each frame tagged with the camera frame it
/// shows and its mask's frame.
pub struct Y4mWriter {
    out: BufWriter<File>,
    width: usize,
    height: usize,
    planar: Vec<u8>,
    path: PathBuf,
    /// Whole frames of the recording it went on with.
    before: u64,
}

impl Y4mWriter {
    /// Creates (or truncates) the file, making its folder when needed, and writes the header.
    /// With `resume` (a compositor started again by the supervisor), a recording of the same
    /// format is continued instead: a frame the previous compositor left half written is cut
    /// off, and the new frames follow the last whole one.
    pub fn create(
        path: &Path,
        width: u32,
        height: u32,
        fps: u32,
        resume: bool,
    ) -> Result<Self, SinkError> {
        let fail = |cause: std::io::Error| SinkError::Open {
            path: path.to_owned(),
            cause,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(fail)?;
        }
        let header = format!("YUV4MPEG2 W{width} H{height} F{fps}:1 Ip A1:1 C422\n");
        let frame_bytes = width as u64 * height as u64 * 2;
        let (file, before) = match resume
            .then(|| continued(path, &header, frame_bytes))
            .flatten()
        {
            Some(went_on) => went_on,
            None => {
                let mut file = File::create(path).map_err(fail)?;
                file.write_all(header.as_bytes()).map_err(fail)?;
                (file, 0)
            }
        };
        let out = BufWriter::with_capacity(1 << 20, file);
        Ok(Y4mWriter {
            out,
            width: width as usize,
            height: height as usize,
            planar: vec![0; width as usize * height as usize * 2],
            path: path.to_owned(),
            before,
        })
    }
}

/// The recording at `path`, opened to be continued after its last whole frame, and its number
/// of whole frames, when it has exactly `header`; `None` when there is none to continue.
fn continued(path: &Path, header: &str, frame_bytes: u64) -> Option<(File, u64)> {
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .ok()?;
    let len = file.metadata().ok()?.len();
    let mut reader = std::io::BufReader::new(&file);
    let mut first = String::new();
    std::io::BufRead::read_line(&mut (&mut reader).take(256), &mut first).ok()?;
    if first != header {
        return None;
    }
    let frames = viba_media::y4m::walk(&mut reader, first.len() as u64, frame_bytes, len).ok()?;
    drop(reader);
    file.set_len(frames.end).ok()?;
    let mut file = file;
    file.seek(SeekFrom::End(0)).ok()?;
    Some((file, frames.count))
}

impl Sink for Y4mWriter {
    fn write(&mut self, yuyv: &[u8], tag: super::Tag) -> Result<(), SinkError> {
        yuv::yuyv_to_planar422(yuyv, self.width, self.height, &mut self.planar);
        // Application parameters (X...) are ignored by players and ffmpeg.
        let header = format!("FRAME Xframe={} Xmask={}\n", tag.frame, tag.mask);
        self.out
            .write_all(header.as_bytes())
            .and_then(|()| self.out.write_all(&self.planar))
            .map_err(|cause| SinkError::Write {
                path: self.path.clone(),
                cause,
            })
    }

    fn finish(&mut self) -> Result<(), SinkError> {
        self.out.flush().map_err(|cause| SinkError::Write {
            path: self.path.clone(),
            cause,
        })
    }

    fn frames_before(&self) -> u64 {
        self.before
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sink::Tag;

    fn frames_in(path: &Path) -> (u64, u64) {
        let bytes = std::fs::read(path).unwrap();
        let header = bytes.iter().position(|&b| b == b'\n').unwrap() as u64 + 1;
        let mut cursor = std::io::Cursor::new(&bytes);
        let f = viba_media::y4m::walk(&mut cursor, header, 4 * 2 * 2, bytes.len() as u64).unwrap();
        (f.count, bytes.len() as u64 - f.end)
    }

    #[test]
    fn a_restarted_compositor_continues_the_recording_after_its_last_whole_frame() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.y4m");
        let mut w = Y4mWriter::create(&path, 4, 2, 30, false).unwrap();
        for _ in 0..2 {
            w.write(&[100; 16], Tag::default()).unwrap();
        }
        w.finish().unwrap();
        drop(w);
        // Killed half way through the third frame.
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        f.write_all(b"FRAME Xframe=3 Xmask=3\n123").unwrap();
        assert_eq!(frames_in(&path), (2, 26));
        let mut w = Y4mWriter::create(&path, 4, 2, 30, true).unwrap();
        assert_eq!(w.frames_before(), 2);
        w.write(&[100; 16], Tag::default()).unwrap();
        w.finish().unwrap();
        assert_eq!(frames_in(&path), (3, 0));
        // Another size, or a first start, begins a new recording.
        drop(Y4mWriter::create(&path, 8, 2, 30, true).unwrap());
        assert!(std::fs::read_to_string(&path)
            .unwrap()
            .starts_with("YUV4MPEG2 W8 H2"));
        let mut w = Y4mWriter::create(&path, 8, 2, 30, false).unwrap();
        w.finish().unwrap();
        assert_eq!(
            std::fs::read(&path).unwrap().len(),
            "YUV4MPEG2 W8 H2 F30:1 Ip A1:1 C422\n".len()
        );
    }
}
