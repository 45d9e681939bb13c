//! `hivekeys`: the dashboard when run without a command, the scriptable CLI otherwise.

#![forbid(unsafe_code)]

use std::process::ExitCode;

fn main() -> ExitCode {
    // Past a file size limit (`ulimit -f`) the kernel sends SIGXFSZ, whose default action kills
    // the process mid-write. With a handler installed the write fails with EFBIG instead, and
    // the user gets a sentence and a rolled-back transaction rather than a core dump.
    let _ = signal_hook::flag::register(
        signal_hook::consts::SIGXFSZ,
        std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false)),
    );
    let cli = hivekeys::cli::parse_args();
    hivekeys::cli::main_with(cli)
}
