//! viba-supervisor: creates the shared-memory rings of an instance, starts the capture,
//! segmenter and compositor processes pinned to their CPU sets, restarts crashed ones (at once
//! when they had started, with backoff when they die while starting), answers control commands
//! on a Unix socket ([`serve`], off the event loop), and removes everything on exit.
//!
//! The lifecycle of each stage is the pure state machine in [`state`]; [`run`] carries out its
//! actions with real processes.

#![deny(missing_docs)]

pub mod bench;
pub mod checks;
pub mod control;
pub mod devices;
pub mod doctor;
pub mod init;
pub mod json_patch;
pub mod quality;
pub mod run;
pub mod serve;
pub mod signals;
pub mod spawn;
pub mod state;
