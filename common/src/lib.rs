//! Pieces shared by every viba process: no device, file format or codec code (those are in
//! `viba-media`, which the segmenter does not use).
//!
//! - [`ring`]: single-writer, many-reader shared-memory rings; readers take a loan on the newest
//!   complete slot (the writer leaves slots on loan alone) and wait on a futex wake-up word.
//! - [`stats`]: a shared-memory block with the pipeline's shared words (idle, paused, consumers)
//!   and the counters each stage publishes for `ctl status` and the benchmark.
//! - [`stage`]: the three worker stages.
//! - [`config`]: `viba.json`, parsed with unknown keys rejected and validated with key paths.
//! - [`camera_mode`]: which format, size and rate to ask a camera for (the camera's list of modes
//!   comes from `viba_media::camera_modes`).
//! - [`yuv`]: the YUYV (4:2:2) helpers used by capture, segmenter and compositor.
//! - [`simd`]: whether the CPU runs the compositor's and the segmenter's AVX2 loops.
//! - [`exit`]: the one way every viba program ends on an error (`<program>: <message>`, and
//!   exit code 2 for the user's mistakes, 1 otherwise).
//!
//! ```no_run
//! use viba_common::ring::{Ring, RingKind};
//! let ring = Ring::open("/viba-1000-default-frames", RingKind::Frames).unwrap();
//! if let Some((bytes, meta)) = ring.read_newest(|payload, _meta| payload.len()) {
//!     println!("newest frame {} has {} bytes", meta.seq, bytes);
//! }
//! ```
#![deny(missing_docs)]

pub mod camera_mode;
pub mod check;
pub mod clock;
pub mod config;
pub mod debug;
pub mod exit;
pub mod futex;
pub mod names;
pub mod procfs;
pub mod ring;
pub mod shm;
pub mod shutdown;
pub mod simd;
pub mod stage;
pub mod stats;
pub mod worker;
pub mod yuv;
