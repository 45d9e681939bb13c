//! The library's error type. Every message is one sentence a person can act on, and none
//! ever contains a key.

use std::path::PathBuf;

use crate::text::NameError;

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The underlying error of a variant that keeps one. Boxed so that a caller with no error of
/// its own can give a few words instead (`"the reader stopped".into()`).
pub type BoxedError = Box<dyn std::error::Error + Send + Sync>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("Invalid name: {0}.")]
    InvalidName(#[from] NameError),

    #[error(
        "No key matches \"{query}\" in workspace \"{workspace}\"; run `hivekeys list` to see its keys."
    )]
    KeyNotFound { query: String, workspace: String },

    #[error(
        "\"{query}\" matches {}{} keys in workspace \"{workspace}\" ({}{}); name one by its id.",
        if *more { "more than " } else { "" },
        candidates.len(),
        candidates.join("; "),
        if *more { "; …" } else { "" }
    )]
    AmbiguousKey {
        query: String,
        workspace: String,
        candidates: Vec<String>,
        /// More keys than `candidates` lists have the name.
        more: bool,
    },

    #[error(
        "Workspace \"{workspace}\" already has an active default key ({id}); rotate or revoke it instead."
    )]
    DefaultKeyExists { workspace: String, id: String },

    #[error("A workspace named \"{name}\" already exists; choose another name.")]
    WorkspaceExists { name: String },

    #[error("The expiry time must be in the future.")]
    ExpiryInPast,

    // Said of every change (rotate, revoke, limit, rename): a revocation is final.
    #[error("Key {id} is revoked; a revoked key cannot change.")]
    KeyRevoked { id: String },

    #[error("Key {id} has expired; create a new key instead of rotating it.")]
    KeyExpired { id: String },

    #[error(
        "The database is busy: another process held its lock for more than {timeout_ms} ms; nothing was changed, try again."
    )]
    Busy { timeout_ms: u64 },

    #[error(
        "The database at {} is read-only; check the file's and its directory's permissions.",
        crate::text::printable_path(path)
    )]
    ReadOnly { path: PathBuf },

    #[error(
        "{} is a directory, not a hivekeys database file.",
        crate::text::printable_path(path)
    )]
    IsDirectory { path: PathBuf },

    #[error(
        "{} is {kind}, not a file; a hivekeys database must be a regular file.",
        crate::text::printable_path(path)
    )]
    NotAFile { path: PathBuf, kind: &'static str },

    #[error("{name} is \"{value}\", not {expected}; correct or unset it.")]
    BadEnvironmentVariable {
        name: &'static str,
        value: String,
        expected: &'static str,
    },

    #[error(
        "{} is not a hivekeys database (the file is not SQLite).",
        crate::text::printable_path(path)
    )]
    NotADatabase { path: PathBuf },

    #[error(
        "{} is an SQLite database of another program, not a hivekeys store.",
        crate::text::printable_path(path)
    )]
    ForeignDatabase { path: PathBuf },

    #[error(
        "The database at {} is damaged (corrupt or truncated); restore it from a backup.",
        crate::text::printable_path(path)
    )]
    Corrupt { path: PathBuf },

    #[error(
        "The database at {} was written by a newer hivekeys (schema version {found}, this build knows up to {supported}); upgrade hivekeys to open it.",
        crate::text::printable_path(path)
    )]
    TooNew {
        path: PathBuf,
        found: i64,
        supported: i64,
    },

    /// Every way a write runs out of room (SQLite's "full", a failed write to the file or
    /// its log, shared memory that cannot grow, a file that cannot be created) ends here, so
    /// every command and the dashboard say the same thing.
    #[error(
        "The database at {} could not be written (the disk may be full or a file size limit reached); nothing was changed.",
        crate::text::printable_path(path)
    )]
    DiskFull { path: PathBuf },

    #[error(
        "Cannot open the database at {}: {reason}.",
        crate::text::printable_path(path)
    )]
    CannotOpen { path: PathBuf, reason: String },

    #[error(
        "There is no hivekeys database at {}; check --db / HIVEKEYS_DB.",
        crate::text::printable_path(path)
    )]
    NoStore { path: PathBuf },

    #[error("No data directory could be found for this user; pass --db PATH or set HIVEKEYS_DB.")]
    NoDataDirectory,

    /// The generator's own error is the source.
    #[error("The operating system's random number generator failed ({0}); no key was created.")]
    Entropy(#[source] BoxedError),

    #[error(
        "Database error at {}: {}.",
        crate::text::printable_path(path),
        message.to_string().trim_end_matches('.')
    )]
    Database {
        path: PathBuf,
        /// What went wrong: SQLite's own error, kept whole for callers that look into it (its
        /// words end the sentence without their full stop), or a few words of the caller's.
        #[source]
        message: BoxedError,
    },

    /// The dashboard withdrew a change that was waiting for another process's lock (the admin
    /// pressed Esc, or quit): it was rolled back before it could commit.
    #[error("The change was withdrawn while it waited for the store; nothing was changed.")]
    Withdrawn,

    /// The new key could not be handed over (stdout closed, full or a closed pipe), so the
    /// change was rolled back: a key nobody saw is never stored.
    #[error("{}", undelivered(*rotation, source))]
    NotDelivered {
        rotation: bool,
        #[source]
        source: std::io::Error,
    },

    #[error("A daily limit is a whole number of uses from 1 to 1,000,000,000, or none.")]
    InvalidDailyLimit,

    #[error(
        "Key {id} was rotated meanwhile by someone else; nothing was changed. Look at it again (`hivekeys show {id}`) before rotating it."
    )]
    RotatedMeanwhile { id: String },

    #[error(
        "The store file {} was replaced by another file since it was opened; nothing was changed, open it again.",
        crate::text::printable_path(path)
    )]
    StoreReplaced { path: PathBuf },

    #[error(
        "The store file {} was deleted since it was opened; nothing was changed.",
        crate::text::printable_path(path)
    )]
    StoreGone { path: PathBuf },

    /// Only the scheme is repeated: the rest of a URL may hold a password.
    #[error(
        "{scheme}:// URLs are not supported: --db and HIVEKEYS_DB take the path of an SQLite file or a postgres:// URL (the value is not repeated here, as it may hold a password)."
    )]
    UnsupportedDatabaseUrl { scheme: String },

    /// `problem` never quotes the URL: a part that could not be read may be the password.
    #[error(
        "The database URL is not valid: {problem}; write it as postgres://USER[:PASSWORD]@HOST[:PORT]/DBNAME (the URL is not repeated here, as it may hold a password)."
    )]
    InvalidDatabaseUrl { problem: String },

    /// `store` is always a redacted URL (no password), as are the other PostgreSQL variants'.
    #[error(
        "Cannot reach the PostgreSQL server of {store} ({reason}); check that it is running and that the host and port are right."
    )]
    StoreUnreachable { store: String, reason: String },

    #[error(
        "PostgreSQL refused the login to {store} ({reason}); check the user name and the password (in the URL or PGPASSWORD)."
    )]
    StoreLoginRefused { store: String, reason: String },

    #[error(
        "The database named in {store} does not exist on its server; create it (createdb) or correct the URL."
    )]
    StoreDatabaseMissing { store: String },

    #[error(
        "The PostgreSQL server of {store} does not accept TLS connections, which sslmode={sslmode} requires; enable ssl on the server, or use sslmode=disable only on a network you trust."
    )]
    StoreTlsRefused {
        store: String,
        sslmode: &'static str,
    },

    #[error("The TLS connection to {store} failed: {reason}; {remedy}.")]
    StoreTlsFailed {
        store: String,
        reason: String,
        remedy: &'static str,
    },

    #[error(
        "The schema hivekeys in {store} holds tables that hivekeys did not create; point --db at another database, or drop that schema if nothing uses it."
    )]
    ForeignSchema { store: String },

    #[error(
        "PostgreSQL error on {store}: {}.",
        reason.trim_end_matches('.')
    )]
    StoreFailed { store: String, reason: String },

    #[error(
        "{} already holds keys; `copy` only fills an empty store, so nothing was copied.",
        crate::text::printable_path(path)
    )]
    CopyTargetNotEmpty { path: PathBuf },
}

fn undelivered(rotation: bool, err: &std::io::Error) -> String {
    let err = match err.kind() {
        std::io::ErrorKind::BrokenPipe => "the reading end of the pipe is closed".to_owned(),
        _ => err.to_string(),
    };
    match rotation {
        true => format!(
            "The new key could not be written to the output ({err}), so the key was not rotated; its current secret keeps working."
        ),
        false => format!(
            "The new key could not be written to the output ({err}), so no key was created."
        ),
    }
}
