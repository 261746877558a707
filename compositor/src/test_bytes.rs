//! Test inputs: a repeatable stream of pseudo-random bytes (a linear congruential generator),
//! so every test that wants varied input gets the same input on every run.

/// Bytes from `seed`: the high byte of each step of `next * 1103515245 + 12345`.
pub fn random_bytes(seed: u32) -> impl FnMut() -> u8 {
    let mut next = seed;
    move || {
        next = next.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        (next >> 16) as u8
    }
}
