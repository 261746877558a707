//! Property tests ("fuzzing" bounded by a number of cases, not by time) of the parsers here that
//! take what a user hands in: the Y4M frame walk. Whatever the input, it answers with a value or
//! an error, never a panic; and what it accepts lies within the file.

use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn any_bytes_as_y4m_frames_are_counted_or_refused(
        bytes in prop::collection::vec(
            prop_oneof![Just(b'F'), Just(b'R'), Just(b'A'), Just(b'M'), Just(b'E'), Just(b'\n'), any::<u8>()],
            0..400
        ),
        frame_bytes in 0u64..64,
    ) {
        let len = bytes.len() as u64;
        if let Ok(f) = viba_media::y4m::walk(&mut std::io::Cursor::new(&bytes), 0, frame_bytes, len) {
            prop_assert!(f.end <= len);
            prop_assert!(f.count * frame_bytes <= f.end);
        }
    }
}
