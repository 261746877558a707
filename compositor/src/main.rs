//! viba-compositor: see the library crate.

use clap::Parser;
use std::path::PathBuf;
use std::process::ExitCode;

/// Puts the person from the newest mask over the background and writes the result to the
/// sink (the fake webcam, a Y4M file, or nothing). Normally started by viba-supervisor; run it
/// by hand after `viba-supervisor ctl stop compositor`. SIGUSR1 writes a PNG snapshot to
/// `output.snapshot`.
#[derive(Parser)]
#[command(version)]
struct Args {
    /// The instance's viba.json.
    #[arg(long)]
    config: PathBuf,
    /// Only check the background and the sink, then exit (0 = usable, 2 = not).
    #[arg(long)]
    check: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    viba_common::worker::main(
        "viba-compositor",
        &args.config,
        args.check,
        viba_compositor::check,
        viba_compositor::run,
    )
}
