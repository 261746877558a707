//! `segmentation.model: "auto"`: the bundled model whose input shape fits the frame's aspect
//! best, found in the `models/` folder beside the config, of the installation or of the
//! checkout the binaries were built in.

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

/// The bundled models, in the order ties are decided: the landscape model first (the
/// faster one; on 4:3 frames, where both fit equally, it scores as well: docs/QUALITY.md).
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

/// The bundled model whose input aspect is nearest the frame's (by ratio: 4:3 is as far from
/// 16:9 as from 1:1, and such ties go to the first in [`BUNDLED`]).
pub fn choose(frame_width: u32, frame_height: u32) -> Bundled {
    let aspect = frame_width as f64 / frame_height as f64;
    let distance = |m: &Bundled| (aspect * m.height as f64 / m.width as f64).ln().abs();
    let mut best = BUNDLED[0];
    for m in &BUNDLED[1..] {
        if distance(m) < distance(&best) - 0.01 {
            best = *m;
        }
    }
    best
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
        assert_eq!(choose(720, 720), general);
        assert_eq!(choose(480, 640), general, "portrait");
        assert_eq!(choose(1280, 1024), general, "5:4");
        assert_eq!(
            choose(640, 480),
            landscape,
            "4:3 is a tie, decided by the list"
        );
        assert_eq!(choose(1280, 800), landscape, "16:10");
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
