//! What replaces the room: a still picture (an image or a colour, loaded once and kept as YUYV
//! of the frame size) or the room itself blurred (`blur.rs`), made from each frame.

use crate::blur::Blur;
use viba_common::config::{parse_color, Background, DEFAULT_FALLBACK};
use viba_common::{picture, yuv};

/// A still background: an image path or a colour `#rrggbb`, as YUYV of the frame size.
fn still(key: &str, spec: &str, width: u32, height: u32) -> Result<Vec<u8>, String> {
    if let Some(color) = spec.starts_with('#').then(|| parse_color(spec)).flatten() {
        let mut out = vec![0u8; width as usize * height as usize * 2];
        yuv::fill_yuyv(&mut out, color);
        return Ok(out);
    }
    picture::load_cover_yuyv(std::path::Path::new(spec), width, height)
        .map_err(|e| format!("{key}: {e}"))
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
    /// The same picture behind every frame.
    Still(Vec<u8>),
    /// The room, blurred, from each frame; `fallback` while there is no usable mask.
    Blurred {
        blur: Box<Blur>,
        fallback: Vec<u8>,
        out: Vec<u8>,
    },
}

impl Backdrop {
    /// Loads the configured background; `cells`: the mask's size (the blur works at it).
    /// `mirrored`: the output will be mirrored, so still pictures are loaded mirrored.
    pub fn load(
        config: &Background,
        (width, height): (u32, u32),
        cells: (usize, usize),
        mirrored: bool,
    ) -> Result<Backdrop, String> {
        let flip = |mut picture: Vec<u8>| {
            if mirrored {
                mirror(&mut picture, width as usize);
            }
            picture
        };
        if let Some(strength) = config.blur {
            let fallback = config.fallback.as_deref().unwrap_or(DEFAULT_FALLBACK);
            return Ok(Backdrop::Blurred {
                blur: Box::new(Blur::new(
                    strength,
                    cells,
                    (width as usize, height as usize),
                )),
                fallback: flip(still("background.fallback", fallback, width, height)?),
                out: vec![0; width as usize * height as usize * 2],
            });
        }
        if let Some(path) = &config.image {
            return Ok(Backdrop::Still(flip(still(
                "background.image",
                &path.to_string_lossy(),
                width,
                height,
            )?)));
        }
        let color = config
            .color
            .as_deref()
            .ok_or("background: needs an image, a color or a blur")?;
        Ok(Backdrop::Still(still(
            "background.color",
            color,
            width,
            height,
        )?))
    }

    /// What is shown without the person: the still picture, or the blur's fallback.
    pub fn alone(&self) -> &[u8] {
        match self {
            Backdrop::Still(b) => b,
            Backdrop::Blurred { fallback, .. } => fallback,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
