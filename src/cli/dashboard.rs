//! The dashboard, when no command is given: how each way it can end becomes an exit status
//! and, for the endings that lost or hid something, one sentence.

use std::process::ExitCode;

use super::{Cli, Failure, open_store};
use crate::tui::Ending;

pub(super) fn run(cli: &Cli, workspace: &str) -> Result<ExitCode, Failure> {
    let store = open_store(cli)?;
    let options = crate::tui::Options {
        mouse: !cli.no_mouse,
    };
    let ending = crate::tui::run_with(store, workspace, options).map_err(|err| Failure {
        message: format!("The dashboard stopped: {err}."),
        status: 1,
    })?;
    match ending {
        Ending::Quit | Ending::Stopped => Ok(ExitCode::SUCCESS),
        // Nobody may be left to read this, but a log of the session might.
        Ending::Withdrew => Err(Failure {
            message: "The dashboard stopped while a change waited for another process to \
                      release the store; that change was not made."
                .into(),
            status: 1,
        }),
        Ending::StoppedMidWrite => Err(Failure {
            message: "The dashboard stopped while a change was being written: it was made, \
                      but a new key it made was not shown; check with `hivekeys list` and \
                      rotate a key whose secret nobody saw."
                .into(),
            status: 1,
        }),
        Ending::HungUp => Err(Failure {
            message: "The terminal went away; the dashboard closed the store and stopped.".into(),
            status: 1,
        }),
    }
}
