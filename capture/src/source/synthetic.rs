//! A generated pattern: colour bars scrolling sideways with a bright square bouncing over
//! them. Cheap per frame: the bars are made once and copied with an offset.

use super::{Fill, FrameSource, SourceError};
use viba_common::yuv;

pub struct Synthetic {
    width: usize,
    height: usize,
    bars: Vec<u8>,
    frame: u64,
}

impl Synthetic {
    pub fn new((width, height): (u32, u32)) -> Synthetic {
        let (width, height) = (width as usize, height as usize);
        const COLOURS: [[u8; 3]; 8] = [
            [235, 235, 235],
            [235, 235, 16],
            [16, 235, 235],
            [16, 235, 16],
            [235, 16, 235],
            [235, 16, 16],
            [16, 16, 235],
            [40, 40, 40],
        ];
        let mut row_rgb = vec![0u8; width * 3];
        for x in 0..width {
            row_rgb[x * 3..x * 3 + 3].copy_from_slice(&COLOURS[x * 8 / width]);
        }
        let mut row = vec![0u8; width * 2];
        yuv::rgb_to_yuyv(&row_rgb, width, 1, &mut row);
        let mut bars = Vec::with_capacity(width * 2 * height);
        for _ in 0..height {
            bars.extend_from_slice(&row);
        }
        Synthetic {
            width,
            height,
            bars,
            frame: 0,
        }
    }
}

impl FrameSource for Synthetic {
    fn advance(&mut self) -> Result<Fill, SourceError> {
        self.frame += 1;
        Ok(Fill::Frame)
    }

    fn copy_to(&self, out: &mut [u8]) {
        let stride = self.width * 2;
        // Scroll by an even number of pixels so YUYV pairs stay aligned.
        let shift = ((self.frame as usize * 4) % self.width) & !1;
        let split = shift * 2;
        for (dst, src) in out
            .chunks_exact_mut(stride)
            .zip(self.bars.chunks_exact(stride))
        {
            dst[..stride - split].copy_from_slice(&src[split..]);
            dst[stride - split..].copy_from_slice(&src[..split]);
        }
        // A square bouncing diagonally.
        let side = (self.height / 4).max(2) & !1;
        let span_x = self.width - side;
        let span_y = self.height - side;
        let t = self.frame as usize * 3;
        let bounce = |t: usize, span: usize| {
            if span == 0 {
                0
            } else if (t / span).is_multiple_of(2) {
                t % span
            } else {
                span - t % span
            }
        };
        let x0 = bounce(t, span_x) & !1;
        let y0 = bounce(t, span_y);
        for row in out.chunks_exact_mut(stride).skip(y0).take(side) {
            for px in row[x0 * 2..(x0 + side) * 2].chunks_exact_mut(4) {
                px.copy_from_slice(&[200, 128, 200, 128]);
            }
        }
    }

    fn describe(&self) -> String {
        format!("synthetic pattern {}x{}", self.width, self.height)
    }
}
