//! The store: one SQLite file holding workspaces, keys (as hashes), the audit trail and usage.
//!
//! Every operation is one transaction; writers take the lock up front (`BEGIN IMMEDIATE`) so
//! that two processes never interleave a check and a write.

mod audit;
mod bulk_revoke;
mod copy;
mod demo;
mod event_sink;
mod failure;
mod file;
mod key_queries;
mod key_writes;
mod leak_revoke;
mod leaks;
mod loader;
mod location;
mod notify;
pub mod postgres;
mod records;
mod rename;
mod schema;
mod sort;
mod sql;
mod usage;
mod verification;
mod workspaces;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use self::failure::{AtSite, Failure, Site};
use self::file::{FileId, connect};
use self::sql::{Conn, Db, Writers};
use crate::clock::{Clock, SystemClock};
use crate::entropy::{Entropy, OsEntropy};
use crate::error::{Error, Result};

pub use audit::{AuditQuery, LoggedEvent};
pub use bulk_revoke::BulkRevoked;
pub use copy::CopySummary;
pub use demo::{DemoSummary, random_seed};
pub use key_queries::{fold_for_search, normalize_search, search_text};
pub use leak_revoke::{RevokedLeak, RevokedLeaks};
pub use leaks::{FoundKey, KeyLeak, LeakSighting, LeakState};
pub use loader::{WorkspaceCounter, WorkspaceKeys, WorkspaceLoader};
pub use location::Location;
pub use records::{
    AuditAction, AuditEvent, DEFAULT_KEY_NAME, DailyUse, Grace, IssuedKey, KeyQuery, KeyRecord,
    KeyUsage, LeakMark, LiveSecret, MAX_DAILY_LIMIT, NewKey, UnknownGrace,
};
pub use rename::Renamed;
pub use schema::LATEST_VERSION;
pub use sort::{SortBy, UnknownSort};
pub use usage::{FLUSH_AFTER, FLUSH_AT_COUNT};
pub use verification::{
    Allowance, CHECK_EVERY, InvalidReason, READER_PRAGMAS, Verification, VerifiedKey,
};
pub use workspaces::{
    ListedWorkspace, StoredWorkspace, WorkspaceSummary, uncounted_with_current, with_current,
};

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
    conn: Conn,
    location: Location,
    /// How messages name the store: its file, or its URL without the password.
    path: PathBuf,
    /// The file `conn` has open, to notice when `path` names another one; `None` on
    /// PostgreSQL, where the server keeps that promise.
    file: Option<FileId>,
    /// PostgreSQL's notifications as counters, once something asked for changes.
    feed: std::sync::OnceLock<Arc<notify::Feed>>,
    clock: Arc<dyn Clock>,
    entropy: Box<dyn Entropy>,
    actor: String,
    busy_timeout: Duration,
    usage_flush_interval: Duration,
    usage: usage::Usage,
    /// The connection `verify` reads through and what it remembers, opened on first use.
    verifier: Option<verification::SharedVerifier>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Opens (creating if needed) the store at `location` (a file's path, or a PostgreSQL
    /// [`Location`]) with the default options.
    pub fn open(location: impl Into<Location>) -> Result<Store> {
        Store::open_with(location, StoreOptions::default())
    }

    pub fn open_with(location: impl Into<Location>, options: StoreOptions) -> Result<Store> {
        Store::open_checked(location.into(), options, true)
    }

    /// Opens the store at `location` only if it exists: for commands that must not leave an
    /// empty store behind them, like `verify` with a mistyped `--db`.
    pub fn open_existing(location: impl Into<Location>, options: StoreOptions) -> Result<Store> {
        Store::open_checked(location.into(), options, false)
    }

    fn open_checked(location: Location, mut options: StoreOptions, create: bool) -> Result<Store> {
        // SQLite takes the timeout in milliseconds as a C int.
        options.busy_timeout = options
            .busy_timeout
            .min(Duration::from_millis(i32::MAX as u64));
        // A zero interval would spin on a write that keeps failing; a huge one would
        // overflow the deadline arithmetic.
        options.usage_flush_interval = options
            .usage_flush_interval
            .clamp(Duration::from_millis(10), Duration::from_secs(86_400));
        let path = location.label();
        let site = Site {
            path: &path,
            busy_timeout: options.busy_timeout,
        };
        let (conn, file) = match &location {
            Location::File(file) => {
                let (conn, id) = connect(file, options.busy_timeout, create).at(site)?;
                (Conn::Sqlite(conn), Some(id))
            }
            Location::Postgres(url) => {
                let conn = location::pg_session(url, options.busy_timeout)?;
                if !create && !location::pg_store_exists(&conn, url)? {
                    return Err(Error::NoStore { path });
                }
                conn.with_client(|client| Ok(postgres::migrate(client, url)?))
                    .at(site)?;
                (Conn::Postgres(Box::new(conn)), None)
            }
        };
        Ok(Store {
            conn,
            location,
            path,
            file,
            feed: std::sync::OnceLock::new(),
            clock: options.clock,
            entropy: options.entropy,
            actor: options.actor,
            busy_timeout: options.busy_timeout,
            usage_flush_interval: options.usage_flush_interval,
            usage: usage::Usage::new(options.usage_flush_interval),
            verifier: None,
        })
    }

    /// Fails with [`Error::StoreReplaced`] or [`Error::StoreGone`] when the store's path no
    /// longer names the file this store has open (a backup restored over it, the file
    /// deleted): writes would go to a file nobody else reads. One `stat`, cheap enough to call
    /// before every write and on every poll for changes.
    pub fn check_file(&self) -> Result<()> {
        match (&self.file, &self.location) {
            (Some(file), Location::File(path)) => file.check(path),
            _ => Ok(()),
        }
    }

    /// Opens again the file the store's path names now, after [`Error::StoreReplaced`]. Use
    /// counts still buffered are written to the file they were counted in first (while it
    /// is still open, even if deleted).
    pub fn reopen(&mut self) -> Result<()> {
        self.usage.stop();
        let _ = self.flush_usage();
        match &self.location {
            Location::File(path) => {
                let (conn, file) = connect(path, self.busy_timeout, false).at(self.site())?;
                self.conn = Conn::Sqlite(conn);
                self.file = Some(file);
            }
            Location::Postgres(url) => {
                self.conn = Conn::Postgres(Box::new(location::pg_session(url, self.busy_timeout)?));
            }
        }
        self.verifier = None;
        self.usage = usage::Usage::new(self.usage_flush_interval);
        Ok(())
    }

    /// How messages name the store: the file's path, or the URL without its password.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Where the store lives, to open it again (on another thread, say).
    pub fn location(&self) -> &Location {
        &self.location
    }

    /// PostgreSQL's change feed, started on first use; `None` for a file.
    fn feed(&self) -> Option<&Arc<notify::Feed>> {
        match &self.location {
            Location::File(_) => None,
            // Starting waits for the first connection: not on a tokio worker.
            Location::Postgres(url) => Some(
                self.feed
                    .get_or_init(|| sql::off_the_runtime(|| notify::Feed::start(url))),
            ),
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// A number that changes whenever another connection commits to the database: cheap
    /// enough to poll every frame to learn that the screen is stale.
    pub fn data_version(&self) -> Result<i64> {
        match &self.conn {
            Conn::Sqlite(conn) => conn
                .pragma_query_value(None, "data_version", |row| row.get(0))
                .at(self.site()),
            // Every change heard: keys and use counts alike, as SQLite's number moves.
            // While nothing is heard, nobody can say what changed: the store is unreachable.
            Conn::Postgres(_) => {
                let feed = self.feed().expect("a PostgreSQL store has a feed");
                match feed.connected() {
                    true => Ok((feed.keys() + feed.usage()) as i64),
                    false => Err(Error::StoreUnreachable {
                        store: self.path.to_string_lossy().into_owned(),
                        reason: "the connection that hears other processes' changes is lost".into(),
                    }),
                }
            }
        }
    }

    /// A number that changes whenever a key, a secret or a workspace name changes, by any
    /// process, and never for use-count bookkeeping: what tells a list of keys that it is
    /// stale, where [`data_version`](Store::data_version) also moves for every use counted.
    pub fn keys_version(&self) -> Result<i64> {
        self.db()
            .query_i64("SELECT version FROM key_changes", &[])
            .map(Option::unwrap_or_default)
            .at(self.site())
    }

    /// A warning to show when other users can read or write the store file, or `None`.
    pub fn permission_warning(&self) -> Option<String> {
        let path = self.location.file()?;
        let mode = std::fs::metadata(path).ok()?.permissions().mode();
        file::permission_warning(path, mode)
    }

    /// What an SQLite error met by this store needs to become a sentence.
    fn site(&self) -> Site<'_> {
        Site {
            path: &self.path,
            busy_timeout: self.busy_timeout,
        }
    }

    /// The store's connection, for one read.
    fn db(&self) -> Db<'_> {
        self.conn.db()
    }

    fn now_secs(&self) -> i64 {
        self.clock.now().timestamp()
    }

    /// Runs `work` in one transaction that keeps every other key change out (SQLite's
    /// `BEGIN IMMEDIATE`): all of it commits, or none.
    fn write<T>(
        &mut self,
        work: impl FnOnce(Db<'_>, &mut WriteContext<'_>) -> Result<T, Failure>,
    ) -> Result<T> {
        self.write_in(Target::ThePathsFile, work)
    }

    /// [`write`](Store::write), into `target`.
    fn write_in<T>(
        &mut self,
        target: Target,
        work: impl FnOnce(Db<'_>, &mut WriteContext<'_>) -> Result<T, Failure>,
    ) -> Result<T> {
        let site = Site {
            path: &self.path,
            busy_timeout: self.busy_timeout,
        };
        let tx = self.conn.begin(Writers::OneAtATime).at(site)?;
        // Under the write lock: a file deleted or replaced until now is caught, and a change
        // never lands in a file that the path no longer names.
        if target == Target::ThePathsFile
            && let (Some(file), Location::File(path)) = (&self.file, &self.location)
        {
            file.check(path)?;
        }
        // Read the clock once the lock is held: a write that waited for another process must
        // not act (check expiry, stamp the audit trail) at the time it started waiting.
        let now = self.clock.now().timestamp();
        let mut context = WriteContext {
            now,
            actor: &self.actor,
            entropy: self.entropy.as_mut(),
        };
        let value = work(tx.db(), &mut context).at(site)?;
        tx.commit().at(site)?;
        // What verification remembers may be what this write changed.
        verification::forget(self.verifier.as_ref());
        Ok(value)
    }
}

/// Which file a write must land in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    /// The one the store's path names now: a change to keys refuses any other.
    ThePathsFile,
    /// The one this store has open, whatever the path names now: use counts belong to the
    /// keys (and row ids) of the file they were counted in.
    TheOpenFile,
}

/// What a write transaction needs besides the connection.
struct WriteContext<'a> {
    now: i64,
    actor: &'a str,
    entropy: &'a mut dyn Entropy,
}

impl Drop for Store {
    fn drop(&mut self) {
        if let Some(feed) = self.feed.get() {
            feed.stop();
        }
        // Acknowledged verifications must not be lost on a clean shutdown: stop the
        // background writer (letting a write in flight finish), then write what is left. A
        // failure here has nowhere to go; callers who care call `flush_usage` first.
        self.usage.stop();
        let _ = self.flush_usage();
    }
}
