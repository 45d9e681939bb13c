//! How a gateway embeds hivekeys: one `Store` kept open for the life of the process, one
//! `verify` call per request. Reads one key per line on stdin and answers one line per key on
//! stdout (`VALID <id>` or `INVALID <CODE>`), flushed at once: the answer is the
//! acknowledgement a caller would act on.
//!
//! ```text
//! cargo run --release --example gateway -- --db ~/.local/share/hivekeys/hivekeys.db
//! ```
//!
//! The reliability tests run it to kill it with SIGKILL in the middle of its work and check
//! what a hard kill can lose.

use std::io::{self, BufRead, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use hivekeys::store::Verification;
use hivekeys::{Store, StoreOptions};

fn main() -> ExitCode {
    let mut args = std::env::args_os().skip(1);
    let db = match (args.next(), args.next()) {
        (Some(flag), Some(path)) if flag == "--db" => PathBuf::from(path),
        _ => {
            eprintln!("usage: gateway --db PATH");
            return ExitCode::from(2);
        }
    };
    let options = match StoreOptions::from_env() {
        Ok(options) => options,
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::from(2);
        }
    };
    let mut store = match Store::open_existing(&db, options) {
        Ok(store) => store,
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::FAILURE;
        }
    };
    let mut out = io::stdout().lock();
    for line in io::stdin().lock().lines() {
        let line = match line {
            Ok(line) => line,
            // A line that is not UTF-8 is not a key.
            Err(err) if err.kind() == io::ErrorKind::InvalidData => String::new(),
            Err(err) => {
                eprintln!("error: cannot read stdin: {err}");
                break;
            }
        };
        let answer = match store.verify(line.trim_end_matches('\r')) {
            Ok(Verification::Valid(key)) => format!("VALID {}", key.id),
            Ok(Verification::Invalid(reason)) => format!("INVALID {}", reason.code()),
            Err(err) => format!("ERROR {err}"),
        };
        if writeln!(out, "{answer}")
            .and_then(|()| out.flush())
            .is_err()
        {
            break;
        }
    }
    // Dropping the store writes the buffered use counts: a clean exit loses nothing.
    drop(store);
    ExitCode::SUCCESS
}
