//! The read connection `verify` uses: one read transaction kept open for as long as nothing
//! has been committed to the database, so a stream of verifications pays for one snapshot
//! instead of one per call.
//!
//! Starting a read transaction costs SQLite several file-lock system calls, twice what the
//! lookup itself costs. Keeping one open is only correct while no other connection has
//! committed since it began; that is what the WAL-index header tells. SQLite keeps that
//! header at the start of the `-shm` file and every committing writer rewrites it (it holds
//! the frame count, a change counter and checksums) before its commit returns; see
//! <https://www.sqlite.org/walformat.html>. Reading those bytes through SQLite's own mapping
//! of the file lets each verification compare them with what they were when its snapshot
//! began, without a system call: equal means the snapshot is still the latest state,
//! different means start a new one. A revocation that has returned is therefore seen by the
//! very next verification, as with a fresh transaction per call.
//!
//! The mapping must be SQLite's, never one of our own: opening the `-shm` file ourselves and
//! closing it again would drop every POSIX lock this process holds on it (that is how `fcntl`
//! locks work), SQLite's included, and another process would then reset the file under our
//! feet. An earlier version did exactly that and died of SIGBUS in the concurrency test.
//!
//! What verification reads (which key a digest belongs to, and that key's id, name,
//! workspace, revocation and expiry) is remembered for as long as the snapshot lasts, so a
//! key seen again costs no lookup at all: the memory is dropped with the snapshot, so it is
//! never staler than it.

use std::ffi::c_void;
use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use rusqlite::{Connection, Statement, ffi};

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

pub(super) struct SnapshotReader<M> {
    /// Points into memory the connection owns: declared first, so it goes first.
    shm: Option<ShmHeader>,
    conn: PreparedConnection,
    /// The header as it was just before the open read transaction began; `None` when no
    /// transaction is open.
    began_at: Option<Header>,
    /// What the caller remembers from this snapshot.
    memo: M,
    /// Calls to `read` so far: how an observer tells an idle reader from a busy one.
    calls: u64,
}

impl<M: Default> SnapshotReader<M> {
    /// Opens the connection with `statements` prepared on it, in that order.
    pub(super) fn open(
        path: &Path,
        busy_timeout: Duration,
        statements: &[&str],
    ) -> rusqlite::Result<SnapshotReader<M>> {
        let conn = super::file::open_connection(path, busy_timeout)?;
        // Lookups land on random pages of a file too big for SQLite's default 2 MB cache:
        // without a larger one, most verifications copy a page in with a system call.
        conn.execute_batch(READER_PRAGMAS)?;
        // A first read makes SQLite open and map the `-shm` file, and take the shared lock
        // that keeps any other process from resetting it while this connection is open.
        conn.query_row("SELECT count(*) FROM sqlite_master", [], |_| Ok(()))?;
        let shm = ShmHeader::of(&conn);
        let conn = PreparedConnection::try_new(conn, |conn| {
            statements.iter().map(|sql| conn.prepare(sql)).collect()
        })?;
        Ok(SnapshotReader {
            shm,
            conn,
            began_at: None,
            memo: M::default(),
            calls: 0,
        })
    }

    /// Runs `read` with the prepared statements, inside a read transaction that sees every
    /// commit made so far, and with what was remembered from that same snapshot. On an error
    /// the transaction ends, and what it remembered with it.
    pub(super) fn read<R>(
        &mut self,
        read: impl FnOnce(&mut [Statement<'_>], &mut M) -> rusqlite::Result<R>,
    ) -> rusqlite::Result<R> {
        self.calls = self.calls.wrapping_add(1);
        match &self.shm {
            // No mapping (an unusual file system): one transaction per statement, always
            // current, and nothing can be remembered across calls.
            None => self.memo = M::default(),
            Some(shm) => {
                let now = shm.read();
                if self.began_at != Some(now) {
                    self.end();
                    // Read before the transaction starts: its snapshot is at least this state,
                    // so a commit slipping in between only makes the next check start another.
                    self.conn.borrow_owner().execute_batch("BEGIN")?;
                    self.began_at = Some(now);
                }
            }
        }
        let memo = &mut self.memo;
        let result = self
            .conn
            .with_dependent_mut(|_, statements| read(statements, memo));
        if result.is_err() {
            self.end();
        }
        result
    }

    /// Ends the open read transaction, if any: after an error, or to let go of the snapshot.
    pub(super) fn calls(&self) -> u64 {
        self.calls
    }

    /// Lets go of the snapshot (and what was remembered from it), so that writers' logs can
    /// be checkpointed past it; the next `read` starts a new one.
    pub(super) fn release(&mut self) {
        self.end();
    }

    fn end(&mut self) {
        self.began_at = None;
        self.memo = M::default();
        let conn = self.conn.borrow_owner();
        if !conn.is_autocommit() {
            // Ending a read-only transaction cannot fail in a way that matters: if it did,
            // the next BEGIN fails and reports it.
            let _ = conn.execute_batch("COMMIT");
        }
    }
}

/// The start of SQLite's own mapping of the `-shm` file, read without locks (as SQLite reads
/// it too; a torn read is caught by the comparison).
struct ShmHeader {
    words: *const AtomicU32,
}

// SAFETY: the pointer is into memory owned by the connection it travels with (both live in
// one `SnapshotReader`), and is only read, through atomics.
unsafe impl Send for ShmHeader {}

impl ShmHeader {
    /// Asks the connection's VFS for its mapping of the first WAL-index region. `None` when
    /// there is none (no WAL, or a VFS without shared memory): then nothing is kept.
    fn of(conn: &Connection) -> Option<ShmHeader> {
        let mut file: *mut ffi::sqlite3_file = std::ptr::null_mut();
        let mut region: *mut c_void = std::ptr::null_mut();
        // SAFETY: the handle is live for the duration of the call; FILE_POINTER writes one
        // pointer to the main database's `sqlite3_file`, which lives as long as the
        // connection. `xShmMap` for region 0 with `bExtend = 0` only returns the existing
        // mapping (the read in `open` created it) under SQLite's own mutex.
        unsafe {
            let rc = ffi::sqlite3_file_control(
                conn.handle(),
                c"main".as_ptr(),
                ffi::SQLITE_FCNTL_FILE_POINTER,
                (&raw mut file).cast(),
            );
            if rc != ffi::SQLITE_OK || file.is_null() {
                return None;
            }
            let methods = (*file).pMethods;
            if methods.is_null() || (*methods).iVersion < 2 {
                return None;
            }
            let shm_map = (*methods).xShmMap?;
            let rc = shm_map(file, 0, 32_768, 0, &raw mut region);
            if rc != ffi::SQLITE_OK || region.is_null() {
                return None;
            }
        }
        Some(ShmHeader {
            words: region.cast(),
        })
    }

    fn read(&self) -> Header {
        // SAFETY: SQLite keeps region 0 mapped, at this address, until the connection that
        // owns it closes, and `SnapshotReader` drops this before its connection. The region
        // is page-aligned and 32 KiB long, so the first `HEADER_WORDS` words are in bounds
        // and aligned. Writers (other processes, other threads) rewrite this copy of the
        // header last, once their frames are in the log: a read torn by one either differs
        // from the recorded header (a new transaction starts) or equals it because that
        // commit has not returned yet. (A writer in this process writes with plain stores,
        // which the language model calls a race with these loads; SQLite reads the header
        // the same way and relies, as we do, on the checksum-guarded protocol above.)
        std::array::from_fn(|i| unsafe { (*self.words.add(i)).load(Ordering::Acquire) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_header_is_found_and_changes_exactly_when_another_connection_commits() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("wal.db");
        let writer = Connection::open(&path).unwrap();
        writer
            .execute_batch("PRAGMA journal_mode = WAL; CREATE TABLE t (x INTEGER);")
            .unwrap();
        let mut reader: SnapshotReader<()> =
            SnapshotReader::open(&path, Duration::from_secs(1), &["SELECT count(*) FROM t"])
                .unwrap();
        let shm = reader.shm.as_ref().expect("SQLite's WAL-index mapping");
        let count = |reader: &mut SnapshotReader<()>| {
            reader
                .read(|statements, _| statements[0].query_row([], |row| row.get::<_, i64>(0)))
                .unwrap()
        };

        let quiet = shm.read();
        assert_eq!(shm.read(), quiet, "nothing committed, yet the header moved");
        assert_eq!(count(&mut reader), 0);
        let began = reader.began_at;
        assert_eq!(count(&mut reader), 0);
        assert_eq!(
            reader.began_at, began,
            "a quiet store must keep its snapshot"
        );

        writer.execute("INSERT INTO t VALUES (1)", []).unwrap();
        let shm = reader.shm.as_ref().unwrap();
        assert_ne!(shm.read(), quiet, "a commit must change the header");
        assert_eq!(
            count(&mut reader),
            1,
            "the snapshot must move to the commit"
        );
        assert_ne!(reader.began_at, began);
    }
}
