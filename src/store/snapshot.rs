//! The read connection `verify` uses: one read transaction kept open for as long as nothing
//! has been committed to the database, so a stream of verifications pays for one snapshot
//! instead of one per call.
//!
//! Starting a read transaction costs SQLite several file-lock system calls, twice what the
//! lookup itself costs. Keeping one open is only correct while no other connection has
//! committed since it began; that is what the WAL-index header tells. SQLite keeps that
//! header at the start of the `-shm` file and every committing writer rewrites it (it holds
//! the frame count, a change counter and checksums) before its commit returns; see
//! <https://www.sqlite.org/walformat.html>. Mapping those bytes read-only lets each
//! verification compare them with what they were when its snapshot began, without a system
//! call: equal means the snapshot is still the latest state, different means start a new
//! one. A revocation that has returned is therefore seen by the very next verification, as
//! with a fresh transaction per call.
//!
//! What verification reads about a key besides its secret (id, name, workspace, revoked,
//! expiry) is remembered for as long as the snapshot lasts, so a repeated key costs one
//! lookup, not three: the memory is dropped with the snapshot, so it is never staler than it.

use std::collections::HashMap;
use std::fs::File;
use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, Statement};

/// The first copy of the WAL-index header: 48 bytes.
const HEADER_WORDS: usize = 12;

type Header = [u32; HEADER_WORDS];

/// How the verification connection is tuned (see `SnapshotReader::open`); public so that a
/// benchmark can measure the floor under the same settings.
pub const READER_PRAGMAS: &str = "PRAGMA cache_size = -65536;";

/// Statements prepared once for the life of the connection: fetching them from rusqlite's
/// statement cache on every call cost a third of a lookup (0.18 µs of 0.55, measured).
type Prepared<'conn> = Vec<Statement<'conn>>;

self_cell::self_cell!(
    struct PreparedConnection {
        owner: Connection,
        #[covariant]
        dependent: Prepared,
    }
);

// SAFETY: a `Connection` is `Send`; its statements are not only because they borrow it. Here
// they live and move together with the connection they borrow, inside one value that nothing
// else references, so moving the whole to another thread is moving the connection. SQLite is
// opened in multi-thread mode (`SQLITE_OPEN_NO_MUTEX`): one connection, one thread at a time,
// which `&mut self` on every use guarantees.
unsafe impl Send for PreparedConnection {}

pub(super) struct SnapshotReader<T> {
    // Declared before the connection so the mapping goes first when both are dropped.
    shm: Option<ShmHeader>,
    conn: PreparedConnection,
    /// The header as it was just before the open read transaction began; `None` when no
    /// transaction is open.
    began_at: Option<Header>,
    /// Keys read in this snapshot, by row id.
    keys: HashMap<i64, T>,
}

/// Most keys remembered per snapshot; past it the memory starts again.
const MAX_REMEMBERED: usize = 65_536;

impl<T> SnapshotReader<T> {
    /// Opens the connection with `statements` prepared on it, in that order.
    pub(super) fn open(
        path: &Path,
        busy_timeout: Duration,
        statements: &[&str],
    ) -> rusqlite::Result<SnapshotReader<T>> {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(busy_timeout)?;
        super::keep_plans(&conn)?;
        // Lookups land on random pages of a file too big for SQLite's default 2 MB cache:
        // without these, most verifications copy a page in with a system call. A read-only
        // mapping of the file serves them from the OS page cache directly, and a larger cache
        // keeps the pages still in the write-ahead log.
        conn.execute_batch(READER_PRAGMAS)?;
        // A first read makes SQLite open the `-shm` file and take its shared lock on it,
        // which it holds until this connection closes: from then on no other process may
        // truncate or delete the file, so mapping it is safe.
        conn.query_row("SELECT count(*) FROM sqlite_master", [], |_| Ok(()))?;
        let conn = PreparedConnection::try_new(conn, |conn| {
            statements.iter().map(|sql| conn.prepare(sql)).collect()
        })?;
        Ok(SnapshotReader {
            shm: ShmHeader::map(path),
            conn,
            began_at: None,
            keys: HashMap::new(),
        })
    }

    /// Runs `read` with the prepared statements, inside a read transaction that sees every
    /// commit made so far, and with the keys remembered from that same snapshot. On an error
    /// the transaction ends, and what it remembered with it.
    pub(super) fn read<R>(
        &mut self,
        read: impl FnOnce(&mut [Statement<'_>], &mut HashMap<i64, T>) -> rusqlite::Result<R>,
    ) -> rusqlite::Result<R> {
        match &self.shm {
            // No mapping (an unusual file system): one transaction per statement, always
            // current, and nothing can be remembered across calls.
            None => self.keys.clear(),
            Some(shm) => {
                let now = shm.read();
                if self.began_at != Some(now) {
                    self.end();
                    // Read before the transaction starts: its snapshot is at least this state,
                    // so a commit slipping in between only makes the next check start another.
                    self.conn.borrow_owner().execute_batch("BEGIN")?;
                    self.began_at = Some(now);
                }
                if self.keys.len() >= MAX_REMEMBERED {
                    self.keys.clear();
                }
            }
        }
        let keys = &mut self.keys;
        let result = self
            .conn
            .with_dependent_mut(|_, statements| read(statements, keys));
        if result.is_err() {
            self.end();
        }
        result
    }

    /// Ends the open read transaction, if any: after an error, or to let go of the snapshot.
    fn end(&mut self) {
        self.began_at = None;
        self.keys.clear();
        let conn = self.conn.borrow_owner();
        if !conn.is_autocommit() {
            // Ending a read-only transaction cannot fail in a way that matters: if it did,
            // the next BEGIN fails and reports it.
            let _ = conn.execute_batch("COMMIT");
        }
    }
}

/// A read-only mapping of the start of the `-shm` file.
struct ShmHeader {
    map: memmap2::Mmap,
}

impl ShmHeader {
    fn map(db: &Path) -> Option<ShmHeader> {
        let mut path = db.as_os_str().to_owned();
        path.push("-shm");
        let file = File::open(path).ok()?;
        // SQLite sizes the file in 32 KiB regions; anything shorter is not an index we know.
        if file.metadata().ok()?.len() < 32_768 {
            return None;
        }
        // SAFETY: the file stays at least this long while our connection holds its shared
        // lock on it (see `SnapshotReader::open`), so the mapping never points past its end.
        // Other processes write to it concurrently; it is only ever read through atomics.
        let map = unsafe { memmap2::MmapOptions::new().len(HEADER_WORDS * 4).map(&file) }.ok()?;
        Some(ShmHeader { map })
    }

    fn read(&self) -> Header {
        let words = self.map.as_ptr().cast::<AtomicU32>();
        // SAFETY: the mapping is page-aligned and `HEADER_WORDS * 4` bytes long, so every
        // index is in bounds and aligned. Atomic loads make concurrent writes by SQLite in
        // other processes well-defined. A writer rewrites this copy last, once its frames are
        // in the log: a read torn by it either differs from the recorded header (a new
        // transaction starts) or equals it because that commit has not returned yet.
        std::array::from_fn(|i| unsafe { (*words.add(i)).load(Ordering::Acquire) })
    }
}
