//! Test helper for `systest/tests/ring_processes.rs`: writes checksummed frames into an existing ring
//! as fast as it can, forever (until killed). Frame `seq` holds `pattern(seq)`.
//!
//! Usage: ring_writer RING_NAME

use viba_common::ring::{Ring, RingKind, WriteMeta};

fn main() {
    let name = std::env::args()
        .nth(1)
        .expect("usage: ring_writer RING_NAME");
    let ring = Ring::open(&name, RingKind::Frames).expect("open ring");
    let mut writer = ring.writer().expect("writer role");
    loop {
        let seq = writer.next_seq();
        writer.write(
            WriteMeta {
                timestamp_ns: seq,
                source_seq: 0,
            },
            |buf| {
                viba_systest::ring_pattern::test_pattern(seq, buf);
                buf.len()
            },
        );
    }
}
