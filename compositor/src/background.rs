//! What replaces the room: a still picture (an image or a colour, loaded once and kept as YUYV
//! of the frame size), a looping video (`video.rs`, decoded off the frame loop) or the room
//! itself blurred (`blur.rs`), made from each frame.

use crate::blur::Blur;
use std::path::{Path, PathBuf};
use viba_capture::source::{SourceError, VideoFileError};
use viba_common::config::{BackgroundKind, Still};
use viba_common::yuv;
use viba_media::picture::{self, PictureError};

/// Why the background (or the pause picture) cannot be used. Each names its key.
#[derive(Debug, thiserror::Error)]
pub enum BackgroundError {
    /// A picture that does not load (`background.image`, `background.fallback`,
    /// `output.pause_image`).
    #[error("{key}: {cause}")]
    Picture {
        /// The config key of the picture.
        key: &'static str,
        /// Why it does not load.
        cause: PictureError,
    },
    /// The video background cannot be opened.
    #[error("{0}")]
    VideoOpen(VideoFileError),
    /// The video background opens and has no frame.
    #[error("background.video: {} has no frames", path.display())]
    VideoEmpty {
        /// The file.
        path: PathBuf,
    },
    /// The video background's first frame does not decode.
    #[error("background.video: {0}")]
    VideoFrame(SourceError),
    /// The video background's decoding thread cannot start.
    #[error("background.video: cannot start its thread: {0}")]
    VideoThread(std::io::Error),
    /// A config that was not validated: no background kind was resolved.
    #[error("background: needs an image, a color or a blur")]
    Unresolved,
}

/// A picture file as YUYV of the frame size, scaled to cover it; errors name `key`.
pub(crate) fn picture(
    key: &'static str,
    path: &Path,
    width: u32,
    height: u32,
) -> Result<Vec<u8>, BackgroundError> {
    picture::load_cover_yuyv(path, width, height)
        .map_err(|cause| BackgroundError::Picture { key, cause })
}

/// A still background (a picture or a colour) as YUYV of the frame size; errors name `key`.
pub(crate) fn still(
    key: &'static str,
    still: &Still,
    width: u32,
    height: u32,
) -> Result<Vec<u8>, BackgroundError> {
    match still {
        Still::Color(color) => Ok(fill(*color, width, height)),
        Still::Picture(path) => picture(key, path, width, height),
    }
}

/// A frame of one colour.
fn fill(color: [u8; 3], width: u32, height: u32) -> Vec<u8> {
    let mut out = vec![0u8; width as usize * height as usize * 2];
    yuv::fill_yuyv(&mut out, color);
    out
}

/// Mirrors a YUYV frame left to right in place (pixel pairs reversed, their lumas swapped).
pub fn mirror(yuyv: &mut [u8], width: usize) {
    for row in yuyv.chunks_exact_mut(width * 2) {
        let pairs = width / 2;
        for p in 0..pairs / 2 {
            let (a, b) = (p * 4, (pairs - 1 - p) * 4);
            let qa = [row[a], row[a + 1], row[a + 2], row[a + 3]];
            let qb = [row[b], row[b + 1], row[b + 2], row[b + 3]];
            row[a..a + 4].copy_from_slice(&[qb[2], qb[1], qb[0], qb[3]]);
            row[b..b + 4].copy_from_slice(&[qa[2], qa[1], qa[0], qa[3]]);
        }
        if pairs % 2 == 1 {
            let m = (pairs / 2) * 4;
            row.swap(m, m + 2);
        }
    }
}

/// The configured background for frames of `width` x `height`.
pub enum Backdrop {
    /// The same picture behind every frame: `behind` to blend with (flipped when the composite
    /// will be mirrored, so that it reads the right way round after), `alone` to show by itself
    /// (never flipped: nothing mirrors it afterwards).
    Still {
        /// To blend with (YUYV).
        behind: Vec<u8>,
        /// To show by itself (YUYV).
        alone: Vec<u8>,
    },
    /// A looping video: its newest frame, as `behind` (flipped when mirrored: `flip` holds
    /// the frame width then) and `alone`.
    Video {
        /// The decoder, off the frame loop.
        video: Box<crate::video::Video>,
        /// The newest frame to blend with (YUYV).
        behind: Vec<u8>,
        /// The newest frame to show by itself (YUYV).
        alone: Vec<u8>,
        /// The frame width when `behind` is flipped.
        flip: Option<usize>,
    },
    /// The room, blurred, from each frame; `fallback` while there is no usable mask.
    Blurred {
        /// The blur, made from each frame and its mask.
        blur: Box<Blur>,
        /// Shown while there is no usable mask (YUYV).
        fallback: Vec<u8>,
    },
}

impl Backdrop {
    /// Loads the background a validated config names ([`viba_common::config::Background::kind`]);
    /// `cells`: the mask's size (the blur works at it).
    /// `mirrored`: composites will be mirrored, so still pictures to blend with are loaded
    /// mirrored too.
    /// `fps`: the output's rate (a video background is decoded at it).
    pub fn load(
        kind: &BackgroundKind,
        (width, height): (u32, u32),
        cells: (usize, usize),
        mirrored: bool,
        fps: u32,
    ) -> Result<Backdrop, BackgroundError> {
        let still_pair = |picture: Vec<u8>| {
            let mut behind = picture.clone();
            if mirrored {
                mirror(&mut behind, width as usize);
            }
            Backdrop::Still {
                behind,
                alone: picture,
            }
        };
        match kind {
            BackgroundKind::Blur { strength, fallback } => Ok(Backdrop::Blurred {
                blur: Box::new(Blur::new(
                    *strength,
                    cells,
                    (width as usize, height as usize),
                )),
                fallback: still("background.fallback", fallback, width, height)?,
            }),
            BackgroundKind::Video(path) => {
                let mut video = crate::video::Video::open(path, (width, height), fps)?;
                let mut alone = vec![0; width as usize * height as usize * 2];
                video.take_newest(&mut alone);
                let mut behind = alone.clone();
                if mirrored {
                    mirror(&mut behind, width as usize);
                }
                Ok(Backdrop::Video {
                    video: Box::new(video),
                    behind,
                    alone,
                    flip: mirrored.then_some(width as usize),
                })
            }
            BackgroundKind::Image(path) => Ok(still_pair(picture(
                "background.image",
                path,
                width,
                height,
            )?)),
            BackgroundKind::Color(color) => Ok(still_pair(fill(*color, width, height))),
        }
    }

    /// What is shown without the person: the still picture, the video's frame, or the blur's
    /// fallback.
    pub fn alone(&self) -> &[u8] {
        match self {
            Backdrop::Still { alone, .. } | Backdrop::Video { alone, .. } => alone,
            Backdrop::Blurred { fallback, .. } => fallback,
        }
    }

    /// A video background stops decoding while the pipeline idles (`true`) and goes on.
    pub fn pause(&self, paused: bool) {
        if let Backdrop::Video { video, .. } = self {
            video.set_paused(paused);
        }
    }

    /// Takes a video background's newest frame, if a new one was decoded (once per output
    /// frame; nothing for the other kinds).
    pub fn advance(&mut self) {
        if let Backdrop::Video {
            video,
            behind,
            alone,
            flip,
        } = self
        {
            if video.take_newest(alone) {
                behind.copy_from_slice(alone);
                if let Some(width) = *flip {
                    mirror(behind, width);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn with_mirror_the_picture_to_blend_with_is_flipped_and_the_one_shown_alone_is_not() {
        let image =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/astronaut.png");
        let config = BackgroundKind::Image(image);
        let plain = Backdrop::load(&config, (64, 48), (16, 9), false, 30).unwrap();
        let mirrored = Backdrop::load(&config, (64, 48), (16, 9), true, 30).unwrap();
        let (
            Backdrop::Still { behind, alone },
            Backdrop::Still {
                alone: unflipped, ..
            },
        ) = (&mirrored, &plain)
        else {
            panic!("still pictures");
        };
        assert_eq!(alone, unflipped, "shown alone: the right way round");
        let mut flipped = unflipped.clone();
        mirror(&mut flipped, 64);
        assert_eq!(
            behind, &flipped,
            "to blend with: flipped (the composite is flipped back)"
        );
        assert_ne!(behind, alone);
    }

    #[test]
    fn mirroring_twice_is_the_identity_and_once_reverses_the_pixels() {
        let w = 6;
        let row: Vec<u8> = (0..w as u8 * 2).collect();
        let mut m = row.clone();
        mirror(&mut m, w);
        // Pixel x's luma is byte 2x; mirrored, pixel x shows pixel w-1-x.
        for x in 0..w {
            assert_eq!(m[2 * x], row[2 * (w - 1 - x)]);
        }
        mirror(&mut m, w);
        assert_eq!(m, row);
    }
}
