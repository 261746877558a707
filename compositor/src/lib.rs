//! viba-compositor: for every new frame, takes the newest mask, upsamples it, cuts the person
//! out with a soft edge and puts them over the background, then sends the result to the sink
//! at a steady rate.
//!
//! Privacy fail-safe: with no mask yet, or a newest mask computed from a frame older than
//! `compositor.max_mask_age_ms` before the frame being shown, the output is the background
//! alone, never the unmasked camera frame.
#![deny(missing_docs)]

pub mod alpha;
pub mod background;
pub mod blend;
pub mod blur;
pub mod demand;
pub mod feather;
pub mod half;
pub mod matte;
pub mod refine;
mod scene;
pub mod simd;
pub mod sink;
pub mod soft_edge;
#[cfg(test)]
mod test_bytes;
pub mod video;
pub mod writable;

pub use scene::Scene;

use demand::Demand;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use viba_common::clock::monotonic_ns;
use viba_common::config::Config;
use viba_common::ring::{Ring, RingKind, SlotMeta};
use viba_common::stage::Stage;
use viba_common::stats::{StageStats, Stats, CONSUMERS_UNTRACKED};
use viba_common::{shutdown, yuv};
use viba_media::picture;

/// After this long without a new camera frame, the output shows the background alone.
pub const CAMERA_GONE_NS: u64 = 500_000_000;

/// Checks what a live change may change can be used: the background, the pause image and
/// the snapshot's file (what `--check-background` does: the supervisor's check of a live
/// change, while the running compositor holds the sink).
pub fn check_background(config: &Config) -> anyhow::Result<()> {
    // The blur works at the mask's size; any size will do to check the fallback loads.
    scene::load_backdrop(config, (16, 9))?;
    load_pause_image(config)?;
    if let Some(path) = &config.output.snapshot {
        writable::check(path, SNAPSHOT_FILE)?;
    }
    Ok(())
}

/// What `output.snapshot` is, for the messages of its check.
const SNAPSHOT_FILE: writable::Wanted = writable::Wanted {
    key: "output.snapshot",
    what: ".png",
    example: "snapshot.png",
};

/// Checks the background, the pause image, the snapshot's file and the sink can be used,
/// without touching the rings.
pub fn check(config: &Config) -> anyhow::Result<()> {
    check_background(config)?;
    sink::check(config)?;
    Ok(())
}

/// `output.pause_image` at the size viba composites at.
fn load_pause_image(config: &Config) -> Result<Option<Vec<u8>>, background::BackgroundError> {
    let Some(path) = &config.output.pause_image else {
        return Ok(None);
    };
    let (w, h) = config.frame_size();
    background::picture("output.pause_image", path, w, h).map(Some)
}

/// Everything the frame loop keeps between frames.
struct Compositor {
    /// The config as last read: picture keys change with SIGHUP.
    config: Config,
    frames: Ring,
    masks: Ring,
    scene: Scene,
    out: Vec<u8>,
    mask: Vec<u8>,
    mask_meta: Option<SlotMeta>,
    /// Frames shown with the background alone since the last debug line, by reason: no mask
    /// yet, the newest mask too old, the camera gone, the newest mask made from a frame of the
    /// capture process before the one now running.
    alone_because: [u64; 4],
    /// `output.pause_image`, at the composite's size, when configured.
    pause_image: Option<Vec<u8>>,
}

impl Compositor {
    /// Reads the config again (after SIGHUP) and applies its picture keys from the next
    /// frame: background, threshold, softness, smoothing, refinement, mirror, mask ages. A
    /// config that cannot be used changes nothing.
    fn reconfigure(&mut self) {
        let config = match viba_common::worker::reload() {
            Ok(c) => c,
            Err(e) => {
                eprintln!("viba-compositor: not reloaded: {e}");
                return;
            }
        };
        let pause_image = match load_pause_image(&config) {
            Ok(image) => image,
            Err(e) => {
                eprintln!("viba-compositor: not reloaded: {e}");
                return;
            }
        };
        if let Err(e) = self.scene.reconfigure(&config) {
            eprintln!("viba-compositor: not reloaded: {e}");
            return;
        }
        self.pause_image = pause_image;
        viba_common::debug::set("viba-compositor", config.debug);
        self.config = config;
        eprintln!("viba-compositor: settings reloaded");
    }

    /// Refreshes the local copy of the newest mask; returns whether it changed.
    fn refresh_mask(&mut self) -> bool {
        let known = self.mask_meta.map_or(0, |m| m.seq);
        if self.masks.published_seq() == known {
            return false;
        }
        let expected = self.mask.len();
        let mask = &mut self.mask;
        match self.masks.read_newest(|payload, meta| {
            if meta.len == expected {
                mask.copy_from_slice(&payload[..expected]);
            }
        }) {
            Some(((), meta)) if meta.len == expected => {
                self.scene.set_mask(&self.mask);
                self.mask_meta = Some(meta);
                true
            }
            _ => false,
        }
    }

    /// Waits (bounded) for the mask of frame `seq` while the segmenter is alive.
    fn wait_for_mask(&mut self, seq: u64, frame_ts: u64) {
        let wait_ns = self.config.compositor.mask_wait_ms as u64 * 1_000_000;
        let max_age_ns = self.config.compositor.max_mask_age_ms as u64 * 1_000_000;
        loop {
            self.refresh_mask();
            let Some(meta) = self.mask_meta else { return };
            let now = monotonic_ns();
            // No waiting for a segmenter that has gone quiet.
            if meta.source_seq >= seq || now.saturating_sub(meta.published_ns) > max_age_ns {
                return;
            }
            let deadline = frame_ts + wait_ns;
            if now >= deadline {
                return;
            }
            self.masks
                .wait_newer(meta.seq, Duration::from_nanos(deadline - now));
        }
    }

    /// Composites the newest frame into `out`. Returns the frame's metadata and whether the
    /// person was shown (false: background alone). `capture_started`: when the capture
    /// process now running began (its stats block's `started_ns`).
    fn composite(&mut self, capture_started: &AtomicU64) -> Option<(SlotMeta, bool)> {
        let max_age_ns = self.config.compositor.max_mask_age_ms as u64 * 1_000_000;
        let mask_meta = self.mask_meta;
        let Compositor {
            frames, scene, out, ..
        } = self;
        let (shown, meta) = frames.read_newest(|frame, meta| {
            // A mask is usable for a frame taken soon after the mask's own frame, by the same
            // capture process: after a restart of capture (another input chosen live, a
            // crash) the last mask outlines the old picture, however recent.
            // (Read after the frame: its slot's acquire makes the new start visible.)
            let this_capture = capture_started.load(Ordering::Relaxed);
            // Why the background alone, if so (the indices of `alone_because`).
            let unusable = match mask_meta {
                None => Some(0),
                Some(m) if m.timestamp_ns < this_capture => Some(3),
                Some(m) if meta.timestamp_ns.saturating_sub(m.timestamp_ns) > max_age_ns => Some(1),
                Some(_) => None,
            };
            match unusable {
                None => (scene.composite(&frame[..meta.len], out), 1),
                Some(why) => {
                    // The next composite must not keep edge alpha from before this gap.
                    scene.show_background(out);
                    (false, why)
                }
            }
        })?;
        let (shown, why) = shown;
        if !shown {
            self.alone_because[why] += 1;
        }
        Some((meta, shown))
    }
}

fn record(
    stage: &StageStats,
    frame: &SlotMeta,
    mask: Option<SlotMeta>,
    fresh: bool,
    shown: bool,
    started: u64,
) {
    use std::sync::atomic::Ordering::Relaxed;
    let now = monotonic_ns();
    if fresh {
        stage.fresh_masks.fetch_add(1, Relaxed);
    }
    if !shown {
        stage.background_only.fetch_add(1, Relaxed);
    }
    if let Some(m) = mask {
        stage
            .mask_age_frames_sum
            .fetch_add(frame.seq.saturating_sub(m.source_seq), Relaxed);
    }
    stage.record(
        frame.seq,
        now - started,
        now.saturating_sub(frame.timestamp_ns),
        now,
    );
}

/// Composites until stopped, the frame limit is reached, or the input ended.
pub fn run(config: &Config) -> anyhow::Result<()> {
    let (w, h) = config.frame_size();

    let frames = Ring::open_sized(
        &config.segment(viba_common::names::Segment::Frames),
        RingKind::Frames,
        w,
        h,
    )?;
    let masks = Ring::open(
        &config.segment(viba_common::names::Segment::Masks),
        RingKind::Masks,
    )?;
    let stats = Stats::open(&config.segment(viba_common::names::Segment::Stats))?;
    let stage = stats.stage(Stage::Compositor);
    // One compositor per instance: a second (run by hand beside the supervisor's) would
    // write the same sink. Checked before the sink is opened (a file sink is truncated).
    if let Some(pid) = stage.held_by_another() {
        anyhow::bail!(
            "instance \"{}\" already has a compositor, pid {pid} (end that one first: viba-supervisor ctl --instance {} stop compositor, or stop the one run by hand)",
            config.instance,
            config.instance
        );
    }
    let mut sink = sink::open(config)?;
    let mask_size = (masks.spec().width as usize, masks.spec().height as usize);
    let size = (w as usize, h as usize);
    let scene = Scene::new(config, mask_size)?;
    let mut c = Compositor {
        config: config.clone(),
        frames,
        masks,
        out: scene.background().to_vec(),
        scene,
        mask: vec![0; mask_size.0 * mask_size.1],
        mask_meta: None,
        alone_because: [0; 4],
        pause_image: load_pause_image(config)?,
    };
    let mut reloads = shutdown::hup_count();
    let mut reporter =
        viba_common::debug::Reporter::new("viba-compositor", viba_common::debug::Kind::Compositor);
    let period_ns = 1_000_000_000 / config.input.fps as u64;
    let max_frames = config.output.max_frames.unwrap_or(u64::MAX);
    // A recording this compositor goes on with (after a restart) counts towards max_frames.
    let mut written = sink.frames_before();
    let mut last_frame_seq = 0u64;
    let mut last_frame_at = monotonic_ns();
    let mut last_mask_used = 0u64;
    let mut last_tag = sink::Tag::default();
    let mut snapshots_taken = shutdown::usr1_count();
    let mut demand = config
        .idles_when_unused()
        .then(|| Demand::new(&config.output.device, monotonic_ns()));
    if demand.is_none() {
        stats.pipeline().set_consumers(CONSUMERS_UNTRACKED);
        stats.pipeline().set_idle(false);
    }
    let mut idle = false;
    // Showing the pause still (`ctl pause`).
    let mut still = false;
    stage.begin(monotonic_ns());
    let result = loop {
        if shutdown::requested() || c.frames.is_closed() || written >= max_frames {
            break Ok(());
        }
        if shutdown::hup_count() != reloads {
            reloads = shutdown::hup_count();
            c.reconfigure();
            // A video background chosen while idling (or paused) waits like the old one.
            c.scene.pause(idle || still);
        }
        let now = monotonic_ns();
        if reporter.due(now) {
            let [none, old, gone, earlier] = c.alone_because;
            let mut extra = match c.scene.refined_share() {
                Some(share) => format!("refined pixels near {:.1} % of the cells", share * 100.0),
                None => String::new(),
            };
            if none + old + gone + earlier > 0 {
                if !extra.is_empty() {
                    extra.push_str(", ");
                }
                extra.push_str(&format!(
                    "background alone: {none} without a mask yet, {old} with the newest mask older than max_mask_age_ms, {gone} with the camera gone, {earlier} with the newest mask from before capture restarted"
                ));
            }
            if reporter.tick(stage, now, &extra) {
                c.alone_because = [0; 4];
            }
        }
        let requested = shutdown::usr1_count();
        if requested != snapshots_taken {
            snapshots_taken = requested;
            snapshot(config, &c.out, size);
        }
        let paused = stats.pipeline().paused();
        if still && !paused {
            still = false;
            stats.pipeline().set_idle(idle);
            c.scene.pause(idle);
            eprintln!("viba-compositor: resumed: live");
            // Frames from before the pause are stale: the background until new ones come.
            last_frame_seq = c.frames.published_seq();
            last_frame_at = monotonic_ns().saturating_sub(CAMERA_GONE_NS + 1);
        }
        if let Some(d) = demand.as_mut() {
            let now = monotonic_ns();
            d.update(now);
            stats.pipeline().set_consumers(d.consumers());
            if !d.wanted(now) {
                if !idle {
                    idle = true;
                    if let Err(e) = go_idle(&mut c, sink.as_mut(), still) {
                        break Err(e.into());
                    }
                    last_tag = sink::Tag::default();
                    eprintln!(
                        "viba-compositor: {}: no application has it open: idle (camera \
                         released) until one opens it",
                        d.device()
                    );
                    stats.pipeline().set_idle(true);
                }
                // An open or close of the device, a due decision and a signal end the wait at
                // once; the timeout bounds the delay of a signal that lands just before it.
                d.wait(now, Duration::from_secs(1));
                stage.heartbeat(monotonic_ns());
                continue;
            }
            // (Also at start: the supervisor creates the pipeline idle.)
            if (idle || stats.pipeline().idle()) && !paused {
                idle = false;
                stats.pipeline().set_idle(false);
                c.scene.pause(false);
                eprintln!(
                    "viba-compositor: {}: an application opened it: running",
                    d.device()
                );
                // Frames from before the pause are stale: the background until new ones come.
                last_frame_seq = c.frames.published_seq();
                last_frame_at = now.saturating_sub(CAMERA_GONE_NS + 1);
            }
        }
        if paused {
            // The still at the output's rate, the camera released, nothing composited.
            if !still {
                still = true;
                idle = false;
                stats.pipeline().set_idle(true);
                c.scene.pause(true);
                c.scene.forget();
                last_tag = sink::Tag::default();
                eprintln!(
                    "viba-compositor: paused: showing {} (camera released)",
                    if c.pause_image.is_some() {
                        "output.pause_image"
                    } else {
                        "the background"
                    }
                );
            }
            let picture = c.pause_image.as_deref().unwrap_or(c.scene.background());
            c.out.copy_from_slice(picture);
            if let Err(e) = send_again(sink.as_mut(), &c.out, last_tag, stage, monotonic_ns()) {
                break Err(e.into());
            }
            written += 1;
            std::thread::sleep(Duration::from_nanos(period_ns));
            continue;
        }
        let newest = c
            .frames
            .wait_newer(last_frame_seq, Duration::from_nanos(period_ns * 3 / 2));
        let started = monotonic_ns();
        c.scene.advance();
        if newest > last_frame_seq {
            let frame_ts = c.frames.read_newest(|_, m| m.timestamp_ns).map(|(t, _)| t);
            if let Some(ts) = frame_ts {
                c.wait_for_mask(newest, ts);
            } else {
                c.refresh_mask();
            }
            let Some((meta, shown)) = c.composite(&stats.stage(Stage::Capture).started_ns) else {
                continue;
            };
            let mask_seq = c.mask_meta.map_or(0, |m| m.seq);
            let fresh = shown && mask_seq != last_mask_used;
            last_mask_used = mask_seq;
            last_frame_seq = meta.seq;
            last_frame_at = started;
            last_tag = sink::Tag {
                frame: meta.seq,
                mask: c.mask_meta.filter(|_| shown).map_or(0, |m| m.source_seq),
            };
            if let Err(e) = sink.write(&c.out, last_tag) {
                break Err(e.into());
            }
            written += 1;
            record(
                stage,
                &meta,
                c.mask_meta.filter(|_| shown),
                fresh,
                shown,
                started,
            );
        } else if c.frames.end_of_stream() && c.frames.published_seq() <= last_frame_seq {
            break Ok(());
        } else {
            // No new frame within a period and a half: keep the stream steady by sending the
            // last composite again, or the background once the camera is gone.
            if started - last_frame_at > CAMERA_GONE_NS {
                c.alone_because[2] += 1;
                c.scene.show_background(&mut c.out);
                last_tag = sink::Tag::default();
            }
            if let Err(e) = send_again(sink.as_mut(), &c.out, last_tag, stage, started) {
                break Err(e.into());
            }
            written += 1;
        }
    };
    snapshot(config, &c.out, size);
    let finished = sink.finish().map_err(anyhow::Error::from);
    stage.end();
    result.and(finished)
}

/// Sends a picture that is not a new composite (the last one again, the background, the
/// pause still): counted with the repeats.
fn send_again(
    sink: &mut dyn sink::Sink,
    picture: &[u8],
    tag: sink::Tag,
    stage: &StageStats,
    now: u64,
) -> Result<(), sink::SinkError> {
    sink.write(picture, tag)?;
    stage
        .repeats
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    stage.heartbeat(now);
    Ok(())
}

/// Fills every buffer of the sink with the background (the pause still, while paused) before
/// idling, so that an application opening the fake camera never sees a composite from before.
fn go_idle(
    c: &mut Compositor,
    sink: &mut dyn sink::Sink,
    paused: bool,
) -> Result<(), sink::SinkError> {
    c.scene.pause(true);
    c.scene.forget();
    let picture = match &c.pause_image {
        Some(image) if paused => image.as_slice(),
        _ => c.scene.background(),
    };
    c.out.copy_from_slice(picture);
    for _ in 0..sink::BUFFERS {
        sink.write(&c.out, sink::Tag::default())?;
    }
    Ok(())
}

/// Writes the composite as a PNG to `output.snapshot`, when configured.
fn snapshot(config: &Config, yuyv: &[u8], (w, h): (usize, usize)) {
    let Some(path) = &config.output.snapshot else {
        return;
    };
    let mut rgb = vec![0u8; w * h * 3];
    yuv::yuyv_to_rgb(yuyv, w, h, &mut rgb);
    if let Some(dir) = path.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    match picture::save_png(path, w as u32, h as u32, &rgb) {
        Ok(()) => eprintln!("viba-compositor: snapshot written to {}", path.display()),
        Err(e) => eprintln!("viba-compositor: output.snapshot: {e}"),
    }
}
