//! Where the frame goes in the model's input (`segmentation.fit`), and which part of the
//! model's mask is the frame's.
//!
//! With `pad` the frame is scaled to fit inside the input with its aspect kept (a 16:9 frame
//! in the general model's 256x256 fills 256x144 of it, a 4:3 frame in the landscape model's
//! 256x144 fills 192x144), centred; the rest of the input repeats the frame's edge pixels. The
//! mask published is the frame's part of the model's output only, so it has the frame's
//! aspect and the compositor maps it onto the frame as it is. With `stretch` (the default;
//! docs/QUALITY.md says why) the frame fills the input and the whole mask is the frame's.

use viba_common::config::Fit;

/// A rectangle in pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rect {
    /// Left edge.
    pub x: usize,
    /// Top edge.
    pub y: usize,
    /// Width.
    pub width: usize,
    /// Height.
    pub height: usize,
}

/// The frame's place in the model's input and in its output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placement {
    /// In the input (the left edge and the width even, so YUYV pairs stay whole).
    pub input: Rect,
    /// In the output: the mask that is published.
    pub mask: Rect,
}

/// Places a `frame` (width, height) in a model with `input` and `output` sizes.
pub fn place(
    fit: Fit,
    frame: (usize, usize),
    input: (usize, usize),
    output: (usize, usize),
) -> Placement {
    let (fw, fh) = (frame.0 as f64, frame.1 as f64);
    let (iw, ih) = input;
    let (width, height) = match fit {
        Fit::Stretch => (iw, ih),
        Fit::Pad => {
            let s = (iw as f64 / fw).min(ih as f64 / fh);
            // Even widths (whole YUYV pairs), at least 2, at most the input.
            let w = ((fw * s / 2.0).round() as usize * 2).clamp(2.min(iw), iw);
            let h = ((fh * s).round() as usize).clamp(1, ih);
            (w, h)
        }
    };
    let input_rect = Rect {
        x: (iw - width) / 4 * 2,
        y: (ih - height) / 2,
        width,
        height,
    };
    // The same part of the output, scaled when its size differs from the input's.
    let (ow, oh) = output;
    let sx = |v: usize| (v * ow + iw / 2) / iw;
    let sy = |v: usize| (v * oh + ih / 2) / ih;
    let (x0, y0) = (sx(input_rect.x), sy(input_rect.y));
    let (x1, y1) = (sx(input_rect.x + width), sy(input_rect.y + height));
    Placement {
        input: input_rect,
        mask: Rect {
            x: x0,
            y: y0,
            width: (x1 - x0).max(1),
            height: (y1 - y0).max(1),
        },
    }
}

impl Placement {
    /// Copies the frame's part of a full model `output` (row width `output_width`) into `mask`.
    pub fn crop(&self, output: &[u8], output_width: usize, mask: &mut [u8]) {
        let r = self.mask;
        for (y, row) in mask.chunks_exact_mut(r.width).take(r.height).enumerate() {
            let start = (r.y + y) * output_width + r.x;
            row.copy_from_slice(&output[start..start + r.width]);
        }
    }

    /// The reverse of [`Placement::crop`]: copies `mask` back into its part of a full model
    /// `output` (row width `output_width`); the rest of `output` stays as it is.
    pub fn uncrop(&self, mask: &[u8], output_width: usize, output: &mut [u8]) {
        let r = self.mask;
        for (y, row) in mask.chunks_exact(r.width).take(r.height).enumerate() {
            let start = (r.y + y) * output_width + r.x;
            output[start..start + r.width].copy_from_slice(row);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rect(x: usize, y: usize, width: usize, height: usize) -> Rect {
        Rect {
            x,
            y,
            width,
            height,
        }
    }

    #[test]
    fn pad_keeps_the_aspect_and_centres_the_frame() {
        // 16:9 in the landscape model: all of it, nothing padded.
        let p = place(Fit::Pad, (1280, 720), (256, 144), (256, 144));
        assert_eq!(p.input, rect(0, 0, 256, 144));
        assert_eq!(p.mask, p.input);
        // 4:3 in the landscape model: 192x144, 32 columns of padding each side.
        let p = place(Fit::Pad, (640, 480), (256, 144), (256, 144));
        assert_eq!(p.input, rect(32, 0, 192, 144));
        // 16:9 in the general model: 256x144, 56 rows each side.
        let p = place(Fit::Pad, (1280, 720), (256, 256), (256, 256));
        assert_eq!(p.input, rect(0, 56, 256, 144));
        // Square in the landscape model.
        let p = place(Fit::Pad, (720, 720), (256, 144), (256, 144));
        assert_eq!(p.input, rect(56, 0, 144, 144));
        // An output half the input's size: the same part, halved.
        let p = place(Fit::Pad, (640, 480), (256, 144), (128, 72));
        assert_eq!(p.mask, rect(16, 0, 96, 72));
    }

    #[test]
    fn stretch_uses_everything() {
        let p = place(Fit::Stretch, (640, 480), (256, 144), (256, 144));
        assert_eq!(p.input, rect(0, 0, 256, 144));
        assert_eq!(p.mask, rect(0, 0, 256, 144));
    }

    #[test]
    fn odd_shapes_stay_inside_the_input() {
        for frame in [(2, 4096), (4096, 2), (642, 480), (1000, 998)] {
            for input in [(256, 144), (256, 256), (9, 8), (8, 9)] {
                let p = place(Fit::Pad, frame, input, input);
                let r = p.input;
                assert!(
                    r.x + r.width <= input.0 && r.y + r.height <= input.1,
                    "{frame:?} {input:?}: {r:?}"
                );
                assert!(r.width >= 1 && r.height >= 1 && r.x.is_multiple_of(2));
            }
        }
    }

    #[test]
    fn crop_takes_the_frames_part() {
        let output: Vec<u8> = (0..24).collect(); // 6x4
        let p = Placement {
            input: rect(2, 1, 2, 2),
            mask: rect(2, 1, 2, 2),
        };
        let mut mask = vec![0; 4];
        p.crop(&output, 6, &mut mask);
        assert_eq!(mask, [8, 9, 14, 15]);
        // And back: only the frame's part changes.
        let mut back = output.clone();
        p.uncrop(&[100, 101, 102, 103], 6, &mut back);
        let changed: Vec<usize> = (0..24).filter(|&i| back[i] != output[i]).collect();
        assert_eq!(changed, [8, 9, 14, 15]);
        assert_eq!([back[8], back[9], back[14], back[15]], [100, 101, 102, 103]);
    }
}
