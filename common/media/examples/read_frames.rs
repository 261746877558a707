//! viba as a library: a fourth process beside a running pipeline, reading its camera frames
//! and masks from shared memory as the segmenter and compositor do (always the newest; the
//! pipeline never waits for a reader).
//!
//! ```sh
//! viba-supervisor --config viba.json &
//! cargo run -p viba-media --example read_frames -- viba.json 30 newest.png
//! ```
//!
//! Prints a line per new frame (sequence number, age, the newest mask's frame and its share
//! of person) until COUNT frames (default 30) have been read, then writes the last frame as
//! a PNG when asked. Stops early when the pipeline stops. While the fake camera is unused
//! and `output.idle_when_unused` is on, the pipeline idles and no frames come.

use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;
use viba_common::clock::monotonic_ns;
use viba_common::config;
use viba_common::names::Segment;
use viba_common::ring::{Ring, RingKind};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let count = match args.get(1).map(|c| c.parse::<u64>()) {
        None => Ok(30),
        Some(Ok(n)) if n > 0 => Ok(n),
        Some(_) => Err(()),
    };
    let (Some(path), Ok(count), true) = (args.first(), count, args.len() <= 3) else {
        eprintln!("usage: read_frames VIBA.JSON [COUNT > 0] [LAST_FRAME.png]");
        return ExitCode::from(2);
    };
    match read(Path::new(path), count, args.get(2).map(Path::new)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("read_frames: {e}");
            ExitCode::from(2)
        }
    }
}

fn read(config_path: &Path, count: u64, png: Option<&Path>) -> anyhow::Result<()> {
    let config = config::load(config_path)?;
    let open = |what: Segment, kind| {
        Ring::open(&config.segment(what), kind).map_err(|e| {
            anyhow::anyhow!(
                "instance {:?}: {e} (is it running? viba-supervisor --config {})",
                config.instance,
                config_path.display()
            )
        })
    };
    let frames = open(Segment::Frames, RingKind::Frames)?;
    let masks = open(Segment::Masks, RingKind::Masks)?;
    let spec = frames.spec();
    let (w, h) = (spec.width as usize, spec.height as usize);
    let mut frame = vec![0u8; w * h * 2];
    let mut last = 0u64;
    let mut read = 0u64;
    while read < count {
        if frames.is_closed() || (frames.end_of_stream() && frames.published_seq() <= last) {
            anyhow::bail!("the pipeline stopped after {read} of {count} frames");
        }
        if frames.wait_newer(last, Duration::from_millis(200)) <= last {
            continue;
        }
        // The closure runs while the slot is held; copy out and let go. A slot overwritten
        // meanwhile is detected and read again, newest first.
        let Some(((), meta)) = frames.read_newest(|payload, meta| {
            if meta.len == frame.len() {
                frame.copy_from_slice(&payload[..meta.len]);
            }
        }) else {
            continue;
        };
        if meta.len != frame.len() {
            continue;
        }
        last = meta.seq;
        read += 1;
        let age_ms = monotonic_ns().saturating_sub(meta.timestamp_ns) as f64 / 1e6;
        let mask = masks.read_newest(|payload, m| {
            let person = payload[..m.len].iter().filter(|&&p| p >= 128).count();
            person as f64 / m.len.max(1) as f64
        });
        match mask {
            Some((share, m)) => println!(
                "frame {} ({w}x{h}, {age_ms:.1} ms old); newest mask from frame {}: {:.1} % person",
                meta.seq,
                m.source_seq,
                share * 100.0
            ),
            None => println!(
                "frame {} ({w}x{h}, {age_ms:.1} ms old); no mask yet",
                meta.seq
            ),
        }
    }
    if let Some(png) = png {
        let mut rgb = vec![0u8; w * h * 3];
        viba_common::yuv::yuyv_to_rgb(&frame, w, h, &mut rgb);
        viba_media::picture::save_png(png, w as u32, h as u32, &rgb).map_err(anyhow::Error::msg)?;
        println!("{}: frame {last}", png.display());
    }
    Ok(())
}
