//! Person over background, in YUYV.

use crate::alpha::Upsampler;

/// `(b * (255 - a) + f * a) / 255`, rounded; exact at a = 0 and a = 255.
#[inline(always)]
fn mix(b: u8, f: u8, a: u8) -> u8 {
    let a = a as u32;
    let x = b as u32 * (255 - a) + f as u32 * a + 127;
    ((x + 1 + (x >> 8)) >> 8) as u8
}

/// Reusable row buffers.
pub struct Blender {
    alpha: Vec<u8>,
    per_byte: Vec<u8>,
}

impl Blender {
    pub fn new(width: usize) -> Blender {
        Blender {
            alpha: vec![0; width],
            per_byte: vec![0; width * 2],
        }
    }

    /// Writes `frame` over `background` into `out` with the alpha the upsampler produces;
    /// all three are YUYV of `width` x `height`. Chroma (shared by two pixels) uses the mean
    /// of their alphas.
    pub fn composite(
        &mut self,
        frame: &[u8],
        background: &[u8],
        up: &Upsampler,
        (width, height): (usize, usize),
        out: &mut [u8],
    ) {
        let stride = width * 2;
        for y in 0..height {
            up.row(y, &mut self.alpha);
            for (q, a) in self
                .per_byte
                .chunks_exact_mut(4)
                .zip(self.alpha.chunks_exact(2))
            {
                let chroma = (a[0] as u16 + a[1] as u16).div_ceil(2) as u8;
                q[0] = a[0];
                q[1] = chroma;
                q[2] = a[1];
                q[3] = chroma;
            }
            let range = y * stride..(y + 1) * stride;
            blend_row(
                &frame[range.clone()],
                &background[range.clone()],
                &self.per_byte,
                &mut out[range],
            );
        }
    }
}

/// One row, byte by byte (written so the compiler vectorises it).
fn blend_row(frame: &[u8], background: &[u8], alpha: &[u8], out: &mut [u8]) {
    for (((o, &f), &b), &a) in out.iter_mut().zip(frame).zip(background).zip(alpha) {
        *o = mix(b, f, a);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mix_is_exact_at_the_ends_and_rounds_in_between() {
        for b in 0..=255u8 {
            for f in (0..=255u8).step_by(5) {
                assert_eq!(mix(b, f, 0), b);
                assert_eq!(mix(b, f, 255), f);
                for a in [1u8, 64, 128, 200, 254] {
                    let want = (b as f64 * (255 - a) as f64 + f as f64 * a as f64) / 255.0;
                    assert!((mix(b, f, a) as f64 - want).abs() <= 0.51, "{b} {f} {a}");
                }
            }
        }
    }
}
