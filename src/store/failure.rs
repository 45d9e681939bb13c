//! How failures inside the store become the sentences a user reads, in one place.
//!
//! Store code works in `Result<T, Failure>`, so that `?` takes SQLite's errors and the
//! store's own alike. An SQLite error only becomes an [`Error`] at the edge of a public
//! method, where the store's path and busy timeout are at hand (a [`Site`]): the same code
//! then gives the same sentence whichever operation met it.

use std::path::Path;
use std::time::Duration;

use crate::error::{Error, Result};

/// A failure met inside the store, not yet put into words.
#[derive(Debug)]
pub(super) enum Failure {
    Sqlite(rusqlite::Error),
    Postgres(postgres::Error),
    /// A value the store holds that this build cannot read (an unknown environment, a time
    /// out of range): a damaged or foreign row.
    Decode(String),
    Store(Error),
}

impl From<postgres::Error> for Failure {
    fn from(err: postgres::Error) -> Self {
        Failure::Postgres(err)
    }
}

impl From<rusqlite::Error> for Failure {
    fn from(err: rusqlite::Error) -> Self {
        Failure::Sqlite(err)
    }
}

impl From<Error> for Failure {
    fn from(err: Error) -> Self {
        Failure::Store(err)
    }
}

/// What an SQLite error needs to become an [`Error`]: which file, and how long a writer
/// waited for another process's lock before giving up.
#[derive(Debug, Clone, Copy)]
pub(super) struct Site<'a> {
    pub path: &'a Path,
    pub busy_timeout: Duration,
}

impl Failure {
    pub(super) fn at(self, site: Site<'_>) -> Error {
        match self {
            Failure::Sqlite(err) => sqlite_error(err, site),
            Failure::Postgres(err) => postgres_error(err, site),
            Failure::Decode(what) => Error::Database {
                path: site.path.to_path_buf(),
                message: format!("a stored value cannot be read ({what})").into(),
            },
            Failure::Store(err) => err,
        }
    }
}

/// Puts a store-internal result into words at the edge of a public method:
/// `work().at(site)?`.
pub(super) trait AtSite<T> {
    fn at(self, site: Site<'_>) -> Result<T>;
}

impl<T, E: Into<Failure>> AtSite<T> for std::result::Result<T, E> {
    fn at(self, site: Site<'_>) -> Result<T> {
        self.map_err(|err| err.into().at(site))
    }
}

/// Turns an SQLite error into the sentence a user needs, naming the database file.
fn sqlite_error(err: rusqlite::Error, site: Site<'_>) -> Error {
    use rusqlite::ErrorCode;
    let path = site.path.to_path_buf();
    match err.sqlite_error_code() {
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => Error::Busy {
            timeout_ms: site.busy_timeout.as_millis() as u64,
        },
        Some(ErrorCode::ReadOnly) => Error::ReadOnly { path },
        Some(ErrorCode::NotADatabase) => Error::NotADatabase { path },
        Some(ErrorCode::DatabaseCorrupt) => Error::Corrupt { path },
        Some(ErrorCode::DiskFull) => Error::DiskFull { path },
        // EFBIG (a file size limit), a full disk met while growing the shared-memory file
        // and other failed writes arrive as these I/O errors, before anything is
        // committed; other I/O errors keep SQLite's own words.
        Some(ErrorCode::SystemIoFailure) if is_failed_write(&err) => Error::DiskFull { path },
        Some(ErrorCode::CannotOpen) => Error::CannotOpen {
            path,
            reason: "the file or its directory cannot be opened".into(),
        },
        Some(ErrorCode::PermissionDenied) => Error::CannotOpen {
            path,
            reason: "permission denied".into(),
        },
        _ => Error::Database {
            path,
            message: Box::new(err),
        },
    }
}

/// Turns a PostgreSQL error into the sentence a user needs, naming the server by its URL
/// without the password (the store's "path" on PostgreSQL).
fn postgres_error(err: postgres::Error, site: Site<'_>) -> Error {
    use postgres::error::SqlState;
    let path = site.path.to_path_buf();
    match err.code() {
        Some(code) if *code == SqlState::LOCK_NOT_AVAILABLE => Error::Busy {
            timeout_ms: site.busy_timeout.as_millis() as u64,
        },
        Some(code) if *code == SqlState::READ_ONLY_SQL_TRANSACTION => Error::ReadOnly { path },
        Some(code) if *code == SqlState::DISK_FULL => Error::DiskFull { path },
        _ => Error::Database {
            path,
            message: Box::new(err),
        },
    }
}

fn is_failed_write(err: &rusqlite::Error) -> bool {
    use rusqlite::ffi;
    err.sqlite_error().is_some_and(|e| {
        matches!(
            e.extended_code,
            ffi::SQLITE_IOERR_WRITE | ffi::SQLITE_IOERR_TRUNCATE | ffi::SQLITE_IOERR_SHMSIZE
        )
    })
}

/// An operating-system error that means "no room": a full disk or a file size limit.
pub(super) fn is_out_of_room(err: &std::io::Error) -> bool {
    matches!(
        err.kind(),
        std::io::ErrorKind::StorageFull | std::io::ErrorKind::FileTooLarge
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use rusqlite::ffi;

    fn from_code(extended_code: i32) -> Error {
        let err = rusqlite::Error::SqliteFailure(ffi::Error::new(extended_code), None);
        let site = Site {
            path: Path::new("/data/keys.db"),
            busy_timeout: Duration::from_secs(5),
        };
        Failure::from(err).at(site)
    }

    #[test]
    fn every_way_of_running_out_of_room_says_the_same_sentence() {
        let full = from_code(ffi::SQLITE_FULL).to_string();
        assert!(
            full.contains("/data/keys.db could not be written"),
            "{full}"
        );
        assert!(full.ends_with("nothing was changed."), "{full}");
        for code in [
            ffi::SQLITE_IOERR_WRITE,
            ffi::SQLITE_IOERR_TRUNCATE,
            // A full disk met while the shared-memory file grows, as `list` meets it.
            ffi::SQLITE_IOERR_SHMSIZE,
        ] {
            assert_eq!(from_code(code).to_string(), full, "code {code}");
        }
        for kind in [
            std::io::ErrorKind::StorageFull,
            std::io::ErrorKind::FileTooLarge,
        ] {
            assert!(is_out_of_room(&std::io::Error::from(kind)));
        }
        assert!(!is_out_of_room(&std::io::Error::from(
            std::io::ErrorKind::PermissionDenied
        )));
        // Other I/O errors keep SQLite's own words.
        assert_ne!(from_code(ffi::SQLITE_IOERR_READ).to_string(), full);
    }

    #[test]
    fn an_sqlite_error_stays_the_source_and_its_words_one_sentence() {
        let err = from_code(ffi::SQLITE_IOERR_READ);
        let text = err.to_string();
        assert!(
            text.starts_with("Database error at /data/keys.db: "),
            "{text}"
        );
        assert!(text.ends_with('.') && !text.ends_with(".."), "{text}");
        let source = std::error::Error::source(&err).expect("SQLite's error as the source");
        assert!(source.downcast_ref::<rusqlite::Error>().is_some());
    }
}
