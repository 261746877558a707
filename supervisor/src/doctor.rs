//! `viba-supervisor doctor`: checks what a working fake webcam needs and prints the exact fix
//! for each problem.

use crate::devices;
use std::os::unix::fs::FileTypeExt;
use std::path::Path;
use viba_common::config::{Config, SinkKind, SourceKind};

use viba_media::loopback::{MODPROBE, PERSIST};

/// One check's outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Whether the check passed.
    pub ok: bool,
    /// What was found.
    pub what: String,
    /// The command or step that fixes it, when it failed.
    pub fix: Option<String>,
}

fn ok(what: impl Into<String>) -> Finding {
    Finding {
        ok: true,
        what: what.into(),
        fix: None,
    }
}

fn bad(what: impl Into<String>, fix: impl Into<String>) -> Finding {
    Finding {
        ok: false,
        what: what.into(),
        fix: Some(fix.into()),
    }
}

fn read_write(path: &Path) -> bool {
    nix::unistd::access(
        path,
        nix::unistd::AccessFlags::R_OK | nix::unistd::AccessFlags::W_OK,
    )
    .is_ok()
}

fn check_node(path: &Path, role: &str) -> Result<(), Finding> {
    match std::fs::metadata(path) {
        Err(_) => Err(bad(
            format!("{role} {} does not exist", path.display()),
            if role == "output" {
                format!("load v4l2loopback: {MODPROBE}")
            } else {
                "plug in the camera, or pick another with: viba-supervisor --list-devices".into()
            },
        )),
        Ok(m) if !m.file_type().is_char_device() => Err(bad(
            format!("{role} {} is not a device", path.display()),
            "name a /dev/videoN device (viba-supervisor --list-devices)",
        )),
        Ok(_) if !read_write(path) => Err(bad(
            format!("{role} {}: no read/write permission", path.display()),
            format!(
                "add yourself to its group (sudo usermod -aG video $USER, then log in again), or check: ls -l {}",
                path.display()
            ),
        )),
        Ok(_) => Ok(()),
    }
}

/// Runs every check. `config` is optional: without it the defaults are checked.
pub fn run(config: Option<(&Config, &Path)>) -> Vec<Finding> {
    let mut out = Vec::new();
    let loaded = Path::new("/sys/module/v4l2loopback").exists();
    out.push(if loaded {
        ok("v4l2loopback is loaded")
    } else {
        bad(
            "v4l2loopback is not loaded",
            format!("sudo apt install v4l2loopback-dkms; {MODPROBE}; to load it at every boot: {PERSIST}"),
        )
    });
    if loaded {
        let caps = std::fs::read_to_string("/sys/module/v4l2loopback/parameters/exclusive_caps")
            .unwrap_or_default();
        out.push(if caps.trim_start().starts_with(['Y', '1']) {
            ok("v4l2loopback has exclusive_caps=1 (Chrome and WebRTC apps list it)")
        } else {
            bad(
                format!("v4l2loopback exclusive_caps is {:?}: Chrome and WebRTC apps will not list the camera", caps.trim()),
                format!("sudo modprobe -r v4l2loopback; {MODPROBE}"),
            )
        });
    }

    let (output, camera) = match config {
        Some((c, _)) => (
            (c.output.sink == SinkKind::V4l2loopback).then(|| c.output.device.clone()),
            (c.input.source == SourceKind::Camera).then(|| c.input.device.clone()),
        ),
        None => (Some("/dev/video20".into()), Some("/dev/video0".into())),
    };
    if let Some(device) = output {
        let path = Path::new(&device);
        match check_node(path, "output") {
            Err(f) => out.push(f),
            Ok(()) => out.push(match devices::probe(path) {
                Ok((_, info)) if info.is_loopback() => ok(format!("output {device} is a v4l2loopback device ({})", info.card)),
                Ok((_, info)) => bad(
                    format!("output {device} is {} ({}), not a v4l2loopback device", info.card, info.driver),
                    format!("set output.device to the loopback device (viba-supervisor --list-devices), or load one: {MODPROBE}"),
                ),
                Err(e) => bad(format!("output {device}: {e}"), "check the device with: v4l2-ctl -d DEVICE --all"),
            }),
        }
    }
    if let Some(device) = camera {
        let path = Path::new(&device);
        match check_node(path, "camera") {
            Err(f) => out.push(f),
            Ok(()) => out.push(match devices::probe(path) {
                Ok((_, info)) if info.is_loopback() && !info.capture => bad(
                    format!("camera {device} is a v4l2loopback device with no producer"),
                    "set input.device to your real camera (viba-supervisor --list-devices)",
                ),
                Ok((dev, info)) if info.capture => {
                    let modes = devices::describe_modes(&dev);
                    let usable = modes
                        .iter()
                        .any(|m| m.contains("YUYV") || m.contains("MJPG"));
                    if usable {
                        ok(format!(
                            "camera {device} ({}) offers YUYV or MJPEG",
                            info.card
                        ))
                    } else {
                        bad(
                            format!(
                                "camera {device} ({}) offers neither YUYV nor MJPEG",
                                info.card
                            ),
                            "use another camera (viba-supervisor --list-devices)",
                        )
                    }
                }
                Ok((_, info)) => bad(
                    format!("camera {device} ({}) is not a capture device", info.card),
                    "set input.device to a camera (viba-supervisor --list-devices)",
                ),
                Err(e) => bad(
                    format!("camera {device}: {e}"),
                    "is another program using it? check with: fuser -v DEVICE",
                ),
            }),
        }
    }

    out.push(service());
    if let Some((_, path)) = config {
        out.push(match crate::checks::run(path) {
            Ok(m) => ok(format!(
                "ONNX Runtime, model, background and input load (mask {}x{})",
                m.width, m.height
            )),
            Err(e) => bad(
                e.to_string(),
                "see the message; scripts/setup.sh installs ONNX Runtime into .ort/",
            ),
        });
    }
    out
}

/// Whether the systemd user unit is enabled and running: a note, not a problem (viba also runs
/// by hand).
fn service() -> Finding {
    let ask = |what: &str| {
        std::process::Command::new("systemctl")
            .args(["--user", what, "viba.service"])
            .output()
            .ok()
            .map(|o| {
                let said = String::from_utf8_lossy(&o.stdout).trim().to_owned();
                let err = String::from_utf8_lossy(&o.stderr).into_owned();
                match said.is_empty() {
                    true if err.contains("Failed to connect to bus") => String::new(),
                    true if err.contains("No such file") || err.contains("not found") => {
                        "not installed".to_owned()
                    }
                    true => String::new(),
                    false => said,
                }
            })
    };
    let (Some(enabled), Some(active)) = (ask("is-enabled"), ask("is-active")) else {
        return ok("viba.service: systemctl not found, not checked");
    };
    let enabled = if enabled.is_empty() {
        "state unknown".to_owned()
    } else {
        enabled
    };
    let active = if active.is_empty() {
        "no systemd user session here to run it".to_owned()
    } else {
        active
    };
    let hint = match enabled.as_str() {
        "enabled" => "",
        "not installed" => " (scripts/install.sh or the Debian package installs it)",
        _ => " (to start viba with your session: systemctl --user enable --now viba)",
    };
    ok(format!("viba.service: {enabled}, {active}{hint}"))
}

/// Prints the findings; returns whether all passed.
pub fn print(findings: &[Finding]) -> bool {
    for f in findings {
        if f.ok {
            println!("ok    {}", f.what);
        } else {
            println!("FAIL  {}", f.what);
            if let Some(fix) = &f.fix {
                println!("      fix: {fix}");
            }
        }
    }
    findings.iter().all(|f| f.ok)
}
