//! [`Scene`]: a camera frame and its mask in, the picture a call partner sees out. What the
//! worker runs for each frame, and what a program using viba as a library calls.

use crate::background::{self, Backdrop, BackgroundError};
use crate::blend::{Behind, Blender};
use crate::matte::{Matte, MatteSettings};
use viba_common::config::Config;

/// The background, the matte (threshold, refinement, edge smoothing) and the blending for
/// frames of `config.frame_size()` (YUYV) and masks of one size, as the running pipeline
/// composites them. Privacy: without a mask it shows the background alone, never the frame.
///
/// ```no_run
/// # fn main() -> anyhow::Result<()> {
/// let config = viba_common::config::load(std::path::Path::new("viba.json"))?;
/// let mask_size = (256, 144); // the segmenter's `mask_size()`
/// let mut scene = viba_compositor::Scene::new(&config, mask_size)?;
/// let (w, h) = scene.size();
/// let frame = vec![128u8; w * h * 2]; // YUYV
/// let mask = vec![255u8; mask_size.0 * mask_size.1]; // P(person), 0..255
/// let mut out = vec![0u8; w * h * 2];
/// scene.set_mask(&mask);
/// assert!(scene.composite(&frame, &mut out));
/// # Ok(()) }
/// ```
pub struct Scene {
    backdrop: Backdrop,
    matte: Matte,
    blender: Blender,
    size: (usize, usize),
    mask_size: (usize, usize),
    /// The mask last set (P(person)), kept to set again when the settings change.
    mask: Option<Vec<u8>>,
    mirrored: bool,
}

impl Scene {
    /// Loads the background of `config` for frames of `config.frame_size()`, with masks of
    /// `mask_size` (width, height).
    pub fn new(config: &Config, mask_size: (usize, usize)) -> anyhow::Result<Scene> {
        let (w, h) = config.frame_size();
        let size = (w as usize, h as usize);
        Ok(Scene {
            backdrop: load_backdrop(config, mask_size)?,
            matte: matte_for(config, mask_size, size),
            blender: Blender::new(size.0),
            size,
            mask_size,
            mask: None,
            mirrored: config.output.mirror,
        })
    }

    /// Takes the picture keys of a config read again (background, threshold, softness,
    /// smoothing, refinement, mirror) from the next frame, keeping the mask. A config whose
    /// background cannot be loaded changes nothing.
    pub fn reconfigure(&mut self, config: &Config) -> anyhow::Result<()> {
        self.backdrop = load_backdrop(config, self.mask_size)?;
        let mut matte = matte_for(config, self.mask_size, self.size);
        // The camera is the same: what was measured of it stays.
        matte.keep_camera_of(&self.matte);
        self.matte = matte;
        if let Some(mask) = &self.mask {
            self.matte.set_mask(mask);
        }
        self.mirrored = config.output.mirror;
        Ok(())
    }

    /// The size of frames and composites (width, height).
    pub fn size(&self) -> (usize, usize) {
        self.size
    }

    /// The size of the masks taken (width, height).
    pub fn mask_size(&self) -> (usize, usize) {
        self.mask_size
    }

    /// Takes a new mask: P(person) 0..255, one byte per cell, [`Scene::mask_size`].
    pub fn set_mask(&mut self, mask: &[u8]) {
        assert_eq!(
            mask.len(),
            self.mask_size.0 * self.mask_size.1,
            "a mask of the scene's mask size"
        );
        self.matte.set_mask(mask);
        match &mut self.mask {
            Some(kept) => kept.copy_from_slice(mask),
            None => self.mask = Some(mask.to_vec()),
        }
    }

    /// Composites `frame` (YUYV, [`Scene::size`]) over the background with the mask last set
    /// into `out` (the same size), mirrored when `output.mirror` is on. Returns whether the
    /// person was shown: without a mask, or with a frame of the wrong length, `out` gets the
    /// background alone ([`Scene::show_background`]).
    pub fn composite(&mut self, frame: &[u8], out: &mut [u8]) -> bool {
        let (w, h) = self.size;
        if self.mask.is_none() || frame.len() != w * h * 2 {
            self.show_background(out);
            return false;
        }
        let behind = match &mut self.backdrop {
            Backdrop::Still { behind, .. } | Backdrop::Video { behind, .. } => {
                self.matte.prepare(frame);
                Behind::Picture(behind)
            }
            Backdrop::Blurred { blur, .. } => {
                // The blur is made from the frame at mask size as soon as it is made (it
                // needs nothing of the refined edge), while it is still in the cache.
                let made = self.matte.prepare_cells(frame);
                let cells = self.matte.cells().expect("kept for the blur");
                let yuv = &cells.yuv;
                blur.make([&yuv[0], &yuv[1], &yuv[2]], self.matte.mask());
                self.matte.prepare_edge(frame, made);
                Behind::Blur(blur)
            }
        };
        self.blender
            .composite(frame, behind, &mut self.matte, (w, h), out);
        if self.mirrored {
            background::mirror(out, w);
        }
        true
    }

    /// Writes the background alone into `out` (the blur's fallback picture with a blurred
    /// background: the blur is made from the frame, which needs a mask), and forgets the
    /// edge smoothing's past, so that the next composite starts afresh.
    pub fn show_background(&mut self, out: &mut [u8]) {
        out.copy_from_slice(self.backdrop.alone());
        self.matte.forget();
    }

    /// The background alone, as [`Scene::show_background`] writes it.
    pub fn background(&self) -> &[u8] {
        self.backdrop.alone()
    }

    /// Forgets what the edge smoothing keeps (after a gap, or a pause).
    pub fn forget(&mut self) {
        self.matte.forget();
    }

    /// A video background stops decoding while paused (`true`) and goes on.
    pub fn pause(&self, paused: bool) {
        self.backdrop.pause(paused);
    }

    /// Takes a video background's newest frame, if a new one was decoded (once per output
    /// frame; nothing for the other kinds).
    pub fn advance(&mut self) {
        self.backdrop.advance();
    }

    /// With refinement: the share of mask cells on the edge, refined from the frame.
    pub fn refined_share(&self) -> Option<f32> {
        self.matte.refined_share()
    }
}

/// The background of a validated config (errors name their key).
pub(crate) fn load_backdrop(
    config: &Config,
    mask_size: (usize, usize),
) -> Result<Backdrop, BackgroundError> {
    Backdrop::load(
        config
            .background
            .kind
            .as_ref()
            .ok_or(BackgroundError::Unresolved)?,
        config.frame_size(),
        mask_size,
        config.output.mirror,
        config.input.fps,
    )
}

fn matte_for(config: &Config, mask_size: (usize, usize), size: (usize, usize)) -> Matte {
    Matte::new(
        MatteSettings::of(config),
        mask_size,
        size,
        config.background.blur.is_some(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn a_config_read_again_keeps_what_was_measured_of_the_cameras_noise() {
        let (w, h, mask) = (320usize, 180usize, (64usize, 36usize));
        let config = |smoothing: f64| {
            let text = serde_json::json!({
                "input": { "source": "synthetic", "width": w, "height": h },
                "output": { "sink": "null" },
                "background": { "color": "#203040" },
                "segmentation": { "smoothing": smoothing },
            });
            viba_common::config::parse(&text.to_string(), Path::new("(test)"), Path::new("."))
                .unwrap()
        };
        let mut scene = Scene::new(&config(0.8), mask).unwrap();
        // Room on the left, the person on the right; the frames a noisy camera's: every
        // pixel's luma its own, 0..31 steps off 100, frame after frame.
        let cells: Vec<u8> = (0..mask.0 * mask.1)
            .map(|k| if k % mask.0 < mask.0 / 2 { 0 } else { 255 })
            .collect();
        scene.set_mask(&cells);
        let mut random = crate::test_bytes::random_bytes(7);
        let mut out = vec![0u8; w * h * 2];
        for _ in 0..60 {
            let frame: Vec<u8> = (0..w * h * 2)
                .map(|i| if i % 2 == 0 { 100 + random() % 32 } else { 128 })
                .collect();
            assert!(scene.composite(&frame, &mut out));
        }
        let measured = scene.matte.noise_scale().unwrap();
        assert!(measured > 1.5, "the noise was measured: {measured}");
        // Another smoothing: a new matte, with what was measured of the camera.
        scene.reconfigure(&config(0.6)).unwrap();
        assert_eq!(scene.matte.noise_scale(), Some(measured));
    }
}
