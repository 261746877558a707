//! Person over background, in YUYV.

use crate::blur::{Blur, BlurredRow};
use crate::matte::Matte;
use std::ops::Range;

/// `(b * (255 - a) + f * a) / 255`, rounded; exact at a = 0 and a = 255. All in 16 bits
/// (the sum is at most 65025 + 128), so the compiler packs 8 or 16 of them per instruction.
#[inline(always)]
fn mix(b: u8, f: u8, a: u8) -> u8 {
    let a = a as u16;
    let t = b as u16 * (255 - a) + f as u16 * a + 128;
    ((t + (t >> 8)) >> 8) as u8
}

/// What the person goes over.
pub enum Behind<'a> {
    /// A picture of the frame's size (YUYV): an image, a video frame.
    Picture(&'a [u8]),
    /// The blurred room, made block by block where it shows.
    Blur(&'a Blur),
}

/// Reusable row buffers.
pub struct Blender {
    per_byte: Vec<u8>,
    /// Use the AVX2 build of the hot path ([`crate::simd`]).
    wide: bool,
}

impl Blender {
    /// For frames `width` pixels wide.
    pub fn new(width: usize) -> Blender {
        Blender {
            per_byte: vec![0; width * 2],
            wide: crate::simd::wide(),
        }
    }

    /// The same blender on the baseline build of the hot path ([`crate::simd`]).
    pub fn narrow(mut self) -> Blender {
        self.wide = false;
        self
    }

    /// Writes `frame` over `background` into `out` with the alpha the matte produces; all
    /// are YUYV of `width` x `height`. Chroma (shared by two pixels) uses the mean of their
    /// alphas.
    pub fn composite(
        &mut self,
        frame: &[u8],
        background: Behind,
        matte: &mut Matte,
        (width, height): (usize, usize),
        out: &mut [u8],
    ) {
        #[cfg(target_arch = "x86_64")]
        if self.wide {
            // SAFETY: `wide` is set only where the CPU has AVX2 and FMA (`simd::wide`).
            return unsafe { self.composite_wide(frame, background, matte, (width, height), out) };
        }
        self.composite_body(frame, background, matte, (width, height), out)
    }

    /// [`Blender::composite`] compiled for AVX2 and FMA ([`crate::simd`]).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn composite_wide(
        &mut self,
        frame: &[u8],
        background: Behind,
        matte: &mut Matte,
        size: (usize, usize),
        out: &mut [u8],
    ) {
        self.composite_body(frame, background, matte, size, out)
    }

    #[inline(always)]
    fn composite_body(
        &mut self,
        frame: &[u8],
        background: Behind,
        matte: &mut Matte,
        (width, height): (usize, usize),
        out: &mut [u8],
    ) {
        let stride = width * 2;
        for y in 0..height {
            let range = y * stride..(y + 1) * stride;
            matte.row(y, &mut self.per_byte);
            let (frame, out) = (&frame[range.clone()], &mut out[range.clone()]);
            match background {
                Behind::Picture(p) => blend_row(frame, &Picture(&p[range]), &self.per_byte, out),
                Behind::Blur(blur) => blend_row(frame, &blur.row_of(y), &self.per_byte, out),
            }
        }
    }
}

/// A background row as [`blend_row`] reads it: block by block, and only the blocks it shows.
trait RowSource {
    /// The background's bytes `at` of the row into `out`.
    fn copy(&self, at: Range<usize>, out: &mut [u8]);
    /// `frame` over the background's bytes `at` with `alpha`, into `out`.
    fn blend(&self, at: Range<usize>, frame: &[u8], alpha: &[u8], out: &mut [u8]);
}

/// A row of a picture.
struct Picture<'a>(&'a [u8]);

impl RowSource for Picture<'_> {
    #[inline(always)]
    fn copy(&self, at: Range<usize>, out: &mut [u8]) {
        copy_block(&self.0[at], out);
    }

    #[inline(always)]
    fn blend(&self, at: Range<usize>, frame: &[u8], alpha: &[u8], out: &mut [u8]) {
        blend_block(frame, &self.0[at], alpha, out);
    }
}

/// A row of the blurred room, made only where it shows: not under blocks the person covers
/// whole.
impl RowSource for BlurredRow<'_> {
    #[inline(always)]
    fn copy(&self, at: Range<usize>, out: &mut [u8]) {
        self.part(at, out);
    }

    #[inline(always)]
    fn blend(&self, at: Range<usize>, frame: &[u8], alpha: &[u8], out: &mut [u8]) {
        let mut behind = [0u8; BLOCK];
        let behind = &mut behind[..at.len()];
        self.part(at, behind);
        blend_block(frame, behind, alpha, out);
    }
}

/// Bytes per block in [`blend_row`]: whole blocks of alpha 0 or 255 are plain copies.
pub(crate) const BLOCK: usize = 64;

/// One row, byte by byte (written so the compiler vectorises it). Blocks entirely outside the
/// person are copied from the background, blocks entirely inside from the frame (the
/// background is not read there).
#[inline(always)]
fn blend_row(frame: &[u8], background: &impl RowSource, alpha: &[u8], out: &mut [u8]) {
    let n = out.len();
    let (frame, alpha) = (&frame[..n], &alpha[..n]);
    let mut start = 0;
    while start < n {
        let end = (start + BLOCK).min(n);
        let a = &alpha[start..end];
        let o = &mut out[start..end];
        let (none, all) = plain(a);
        if none {
            background.copy(start..end, o);
        } else if all {
            copy_block(&frame[start..end], o);
        } else {
            background.blend(start..end, &frame[start..end], a, o);
        }
        start = end;
    }
}

/// Whether a block's alpha is all 0, and whether it is all 255: a whole block read as eight
/// 64-bit words (as a fold over a slice of unknown length the compiler went through it 8
/// bytes per step), the row's last, shorter one byte by byte.
#[inline(always)]
fn plain(a: &[u8]) -> (bool, bool) {
    match <&[u8; BLOCK]>::try_from(a) {
        Ok(a) => {
            let (mut or, mut and) = (0u64, u64::MAX);
            for word in a.chunks_exact(8) {
                let word = u64::from_ne_bytes(word.try_into().expect("8 bytes"));
                (or, and) = (or | word, and & word);
            }
            (or == 0, and == u64::MAX)
        }
        Err(_) => (a.iter().all(|&v| v == 0), a.iter().all(|&v| v == 255)),
    }
}

/// Copies a block: a whole one as a fixed-size array, which compiles to a few vector moves
/// (a slice copy of unknown length is a call to `memcpy` per block, which cost more than the
/// copy itself), the row's last, shorter one as a slice.
#[inline(always)]
fn copy_block(from: &[u8], to: &mut [u8]) {
    match (
        <&[u8; BLOCK]>::try_from(from),
        <&mut [u8; BLOCK]>::try_from(&mut *to),
    ) {
        (Ok(from), Ok(to)) => *to = *from,
        _ => to.copy_from_slice(from),
    }
}

/// Blends a block; 16 bytes at a time as fixed-size arrays, which the compiler turns into
/// vector instructions, then the tail.
#[inline(always)]
fn blend_block(frame: &[u8], background: &[u8], alpha: &[u8], out: &mut [u8]) {
    let mut o16 = out.chunks_exact_mut(16);
    let mut f16 = frame.chunks_exact(16);
    let mut b16 = background.chunks_exact(16);
    let mut a16 = alpha.chunks_exact(16);
    for (((o, f), b), a) in (&mut o16).zip(&mut f16).zip(&mut b16).zip(&mut a16) {
        let f: &[u8; 16] = f.try_into().expect("16 bytes");
        let b: &[u8; 16] = b.try_into().expect("16 bytes");
        let a: &[u8; 16] = a.try_into().expect("16 bytes");
        let mut r = [0u8; 16];
        for i in 0..16 {
            r[i] = mix(b[i], f[i], a[i]);
        }
        o.copy_from_slice(&r);
    }
    let tail = o16.into_remainder();
    let (f, b, a) = (f16.remainder(), b16.remainder(), a16.remainder());
    for (((o, &f), &b), &a) in tail.iter_mut().zip(f).zip(b).zip(a) {
        *o = mix(b, f, a);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_block_is_plain_only_when_every_byte_is() {
        for len in [BLOCK, BLOCK - 1, 5] {
            assert_eq!(plain(&vec![0; len]), (true, false), "{len}");
            assert_eq!(plain(&vec![255; len]), (false, true), "{len}");
            for at in 0..len {
                for v in [1u8, 128, 254] {
                    let mut a = vec![0u8; len];
                    a[at] = v;
                    assert_eq!(plain(&a), (false, false), "{len} {at} {v}");
                    a.fill(255);
                    a[at] = v;
                    assert_eq!(plain(&a), (false, false), "{len} {at} {v}");
                }
                let mut a = vec![0u8; len];
                a[at] = 255;
                assert_eq!(plain(&a), (false, len == 1), "{len} {at}");
            }
        }
    }

    #[test]
    fn a_blurred_room_made_in_blocks_blends_as_its_whole_row_does() {
        // 200 pixels: six whole blocks and a shorter last one per row.
        let (w, h) = (200usize, 12usize);
        let mut random = crate::test_bytes::random_bytes(7);
        let blur = crate::blur::test_blur(&mut random, 8);
        let frame: Vec<u8> = (0..2 * w).map(|_| random()).collect();
        let mut whole = vec![0u8; 2 * w];
        for y in 0..h {
            // Blocks of plain room, plain person and edge, the last one short.
            let alpha: Vec<u8> = (0..2 * w)
                .map(|i| match (i / BLOCK + y) % 3 {
                    0 => 0,
                    1 => 255,
                    _ => random(),
                })
                .collect();
            blur.row(y, &mut whole);
            let (mut want, mut got) = (vec![0u8; 2 * w], vec![0u8; 2 * w]);
            blend_row(&frame, &Picture(&whole), &alpha, &mut want);
            blend_row(&frame, &blur.row_of(y), &alpha, &mut got);
            assert_eq!(got, want, "row {y}");
            // And where the person covers a block, the frame is shown, not the room.
            for (i, &a) in alpha.iter().enumerate() {
                if a == 255 {
                    assert_eq!(got[i], frame[i]);
                }
            }
        }
    }

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
