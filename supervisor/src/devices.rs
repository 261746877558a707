//! `viba-supervisor --list-devices`: the V4L2 devices of this machine, cameras with their
//! formats, sizes and rates, v4l2loopback devices marked as such.

use std::path::{Path, PathBuf};
use v4l::capability::Flags;
use v4l::framesize::FrameSizeEnum;
use v4l::video::Capture;
use v4l::Device;
use viba_common::camera_mode::{self, Request};

/// The driver name v4l2loopback reports.
pub const LOOPBACK_DRIVER: &str = "v4l2 loopback";

/// What one device node is.
#[derive(Debug, Clone)]
pub struct DeviceInfo {
    pub path: PathBuf,
    pub driver: String,
    pub card: String,
    pub capture: bool,
    pub output: bool,
}

impl DeviceInfo {
    /// Whether the node belongs to v4l2loopback.
    pub fn is_loopback(&self) -> bool {
        self.driver == LOOPBACK_DRIVER
    }
}

/// `/dev/video*` nodes, in numeric order.
pub fn nodes() -> Vec<PathBuf> {
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/dev")
        .map(|d| {
            d.filter_map(|e| e.ok())
                .filter_map(|e| {
                    let name = e.file_name().to_string_lossy().into_owned();
                    let n = name.strip_prefix("video")?.parse().ok()?;
                    Some((n, e.path()))
                })
                .collect()
        })
        .unwrap_or_default();
    found.sort();
    found.into_iter().map(|(_, p)| p).collect()
}

/// Opens a node and reads its capabilities.
pub fn probe(path: &Path) -> std::io::Result<(Device, DeviceInfo)> {
    let (dev, caps) = viba_common::v4l2io::open_node(&path.to_string_lossy(), "")
        .map_err(std::io::Error::other)?;
    let info = DeviceInfo {
        path: path.to_owned(),
        driver: caps.driver,
        card: caps.card,
        capture: caps.capabilities.contains(Flags::VIDEO_CAPTURE),
        output: caps.capabilities.contains(Flags::VIDEO_OUTPUT),
    };
    Ok((dev, info))
}

/// Formats, sizes and frame rates of a capture device, one line per format and size.
pub fn describe_modes(dev: &Device) -> Vec<String> {
    let mut lines = Vec::new();
    let Ok(formats) = Capture::enum_formats(dev) else {
        return lines;
    };
    for format in formats {
        let sizes = Capture::enum_framesizes(dev, format.fourcc).unwrap_or_default();
        let mut discrete = Vec::new();
        for size in &sizes {
            match &size.size {
                FrameSizeEnum::Discrete(d) => discrete.push((d.width, d.height)),
                FrameSizeEnum::Stepwise(s) => lines.push(format!(
                    "    {} ({}): {}x{} to {}x{}",
                    format.fourcc,
                    format.description,
                    s.min_width,
                    s.min_height,
                    s.max_width,
                    s.max_height
                )),
            }
        }
        for (w, h) in discrete {
            let rates: Vec<String> = Capture::enum_frameintervals(dev, format.fourcc, w, h)
                .unwrap_or_default()
                .iter()
                .filter_map(|i| match &i.interval {
                    v4l::frameinterval::FrameIntervalEnum::Discrete(f) if f.numerator > 0 => {
                        Some(format!("{}", f.denominator as f64 / f.numerator as f64))
                    }
                    _ => None,
                })
                .collect();
            lines.push(format!(
                "    {} ({}): {w}x{h} @ {} fps",
                format.fourcc,
                format.description,
                if rates.is_empty() {
                    "?".into()
                } else {
                    rates.join("/")
                }
            ));
        }
    }
    lines
}

/// The camera request of a config's `input` (the defaults without a config).
pub fn request_of(input: &viba_common::config::Input) -> Request {
    Request {
        format: input.format,
        width: input.width,
        height: input.height,
        fps: input.fps,
        prefer: input.prefer,
    }
}

/// The line saying which mode viba takes from a camera for `request`.
fn chosen_mode(dev: &Device, request: &Request) -> String {
    let choice = camera_mode::enumerate(dev, request)
        .ok()
        .and_then(|modes| camera_mode::choose(&modes, request));
    match choice {
        Some(c) => format!("    viba takes: {}", c.describe(request)),
        None => "    viba takes: nothing: no YUYV or MJPEG mode (input.format)".into(),
    }
}

/// The report printed by `--list-devices`: with `input` (a config's), the mode viba takes
/// from each camera is the one that config asks for, else the default one's.
pub fn report(input: Option<&viba_common::config::Input>) -> String {
    let request = request_of(input.unwrap_or(&viba_common::config::Input::default()));
    let nodes = nodes();
    if nodes.is_empty() {
        return "no V4L2 devices (/dev/video*) on this machine; plug in a webcam, and load v4l2loopback for the output (see README.md)\n".into();
    }
    let mut out = String::new();
    for path in nodes {
        match probe(&path) {
            Ok((_, info)) if info.is_loopback() => out.push_str(&format!(
                "{}: {} [v4l2loopback: viba's output can go here]\n",
                path.display(),
                info.card
            )),
            Ok((dev, info)) if info.capture => {
                out.push_str(&format!(
                    "{}: {} ({}) camera\n",
                    path.display(),
                    info.card,
                    info.driver
                ));
                for line in describe_modes(&dev) {
                    out.push_str(&line);
                    out.push('\n');
                }
                out.push_str(&chosen_mode(&dev, &request));
                out.push('\n');
            }
            Ok((_, info)) => out.push_str(&format!(
                "{}: {} ({}) not a camera\n",
                path.display(),
                info.card,
                info.driver
            )),
            Err(e) => out.push_str(&format!("{}: cannot open: {e}\n", path.display())),
        }
    }
    out
}
