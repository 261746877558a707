//! YUYV frame -> model input tensor.
//!
//! The frame is viewed as `width/2` pixels of 4 bytes (`Y0 U Y1 V`) and scaled with
//! fast_image_resize (bilinear, no alpha handling) to `model_width/2` x `model_height`: each
//! channel is interpolated on its own, so Y0, Y1, U and V stay separate. The small result is
//! then converted to RGB and normalised. The whole frame is stretched to the model size (no
//! letterbox), as MediaPipe does. Only the model-sized image is ever converted to RGB.

use crate::model::Layout;
use fast_image_resize::images::{Image, ImageRef};
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};
use viba_common::yuv::yuv_to_rgb;

/// Reusable buffers for one model size.
pub struct Preprocessor {
    resizer: Resizer,
    options: ResizeOptions,
    small: Vec<u8>,
    pairs: usize,
    width: usize,
    height: usize,
    layout: Layout,
    scale: [f32; 3],
    offset: [f32; 3],
    /// The tensor handed to the model.
    pub tensor: Vec<f32>,
}

impl Preprocessor {
    /// For a model input of `width` x `height`, normalised as `(pixel - mean) / std`.
    pub fn new(width: usize, height: usize, layout: Layout, mean: [f32; 3], std: [f32; 3]) -> Self {
        let pairs = width.div_ceil(2);
        Preprocessor {
            resizer: Resizer::new(),
            options: ResizeOptions::new()
                .resize_alg(ResizeAlg::Convolution(FilterType::Bilinear))
                .use_alpha(false),
            small: vec![0; pairs * height * 4],
            pairs,
            width,
            height,
            layout,
            scale: std.map(|s| 1.0 / s),
            offset: [0, 1, 2].map(|c| -mean[c] / std[c]),
            tensor: vec![0.0; width * height * 3],
        }
    }

    /// Fills [`Preprocessor::tensor`] from a YUYV frame of `frame_width` x `frame_height`.
    pub fn prepare(&mut self, yuyv: &[u8], frame_width: usize, frame_height: usize) {
        let src = ImageRef::new(
            (frame_width / 2) as u32,
            frame_height as u32,
            &yuyv[..frame_width * frame_height * 2],
            PixelType::U8x4,
        )
        .expect("frame buffer holds width*height*2 bytes");
        let mut dst = Image::from_slice_u8(
            self.pairs as u32,
            self.height as u32,
            &mut self.small,
            PixelType::U8x4,
        )
        .expect("buffer sized in new");
        self.resizer
            .resize(&src, &mut dst, &self.options)
            .expect("same pixel type");
        let plane = self.width * self.height;
        let (scale, offset) = (self.scale, self.offset);
        let normalise = |rgb: [u8; 3], c: usize| rgb[c] as f32 * scale[c] + offset[c];
        for y in 0..self.height {
            let row = &self.small[y * self.pairs * 4..(y + 1) * self.pairs * 4];
            for x in 0..self.width {
                let q = &row[(x / 2) * 4..(x / 2) * 4 + 4];
                let rgb = yuv_to_rgb(q[(x % 2) * 2], q[1], q[3]);
                let i = y * self.width + x;
                match self.layout {
                    Layout::Nhwc => {
                        let t = &mut self.tensor[i * 3..i * 3 + 3];
                        t[0] = normalise(rgb, 0);
                        t[1] = normalise(rgb, 1);
                        t[2] = normalise(rgb, 2);
                    }
                    Layout::Nchw => {
                        self.tensor[i] = normalise(rgb, 0);
                        self.tensor[plane + i] = normalise(rgb, 1);
                        self.tensor[2 * plane + i] = normalise(rgb, 2);
                    }
                }
            }
        }
    }
}

impl Preprocessor {
    /// The colour (Y, U, V planes, 0..255) of the last prepared frame at model input size.
    pub fn colour(&self, out: &mut [Vec<f32>; 3]) {
        for y in 0..self.height {
            let row = &self.small[y * self.pairs * 4..(y + 1) * self.pairs * 4];
            for x in 0..self.width {
                let q = &row[(x / 2) * 4..(x / 2) * 4 + 4];
                let i = y * self.width + x;
                out[0][i] = q[(x % 2) * 2] as f32;
                out[1][i] = q[1] as f32;
                out[2][i] = q[3] as f32;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use viba_common::yuv::rgb_to_yuyv;

    #[test]
    fn flat_colour_survives_and_layouts_agree() {
        let (w, h) = (64, 48);
        let rgb: Vec<u8> = [200u8, 100, 50].repeat(w * h);
        let mut yuyv = vec![0; w * h * 2];
        rgb_to_yuyv(&rgb, w, h, &mut yuyv);
        let mut nhwc = Preprocessor::new(16, 8, Layout::Nhwc, [0.0; 3], [255.0; 3]);
        let mut nchw = Preprocessor::new(16, 8, Layout::Nchw, [0.0; 3], [255.0; 3]);
        nhwc.prepare(&yuyv, w, h);
        nchw.prepare(&yuyv, w, h);
        for (c, want) in [200.0f32, 100.0, 50.0].iter().enumerate() {
            let a = nhwc.tensor[5 * 3 + c] * 255.0;
            let b = nchw.tensor[c * 128 + 5] * 255.0;
            assert!((a - want).abs() <= 3.0, "channel {c}: {a} vs {want}");
            assert_eq!(a, b);
        }
    }
}
