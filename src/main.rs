//! `hivekeys`: the dashboard when run without a command, the scriptable CLI otherwise.

use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = hivekeys::cli::parse_args();
    hivekeys::cli::main_with(cli)
}
