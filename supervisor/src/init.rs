//! `viba-supervisor init`: a starting config where viba looks for one
//! ([`viba_common::names::default_config`]), for the first camera and the first v4l2loopback
//! device of this machine, with a comment (`"//"` keys) on each part.

use crate::devices;
use serde_json::json;
use std::path::{Path, PathBuf};

/// The devices a new config names: the first camera and the first loopback device, and what
/// was not found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// The first camera: its node and its name.
    pub camera: Option<(String, String)>,
    /// The first v4l2loopback node.
    pub loopback: Option<String>,
}

/// Looks through `/dev/video*`.
pub fn find() -> Found {
    let mut found = Found {
        camera: None,
        loopback: None,
    };
    for node in devices::nodes() {
        let Ok((_, info)) = devices::probe(&node) else {
            continue;
        };
        let path = node.display().to_string();
        if info.is_loopback() {
            found.loopback.get_or_insert(path);
        } else if info.capture && found.camera.is_none() {
            found.camera = Some((path, info.card));
        }
    }
    found
}

/// The config text for what was found.
pub fn config_text(found: &Found) -> String {
    let camera = found
        .camera
        .as_ref()
        .map_or("/dev/video0", |(p, _)| p.as_str());
    let loopback = found.loopback.as_deref().unwrap_or("/dev/video20");
    let value = json!({
        "//": "viba's config, written by viba-supervisor init. Keys that start with // are comments. Every key, with its default: README.md, Configuration.",
        "input": {
            "//": match &found.camera {
                Some((_, card)) => format!("the camera viba reads ({card}); viba-supervisor --list-devices shows the others and the mode viba takes"),
                None => "no camera was found when this was written: name yours here (viba-supervisor --list-devices)".to_owned(),
            },
            "source": "camera",
            "device": camera,
            "width": 1280,
            "height": 720,
            "fps": 30
        },
        "output": {
            "//": if found.loopback.is_some() {
                "the fake webcam apps see (v4l2loopback); output.width/height give it its own size"
            } else {
                "no v4l2loopback device was found: sudo modprobe v4l2loopback devices=1 video_nr=20 card_label=viba exclusive_caps=1"
            },
            "sink": "v4l2loopback",
            "device": loopback
        },
        "background": {
            "//": "blur the room; or \"image\": \"path.jpg\", \"color\": \"#336699\", \"video\": \"path.mp4\"",
            "blur": 12
        }
    });
    let mut text = serde_json::to_string_pretty(&value).expect("serialisable");
    text.push('\n');
    text
}

/// Why `init` wrote nothing.
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    /// There is a config already (and no `--force`).
    #[error("{} already exists (use viba-supervisor init --force to overwrite it)", path.display())]
    Exists {
        /// The config.
        path: PathBuf,
    },
    /// Its folder cannot be made.
    #[error("cannot create {}: {cause}", dir.display())]
    CreateDir {
        /// The folder.
        dir: PathBuf,
        /// The OS error.
        cause: std::io::Error,
    },
    /// The file cannot be written.
    #[error("cannot write {}: {cause}", path.display())]
    Write {
        /// The config.
        path: PathBuf,
        /// The OS error.
        cause: std::io::Error,
    },
}

/// Writes the config to `path` (its folder made when needed); an existing file only with
/// `force`. Returns the line to print.
pub fn write(path: &Path, force: bool, found: &Found) -> Result<String, InitError> {
    if path.exists() && !force {
        return Err(InitError::Exists {
            path: path.to_owned(),
        });
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|cause| InitError::CreateDir {
            dir: dir.to_owned(),
            cause,
        })?;
    }
    std::fs::write(path, config_text(found)).map_err(|cause| InitError::Write {
        path: path.to_owned(),
        cause,
    })?;
    let camera = found.camera.as_ref().map_or_else(
        || "no camera found: edit input.device".to_owned(),
        |(p, card)| format!("camera {p} ({card})"),
    );
    let loopback = found.loopback.as_ref().map_or_else(
        || "no v4l2loopback device found: viba-supervisor doctor says how to make one".to_owned(),
        |p| format!("fake webcam {p}"),
    );
    Ok(format!(
        "wrote {}: {camera}, {loopback}; start viba with: viba-supervisor",
        path.display()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn repo() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
    }

    #[test]
    fn the_written_config_is_valid_and_names_what_was_found() {
        for found in [
            Found {
                camera: Some(("/dev/video3".into(), "Integrated Camera".into())),
                loopback: Some("/dev/video21".into()),
            },
            Found {
                camera: None,
                loopback: None,
            },
        ] {
            let text = config_text(&found);
            let c = viba_common::config::parse(&text, Path::new("viba.json"), &repo())
                .unwrap_or_else(|e| panic!("{e}\n{text}"));
            let want_camera = found.camera.as_ref().map_or("/dev/video0", |(p, _)| p);
            assert_eq!(c.input.device, want_camera);
            assert_eq!(
                c.output.device,
                found.loopback.as_deref().unwrap_or("/dev/video20")
            );
            assert_eq!(c.background.blur, Some(12.0));
        }
    }

    #[test]
    fn an_existing_config_is_kept_unless_forced() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("viba/viba.json");
        let found = Found {
            camera: None,
            loopback: None,
        };
        assert!(write(&path, false, &found).unwrap().starts_with("wrote"));
        std::fs::write(&path, "mine").unwrap();
        let e = write(&path, false, &found).unwrap_err().to_string();
        assert!(
            e.contains("already exists (use viba-supervisor init --force"),
            "{e}"
        );
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "mine");
        write(&path, true, &found).unwrap();
        assert!(std::fs::read_to_string(&path).unwrap().contains("\"//\""));
    }
}
