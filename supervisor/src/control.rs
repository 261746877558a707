//! The control socket: one JSON request per connection, one JSON reply.

use serde::{Deserialize, Serialize};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

/// A control command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "cmd", rename_all = "lowercase")]
pub enum Request {
    /// Per-stage state.
    Status,
    /// Stop and start a stage.
    Restart {
        /// The stage's name.
        stage: String,
    },
    /// Stop a stage and keep it stopped (run it by hand meanwhile).
    Stop {
        /// The stage's name.
        stage: String,
    },
    /// Start a stopped stage.
    Start {
        /// The stage's name.
        stage: String,
    },
    /// Write a PNG of the current output to `output.snapshot`.
    Snapshot,
    /// Change config keys while running: `[key, value]` pairs, values as JSON text or plain
    /// text (see `viba_common::config::live::parse_value`).
    Set {
        /// The keys and their new values.
        pairs: Vec<(String, String)>,
    },
    /// Read the config file again and apply what changed.
    Reload,
    /// Show the still and release the camera.
    Pause,
    /// Go live again.
    Resume,
    /// Pause when live, resume when paused.
    Toggle,
}

/// One stage in a status reply.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StageStatus {
    /// The stage's name.
    pub stage: String,
    /// Where it is: `running`, `restarting`, `stopped` and so on.
    pub state: String,
    /// The process the supervisor started for it, while there is one.
    pub pid: Option<i32>,
    /// A process running the stage that the supervisor did not start (run by hand).
    pub external_pid: Option<u32>,
    /// Restarts after crashes, in total.
    pub restarts: u32,
    /// Whether the stage is in a crash loop.
    pub crash_loop: bool,
    /// Seconds since the running process was started.
    pub uptime_s: Option<f64>,
    /// Items the stage produced per second over the last second.
    pub fps: f64,
    /// Capture-to-output latency of the last item, ms (not for capture).
    pub latency_ms: Option<f64>,
    /// How the last process ended, e.g. `exit code 1`.
    pub last_exit: Option<String>,
    /// Share of one CPU the stage's process used over the last second, %.
    #[serde(default)]
    pub cpu_percent: Option<f64>,
    /// Compositor: mean age of the masks it used over the last second, in frames.
    #[serde(default)]
    pub mask_age_frames: Option<f64>,
    /// Compositor: frames per second shown with the background alone (no mask, or too old).
    #[serde(default)]
    pub background_only_fps: Option<f64>,
    /// Items the stage dropped because readers held every slot of its output ring.
    #[serde(default)]
    pub ring_full: u64,
}

/// The reply.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Reply {
    /// Whether the request was carried out.
    pub ok: bool,
    /// What happened, or why not.
    pub message: String,
    /// Per-stage state after the request (empty when it failed).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stages: Vec<StageStatus>,
    /// The camera's mode and rate, while capture has a camera open.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<InputStatus>,
    /// The fake camera's readers, when counted (`output.idle_when_unused`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<OutputStatus>,
    /// Paused by `ctl pause`: the still is shown and the camera released.
    #[serde(default)]
    pub paused: bool,
}

/// The camera capture reads.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct InputStatus {
    /// The camera device.
    pub device: String,
    /// The mode it runs, e.g. `MJPEG 1280x720 at 30 fps`.
    pub mode: String,
    /// Frames per second the camera sends (by its sequence numbers; capture may take fewer).
    pub camera_fps: f64,
}

/// Who reads the fake camera.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct OutputStatus {
    /// The loopback device.
    pub device: String,
    /// Applications with it open at the compositor's last count.
    pub consumers: u32,
    /// Whether the pipeline idles (camera released).
    pub idle: bool,
}

/// Sends a request and waits for the reply.
pub fn call(socket: &Path, request: &Request) -> std::io::Result<Reply> {
    let stream = UnixStream::connect(socket)?;
    stream.set_read_timeout(Some(Duration::from_secs(15)))?;
    exchange(stream, request)
}

/// Writes `request` to a connected `stream` and reads the reply.
fn exchange(mut stream: UnixStream, request: &Request) -> std::io::Result<Reply> {
    let mut line = serde_json::to_string(request).expect("serialisable");
    line.push('\n');
    // A refusal (another user) is sent and the connection closed before the request is read:
    // the write may then find the socket closed, and the reply is waiting all the same.
    let written = match stream.write_all(line.as_bytes()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => return Err(e),
        other => other,
    };
    let mut reply = String::new();
    BufReader::new(stream).read_line(&mut reply)?;
    if reply.is_empty() {
        written?;
    }
    serde_json::from_str(&reply)
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
}

/// Formats a status reply as a table.
pub fn format_status(reply: &Reply) -> String {
    let mut out = format!(
        "{:<11} {:<11} {:>8} {:>8} {:>9} {:>7} {:>6} {:>11}  {}\n",
        "STAGE", "STATE", "PID", "RESTARTS", "UPTIME", "FPS", "CPU", "LATENCY", "NOTE"
    );
    for s in &reply.stages {
        let pid = s
            .pid
            .map(|p| p.to_string())
            .or(s.external_pid.map(|p| format!("{p}*")))
            .unwrap_or_else(|| "-".into());
        let uptime = s.uptime_s.map_or("-".into(), |u| format!("{u:.1}s"));
        let latency = s.latency_ms.map_or("-".into(), |l| format!("{l:.1}ms"));
        let mut note = String::new();
        if s.external_pid.is_some() && s.pid.is_none() {
            note.push_str("run by hand (*) ");
        }
        if s.crash_loop {
            note.push_str("CRASH LOOP ");
        }
        if let Some(age) = s.mask_age_frames {
            note.push_str(&format!("mask age {age:.1} frames "));
        }
        if let Some(alone) = s.background_only_fps.filter(|&a| a > 0.0) {
            note.push_str(&format!("background alone {alone:.1}/s "));
        }
        if s.ring_full > 0 {
            note.push_str(&format!(
                "{} dropped (readers held every slot) ",
                s.ring_full
            ));
        }
        if let Some(e) = &s.last_exit {
            note.push_str(&format!("last: {e}"));
        }
        let cpu = s.cpu_percent.map_or("-".into(), |c| format!("{c:.0}%"));
        out.push_str(&format!(
            "{:<11} {:<11} {:>8} {:>8} {:>9} {:>7.1} {:>6} {:>11}  {}\n",
            s.stage,
            s.state,
            pid,
            s.restarts,
            uptime,
            s.fps,
            cpu,
            latency,
            note.trim_end()
        ));
    }
    if let Some(i) = &reply.input {
        out.push_str(&format!(
            "{}: {}; the camera sends {:.1} fps\n",
            i.device, i.mode, i.camera_fps
        ));
    }
    // Capture reports a camera mode only while it has the camera open: until it has seen the
    // pause or the idle and closed the camera, the camera is still being released.
    let camera = if reply.input.is_some() {
        "the camera is being released"
    } else {
        "the camera is released"
    };
    if reply.paused {
        out.push_str(&format!(
            "paused: the fake webcam shows the still, {camera} (ctl resume goes live)\n"
        ));
    }
    if let Some(o) = &reply.output {
        out.push_str(&if o.idle {
            format!("{}: no application has it open: idle, {camera}\n", o.device)
        } else if o.consumers == 0 {
            format!(
                "{}: no application has it open: idle in a moment\n",
                o.device
            )
        } else {
            format!("{}: in use ({} open)\n", o.device, o.consumers)
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reply_sent_before_the_request_was_read_is_read() {
        // The supervisor refuses another user at once and closes: the request's write finds
        // the socket closed (EPIPE), the refusal is there to read.
        let (ours, theirs) = UnixStream::pair().unwrap();
        let refusal = Reply {
            ok: false,
            message: "refused: uid 65534 may not control an instance of uid 0".into(),
            ..Reply::default()
        };
        let mut line = serde_json::to_string(&refusal).unwrap();
        line.push('\n');
        (&theirs).write_all(line.as_bytes()).unwrap();
        drop(theirs);
        let reply = exchange(ours, &Request::Status).unwrap();
        assert!(!reply.ok);
        assert_eq!(reply.message, refusal.message);
        // Closed without a reply: the write's error.
        let (ours, theirs) = UnixStream::pair().unwrap();
        drop(theirs);
        let err = exchange(ours, &Request::Status).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::BrokenPipe);
    }

    #[test]
    fn the_camera_is_called_released_only_once_capture_has_closed_it() {
        let idle = |input: Option<InputStatus>, paused| Reply {
            ok: true,
            input,
            paused,
            output: Some(OutputStatus {
                device: "/dev/video10".into(),
                consumers: 0,
                idle: true,
            }),
            ..Reply::default()
        };
        let open = InputStatus {
            device: "/dev/video0".into(),
            mode: "MJPEG 1280x720 at 30 fps".into(),
            camera_fps: 30.0,
        };
        // Capture still has the camera open (it reports its mode): being released.
        let text = format_status(&idle(Some(open.clone()), false));
        assert!(
            text.contains(
                "/dev/video10: no application has it open: idle, the camera is being released"
            ),
            "{text}"
        );
        assert!(!text.contains("the camera is released"), "{text}");
        let text = format_status(&idle(Some(open), true));
        assert!(
            text.contains("paused: the fake webcam shows the still, the camera is being released"),
            "{text}"
        );
        // Capture has closed it.
        let text = format_status(&idle(None, true));
        assert!(
            text.contains("paused: the fake webcam shows the still, the camera is released"),
            "{text}"
        );
        assert!(text.contains("idle, the camera is released"), "{text}");
    }
}
