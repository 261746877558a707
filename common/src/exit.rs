//! How every viba program ends on an error: one line `<program>: <message>` on stderr, and an
//! exit code that says whose the fault is ([`Fault`]). The workers (through
//! [`crate::worker::main`]), `viba-supervisor` and its subcommands, `viba-bench`,
//! `viba-quality` and `viba-pictures` all end through [`fail`].

use std::fmt::Display;
use std::process::ExitCode;

/// Whose fault an error is, which picks the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The user's to fix: a bad config, device, input or argument. Exit code 2.
    User,
    /// The program failed at its work (an internal error, a run that could not be finished).
    /// Exit code 1.
    Failure,
}

impl Fault {
    /// The exit code: 2 for [`Fault::User`], 1 for [`Fault::Failure`].
    pub const fn code(self) -> u8 {
        match self {
            Fault::User => 2,
            Fault::Failure => 1,
        }
    }
}

impl From<Fault> for ExitCode {
    fn from(fault: Fault) -> ExitCode {
        ExitCode::from(fault.code())
    }
}

/// Prints `<program>: <message>` on stderr and returns the exit code of `fault`.
pub fn fail(program: &str, fault: Fault, message: impl Display) -> ExitCode {
    eprintln!("{program}: {message}");
    fault.into()
}

/// Parses the command line as `A`; a usage mistake ends the program the way every other
/// mistake does: one line, `<program>: <what is wrong> (usage: ...)`, exit code 2 (clap's own
/// report is three to twenty lines). `--help` and `--version` print as clap prints them.
pub fn parse_args<A: clap::Parser>(program: &str) -> A {
    match A::try_parse() {
        Ok(args) => args,
        Err(e) => match e.kind() {
            clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
                e.exit()
            }
            kind => {
                // A report without a usage line gets the program's.
                let mut report = e.render().to_string();
                if !report.contains("Usage: ") {
                    report.push_str(&format!(
                        "\n{}\n",
                        A::command().bin_name(program).render_usage()
                    ));
                }
                eprintln!("{program}: {}", usage_line(kind, &report));
                std::process::exit(Fault::User.code().into())
            }
        },
    }
}

/// The one line for a usage mistake from clap's rendered report: its first line without
/// `error: `, and its usage line.
fn usage_line(kind: clap::error::ErrorKind, report: &str) -> String {
    let usage = report
        .lines()
        .find_map(|l| l.trim().strip_prefix("Usage: "))
        .map(str::trim);
    let what = match kind {
        // The report is the help of the command that wants a subcommand or an argument.
        clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            "a command or argument is missing".to_owned()
        }
        // Its first paragraph (a list of missing arguments goes on below its first line).
        _ => {
            let lines: Vec<&str> = report
                .lines()
                .map(str::trim)
                .skip_while(|l| l.is_empty())
                .take_while(|l| !l.is_empty())
                .collect();
            let what = match lines.join(" ").trim_start_matches("error: ") {
                "" => "bad arguments".to_owned(),
                what => what.to_owned(),
            };
            // clap's "did you mean" comes in a paragraph of its own.
            match report
                .lines()
                .map(str::trim)
                .find(|l| l.starts_with("tip: "))
            {
                Some(tip) => format!("{what}; {tip}"),
                None => what,
            }
        }
    };
    match usage {
        Some(usage) => format!("{what} (usage: {usage}; more with --help)"),
        None => format!("{what} (more with --help)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_mistakes_become_one_line_with_the_usage() {
        let report = "error: unexpected argument '--bogus' found\n\nUsage: viba-supervisor [OPTIONS]\n       viba-supervisor <COMMAND>\n\nFor more information, try '--help'.\n";
        assert_eq!(
            usage_line(clap::error::ErrorKind::UnknownArgument, report),
            "unexpected argument '--bogus' found (usage: viba-supervisor [OPTIONS]; more with --help)"
        );
        let typo = "error: unrecognized subcommand 'stauts'\n\n  tip: a similar subcommand exists: 'status'\n\nUsage: viba-supervisor ctl [OPTIONS] <COMMAND>\n";
        assert_eq!(
            usage_line(clap::error::ErrorKind::InvalidSubcommand, typo),
            "unrecognized subcommand 'stauts'; tip: a similar subcommand exists: 'status' (usage: viba-supervisor ctl [OPTIONS] <COMMAND>; more with --help)"
        );
        let missing = "error: the following required arguments were not provided:\n  --config <CONFIG>\n\nUsage: viba-compositor --config <CONFIG>\n";
        assert_eq!(
            usage_line(clap::error::ErrorKind::MissingRequiredArgument, missing),
            "the following required arguments were not provided: --config <CONFIG> (usage: viba-compositor --config <CONFIG>; more with --help)"
        );
        let help = "Talks to a running supervisor\n\nUsage: viba-supervisor ctl [OPTIONS] <COMMAND>\n\nCommands:\n  status  ...\n";
        assert_eq!(
            usage_line(
                clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand,
                help
            ),
            "a command or argument is missing (usage: viba-supervisor ctl [OPTIONS] <COMMAND>; more with --help)"
        );
    }

    #[test]
    fn the_users_mistakes_exit_2_and_failures_1() {
        assert_eq!(Fault::User.code(), 2);
        assert_eq!(Fault::Failure.code(), 1);
        assert_eq!(ExitCode::from(Fault::User), ExitCode::from(2));
    }
}
