//! viba-capture: reads frames from a source and publishes them, newest first, into the
//! instance's frame ring (YUYV, with sequence numbers and CLOCK_MONOTONIC capture times).
//!
//! Sources: a generated pattern, a still image (optionally moving), a video file (Y4M read
//! natively, other formats decoded by an `ffmpeg` child process), a V4L2 camera (YUYV or
//! MJPEG; reopened whenever it goes away).
#![deny(missing_docs)]

pub mod pacing;
pub mod source;

use anyhow::Context;
use source::Fill;
use std::sync::atomic::Ordering;
use std::time::Duration;
use viba_common::clock::monotonic_ns;
use viba_common::config::{Config, Pace};
use viba_common::ring::{Ring, RingKind, WriteMeta};
use viba_common::shutdown;
use viba_common::stage::Stage;
use viba_common::stats::Stats;

/// Opens the rings and the source, then publishes frames until stopped.
pub fn run(config: &Config) -> anyhow::Result<()> {
    let mut source = source::open_running(config)?;
    let ring = Ring::open_sized(
        &config.segment(viba_common::names::Segment::Frames),
        RingKind::Frames,
        config.frame_size().0,
        config.frame_size().1,
    )?;
    let stats = Stats::open(&config.segment(viba_common::names::Segment::Stats))?;
    let stage = stats.stage(Stage::Capture);
    let mut writer = ring.writer()?;
    stage.begin(monotonic_ns());
    let period = Duration::from_secs_f64(1.0 / config.input.fps as f64);
    // A camera paces itself; file and synthetic sources are paced here.
    let paced = config.input.pace == Pace::Realtime && !source.paced_by_itself();
    let mut pacer = pacing::Pacer::new(period, paced);
    let mut reporter =
        viba_common::debug::Reporter::new("viba-capture", viba_common::debug::Kind::Capture);
    let mut reloads = shutdown::hup_count();
    let result: anyhow::Result<()> = loop {
        if shutdown::requested() || ring.is_closed() {
            break Ok(());
        }
        if shutdown::hup_count() != reloads {
            // The config changed while running: of what capture reads, only `debug` applies
            // without a restart (the supervisor restarts capture for the rest).
            reloads = shutdown::hup_count();
            match viba_common::worker::reload() {
                Ok(c) => viba_common::debug::set("viba-capture", c.debug),
                Err(e) => eprintln!("viba-capture: not reloaded: {e}"),
            }
        }
        reporter.tick(stage, monotonic_ns(), "");
        if stats.pipeline().idle() {
            // No application watches the fake camera: nothing to capture until one does.
            source.release();
            stage.set_camera_mode(None);
            // The compositor's wake and a signal end the wait at once; the timeout bounds the
            // delay of a signal that lands just before the wait (1 s: well inside the
            // supervisor's 3 s stop grace) and notices a ring closed with nobody signalling.
            while stats.pipeline().wait_while_idle(Duration::from_secs(1))
                && !shutdown::requested()
                && !ring.is_closed()
            {
                stage.heartbeat(monotonic_ns());
            }
            continue;
        }
        pacer.wait();
        let started_ns = monotonic_ns();
        let fill = source.advance().with_context(|| source.describe())?;
        if let Some((mode, sent)) = source.camera_state() {
            // For `ctl status`: the mode and the camera's own rate.
            stage.set_camera_mode(mode.as_ref());
            stage.camera_frames.store(sent, Ordering::Relaxed);
        }
        match fill {
            Fill::Frame => {}
            // Back to the top: shutdown and a closed ring are checked at least every ~500 ms.
            Fill::Nothing => {
                stage.heartbeat(monotonic_ns());
                continue;
            }
            Fill::EndOfStream => {
                writer.set_end_of_stream();
                eprintln!("viba-capture: end of {}", source.describe());
                break Ok(());
            }
        }
        let timestamp_ns = source.timestamp_ns().unwrap_or(started_ns);
        let written = writer.write(
            WriteMeta {
                timestamp_ns,
                source_seq: 0,
            },
            |buf| {
                source.copy_to(buf);
                buf.len()
            },
        );
        let now = monotonic_ns();
        match written {
            Some(seq) => stage.record(seq, now - timestamp_ns, 0, now),
            None => stage.record_ring_full(now),
        }
    };
    stage.end();
    result
}
