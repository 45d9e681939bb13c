//! Verification, the hot path a gateway calls for every request.
//!
//! A verifier has a connection of its own and remembers what it read (digest → the key's
//! facts), so a key seen before costs a SHA-256 and a hash-map lookup. What it remembers is
//! dropped when the **keys** change, never for use-count bookkeeping: every write to keys,
//! secrets or workspace names bumps `key_changes.version` (schema triggers), and at most every
//! [`CHECK_EVERY`] a verification asks `PRAGMA data_version` (a read of shared memory, no
//! I/O) whether anyone committed, and only then reads the version. A change by another
//! process is therefore seen within `CHECK_EVERY` of its commit; this process's own writes
//! drop the memory at once. Lookups of keys not remembered share one read transaction per
//! `CHECK_EVERY` (a transaction per lookup would cost more than the lookup), which the
//! background bookkeeping thread ends when verification goes quiet, so that a gateway that
//! stops calling never holds back the WAL's checkpoints. Bookkeeping (last used, uses per
//! day) is handed to `usage`, which writes it off the caller's thread.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hash, Hasher};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use super::Store;
use super::failure::{AtSite, Failure};
use super::location::Location;
use super::notify::Feed;
use super::sql::{Conn, Row, args};
use crate::environment::Environment;
use crate::error::Result;
use crate::key::{KeyHash, MAX_KEY_LEN, check_format};
use crate::text::validate_name;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verification {
    Valid(VerifiedKey),
    Invalid(InvalidReason),
}

/// Who a valid key belongs to. Never holds the key itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedKey {
    pub id: String,
    pub name: String,
    pub environment: Environment,
    pub workspace: String,
    /// The key's daily limit and the uses left today after this one; `None` without a limit.
    pub allowance: Option<Allowance>,
}

/// Where a limited key stands today (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Allowance {
    pub daily_limit: u64,
    pub remaining: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvalidReason {
    /// Wrong shape or checksum: rejected without touching the store.
    Malformed,
    NotFound,
    Revoked,
    /// The key is past its expiry, or this secret was rotated out and its grace has ended.
    Expired,
    /// A valid key whose uses today have reached its daily limit. Not counted as a use.
    RateLimited {
        daily_limit: u64,
    },
}

impl InvalidReason {
    pub fn code(self) -> &'static str {
        match self {
            InvalidReason::Malformed => "MALFORMED",
            InvalidReason::NotFound => "NOT_FOUND",
            InvalidReason::Revoked => "REVOKED",
            InvalidReason::Expired => "EXPIRED",
            InvalidReason::RateLimited { .. } => "RATE_LIMITED",
        }
    }
}

/// The one lookup every well-formed key not remembered costs: the secret with a digest, and
/// what verification needs of its key, in one statement (one round trip to a server). The
/// key's columns are NULL for a secret whose key row is missing (a damaged store).
const SECRET_SQL: &str = "SELECT s.key_id, s.expires_at, k.public_id, k.name, k.environment, \
     k.revoked_at, k.expires_at, w.name, k.daily_limit FROM secrets s \
     LEFT JOIN keys k ON k.id = s.key_id LEFT JOIN workspaces w ON w.id = k.workspace_id \
     WHERE s.hash = ?1";

/// What a verification says about a key, when its secret is remembered and it is not.
const KEY_SQL: &str = "SELECT k.public_id, k.name, k.environment, k.revoked_at, k.expires_at, \
     w.name, k.daily_limit FROM keys k JOIN workspaces w ON w.id = k.workspace_id WHERE k.id = ?1";

/// Uses of a key on one day that are in the store.
const USES_SQL: &str = "SELECT count FROM key_usage WHERE key_id = ?1 AND day = ?2";

/// A key as verification sees it; `None` for a row it cannot use.
type KnownKey = Option<std::sync::Arc<KeyFacts>>;

/// What verification remembers while the keys do not change: only what was found, so a flood
/// of unknown keys leaves nothing behind.
#[derive(Default)]
pub(super) struct Remembered {
    /// Secrets, by digest: the key each belongs to and when it stops.
    secrets: HashMap<Digest, (i64, Option<i64>), BuildHasherDefault<DigestHasher>>,
    keys: HashMap<i64, KnownKey>,
}

/// Most secrets remembered; past it the memory starts again.
const MAX_REMEMBERED: usize = 65_536;

/// A SHA-256 digest as a map key. Digests are uniformly random and nobody can pick one (that
/// takes a preimage), so their first eight bytes already are a perfect hash.
#[derive(PartialEq, Eq)]
struct Digest([u8; 32]);

impl Hash for Digest {
    fn hash<H: Hasher>(&self, state: &mut H) {
        let mut head = [0u8; 8];
        head.copy_from_slice(&self.0[..8]);
        state.write_u64(u64::from_ne_bytes(head));
    }
}

#[derive(Default)]
struct DigestHasher(u64);

impl Hasher for DigestHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Not reached through `Digest`; any other input still gets a usable hash.
        for &byte in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(byte);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

pub(super) struct KeyFacts {
    public_id: String,
    name: String,
    environment: Environment,
    workspace: String,
    revoked_at: Option<i64>,
    expires_at: Option<i64>,
    daily_limit: Option<u64>,
}

/// Settings of the verifier's connection, public so a benchmark's floor can use the same: 64
/// MiB of page cache, so the digest index of a million keys stays in memory.
pub const READER_PRAGMAS: &str = "PRAGMA cache_size = -65536;";

/// How stale a verifier may be about another process's change: it looks for commits at most
/// this often. PRODUCT.md's bound on SQLite is 100 ms; looking costs well under a
/// microsecond, so look often.
pub const CHECK_EVERY: Duration = Duration::from_millis(5);

/// A connection for verifying and what it remembers. Shared (behind a mutex) with the
/// bookkeeping thread, which ends an idle read transaction.
pub(super) struct Verifier {
    conn: Conn,
    memo: Remembered,
    /// When the last look for other processes' commits was, `None` to look at the next call.
    checked_at: Option<Instant>,
    data_version: i64,
    keys_version: i64,
    /// Verifications so far: how the bookkeeping thread tells an idle verifier.
    calls: u64,
    /// On PostgreSQL, where changes are heard instead of polled for.
    feed: Option<Arc<Feed>>,
}

impl Verifier {
    fn open(
        location: &Location,
        busy_timeout: Duration,
        feed: Option<Arc<Feed>>,
    ) -> Result<Verifier, Failure> {
        let conn = location.reconnect(busy_timeout)?;
        if let Conn::Sqlite(conn) = &conn {
            conn.execute_batch(READER_PRAGMAS)?;
        }
        Ok(Verifier {
            conn,
            feed,
            memo: Remembered::default(),
            checked_at: None,
            data_version: 0,
            keys_version: -1,
            calls: 0,
        })
    }

    /// Drops what is remembered if the keys changed since the last look, looking at most
    /// every [`CHECK_EVERY`].
    fn follow_changes(&mut self) -> Result<(), Failure> {
        if let Some(feed) = &self.feed {
            // PostgreSQL: a change is heard, not looked for, and looking costs an atomic load.
            // Deaf (the listening connection lost), nothing remembered can be trusted.
            let heard = feed.keys();
            if !feed.fresh() || heard as i64 != self.keys_version {
                self.memo = Remembered::default();
                self.keys_version = heard as i64;
            }
            return Ok(());
        }
        if self.checked_at.is_some_and(|at| at.elapsed() < CHECK_EVERY) {
            return Ok(());
        }
        // A read transaction sees no commit made after it began: end it first.
        self.end_read()?;
        let data_version: i64 = match &self.conn {
            Conn::Sqlite(conn) => {
                conn.pragma_query_value(None, "data_version", |row| row.get(0))?
            }
            Conn::Postgres(_) => unreachable!("a PostgreSQL verifier has a feed"),
        };
        if data_version != self.data_version || self.checked_at.is_none() {
            let keys_version = self
                .conn
                .db()
                .query_i64("SELECT version FROM key_changes", &[])?
                .unwrap_or_default();
            if keys_version != self.keys_version {
                self.memo = Remembered::default();
                self.keys_version = keys_version;
            }
            self.data_version = data_version;
        }
        self.checked_at = Some(Instant::now());
        Ok(())
    }

    /// The secret with digest `hash`: its key's row id, when the secret stops, and the key.
    fn look_up(&mut self, hash: &KeyHash) -> Result<Option<(i64, Option<i64>, KnownKey)>, Failure> {
        self.calls += 1;
        self.follow_changes()?;
        let digest = Digest(hash.0);
        let (key_id, secret_expires_at) = match self.memo.secrets.get(&digest) {
            Some(found) => *found,
            None => {
                self.begin_read()?;
                let Some((found, facts)) =
                    self.conn
                        .db()
                        .query_row(SECRET_SQL, args![&hash.0[..]], |row| {
                            let facts = match row.opt_text(2)? {
                                Some(_) => key_facts_at(row, 2)?,
                                None => None,
                            };
                            Ok(((row.i64(0)?, row.opt_i64(1)?), facts))
                        })?
                else {
                    return Ok(None);
                };
                if self.memo.secrets.len() >= MAX_REMEMBERED {
                    self.memo = Remembered::default();
                }
                self.memo.secrets.insert(digest, found);
                self.memo.keys.insert(found.0, facts);
                found
            }
        };
        let facts = match self.memo.keys.get(&key_id) {
            Some(facts) => facts.clone(),
            None => {
                self.begin_read()?;
                let facts = key_facts(&self.conn, key_id)?;
                self.memo.keys.insert(key_id, facts.clone());
                facts
            }
        };
        Ok(Some((key_id, secret_expires_at, facts)))
    }

    /// Uses of key `key_id` on `day` that are in the store now: read outside any held
    /// transaction, so it includes what was written a moment ago (by this process too).
    fn stored_uses(&mut self, key_id: i64, day: i64) -> Result<u64, Failure> {
        self.end_read()?;
        let count = self.conn.db().query_i64(USES_SQL, args![key_id, day])?;
        Ok(count.unwrap_or(0).max(0) as u64)
    }

    /// Shares one read transaction between lookups on SQLite, where beginning one per lookup
    /// would cost more than the lookup. PostgreSQL reads each statement's own snapshot.
    fn begin_read(&mut self) -> Result<(), Failure> {
        if let Conn::Sqlite(conn) = &self.conn
            && conn.is_autocommit()
        {
            conn.execute_batch("BEGIN")?;
        }
        Ok(())
    }

    /// Ends the shared read transaction. Asked of the connection, not remembered: if a
    /// COMMIT ever failed, the next call tries again instead of reading a frozen snapshot
    /// (and remembering revoked keys as valid) for good.
    fn end_read(&mut self) -> Result<(), Failure> {
        if let Conn::Sqlite(conn) = &self.conn
            && !conn.is_autocommit()
        {
            conn.execute_batch("COMMIT")?;
        }
        Ok(())
    }

    /// Forgets everything: this process changed the keys.
    pub(super) fn forget(&mut self) {
        self.memo = Remembered::default();
        self.checked_at = None;
    }
}

/// The verifier as the store and its bookkeeping thread share it.
pub(super) type SharedVerifier = Arc<Mutex<Verifier>>;

fn lock(verifier: &SharedVerifier) -> std::sync::MutexGuard<'_, Verifier> {
    verifier.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Drops what `verifier` remembers, if there is one: called after every write of this store.
pub(super) fn forget(verifier: Option<&SharedVerifier>) {
    if let Some(verifier) = verifier {
        lock(verifier).forget();
    }
}

impl Store {
    /// Checks a full key of any workspace: its checksum first (a malformed key never reaches
    /// the database), then one lookup by hash. A valid key's use is recorded.
    pub fn verify(&mut self, full_key: &str) -> Result<Verification> {
        self.verify_in(None, full_key)
    }

    /// [`Store::verify`], accepting with `Some(workspace)` only that workspace's keys: a key
    /// of another workspace (or of one that does not exist) is `NotFound`, as if unknown, and
    /// its use is not recorded. For a caller that serves one workspace, so that a key leaked
    /// from another cannot get in.
    pub fn verify_in(&mut self, workspace: Option<&str>, full_key: &str) -> Result<Verification> {
        let workspace = workspace
            .map(|name| validate_name(name, "workspace"))
            .transpose()?;
        if full_key.len() > MAX_KEY_LEN || check_format(full_key).is_err() {
            return Ok(Verification::Invalid(InvalidReason::Malformed));
        }
        let hash = KeyHash::of(full_key);
        let now = self.now_secs();
        if self.verifier.is_none() {
            let feed = self.feed().cloned();
            let verifier = Arc::new(Mutex::new(
                Verifier::open(&self.location, self.busy_timeout, feed).at(self.site())?,
            ));
            // A read transaction left open by a gateway that has gone quiet would keep every
            // writer's log from being checkpointed, and the WAL would grow for as long as
            // the quiet lasts: the background thread ends one that no call has used for a
            // whole interval.
            let watched = Arc::downgrade(&verifier);
            let mut calls_seen = None;
            let on_tick = Box::new(move || {
                let Some(verifier) = watched.upgrade() else {
                    return;
                };
                let Ok(mut verifier) = verifier.try_lock() else {
                    return; // in use right now: not idle
                };
                let calls = verifier.calls;
                if calls_seen == Some(calls) {
                    // A failure to end it leaves it to the next call, which retries.
                    let _ = verifier.end_read();
                }
                calls_seen = Some(calls);
            });
            self.usage.start(&self.location, self.busy_timeout, on_tick);
            self.verifier = Some(verifier);
        }
        let looked_up = lock(self.verifier.as_ref().expect("opened above")).look_up(&hash);
        let Some((key_id, secret_expires_at, facts)) = looked_up.at(self.site())? else {
            return Ok(Verification::Invalid(InvalidReason::NotFound));
        };
        // A secret whose key row is gone or unreadable (a damaged store) proves nothing.
        let Some(facts) = facts else {
            return Ok(Verification::Invalid(InvalidReason::NotFound));
        };
        // Before revocation and expiry: another workspace's key must not even be confirmed
        // to exist.
        if workspace.is_some_and(|wanted| wanted != facts.workspace) {
            return Ok(Verification::Invalid(InvalidReason::NotFound));
        }
        if facts.revoked_at.is_some() {
            return Ok(Verification::Invalid(InvalidReason::Revoked));
        }
        let past = |at: Option<i64>| at.is_some_and(|at| at <= now);
        if past(facts.expires_at) || past(secret_expires_at) {
            return Ok(Verification::Invalid(InvalidReason::Expired));
        }
        // A limited key costs one more read: the uses today in the store (by every process)
        // plus those this process has counted and not yet written. Processes sharing a store
        // see each other's uses once written, so together they may overshoot by what they
        // verify in one bookkeeping interval.
        let allowance = match facts.daily_limit {
            None => None,
            Some(daily_limit) => {
                let day = now.div_euclid(86_400);
                let verifier = self.verifier.as_ref().expect("opened above");
                let used = self
                    .usage
                    .uses_on(key_id, day, || lock(verifier).stored_uses(key_id, day))
                    .at(self.site())?;
                if used >= daily_limit {
                    return Ok(Verification::Invalid(InvalidReason::RateLimited {
                        daily_limit,
                    }));
                }
                Some(Allowance {
                    daily_limit,
                    remaining: daily_limit - used - 1,
                })
            }
        };
        self.usage.record(key_id, now);
        Ok(Verification::Valid(VerifiedKey {
            id: facts.public_id.clone(),
            name: facts.name.clone(),
            environment: facts.environment,
            workspace: facts.workspace.clone(),
            allowance,
        }))
    }
}

fn key_facts(conn: &Conn, key_id: i64) -> Result<KnownKey, Failure> {
    Ok(conn
        .db()
        .query_row(KEY_SQL, args![key_id], |row| key_facts_at(row, 0))?
        .flatten())
}

/// A key's facts from `row`, whose columns from `first` on are [`KEY_SQL`]'s.
fn key_facts_at(row: &Row<'_>, first: usize) -> Result<KnownKey, Failure> {
    // A key whose environment this build does not know (a damaged store) proves nothing: it
    // reads as no key at all, not as a failure of every verification.
    let environment = match row.parsed::<Environment>(first + 2) {
        Ok(environment) => environment,
        Err(Failure::Decode(_)) => return Ok(None),
        Err(err) => return Err(err),
    };
    Ok(Some(std::sync::Arc::new(KeyFacts {
        public_id: row.text(first)?,
        name: row.text(first + 1)?,
        environment,
        revoked_at: row.opt_i64(first + 3)?,
        expires_at: row.opt_i64(first + 4)?,
        workspace: row.text(first + 5)?,
        daily_limit: row.opt_u64(first + 6)?,
    })))
}
