//! The checksummed frames the ring tests write and read across processes: a torn or
//! misplaced read shows as a pattern that does not match its sequence number.

/// Fills `buf` with a pattern derived from `seq`, for ring tests: the first 8 bytes hold `seq`,
/// every other byte depends on `seq` and its position. [`check_pattern`] verifies it.
pub fn test_pattern(seq: u64, buf: &mut [u8]) {
    let (head, rest) = buf.split_at_mut(8);
    head.copy_from_slice(&seq.to_le_bytes());
    let mix = (seq.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 56) as u8;
    for (i, b) in rest.iter_mut().enumerate() {
        *b = (i as u8).wrapping_mul(31).wrapping_add(mix);
    }
}

/// Whether `buf` holds exactly `test_pattern(seq)`.
pub fn check_pattern(seq: u64, buf: &[u8]) -> bool {
    if buf.len() < 8 || buf[..8] != seq.to_le_bytes() {
        return false;
    }
    let mix = (seq.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 56) as u8;
    buf[8..]
        .iter()
        .enumerate()
        .all(|(i, &b)| b == (i as u8).wrapping_mul(31).wrapping_add(mix))
}
