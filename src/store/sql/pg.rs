//! The PostgreSQL side of [`Db`](super::Db): one client, and the statements it has prepared,
//! so that a statement costs one round trip after its first use.
//!
//! A connection the server dropped (a restart, a network cut) is made again on next use, with
//! back-off, but never in the middle of a transaction: the rest of it would run outside the
//! transaction. A read outside a transaction that meets a lost connection is tried once more
//! on a new one, so the first request after a restart is answered rather than failed.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::time::{Duration, Instant};

use postgres::error::SqlState;
use postgres::types::ToSql;

use super::Arg;
use crate::store::failure::Failure;
use crate::store::postgres::{self as pg, PgUrl};

/// The first wait before connecting again after a failed attempt; it doubles up to
/// [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// How long connecting again may take: on the path of a request (a gateway's check) a server
/// that does not answer must become an error soon, not after the first connection's 5 s.
const RECONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// A PostgreSQL connection as the store uses it. The `postgres` client wants `&mut` for
/// every call while the store reads through `&self`; a connection is only ever used by one
/// thread at a time (it moves between threads, never shared), so a `RefCell` is enough.
pub(in crate::store) struct PgConn {
    url: PgUrl,
    busy_timeout: Duration,
    /// `None` once the connection is known to be lost.
    client: RefCell<Option<postgres::Client>>,
    /// Prepared statements by the store's SQL text (before the parameters are renamed).
    statements: RefCell<HashMap<String, postgres::Statement>>,
    in_transaction: Cell<bool>,
    /// After a failed attempt to connect: not again before this, and the wait after that.
    retry: Cell<Option<(Instant, Duration)>>,
}

impl PgConn {
    /// Connects to `url`; waits for another writer's lock end after `busy_timeout`, as
    /// SQLite's do.
    pub(in crate::store) fn connect(url: &PgUrl, busy_timeout: Duration) -> crate::Result<PgConn> {
        let conn = PgConn {
            url: url.clone(),
            busy_timeout,
            client: RefCell::new(None),
            statements: RefCell::new(HashMap::new()),
            in_transaction: Cell::new(false),
            retry: Cell::new(None),
        };
        *conn.client.borrow_mut() = Some(conn.fresh_client(None)?);
        Ok(conn)
    }

    fn fresh_client(&self, timeout: Option<Duration>) -> crate::Result<postgres::Client> {
        off_the_runtime(|| {
            let mut client = match timeout {
                Some(timeout) => pg::connect_within(&self.url, timeout)?,
                None => pg::connect(&self.url)?,
            };
            client
                .batch_execute(&format!(
                    "SET lock_timeout = '{}ms'",
                    self.busy_timeout.as_millis().max(1)
                ))
                .map_err(|err| pg::query_error(&self.url, &err))?;
            Ok(client)
        })
    }

    /// Whether the connection is lost: every call would fail.
    fn is_lost(&self) -> bool {
        self.client.borrow().as_ref().is_none_or(|c| c.is_closed())
    }

    /// Forgets a lost connection (closing it waits on its runtime, as everything it does).
    fn drop_client(&self) {
        let lost = self.client.borrow_mut().take();
        off_the_runtime(|| drop(lost));
        self.statements.borrow_mut().clear();
    }

    /// Connects again if the connection was lost (and it is safe and time to).
    fn ensure_connected(&self) -> Result<(), Failure> {
        if !self.is_lost() {
            return Ok(());
        }
        let store = self.url.redacted();
        if self.in_transaction.get() {
            return Err(crate::Error::StoreUnreachable {
                store,
                reason: "the connection was lost in the middle of a change, which was not made"
                    .into(),
            }
            .into());
        }
        if let Some((not_before, _)) = self.retry.get()
            && Instant::now() < not_before
        {
            return Err(crate::Error::StoreUnreachable {
                store,
                reason: "the connection was lost and the last attempt to connect again failed"
                    .into(),
            }
            .into());
        }
        self.drop_client();
        match self.fresh_client(Some(RECONNECT_TIMEOUT)) {
            Ok(client) => {
                *self.client.borrow_mut() = Some(client);
                self.retry.set(None);
                Ok(())
            }
            Err(err) => {
                let wait = self
                    .retry
                    .get()
                    .map_or(FIRST_BACKOFF, |(_, wait)| (wait * 2).min(MAX_BACKOFF));
                // From the end of the attempt: one that timed out took longer than any wait.
                self.retry.set(Some((Instant::now() + wait, wait)));
                Err(err.into())
            }
        }
    }

    /// Runs `work` on the client, connecting again first if the last one was lost.
    pub(in crate::store) fn with_client<T>(
        &self,
        work: impl FnOnce(&mut postgres::Client) -> Result<T, Failure>,
    ) -> Result<T, Failure> {
        self.ensure_connected()?;
        let mut client = self.client.borrow_mut();
        off_the_runtime(|| work(client.as_mut().expect("connected above")))
    }

    /// The statement for `sql`, prepared on the current connection.
    fn statement(&self, sql: &str) -> Result<postgres::Statement, Failure> {
        self.ensure_connected()?;
        if let Some(statement) = self.statements.borrow().get(sql) {
            return Ok(statement.clone());
        }
        let prepared = self.with_client(|client| Ok(client.prepare(&dollar_parameters(sql))))?;
        let statement = prepared.map_err(|err| self.failure(err))?;
        self.statements
            .borrow_mut()
            .insert(sql.to_owned(), statement.clone());
        Ok(statement)
    }

    /// Runs `sql` through `call`; a read outside a transaction that finds the connection
    /// lost is tried once more on a new one.
    fn run<T>(
        &self,
        sql: &str,
        args: &[Arg<'_>],
        call: impl Fn(
            &mut postgres::Client,
            &postgres::Statement,
            &[&(dyn ToSql + Sync)],
        ) -> Result<T, postgres::Error>,
    ) -> Result<T, Failure> {
        let args: Vec<_> = args.iter().map(Arg::as_postgres).collect();
        let mut tried = false;
        loop {
            let statement = self.statement(sql)?;
            let done = self.with_client(|client| Ok(call(client, &statement, &args)))?;
            match done {
                Ok(value) => return Ok(value),
                Err(err) if is_connection_lost(&err) => {
                    self.drop_client();
                    if tried || self.in_transaction.get() {
                        return Err(self.failure(err));
                    }
                    tried = true;
                }
                Err(err) => return Err(self.failure(err)),
            }
        }
    }

    pub(super) fn execute(&self, sql: &str, args: &[Arg<'_>]) -> Result<usize, Failure> {
        self.run(sql, args, |client, statement, args| {
            client.execute(statement, args).map(|n| n as usize)
        })
    }

    pub(super) fn query(&self, sql: &str, args: &[Arg<'_>]) -> Result<Vec<postgres::Row>, Failure> {
        self.run(sql, args, |client, statement, args| {
            client.query(statement, args)
        })
    }

    /// Runs statements without arguments, keeping track of whether a transaction is open.
    pub(in crate::store) fn batch(&self, sql: &str) -> Result<(), Failure> {
        let starts = sql.starts_with("BEGIN");
        let ends = sql == "COMMIT" || sql == "ROLLBACK";
        if sql == "ROLLBACK" && self.is_lost() {
            // The server rolled back when the connection went; nothing to connect again for.
            self.in_transaction.set(false);
            return Ok(());
        }
        let done = self
            .with_client(|client| Ok(client.batch_execute(sql)))
            .and_then(|done| {
                done.map_err(|err| {
                    if is_connection_lost(&err) {
                        self.drop_client();
                    }
                    self.failure(err)
                })
            });
        if starts && done.is_ok() {
            self.in_transaction.set(true);
        }
        if ends {
            // Failed or not, the transaction is over (a failed COMMIT rolls back).
            self.in_transaction.set(false);
        }
        done
    }

    /// A PostgreSQL error as the store reports it: what the store's own mapping words (a lock
    /// waited for too long, a read-only or full server) stays for it; the rest is put into a
    /// sentence here, where the URL is known, without its password.
    fn failure(&self, err: postgres::Error) -> Failure {
        match err.code() {
            Some(code)
                if *code == SqlState::LOCK_NOT_AVAILABLE
                    || *code == SqlState::READ_ONLY_SQL_TRANSACTION
                    || *code == SqlState::DISK_FULL =>
            {
                Failure::Postgres(err)
            }
            _ => Failure::Store(pg::query_error(&self.url, &err)),
        }
    }
}

/// Whether `err` means the connection is gone (closed, cut, or the server shutting down),
/// rather than that a statement failed.
fn is_connection_lost(err: &postgres::Error) -> bool {
    if err.is_closed() {
        return true;
    }
    match err.code() {
        Some(code) => {
            *code == SqlState::ADMIN_SHUTDOWN
                || *code == SqlState::CRASH_SHUTDOWN
                || *code == SqlState::CANNOT_CONNECT_NOW
        }
        None => std::error::Error::source(err).is_some_and(|source| source.is::<std::io::Error>()),
    }
}

impl Drop for PgConn {
    fn drop(&mut self) {
        // Closing the client runs its runtime once more: not on a tokio worker.
        let client = self.client.get_mut().take();
        off_the_runtime(|| drop(client));
    }
}

/// Runs `work`, which waits for the server, so that a caller on a worker of a multi-threaded
/// tokio runtime (`serve`) can call the store directly: the synchronous `postgres` client
/// runs a runtime of its own, which tokio refuses to start on one of its workers, and a wait
/// there would hold up every connection that worker serves. Elsewhere it simply runs.
pub(in crate::store) fn off_the_runtime<T>(work: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current() {
        Ok(runtime) if runtime.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(work)
        }
        _ => work(),
    }
}

/// The store's `?1`-style parameters as PostgreSQL's `$1`. The store's SQL has no `?` in a
/// string literal, so a plain rewrite is exact.
fn dollar_parameters(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '?' && chars.peek().is_some_and(char::is_ascii_digit) {
            out.push('$');
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::dollar_parameters;

    #[test]
    fn numbered_parameters_are_renamed_and_nothing_else() {
        assert_eq!(
            dollar_parameters("SELECT a FROM t WHERE b = ?1 AND c IN (?2, ?12) AND d = '?'"),
            "SELECT a FROM t WHERE b = $1 AND c IN ($2, $12) AND d = '?'"
        );
    }
}
