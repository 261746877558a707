//! viba-bench: runs the real pipeline at several frame sizes and prints what it costs.
//! The logic is in `viba_supervisor::bench`.

use clap::Parser;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use viba_common::config::AUTO_MODEL;
use viba_common::exit::{self, Fault};
use viba_supervisor::bench::{self, InputKind, Options, Pace, Pinning, Provider, Size};

/// Benchmarks the real viba pipeline: for each size, starts viba-supervisor (found next to
/// this executable) with a null sink, waits for the first composite, warms up, then measures
/// for --seconds: output fps, masks per frame, mask age, capture-to-output latency (p50, p99),
/// CPU milliseconds per output frame and resident memory of every process (from
/// /proc/PID/stat and /proc/PID/status).
///
/// Progress goes to stderr; the tables, the targets (PASS/MISS) and, last, one line of JSON
/// go to stdout. Exit code 1 when a size could not be measured (missed targets do not fail).
#[derive(Parser)]
#[command(version)]
struct Args {
    /// Frame sizes, WIDTHxHEIGHT, comma-separated; one pipeline run each.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "640x480,1280x720,1920x1080"
    )]
    sizes: Vec<Size>,
    /// Length of the measuring window, seconds.
    #[arg(long, default_value_t = 10.0)]
    seconds: f64,
    /// Warm-up after the first composite, before measuring, seconds.
    #[arg(long, default_value_t = 3.0)]
    warmup: f64,
    /// Capture frame rate.
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=120))]
    fps: u32,
    /// Capture pacing: realtime = at --fps like a camera; fast = as fast as possible.
    #[arg(long, value_enum, default_value_t = Pace::Realtime)]
    pace: Pace,
    /// ONNX model, or `auto`: the default config's choice (the bundled model for the frame,
    /// and `segmentation.zoom` with it, found as viba finds it).
    #[arg(long, default_value = "auto")]
    model: PathBuf,
    /// Where the segmenter runs the model: cpu, or cuda (ONNX Runtime's GPU build must be
    /// found: segmentation.onnxruntime's lookup, e.g. ORT_DYLIB_PATH).
    #[arg(long, value_enum, default_value_t = Provider::Cpu)]
    execution_provider: Provider,
    /// Frame source: image = REPO/testdata/astronaut.png, moving; synthetic = test pattern;
    /// mjpeg = the moving image as an MJPEG webcam sends it (JPEG 4:2:2, quality 90), decoded
    /// by the camera's decoder, so capture's figure includes the decode.
    #[arg(long, value_enum, default_value_t = InputKind::Image)]
    input: InputKind,
    /// Also write the JSON report to this file.
    #[arg(long)]
    json: Option<PathBuf>,
    /// JSON merged into each run's config, e.g. '{"background":{"blur":12}}' or
    /// '{"compositor":{"refine":false}}'.
    #[arg(long, value_name = "JSON")]
    set: Option<String>,
    /// CPU pinning per stage, e.g. capture=0,segmenter=1-3,compositor=0,2; STAGE=none or
    /// "none" unpins. Stages not named keep the default: capture=0, segmenter=1,
    /// compositor=0 with two or more CPUs, unpinned otherwise.
    #[arg(long)]
    cpus: Option<String>,
    /// Measure every size this many times, in interleaved rounds (all sizes, then all again),
    /// and report the median of each number (every round's numbers are in the JSON, under
    /// "rounds"): for noisy machines.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=50))]
    repeat: u32,
    /// Measure the pipeline while it idles instead: the output goes to this v4l2loopback
    /// device (e.g. /dev/video20) with output.idle_when_unused, nobody opens it, and the
    /// numbers are each process's share of a CPU, its wake-ups per second and its resident
    /// memory. Needs the loopback device (vm/run.sh has one).
    #[arg(long, value_name = "DEVICE")]
    idle: Option<PathBuf>,
}

/// This program's name, the start of each line it ends with.
const NAME: &str = "viba-bench";

fn main() -> ExitCode {
    let args: Args = viba_common::exit::parse_args("viba-bench");
    let sizes = args.sizes;
    if !(args.seconds > 0.0 && args.seconds.is_finite()) {
        return exit::fail(NAME, Fault::User, "--seconds must be more than 0");
    }
    if !(args.warmup >= 0.0 && args.warmup.is_finite()) {
        return exit::fail(NAME, Fault::User, "--warmup must be 0 or more");
    }
    if let Some(device) = &args.idle {
        if !device.exists() {
            return exit::fail(
                NAME,
                Fault::User,
                format_args!(
                    "--idle {}: no such device (load v4l2loopback, or run in vm/run.sh)",
                    device.display()
                ),
            );
        }
    }
    // A model named relative to here, where the config viba-bench writes is elsewhere.
    let auto = args.model == Path::new(AUTO_MODEL);
    let model = match auto {
        true => args.model,
        false => std::path::absolute(&args.model).unwrap_or(args.model),
    };
    if !auto && !model.is_file() {
        return exit::fail(
            NAME,
            Fault::User,
            format_args!(
                "--model {}: not a file (name an ONNX model, or auto)",
                model.display()
            ),
        );
    }
    let repo = bench::repo_dir();
    let repo = std::fs::canonicalize(&repo).unwrap_or(repo);
    let mut pinning = Pinning::defaults(viba_common::config::cpus::available().len());
    if let Some(spec) = &args.cpus {
        if let Err(e) = pinning.apply(spec) {
            return exit::fail(NAME, Fault::User, e);
        }
    }
    let supervisor = match std::env::current_exe() {
        Ok(exe) => exe.with_file_name("viba-supervisor"),
        Err(e) => {
            return exit::fail(
                NAME,
                Fault::Failure,
                format_args!("cannot find my own executable: {e}"),
            )
        }
    };
    let patch = match args.set.as_deref().map(serde_json::from_str) {
        None => serde_json::json!({}),
        Some(Ok(v)) => v,
        Some(Err(e)) => return exit::fail(NAME, Fault::User, format_args!("--set: not JSON: {e}")),
    };
    let options = Options {
        sizes,
        seconds: args.seconds,
        warmup: args.warmup,
        fps: args.fps,
        pace: args.pace,
        model,
        provider: args.execution_provider,
        input: args.input,
        image: repo.join("testdata/astronaut.png"),
        background: repo.join("backgrounds/default.jpg"),
        pinning,
        supervisor,
        patch,
        repeat: args.repeat as usize,
        idle: args.idle,
    };
    eprintln!(
        "viba-bench: {} round(s) of {} s per size after {} s warm-up, {} fps, pace {:?}, input {:?}, pinning {}",
        options.repeat,
        options.seconds,
        options.warmup,
        options.fps,
        options.pace,
        options.input,
        options.pinning.describe()
    );
    let report = bench::run(&options, &mut |line| eprintln!("viba-bench: {line}"));
    println!(
        "viba-bench: {} ({} CPUs), kernel {}, load average at start {}\n",
        report.machine.cpu_model,
        report.machine.cpus,
        report.machine.kernel,
        report.machine.loadavg
    );
    for r in &report.results {
        match &r.measurement {
            Some(m) if options.idle.is_none() => {
                println!("{}", bench::format_measurement(r.size, m))
            }
            _ => {}
        }
    }
    if options.repeat > 1 {
        println!(
            "medians of {} rounds; CPU total per round ({}):",
            options.repeat,
            if options.idle.is_some() {
                "share of a CPU"
            } else {
                "ms/frame"
            }
        );
        for (i, size) in options.sizes.iter().enumerate() {
            let totals: Vec<String> = report
                .rounds
                .iter()
                .map(|round| match &round[i].measurement {
                    Some(m) if options.idle.is_some() => m
                        .total_cpu_percent
                        .map_or("?".into(), |t| format!("{t:.3} %")),
                    Some(m) => m
                        .total_cpu_ms_per_frame
                        .map_or("?".into(), |t| format!("{t:.2}")),
                    None => "failed".into(),
                })
                .collect();
            println!("  {size}: {}", totals.join(" "));
        }
        println!();
    }
    if options.idle.is_some() {
        println!("{}", bench::idle::format_summary(&report.results));
    } else {
        println!("{}", bench::format_summary(&report.results));
    }
    println!("targets:\n{}", bench::format_targets(&report.targets));
    let json = serde_json::to_string(&report).expect("serialisable");
    if let Some(path) = &args.json {
        if let Err(e) = std::fs::write(path, format!("{json}\n")) {
            eprintln!("viba-bench: cannot write {}: {e}", path.display());
        }
    }
    println!("{json}");
    if report.results.iter().all(|r| r.error.is_none()) {
        ExitCode::SUCCESS
    } else {
        // Each failed size has said why on the way.
        Fault::Failure.into()
    }
}
