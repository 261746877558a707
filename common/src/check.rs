//! What a worker's `--check` reports to the supervisor on its standard output: the typed
//! contract between `viba-segmenter --check` and the supervisor's checks.

use serde::{Deserialize, Serialize};

/// The segmenter's report: the mask it will publish (the frame's part of the model's output)
/// and the model it loaded. One line of JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SegmenterCheck {
    /// Width of the masks, cells: the mask ring is created with it.
    pub mask_width: u32,
    /// Height of the masks, cells.
    pub mask_height: u32,
    /// The model's input width.
    pub input_width: u32,
    /// The model's input height.
    pub input_height: u32,
    /// The model's input layout (`Nhwc` or `Nchw`).
    pub layout: String,
    /// The model file.
    pub model: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_reads_back_as_written() {
        let report = SegmenterCheck {
            mask_width: 256,
            mask_height: 144,
            input_width: 256,
            input_height: 144,
            layout: "Nhwc".into(),
            model: "/m/selfie \"landscape\".onnx".into(),
        };
        let line = serde_json::to_string(&report).unwrap();
        assert!(!line.contains('\n'));
        assert!(line.starts_with("{\"mask_width\":256,\"mask_height\":144,"));
        assert_eq!(
            serde_json::from_str::<SegmenterCheck>(&line).unwrap(),
            report
        );
    }
}
