//! Opening the store file: making it (private from the first instant), refusing what is not
//! ours, switching it to write-ahead logging, and remembering which file it was so that a
//! file deleted or replaced under a running process is noticed.

use std::fs::{DirBuilder, OpenOptions};
use std::io::ErrorKind;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use super::failure::{Failure, is_out_of_room};
use super::schema;
use super::sql::Conn;
use super::{LATEST_VERSION, Store};
use crate::error::{Error, Result};

/// Opens the store file at `path` (creating it if `create`), checks it is ours and not newer,
/// and brings its schema up to date. Also returns which file it is, to notice later when the
/// path names another one.
pub(super) fn connect(
    path: &Path,
    busy_timeout: Duration,
    create: bool,
) -> Result<(Connection, FileId), Failure> {
    if !create && !path.exists() {
        return Err(Error::NoStore {
            path: path.to_path_buf(),
        }
        .into());
    }
    prepare_file(path)?;

    let mut conn = open_connection(path, busy_timeout)?;
    // Which file SQLite opened: asked right after the open, so a file swapped in between
    // is caught by the first check instead.
    let file = FileId::of(path)?;

    // Identify the file before writing anything to it: a foreign or newer database must be
    // left byte-for-byte as it was. One statement, so one snapshot: another process may be
    // creating the schema at this very moment.
    let (found, app_id, tables): (i64, i64, i64) = conn.query_row(
        "SELECT (SELECT user_version FROM pragma_user_version), \
                    (SELECT application_id FROM pragma_application_id), \
                    (SELECT count(*) FROM sqlite_master)",
        [],
        |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
    )?;
    let ours = app_id == schema::APPLICATION_ID || (app_id == 0 && found == 0 && tables == 0);
    if !ours {
        return Err(Error::ForeignDatabase {
            path: path.to_path_buf(),
        }
        .into());
    }
    if found < 0 {
        return Err(Error::Corrupt {
            path: path.to_path_buf(),
        }
        .into());
    }
    if found > LATEST_VERSION {
        return Err(Error::TooNew {
            path: path.to_path_buf(),
            found,
            supported: LATEST_VERSION,
        }
        .into());
    }

    let mode = enable_wal(&conn, busy_timeout)?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(Error::CannotOpen {
            path: path.to_path_buf(),
            reason: format!("SQLite refused write-ahead logging (journal mode {mode})"),
        }
        .into());
    }
    // FULL: a create, rotate or revoke that was reported done survives a power cut too.
    // Writes are rare (usage bookkeeping is batched), so the fsync is affordable.
    conn.execute_batch("PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL;")?;
    let migrated = match found < LATEST_VERSION {
        true => schema::migrate(&mut conn)?,
        false => Ok(()),
    };
    if let Err(newer) = migrated {
        return Err(Error::TooNew {
            path: path.to_path_buf(),
            found: newer,
            supported: LATEST_VERSION,
        }
        .into());
    }
    Ok((conn, file))
}

impl Store {
    /// Closes a store that a short-lived process opened to verify and then exit (`hivekeys
    /// verify`), writing its buffered uses first. Returns how many verifications it wrote.
    ///
    /// A process like that spends most of its time waiting for the disk: the use-count
    /// commit at `synchronous = FULL` and the checkpoint the last connection runs on close
    /// cost six `fsync`s (strace), against a few milliseconds of CPU. So the uses are
    /// committed at `synchronous = NORMAL`, which writes the log without an `fsync` (SQLite
    /// still syncs the header of a log it starts afresh: two, after a clean close), and the
    /// store's connections close without a checkpoint. What that gives up: the commit
    /// survives the process being killed (it is in the log, which the operating system
    /// holds), but a power cut or an OS crash before the log's next `fsync` can lose the uses
    /// committed this way since then. The next `synchronous = FULL` commit by anyone (a
    /// create, rotate, revoke, a gateway's batch) or the next checkpoint makes them durable
    /// with it; keys, rotations and revocations are never committed this way, and the log's
    /// checksums keep the file consistent whatever a power cut cuts. The log left behind is
    /// checkpointed by the next process to close the store normally, or once it reaches
    /// SQLite's automatic checkpoint (1,000 pages).
    pub fn close_after_verifying(mut self) -> Result<usize> {
        // Everything below happens on this thread, after any write in flight.
        self.usage.stop();
        // Tuning only: should either fail, the store closes the usual, slower way.
        if let Conn::Sqlite(conn) = &self.conn {
            let _ = conn.pragma_update(None, "synchronous", "NORMAL");
        }
        let written = self.flush_usage();
        // The last connection to close checkpoints unless told not to, and the verifier's
        // connection cannot be told from here: close it while the store's own is still open
        // (so it is not the last), then the store's own, told not to.
        self.verifier = None;
        if let Conn::Sqlite(conn) = &self.conn {
            let _ = conn.set_db_config(
                rusqlite::config::DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE,
                true,
            );
        }
        written
    }
}

/// Which file a path named when the store opened it: device and inode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct FileId {
    device: u64,
    inode: u64,
}

impl FileId {
    pub(super) fn of(path: &Path) -> Result<FileId> {
        let meta = std::fs::metadata(path).map_err(|err| Error::CannotOpen {
            path: path.to_path_buf(),
            reason: err.to_string(),
        })?;
        Ok(FileId {
            device: meta.dev(),
            inode: meta.ino(),
        })
    }

    pub(super) fn check(self, path: &Path) -> Result<()> {
        match std::fs::metadata(path) {
            Ok(meta) if meta.dev() == self.device && meta.ino() == self.inode => Ok(()),
            Ok(_) => Err(Error::StoreReplaced {
                path: path.to_path_buf(),
            }),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Err(Error::StoreGone {
                path: path.to_path_buf(),
            }),
            // Anything else (a directory made unreadable) will fail SQLite's own access too,
            // with a sentence of its own.
            Err(_) => Ok(()),
        }
    }
}

/// What a store file's `mode` lets other users do, as a warning, or `None` when nothing.
/// Writing is the worse of the two: whoever can write the file is an admin of every
/// workspace in it (see SECURITY.md).
pub(super) fn permission_warning(path: &Path, mode: u32) -> Option<String> {
    let can = match (mode & 0o044 != 0, mode & 0o022 != 0) {
        (true, true) => "readable and writable",
        (false, true) => "writable",
        (true, false) => "readable",
        (false, false) => return None,
    };
    Some(format!(
        "warning: {} is {can} by other users (mode {:o}); run `chmod 600` on it.",
        crate::text::printable_path(path),
        mode & 0o777
    ))
}

/// A connection to the store file, the store's own or another (the verifier's, the usage
/// writer's, the dashboard's background reader's): opened (never created: `prepare_file`
/// makes the file) read-write, with the store's busy timeout and fixed plans.
pub(super) fn open_connection(path: &Path, busy_timeout: Duration) -> rusqlite::Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(busy_timeout)?;
    keep_plans(&conn)?;
    Ok(conn)
}

/// Keeps prepared statements prepared. The bundled SQLite is built with STAT4, under which
/// binding a new value to a parameter compared with an indexed column expires the statement:
/// every cached statement would be compiled again on every call (measured: verify 15 µs
/// instead of 3 µs). The query planner stability guarantee turns that off; plans stay fixed.
fn keep_plans(conn: &Connection) -> rusqlite::Result<()> {
    conn.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
        true,
    )?;
    Ok(())
}

/// Switches the file to write-ahead logging. SQLite does not run the busy handler for this
/// switch, so when another process holds the file at that moment (say, two processes opening
/// a brand-new store at once) this retries until the busy timeout is spent.
fn enable_wal(conn: &Connection, busy_timeout: Duration) -> rusqlite::Result<String> {
    let deadline = std::time::Instant::now() + busy_timeout;
    loop {
        match conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0)) {
            Err(e)
                if e.sqlite_error_code() == Some(rusqlite::ErrorCode::DatabaseBusy)
                    && std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(Duration::from_millis(2));
            }
            result => return result,
        }
    }
}

/// SQLite gives the `-wal` and `-shm` files the database file's mode at the moment it creates
/// them. A store opened while it was read-only (chmod 400) is left with read-only sidecars,
/// which keep it read-only after its owner makes the file writable again; give them back the
/// file's mode. Best effort: a failure shows up as the usual read-only error.
fn repair_sidecar_permissions(path: &Path) {
    let Ok(file) = std::fs::metadata(path) else {
        return;
    };
    let mode = file.permissions().mode() & 0o777;
    if mode & 0o600 != 0o600 {
        return;
    }
    for suffix in ["-wal", "-shm"] {
        let mut sidecar = path.as_os_str().to_owned();
        sidecar.push(suffix);
        let locked_out = std::fs::metadata(&sidecar)
            .is_ok_and(|meta| meta.permissions().mode() & 0o600 != 0o600);
        if locked_out {
            let _ = std::fs::set_permissions(&sidecar, std::fs::Permissions::from_mode(mode));
        }
    }
}

/// What a file that is neither a regular file nor a directory is, for a message.
fn file_kind(file_type: &std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if file_type.is_char_device() || file_type.is_block_device() {
        "a device"
    } else if file_type.is_fifo() {
        "a named pipe"
    } else if file_type.is_socket() {
        "a socket"
    } else {
        "a special file"
    }
}

/// Creates the directory (0700) and the empty file (0600) before SQLite sees the path, so the
/// store is never readable by others, not even for an instant.
fn prepare_file(path: &Path) -> Result<()> {
    let cannot_open = |reason: String| Error::CannotOpen {
        path: path.to_path_buf(),
        reason,
    };
    // SQLite would open a device or a pipe and then fail with a vague I/O error, after
    // creating its journal file beside it (`/dev/null-journal`): refuse anything that is not a
    // regular file before it gets the chance.
    if let Ok(meta) = std::fs::metadata(path) {
        if meta.is_dir() {
            return Err(Error::IsDirectory {
                path: path.to_path_buf(),
            });
        }
        if !meta.is_file() {
            return Err(Error::NotAFile {
                path: path.to_path_buf(),
                kind: file_kind(&meta.file_type()),
            });
        }
    }
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        if !parent.exists() {
            DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(parent)
                .map_err(|e| match is_out_of_room(&e) {
                    true => Error::DiskFull {
                        path: path.to_path_buf(),
                    },
                    false => cannot_open(format!("its directory cannot be created ({e})")),
                })?;
        } else if !parent.is_dir() {
            return Err(cannot_open(format!(
                "{} is not a directory",
                crate::text::printable_path(parent)
            )));
        }
    }
    repair_sidecar_permissions(path);
    match OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == ErrorKind::AlreadyExists => Ok(()),
        Err(e) if e.kind() == ErrorKind::PermissionDenied => {
            Err(cannot_open("permission denied while creating it".into()))
        }
        Err(e) if e.kind() == ErrorKind::ReadOnlyFilesystem => Err(Error::ReadOnly {
            path: path.to_path_buf(),
        }),
        Err(e) if is_out_of_room(&e) => Err(Error::DiskFull {
            path: path.to_path_buf(),
        }),
        Err(e) => Err(cannot_open(e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_permission_warning_names_what_others_can_do() {
        let path = Path::new("/tmp/keys.db");
        assert_eq!(permission_warning(path, 0o100600), None);
        assert_eq!(permission_warning(path, 0o100700), None);
        assert_eq!(permission_warning(path, 0o100611), None, "execute only");
        let warning = |mode| permission_warning(path, mode).expect("a warning");
        assert!(warning(0o100644).contains(" is readable by other users (mode 644)"));
        assert!(warning(0o100640).contains(" is readable by"));
        assert!(warning(0o100602).contains(" is writable by other users (mode 602)"));
        assert!(warning(0o100620).contains(" is writable by"));
        assert!(warning(0o100666).contains(" is readable and writable by other users"));
    }
}
