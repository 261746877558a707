//! Walking the frames of a YUV4MPEG2 file without reading their pictures: what the capture's
//! reader checks a file with when it opens it, and where the compositor's file sink resumes a
//! recording after a restart.

use std::io::{BufRead, Read, Seek, SeekFrom};

/// Whole frames found by [`walk`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frames {
    /// How many whole frames there are.
    pub count: u64,
    /// Where the last whole frame ends (a frame cut short after it is left out).
    pub end: u64,
}

/// Why [`walk`] stopped.
#[derive(Debug, thiserror::Error)]
pub enum WalkError {
    /// Reading the stream failed.
    #[error("{0}")]
    Io(std::io::Error),
    /// A frame does not start with a `FRAME` line.
    #[error("frame {frame} (at byte {at}) does not start with a FRAME line")]
    NotAFrame {
        /// The frame's number, from 1.
        frame: u64,
        /// Where it starts.
        at: u64,
    },
}

/// Walks the frames of a Y4M stream of `len` bytes from `data_start` (just after the stream
/// header), each a `FRAME...` line and `frame_bytes` of picture. Every frame must start with
/// such a line; a last frame cut short (a recording that was stopped) is not counted.
pub fn walk(
    reader: &mut (impl BufRead + Seek),
    data_start: u64,
    frame_bytes: u64,
    len: u64,
) -> Result<Frames, WalkError> {
    let mut frames = Frames {
        count: 0,
        end: data_start,
    };
    let mut pos = data_start;
    while pos < len {
        reader.seek(SeekFrom::Start(pos)).map_err(WalkError::Io)?;
        let mut line = Vec::new();
        reader
            .take(256.min(len - pos))
            .read_until(b'\n', &mut line)
            .map_err(WalkError::Io)?;
        if !line.starts_with(b"FRAME") || !line.ends_with(b"\n") {
            if pos + (line.len() as u64) >= len && b"FRAME".starts_with(&line[..line.len().min(5)])
            {
                // A frame line cut short at the very end.
                break;
            }
            return Err(WalkError::NotAFrame {
                frame: frames.count + 1,
                at: pos,
            });
        }
        pos += line.len() as u64;
        if len - pos < frame_bytes {
            break;
        }
        pos += frame_bytes;
        frames = Frames {
            count: frames.count + 1,
            end: pos,
        };
    }
    Ok(frames)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn walk_bytes(bytes: &[u8]) -> Result<Frames, String> {
        walk(&mut Cursor::new(bytes), 0, 4, bytes.len() as u64).map_err(|e| e.to_string())
    }

    #[test]
    fn whole_frames_are_counted_and_a_cut_last_one_is_left_out() {
        assert_eq!(walk_bytes(b""), Ok(Frames { count: 0, end: 0 }));
        let two = b"FRAME\n1234FRAME Xa=1\n5678";
        assert_eq!(walk_bytes(two), Ok(Frames { count: 2, end: 25 }));
        for cut in [b"FRAME\n12".as_slice(), b"FRAME\n", b"FRA"] {
            let bytes = [two.as_slice(), cut].concat();
            assert_eq!(
                walk_bytes(&bytes),
                Ok(Frames { count: 2, end: 25 }),
                "{cut:?}"
            );
        }
        let bad = [two.as_slice(), b"FRAMX\n1234"].concat();
        assert_eq!(
            walk_bytes(&bad),
            Err("frame 3 (at byte 25) does not start with a FRAME line".into())
        );
    }
}
