//! How a gateway embeds hivekeys: one `Store` kept open for the life of the process, one
//! `verify` call per request. Reads one key per line on stdin and answers one line per key on
//! stdout (`VALID <id>` or `INVALID <CODE>`), flushed at once: the answer is the
//! acknowledgement a caller would act on.
//!
//! `--db` takes what the binary's `--db` takes: a file path or a `postgres://` URL (the
//! password may come from `PGPASSWORD`).
//!
//! ```text
//! cargo run --release --example gateway -- --db ~/.local/share/hivekeys/hivekeys.db
//! cargo run --release --example gateway -- --db postgres://gateway@db.internal/hivekeys
//! ```
//!
//! The reliability tests (`tests/conformance/reliability.rs`) run it on both backends to kill
//! it with SIGKILL in the middle of its work and check what a hard kill can lose.

use std::io::{self, BufRead, Write};
use std::process::ExitCode;

use hivekeys::store::{Location, Verification};
use hivekeys::{Store, StoreOptions};

fn main() -> ExitCode {
    let mut args = std::env::args_os().skip(1);
    let db = match (args.next(), args.next(), args.next()) {
        (Some(flag), Some(db), None) if flag == "--db" => db,
        _ => {
            eprintln!("usage: gateway --db PATH|postgres://USER@HOST/DBNAME");
            return ExitCode::from(2);
        }
    };
    // The same reading as the binary's `--db`, so a URL is never taken for a file name.
    let location = match Location::parse(&db) {
        Ok(location) => location,
        Err(err) => {
            eprintln!("error: {err}");
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
    let mut store = match Store::open_existing(location, options) {
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
