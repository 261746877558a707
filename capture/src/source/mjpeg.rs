//! Motion JPEG files (JPEG frames one after another, as `ffmpeg -f mjpeg` writes them and as
//! an MJPEG webcam sends them), read natively: each frame goes through the decoder the camera
//! source uses ([`ToRing::mjpeg`]), every time it is shown, so a file stands in for an MJPEG
//! camera in tests and in `viba-bench --input mjpeg`.

use super::to_ring::ToRing;
use super::{Fill, FrameSource, SourceError};
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

/// A file's first bytes mark it as Motion JPEG: a JPEG start-of-image and the next marker.
pub fn is_mjpeg(path: &Path) -> bool {
    let mut magic = [0u8; 3];
    File::open(path)
        .and_then(|mut f| f.read_exact(&mut magic))
        .is_ok()
        && magic == [0xFF, 0xD8, 0xFF]
}

/// Where the JPEG that starts at `data[0]` ends: `Ok(Some(len))`, `Ok(None)` when `data` holds
/// only part of it. Walks the marker segments to the scan, then the entropy-coded data (where
/// 0xFF is followed by a stuffed 0x00 or a restart marker) to the end-of-image marker, so a
/// 0xFFD8 inside a segment (an EXIF thumbnail) does not cut the frame.
pub fn frame_len(data: &[u8]) -> Result<Option<usize>, String> {
    if data.len() < 2 {
        return Ok(None);
    }
    if data[..2] != [0xFF, 0xD8] {
        return Err("a frame does not start with a JPEG start-of-image marker".into());
    }
    let mut at = 2;
    let mut in_scan = false;
    loop {
        if in_scan {
            // Entropy-coded data: look for a marker that is not stuffing or a restart.
            match data[at..]
                .windows(2)
                .position(|w| w[0] == 0xFF && w[1] != 0x00 && !(0xD0..=0xD7).contains(&w[1]))
            {
                Some(p) => {
                    at += p;
                    in_scan = false;
                }
                None => return Ok(None),
            }
        }
        // Fill bytes (0xFF 0xFF ...) may precede a marker.
        while at + 1 < data.len() && data[at] == 0xFF && data[at + 1] == 0xFF {
            at += 1;
        }
        if at + 2 > data.len() {
            return Ok(None);
        }
        if data[at] != 0xFF {
            return Err(format!("no JPEG marker at byte {at} of a frame"));
        }
        let marker = data[at + 1];
        at += 2;
        match marker {
            0xD9 => return Ok(Some(at)),
            0x01 | 0xD0..=0xD7 => continue,
            _ => {
                if at + 2 > data.len() {
                    return Ok(None);
                }
                let len = u16::from_be_bytes([data[at], data[at + 1]]) as usize;
                if len < 2 {
                    return Err(format!("a JPEG segment of length {len}"));
                }
                at += len;
                if at > data.len() {
                    return Ok(None);
                }
                in_scan = marker == 0xDA;
            }
        }
    }
}

/// Largest frame accepted: far above any webcam's (1080p at the best quality is ~1 MB).
const MAX_FRAME: usize = 32 << 20;

/// Files up to this size are read whole when opened, and their frames found once: then a
/// frame costs what a camera's does, its decode (the benchmark's clips are 4-15 MiB).
const IN_MEMORY: u64 = 64 << 20;

/// A Motion JPEG file, looped or played once.
pub struct MjpegFile {
    file: File,
    buf: Vec<u8>,
    /// Start of the unread part of `buf`.
    start: usize,
    /// `buf` holds the whole file.
    whole: bool,
    /// With `whole`: the frames found so far, all of them once `indexed`.
    index: Vec<(usize, usize)>,
    indexed: bool,
    /// With `indexed`: the next frame in `index`.
    at: usize,
    looping: bool,
    to_ring: ToRing,
    name: String,
    frames_read: u64,
}

impl MjpegFile {
    /// Opens `path`; its first frame must decode.
    pub fn open(path: &Path, out_size: (u32, u32), looping: bool) -> Result<Self, SourceError> {
        Self::open_limited(path, out_size, looping, IN_MEMORY)
    }

    /// [`open`](Self::open), reading the file whole only when it is at most `in_memory` bytes.
    fn open_limited(
        path: &Path,
        out_size: (u32, u32),
        looping: bool,
        in_memory: u64,
    ) -> Result<Self, SourceError> {
        let name = path.display().to_string();
        let io = |e: std::io::Error| SourceError::File(format!("{name}: {e}"));
        let mut file = File::open(path).map_err(io)?;
        let whole = file.metadata().map_err(io)?.len() <= in_memory;
        let mut buf = Vec::new();
        if whole {
            file.read_to_end(&mut buf).map_err(io)?;
        }
        let mut me = MjpegFile {
            file,
            buf,
            start: 0,
            whole,
            index: Vec::new(),
            indexed: false,
            at: 0,
            looping,
            to_ring: ToRing::new(out_size, &name),
            name,
            frames_read: 0,
        };
        match me.next_frame() {
            Ok(Some(frame)) => me
                .to_ring
                .mjpeg(&me.buf[frame.0..frame.1])
                .map_err(|e| SourceError::File(format!("{}: {e}", me.name)))?,
            Ok(None) => return Err(SourceError::File(format!("{}: has no frames", me.name))),
            Err(e) => return Err(SourceError::File(format!("{}: {e}", me.name))),
        }
        me.rewind()
            .map_err(|e| SourceError::File(format!("{}: {e}", me.name)))?;
        Ok(me)
    }

    fn rewind(&mut self) -> std::io::Result<()> {
        self.start = 0;
        self.at = 0;
        if self.whole {
            if !self.indexed {
                self.index.clear();
            }
            return Ok(());
        }
        self.file.seek(SeekFrom::Start(0))?;
        self.buf.clear();
        Ok(())
    }

    /// The next frame's range in `buf`; `None` at the end of the file (a last frame cut short
    /// counts as the end). Damaged data between frames is skipped.
    fn next_frame(&mut self) -> Result<Option<(usize, usize)>, String> {
        if self.indexed {
            let next = self.index.get(self.at).copied();
            self.at += 1;
            return Ok(next);
        }
        loop {
            let pending = &self.buf[self.start..];
            if !pending.is_empty() {
                match frame_len(pending) {
                    Ok(Some(len)) => {
                        let range = (self.start, self.start + len);
                        self.start += len;
                        if self.whole {
                            self.index.push(range);
                        }
                        return Ok(Some(range));
                    }
                    Ok(None) => {}
                    // Damaged data: go on at the next start-of-image.
                    Err(_) => {
                        match pending[1..]
                            .windows(3)
                            .position(|w| w == [0xFF, 0xD8, 0xFF])
                        {
                            Some(p) => self.start += 1 + p,
                            None => self.start = self.buf.len(),
                        }
                        continue;
                    }
                }
                if pending.len() > MAX_FRAME {
                    return Err(format!("a frame is over {} MiB", MAX_FRAME >> 20));
                }
            }
            if self.whole {
                // The end of the file: every frame is in the index now.
                self.indexed = !self.index.is_empty();
                return Ok(None);
            }
            // Keep only the unread part, then read more.
            self.buf.drain(..self.start);
            self.start = 0;
            let have = self.buf.len();
            self.buf.resize(have + (256 << 10), 0);
            let n = self
                .file
                .read(&mut self.buf[have..])
                .map_err(|e| e.to_string())?;
            self.buf.truncate(have + n);
            if n == 0 {
                return Ok(None);
            }
        }
    }
}

impl FrameSource for MjpegFile {
    fn advance(&mut self) -> Result<Fill, SourceError> {
        let name = self.name.clone();
        let err = |m: String| SourceError::File(format!("{name}: {m}"));
        loop {
            let frame = match self.next_frame().map_err(err)? {
                Some(f) => f,
                None if self.looping => {
                    self.rewind().map_err(|e| err(e.to_string()))?;
                    self.next_frame()
                        .map_err(err)?
                        .ok_or_else(|| err("has no frames".into()))?
                }
                None => return Ok(Fill::EndOfStream),
            };
            // A corrupt frame is skipped, as a camera's is.
            if self.to_ring.mjpeg(&self.buf[frame.0..frame.1]).is_ok() {
                self.frames_read += 1;
                return Ok(Fill::Frame);
            }
        }
    }

    fn copy_to(&self, out: &mut [u8]) {
        self.to_ring.copy_to(out);
    }

    fn describe(&self) -> String {
        format!("video {} (MJPEG)", self.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use viba_media::jpeg::{Encoder, Subsampling};

    fn jpeg(rgb: [u8; 3], size: (u32, u32)) -> Vec<u8> {
        let pixels: Vec<u8> = (0..size.0 * size.1).flat_map(|_| rgb).collect();
        Encoder::new()
            .unwrap()
            .encode_rgb(&pixels, size, 90, Subsampling::S422)
            .unwrap()
    }

    #[test]
    fn frames_are_found_by_their_markers() {
        let a = jpeg([255, 0, 0], (32, 16));
        let b = jpeg([0, 0, 255], (32, 16));
        let both = [a.clone(), b.clone()].concat();
        assert_eq!(frame_len(&both).unwrap(), Some(a.len()));
        assert_eq!(frame_len(&both[a.len()..]).unwrap(), Some(b.len()));
        // Every cut short of the end is "not yet", never a wrong length.
        for cut in 0..a.len() {
            assert_eq!(frame_len(&a[..cut]).unwrap(), None, "cut at {cut}");
        }
        assert!(frame_len(b"not a jpeg").is_err());
        // An APP segment that holds a start-of-image (a thumbnail) does not end the frame.
        let mut with_app = vec![0xFF, 0xD8, 0xFF, 0xE1, 0x00, 0x06, 0xFF, 0xD8, 0xFF, 0xD9];
        with_app.extend_from_slice(&a[2..]);
        assert_eq!(frame_len(&with_app).unwrap(), Some(with_app.len()));
    }

    #[test]
    fn a_file_plays_its_frames_loops_and_skips_a_torn_one() {
        let dir = tempfile::tempdir().unwrap();
        let (red, blue) = (jpeg([255, 0, 0], (64, 32)), jpeg([0, 0, 255], (64, 32)));
        // Half the scan data lost, the end-of-image marker kept: decodes with a warning.
        let mut torn = blue.clone();
        let sos = torn.windows(2).position(|w| w == [0xFF, 0xDA]).unwrap();
        let n = torn.len();
        torn.drain(sos + (n - sos) / 2..n - 2);
        let path = dir.path().join("clip.mjpeg");
        std::fs::write(&path, [red.clone(), torn, blue.clone()].concat()).unwrap();
        assert!(is_mjpeg(&path));
        // Read whole (indexed after the first pass) and streamed.
        for limit in [IN_MEMORY, 0] {
            let mut src = MjpegFile::open_limited(&path, (32, 16), true, limit).unwrap();
            let mut out = vec![0; 32 * 16 * 2];
            let mut seen = Vec::new();
            for _ in 0..6 {
                assert_eq!(src.advance().unwrap(), Fill::Frame);
                src.copy_to(&mut out);
                // V (red) or U (blue) high.
                seen.push(if out[3] > out[1] { 'r' } else { 'b' });
            }
            assert_eq!(seen, ['r', 'b', 'r', 'b', 'r', 'b'], "limit {limit}");
            let mut once = MjpegFile::open_limited(&path, (32, 16), false, limit).unwrap();
            assert_eq!(once.advance().unwrap(), Fill::Frame);
            assert_eq!(once.advance().unwrap(), Fill::Frame);
            assert_eq!(once.advance().unwrap(), Fill::EndOfStream);
        }
    }

    #[test]
    fn damaged_data_between_frames_is_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let (red, blue) = (jpeg([255, 0, 0], (64, 32)), jpeg([0, 0, 255], (64, 32)));
        let mut broken = blue.clone();
        broken.truncate(40); // headers cut short, then the next frame
        let path = dir.path().join("clip.mjpeg");
        std::fs::write(&path, [red, broken, b"junk".to_vec(), blue].concat()).unwrap();
        let mut src = MjpegFile::open(&path, (32, 16), false).unwrap();
        let mut out = vec![0; 32 * 16 * 2];
        assert_eq!(src.advance().unwrap(), Fill::Frame);
        assert_eq!(src.advance().unwrap(), Fill::Frame);
        src.copy_to(&mut out);
        assert!(out[1] > out[3], "the blue frame");
        assert_eq!(src.advance().unwrap(), Fill::EndOfStream);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(1000))]

        /// Any bytes after a start-of-image give a length within them, "not yet" or an error,
        /// never a panic; any such file opens and plays or is refused (the decoder sees
        /// whatever the walk calls a frame).
        #[test]
        fn any_bytes_are_a_frame_a_cut_or_an_error(
            tail in proptest::collection::vec(
                proptest::prop_oneof![
                    proptest::strategy::Just(vec![0xFF, 0xD9]),
                    proptest::strategy::Just(vec![0xFF, 0xDA, 0x00, 0x02]),
                    proptest::strategy::Just(vec![0xFF, 0xD8, 0xFF]),
                    proptest::collection::vec(proptest::prelude::any::<u8>(), 0..40),
                ],
                0..8
            ),
        ) {
            let bytes = [vec![0xFF, 0xD8], tail.concat()].concat();
            if let Ok(Some(len)) = frame_len(&bytes) {
                proptest::prop_assert!(len <= bytes.len());
            }
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("f.mjpeg");
            std::fs::write(&path, &bytes).unwrap();
            if let Ok(mut src) = MjpegFile::open(&path, (8, 4), true) {
                for _ in 0..4 {
                    if src.advance().is_err() {
                        break;
                    }
                }
            }
        }
    }

    #[test]
    fn a_broken_file_is_refused_when_opened() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.mjpeg");
        std::fs::write(&path, [0xFF, 0xD8, 0xFF, 0xDB, 0x00, 0x02, 0x12, 0x34]).unwrap();
        let e = MjpegFile::open(&path, (32, 16), true)
            .err()
            .unwrap()
            .to_string();
        assert!(
            e.starts_with(&format!("input.path: {}: ", path.display())),
            "{e}"
        );
    }
}
