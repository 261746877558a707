//! Test helper for `systest/tests/ring_processes.rs`: takes a loan on the newest frame of an
//! existing ring (written by `ring_writer`) and keeps it, checking all the while that the
//! frame stays intact. Prints `holding SEQ` once it holds the loan, `intact SEQ` once the
//! writer has published `AFTER` more frames with the frame unchanged, then keeps the loan until
//! killed. Exits 1 with `TORN SEQ` if the frame ever changes.
//!
//! Usage: ring_reader RING_NAME AFTER

use std::io::Write;
use viba_common::ring::{Ring, RingKind};
use viba_systest::ring_pattern::check_pattern;

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(name), Some(after)) = (args.next(), args.next()) else {
        panic!("usage: ring_reader RING_NAME AFTER");
    };
    let after: u64 = after.parse().expect("AFTER is a number");
    let ring = Ring::open(&name, RingKind::Frames).expect("open ring");
    let say = |line: String| {
        let mut out = std::io::stdout().lock();
        writeln!(out, "{line}")
            .and_then(|()| out.flush())
            .expect("stdout");
    };
    loop {
        let held = ring.read_newest(|payload, meta| {
            say(format!("holding {}", meta.seq));
            let mut reported = false;
            loop {
                if !check_pattern(meta.seq, payload) {
                    say(format!("TORN {}", meta.seq));
                    std::process::exit(1);
                }
                if !reported && ring.published_seq() >= meta.seq + after {
                    say(format!("intact {}", meta.seq));
                    reported = true;
                }
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
        });
        if held.is_none() {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
    }
}
