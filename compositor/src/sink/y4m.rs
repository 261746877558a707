//! A Y4M (YUV4MPEG2, 4:2:2 planar) video file: plays in mpv, ffplay and VLC, and ffmpeg
//! converts it to anything.

use super::Sink;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use viba_common::yuv;

pub struct Y4mWriter {
    out: BufWriter<File>,
    width: usize,
    height: usize,
    planar: Vec<u8>,
    name: String,
}

impl Y4mWriter {
    /// Creates (or truncates) the file, making its folder when needed, and writes the header.
    pub fn create(path: &Path, width: u32, height: u32, fps: u32) -> Result<Self, String> {
        let name = path.display().to_string();
        let fail = |e: std::io::Error| format!("output.path: cannot write {name}: {e}");
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(fail)?;
        }
        let mut out = BufWriter::with_capacity(1 << 20, File::create(path).map_err(fail)?);
        writeln!(out, "YUV4MPEG2 W{width} H{height} F{fps}:1 Ip A1:1 C422").map_err(fail)?;
        Ok(Y4mWriter {
            out,
            width: width as usize,
            height: height as usize,
            planar: vec![0; width as usize * height as usize * 2],
            name,
        })
    }
}

/// Checks that [`Y4mWriter::create`] will be able to write `path`, creating nothing: an
/// existing file must be writable, a new one needs a folder it can be made in (the nearest
/// existing one must be a writable folder).
pub fn check(path: &Path) -> Result<(), String> {
    let name = path.display();
    match std::fs::metadata(path) {
        Ok(m) if m.is_dir() => {
            return Err(format!(
                "output.path: {name} is a folder (name a .y4m file, e.g. {name}/out.y4m)"
            ))
        }
        Ok(_) => {
            return std::fs::OpenOptions::new()
                .write(true)
                .open(path)
                .map(drop)
                .map_err(|e| format!("output.path: cannot write {name}: {e}"))
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
                return nix::unistd::access(
                    d,
                    nix::unistd::AccessFlags::W_OK | nix::unistd::AccessFlags::X_OK,
                )
                .map_err(|e| {
                    format!(
                        "output.path: cannot create {name}: folder {} is not writable ({e})",
                        d.display()
                    )
                });
            }
            Ok(_) => {
                return Err(format!(
                    "output.path: cannot create {name}: {} is not a folder",
                    d.display()
                ))
            }
            Err(_) => dir = d.parent(),
        }
    }
    Ok(())
}

impl Sink for Y4mWriter {
    fn write(&mut self, yuyv: &[u8], tag: super::Tag) -> Result<(), String> {
        yuv::yuyv_to_planar422(yuyv, self.width, self.height, &mut self.planar);
        // Application parameters (X...) are ignored by players and ffmpeg.
        let header = format!("FRAME Xframe={} Xmask={}\n", tag.frame, tag.mask);
        self.out
            .write_all(header.as_bytes())
            .and_then(|()| self.out.write_all(&self.planar))
            .map_err(|e| format!("cannot write {}: {e}", self.name))
    }

    fn finish(&mut self) -> Result<(), String> {
        self.out
            .flush()
            .map_err(|e| format!("cannot write {}: {e}", self.name))
    }
}
