//! The three worker stages: their names and executables.

/// The three worker stages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Stage {
    /// viba-capture.
    Capture = 0,
    /// viba-segmenter.
    Segmenter = 1,
    /// viba-compositor.
    Compositor = 2,
}

impl Stage {
    /// All stages in pipeline order.
    pub const ALL: [Stage; 3] = [Stage::Capture, Stage::Segmenter, Stage::Compositor];

    /// `capture`, `segmenter` or `compositor`.
    pub fn name(self) -> &'static str {
        match self {
            Stage::Capture => "capture",
            Stage::Segmenter => "segmenter",
            Stage::Compositor => "compositor",
        }
    }

    /// Parses a stage name.
    pub fn parse(name: &str) -> Option<Stage> {
        Stage::ALL.into_iter().find(|s| s.name() == name)
    }

    /// The stage's executable name.
    pub fn binary(self) -> &'static str {
        match self {
            Stage::Capture => "viba-capture",
            Stage::Segmenter => "viba-segmenter",
            Stage::Compositor => "viba-compositor",
        }
    }
}

impl std::fmt::Display for Stage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stage_names_round_trip() {
        for s in Stage::ALL {
            assert_eq!(Stage::parse(s.name()), Some(s));
        }
        assert_eq!(Stage::parse("camera"), None);
    }
}
