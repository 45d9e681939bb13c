//! Where a store lives: an SQLite file, or a PostgreSQL database that a team shares.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::failure::Failure;
use super::postgres::{self, PgUrl};
use super::sql::{Conn, PgConn};
use crate::error::Result;

/// What `--db` / `HIVEKEYS_DB` names. `Debug` never shows a password.
#[derive(Debug, Clone)]
pub enum Location {
    File(PathBuf),
    Postgres(PgUrl),
}

impl Location {
    /// `text` as an admin gave it: a `postgres://` or `postgresql://` URL, or a file path.
    /// Any other URL is refused rather than taken for a path (it would be created as
    /// directories, its password a folder's name).
    ///
    /// Text that looks meant for PostgreSQL but is not a URL (`postgres:/…`, libpq's
    /// `host=… password=…` form) is refused too: taken for a path, it would become a store
    /// file whose name (printed in every message) holds the password.
    pub fn parse(text: &OsStr) -> Result<Location> {
        let lossy = text.to_string_lossy();
        if postgres::is_database_url(&lossy) {
            return Ok(Location::Postgres(PgUrl::parse(&lossy)?));
        }
        let lower = lossy.to_ascii_lowercase();
        let problem = if lower.starts_with("postgres:") || lower.starts_with("postgresql:") {
            Some("it names PostgreSQL but lacks the // after the scheme")
        } else if lower.contains("password=") || lower.contains("dbname=") {
            Some("libpq's keyword=value form is not taken, only the URL form")
        } else {
            None
        };
        match problem {
            Some(problem) => Err(crate::Error::InvalidDatabaseUrl {
                problem: problem.to_owned(),
            }),
            None => Ok(Location::File(PathBuf::from(text))),
        }
    }

    /// How messages name the store: the file's path, or the URL without its password.
    pub fn label(&self) -> PathBuf {
        match self {
            Location::File(path) => path.clone(),
            Location::Postgres(url) => PathBuf::from(url.redacted()),
        }
    }

    /// The file, for a store that is one.
    pub fn file(&self) -> Option<&Path> {
        match self {
            Location::File(path) => Some(path),
            Location::Postgres(_) => None,
        }
    }

    /// A further connection to a store already opened (and migrated) by [`Store::open`]:
    /// for the threads that verify, write use counts and read whole workspaces.
    ///
    /// [`Store::open`]: super::Store::open
    pub(super) fn reconnect(&self, busy_timeout: Duration) -> Result<Conn, Failure> {
        match self {
            Location::File(path) => Ok(Conn::Sqlite(super::file::open_connection(
                path,
                busy_timeout,
            )?)),
            Location::Postgres(url) => Ok(Conn::Postgres(Box::new(pg_session(url, busy_timeout)?))),
        }
    }
}

impl From<&Path> for Location {
    fn from(path: &Path) -> Self {
        Location::File(path.to_path_buf())
    }
}

impl From<&PathBuf> for Location {
    fn from(path: &PathBuf) -> Self {
        Location::File(path.clone())
    }
}

impl From<PathBuf> for Location {
    fn from(path: PathBuf) -> Self {
        Location::File(path)
    }
}

impl From<&Location> for Location {
    fn from(location: &Location) -> Self {
        location.clone()
    }
}

/// A connection to the PostgreSQL store at `url`.
pub(super) fn pg_session(url: &PgUrl, busy_timeout: Duration) -> Result<PgConn> {
    PgConn::connect(url, busy_timeout)
}

/// Whether the database at `url` holds a hivekeys store (of any version).
pub(super) fn pg_store_exists(conn: &PgConn, url: &PgUrl) -> Result<bool> {
    conn.with_client(|client| {
        Ok(client
            .query_one(
                "SELECT to_regclass('hivekeys.schema_version') IS NOT NULL",
                &[],
            )
            .and_then(|row| row.try_get(0))
            .map_err(|err| postgres::query_error(url, &err))?)
    })
    .map_err(|failure| {
        let path = PathBuf::from(url.redacted());
        failure.at(super::failure::Site {
            path: &path,
            busy_timeout: Duration::ZERO,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_meant_for_postgresql_is_never_a_file_and_never_repeated() {
        for text in [
            "postgres:/alice:hunter2@db/keys",
            "postgresql:alice:hunter2@db/keys",
            "host=db user=alice password=hunter2 dbname=keys",
            "dbname=keys",
        ] {
            let err = Location::parse(text.as_ref()).unwrap_err();
            assert!(
                matches!(err, crate::Error::InvalidDatabaseUrl { .. }),
                "{text}: {err:?}"
            );
            assert!(!err.to_string().contains("hunter2"), "{err}");
        }
        assert!(matches!(
            Location::parse("postgres://alice:hunter2@db/keys".as_ref()),
            Ok(Location::Postgres(_))
        ));
        for path in ["keys.db", "/var/lib/hivekeys/keys.db", "./postgres.db"] {
            assert!(matches!(
                Location::parse(path.as_ref()),
                Ok(Location::File(file)) if file == Path::new(path)
            ));
        }
    }
}
