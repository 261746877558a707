//! YUV4MPEG2 (`.y4m`) files, read natively: 4:2:0, 4:2:2, 4:4:4 and mono, 8 bit.
//! Frames of another size are scaled to cover the configured size, plane by plane.

use super::{Fill, FrameSource, SourceError};
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::Path;
use viba_common::yuv;
use viba_media::picture;
use viba_media::picture::PixelType;

/// Chroma subsampling of a Y4M stream, as (horizontal, vertical) divisors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Chroma(pub usize, pub usize);

/// The parsed stream header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub width: usize,
    pub height: usize,
    /// `None` for monochrome.
    pub chroma: Option<Chroma>,
}

impl Header {
    pub fn chroma_size(&self) -> (usize, usize) {
        match self.chroma {
            Some(Chroma(h, v)) => (self.width.div_ceil(h), self.height.div_ceil(v)),
            None => (0, 0),
        }
    }

    pub fn frame_bytes(&self) -> usize {
        let (cw, ch) = self.chroma_size();
        self.width * self.height + 2 * cw * ch
    }
}

/// Parses the first line of a Y4M file (without the newline).
pub fn parse_header(line: &str) -> Result<Header, String> {
    let mut tokens = line.split(' ');
    if tokens.next() != Some("YUV4MPEG2") {
        return Err("not a YUV4MPEG2 file".into());
    }
    let (mut width, mut height, mut chroma) = (0usize, 0usize, Some(Chroma(2, 2)));
    for token in tokens.filter(|t| !t.is_empty()) {
        // The tag is one character, which need not be one byte in a file that is not Y4M.
        let tag_len = token.chars().next().map_or(0, char::len_utf8);
        let (tag, value) = token.split_at(tag_len);
        match tag {
            "W" => width = value.parse().map_err(|_| format!("bad width {value:?}"))?,
            "H" => height = value.parse().map_err(|_| format!("bad height {value:?}"))?,
            "C" => {
                chroma = match value {
                    "420" | "420jpeg" | "420paldv" | "420mpeg2" => Some(Chroma(2, 2)),
                    "422" => Some(Chroma(2, 1)),
                    "444" => Some(Chroma(1, 1)),
                    "mono" => None,
                    other => {
                        return Err(format!(
                        "colour space C{other} is not supported (use 8-bit 420, 422, 444 or mono)"
                    ))
                    }
                }
            }
            "I" if value != "p" && value != "?" => {
                return Err("interlaced Y4M is not supported".into())
            }
            _ => {}
        }
    }
    if width == 0 || height == 0 || width > 8192 || height > 8192 {
        return Err(format!(
            "bad frame size {width}x{height} in its header (W and H must be 1 to 8192: write the file again, e.g. with ffmpeg)"
        ));
    }
    Ok(Header {
        width,
        height,
        chroma,
    })
}

pub struct Y4mFile {
    reader: BufReader<File>,
    header: Header,
    data_start: u64,
    looping: bool,
    raw: Vec<u8>,
    frame: Vec<u8>,
    out_size: (u32, u32),
    name: String,
    frames_read: u64,
}

impl Y4mFile {
    pub fn open(path: &Path, out_size: (u32, u32), looping: bool) -> Result<Self, SourceError> {
        let name = path.display().to_string();
        let err = |m: String| SourceError::File(format!("{name}: {m}"));
        let file = File::open(path).map_err(|e| err(e.to_string()))?;
        let mut reader = BufReader::new(file);
        let mut line = String::new();
        reader
            .read_line(&mut line)
            .map_err(|e| err(e.to_string()))?;
        let header = parse_header(line.trim_end_matches('\n')).map_err(err)?;
        let data_start = line.len() as u64;
        scan(&mut reader, data_start, header.frame_bytes() as u64).map_err(err)?;
        reader
            .seek(SeekFrom::Start(data_start))
            .map_err(|e| err(e.to_string()))?;
        Ok(Y4mFile {
            raw: vec![0; header.frame_bytes()],
            frame: vec![0; out_size.0 as usize * out_size.1 as usize * 2],
            reader,
            header,
            data_start,
            looping,
            out_size,
            name,
            frames_read: 0,
        })
    }

    /// Reads the next `FRAME` into `raw`; `Ok(false)` at the end of the file (a last frame
    /// cut short counts as the end).
    fn read_raw(&mut self) -> Result<bool, String> {
        let mut line = Vec::new();
        let n = self
            .reader
            .read_until(b'\n', &mut line)
            .map_err(|e| e.to_string())?;
        if n == 0 {
            return Ok(false);
        }
        if !line.starts_with(b"FRAME") {
            return Err(format!(
                "frame {} does not start with FRAME",
                self.frames_read + 1
            ));
        }
        match self.reader.read_exact(&mut self.raw) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(false),
            Err(e) => Err(e.to_string()),
        }
    }

    fn convert(&mut self) {
        let h = &self.header;
        let (w, ht) = (h.width, h.height);
        let (cw, ch) = h.chroma_size();
        let (ow, oh) = (self.out_size.0 as usize, self.out_size.1 as usize);
        let (y, rest) = self.raw.split_at(w * ht);
        let neutral = vec![128u8; (ow / 2).max(cw) * oh.max(ch)];
        let (u, v) = if h.chroma.is_some() {
            rest.split_at(cw * ch)
        } else {
            (&neutral[..], &neutral[..])
        };
        if (w, ht) == (ow, oh) && h.chroma.is_some() {
            yuv::planar_to_yuyv(y, u, v, (ow, oh), (cw, ch), &mut self.frame);
            return;
        }
        // Scale each plane to the output: Y to ow x oh, chroma to ow/2 x oh, cropping the same
        // region of the picture in every plane.
        let crop = picture::cover_crop((w as u32, ht as u32), self.out_size);
        let ys = scale_plane(y, (w, ht), (ow, oh), crop, (1.0, 1.0));
        let (us, vs) = if h.chroma.is_some() {
            let f = (cw as f64 / w as f64, ch as f64 / ht as f64);
            (
                scale_plane(u, (cw, ch), (ow / 2, oh), crop, f),
                scale_plane(v, (cw, ch), (ow / 2, oh), crop, f),
            )
        } else {
            (vec![128; ow / 2 * oh], vec![128; ow / 2 * oh])
        };
        yuv::planar_to_yuyv(&ys, &us, &vs, (ow, oh), (ow / 2, oh), &mut self.frame);
    }
}

/// Checks the frames from `data_start` without reading their pictures
/// ([`viba_media::y4m::walk`]): every one must start with `FRAME`, and there must be at least
/// one whole frame (a last one cut short is left out, as the reader does). Checked when the
/// file is opened, so a broken file fails once, at start-up, instead of crashing the stage each
/// time it reaches the broken frame.
fn scan(reader: &mut BufReader<File>, data_start: u64, frame_bytes: u64) -> Result<u64, String> {
    let len = reader
        .get_ref()
        .metadata()
        .map_err(|e| e.to_string())?
        .len();
    let frames = viba_media::y4m::walk(reader, data_start, frame_bytes, len).map_err(|e| {
        format!("{e} (not a valid Y4M file; convert it with ffmpeg -i IN -pix_fmt yuv420p OUT.y4m)")
    })?;
    if frames.count == 0 {
        return Err(format!(
            "has no whole frame ({} bytes after the header, a frame takes {frame_bytes})",
            len - data_start
        ));
    }
    Ok(frames.count)
}

fn scale_plane(
    plane: &[u8],
    (w, h): (usize, usize),
    (ow, oh): (usize, usize),
    (left, top, cw, ch): (f64, f64, f64, f64),
    (fx, fy): (f64, f64),
) -> Vec<u8> {
    let mut out = vec![0u8; ow * oh];
    picture::resize_into(
        plane,
        (w as u32, h as u32),
        &mut out,
        (ow as u32, oh as u32),
        PixelType::U8,
        Some((left * fx, top * fy, cw * fx, ch * fy)),
    );
    out
}

impl FrameSource for Y4mFile {
    fn advance(&mut self) -> Result<Fill, SourceError> {
        let name = self.name.clone();
        let err = |m: String| SourceError::File(format!("{name}: {m}"));
        if !self.read_raw().map_err(err)? {
            if !self.looping || self.frames_read == 0 {
                if self.frames_read == 0 {
                    return Err(SourceError::File(format!("{}: has no frames", self.name)));
                }
                return Ok(Fill::EndOfStream);
            }
            self.reader
                .seek(SeekFrom::Start(self.data_start))
                .map_err(|e| SourceError::File(format!("{}: {e}", self.name)))?;
            if !self.read_raw().map_err(err)? {
                return Ok(Fill::EndOfStream);
            }
        }
        self.frames_read += 1;
        self.convert();
        Ok(Fill::Frame)
    }

    fn copy_to(&self, out: &mut [u8]) {
        out[..self.frame.len()].copy_from_slice(&self.frame);
    }

    fn describe(&self) -> String {
        format!("video {}", self.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers() {
        let h = parse_header("YUV4MPEG2 W176 H144 F30000:1001 Ip A128:117 C420jpeg").unwrap();
        assert_eq!(
            (h.width, h.height, h.chroma),
            (176, 144, Some(Chroma(2, 2)))
        );
        assert_eq!(h.frame_bytes(), 176 * 144 * 3 / 2);
        let h = parse_header("YUV4MPEG2 W7 H3 C422").unwrap();
        assert_eq!(h.chroma_size(), (4, 3));
        assert!(parse_header("YUV4MPEG2 W7 H3 C420p10").is_err());
        assert!(parse_header("YUV4MPEG2 H3").is_err());
        assert!(parse_header("RIFF").is_err());
        // A tag that is not one byte long.
        assert!(parse_header("YUV4MPEG2 W8 H8 \u{e9}x").is_ok());
        assert!(parse_header("YUV4MPEG2 \u{e9}").is_err());
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]

        /// Any header line is a header or an error, never a panic; an accepted one has a size
        /// the reader can allocate.
        #[test]
        fn any_header_line_is_a_header_or_an_error(
            line in "YUV4MPEG2( [WHCIFAX\\PC][\\PC]{0,8}){0,6}|\\PC{0,40}"
        ) {
            if let Ok(h) = parse_header(&line) {
                proptest::prop_assert!((1..=8192).contains(&h.width));
                proptest::prop_assert!((1..=8192).contains(&h.height));
            }
        }

        /// Any file that starts like a Y4M file opens or is refused with a message; one that
        /// opens gives frames of the asked size until it ends.
        #[test]
        fn any_y4m_file_opens_and_plays_or_is_refused(
            header in "YUV4MPEG2 W[0-9]{1,2} H[0-9]{1,2}( C(420|422|444|mono|x))?",
            body in proptest::collection::vec(
                proptest::prop_oneof![
                    proptest::strategy::Just(b"FRAME\n".to_vec()),
                    proptest::strategy::Just(b"FRAME Xa=1\n".to_vec()),
                    proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300),
                ],
                0..6
            ),
        ) {
            let dir = tempfile::tempdir().unwrap();
            let bytes = [format!("{header}\n").into_bytes(), body.concat()].concat();
            let path = file(dir.path(), "f.y4m", &bytes);
            if let Ok(mut y4m) = Y4mFile::open(&path, (6, 4), false) {
                for _ in 0..8 {
                    match y4m.advance() {
                        Ok(Fill::Frame) => {
                            let mut out = [0u8; 6 * 4 * 2];
                            y4m.copy_to(&mut out);
                        }
                        Ok(_) | Err(_) => break,
                    }
                }
            }
        }
    }

    fn file(dir: &Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }

    fn open_error(path: &Path) -> String {
        match Y4mFile::open(path, (4, 2), true) {
            Ok(_) => panic!("{} opened", path.display()),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn broken_files_are_refused_when_opened() {
        let dir = tempfile::tempdir().unwrap();
        let header = b"YUV4MPEG2 W4 H2 C444\n";
        let frame = [b"FRAME\n".as_slice(), &[128u8; 24]].concat();
        let good = [header.as_slice(), &frame, &frame].concat();
        let mut y4m = Y4mFile::open(&file(dir.path(), "good.y4m", &good), (4, 2), false).unwrap();
        assert_eq!(y4m.advance().unwrap(), Fill::Frame);
        assert_eq!(y4m.advance().unwrap(), Fill::Frame);
        assert_eq!(y4m.advance().unwrap(), Fill::EndOfStream);
        // A last frame cut short is the end, as in a recording that was stopped.
        let cut = [good.as_slice(), b"FRAME\n", &[1u8; 5]].concat();
        let mut y4m = Y4mFile::open(&file(dir.path(), "cut.y4m", &cut), (4, 2), false).unwrap();
        for _ in 0..2 {
            assert_eq!(y4m.advance().unwrap(), Fill::Frame);
        }
        assert_eq!(y4m.advance().unwrap(), Fill::EndOfStream);

        let header_only = file(dir.path(), "header.y4m", header);
        assert!(open_error(&header_only).contains("has no whole frame (0 bytes"));
        let first_cut = [header.as_slice(), b"FRAME\n", &[1u8; 10]].concat();
        let first_cut = file(dir.path(), "first.y4m", &first_cut);
        assert!(open_error(&first_cut).contains("has no whole frame"));
        let untagged = [header.as_slice(), &frame, b"FRAMX\n", &[1u8; 24]].concat();
        let untagged = file(dir.path(), "untagged.y4m", &untagged);
        assert!(
            open_error(&untagged).contains("frame 2 (at byte 51) does not start with a FRAME line")
        );
        // A huge frame size with no data behind it is refused before anything is allocated.
        let huge = file(dir.path(), "huge.y4m", b"YUV4MPEG2 W8192 H8192 C444\n");
        assert!(open_error(&huge).contains("a frame takes 201326592"));
    }
}
