//! The benchmark's tables and its targets (issue "the picture people see"): against the raw
//! model on every sequence, the defaults must have an edge-band error at least 35 % lower, a
//! leak of at most 0.5 % of the background area (frame mean), an IoU no lower, at most half
//! the flicker on still input, and no lag on moving input.

use super::Result;

/// One markdown table per variant.
pub fn tables(results: &[Result]) -> String {
    let mut variants: Vec<&str> = Vec::new();
    for r in results {
        if !variants.contains(&r.variant.as_str()) {
            variants.push(&r.variant);
        }
    }
    let mut out = String::new();
    // One run's sequences share its `--noise`.
    if let Some(first) = results.first() {
        out.push_str(&format!(
            "\nSensor noise of the sequences: {} (standard deviation, 8-bit RGB steps)\n",
            first.noise
        ));
    }
    for v in variants {
        out.push_str(&format!("\n### {v}\n\n"));
        out.push_str("| sequence | frames | bg only | IoU | leak % (max) | cut % | band error | flicker | lag | mask age |\n");
        out.push_str("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
        for r in results.iter().filter(|r| r.variant == v) {
            out.push_str(&format!(
                "| {} | {} | {} | {:.3} | {:.2} ({:.2}) | {:.2} | {:.3} | {} | {} | {:.2} |\n",
                r.sequence,
                r.frames,
                r.background_only,
                r.iou,
                r.leak * 100.0,
                r.leak_max * 100.0,
                r.cut * 100.0,
                r.band_error,
                r.flicker.map_or("-".into(), |f| format!("{f:.4}")),
                r.lag.map_or("-".into(), |l| format!("{l:.2}")),
                r.mask_age,
            ));
        }
    }
    out
}

/// The targets for `default` against `raw`, one line per sequence and check.
pub fn targets(results: &[Result]) -> String {
    let mut out = String::from("\n### targets (default against raw)\n\n");
    let mut misses = 0;
    for d in results.iter().filter(|r| r.variant == "default") {
        let Some(raw) = results
            .iter()
            .find(|r| r.variant == "raw" && r.sequence == d.sequence)
        else {
            continue;
        };
        let mut check = |ok: bool, what: String| {
            misses += (!ok) as usize;
            out.push_str(&format!(
                "- {} {}: {what}\n",
                if ok { "PASS" } else { "MISS" },
                d.sequence
            ));
        };
        let cut = 1.0 - d.band_error / raw.band_error.max(1e-9);
        check(
            cut >= 0.35,
            format!(
                "edge-band error {:.3} vs raw {:.3} ({:.0} % lower; target 35 %)",
                d.band_error,
                raw.band_error,
                cut * 100.0
            ),
        );
        check(
            d.leak <= 0.005,
            format!("leak {:.2} % (target at most 0.5 %)", d.leak * 100.0),
        );
        check(
            d.iou >= raw.iou - 0.002,
            format!("IoU {:.3} vs raw {:.3} (never lower)", d.iou, raw.iou),
        );
        if let (Some(f), Some(rf)) = (d.flicker, raw.flicker) {
            check(
                f <= rf / 2.0,
                format!("flicker {f:.4} vs raw {rf:.4} (at most half)"),
            );
        }
        if let Some(l) = d.lag {
            check(l < 0.05, format!("lag {l:.2} frames (target 0)"));
        }
    }
    out.push_str(&format!("\n{misses} missed\n"));
    out
}
