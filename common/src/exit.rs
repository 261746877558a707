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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_users_mistakes_exit_2_and_failures_1() {
        assert_eq!(Fault::User.code(), 2);
        assert_eq!(Fault::Failure.code(), 1);
        assert_eq!(ExitCode::from(Fault::User), ExitCode::from(2));
    }
}
