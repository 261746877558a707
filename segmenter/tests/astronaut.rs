//! The segmenter's Rust path (YUYV frame -> fast_image_resize -> RGB/255 -> ONNX Runtime ->
//! u8 mask) on the portrait photo, against the reference mask made by running the same model
//! directly from Python (testdata/make_reference_mask.py, see testdata/PROVENANCE.md); and
//! the steps after the model in a real segmenter (the plate learning what the islands drop).

use std::path::Path;
use viba_common::config::Segmentation;
use viba_common::yuv;
use viba_segmenter::model::{Drive, Model};
use viba_segmenter::preprocess::Preprocessor;

/// ONNX Runtime allows one environment per process, ever, and the tests of this file run in
/// one process: they share it (loaded as the segmenter loads it, with the default settings).
fn environment() -> &'static ort::environment::Environment {
    static ENV: std::sync::OnceLock<ort::environment::Environment> = std::sync::OnceLock::new();
    ENV.get_or_init(|| {
        viba_segmenter::runtime::init(&Segmentation::default())
            .expect("ONNX Runtime (run scripts/setup.sh)")
    })
}

fn repo() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

/// Loads an 8-bit PNG as RGB, `(width, height, pixels)`, as `viba_media::picture::load_rgb`
/// does (palettes expanded, grey repeated in R, G and B, alpha dropped); the `png` crate
/// directly, as the segmenter uses neither `viba-media` nor `image`.
fn load_rgb(path: &Path) -> (u32, u32, Vec<u8>) {
    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut decoder = png::Decoder::new(std::io::BufReader::new(file));
    decoder.set_transformations(png::Transformations::EXPAND);
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0u8; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!(info.bit_depth, png::BitDepth::Eight, "{}", path.display());
    let pixels = &buf[..info.buffer_size()];
    let rgb = match info.color_type {
        png::ColorType::Rgb => pixels.to_vec(),
        png::ColorType::Rgba => pixels
            .chunks_exact(4)
            .flat_map(|p| [p[0], p[1], p[2]])
            .collect(),
        png::ColorType::Grayscale => pixels.iter().flat_map(|&l| [l, l, l]).collect(),
        png::ColorType::GrayscaleAlpha => pixels.chunks_exact(2).flat_map(|p| [p[0]; 3]).collect(),
        png::ColorType::Indexed => unreachable!("expanded to RGB"),
    };
    (info.width, info.height, rgb)
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
    let env = environment();
    let mut model = Model::load(env, &config).unwrap();
    assert_eq!((model.input_width, model.input_height), (256, 256));
    assert_eq!((model.mask_width, model.mask_height), (256, 256));

    let (w, h, rgb) = load_rgb(&repo().join("testdata/astronaut.png"));
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

    let (rw, rh, reference) = load_rgb(&repo().join("testdata/astronaut_mask_256.png"));
    assert_eq!((rw, rh), (256, 256));
    let reference: Vec<u8> = reference.chunks_exact(3).map(|p| p[0]).collect();
    let score = iou(&mask, &reference);
    eprintln!("IoU against the reference mask: {score:.4}");
    assert!(score >= 0.97, "IoU {score:.4} against the reference mask");
    // And the mask is not trivially all-person or all-background.
    let person = mask.iter().filter(|&&m| m >= 128).count() as f64 / mask.len() as f64;
    assert!((0.4..0.7).contains(&person), "person fraction {person}");
}

/// The bound drive (input and output in buffers bound once, as the CUDA path runs; here with
/// the CPU provider and CPU buffers) gives the plain drive's masks byte for byte, and each run
/// reads its own input: the portrait, its mirror image, the portrait again.
#[test]
fn a_bound_session_gives_the_plain_sessions_masks_run_after_run() {
    let config = Segmentation {
        model: repo().join("models/selfie_segmentation_landscape.onnx"),
        ..Segmentation::default()
    };
    let env = environment();
    let mut plain = Model::load(env, &config).unwrap();
    let bound = Drive {
        bound: true,
        graph: false,
        blocking_sync: false,
    };
    let mut bound = Model::load_with(env, &config, bound).unwrap();
    // Drives that cannot be had are refused, not quietly run as another.
    for (drive, why) in [
        (
            Drive {
                bound: false,
                graph: true,
                blocking_sync: false,
            },
            "needs bound buffers",
        ),
        (
            Drive {
                bound: true,
                graph: true,
                blocking_sync: false,
            },
            "need the cuda provider",
        ),
        (
            Drive {
                bound: false,
                graph: false,
                blocking_sync: true,
            },
            "need the cuda provider",
        ),
    ] {
        let err = Model::load_with(env, &config, drive)
            .err()
            .expect("refused");
        assert!(err.to_string().contains(why), "{drive:?}: {err}");
    }

    let (w, h, rgb) = load_rgb(&repo().join("testdata/astronaut.png"));
    let (w, h) = (w as usize, h as usize);
    let mirror: Vec<u8> = rgb
        .chunks_exact(w * 3)
        .flat_map(|row| row.chunks_exact(3).rev().flatten().copied())
        .collect();
    let place = viba_segmenter::fit::place(
        config.fit,
        (w, h),
        (plain.input_width, plain.input_height),
        (plain.mask_width, plain.mask_height),
    );
    let mut pre = Preprocessor::new(
        plain.input_width,
        plain.input_height,
        place.input,
        plain.layout,
        config.mean,
        config.std,
    );
    let n = plain.mask_width * plain.mask_height;
    let mut masks = Vec::new();
    for picture in [&rgb, &mirror, &rgb] {
        let mut frame = vec![0u8; w * h * 2];
        yuv::rgb_to_yuyv(picture, w, h, &mut frame);
        pre.prepare(&frame, w, h);
        let (mut a, mut b) = (vec![0u8; n], vec![7u8; n]);
        plain.run(&pre.tensor, &mut a).unwrap();
        bound.run(&pre.tensor, &mut b).unwrap();
        assert!(
            a == b,
            "the bound drive's mask differs from the plain one's"
        );
        masks.push(a);
    }
    assert_ne!(masks[0], masks[1], "the mirror image gives another mask");
    assert_eq!(masks[0], masks[2]);
    // A tensor of the wrong size is refused, not copied.
    let err = bound.run(&pre.tensor[1..], &mut masks[0]).unwrap_err();
    assert!(err.to_string().contains("floats"), "{err}");
}

/// The segmenter with its AVX2 twins (where this CPU has AVX2 and FMA) gives the baseline
/// loops' masks byte for byte, frame after frame, with the plate learning and the smoothing
/// working: the portrait at 640x360, panned, through the real model.
#[test]
fn the_wide_loops_give_the_baseline_masks() {
    let text = serde_json::json!({
        "input": { "source": "image", "path": repo().join("testdata/astronaut.png"),
                   "width": 640, "height": 360 },
        "output": { "sink": "file", "path": "/dev/null" },
        "background": { "color": "#000000" },
        "segmentation": { "model": repo().join("models/selfie_segmentation_landscape.onnx") },
    })
    .to_string();
    let config = viba_common::config::parse(&text, Path::new("(test)"), repo()).unwrap();
    if !viba_common::simd::wide() {
        eprintln!("this CPU has no AVX2 and FMA: both run the baseline loops");
    }
    let env = environment();
    let load = || Model::load(env, &config.segmentation).unwrap();
    let mut wide = viba_segmenter::Segmenter::with_model(load(), &config);
    let mut narrow = viba_segmenter::Segmenter::with_model(load(), &config).narrow();
    // Without the plate, and without the smoothing, to see that each changed the masks.
    let without = |plate: bool, smoothing: f32| {
        let mut c = config.clone();
        c.segmentation.plate = plate;
        c.segmentation.smoothing = smoothing;
        viba_segmenter::Segmenter::with_model(load(), &c)
    };
    let mut others = [without(false, 0.8), without(true, 0.0)];
    let (pw, ph, rgb) = load_rgb(&repo().join("testdata/astronaut.png"));
    let (pw, ph) = (pw as usize, ph as usize);
    let (w, h) = (640, 360);
    let mut changed = [0; 2];
    for i in 0..40 {
        // The photo's middle rows, panned by 3 pixels a frame (wrapping round).
        let mut picture = vec![0u8; w * h * 3];
        for y in 0..h {
            for x in 0..w {
                let (sx, sy) = ((x * pw / w + 3 * i) % pw, (y + (ph - h) / 2).min(ph - 1));
                picture[(y * w + x) * 3..][..3].copy_from_slice(&rgb[(sy * pw + sx) * 3..][..3]);
            }
        }
        let mut frame = vec![0u8; w * h * 2];
        yuv::rgb_to_yuyv(&picture, w, h, &mut frame);
        let t = i as u64 * 33_000_000;
        let a = wide.segment(&frame, t).unwrap().to_vec();
        let b = narrow.segment(&frame, t).unwrap();
        assert!(a == b, "frame {i}: the wide loops' mask differs");
        for (other, changed) in others.iter_mut().zip(&mut changed) {
            *changed += (other.segment(&frame, t).unwrap() != a) as usize;
        }
    }
    eprintln!("masks changed by the plate, by the smoothing: {changed:?} of 40");
    assert!(changed[0] >= 5 && changed[1] >= 20, "{changed:?}");
}

/// A real segmenter (landscape model, 256x144 cells; no smoothing, islands 0.1) for masks of
/// our own, after the model, on a plain grey frame (prepared).
fn islands_segmenter(plate: bool) -> viba_segmenter::Segmenter {
    let text = serde_json::json!({
        "input": { "source": "image", "path": repo().join("testdata/astronaut.png"),
                   "width": 640, "height": 360 },
        "output": { "sink": "file", "path": "/dev/null" },
        "background": { "color": "#000000" },
        "segmentation": { "model": repo().join("models/selfie_segmentation_landscape.onnx"),
                          "smoothing": 0.0, "islands": 0.1, "plate": plate },
    })
    .to_string();
    let config = viba_common::config::parse(&text, Path::new("(test)"), repo()).unwrap();
    let model = Model::load(environment(), &config.segmentation).unwrap();
    let mut seg = viba_segmenter::Segmenter::with_model(model, &config);
    assert_eq!(seg.mask_size(), (256, 144));
    assert!(seg.prepare(&vec![128u8; 640 * 360 * 2]));
    seg
}

/// A model output of 256x144 cells: the person, the left half; a blob of 10x10 cells at
/// `blob` well to its right (under a tenth of it: an island); with `joined`, a bridge of cells
/// at 220 that joins the two.
fn person_and_blob(blob: u8, joined: bool) -> Vec<u8> {
    let (w, h) = (256, 144);
    (0..w * h)
        .map(|k| {
            let (x, y) = (k % w, k / w);
            if x < w / 2 {
                255
            } else if (180..190).contains(&x) && (60..70).contains(&y) {
                blob
            } else if joined && (w / 2..180).contains(&x) && (63..67).contains(&y) {
                220
            } else {
                0
            }
        })
        .collect()
}

/// The blob's centre, a bridge cell, and the person's cell next to its edge (within the 8
/// cells of room shown where the plate may lower).
const CENTRE: usize = 65 * 256 + 185;
const BRIDGE: usize = 65 * 256 + 150;
const INSIDE: usize = 30 * 256 + 128 - 3;

fn at(i: u64) -> u64 {
    i * 33_000_000
}

/// The plate learns the room as the picture shows it: a part of the mask dropped as an island
/// is learnt as room, so when the model later joins it to the person (a blanket that the
/// grown shoulder touches), the plate lowers it there.
#[test]
fn a_dropped_island_is_learnt_as_room() {
    let mut seg = islands_segmenter(true);
    // The model sure of the blob (0.94): the islands' hold lets it back at once when it is
    // joined, so what lowers it below is the plate.
    let apart = person_and_blob(240, false);
    for i in 0..16 {
        let mask = seg.infer_output(&apart, at(i));
        assert_eq!(mask[CENTRE], 0, "mask {i}: the island is dropped");
        assert_eq!(mask[INSIDE], 255, "mask {i}");
    }
    // The person grows over the bridge: the frame there is no longer the grey room (so the
    // plate leaves it alone whatever it learnt there); the blob is the room it always was.
    let mut frame = vec![128u8; 640 * 360 * 2];
    for y in 155..170 {
        for x in 320..450 {
            frame[(y * 640 + x) * 2] = 30;
        }
    }
    assert!(seg.prepare(&frame));
    let mask = seg.infer_output(&person_and_blob(240, true), at(16));
    assert_eq!(mask[INSIDE], 255, "the person is never lowered");
    assert!(
        mask[CENTRE] < 40,
        "joined, the part learnt as room is lowered: {}",
        mask[CENTRE]
    );
    // The bridge (other colour than the room learnt there) is kept.
    assert_eq!(mask[BRIDGE], 220);
}

/// A part dropped as an island stays dropped for half a second (15 masks 33 ms apart) while
/// the model, joining it to the person again, is unsure of it (`hold.rs`); the model sure of
/// it, it is back at once.
#[test]
fn a_dropped_island_stays_dropped_while_the_model_is_unsure_of_it() {
    let mut seg = islands_segmenter(false);
    assert_eq!(
        seg.infer_output(&person_and_blob(200, false), at(0))[CENTRE],
        0
    );
    for i in 1..=16 {
        let mask = seg.infer_output(&person_and_blob(200, true), at(i));
        let expected = if i <= 15 { 0 } else { 200 };
        assert_eq!(mask[CENTRE], expected, "mask {i}");
        assert_eq!((mask[INSIDE], mask[BRIDGE]), (255, 220), "mask {i}");
    }
    assert_eq!(
        seg.infer_output(&person_and_blob(200, false), at(17))[CENTRE],
        0
    );
    assert_eq!(
        seg.infer_output(&person_and_blob(240, true), at(18))[CENTRE],
        240
    );
}

/// `segmentation.zoom` on a 1280x720 frame: the portrait (480x480, at the bottom in the middle
/// of a grey frame) is a person narrower than the frame's height. The first frame is segmented whole;
/// from the second on, the square model runs on a square around the person, and its mask in
/// the frame's cells matches the square model run on that square alone, averaged into the
/// frame's cells by exact overlap. The photo stretched over the whole frame is too wide:
/// segmented whole.
#[test]
fn a_narrow_person_is_segmented_in_a_square_around_them() {
    // At three places: the square's pixels and the cells (5 pixels) line up, or do not (the
    // test checks that both happen).
    narrow_person_in_a_square((1280, 720), 480, &[400, 404, 412]);
}

/// The same on a 640x480 frame (4:3: the landscape model's cells are 2.5 x 3.33 pixels, the
/// square 480 pixels on a side), the portrait 320x320.
#[test]
fn a_narrow_person_is_segmented_in_a_square_around_them_at_4_3() {
    narrow_person_in_a_square((640, 480), 320, &[160, 166, 176]);
}

/// The zoom's test on frames of `(w, h)` (the landscape model's, so 256x144 cells), the
/// portrait `photo` pixels on a side at the bottom, its left edge at each of `lefts`.
fn narrow_person_in_a_square((w, h): (usize, usize), photo: usize, lefts: &[usize]) {
    let text = serde_json::json!({
        "input": { "source": "image", "path": repo().join("testdata/astronaut.png"),
                   "width": w, "height": h },
        "output": { "sink": "file", "path": "/dev/null" },
        "background": { "color": "#000000" },
        "segmentation": { "model": "auto", "smoothing": 0.0, "islands": 0.0, "plate": false },
    })
    .to_string();
    let config = viba_common::config::parse(&text, Path::new("(test)"), repo()).unwrap();
    let seg = &config.segmentation;
    assert!(seg.model.ends_with("selfie_segmentation_landscape.onnx"));
    let square_model = seg
        .zoom_model
        .clone()
        .expect("auto, stretch, the landscape model: the zoom is on");
    assert!(square_model.ends_with("selfie_segmentation.onnx"));
    let load = |path: &Path| {
        let mut s = seg.clone();
        s.model = path.to_owned();
        Model::load(environment(), &s).unwrap()
    };
    let segmenter = || {
        viba_segmenter::Segmenter::with_models(load(&seg.model), Some(load(&square_model)), &config)
    };

    let (pw, ph, rgb) = load_rgb(&repo().join("testdata/astronaut.png"));
    let (pw, ph) = (pw as usize, ph as usize);
    let side = h;
    // The cells' size in pixels.
    let (cw, ch) = (w as f64 / 256.0, h as f64 / 144.0);
    // The photo scaled to photo x photo at x left..left + photo, at the bottom (nearest), grey
    // around it; or stretched over the whole frame.
    let frame_of = |stretched: bool, left: usize| {
        let mut picture = vec![128u8; w * h * 3];
        for y in 0..h {
            for x in 0..w {
                let (sx, sy, inside) = if stretched {
                    (x * pw / w, y * ph / h, true)
                } else {
                    let inside = (left..left + photo).contains(&x) && y >= h - photo;
                    if inside {
                        (
                            (x - left) * pw / photo,
                            (y - (h - photo)) * ph / photo,
                            true,
                        )
                    } else {
                        (0, 0, false)
                    }
                };
                if inside {
                    let s = (sy * pw + sx) * 3;
                    picture[(y * w + x) * 3..][..3].copy_from_slice(&rgb[s..s + 3]);
                }
            }
        }
        let mut frame = vec![0u8; w * h * 2];
        yuv::rgb_to_yuyv(&picture, w, h, &mut frame);
        frame
    };
    let t = |i: u64| i * 33_000_000;
    // Whether a square at x starts on a cell's edge.
    let (mut on_edge, mut off_edge) = (false, false);
    for &left in lefts {
        let mut segmenter = segmenter();
        assert_eq!(segmenter.mask_size(), (256, 144));
        let frame = frame_of(false, left);
        let first = segmenter.segment(&frame, t(0)).unwrap().to_vec();
        assert_eq!(
            segmenter.zoom().unwrap().square(),
            None,
            "the first frame is segmented whole"
        );
        let mask = segmenter.segment(&frame, t(1)).unwrap().to_vec();
        let x = segmenter
            .zoom()
            .unwrap()
            .square()
            .expect("a square around the person");
        if x * 256 % w == 0 {
            on_edge = true;
        } else {
            off_edge = true;
        }
        let centred = left + photo / 2 - side / 2;
        assert!(
            x.abs_diff(centred) <= side / 9,
            "the square at {x}; {centred} is centred on the photo"
        );
        // The square model run on the square alone (a frame of its own, prepared whole): its
        // 256x256 mask averaged by exact overlap into the frame's cells that lie wholly in the
        // square (cell c covers the frame's pixels c*cw..(c+1)*cw, the square's c*cw-x..).
        let mut square = vec![0u8; side * side * 2];
        for y in 0..side {
            square[y * side * 2..(y + 1) * side * 2]
                .copy_from_slice(&frame[(y * w + x) * 2..][..side * 2]);
        }
        let mut model = load(&square_model);
        let all = viba_segmenter::fit::Rect {
            x: 0,
            y: 0,
            width: 256,
            height: 256,
        };
        let mut pre = Preprocessor::new(256, 256, all, model.layout, seg.mean, seg.std);
        pre.prepare(&square, side, side);
        let mut alone = vec![0u8; 256 * 256];
        model.run(&pre.tensor, &mut alone).unwrap();
        let grid = viba_segmenter::zoom::Grid {
            frame: (w, h),
            cells: (256, 144),
        };
        let (c0, c1) = grid.columns(x, side);
        assert!(
            (c1 - c0) as f64 >= side as f64 / cw - 1.0,
            "{c0}..{c1}: every cell wholly in the square"
        );
        let mut expected = vec![0u8; 256 * 144];
        // The overlap of model cell `m` (the square's pixels m*side/256..) with pixels lo..hi.
        let m_px = side as f64 / 256.0;
        let overlap = |m: usize, lo: f64, hi: f64| {
            let (a, b) = (m as f64 * m_px, (m + 1) as f64 * m_px);
            (b.min(hi) - a.max(lo)).max(0.0)
        };
        let near = |lo: f64, hi: f64| (lo / m_px) as usize..((hi / m_px).ceil() as usize).min(256);
        for r in 0..144 {
            for c in c0..c1 {
                let (x0, x1) = (c as f64 * cw - x as f64, (c + 1) as f64 * cw - x as f64);
                let (y0, y1) = (r as f64 * ch, (r + 1) as f64 * ch);
                let (mut sum, mut weight) = (0.0, 0.0);
                for my in near(y0, y1) {
                    for mx in near(x0, x1) {
                        let o = overlap(mx, x0, x1) * overlap(my, y0, y1);
                        sum += o * alone[my * 256 + mx] as f64;
                        weight += o;
                    }
                }
                expected[r * 256 + c] = (sum / weight).round() as u8;
            }
        }
        let zoomed = iou(&mask, &expected);
        // The zoom averages with a box filter (a model cell counts whole where its centre lies in
        // the frame's cell), not by exact overlap: up to 60 apart at the outline, not elsewhere. A
        // mask placed one cell off brings the IoU to about 0.95.
        let mean = mask
            .iter()
            .zip(&expected)
            .map(|(&a, &b)| a.abs_diff(b) as f64)
            .sum::<f64>()
            / mask.len() as f64;
        eprintln!(
            "{w}x{h}, photo at {left}, square at {x}: the zoomed mask against the square model on the square alone: IoU {zoomed:.4}, mean difference {mean:.3}"
        );
        assert!(
            zoomed > 0.985 && mean < 1.0,
            "IoU {zoomed}, mean difference {mean}"
        );
        assert!(iou(&mask, &first) < 0.99, "the zoom changed the mask");
        // Outside the square's columns the mask is room.
        assert!(mask
            .chunks_exact(256)
            .all(|row| row[..c0].iter().chain(&row[c1..]).all(|&m| m == 0)));
    }

    assert!(
        on_edge && off_edge,
        "squares on a cell's edge and off it: {on_edge} {off_edge}"
    );

    // Stretched over the whole frame the person is too wide for a square: every frame whole.
    let mut segmenter = segmenter();
    let wide = frame_of(true, 0);
    for i in 0..4 {
        segmenter.segment(&wide, t(i)).unwrap();
        assert_eq!(segmenter.zoom().unwrap().square(), None, "frame {i}");
    }
}

/// A `w x h` YUYV frame, grey, with the portrait scaled to `size` x `size` (nearest) at the
/// bottom, its left edge at `left`, for each `(size, left)` of `photos`.
fn portraits(w: usize, h: usize, photos: &[(usize, usize)]) -> Vec<u8> {
    let (pw, ph, rgb) = load_rgb(&repo().join("testdata/astronaut.png"));
    let (pw, ph) = (pw as usize, ph as usize);
    let mut picture = vec![128u8; w * h * 3];
    for &(size, left) in photos {
        for y in h - size..h {
            for x in left..left + size {
                let (sx, sy) = ((x - left) * pw / size, (y - (h - size)) * ph / size);
                let s = (sy * pw + sx) * 3;
                picture[(y * w + x) * 3..][..3].copy_from_slice(&rgb[s..s + 3]);
            }
        }
    }
    let mut frame = vec![0u8; w * h * 2];
    yuv::rgb_to_yuyv(&picture, w, h, &mut frame);
    frame
}

/// A second person who comes in beside the square (a colleague leaning in) shows in the mask
/// within the masks from one look to the next (`zoom::LOOK_NS`: 15 at 30 a second) and a few
/// more (the smoothing's rise on still colour): the frame model looks at the whole frame every
/// so often while the square model segments the square. Before they came, those looks kept
/// the square. And they show whole: the plate did not learn them as room while the square hid
/// them. (The second photo is larger: of two equal photos side by side the landscape model
/// finds one, or neither.)
#[test]
fn a_second_person_beside_the_square_is_found() {
    let (w, h) = (1280, 720);
    let text = serde_json::json!({
        "input": { "source": "image", "path": repo().join("testdata/astronaut.png"),
                   "width": w, "height": h },
        "output": { "sink": "file", "path": "/dev/null" },
        "background": { "color": "#000000" },
        "segmentation": { "model": "auto" },
    })
    .to_string();
    let config = viba_common::config::parse(&text, Path::new("(test)"), repo()).unwrap();
    let seg = &config.segmentation;
    let load = |path: &Path| {
        let mut s = seg.clone();
        s.model = path.to_owned();
        Model::load(environment(), &s).unwrap()
    };
    let square_model = seg.zoom_model.clone().expect("the zoom is on");
    let mut segmenter = viba_segmenter::Segmenter::with_models(
        load(&seg.model),
        Some(load(&square_model)),
        &config,
    );
    // Masks 33 ms apart: a look every 15.
    let look = 15;
    let t = |i: u64| i * 33_000_000;
    // One person at the left (pixels 120..520): a square around them (0..720), kept through
    // three looks.
    let alone = portraits(w, h, &[(400, 120)]);
    let mut i = 0;
    while i < 3 * look + 2 {
        segmenter.segment(&alone, t(i)).unwrap();
        if i >= 1 {
            let x = segmenter.zoom().unwrap().square();
            assert_eq!(x, Some(0), "mask {i}: the square at the frame's left, kept");
        }
        i += 1;
    }
    // A second one at the right (pixels 740..1260, cells 148..252), outside the square.
    let both = portraits(w, h, &[(400, 120), (520, 740)]);
    let second = |mask: &[u8]| {
        let row = |r: &[u8]| r[148..252].iter().filter(|&&m| m >= 128).count();
        mask.chunks_exact(256).map(row).sum::<usize>()
    };
    // What the frame model shows of them on its own (about 5700 cells).
    let whole = second(
        viba_segmenter::Segmenter::with_model(load(&seg.model), &config)
            .segment(&both, t(0))
            .unwrap(),
    );
    assert!(
        whole > 2000,
        "the frame model sees the second person: {whole} cells"
    );
    let came = i;
    let mut shown = 0;
    while i < came + look + 8 && shown < whole / 2 {
        shown = second(segmenter.segment(&both, t(i)).unwrap());
        i += 1;
    }
    assert!(
        shown >= whole / 2,
        "{} masks after they came the second person shows in {shown} cells of {whole}",
        i - came
    );
    // Not lowered by the plate: outside the square it learnt only from the looks, and the
    // one look since they came saw them.
    for _ in 0..10 {
        shown = second(segmenter.segment(&both, t(i)).unwrap());
        i += 1;
    }
    assert!(shown >= whole * 8 / 10, "{shown} cells of {whole}");
    assert_eq!(segmenter.zoom().unwrap().square(), None, "the whole frame");
}
