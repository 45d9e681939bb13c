//! How a command fails: the one sentence for stderr and the exit status, from the library's
//! errors and from output that cannot be written.

use std::io;

use crate::error::Error;

/// A failed command: the sentence for stderr and the exit status.
#[derive(Debug)]
pub struct Failure {
    pub message: String,
    pub status: u8,
}

impl Failure {
    pub(super) fn usage(message: impl Into<String>) -> Failure {
        Failure {
            message: message.into(),
            status: 2,
        }
    }
}

impl From<Error> for Failure {
    fn from(err: Error) -> Failure {
        // Bad values given on the command line are usage errors, like clap's own.
        let status = match err {
            Error::InvalidName(_)
            | Error::ExpiryInPast
            | Error::InvalidDailyLimit
            | Error::UnsupportedDatabaseUrl { .. }
            | Error::InvalidDatabaseUrl { .. }
            | Error::BadEnvironmentVariable { .. } => 2,
            _ => 1,
        };
        Failure {
            message: err.to_string(),
            status,
        }
    }
}

impl Failure {
    /// Stdout's reader went away (`hivekeys list | head`): the failure made of that, which
    /// says nothing and exits 0 (see below). A command whose status carries a verdict
    /// (`scan`) keeps its verdict instead.
    pub(super) fn is_closed_pipe(&self) -> bool {
        self.status == 0 && self.message.is_empty()
    }
}

impl From<io::Error> for Failure {
    fn from(err: io::Error) -> Failure {
        // A reader that stopped early (`hivekeys list | head`) is not an error worth a word.
        if err.kind() == io::ErrorKind::BrokenPipe {
            return Failure {
                message: String::new(),
                status: 0,
            };
        }
        Failure {
            message: format!("Cannot write the output: {err}."),
            status: 1,
        }
    }
}
