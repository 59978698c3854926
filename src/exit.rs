//! Exit codes: 0 success, 2 invalid input or configuration, 1 failure at run time.

use std::path::Path;
use std::process::ExitCode;

use crate::config::ConfigErrors;

/// What a subcommand returns.
pub type CmdResult = Result<(), Failure>;

/// Why a subcommand failed, which decides the exit code.
#[derive(Debug)]
pub enum Failure {
    /// The user's input or configuration is wrong (exit 2); the message says how to fix it.
    Invalid(String),
    /// Something failed while running (exit 1).
    Runtime(anyhow::Error),
}

impl Failure {
    /// Every problem in the config at `path`, one per line.
    pub fn config(path: &Path, errors: &ConfigErrors) -> Failure {
        let n = errors.len();
        let plural = if n == 1 { "" } else { "s" };
        let mut msg = format!("{}: {n} problem{plural}", path.display());
        for e in errors.iter() {
            msg.push_str("\n  ");
            msg.push_str(&e.to_string());
        }
        Failure::Invalid(msg)
    }

    pub const fn exit_code(&self) -> u8 {
        match self {
            Failure::Invalid(_) => 2,
            Failure::Runtime(_) => 1,
        }
    }
}

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Self {
        Failure::Runtime(e)
    }
}

impl From<std::io::Error> for Failure {
    fn from(e: std::io::Error) -> Self {
        Failure::Runtime(e.into())
    }
}

/// Prints the failure (if any) to stderr and turns it into the process exit code.
pub fn finish(result: CmdResult) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            match &failure {
                Failure::Invalid(msg) => eprintln!("error: {msg}"),
                Failure::Runtime(e) => eprintln!("error: {e:#}"),
            }
            ExitCode::from(failure.exit_code())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes() {
        assert_eq!(Failure::Invalid("x".into()).exit_code(), 2);
        assert_eq!(Failure::from(anyhow::anyhow!("x")).exit_code(), 1);
        let mut errs = ConfigErrors::default();
        errs.push("bus.ring_capacity", "bad", "fix");
        let Failure::Invalid(msg) = Failure::config(Path::new("a.toml"), &errs) else {
            panic!("config problems are invalid input");
        };
        assert_eq!(msg, "a.toml: 1 problem\n  bus.ring_capacity: bad — fix");
    }
}
