//! The store: one SQLite file holding workspaces, keys (as hashes), the audit trail and usage.
//!
//! Every operation is one transaction; writers take the lock up front (`BEGIN IMMEDIATE`) so
//! that two processes never interleave a check and a write.

mod audit;
mod demo;
mod key_queries;
mod key_writes;
mod loader;
mod records;
mod schema;
mod snapshot;
mod usage;
mod verification;

use std::fs::{DirBuilder, OpenOptions};
use std::io::ErrorKind;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OpenFlags, Transaction, TransactionBehavior};

use crate::clock::{Clock, SystemClock};
use crate::entropy::{Entropy, OsEntropy};
use crate::error::{Error, Result};

pub use demo::{DemoSummary, random_seed};
pub use key_queries::{normalize_search, search_text};
pub use loader::{WorkspaceKeys, WorkspaceLoader};
pub use records::{
    AuditAction, AuditEvent, DEFAULT_KEY_NAME, DailyUse, Grace, IssuedKey, KeyQuery, KeyRecord,
    NewKey, UnknownGrace,
};
pub use schema::LATEST_VERSION;
pub use snapshot::READER_PRAGMAS;
pub use usage::{FLUSH_AFTER, FLUSH_AT_COUNT};
pub use verification::{InvalidReason, Verification, VerifiedKey};

/// How long a writer waits for another process's lock before giving up.
pub const DEFAULT_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The workspace used when none is named.
pub const DEFAULT_WORKSPACE: &str = "default";

/// The environment variable that overrides [`DEFAULT_BUSY_TIMEOUT`], in milliseconds.
pub const BUSY_TIMEOUT_VAR: &str = "HIVEKEYS_BUSY_TIMEOUT_MS";

/// What a store is opened with. The defaults are the real clock, the OS CSPRNG and the
/// logged-in user; tests swap them for deterministic ones.
pub struct StoreOptions {
    pub clock: Arc<dyn Clock>,
    pub entropy: Box<dyn Entropy>,
    /// Who is recorded in the audit trail.
    pub actor: String,
    pub busy_timeout: Duration,
    /// How long verifications may wait in memory before the background thread writes them.
    pub usage_flush_interval: Duration,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            clock: Arc::new(SystemClock),
            entropy: Box::new(OsEntropy),
            actor: os_user(),
            busy_timeout: DEFAULT_BUSY_TIMEOUT,
            usage_flush_interval: usage::FLUSH_AFTER,
        }
    }
}

impl StoreOptions {
    /// The defaults, with what the environment overrides: `HIVEKEYS_BUSY_TIMEOUT_MS`. A value
    /// that is set but not a whole number of milliseconds is an error rather than silently
    /// the default: an admin who set it expects it to count.
    pub fn from_env() -> Result<StoreOptions> {
        let busy_timeout = match std::env::var_os(BUSY_TIMEOUT_VAR) {
            // Set but empty reads as unset, as for clap's own variables.
            Some(value) if value.is_empty() => DEFAULT_BUSY_TIMEOUT,
            Some(value) => parse_millis(&value).ok_or_else(|| Error::BadEnvironmentVariable {
                name: BUSY_TIMEOUT_VAR,
                value: crate::text::echo(&value.to_string_lossy(), 40),
                expected: "a whole number of milliseconds",
            })?,
            None => DEFAULT_BUSY_TIMEOUT,
        };
        Ok(StoreOptions {
            busy_timeout,
            ..StoreOptions::default()
        })
    }
}

fn parse_millis(value: &std::ffi::OsStr) -> Option<Duration> {
    value
        .to_str()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_millis)
}

/// The name of the operating-system user running this process.
pub fn os_user() -> String {
    whoami::username()
        .ok()
        .or_else(|| std::env::var("USER").ok())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "unknown".to_owned())
}

/// The store file used when no `--db` / `HIVEKEYS_DB` is given: `hivekeys.db` in the user's
/// data directory (e.g. `~/.local/share/hivekeys/` on Linux).
pub fn default_path() -> Result<PathBuf> {
    directories::ProjectDirs::from("", "", "hivekeys")
        .map(|dirs| dirs.data_dir().join("hivekeys.db"))
        .ok_or(Error::NoDataDirectory)
}

pub struct Store {
    conn: Connection,
    path: PathBuf,
    /// The file `conn` has open, to notice when `path` names another one.
    file: FileId,
    clock: Arc<dyn Clock>,
    entropy: Box<dyn Entropy>,
    actor: String,
    busy_timeout: Duration,
    usage_flush_interval: Duration,
    usage: usage::Usage,
    /// The connection `verify` reads through, opened on first use.
    reader: Option<Arc<std::sync::Mutex<snapshot::SnapshotReader<verification::Remembered>>>>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Opens (creating if needed) the store at `path` with the default options.
    pub fn open(path: &Path) -> Result<Store> {
        Store::open_with(path, StoreOptions::default())
    }

    pub fn open_with(path: &Path, options: StoreOptions) -> Result<Store> {
        Store::open_checked(path, options, true)
    }

    /// Opens the store at `path` only if it exists: for commands that must not leave an empty
    /// store behind them, like `verify` with a mistyped `--db`.
    pub fn open_existing(path: &Path, options: StoreOptions) -> Result<Store> {
        Store::open_checked(path, options, false)
    }

    fn open_checked(path: &Path, mut options: StoreOptions, create: bool) -> Result<Store> {
        // SQLite takes the timeout in milliseconds as a C int.
        options.busy_timeout = options
            .busy_timeout
            .min(Duration::from_millis(i32::MAX as u64));
        // A zero interval would spin on a write that keeps failing; a huge one would
        // overflow the deadline arithmetic.
        options.usage_flush_interval = options
            .usage_flush_interval
            .clamp(Duration::from_millis(10), Duration::from_secs(86_400));
        let (conn, file) = connect(path, options.busy_timeout, create)?;
        Ok(Store {
            conn,
            path: path.to_path_buf(),
            file,
            clock: options.clock,
            entropy: options.entropy,
            actor: options.actor,
            busy_timeout: options.busy_timeout,
            usage_flush_interval: options.usage_flush_interval,
            usage: usage::Usage::new(options.usage_flush_interval),
            reader: None,
        })
    }

    /// Fails with [`Error::StoreReplaced`] or [`Error::StoreGone`] when the store's path no
    /// longer names the file this store has open (a backup restored over it, the file
    /// deleted): writes would go to a file nobody else reads. One `stat`, cheap enough to call
    /// before every write and on every poll for changes.
    pub fn check_file(&self) -> Result<()> {
        self.file.check(&self.path)
    }

    /// Opens again the file the store's path names now, after [`Error::StoreReplaced`]. Use
    /// counts still buffered are written to the file they were counted in first.
    pub fn reopen(&mut self) -> Result<()> {
        self.usage.stop();
        let _ = self.flush_usage();
        let (conn, file) = connect(&self.path, self.busy_timeout, false)?;
        self.conn = conn;
        self.file = file;
        self.reader = None;
        self.usage = usage::Usage::new(self.usage_flush_interval);
        Ok(())
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// A number that changes whenever another connection commits to the database: cheap
    /// enough to poll every frame to learn that the screen is stale.
    pub fn data_version(&self) -> Result<i64> {
        self.conn
            .pragma_query_value(None, "data_version", |row| row.get(0))
            .map_err(|e| self.sql_err(e))
    }

    /// A warning to show when other users can read or write the store file, or `None`.
    pub fn permission_warning(&self) -> Option<String> {
        let mode = std::fs::metadata(&self.path).ok()?.permissions().mode();
        permission_warning(&self.path, mode)
    }

    fn sql_err(&self, err: rusqlite::Error) -> Error {
        Error::from_sqlite(err, &self.path, self.busy_timeout.as_millis() as u64)
    }

    fn now_secs(&self) -> i64 {
        self.clock.now().timestamp()
    }

    /// Runs `work` in one `BEGIN IMMEDIATE` transaction: all of it commits, or none.
    fn write<T>(
        &mut self,
        work: impl FnOnce(&Transaction<'_>, &mut WriteContext<'_>) -> Result<T>,
    ) -> Result<T> {
        let busy_ms = self.busy_timeout.as_millis() as u64;
        let path = self.path.clone();
        let sql_err = |e: rusqlite::Error| Error::from_sqlite(e, &path, busy_ms);
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(sql_err)?;
        // Under the write lock: a file deleted or replaced until now is caught, and a write
        // never lands in a file that the path no longer names.
        self.file.check(&path)?;
        // Read the clock once the lock is held: a write that waited for another process must
        // not act (check expiry, stamp the audit trail) at the time it started waiting.
        let now = self.clock.now().timestamp();
        let mut context = WriteContext {
            now,
            actor: &self.actor,
            entropy: self.entropy.as_mut(),
            errors: ErrorMap {
                path: &path,
                busy_ms,
            },
        };
        let value = work(&tx, &mut context)?;
        tx.commit().map_err(sql_err)?;
        Ok(value)
    }
}

/// What a write transaction needs besides the connection.
struct WriteContext<'a> {
    now: i64,
    actor: &'a str,
    entropy: &'a mut dyn Entropy,
    errors: ErrorMap<'a>,
}

/// Turns SQLite errors into [`Error`]s naming the store; `Copy` so closures can hold it while
/// the rest of the context is borrowed mutably.
#[derive(Clone, Copy)]
struct ErrorMap<'a> {
    path: &'a Path,
    busy_ms: u64,
}

impl ErrorMap<'_> {
    fn sql(self, err: rusqlite::Error) -> Error {
        Error::from_sqlite(err, self.path, self.busy_ms)
    }
}

impl WriteContext<'_> {
    fn sql_err(&self, err: rusqlite::Error) -> Error {
        self.errors.sql(err)
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        // Acknowledged verifications must not be lost on a clean shutdown: stop the
        // background writer (letting a write in flight finish), then write what is left. A
        // failure here has nowhere to go; callers who care call `flush_usage` first.
        self.usage.stop();
        let _ = self.flush_usage();
    }
}

/// Opens the store file at `path` (creating it if `create`), checks it is ours and not newer,
/// and brings its schema up to date. Also returns which file it is, to notice later when the
/// path names another one.
fn connect(path: &Path, busy_timeout: Duration, create: bool) -> Result<(Connection, FileId)> {
    let busy_ms = busy_timeout.as_millis() as u64;
    let sql_err = |e: rusqlite::Error| Error::from_sqlite(e, path, busy_ms);
    if !create && !path.exists() {
        return Err(Error::NoStore {
            path: path.to_path_buf(),
        });
    }
    prepare_file(path)?;

    let mut conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(sql_err)?;
    // Which file SQLite opened: asked right after the open, so a file swapped in between
    // is caught by the first check instead.
    let file = FileId::of(path)?;
    conn.busy_timeout(busy_timeout).map_err(sql_err)?;
    keep_plans(&conn).map_err(sql_err)?;

    // Identify the file before writing anything to it: a foreign or newer database must be
    // left byte-for-byte as it was. One statement, so one snapshot: another process may be
    // creating the schema at this very moment.
    let (found, app_id, tables): (i64, i64, i64) = conn
        .query_row(
            "SELECT (SELECT user_version FROM pragma_user_version), \
                    (SELECT application_id FROM pragma_application_id), \
                    (SELECT count(*) FROM sqlite_master)",
            [],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
        )
        .map_err(sql_err)?;
    let ours = app_id == schema::APPLICATION_ID || (app_id == 0 && found == 0 && tables == 0);
    if !ours {
        return Err(Error::ForeignDatabase {
            path: path.to_path_buf(),
        });
    }
    if found < 0 {
        return Err(Error::Corrupt {
            path: path.to_path_buf(),
        });
    }
    if found > LATEST_VERSION {
        return Err(Error::TooNew {
            path: path.to_path_buf(),
            found,
            supported: LATEST_VERSION,
        });
    }

    let mode = enable_wal(&conn, busy_timeout).map_err(sql_err)?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(Error::CannotOpen {
            path: path.to_path_buf(),
            reason: format!("SQLite refused write-ahead logging (journal mode {mode})"),
        });
    }
    // FULL: a create, rotate or revoke that was reported done survives a power cut too.
    // Writes are rare (usage bookkeeping is batched), so the fsync is affordable.
    conn.execute_batch("PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL;")
        .map_err(sql_err)?;
    let migrated = match found < LATEST_VERSION {
        true => schema::migrate(&mut conn).map_err(sql_err)?,
        false => Ok(()),
    };
    if let Err(newer) = migrated {
        return Err(Error::TooNew {
            path: path.to_path_buf(),
            found: newer,
            supported: LATEST_VERSION,
        });
    }
    Ok((conn, file))
}

/// Which file a path named when the store opened it: device and inode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FileId {
    device: u64,
    inode: u64,
}

impl FileId {
    fn of(path: &Path) -> Result<FileId> {
        let meta = std::fs::metadata(path).map_err(|err| Error::CannotOpen {
            path: path.to_path_buf(),
            reason: err.to_string(),
        })?;
        Ok(FileId {
            device: meta.dev(),
            inode: meta.ino(),
        })
    }

    fn check(self, path: &Path) -> Result<()> {
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
fn permission_warning(path: &Path, mode: u32) -> Option<String> {
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

/// Another connection to the store file, as the verifier, the usage writer and the
/// dashboard's background reader use: opened (never created) read-write, with the store's
/// busy timeout and fixed plans.
fn side_connection(path: &Path, busy_timeout: Duration) -> rusqlite::Result<Connection> {
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
                .map_err(|e| match crate::error::is_out_of_room(&e) {
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
        Err(e) if crate::error::is_out_of_room(&e) => Err(Error::DiskFull {
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
