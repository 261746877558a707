//! Unit tests of the numbers made from snapshots: deltas and ratios, medians of rounds,
//! target checks, the reports and the config of a run.

use super::metrics::medians;
use super::options::mjpeg_path;
use super::*;
use std::path::Path;
use viba_common::stats::HIST_BUCKETS;

fn snap(at_s: f64, frames: u64, ticks: [u64; 4], latency_bucket: usize) -> Snapshot {
    let mut stages: [StageSnapshot; 3] = Default::default();
    for (i, s) in stages.iter_mut().enumerate() {
        s.pid = 100 + i as u32;
        s.ticks = Some(ticks[i]);
        s.rss_kib = Some(1024 * (10 + i as u64));
        s.switches = Some(frames * (i as u64 + 1));
        s.hist = vec![0; HIST_BUCKETS];
    }
    stages[0].frames = frames;
    stages[1].frames = frames / 2;
    stages[1].busy_ns = frames / 2 * 20_000_000;
    let c = &mut stages[2];
    c.frames = frames;
    c.fresh_masks = frames / 2;
    c.background_only = frames / 10;
    c.mask_age_frames_sum = frames;
    c.hist[latency_bucket] = frames as u32;
    Snapshot {
        at_s,
        stages,
        supervisor_ticks: Some(ticks[3]),
        supervisor_rss_kib: Some(512),
        supervisor_switches: Some(at_s as u64 * 10),
        bench_ticks: Some(0),
        system: Some(SystemTicks {
            busy: ticks.iter().sum::<u64>() + at_s as u64 * 50,
            steal: 0,
        }),
    }
}

#[test]
fn deltas_and_ratios() {
    let a = snap(1.0, 100, [10, 100, 20, 1], 0);
    let mut b = snap(11.0, 400, [40, 400, 80, 2], 0);
    // 300 new composites, latency 15 ms for all but 4 at 40 ms.
    b.stages[2].hist[0] = 100;
    b.stages[2].hist[149] = 296;
    b.stages[2].hist[399] = 4;
    let m = measure(&a, &b, 100.0);
    assert!((m.seconds - 10.0).abs() < 1e-9);
    assert_eq!(m.output_frames, 300);
    assert!((m.output_fps - 30.0).abs() < 1e-9);
    assert!((m.masks_per_s - 15.0).abs() < 1e-9);
    assert_eq!(m.masks_per_output_frame, Some(0.5));
    assert_eq!(m.background_only, 30);
    // 300 frames of age, over the 270 composites that showed the person.
    assert!((m.mean_mask_age_frames.unwrap() - 300.0 / 270.0).abs() < 1e-9);
    assert_eq!(m.latency_p50_ms, Some(15.0));
    assert_eq!(m.latency_p99_ms, Some(40.0));
    assert_eq!(m.segmenter_busy_ms_per_mask, Some(20.0));
    // segmenter: 300 ticks = 3000 ms over 300 frames.
    assert_eq!(m.cpu[1].ms_per_frame, Some(10.0));
    assert_eq!(m.cpu[1].percent, Some(30.0));
    // 30 + 300 + 60 + 1 ticks = 3910 ms / 300 frames.
    assert!((m.total_cpu_ms_per_frame.unwrap() - 3910.0 / 300.0).abs() < 1e-9);
    // 500 ticks of foreign load over 10 s at 100 ticks/s.
    assert!((m.other_load_cpus.unwrap() - 0.5).abs() < 1e-9);
    // Resident memory at the end of the window: 10, 11, 12 MiB and 0.5 MiB.
    let names: Vec<&str> = m.resident.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["capture", "segmenter", "compositor", "supervisor"]);
    assert_eq!(m.resident[2].mib, Some(12.0));
    assert_eq!(m.total_resident_mib, Some(33.5));
    assert!(m.warnings.is_empty());
}

#[test]
fn rounds_become_medians_and_a_failed_round_fails_the_size() {
    let a = snap(0.0, 100, [10, 100, 20, 1], 5);
    let size = Size {
        width: 640,
        height: 480,
    };
    let round = |ticks: u64, error: Option<&str>| SizeResult {
        size,
        measurement: error
            .is_none()
            .then(|| measure(&a, &snap(10.0, 400, [40, ticks, 80, 2], 5), 100.0)),
        error: error.map(str::to_owned),
        leftover_shm: Vec::new(),
        supervisor_exit: Some("exit status: 0".into()),
    };
    let rounds = [round(400, None), round(1000, None), round(700, None)];
    let m = medians(rounds.iter());
    assert!(m.error.is_none());
    // Segmenter ticks 300, 900, 600 over 300 frames: 10, 30, 20 ms; the median 20.
    assert_eq!(m.measurement.unwrap().cpu[1].ms_per_frame, Some(20.0));
    let failed = [round(400, None), round(0, Some("exited early"))];
    let m = medians(failed.iter());
    assert_eq!(m.error.as_deref(), Some("round 2: exited early"));
    assert!(m.measurement.is_some());
}

#[test]
fn a_restarted_stage_has_no_cpu_figure() {
    let a = snap(0.0, 100, [10, 100, 20, 1], 5);
    let mut b = snap(10.0, 400, [40, 400, 80, 2], 5);
    b.stages[1].pid = 999;
    let m = measure(&a, &b, 100.0);
    assert_eq!(m.cpu[1].ms_per_frame, None);
    assert_eq!(m.total_cpu_ms_per_frame, None);
    assert_eq!(m.warnings.len(), 1);
    let idle = measure(&a, &a, 100.0);
    assert_eq!(idle.output_frames, 0);
    assert_eq!(idle.masks_per_output_frame, None);
    assert_eq!(idle.latency_p99_ms, None);
}

#[test]
fn targets_pass_and_miss() {
    let a = snap(0.0, 0, [0, 0, 0, 0], 100);
    let b = snap(10.0, 300, [30, 300, 60, 1], 100);
    let m = measure(&a, &b, 100.0);
    let results = vec![SizeResult {
        size: Size {
            width: 1280,
            height: 720,
        },
        measurement: Some(m.clone()),
        error: None,
        leftover_shm: vec![],
        supervisor_exit: None,
    }];
    let checks = check_targets(&results, InputKind::Image);
    let verdicts: Vec<Option<bool>> = checks.iter().map(|c| c.pass).collect();
    // 640x480 not run, 720p fps pass, 720p CPU (13 ms) miss, 1080p not run, 720p latency
    // (10.1 ms) pass.
    assert_eq!(
        verdicts,
        vec![None, None, Some(true), Some(false), None, None, Some(true)]
    );
    assert_eq!(checks[1].target, "640x480 total CPU <= 3.1 ms/frame");
    // From an MJPEG camera: capture (1 ms) within 3 ms, the whole pipeline (13 ms) over 7.3.
    let checks = check_targets(&results, InputKind::Mjpeg);
    let verdicts: Vec<Option<bool>> = checks.iter().map(|c| c.pass).collect();
    assert_eq!(
        verdicts,
        vec![
            Some(true),
            Some(true),
            Some(false),
            None,
            None,
            None,
            Some(true)
        ]
    );
    assert_eq!(
        checks[1].target,
        "720p MJPEG capture (decode included) <= 3 ms/frame"
    );
    assert_eq!(checks[1].measured, "1.00 ms/frame");
    assert_eq!(checks[5].target, "1080p total CPU <= 14 ms/frame");
    let table = format_summary(&results);
    assert!(table.contains("1280x720"));
    assert!(format_targets(&checks).contains("MISS"));
    assert!(format_measurement(results[0].size, &m).contains("masks per output frame"));
    let options = Options {
        sizes: vec![results[0].size],
        seconds: 1.0,
        warmup: 0.0,
        fps: 30,
        pace: Pace::Fast,
        model: "m.onnx".into(),
        provider: Provider::Cpu,
        input: InputKind::Synthetic,
        image: "a.png".into(),
        background: "b.jpg".into(),
        pinning: Pinning::defaults(2),
        supervisor: "viba-supervisor".into(),
        patch: serde_json::json!({}),
        repeat: 1,
        idle: None,
    };
    let config = config_json(
        &options,
        results[0].size,
        "bench-1-1280x720",
        Path::new("/tmp/run"),
    );
    assert_eq!(config["input"]["pace"], "fast");
    assert_eq!(config["input"]["width"], 1280);
    // Every input gives a config viba accepts; the MJPEG clip is made as a run makes it.
    let dir = tempfile::tempdir().unwrap();
    let clip = mjpeg_clip::write(
        &repo_dir().join("testdata/astronaut.png"),
        (320, 240),
        &mjpeg_path(dir.path()),
    );
    assert!(clip.is_ok_and(|bytes| bytes > 1000));
    for input in [InputKind::Image, InputKind::Synthetic, InputKind::Mjpeg] {
        let options = Options {
            input,
            // viba-bench's default: the default config's model.
            model: "auto".into(),
            image: repo_dir().join("testdata/astronaut.png"),
            background: repo_dir().join("backgrounds/default.jpg"),
            ..options.clone()
        };
        let json = config_json(&options, results[0].size, "bench-1", dir.path());
        let parsed = viba_common::config::parse(&json.to_string(), Path::new("x"), Path::new("/"));
        assert!(parsed.is_ok(), "{input:?}: {parsed:?}");
    }
    assert_eq!(config["stages"]["segmenter"]["cpus"], "1");
    assert_eq!(config["output"]["sink"], "null");
    // `--idle DEVICE`: the loopback sink, idling while nobody reads it; a config viba accepts.
    let options = Options {
        idle: Some("/dev/video20".into()),
        model: repo_dir().join("models/selfie_segmentation_landscape.onnx"),
        image: repo_dir().join("testdata/astronaut.png"),
        background: repo_dir().join("backgrounds/default.jpg"),
        input: InputKind::Image,
        ..options
    };
    let json = config_json(&options, results[0].size, "bench-1", dir.path());
    assert_eq!(json["output"]["sink"], "v4l2loopback");
    assert_eq!(json["output"]["device"], "/dev/video20");
    assert_eq!(json["output"]["idle_when_unused"], true);
    let parsed = viba_common::config::parse(&json.to_string(), Path::new("x"), Path::new("/"));
    assert!(parsed.is_ok(), "{parsed:?}");
}

#[test]
fn an_idle_window_is_judged_by_its_share_of_a_cpu_and_must_have_idled() {
    let size = Size {
        width: 1280,
        height: 720,
    };
    let result = |m: Measurement| SizeResult {
        size,
        measurement: Some(m),
        error: None,
        leftover_shm: vec![],
        supervisor_exit: None,
    };
    // Idle: no frames; 3 ticks over 30 s (0.1 % of a CPU), 90 context switches (3/s).
    let a = snap(0.0, 0, [0, 0, 0, 0], 0);
    let mut b = snap(30.0, 0, [1, 1, 0, 1], 0);
    b.stages[1].switches = Some(30);
    b.stages[2].switches = Some(30);
    b.supervisor_switches = Some(30);
    let mut m = measure(&a, &b, 100.0);
    assert!(m.warnings.iter().any(|w| w.contains("no frames")));
    idle::review(&mut m);
    assert!(m.warnings.is_empty(), "{:?}", m.warnings);
    assert!((m.total_cpu_percent.unwrap() - 0.1).abs() < 1e-9);
    assert!((m.total_wakeups_per_s.unwrap() - 3.0).abs() < 1e-9);
    assert_eq!(m.cpu[1].wakeups_per_s, Some(1.0));
    let checks = idle::check_targets(&[result(m.clone())]);
    assert_eq!(checks.len(), 1);
    assert_eq!(checks[0].pass, Some(true), "{checks:?}");
    let table = idle::format_summary(&[result(m)]);
    assert!(table.contains("| CPU total (% of a CPU)"), "{table}");
    assert!(table.contains("0.100"), "{table}");
    assert!(table.contains("wake-ups/s segmenter"), "{table}");
    // Over the target.
    let busy = snap(30.0, 0, [30, 0, 0, 0], 0);
    let mut m = measure(&a, &busy, 100.0);
    idle::review(&mut m);
    assert_eq!(idle::check_targets(&[result(m)])[0].pass, Some(false));
    // A window in which frames were captured did not idle: a miss whatever the CPU.
    let woke = snap(30.0, 3, [0, 0, 0, 0], 0);
    let mut m = measure(&a, &woke, 100.0);
    idle::review(&mut m);
    assert!(
        m.warnings.iter().any(|w| w.contains("did not idle")),
        "{:?}",
        m.warnings
    );
    assert_eq!(idle::check_targets(&[result(m)])[0].pass, Some(false));
}
