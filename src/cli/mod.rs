//! The non-interactive commands. Each prints its result on stdout and any error on stderr as
//! one sentence; exit status 0 on success, 1 on failure, 2 on a usage error.

mod admin;
mod args;
mod bulk;
mod dashboard;
mod failure;
mod fill;
mod output;
mod scan;
mod shell;
mod verify;

use std::io::{self, BufRead, IsTerminal, Write};
use std::os::unix::fs::MetadataExt;
use std::process::ExitCode;

use clap::Parser;

pub use args::{Cli, Command, parse_duration};
pub use failure::Failure;

use crate::environment::Environment;
use crate::error::Error;
use crate::key::redact_keys;
use crate::store::{
    self, Grace, IssuedKey, KeyQuery, KeyRecord, Location, NewKey, Store, StoreOptions,
};
use crate::text::{echo, validate_name};

pub use verify::MAX_VERIFY_INPUT;

/// Runs the command given, or the dashboard when there is none.
pub fn run(cli: &Cli) -> Result<ExitCode, Failure> {
    // These only print what the command line is: no store, no workspace.
    match &cli.command {
        Some(Command::Completions { shell }) => {
            shell::write_all(&shell::completion_script(*shell))?;
            return Ok(ExitCode::SUCCESS);
        }
        Some(Command::Man) => {
            shell::write_all(&shell::man_page())?;
            return Ok(ExitCode::SUCCESS);
        }
        _ => {}
    }
    // Checked before anything else, so that a key typed as the workspace is refused by every
    // command, including those that would only read.
    let workspace = validate_name(cli.workspace(), "workspace").map_err(Error::from)?;
    let workspace = workspace.as_str();
    let Some(command) = &cli.command else {
        return dashboard::run(cli, workspace);
    };
    if let Command::Serve {
        listen,
        max_connections,
    } = command
    {
        // Like verify: only a workspace named explicitly narrows what is accepted.
        let options = crate::serve::ServeOptions {
            listen: *listen,
            max_connections: *max_connections as usize,
            workspace: cli.workspace.as_ref().map(|_| workspace.to_owned()),
        };
        let store = Store::open_existing(store_location(cli)?, StoreOptions::from_env()?)?;
        crate::serve::run(store, options).map_err(|err| Failure {
            message: format!("The service stopped: {err}."),
            status: 1,
        })?;
        return Ok(ExitCode::SUCCESS);
    }
    if let Command::Verify = command {
        // Only a workspace named explicitly narrows verification; without one, a key of any
        // workspace is checked, as a gateway in front of all of them needs.
        return verify::verify(cli, cli.workspace.as_ref().map(|_| workspace));
    }
    if let Command::Scan {
        paths,
        git,
        binary,
        json,
        revoke,
        yes,
    } = command
    {
        let request = scan::ScanRequest {
            paths,
            git: *git,
            binary: *binary,
            json: *json,
            revoke: *revoke,
            yes: *yes,
        };
        return scan::run(cli, &request);
    }
    if matches!(command, Command::Create { .. } | Command::Rotate { .. }) {
        // Before the store is opened: SQLite puts /dev/null on a closed descriptor 1.
        ensure_stdout_writable()?;
    }
    let mut store = open_store(cli)?;
    let mut out = io::BufWriter::new(io::stdout().lock());
    match command {
        Command::List {
            env,
            status,
            search,
            sort,
            unused_for,
            expiring_within,
            json,
        } => {
            let query = KeyQuery {
                search: search.clone(),
                environment: *env,
                status: *status,
                unused_for: *unused_for,
                expiring_within: *expiring_within,
                ..KeyQuery::default()
            };
            let mut keys = store.list_keys(workspace, &query)?;
            sort.sort(&mut keys);
            let now = store.now();
            if *json {
                let uses_today = store.uses_today(workspace, &keys)?;
                let leaks = store.leaks_of_keys(workspace, &keys)?;
                output::write_json(
                    &mut out,
                    &output::key_list_json(&keys, &uses_today, &leaks, now),
                )?;
            } else {
                let total = store.count_keys(workspace, &KeyQuery::default())?;
                output::write_key_table(&mut out, &keys, total, workspace, now)?;
            }
        }
        Command::Create {
            name,
            env,
            default,
            expires_in,
            daily_limit,
        } => {
            let new = match (name, env, default) {
                (Some(name), Some(env), is_default) => NewKey {
                    is_default: *is_default,
                    ..NewKey::new(name.clone(), *env)
                },
                (name, env, true) => NewKey {
                    name: name
                        .clone()
                        .unwrap_or_else(|| store::DEFAULT_KEY_NAME.into()),
                    ..NewKey::default_key(env.unwrap_or(Environment::Production))
                },
                (None, _, false) => {
                    return Err(Failure::usage(
                        "create needs --name and --env, or --default for the workspace's default key.",
                    ));
                }
                (Some(_), None, false) => {
                    return Err(Failure::usage(
                        "create needs --env (production, staging or development) with --name.",
                    ));
                }
            };
            let new = NewKey {
                expires_at: expires_in.map(|d| store.now() + d),
                daily_limit: *daily_limit,
                ..new
            };
            let issued = printed_then(
                |printed| store.create_key_and(workspace, new, |issued| printed(&mut out, issued)),
                "The key printed above was not stored and will not work.",
            )?;
            say(&format!(
                "Created {} \"{}\" ({}). Copy the key now: it will not be shown again.",
                issued.record.id,
                echo(&issued.record.name, 64),
                issued.record.environment
            ));
        }
        Command::Limit { key, limit } => {
            let record = store.resolve_key(workspace, key)?;
            let changed = store.set_daily_limit(workspace, &record.id, limit.0)?;
            let what = match changed.daily_limit {
                Some(n) => format!(
                    "may now be used {} times a day (UTC)",
                    crate::text::group_digits(n)
                ),
                None => "has no daily limit now".to_owned(),
            };
            writeln!(
                out,
                "Key {} \"{}\" {what}.",
                changed.id,
                echo(&changed.name, 64)
            )?;
        }
        Command::Rename { key, name } => {
            let record = store.resolve_key(workspace, key)?;
            // The name replaced is the store's, read under its lock: another admin may have
            // renamed the key since it was looked up.
            let store::Renamed {
                key: renamed,
                before,
            } = store.rename_key_unless(workspace, &record.id, name, || false)?;
            let line = match renamed.name == before {
                true => format!(
                    "Key {} is already named \"{}\"; nothing changed.",
                    renamed.id,
                    echo(&renamed.name, 64)
                ),
                false => format!(
                    "Renamed key {} \"{}\" → \"{}\".",
                    renamed.id,
                    echo(&before, 64),
                    echo(&renamed.name, 64)
                ),
            };
            writeln!(out, "{line}")?;
        }
        Command::Rotate { key, grace, yes } => {
            let record = store.resolve_key(workspace, key)?;
            let grace = grace.unwrap_or_default();
            let consequence = match grace {
                Grace::None => "Apps using the current secret stop working immediately.".to_owned(),
                other => format!(
                    "The current secret keeps working {}, then stops.",
                    other.span()
                ),
            };
            confirm(
                &format!("Rotate {}? {consequence}", describe(&record)),
                *yes,
                "rotate",
            )?;
            let issued = printed_then(
                |printed| {
                    store.rotate_key_as_seen(workspace, &record, grace, |issued| {
                        printed(&mut out, issued)
                    })
                },
                "The key printed above was not stored and will not work; the current secret keeps working.",
            )?;
            say(&format!(
                "Rotated {}: the previous secret stops {}. Copy the new key now: it will not be shown again.",
                issued.record.id,
                grace.label()
            ));
        }
        Command::Revoke { keys, yes } => {
            // Each key once: `revoke A A` is one key, asked and revoked as one.
            let records = bulk::resolve_all(&store, workspace, keys)?;
            let [record] = records.as_slice() else {
                return bulk::revoke(&mut store, workspace, &records, *yes, out);
            };
            confirm(
                &format!(
                    "Revoke {}? Apps using it stop working at once; this cannot be undone.",
                    describe(record)
                ),
                *yes,
                "revoke",
            )?;
            let revoked = store.revoke_key(workspace, &record.id)?;
            writeln!(
                out,
                "Revoked {} \"{}\".",
                revoked.id,
                echo(&revoked.name, 64)
            )?;
        }
        Command::Show { key, json } => {
            let record = store.resolve_key(workspace, key)?;
            let secrets = store.live_secrets(workspace, &record.id)?;
            let events = store.audit_trail(workspace, &record.id)?;
            let usage = store.daily_usage(workspace, &record.id, 30)?;
            let now = store.now();
            let leaks = store.key_leaks(workspace, &record.id)?;
            if *json {
                output::write_json(
                    &mut out,
                    &output::key_detail_json(&record, &secrets, &events, &usage, &leaks, now),
                )?;
            } else {
                output::write_key_detail(
                    &mut out,
                    workspace,
                    &record,
                    output::KeyReads {
                        secrets: &secrets,
                        events: &events,
                        usage: &usage,
                        leaks: &leaks,
                    },
                    now,
                )?;
            }
        }
        Command::Workspaces { create, json } => {
            admin::workspaces(&mut out, &mut store, workspace, create.as_deref(), *json)?
        }
        Command::Log { since, json } => admin::log(&mut out, &store, workspace, *since, *json)?,
        Command::Demo { keys, seed } => fill::demo(&mut out, &mut store, workspace, *keys, *seed)?,
        Command::Copy { to } => fill::copy(&mut out, &mut store, to)?,
        Command::Verify
        | Command::Serve { .. }
        | Command::Scan { .. }
        | Command::Completions { .. }
        | Command::Man => {
            unreachable!("handled above")
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// Writes a new key to stdout, alone on its line, and flushes it: the store commits the key
/// only once this succeeded.
fn print_key(out: &mut (impl Write + ?Sized), issued: &IssuedKey) -> io::Result<()> {
    writeln!(out, "{}", issued.secret.expose())?;
    out.flush()
}

/// Runs a create or rotate whose `deliver` is the printer it is given. If the change then
/// fails anyway (its COMMIT: a full disk, an I/O error), a key is already on stdout that
/// does not exist: the error says so first, so a script that kept the key is told.
fn printed_then<T>(
    change: impl FnOnce(
        &mut dyn FnMut(&mut dyn Write, &IssuedKey) -> io::Result<()>,
    ) -> Result<T, Error>,
    after_printing: &str,
) -> Result<T, Failure> {
    let mut printed = false;
    let result = change(&mut |out, issued| {
        print_key(out, issued)?;
        printed = true;
        Ok(())
    });
    result.map_err(|err| match printed {
        true => Failure {
            message: format!("{after_printing} {err}"),
            status: 1,
        },
        false => Failure::from(err),
    })
}

/// Refuses to issue a key that nobody could see: stdout closed, read-only, or /dev/null.
/// Writes there do not fail, so the delivery check alone would let the change commit. A
/// closed stdout (`>&-`) looks like /dev/null here: Rust's runtime puts /dev/null on a closed
/// descriptor 1 at start-up.
fn ensure_stdout_writable() -> Result<(), Failure> {
    use rustix::fs::{FileType, OFlags};
    let stdout = io::stdout();
    let writable = rustix::fs::fcntl_getfl(&stdout)
        .is_ok_and(|flags| flags.intersects(OFlags::WRONLY | OFlags::RDWR));
    let null = std::fs::metadata("/dev/null").ok().map(|null| null.rdev());
    let discarded = rustix::fs::fstat(&stdout).is_ok_and(|stat| {
        FileType::from_raw_mode(stat.st_mode) == FileType::CharacterDevice
            && Some(stat.st_rdev) == null
    });
    if writable && !discarded {
        return Ok(());
    }
    Err(Failure {
        message: "stdout is closed, read-only or /dev/null, so nobody would see the new key; nothing was changed.".into(),
        status: 1,
    })
}

fn describe(record: &KeyRecord) -> String {
    format!(
        "\"{}\" ({}, {})",
        echo(&record.name, 64),
        record.id,
        record.environment
    )
}

/// Asks on the terminal before a destructive change. Without a terminal on stdin, only
/// `--yes` lets it proceed: a script must say so explicitly.
fn confirm(question: &str, yes: bool, verb: &str) -> Result<(), Failure> {
    if yes {
        return Ok(());
    }
    if !io::stdin().is_terminal() {
        return Err(Failure::usage(format!(
            "Refusing to {verb} without --yes because stdin is not a terminal."
        )));
    }
    eprint!("{} [y/N] ", redact_keys(question));
    io::stderr().flush().ok();
    let mut answer = String::new();
    io::stdin().lock().read_line(&mut answer)?;
    if matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes") {
        Ok(())
    } else {
        Err(Failure {
            message: "Cancelled; nothing was changed.".into(),
            status: 1,
        })
    }
}

/// One line for the user on stderr. Every message the CLI writes passes here: the last
/// chance to mask a key that made its way into one (a path, a name written by another
/// program). Unlike `eprintln!` it never panics: a closed, full or hung-up stderr must not
/// turn a change that succeeded into a crash.
fn say(message: &str) {
    let _ = writeln!(io::stderr(), "{}", redact_keys(message));
}

/// The store `--db` / `HIVEKEYS_DB` names: a file (the user's default one when neither is
/// given) or a PostgreSQL URL. Any other URL is refused, never taken for a path: it would be
/// created as directories, its password a folder's name, and a key issued into a local file
/// the admin thinks is the team's store.
pub fn store_location(cli: &Cli) -> Result<Location, Error> {
    match &cli.db {
        Some(db) if !db.as_os_str().is_empty() => Location::parse(db.as_os_str()),
        _ => store::default_path().map(Location::File),
    }
}

pub fn open_store(cli: &Cli) -> Result<Store, Failure> {
    let store = Store::open_with(store_location(cli)?, StoreOptions::from_env()?)?;
    if let Some(warning) = store.permission_warning() {
        say(&warning);
    }
    Ok(store)
}

/// The binary's entry point for everything but the dashboard.
pub fn main_with(cli: Cli) -> ExitCode {
    match run(&cli) {
        Ok(code) => code,
        Err(failure) => {
            if !failure.message.is_empty() {
                say(&format!("error: {}", failure.message));
            }
            ExitCode::from(failure.status)
        }
    }
}

/// Parses the process's arguments (exit 2 on a usage error, as clap does). clap repeats a
/// rejected value in its message; a value holding an escape sequence must not reach the
/// terminal as one, so its control characters are written out as `\u{1b}`.
pub fn parse_args() -> Cli {
    match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            let err = without_env_in_usage(err);
            let rendered = err.render().to_string();
            // A key given where it does not belong (`hivekeys verify fhk_…`) is echoed too.
            let rendered = crate::key::redact_keys(&rendered);
            let safe: Vec<String> = rendered
                .split('\n')
                .map(|line| crate::text::printable(line, usize::MAX))
                .collect();
            let safe = safe.join("\n");
            // Help and version go to stdout with status 0, like clap's own `exit`; a closed
            // pipe (`hivekeys --help | true`) is not worth a panic.
            let _ = if err.use_stderr() {
                write!(io::stderr(), "{safe}")
            } else {
                write!(io::stdout(), "{safe}").and_then(|()| io::stdout().flush())
            };
            std::process::exit(err.exit_code());
        }
    }
}

/// clap counts an option set through its environment variable as typed, so with
/// `HIVEKEYS_DB` set a usage error would show `Usage: hivekeys rotate --db <PATH> <KEY>`, as
/// if `--db` were required. The same arguments parsed without the variables give the same
/// error with the usage line the user needs; any other outcome keeps the original error.
fn without_env_in_usage(err: clap::Error) -> clap::Error {
    use clap::CommandFactory;
    // Help and version are no usage errors, and help should name the variables.
    if !err.use_stderr() {
        return err;
    }
    let command = Cli::command()
        .mut_arg("db", |arg| arg.env(None))
        .mut_arg("workspace", |arg| arg.env(None));
    match command.try_get_matches_from(std::env::args_os()) {
        Err(plain) if plain.kind() == err.kind() => plain,
        _ => err,
    }
}
