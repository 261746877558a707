//! `viba-supervisor --list-devices`: the V4L2 devices of this machine, cameras with their
//! formats, sizes and rates, v4l2loopback devices marked as such.

use std::path::{Path, PathBuf};
use v4l::capability::Flags;
use v4l::framesize::FrameSizeEnum;
use v4l::video::Capture;
use v4l::Device;
use viba_common::camera_mode::{self, Request};
use viba_media::camera_modes;

/// What one device node is.
#[derive(Debug, Clone)]
pub struct DeviceInfo {
    /// The node, e.g. `/dev/video0`.
    pub path: PathBuf,
    /// The driver's name.
    pub driver: String,
    /// The device's name (the card label of a loopback device).
    pub card: String,
    /// Whether it can capture video.
    pub capture: bool,
    /// Whether it takes video output.
    pub output: bool,
}

impl DeviceInfo {
    /// Whether the node belongs to v4l2loopback.
    pub fn is_loopback(&self) -> bool {
        viba_media::loopback::is_loopback(&self.driver)
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
    let (dev, caps) = viba_media::v4l2io::open_node(&path.to_string_lossy(), "")
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
    let choice = camera_modes::enumerate(dev, request)
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
    let users = users(&running_instances());
    let used_by = |path: &Path| {
        users
            .iter()
            .filter(|(d, _)| Path::new(d) == path)
            .map(|(_, who)| format!(" ({who})"))
            .collect::<String>()
    };
    let mut out = String::new();
    for path in nodes {
        match probe(&path) {
            Ok((_, info)) if info.is_loopback() => out.push_str(&format!(
                "{}: {} [v4l2loopback: viba's output can go here]{}\n",
                path.display(),
                info.card,
                used_by(&path)
            )),
            Ok((dev, info)) if info.capture => {
                out.push_str(&format!(
                    "{}: {} ({}) camera{}\n",
                    path.display(),
                    info.card,
                    info.driver,
                    used_by(&path)
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

/// The configs of this user's running instances: the live copies their supervisors keep in
/// the runtime folder (`viba-<instance>.json`, beside a socket that answers).
pub fn running_instances() -> Vec<viba_common::config::Config> {
    let Ok(dir) = viba_common::names::private_runtime_dir(false) else {
        return vec![];
    };
    let mut found = vec![];
    for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(instance) = name
            .strip_prefix("viba-")
            .and_then(|n| n.strip_suffix(".json"))
        else {
            continue;
        };
        let socket = viba_common::names::control_socket(instance);
        if std::os::unix::net::UnixStream::connect(&socket).is_err() {
            continue;
        }
        // Relative paths do not matter here, only the devices.
        let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
        if let Ok(c) = viba_common::config::parse(&text, &entry.path(), Path::new("/")) {
            found.push(c);
        }
    }
    found.sort_by(|a, b| a.instance.cmp(&b.instance));
    found
}

/// Which device each instance uses, and how: `(device, "instance NAME reads it" | "... writes
/// to it")`.
pub fn users(instances: &[viba_common::config::Config]) -> Vec<(String, String)> {
    use viba_common::config::{SinkKind, SourceKind};
    let mut out = vec![];
    for c in instances {
        if c.input.source == SourceKind::Camera {
            out.push((
                c.input.device.clone(),
                format!("instance {} reads it", c.instance),
            ));
        }
        if c.output.sink == SinkKind::V4l2loopback {
            out.push((
                c.output.device.clone(),
                format!("instance {} writes to it", c.instance),
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_instance_marks_its_camera_and_its_fake_webcam() {
        let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let config = |instance: &str, camera: &str, loopback: &str| {
            let text = format!(
                r#"{{"instance": "{instance}", "input": {{"source": "camera", "device": "{camera}"}},
                "output": {{"sink": "v4l2loopback", "device": "{loopback}"}}, "background": {{"blur": 8}}}}"#
            );
            viba_common::config::parse(&text, Path::new("viba.json"), &repo).unwrap()
        };
        let marks = users(&[
            config("work", "/dev/video0", "/dev/video20"),
            config("desk", "/dev/video2", "/dev/video21"),
        ]);
        assert_eq!(
            marks,
            vec![
                ("/dev/video0".into(), "instance work reads it".into()),
                ("/dev/video20".into(), "instance work writes to it".into()),
                ("/dev/video2".into(), "instance desk reads it".into()),
                ("/dev/video21".into(), "instance desk writes to it".into()),
            ]
        );
    }
}
