//! The seam between the store and its two backends: the store's SQL runs unchanged on
//! SQLite and on PostgreSQL through [`Db`], so that every rule (who may rotate what, which
//! audit event a change writes, how a use is counted) is written once and the backends
//! cannot drift apart.
//!
//! The SQL is written once, in the subset both databases understand: numbered parameters
//! (`?1`, rewritten to `$1` for PostgreSQL), `INSERT … ON CONFLICT`, `RETURNING`, integers
//! for times and flags, and an `instr` function that the PostgreSQL schema defines. What
//! only one backend can do (SQLite's `data_version`, PostgreSQL's `NOTIFY`) stays in that
//! backend's own module.

mod arg;
mod pg;
mod row;

pub(super) use arg::Arg;
pub(super) use pg::{PgConn, off_the_runtime};
pub(super) use row::{Row, timestamp};

use super::failure::Failure;

/// A connection of either backend, borrowed for one piece of store work. Inside a write it
/// is the write's transaction: every statement through it is part of the transaction.
#[derive(Clone, Copy)]
pub(super) enum Db<'a> {
    Sqlite(&'a rusqlite::Connection),
    Postgres(&'a PgConn),
}

/// The arguments of one statement: `args![a, b]` is `&[Arg::from(a), Arg::from(b)]`.
macro_rules! args {
    ($($arg:expr),* $(,)?) => {
        &[$($crate::store::sql::Arg::from($arg)),*]
    };
}
pub(super) use args;

impl<'a> Db<'a> {
    /// Runs a statement that returns no rows; returns how many rows it changed.
    pub(super) fn execute(self, sql: &str, args: &[Arg<'_>]) -> Result<usize, Failure> {
        match self {
            Db::Sqlite(conn) => Ok(conn
                .prepare_cached(sql)?
                .execute(rusqlite::params_from_iter(args))?),
            Db::Postgres(conn) => conn.execute(sql, args),
        }
    }

    /// The first row `sql` returns, read by `read`, or `None` when it returns none.
    pub(super) fn query_row<T>(
        self,
        sql: &str,
        args: &[Arg<'_>],
        read: impl FnOnce(&Row<'_>) -> Result<T, Failure>,
    ) -> Result<Option<T>, Failure> {
        match self {
            Db::Sqlite(conn) => {
                let mut statement = conn.prepare_cached(sql)?;
                let mut rows = statement.query(rusqlite::params_from_iter(args))?;
                match rows.next()? {
                    Some(row) => read(&Row::Sqlite(row)).map(Some),
                    None => Ok(None),
                }
            }
            // The first row: PostgreSQL's `query_opt` would fail on a second.
            Db::Postgres(conn) => match conn.query(sql, args)?.first() {
                Some(row) => read(&Row::Postgres(row)).map(Some),
                None => Ok(None),
            },
        }
    }

    /// Every row `sql` returns, each read by `read`.
    pub(super) fn query_all<T>(
        self,
        sql: &str,
        args: &[Arg<'_>],
        mut read: impl FnMut(&Row<'_>) -> Result<T, Failure>,
    ) -> Result<Vec<T>, Failure> {
        match self {
            Db::Sqlite(conn) => {
                let mut statement = conn.prepare_cached(sql)?;
                let mut rows = statement.query(rusqlite::params_from_iter(args))?;
                let mut all = Vec::new();
                while let Some(row) = rows.next()? {
                    all.push(read(&Row::Sqlite(row))?);
                }
                Ok(all)
            }
            Db::Postgres(conn) => conn
                .query(sql, args)?
                .iter()
                .map(|row| read(&Row::Postgres(row)))
                .collect(),
        }
    }

    /// Whether `sql` returns any row.
    pub(super) fn exists(self, sql: &str, args: &[Arg<'_>]) -> Result<bool, Failure> {
        Ok(self.query_row(sql, args, |_| Ok(()))?.is_some())
    }

    /// A single whole number that `sql` returns, `None` when it returns no row.
    pub(super) fn query_i64(self, sql: &str, args: &[Arg<'_>]) -> Result<Option<i64>, Failure> {
        self.query_row(sql, args, |row| row.i64(0))
    }
}

/// An open connection of either backend, owned.
pub(super) enum Conn {
    Sqlite(rusqlite::Connection),
    Postgres(Box<PgConn>),
}

/// How a write transaction keeps out other writers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Writers {
    /// One at a time, store-wide, from the first statement: a change to keys reads what it
    /// decides on (is the key revoked? rotated meanwhile?) and must not interleave with
    /// another process doing the same. SQLite's `BEGIN IMMEDIATE`; on PostgreSQL a
    /// transaction-scoped advisory lock that every key change takes.
    OneAtATime,
    /// Row by row: use-count batches only add to counters, so they need not wait for one
    /// another on PostgreSQL (SQLite has one writer at a time anyway).
    RowLocks,
}

/// The advisory lock every key change on PostgreSQL takes ("hkey" in ASCII).
const KEY_CHANGE_LOCK: i64 = 0x686b_6579;

impl Conn {
    pub(super) fn db(&self) -> Db<'_> {
        match self {
            Conn::Sqlite(conn) => Db::Sqlite(conn),
            Conn::Postgres(conn) => Db::Postgres(conn),
        }
    }

    /// Begins a write transaction, waiting (up to the connection's timeout) for `writers`.
    pub(super) fn begin(&mut self, writers: Writers) -> Result<Tx<'_>, Failure> {
        match self {
            Conn::Sqlite(conn) => conn.execute_batch("BEGIN IMMEDIATE")?,
            Conn::Postgres(conn) => {
                conn.batch("BEGIN")?;
                if writers == Writers::OneAtATime {
                    let locked =
                        conn.batch(&format!("SELECT pg_advisory_xact_lock({KEY_CHANGE_LOCK})"));
                    if let Err(err) = locked {
                        let _ = conn.batch("ROLLBACK");
                        return Err(err);
                    }
                }
            }
        }
        Ok(Tx {
            conn: self,
            open: true,
        })
    }

    /// Runs `work` in one read transaction, so that everything it reads agrees.
    pub(super) fn read<T>(
        &mut self,
        work: impl FnOnce(Db<'_>) -> Result<T, Failure>,
    ) -> Result<T, Failure> {
        self.end(match self {
            Conn::Sqlite(_) => "BEGIN",
            // PostgreSQL's default gives each statement its own snapshot.
            Conn::Postgres(_) => "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
        })?;
        let tx = Tx {
            conn: self,
            open: true,
        };
        let value = work(tx.db())?;
        tx.commit()?;
        Ok(value)
    }

    fn end(&self, sql: &str) -> Result<(), Failure> {
        match self {
            Conn::Sqlite(conn) => Ok(conn.execute_batch(sql)?),
            Conn::Postgres(conn) => conn.batch(sql),
        }
    }
}

/// A write transaction: committed by [`Tx::commit`], rolled back when dropped without it.
pub(super) struct Tx<'c> {
    conn: &'c Conn,
    open: bool,
}

impl Tx<'_> {
    pub(super) fn db(&self) -> Db<'_> {
        self.conn.db()
    }

    pub(super) fn commit(mut self) -> Result<(), Failure> {
        self.open = false;
        let committed = self.conn.end("COMMIT");
        if committed.is_err() {
            // A COMMIT that failed may leave the transaction open (SQLite, when busy).
            let _ = self.conn.end("ROLLBACK");
        }
        committed
    }
}

impl Drop for Tx<'_> {
    fn drop(&mut self) {
        if self.open {
            // Nothing more can be done about a failed rollback: the connection's next BEGIN
            // fails and says so.
            let _ = self.conn.end("ROLLBACK");
        }
    }
}
