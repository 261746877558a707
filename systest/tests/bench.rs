//! `viba-bench` on the real pipeline: rounds, medians, resident memory.

use viba_systest::testing::*;

#[test]
fn repeated_rounds_report_medians_and_each_process_memory() {
    let dir = tempfile::tempdir().unwrap();
    let args = "--sizes 320x240 --seconds 1 --warmup 0 --repeat 2 --input synthetic";
    let args: Vec<&str> = args.split(' ').collect();
    let (stdout, report) = run_bench(&args, dir.path());
    assert!(stdout.contains("medians of 2 rounds"), "{stdout}");
    assert!(stdout.contains("resident segmenter"), "{stdout}");
    let rounds = report["rounds"].as_array().unwrap();
    assert_eq!(rounds.len(), 2, "{report}");
    let m = &report["results"][0]["measurement"];
    let resident = m["resident"].as_array().unwrap();
    let names: Vec<&str> = resident
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["capture", "segmenter", "compositor", "supervisor"]);
    for r in resident {
        assert!(r["mib"].as_f64().unwrap() > 0.0, "{r}");
    }
    // The median of two rounds lies between them.
    let totals: Vec<f64> = rounds
        .iter()
        .map(|r| {
            r[0]["measurement"]["total_cpu_ms_per_frame"]
                .as_f64()
                .unwrap()
        })
        .collect();
    let median = m["total_cpu_ms_per_frame"].as_f64().unwrap();
    let (lo, hi) = (totals[0].min(totals[1]), totals[0].max(totals[1]));
    assert!(
        lo - 1e-9 <= median && median <= hi + 1e-9,
        "{totals:?} {median}"
    );
    assert!(leftover_segments("bench-").is_empty());
}
