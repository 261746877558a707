//! viba's system tests (`systest/tests/`, one file per topic) and what they share: they start
//! the real binaries (built by `cargo build --workspace --bins` into the same folder as the
//! test binaries' parent), with real processes, shared memory, ONNX Runtime and the model;
//! the V4L2 ones run in the QEMU guest (`scripts/vm-test.sh`).
#![deny(missing_docs)]

pub mod ring_pattern;
pub mod testing;
pub mod vm;
