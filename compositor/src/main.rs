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
    /// Only check the background, then exit (what the supervisor runs before a live change).
    #[arg(long, hide = true)]
    check_background: bool,
    /// Resolve relative paths in the config against this folder instead of the config's own
    /// (the supervisor passes it with its live copy of the config).
    #[arg(long, hide = true)]
    base_dir: Option<PathBuf>,
}

fn main() -> ExitCode {
    let args: Args = viba_common::exit::parse_args("viba-compositor");
    viba_common::worker::main(
        "viba-compositor",
        &args.config,
        args.base_dir.as_deref(),
        args.check || args.check_background,
        |c| {
            if args.check_background {
                viba_compositor::check_background(c)
            } else {
                viba_compositor::check(c)
            }
        },
        viba_compositor::run,
    )
}
