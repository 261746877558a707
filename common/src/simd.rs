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
