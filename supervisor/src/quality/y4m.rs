//! The benchmark's Y4M files: the input sequence (4:2:2, written here, read by viba-capture)
//! and the pipeline's output (4:2:2, each frame header tagged by the compositor with the
//! camera frame shown and the frame its mask came from).

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::Path;
use viba_common::yuv;

fn header(width: usize, height: usize) -> String {
    format!("YUV4MPEG2 W{width} H{height} F30:1 Ip A1:1 C422\n")
}

/// Writes YUYV frames as a 4:2:2 Y4M file.
pub struct Writer {
    out: BufWriter<File>,
    planar: Vec<u8>,
    size: (usize, usize),
}

impl Writer {
    /// Creates the file and writes its header (30 fps).
    pub fn create(path: &Path, width: usize, height: usize) -> std::io::Result<Writer> {
        let mut out = BufWriter::with_capacity(1 << 20, File::create(path)?);
        out.write_all(header(width, height).as_bytes())?;
        Ok(Writer {
            out,
            planar: vec![0; width * height * 2],
            size: (width, height),
        })
    }

    /// Appends one YUYV frame.
    pub fn frame(&mut self, yuyv: &[u8]) -> std::io::Result<()> {
        yuv::yuyv_to_planar422(yuyv, self.size.0, self.size.1, &mut self.planar);
        self.out.write_all(b"FRAME\n")?;
        self.out.write_all(&self.planar)
    }

    /// Flushes what is left to the file.
    pub fn finish(mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

/// Reads frame `index` (0-based) of a file [`Writer`] made, as YUYV.
pub fn read_input_frame(
    file: &mut File,
    (width, height): (usize, usize),
    index: usize,
) -> std::io::Result<Vec<u8>> {
    let frame = width * height * 2;
    let offset = header(width, height).len() + index * (6 + frame) + 6;
    file.seek(SeekFrom::Start(offset as u64))?;
    let mut planar = vec![0u8; frame];
    file.read_exact(&mut planar)?;
    Ok(planar_to_yuyv(&planar, width, height))
}

fn planar_to_yuyv(planar: &[u8], width: usize, height: usize) -> Vec<u8> {
    let (y, rest) = planar.split_at(width * height);
    let (u, v) = rest.split_at(width * height / 2);
    let mut out = vec![0u8; width * height * 2];
    for (i, q) in out.chunks_exact_mut(4).enumerate() {
        q.copy_from_slice(&[y[2 * i], u[i], y[2 * i + 1], v[i]]);
    }
    out
}

/// One output frame: the tags and the picture.
pub struct OutputFrame {
    /// The camera frame shown (ring sequence number: input index + 1; 0: none).
    pub frame: u64,
    /// The frame the mask came from (0: the background alone).
    pub mask: u64,
    /// The picture, YUYV.
    pub yuyv: Vec<u8>,
}

/// Reads the compositor's output file frame by frame.
pub struct OutputReader {
    input: BufReader<File>,
    size: (usize, usize),
}

impl OutputReader {
    /// Opens the file and checks that its header is that of a `size` 4:2:2 file.
    pub fn open(path: &Path, size: (usize, usize)) -> Result<OutputReader, String> {
        let mut input =
            BufReader::new(File::open(path).map_err(|e| format!("{}: {e}", path.display()))?);
        let mut line = String::new();
        input
            .read_line(&mut line)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        let want = header(size.0, size.1);
        if line.trim_end() != want.trim_end() {
            return Err(format!(
                "{}: header {line:?}, expected {want:?}",
                path.display()
            ));
        }
        Ok(OutputReader { input, size })
    }

    /// The next frame, `None` at the end of the file. `Err` for a frame without its tags or cut
    /// short.
    pub fn next_frame(&mut self) -> Result<Option<OutputFrame>, String> {
        let mut line = String::new();
        if self.input.read_line(&mut line).map_err(|e| e.to_string())? == 0 {
            return Ok(None);
        }
        let mut tags = (None, None);
        for token in line.split_whitespace().skip(1) {
            if let Some(v) = token.strip_prefix("Xframe=") {
                tags.0 = v.parse().ok();
            } else if let Some(v) = token.strip_prefix("Xmask=") {
                tags.1 = v.parse().ok();
            }
        }
        let (Some(frame), Some(mask)) = tags else {
            return Err(format!("frame header without Xframe/Xmask tags: {line:?}"));
        };
        let mut planar = vec![0u8; self.size.0 * self.size.1 * 2];
        self.input
            .read_exact(&mut planar)
            .map_err(|e| format!("truncated frame: {e}"))?;
        Ok(Some(OutputFrame {
            frame,
            mask,
            yuyv: planar_to_yuyv(&planar, self.size.0, self.size.1),
        }))
    }
}
