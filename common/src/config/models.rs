//! `segmentation.model: "auto"`: the bundled model for the frame's shape ([`choose`]), found
//! in the `models/` folder beside the config, of the installation or of the checkout the
//! binaries were built in.

use std::path::{Path, PathBuf};

/// A model shipped in `models/`, with its input size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bundled {
    /// File name in `models/`.
    pub file: &'static str,
    /// Input width.
    pub width: u32,
    /// Input height.
    pub height: u32,
}

/// The bundled models.
pub const BUNDLED: [Bundled; 2] = [
    Bundled {
        file: "selfie_segmentation_landscape.onnx",
        width: 256,
        height: 144,
    },
    Bundled {
        file: "selfie_segmentation.onnx",
        width: 256,
        height: 256,
    },
];

/// The bundled square model: what `segmentation.zoom` runs on a square around the person.
pub const SQUARE: Bundled = BUNDLED[1];

/// The bundled model for frames of this size: the square model for square frames (up to
/// 1.1:1) and portrait ones, the landscape model for wider frames (5:4, 4:3, 16:10, 16:9).
/// By measurement, not by the nearest input shape: on 5:4 frames the landscape model,
/// stretched, scored better than the square model on seven sequences of nine and missed 2
/// targets where the square model missed 8, showing the room in 1.5 % of the background on
/// one (docs/QUALITY.md 2026-12-07 04:50). On square frames the two were even.
pub fn choose(frame_width: u32, frame_height: u32) -> Bundled {
    if 10 * frame_width as u64 > 11 * frame_height as u64 {
        BUNDLED[0]
    } else {
        SQUARE
    }
}

/// Where the bundled models are looked for: `models/` beside the config, beside the
/// binaries' installation (`../share/viba/models`), and in the checkout they were built in.
pub fn search_dirs(config_dir: &Path) -> Vec<PathBuf> {
    let mut dirs = vec![config_dir.join("models")];
    if let Some(bin) = std::env::current_exe()
        .ok()
        .and_then(|e| e.parent().map(Path::to_owned))
    {
        dirs.push(bin.join("../share/viba/models"));
    }
    dirs.push(Path::new(env!("CARGO_MANIFEST_DIR")).join("../models"));
    dirs
}

/// The path of `model` in the first of `dirs` that has it.
pub fn find(model: &Bundled, dirs: &[PathBuf]) -> Option<PathBuf> {
    dirs.iter()
        .map(|d| d.join(model.file))
        .find(|p| p.is_file())
        .map(|p| std::fs::canonicalize(&p).unwrap_or(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_aspect_gets_the_model_that_fits_it() {
        let landscape = BUNDLED[0];
        let general = BUNDLED[1];
        assert_eq!(choose(1280, 720), landscape);
        assert_eq!(choose(1920, 1080), landscape);
        assert_eq!(choose(640, 360), landscape);
        assert_eq!(choose(640, 480), landscape, "4:3");
        assert_eq!(choose(1280, 800), landscape, "16:10");
        assert_eq!(choose(1280, 1024), landscape, "5:4");
        assert_eq!(choose(720, 576), landscape, "5:4");
        assert_eq!(choose(720, 720), general, "square");
        assert_eq!(choose(550, 500), general, "1.1:1");
        assert_eq!(choose(552, 500), landscape, "just over 1.1:1");
        assert_eq!(choose(480, 640), general, "portrait");
    }

    #[test]
    fn the_checkout_the_binaries_were_built_in_has_them() {
        let dirs = search_dirs(Path::new("/nonexistent"));
        for m in BUNDLED {
            assert!(find(&m, &dirs).is_some(), "{}", m.file);
        }
        assert!(find(&BUNDLED[0], &[PathBuf::from("/nonexistent")]).is_none());
    }
}
