//! viba-segmenter: see the library crate.

use clap::Parser;
use std::path::PathBuf;
use std::process::ExitCode;

/// Segments the person in the newest frame of a viba instance's frame ring and publishes the
/// mask. Normally started by viba-supervisor; run it by hand (under gdb, or a new build)
/// after `viba-supervisor ctl stop segmenter`.
#[derive(Parser)]
#[command(version)]
struct Args {
    /// The instance's viba.json.
    #[arg(long)]
    config: PathBuf,
    /// Only load ONNX Runtime and the model (and the square model of `segmentation.zoom`, where
    /// it is used), print the mask geometry as JSON, and exit (0 = usable, 2 = not).
    #[arg(long)]
    check: bool,
    /// Resolve relative paths in the config against this folder instead of the config's own
    /// (the supervisor passes it with its live copy of the config).
    #[arg(long, hide = true)]
    base_dir: Option<PathBuf>,
}

fn main() -> ExitCode {
    let args: Args = viba_common::exit::parse_args("viba-segmenter");
    viba_common::worker::main(
        "viba-segmenter",
        &args.config,
        args.base_dir.as_deref(),
        args.check,
        |c| viba_segmenter::load(c).map(|m| println!("{}", viba_segmenter::describe(&m, c))),
        viba_segmenter::run,
    )
}
