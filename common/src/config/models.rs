//! `segmentation.model: "auto"`: the bundled model for the fit and the frame's shape ([`choose`]), found
//! in the `models/` folder beside the config, of the installation or of the checkout the
//! binaries were built in.

use super::Fit;
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

/// The bundled model for frames of this size fitted to it by `fit`. Stretched (the
/// default), the landscape model for every shape: stretched into it, square and portrait
/// frames scored better than in the square model (on 25 square sequences 17 missed targets
/// against 23, the square model's including a blanket joined to the person that showed the
/// room in 2.6 % of the background; on 11 portrait ones, 3:4 and 9:16, 8 against 12;
/// docs/QUALITY.md 2026-12-07 09:50), and it is the cheaper model. Padded, the model whose
/// input the frame fills most: the square model for square frames (up to 1.1:1) and portrait
/// ones, the landscape model for wider frames. (Stretched, 5:4 frames too scored better in
/// the landscape model: seven sequences of nine, docs/QUALITY.md 2026-12-07 04:50.)
pub fn choose(frame_width: u32, frame_height: u32, fit: Fit) -> Bundled {
    match fit {
        Fit::Stretch => BUNDLED[0],
        Fit::Pad if 10 * frame_width as u64 > 11 * frame_height as u64 => BUNDLED[0],
        Fit::Pad => SQUARE,
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
    fn each_aspect_gets_the_model_that_scored_best_or_fits_it() {
        let landscape = BUNDLED[0];
        let general = BUNDLED[1];
        for (w, h) in [
            (1280, 720),
            (1920, 1080),
            (640, 360),
            (640, 480),
            (1280, 800),
            (1280, 1024),
            (720, 576),
            (720, 720),
            (480, 640),
            (360, 640),
        ] {
            assert_eq!(choose(w, h, Fit::Stretch), landscape, "{w}x{h}");
        }
        assert_eq!(choose(1280, 720, Fit::Pad), landscape);
        assert_eq!(choose(640, 480, Fit::Pad), landscape, "4:3");
        assert_eq!(choose(1280, 1024, Fit::Pad), landscape, "5:4");
        assert_eq!(choose(720, 720, Fit::Pad), general, "square");
        assert_eq!(choose(550, 500, Fit::Pad), general, "1.1:1");
        assert_eq!(choose(552, 500, Fit::Pad), landscape, "just over 1.1:1");
        assert_eq!(choose(480, 640, Fit::Pad), general, "portrait");
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
