//! What the timing examples share: their arguments `[PHOTO] [WxH] [ROUNDS] ...` and their
//! exit (a one-line error, exit code 2).

use anyhow::Context;
use std::path::{Path, PathBuf};

/// The shared arguments.
pub struct Args {
    /// The photo as the shell means it (relative to the current directory); default
    /// `testdata/astronaut.png`.
    pub photo: PathBuf,
    /// The frame size; default 1280x720.
    pub size: (u32, u32),
    /// Timed blocks; at least 1.
    pub rounds: usize,
    /// The arguments after the rounds.
    pub rest: Vec<String>,
    /// The repository's root.
    pub repo: PathBuf,
}

/// The command line's arguments, with `default_rounds` where none are given.
pub fn parse(default_rounds: usize) -> anyhow::Result<Args> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let photo = match args.first() {
        Some(p) => std::path::absolute(p).with_context(|| format!("photo {p}"))?,
        None => repo.join("testdata/astronaut.png"),
    };
    let size = match args.get(1) {
        Some(size) => size
            .split_once('x')
            .and_then(|(w, h)| Some((w.parse::<u32>().ok()?, h.parse::<u32>().ok()?)))
            .with_context(|| format!("size {size}: give WxH, e.g. 1280x720"))?,
        None => (1280, 720),
    };
    let rounds = match args.get(2) {
        Some(r) => r
            .parse::<usize>()
            .ok()
            .filter(|&r| r > 0)
            .with_context(|| {
                format!("rounds {r}: give a whole number above 0, e.g. {default_rounds}")
            })?,
        None => default_rounds,
    };
    Ok(Args {
        photo,
        size,
        rounds,
        rest: args.iter().skip(3).cloned().collect(),
        repo,
    })
}

/// The process's exit for `result`: a failure is one line on stderr, named, and exit code 2.
pub fn exit(name: &str, result: anyhow::Result<()>) -> std::process::ExitCode {
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{name}: {e:#}");
            std::process::ExitCode::from(2)
        }
    }
}
