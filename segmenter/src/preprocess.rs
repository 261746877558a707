//! YUYV frame -> model input tensor.
//!
//! The frame is viewed as `width/2` pixels of 4 bytes (`Y0 U Y1 V`) and scaled with
//! fast_image_resize (bilinear, no alpha handling) to `model_width/2` x `model_height`: each
//! channel is interpolated on its own, so Y0, Y1, U and V stay separate. The small result is
//! then converted to RGB and normalised. The frame goes where [`crate::fit`] places it: with
//! `pad` the rest of the input repeats the frame's edge pixels. Only the model-sized image is
//! ever converted to RGB.

use crate::fit::Rect;
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
    /// Where the frame goes in `small`, and the scaled frame when it does not fill it.
    place: Rect,
    /// The part of the frame scaled (pixels; left edge and width even), or all of it.
    source: Option<Rect>,
    scaled: Vec<u8>,
    width: usize,
    height: usize,
    layout: Layout,
    scale: [f32; 3],
    offset: [f32; 3],
    /// The tensor handed to the model.
    pub tensor: Vec<f32>,
}

impl Preprocessor {
    /// For a model input of `width` x `height`, normalised as `(pixel - mean) / std`, the
    /// frame scaled into `place` (the whole input, or part of it: [`crate::fit::place`]).
    pub fn new(
        width: usize,
        height: usize,
        place: Rect,
        layout: Layout,
        mean: [f32; 3],
        std: [f32; 3],
    ) -> Self {
        let pairs = width.div_ceil(2);
        let whole = place.width.div_ceil(2) == pairs && place.height == height;
        Preprocessor {
            place,
            source: None,
            scaled: if whole {
                Vec::new()
            } else {
                vec![0; place.width.div_ceil(2) * place.height * 4]
            },
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

    /// Scales only `part` of the frames from now on (its left edge and width even: whole YUYV
    /// pairs), or, with `None`, the whole frame.
    pub fn set_source(&mut self, part: Option<Rect>) {
        self.source = part;
    }

    /// Fills [`Preprocessor::tensor`] from a YUYV frame of `frame_width` x `frame_height`.
    #[inline(always)]
    pub fn prepare(&mut self, yuyv: &[u8], frame_width: usize, frame_height: usize) {
        let src = ImageRef::new(
            (frame_width / 2) as u32,
            frame_height as u32,
            &yuyv[..frame_width * frame_height * 2],
            PixelType::U8x4,
        )
        .expect("frame buffer holds width*height*2 bytes");
        let r = self.place;
        let padded = !self.scaled.is_empty();
        let (dst_pairs, dst_buf) = if padded {
            (r.width.div_ceil(2), &mut self.scaled)
        } else {
            (self.pairs, &mut self.small)
        };
        let mut dst =
            Image::from_slice_u8(dst_pairs as u32, r.height as u32, dst_buf, PixelType::U8x4)
                .expect("buffer sized in new");
        let options = match self.source {
            Some(s) => self.options.crop(
                (s.x / 2) as f64,
                s.y as f64,
                (s.width / 2) as f64,
                s.height as f64,
            ),
            None => self.options,
        };
        self.resizer
            .resize(&src, &mut dst, &options)
            .expect("same pixel type");
        if padded {
            self.pad();
        }
        let (w, h, pairs) = (self.width, self.height, self.pairs);
        let (scale, offset) = (self.scale, self.offset);
        let rows = self.small.chunks_exact(pairs * 4).take(h);
        // The layout is matched once, not per pixel. An odd width's last pixel is the first
        // of a pair.
        match self.layout {
            Layout::Nhwc => {
                for (row, out) in rows.zip(self.tensor.chunks_exact_mut(w * 3)) {
                    for (t, q) in out.chunks_exact_mut(6).zip(row.chunks_exact(4)) {
                        let [a, b] = pair_to_rgb(q, scale, offset);
                        t[..3].copy_from_slice(&a);
                        t[3..].copy_from_slice(&b);
                    }
                    if w % 2 == 1 {
                        out[3 * (w - 1)..]
                            .copy_from_slice(&pair_to_rgb(&row[w / 2 * 4..], scale, offset)[0]);
                    }
                }
            }
            Layout::Nchw => {
                // A plane at a time: each loop writes one stream and vectorises (the three
                // planes' pairs written together did not, and cost 0.06 ms more per frame).
                let (r, gb) = self.tensor.split_at_mut(w * h);
                let (g, b) = gb.split_at_mut(w * h);
                let planes = r.chunks_exact_mut(w).zip(g.chunks_exact_mut(w));
                for (row, ((r, g), b)) in rows.zip(planes.zip(b.chunks_exact_mut(w))) {
                    plane_row::<0>(row, r, scale[0], offset[0]);
                    plane_row::<1>(row, g, scale[1], offset[1]);
                    plane_row::<2>(row, b, scale[2], offset[2]);
                }
            }
        }
    }
}

/// A pair `Y0 U Y1 V` as two RGB pixels normalised as `rgb * scale + offset` (pair by pair,
/// without a branch; a function, not a closure, so that it is inlined into the loops).
#[inline(always)]
fn pair_to_rgb(q: &[u8], scale: [f32; 3], offset: [f32; 3]) -> [[f32; 3]; 2] {
    let norm = |rgb: [u8; 3]| -> [f32; 3] {
        [
            rgb[0] as f32 * scale[0] + offset[0],
            rgb[1] as f32 * scale[1] + offset[1],
            rgb[2] as f32 * scale[2] + offset[2],
        ]
    };
    [
        norm(yuv_to_rgb(q[0], q[1], q[3])),
        norm(yuv_to_rgb(q[2], q[1], q[3])),
    ]
}

/// One row of RGB channel `C` (0 R, 1 G, 2 B) normalised as `channel * scale + offset`, from a
/// row of pairs `Y0 U Y1 V`: the same numbers as [`pair_to_rgb`]'s channel `C`.
#[inline(always)]
fn plane_row<const C: usize>(row: &[u8], out: &mut [f32], scale: f32, offset: f32) {
    let norm = |y: u8, u: u8, v: u8| yuv_to_rgb(y, u, v)[C] as f32 * scale + offset;
    let w = out.len();
    for (o, q) in out.chunks_exact_mut(2).zip(row.chunks_exact(4)) {
        o[0] = norm(q[0], q[1], q[3]);
        o[1] = norm(q[2], q[1], q[3]);
    }
    if w % 2 == 1 {
        let q = &row[w / 2 * 4..];
        out[w - 1] = norm(q[0], q[1], q[3]);
    }
}

impl Preprocessor {
    /// Copies the scaled frame into its place in `small` and fills the rest with the frame's
    /// edge pixels repeated (rows above and below copy the first and last row).
    fn pad(&mut self) {
        let r = self.place;
        let row_bytes = self.pairs * 4;
        let (left, inner) = (r.x / 2, r.width.div_ceil(2));
        for y in 0..r.height {
            let src = &self.scaled[y * inner * 4..(y + 1) * inner * 4];
            let row = &mut self.small[(r.y + y) * row_bytes..(r.y + y + 1) * row_bytes];
            row[left * 4..(left + inner) * 4].copy_from_slice(src);
            // The first pixel's luma twice with its chroma, and the last one's.
            let first = [src[0], src[1], src[0], src[3]];
            let n = src.len();
            let last = [src[n - 2], src[n - 3], src[n - 2], src[n - 1]];
            for p in row[..left * 4].chunks_exact_mut(4) {
                p.copy_from_slice(&first);
            }
            for p in row[(left + inner) * 4..].chunks_exact_mut(4) {
                p.copy_from_slice(&last);
            }
        }
        let (top, bottom) = (r.y, r.y + r.height);
        for y in 0..top {
            self.small
                .copy_within(top * row_bytes..(top + 1) * row_bytes, y * row_bytes);
        }
        for y in bottom..self.height {
            self.small
                .copy_within((bottom - 1) * row_bytes..bottom * row_bytes, y * row_bytes);
        }
    }

    /// The colour (Y, U, V planes, 0..255) of the last prepared frame at model input size.
    #[inline(always)]
    pub fn colour(&self, out: &mut [Vec<f32>; 3]) {
        let (w, pairs) = (self.width, self.pairs);
        let [oy, ou, ov] = out;
        for y in 0..self.height {
            let row = &self.small[y * pairs * 4..(y + 1) * pairs * 4];
            let span = y * w..(y + 1) * w;
            let (ry, ru, rv) = (&mut oy[span.clone()], &mut ou[span.clone()], &mut ov[span]);
            // Pair by pair (both pixels of a pair share its chroma), without a branch: this
            // vectorises; an odd width's last pixel is the first of a pair.
            let whole = row
                .chunks_exact(4)
                .zip(ry.chunks_exact_mut(2))
                .zip(ru.chunks_exact_mut(2).zip(rv.chunks_exact_mut(2)));
            for ((q, l), (u, v)) in whole {
                l[0] = q[0] as f32;
                l[1] = q[2] as f32;
                u.fill(q[1] as f32);
                v.fill(q[3] as f32);
            }
            if w % 2 == 1 {
                let q = &row[(w / 2) * 4..];
                (ry[w - 1], ru[w - 1], rv[w - 1]) = (q[0] as f32, q[1] as f32, q[3] as f32);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use viba_common::yuv::rgb_to_yuyv;

    const FRAME: (usize, usize) = (64, 48);

    /// A YUYV frame of [`FRAME`] whose every byte differs from its neighbours (so that a luma
    /// read for a chroma, or a pair's neighbour, would show), and the whole of a `w` x `h` input.
    fn varied_frame(w: usize, h: usize) -> (Vec<u8>, Rect) {
        let frame = (0..FRAME.0 * FRAME.1 * 2)
            .map(|i| (i * 37 % 251) as u8)
            .collect();
        let all = Rect {
            x: 0,
            y: 0,
            width: w,
            height: h,
        };
        (frame, all)
    }

    #[test]
    fn the_colour_planes_are_the_pairs_luma_and_shared_chroma() {
        // Odd and even model widths.
        for (w, h) in [(16, 8), (15, 7), (1, 3)] {
            let (frame, all) = varied_frame(w, h);
            let mut pre = Preprocessor::new(w, h, all, Layout::Nhwc, [0.0; 3], [1.0; 3]);
            pre.prepare(&frame, FRAME.0, FRAME.1);
            let mut out: [Vec<f32>; 3] = std::array::from_fn(|_| vec![-1.0; w * h]);
            pre.colour(&mut out);
            let row_bytes = w.div_ceil(2) * 4;
            for y in 0..h {
                for x in 0..w {
                    let q = &pre.small[y * row_bytes + x / 2 * 4..][..4];
                    let i = y * w + x;
                    let want = [q[x % 2 * 2], q[1], q[3]].map(|b| b as f32);
                    let got = [out[0][i], out[1][i], out[2][i]];
                    assert_eq!(got, want, "{w}x{h} at ({x}, {y})");
                }
            }
        }
    }

    #[test]
    fn the_tensor_is_each_pixels_rgb_normalised_in_both_layouts() {
        for (w, h) in [(16, 8), (15, 7), (1, 3)] {
            let (frame, all) = varied_frame(w, h);
            let (mean, std) = ([0.2, 0.5, 0.7], [0.9, 1.1, 0.6]);
            let mut nhwc = Preprocessor::new(w, h, all, Layout::Nhwc, mean, std);
            let mut nchw = Preprocessor::new(w, h, all, Layout::Nchw, mean, std);
            nhwc.prepare(&frame, FRAME.0, FRAME.1);
            nchw.prepare(&frame, FRAME.0, FRAME.1);
            let row_bytes = w.div_ceil(2) * 4;
            for y in 0..h {
                for x in 0..w {
                    let q = &nhwc.small[y * row_bytes + x / 2 * 4..][..4];
                    let rgb = yuv_to_rgb(q[x % 2 * 2], q[1], q[3]);
                    let i = y * w + x;
                    for c in 0..3 {
                        let want = (rgb[c] as f32 - mean[c]) / std[c];
                        let (a, b) = (nhwc.tensor[i * 3 + c], nchw.tensor[c * w * h + i]);
                        assert!(
                            (a - want).abs() < 1e-3,
                            "{w}x{h} ({x}, {y}) {c}: {a} vs {want}"
                        );
                        assert_eq!(a, b, "{w}x{h} ({x}, {y}) {c}: the layouts differ");
                    }
                }
            }
        }
    }

    #[test]
    fn flat_colour_survives_and_layouts_agree() {
        let (w, h) = (64, 48);
        let rgb: Vec<u8> = [200u8, 100, 50].repeat(w * h);
        let mut yuyv = vec![0; w * h * 2];
        rgb_to_yuyv(&rgb, w, h, &mut yuyv);
        let all = Rect {
            x: 0,
            y: 0,
            width: 16,
            height: 8,
        };
        let mut nhwc = Preprocessor::new(16, 8, all, Layout::Nhwc, [0.0; 3], [255.0; 3]);
        let mut nchw = Preprocessor::new(16, 8, all, Layout::Nchw, [0.0; 3], [255.0; 3]);
        nhwc.prepare(&yuyv, w, h);
        nchw.prepare(&yuyv, w, h);
        for (c, want) in [200.0f32, 100.0, 50.0].iter().enumerate() {
            let a = nhwc.tensor[5 * 3 + c] * 255.0;
            let b = nchw.tensor[c * 128 + 5] * 255.0;
            assert!((a - want).abs() <= 3.0, "channel {c}: {a} vs {want}");
            assert_eq!(a, b);
        }
    }

    #[test]
    fn padding_repeats_the_frames_edges() {
        // A 4:3 frame, left half red, right half blue, into a 16x6 input: it fills 8x6 of it,
        // columns 4..12; the padding left is red, right blue, in every row.
        let (w, h) = (64, 48);
        let mut rgb = Vec::with_capacity(w * h * 3);
        for _y in 0..h {
            for x in 0..w {
                rgb.extend_from_slice(if x < w / 2 {
                    &[220, 20, 20]
                } else {
                    &[20, 20, 220]
                });
            }
        }
        let mut yuyv = vec![0; w * h * 2];
        rgb_to_yuyv(&rgb, w, h, &mut yuyv);
        let place = crate::fit::place(viba_common::config::Fit::Pad, (w, h), (16, 6), (16, 6));
        assert_eq!(
            place.input,
            Rect {
                x: 4,
                y: 0,
                width: 8,
                height: 6
            }
        );
        let mut pre = Preprocessor::new(16, 6, place.input, Layout::Nchw, [0.0; 3], [255.0; 3]);
        pre.prepare(&yuyv, w, h);
        for y in 0..6 {
            // Columns 6..10 mix the halves (the downscale's filter is wider than a pixel).
            for x in (0..6).chain(10..16) {
                let red = pre.tensor[y * 16 + x] * 255.0;
                let blue = pre.tensor[2 * 96 + y * 16 + x] * 255.0;
                let (r, b) = if x < 8 { (220.0, 20.0) } else { (20.0, 220.0) };
                assert!(
                    (red - r).abs() < 12.0 && (blue - b).abs() < 12.0,
                    "({x},{y}): {red} {blue}"
                );
            }
        }
    }
}
