//! Property tests ("fuzzing" bounded by a number of cases, not by time) of the parsers that take
//! what a user writes or hands in: the config and CPU lists (the Y4M frame walk's are in
//! `common/media/tests/fuzz.rs`). Whatever the input, they answer with a value or an error, never
//! a panic; and what they accept holds the limits the rest of viba relies on.

use proptest::prelude::*;
use serde_json::{json, Value};
use std::path::Path;
use viba_common::config;

/// A config that parses here: synthetic input, no output, a colour background, the bundled
/// model (relative to the repository's root, the base folder used).
fn base() -> Value {
    json!({
        "input": {"source": "synthetic", "width": 640, "height": 360, "fps": 30},
        "output": {"sink": "null"},
        "background": {"color": "#336699"},
        "segmentation": {"model": "models/selfie_segmentation_landscape.onnx"}
    })
}

fn repo() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

/// Every key path a user may write, with a few that do not exist.
const KEYS: &[&str] = &[
    "/instance",
    "/debug",
    "/input/source",
    "/input/device",
    "/input/path",
    "/input/width",
    "/input/height",
    "/input/fps",
    "/input/format",
    "/input/prefer",
    "/input/motion",
    "/input/loop",
    "/input/pace",
    "/output/sink",
    "/output/device",
    "/output/format",
    "/output/path",
    "/output/snapshot",
    "/output/max_frames",
    "/output/idle_when_unused",
    "/output/mirror",
    "/background/image",
    "/background/color",
    "/background/blur",
    "/background/video",
    "/background/fallback",
    "/segmentation/model",
    "/segmentation/fit",
    "/segmentation/threshold",
    "/segmentation/softness",
    "/segmentation/smoothing",
    "/segmentation/islands",
    "/segmentation/plate",
    "/segmentation/execution_provider",
    "/segmentation/threads",
    "/segmentation/mean",
    "/segmentation/std",
    "/segmentation/onnxruntime",
    "/segmentation/cuda_device",
    "/compositor/max_mask_age_ms",
    "/compositor/mask_wait_ms",
    "/compositor/refine",
    "/compositor/refine_radius",
    "/compositor/refine_eps",
    "/compositor/refine_passes",
    "/compositor/soft_edges",
    "/stages/capture/cpus",
    "/stages/segmenter/nice",
    "/stages/compositor/cpus",
    "/restart/backoff_ms",
    "/restart/max_backoff_ms",
    "/restart/stable_ms",
    "/restart/crash_loop_after",
    "/nonsense",
    "/input/nonsense",
];

/// JSON values of every kind, with the edges of number ranges and text that is not ASCII.
fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        prop_oneof![
            Just(0.0f64),
            Just(-0.0),
            Just(1e308),
            Just(-1e308),
            Just(f64::MIN_POSITIVE),
            -2.0f64..2.0,
            -1e6f64..1e6
        ]
        .prop_map(Value::from),
        prop_oneof![
            Just(0i64),
            Just(-1),
            Just(1),
            Just(2),
            Just(4096),
            Just(4097),
            Just(u32::MAX as i64),
            Just(u32::MAX as i64 + 1),
        ]
        .prop_map(Value::from),
        "\\PC{0,12}".prop_map(Value::from),
        prop_oneof![
            Just("0-18446744073709551615"),
            Just("0-1000000000"),
            Just("#zzzzzz"),
            Just("#ff00ff"),
            Just("auto"),
            Just("/dev/null"),
            Just(""),
            Just("é"),
            Just("1-0"),
        ]
        .prop_map(Value::from),
    ];
    leaf.prop_recursive(2, 8, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::btree_map("[a-z_]{1,8}", inner, 0..3)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn set(config: &mut Value, pointer: &str, v: Value) {
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    let parent = if parent.is_empty() {
        Some(&mut *config)
    } else {
        if config.pointer(parent).is_none() {
            let (grand, name) = parent.rsplit_once('/').unwrap();
            let g = if grand.is_empty() {
                Some(&mut *config)
            } else {
                config.pointer_mut(grand)
            };
            if let Some(Value::Object(g)) = g {
                g.insert(name.into(), json!({}));
            }
        }
        config.pointer_mut(parent)
    };
    if let Some(Value::Object(p)) = parent {
        p.insert(key.into(), v);
    }
}

/// What viba relies on in a config that was accepted.
fn holds_its_limits(c: &config::Config) {
    let i = &c.input;
    assert!(i.width.is_multiple_of(2) && (2..=4096).contains(&i.width));
    assert!(i.height.is_multiple_of(2) && (2..=4096).contains(&i.height));
    assert!((1..=120).contains(&i.fps));
    let s = &c.segmentation;
    assert!(s.threshold > 0.0 && s.threshold < 1.0);
    assert!((0.0..=1.0).contains(&s.softness));
    assert!((0.0..=0.95).contains(&s.smoothing));
    assert!((1..=64).contains(&s.threads));
    assert!(s.std.iter().all(|v| v.is_finite() && *v != 0.0));
    if let viba_common::config::RefineRadius::Cells(r) = c.compositor.refine_radius {
        assert!((1..=8).contains(&r));
    }
    assert!((1..=4).contains(&c.compositor.refine_passes));
    assert!(c.restart.max_backoff_ms >= c.restart.backoff_ms);
    for stage in viba_common::stage::Stage::ALL {
        if let Some(cpus) = c.stage_cpus(stage) {
            assert!(cpus.iter().all(|&cpu| cpu < 1024));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn any_text_as_a_config_is_a_value_or_an_error(text in "\\PC{0,200}") {
        let _ = config::parse(&text, Path::new("viba.json"), repo());
    }

    #[test]
    fn any_values_at_any_keys_are_a_value_or_an_error(
        edits in prop::collection::vec((prop::sample::select(KEYS), value()), 1..5)
    ) {
        let mut c = base();
        for (key, v) in edits {
            set(&mut c, key, v);
        }
        if let Ok(parsed) = config::parse(&c.to_string(), Path::new("viba.json"), repo()) {
            holds_its_limits(&parsed);
        }
    }

    #[test]
    fn any_cpu_list_is_a_list_or_an_error(text in "[0-9,\\- ]{0,24}|\\PC{0,24}") {
        if let Ok(cpus) = config::cpus::parse(&text) {
            prop_assert!(cpus.iter().all(|&c| c < 1024));
            prop_assert!(cpus.windows(2).all(|w| w[0] < w[1]));
        }
    }
}
