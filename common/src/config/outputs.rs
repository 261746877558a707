//! The files viba writes (`output.path`, the Y4M recording; `output.snapshot`, a PNG) never
//! name a file it reads, nor each other: a recording over the input video or a snapshot over
//! the background picture would destroy the user's file (it did, before this check).

use super::validation::{invalid, Invalid};
use super::*;
use std::os::unix::fs::MetadataExt;

/// Whether `a` and `b` name one file: the same path, or two existing paths with one device
/// and inode (links, `..` and other spellings of a path included).
fn same_file(a: &Path, b: &Path) -> bool {
    if a == b {
        return true;
    }
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(x), Ok(y)) => x.dev() == y.dev() && x.ino() == y.ino(),
        _ => false,
    }
}

/// The files a validated config reads, with their keys.
fn read_files(c: &Config) -> Vec<(&'static str, &Path)> {
    let mut read = Vec::new();
    if matches!(c.input.source, SourceKind::Video | SourceKind::Image) {
        if let Some(p) = &c.input.path {
            read.push(("input.path", p.as_path()));
        }
    }
    match &c.background.kind {
        Some(BackgroundKind::Image(p)) => read.push(("background.image", p.as_path())),
        Some(BackgroundKind::Video(p)) => read.push(("background.video", p.as_path())),
        Some(BackgroundKind::Blur {
            fallback: Still::Picture(p),
            ..
        }) => read.push(("background.fallback", p.as_path())),
        _ => {}
    }
    if let Some(p) = &c.output.pause_image {
        read.push(("output.pause_image", p.as_path()));
    }
    read.push(("segmentation.model", c.segmentation.model.as_path()));
    if let Some(p) = &c.segmentation.zoom_model {
        read.push(("the square model of segmentation.zoom", p.as_path()));
    }
    if let Some(p) = &c.segmentation.onnxruntime {
        read.push(("segmentation.onnxruntime", p.as_path()));
    }
    read
}

/// Refuses a config whose written files name a file it reads, or each other (paths already
/// resolved by validation).
pub(super) fn check(c: &Config) -> Result<(), Invalid> {
    let recording = match c.output.sink {
        SinkKind::File => c.output.path.as_deref(),
        _ => None,
    };
    let written = [
        ("output.path", recording),
        ("output.snapshot", c.output.snapshot.as_deref()),
    ];
    let read = read_files(c);
    for (key, path) in written {
        let Some(path) = path else { continue };
        if let Some((other, _)) = read.iter().find(|(_, r)| same_file(path, r)) {
            return Err(invalid(
                key,
                format!(
                    "{} is {other} too: viba would write over it (name another file)",
                    path.display()
                ),
            ));
        }
    }
    if let [(_, Some(recording)), (key, Some(snapshot))] = written {
        if same_file(recording, snapshot) {
            return Err(invalid(
                key,
                format!(
                    "{} is output.path too: the snapshot would write over the recording (name another file)",
                    snapshot.display()
                ),
            ));
        }
    }
    Ok(())
}
