//! The PostgreSQL side of [`Db`](super::Db): one client, and the statements it has prepared,
//! so that a statement costs one round trip after its first use. A connection the server
//! dropped (a restart, a network cut) is made again on next use, with back-off, but never in
//! the middle of a transaction: the rest of it would run outside the transaction.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::time::{Duration, Instant};

use super::Arg;
use crate::store::failure::Failure;
use crate::store::postgres::{self as pg, PgUrl};

/// The first wait before connecting again after a failed attempt; it doubles up to
/// [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// A PostgreSQL connection as the store uses it. The `postgres` client wants `&mut` for
/// every call while the store reads through `&self`; a connection is only ever used by one
/// thread at a time (it moves between threads, never shared), so a `RefCell` is enough.
pub(in crate::store) struct PgConn {
    url: PgUrl,
    busy_timeout: Duration,
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
        *conn.client.borrow_mut() = Some(conn.fresh_client()?);
        Ok(conn)
    }

    fn fresh_client(&self) -> crate::Result<postgres::Client> {
        off_the_runtime(|| {
            let mut client = pg::connect(&self.url)?;
            client
                .batch_execute(&format!(
                    "SET lock_timeout = '{}ms'",
                    self.busy_timeout.as_millis().max(1)
                ))
                .map_err(|err| pg::query_error(&self.url, &err))?;
            Ok(client)
        })
    }

    /// Runs `work` on the client, connecting again first if the last one was lost (and it
    /// is safe and time to).
    pub(in crate::store) fn with_client<T>(
        &self,
        work: impl FnOnce(&mut postgres::Client) -> Result<T, Failure>,
    ) -> Result<T, Failure> {
        let lost = self.client.borrow().as_ref().is_none_or(|c| c.is_closed());
        if lost {
            self.reconnect()?;
        }
        let mut client = self.client.borrow_mut();
        off_the_runtime(|| work(client.as_mut().expect("connected above")))
    }

    fn reconnect(&self) -> Result<(), Failure> {
        let store = self.url.redacted();
        if self.in_transaction.get() {
            return Err(crate::Error::StoreUnreachable {
                store,
                reason: "the connection was lost in the middle of a change, which was not made"
                    .into(),
            }
            .into());
        }
        let now = Instant::now();
        if let Some((not_before, _)) = self.retry.get()
            && now < not_before
        {
            return Err(crate::Error::StoreUnreachable {
                store,
                reason: "the connection was lost and the last attempt to connect again failed"
                    .into(),
            }
            .into());
        }
        self.statements.borrow_mut().clear();
        // Closing a client waits on its runtime, as everything it does.
        let lost = self.client.borrow_mut().take();
        off_the_runtime(|| drop(lost));
        match self.fresh_client() {
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
                self.retry.set(Some((now + wait, wait)));
                Err(err.into())
            }
        }
    }

    fn statement(&self, sql: &str) -> Result<postgres::Statement, Failure> {
        if let Some(statement) = self.statements.borrow().get(sql) {
            return Ok(statement.clone());
        }
        let statement = self.with_client(|client| Ok(client.prepare(&dollar_parameters(sql))?))?;
        self.statements
            .borrow_mut()
            .insert(sql.to_owned(), statement.clone());
        Ok(statement)
    }

    pub(super) fn execute(&self, sql: &str, args: &[Arg<'_>]) -> Result<usize, Failure> {
        let statement = self.statement(sql)?;
        let args: Vec<_> = args.iter().map(Arg::as_postgres).collect();
        self.with_client(|client| Ok(client.execute(&statement, &args)? as usize))
    }

    pub(super) fn query(&self, sql: &str, args: &[Arg<'_>]) -> Result<Vec<postgres::Row>, Failure> {
        let statement = self.statement(sql)?;
        let args: Vec<_> = args.iter().map(Arg::as_postgres).collect();
        self.with_client(|client| Ok(client.query(&statement, &args)?))
    }

    /// Runs statements without arguments, keeping track of whether a transaction is open.
    pub(in crate::store) fn batch(&self, sql: &str) -> Result<(), Failure> {
        let starts = sql.starts_with("BEGIN");
        let ends = sql == "COMMIT" || sql == "ROLLBACK";
        let done = self.with_client(|client| Ok(client.batch_execute(sql)?));
        if starts && done.is_ok() {
            self.in_transaction.set(true);
        }
        if ends {
            // Failed or not, the transaction is over (a failed COMMIT rolls back).
            self.in_transaction.set(false);
        }
        done
    }
}

/// Runs `work`, which waits for the server, so that a caller on a worker of a multi-threaded
/// tokio runtime (`serve`) can call the store directly: the synchronous `postgres` client
/// runs a runtime of its own, which tokio refuses to start on one of its workers, and a wait
/// there would hold up every connection that worker serves. Elsewhere it simply runs.
fn off_the_runtime<T>(work: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current() {
        Ok(runtime) if runtime.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(work)
        }
        _ => work(),
    }
}

impl Drop for PgConn {
    fn drop(&mut self) {
        // Closing the client runs its runtime once more: not on a tokio worker.
        let client = self.client.get_mut().take();
        off_the_runtime(|| drop(client));
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
