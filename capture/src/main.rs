//! viba-capture: see the library crate.

use clap::Parser;
use std::path::PathBuf;
use std::process::ExitCode;

/// Reads camera (or file, or synthetic) frames into the shared-memory frame ring of a viba
/// instance. Normally started by viba-supervisor; run it by hand after
/// `viba-supervisor ctl stop capture`.
#[derive(Parser)]
#[command(version)]
struct Args {
    /// The instance's viba.json.
    #[arg(long)]
    config: PathBuf,
    /// Only check that the source can be opened, then exit (0 = usable, 2 = not).
    #[arg(long)]
    check: bool,
    /// Resolve relative paths in the config against this folder instead of the config's own
    /// (the supervisor passes it with its live copy of the config).
    #[arg(long, hide = true)]
    base_dir: Option<PathBuf>,
}

fn main() -> ExitCode {
    let args: Args = viba_common::exit::parse_args("viba-capture");
    viba_common::worker::main(
        "viba-capture",
        &args.config,
        args.base_dir.as_deref(),
        args.check,
        |c| {
            viba_capture::source::open(c)
                .map(drop)
                .map_err(anyhow::Error::from)
        },
        viba_capture::run,
    )
}
