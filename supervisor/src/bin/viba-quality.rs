//! viba-quality: the picture benchmark (see `viba_supervisor::quality` and docs/QUALITY.md).
//! Run it through `scripts/quality.sh`, which fetches and prepares the data first.

use clap::Parser;
use std::path::PathBuf;
use std::process::ExitCode;
use viba_common::exit::{self, Fault};
use viba_supervisor::quality::{self, scene::Scene, scene::Spec, Paths};

/// Runs test sequences with an exact ground truth (a person with a known alpha matte over a
/// room, moving) through the real pipeline at real-time pacing, once per variant (the raw
/// model, each refinement step, the defaults), and scores the output: IoU, leak, cut, edge-band
/// alpha error, flicker on still input, lag on moving input. Prints a table per variant, the
/// targets against the raw model, and one line of JSON.
#[derive(Parser)]
#[command(version)]
struct Args {
    /// Persons and rooms (scripts/quality.sh makes them under .quality/data).
    #[arg(long)]
    data: PathBuf,
    /// Scratch folder for the sequences and outputs (hundreds of MB while it runs).
    #[arg(long)]
    work: PathBuf,
    /// Only sequences whose name contains one of these (comma-separated).
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    /// Sequences of your own instead of the thirteen, `PERSON-ROOM-MOTION-WxH[@FILL]` (e.g.
    /// `greenman-office-scale-1280x720@0.9`; the person and room from the data folder; motion
    /// static, slow, fast, scale or enter; FILL the person's share of the frame height, default
    /// 0.95).
    /// Repeatable, or comma-separated.
    #[arg(long = "sequence", value_delimiter = ',')]
    own: Vec<String>,
    /// Sensor noise of the sequences, standard deviation in 8-bit RGB steps (0-32): 2 is a
    /// camera in a well-lit room, 6 one in a dim room.
    #[arg(long, value_name = "SIGMA", default_value_t = quality::scene::NOISE)]
    noise: f32,
    /// Only these variants (comma-separated; default: all).
    #[arg(long, value_delimiter = ',')]
    variants: Vec<String>,
    /// An extra variant, NAME=JSON: the JSON is merged into the config (e.g.
    /// 'soft=\{"segmentation":\{"softness":0.6\}\}'). Repeatable.
    #[arg(long = "variant")]
    extra: Vec<String>,
    /// Three sequences, the raw model and the defaults.
    #[arg(long)]
    quick: bool,
    /// Write a picture of each run's middle frame (or `--dump-frame`'s: frame, alpha used, true
    /// alpha, error) into the work folder.
    #[arg(long)]
    dump: bool,
    /// With `--dump`: picture this scored frame instead of the middle one (0..119; where the
    /// pacing skipped it, the next one shown).
    #[arg(long, value_name = "N", requires = "dump")]
    dump_frame: Option<usize>,
    /// Also write every scored frame's own scores (IoU, leak, cut, edge-band error) to this
    /// CSV file, one line per frame of each run: where in a sequence an error comes from.
    #[arg(long, value_name = "FILE")]
    frames: Option<PathBuf>,
    /// Also write the results as JSON to this file.
    #[arg(long)]
    json: Option<PathBuf>,
}

/// This program's name, the start of each line it ends with.
const NAME: &str = "viba-quality";

fn main() -> ExitCode {
    let args: Args = viba_common::exit::parse_args("viba-quality");
    let exe = std::env::current_exe().expect("own path");
    let bin = exe.parent().expect("in a folder").to_path_buf();
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    // Everything the arguments alone can refuse, before anything is made.
    if args.quick && !args.own.is_empty() {
        return exit::fail(
            NAME,
            Fault::User,
            format_args!(
                "--quick runs three of the built-in sequences, not those of --sequence: \
                 give one or the other"
            ),
        );
    }
    if !(0.0..=32.0).contains(&args.noise) {
        return exit::fail(
            NAME,
            Fault::User,
            format_args!(
                "--noise {}: expected a standard deviation from 0 to 32 (8-bit steps; the default is {})",
                args.noise,
                quality::scene::NOISE
            ),
        );
    }
    let dump_frame = args.dump_frame.unwrap_or(quality::scene::SCORED / 2);
    if dump_frame >= quality::scene::SCORED {
        return exit::fail(
            NAME,
            Fault::User,
            format_args!(
                "--dump-frame {dump_frame}: a sequence has {} scored frames, 0..{}",
                quality::scene::SCORED,
                quality::scene::SCORED - 1
            ),
        );
    }
    let mut sequences = quality::sequences();
    if !args.own.is_empty() {
        sequences.clear();
        for own in &args.own {
            let (name, fill) = match own.split_once('@') {
                Some((name, fill)) => (name, fill.parse::<f64>().ok()),
                None => (own.as_str(), Some(0.95)),
            };
            let spec = fill
                .filter(|f| (0.3..=1.5).contains(f))
                .and_then(|fill| Spec::parse(name, fill));
            let Some(spec) = spec else {
                return exit::fail(
                    NAME,
                    Fault::User,
                    format_args!(
                        "--sequence {own}: expected PERSON-ROOM-MOTION-WxH[@FILL], e.g. \
                         greenman-office-scale-1280x720@0.9 (motion static, slow, fast, \
                         scale or enter; an even size from 64x64 to 4096x4096; FILL 0.3-1.5)"
                    ),
                );
            };
            sequences.push(spec);
        }
    }
    let mut variants = quality::variants(&repo.join("models"));
    if args.quick {
        sequences.retain(|s| {
            let n = s.name();
            n == "franck-bedroom-static-640x360"
                || n == "franck-cabin-fast-640x360"
                || n == "greenman-living-static-640x360"
        });
        variants.retain(|v| v.name == "raw" || v.name == "default");
    }
    if !args.only.is_empty() {
        sequences.retain(|s| args.only.iter().any(|o| s.name().contains(o.as_str())));
    }
    if !args.variants.is_empty() {
        variants.retain(|v| args.variants.contains(&v.name));
    }
    for extra in &args.extra {
        let parsed = extra
            .split_once('=')
            .and_then(|(name, json)| Some((name, serde_json::from_str(json).ok()?)));
        // The name goes into file names and the CSV of `--frames`.
        let parsed = parsed.filter(|(name, _)| {
            !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        });
        let Some((name, patch)) = parsed else {
            return exit::fail(
                NAME,
                Fault::User,
                format_args!(
                    "--variant {extra}: expected NAME=JSON (NAME of letters, digits, '-', '_', '.')"
                ),
            );
        };
        variants.push(quality::Variant {
            name: name.into(),
            patch,
        });
    }
    // The data must be there; then the CSV (its folder must exist), then the work folder
    // (made if need be): a refusal leaves neither behind.
    let data = match args.data.canonicalize() {
        Ok(data) => data,
        Err(e) => {
            return exit::fail(
                NAME,
                Fault::User,
                format_args!(
                    "--data {}: {e} (run scripts/quality.sh, which makes the data)",
                    args.data.display()
                ),
            );
        }
    };
    for spec in &sequences {
        let files = [
            data.join("persons").join(format!("{}.png", spec.person)),
            data.join("rooms").join(format!("{}.png", spec.room)),
        ];
        if let Some(file) = files.iter().find(|f| !f.is_file()) {
            return exit::fail(
                NAME,
                Fault::User,
                format_args!(
                    "{}: {}: no such file (run scripts/quality.sh, which makes the data)",
                    spec.name(),
                    file.display()
                ),
            );
        }
    }
    let mut frames = match args.frames.as_deref().map(FrameLog::create) {
        None => None,
        Some(Ok(log)) => Some(log),
        Some(Err(e)) => return exit::fail(NAME, Fault::User, format_args!("--frames {e}")),
    };
    // The config names files relative to its own folder: give it absolute paths.
    let work = std::fs::create_dir_all(&args.work).and_then(|()| args.work.canonicalize());
    let work = match work {
        Ok(work) => work,
        Err(e) => {
            if let Some(log) = frames.take() {
                let _ = std::fs::remove_file(&log.path);
            }
            return exit::fail(
                NAME,
                Fault::User,
                format_args!("--work {}: {e}", args.work.display()),
            );
        }
    };
    let paths = Paths {
        bin,
        repo,
        data,
        work,
    };
    let mut results = Vec::new();
    for spec in sequences {
        let name = spec.name();
        let scene = match Scene::new(spec, &paths.data) {
            Ok(s) => s.with_noise(args.noise),
            Err(e) => {
                return exit::fail(
                    NAME,
                    Fault::User,
                    format_args!("{e} (run scripts/quality.sh, which makes the data)"),
                );
            }
        };
        let input = paths.work.join(format!("{name}.y4m"));
        eprintln!("viba-quality: {name}: writing {} frames", scene.frames());
        if let Err(e) = quality::write_sequence(&scene, &input) {
            return exit::fail(
                NAME,
                Fault::Failure,
                format_args!("{}: {e}", input.display()),
            );
        }
        for variant in &variants {
            let output = paths.work.join(format!("{name}.{}.out.y4m", variant.name));
            eprintln!("viba-quality: {name}: {} ...", variant.name);
            let scored =
                quality::run_pipeline(&paths, &scene, variant, &input, &output).and_then(|()| {
                    let picture = paths.work.join(format!("{name}.{}.png", variant.name));
                    let dump = args.dump.then_some((picture.as_path(), dump_frame));
                    quality::score_output(&scene, &input, &output, &variant.name, dump)
                });
            let _ = std::fs::remove_file(&output);
            // A pipeline that stalled (a machine far too busy, binaries replaced meanwhile)
            // shows few distinct frames: not a score of the picture.
            let scored = scored.and_then(|r| {
                if r.frames * 2 < quality::scene::SCORED {
                    Err(format!(
                        "only {} of {} frames came out distinct; run it again on a quieter machine",
                        r.frames,
                        quality::scene::SCORED
                    ))
                } else {
                    Ok(r)
                }
            });
            if let (Some(log), Ok(r)) = (frames.as_mut(), &scored) {
                if let Err(e) = log.write(r) {
                    return exit::fail(NAME, Fault::Failure, format_args!("--frames {e}"));
                }
            }
            match scored {
                Ok(r) => results.push(r),
                Err(e) => {
                    return exit::fail(
                        NAME,
                        Fault::Failure,
                        format_args!("{name}: {}: {e}", variant.name),
                    );
                }
            }
        }
        let _ = std::fs::remove_file(&input);
    }
    print!("{}", quality::report::tables(&results));
    print!("{}", quality::report::targets(&results));
    let line = serde_json::to_string(&results).expect("serialisable");
    println!("{line}");
    if let Some(path) = &args.json {
        if let Err(e) = std::fs::write(path, &line) {
            return exit::fail(
                NAME,
                Fault::Failure,
                format_args!("--json {}: {e}", path.display()),
            );
        }
    }
    ExitCode::SUCCESS
}

/// `--frames`: every scored frame's scores, as CSV, written after each run.
struct FrameLog {
    path: PathBuf,
    file: std::io::BufWriter<std::fs::File>,
}

impl FrameLog {
    /// Creates the file and writes its header; the error names the path.
    fn create(path: &std::path::Path) -> Result<FrameLog, String> {
        let fail = |e: std::io::Error| format!("{}: {e}", path.display());
        let mut file = std::io::BufWriter::new(std::fs::File::create(path).map_err(fail)?);
        use std::io::Write;
        writeln!(file, "sequence,variant,frame,iou,leak,cut,band_error").map_err(fail)?;
        Ok(FrameLog {
            path: path.to_path_buf(),
            file,
        })
    }

    /// Appends the frames of one run (leak and cut as shares, 0..1, as in the JSON).
    fn write(&mut self, r: &quality::Result) -> Result<(), String> {
        use std::io::Write;
        let fail = |e: std::io::Error| format!("{}: {e}", self.path.display());
        for f in &r.per_frame {
            writeln!(
                self.file,
                "{},{},{},{:.5},{:.6},{:.6},{:.5}",
                r.sequence, r.variant, f.frame, f.iou, f.leak, f.cut, f.band_error
            )
            .map_err(fail)?;
        }
        self.file.flush().map_err(fail)
    }
}
