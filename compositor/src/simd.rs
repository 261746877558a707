//! The hot paths compiled twice: for the baseline x86-64 (SSE2) that every build targets, and
//! for AVX2 and FMA, chosen at run time where the CPU has them (as `fast_image_resize` does
//! for its own loops). The loops are plain Rust written so the compiler vectorises them; with
//! twice as wide registers they run up to twice as fast. Floating-point results are the same
//! either way: Rust never fuses a multiply and an add on its own.
//!
//! The entry points, [`crate::matte::Matte::prepare`], [`crate::blur::Blur::make`] and
//! [`crate::blend::Blender::composite`], each have a `_wide` twin with
//! `#[target_feature(enable = "avx2,fma")]`; the functions they call on the hot path are
//! `#[inline(always)]`, so that they are compiled into each twin. Each object decides once,
//! when made; `narrow()` on it forces the baseline (for the test that both give the same
//! bytes).

pub use viba_common::simd::{to_u8, wide};
