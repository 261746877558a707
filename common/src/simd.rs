//! Whether this CPU runs the hot loops' AVX2 twins. The compositor and the segmenter compile
//! their per-pixel and per-cell loops twice: for the baseline x86-64 (SSE2) every build targets,
//! and inside a `#[target_feature(enable = "avx2,fma")]` function, chosen at run time with
//! [`wide`]. The loops are plain Rust that the compiler vectorises; with registers twice as
//! wide they run up to twice as fast, and give the same numbers (Rust never fuses a multiply
//! and an add on its own).

/// Whether this CPU has AVX2 and FMA (the standard library caches the answer).
#[inline]
pub fn wide() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// `x as u8` (saturating at 0 and 255, NaN to 0), written so that a loop of it vectorises:
/// Rust's saturating float-to-byte cast became one scalar conversion and a byte insert per
/// value in the per-cell loops. The same byte for every `x` (the test below).
#[inline(always)]
// Not `clamp`: it passes NaN through, which the conversion below must never see.
#[allow(clippy::manual_clamp)]
pub fn to_u8(x: f32) -> u8 {
    // `max` takes 0 for NaN, so the value is a number from 0 to 255.
    let x = x.max(0.0).min(255.0);
    // SAFETY: `x` is finite, not NaN, and within 0..=255, so it truncates to a u8.
    unsafe { x.to_int_unchecked::<u8>() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn to_u8_is_the_cast() {
        let special = [
            f32::NAN,
            f32::INFINITY,
            f32::NEG_INFINITY,
            -0.0,
            0.0,
            -0.5,
            -1e30,
            1e30,
            254.999,
            255.0,
            255.5,
            256.0,
            f32::MIN_POSITIVE,
        ];
        for x in special {
            assert_eq!(to_u8(x), x as u8, "{x}");
        }
        // Floats of every kind (NaNs with payloads, subnormals, both signs, every exponent):
        // every 997th bit pattern.
        for bits in (0..=u32::MAX).step_by(997) {
            let x = f32::from_bits(bits);
            assert_eq!(to_u8(x), x as u8, "{x} ({bits:#x})");
        }
        // Every float from -16 to 272 in steps of 1/64, and just around each byte and half.
        for i in -1024..=17408 {
            let x = i as f32 / 64.0;
            assert_eq!(to_u8(x), x as u8, "{x}");
        }
        for b in 0..=256 {
            for x in [
                b as f32 - 0.5,
                b as f32 + 0.5,
                b as f32 - 1e-4,
                b as f32 + 1e-4,
            ] {
                assert_eq!(to_u8(x), x as u8, "{x}");
            }
        }
    }
}
