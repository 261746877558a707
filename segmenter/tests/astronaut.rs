//! The segmenter's Rust path (YUYV frame -> fast_image_resize -> RGB/255 -> ONNX Runtime ->
//! u8 mask) on the portrait photo, against the reference mask made by running the same model
//! directly from Python (testdata/make_reference_mask.py, see testdata/PROVENANCE.md).

use std::path::Path;
use viba_common::config::Segmentation;
use viba_common::{picture, yuv};
use viba_segmenter::model::Model;
use viba_segmenter::preprocess::Preprocessor;

fn repo() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

fn iou(a: &[u8], b: &[u8]) -> f64 {
    let (mut inter, mut union) = (0u64, 0u64);
    for (&x, &y) in a.iter().zip(b) {
        let (x, y) = (x >= 128, y >= 128);
        inter += (x && y) as u64;
        union += (x || y) as u64;
    }
    inter as f64 / union as f64
}

#[test]
fn mask_of_the_portrait_matches_the_reference_made_with_the_model_directly() {
    let config = Segmentation {
        model: repo().join("models/selfie_segmentation.onnx"),
        ..Segmentation::default()
    };
    let env = viba_segmenter::runtime::init(&config).expect("ONNX Runtime (run scripts/setup.sh)");
    let mut model = Model::load(&env, &config).unwrap();
    assert_eq!((model.input_width, model.input_height), (256, 256));
    assert_eq!((model.mask_width, model.mask_height), (256, 256));

    let (w, h, rgb) = picture::load_rgb(&repo().join("testdata/astronaut.png")).unwrap();
    let (w, h) = (w as usize, h as usize);
    let mut frame = vec![0u8; w * h * 2];
    yuv::rgb_to_yuyv(&rgb, w, h, &mut frame);
    // A square photo in a square model: the whole input either way.
    let place = viba_segmenter::fit::place(config.fit, (w, h), (256, 256), (256, 256));
    assert_eq!((place.input.width, place.input.height), (256, 256));
    let mut pre = Preprocessor::new(256, 256, place.input, model.layout, config.mean, config.std);
    pre.prepare(&frame, w, h);
    let mut mask = vec![0u8; 256 * 256];
    model.run(&pre.tensor, &mut mask).unwrap();

    let (rw, rh, reference) =
        picture::load_rgb(&repo().join("testdata/astronaut_mask_256.png")).unwrap();
    assert_eq!((rw, rh), (256, 256));
    let reference: Vec<u8> = reference.chunks_exact(3).map(|p| p[0]).collect();
    let score = iou(&mask, &reference);
    eprintln!("IoU against the reference mask: {score:.4}");
    assert!(score >= 0.97, "IoU {score:.4} against the reference mask");
    // And the mask is not trivially all-person or all-background.
    let person = mask.iter().filter(|&&m| m >= 128).count() as f64 / mask.len() as f64;
    assert!((0.4..0.7).contains(&person), "person fraction {person}");
}
