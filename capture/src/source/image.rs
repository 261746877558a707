//! A still picture, scaled to cover the frame, optionally panning slowly in a loop so that
//! the segmenter and compositor see motion.

use super::{Fill, FrameSource, SourceError};
use std::path::Path;
use viba_media::picture;

pub struct MovingImage {
    width: usize,
    height: usize,
    /// The picture scaled to cover (width + 2*margin) x (height + 2*margin), YUYV.
    canvas: Vec<u8>,
    canvas_width: usize,
    margin: usize,
    moving: bool,
    frame: u64,
    name: String,
}

impl MovingImage {
    pub fn open(
        path: &Path,
        (width, height): (u32, u32),
        moving: bool,
    ) -> Result<Self, SourceError> {
        let margin = if moving {
            (width as usize / 16) & !1
        } else {
            0
        };
        let (cw, ch) = (width as usize + 2 * margin, height as usize + 2 * margin);
        let canvas = picture::load_cover_yuyv(path, cw as u32, ch as u32)
            .map_err(|e| SourceError::File(e.to_string()))?;
        Ok(MovingImage {
            width: width as usize,
            height: height as usize,
            canvas,
            canvas_width: cw,
            margin,
            moving,
            frame: 0,
            name: path.display().to_string(),
        })
    }

    /// Top-left corner of the crop window for the current frame: a slow ellipse.
    fn offset(&self) -> (usize, usize) {
        if !self.moving || self.margin == 0 {
            return (0, 0);
        }
        let phase = self.frame as f64 * std::f64::consts::TAU / 90.0;
        let m = self.margin as f64;
        let x = (m + m * phase.cos()).round() as usize;
        let y = (m + m * (2.0 * phase).sin() * 0.5).round() as usize;
        (x.min(2 * self.margin) & !1, y.min(2 * self.margin))
    }
}

impl FrameSource for MovingImage {
    fn advance(&mut self) -> Result<Fill, SourceError> {
        self.frame += 1;
        Ok(Fill::Frame)
    }

    fn copy_to(&self, out: &mut [u8]) {
        let (x, y) = self.offset();
        let stride = self.width * 2;
        let canvas_stride = self.canvas_width * 2;
        for (row, dst) in out.chunks_exact_mut(stride).take(self.height).enumerate() {
            let start = (y + row) * canvas_stride + x * 2;
            dst.copy_from_slice(&self.canvas[start..start + stride]);
        }
    }

    fn describe(&self) -> String {
        format!("image {}", self.name)
    }
}
