//! Verification, the hot path a gateway calls for every request, and the usage bookkeeping it
//! feeds.
//!
//! A verification is one indexed read on a connection of its own that keeps its read
//! transaction while nothing is committed (see `snapshot`). Its bookkeeping (last used, uses
//! per day) is kept in memory and written by a background thread, in one transaction per
//! batch: a synchronous commit per call would cost ten times the lookup, and a write on the
//! caller's thread would make it wait whenever another process holds the lock. A batch is
//! written once it is [`FLUSH_AFTER`] old (or the interval the store was opened with) or
//! holds [`FLUSH_AT_COUNT`] verifications, on [`Store::flush_usage`], and when the store is
//! dropped. A hard kill loses at most the batch not yet written; a clean shutdown loses
//! nothing.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hash, Hasher};
use std::path::Path;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};

use super::records::DailyUse;
use super::snapshot::SnapshotReader;
use super::{ErrorMap, Store};
use crate::environment::Environment;
use crate::error::Result;
use crate::key::{KeyHash, MAX_KEY_LEN, check_format};
use crate::text::validate_name;

/// Write the batch once it holds this many verifications…
pub const FLUSH_AT_COUNT: usize = 16_384;
/// …or once it is this old (the default; see `StoreOptions::usage_flush_interval`).
pub const FLUSH_AFTER: Duration = Duration::from_secs(1);

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
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvalidReason {
    /// Wrong shape or checksum: rejected without touching the store.
    Malformed,
    NotFound,
    Revoked,
    /// The key is past its expiry, or this secret was rotated out and its grace has ended.
    Expired,
}

impl InvalidReason {
    pub fn code(self) -> &'static str {
        match self {
            InvalidReason::Malformed => "MALFORMED",
            InvalidReason::NotFound => "NOT_FOUND",
            InvalidReason::Revoked => "REVOKED",
            InvalidReason::Expired => "EXPIRED",
        }
    }
}

/// Verifications not yet written: per key, the latest use and the uses per day.
#[derive(Debug, Default)]
struct UsageBuffer {
    per_key: HashMap<i64, PendingUse>,
    verifications: usize,
    /// When the first verification of this batch was recorded.
    started: Option<Instant>,
    /// After a failed write, not before this.
    retry_at: Option<Instant>,
}

#[derive(Debug, Default)]
struct PendingUse {
    last_used: i64,
    /// (day, count); almost always one entry, two around midnight.
    days: Vec<(i64, u64)>,
}

impl UsageBuffer {
    fn record(&mut self, key_id: i64, at: i64) {
        let entry = self.per_key.entry(key_id).or_default();
        entry.last_used = entry.last_used.max(at);
        let day = at.div_euclid(86_400);
        match entry.days.iter_mut().find(|(d, _)| *d == day) {
            Some((_, count)) => *count += 1,
            None => entry.days.push((day, 1)),
        }
        self.verifications += 1;
        self.started.get_or_insert_with(Instant::now);
    }

    /// How long until this batch should be written; `None` while it is empty.
    fn due_in(&self, interval: Duration) -> Option<Duration> {
        let started = self.started?;
        let now = Instant::now();
        let mut at = match self.verifications >= FLUSH_AT_COUNT {
            true => now,
            false => started + interval,
        };
        if let Some(retry_at) = self.retry_at {
            at = at.max(retry_at);
        }
        Some(at.saturating_duration_since(now))
    }

    /// Puts back a batch whose write failed, merged with anything recorded since.
    fn restore(&mut self, failed: UsageBuffer) {
        for (key_id, pending) in failed.per_key {
            let entry = self.per_key.entry(key_id).or_default();
            entry.last_used = entry.last_used.max(pending.last_used);
            for (day, count) in pending.days {
                match entry.days.iter_mut().find(|(d, _)| *d == day) {
                    Some((_, c)) => *c += count,
                    None => entry.days.push((day, count)),
                }
            }
        }
        self.verifications += failed.verifications;
        self.started = match (self.started, failed.started) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    }

    /// Adds the batch to the store inside `tx`. Last used never moves backwards, even when
    /// batches from several processes land out of order.
    fn write(&self, tx: &Transaction<'_>) -> rusqlite::Result<()> {
        let mut touch = tx.prepare_cached(
            "UPDATE keys SET last_used_at = max(coalesce(last_used_at, ?2), ?2), \
             use_count = use_count + ?3 WHERE id = ?1",
        )?;
        let mut per_day = tx.prepare_cached(
            "INSERT INTO key_usage (key_id, day, count) VALUES (?1, ?2, ?3) \
             ON CONFLICT (key_id, day) DO UPDATE SET count = count + excluded.count",
        )?;
        for (key_id, pending) in &self.per_key {
            let total: u64 = pending.days.iter().map(|(_, c)| c).sum();
            touch.execute(params![key_id, pending.last_used, total as i64])?;
            for (day, count) in &pending.days {
                per_day.execute(params![key_id, day, *count as i64])?;
            }
        }
        Ok(())
    }
}

/// The buffer shared between verifications and the thread that writes it.
pub(super) struct Usage {
    shared: Arc<Shared>,
    flusher: Option<JoinHandle<()>>,
    interval: Duration,
}

struct Shared {
    state: Mutex<FlushState>,
    /// Signalled when a batch begins, when it is full, and on shutdown.
    wake: Condvar,
    /// Held while a batch is being written, so that [`Store::flush_usage`] waits for a write
    /// in flight and returns only once everything recorded before it is in the store.
    writing: Mutex<()>,
    /// Run by the background thread at least once an interval: lets go of the verifying
    /// connection's snapshot once it has been idle (see `Store::verify`).
    on_tick: Mutex<Option<Box<dyn FnMut() + Send>>>,
}

#[derive(Default)]
struct FlushState {
    buffer: UsageBuffer,
    stop: bool,
}

impl Shared {
    fn state(&self) -> MutexGuard<'_, FlushState> {
        // Nothing panics while holding the lock; if something did, the counts are still
        // consistent (each update is one step), so carry on with them.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn writing(&self) -> MutexGuard<'_, ()> {
        self.writing.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Usage {
    pub(super) fn new(interval: Duration) -> Usage {
        Usage {
            shared: Arc::new(Shared {
                state: Mutex::default(),
                wake: Condvar::new(),
                writing: Mutex::new(()),
                on_tick: Mutex::new(None),
            }),
            flusher: None,
            interval,
        }
    }

    fn record(&mut self, key_id: i64, at: i64) {
        let wake = {
            let mut state = self.shared.state();
            state.buffer.record(key_id, at);
            let count = state.buffer.verifications;
            count == 1 || count == FLUSH_AT_COUNT
        };
        if wake {
            self.shared.wake.notify_one();
        }
    }

    /// Starts the background thread, with `on_tick` to run at least once an interval.
    fn start(&mut self, path: &Path, busy_timeout: Duration, on_tick: Box<dyn FnMut() + Send>) {
        *self
            .shared
            .on_tick
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(on_tick);
        if self.flusher.is_none() {
            let shared = Arc::clone(&self.shared);
            let (path, interval) = (path.to_path_buf(), self.interval);
            // If no thread can be started, batches wait for `flush_usage` or the drop.
            self.flusher = std::thread::Builder::new()
                .name("hivekeys-usage".into())
                .spawn(move || run_flusher(&shared, &path, busy_timeout, interval))
                .ok();
        }
    }

    /// Stops the background writer, letting a write in flight finish.
    pub(super) fn stop(&mut self) {
        self.shared.state().stop = true;
        self.shared.wake.notify_all();
        if let Some(flusher) = self.flusher.take() {
            let _ = flusher.join();
        }
    }
}

/// The background writer: sleeps until a batch is due, writes it on its own connection, and
/// on failure (say, another process holds the lock past the busy timeout) keeps it for a
/// retry one interval later.
fn run_flusher(shared: &Shared, path: &Path, busy_timeout: Duration, interval: Duration) {
    let mut conn: Option<Connection> = None;
    loop {
        let due = {
            let state = shared.state();
            if state.stop {
                return;
            }
            match state.buffer.due_in(interval) {
                Some(wait) if wait.is_zero() => true,
                wait => {
                    // Wake at least once an interval, batch or not, for `on_tick`.
                    let wait = wait.map_or(interval, |wait| wait.min(interval));
                    let (state, _) = shared
                        .wake
                        .wait_timeout(state, wait)
                        .unwrap_or_else(PoisonError::into_inner);
                    if state.stop {
                        return;
                    }
                    state.buffer.due_in(interval).is_some_and(|w| w.is_zero())
                }
            }
        };
        if let Some(on_tick) = shared
            .on_tick
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_mut()
        {
            on_tick();
        }
        if !due {
            continue;
        }
        let _writing = shared.writing();
        let batch = std::mem::take(&mut shared.state().buffer);
        if batch.verifications == 0 {
            continue; // `flush_usage` wrote it meanwhile
        }
        if conn.is_none() {
            conn = open_writer(path, busy_timeout).ok();
        }
        let written = match conn.as_mut() {
            Some(conn) => write_batch(conn, &batch),
            None => Err(rusqlite::Error::InvalidQuery),
        };
        if written.is_err() {
            let mut state = shared.state();
            state.buffer.restore(batch);
            state.buffer.retry_at = Some(Instant::now() + interval);
        }
    }
}

fn open_writer(path: &Path, busy_timeout: Duration) -> rusqlite::Result<Connection> {
    let conn = super::side_connection(path, busy_timeout)?;
    conn.execute_batch("PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL;")?;
    Ok(conn)
}

fn write_batch(conn: &mut Connection, batch: &UsageBuffer) -> rusqlite::Result<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    batch.write(&tx)?;
    tx.commit()
}

/// The one lookup every well-formed key costs.
const SECRET_SQL: &str = "SELECT key_id, expires_at FROM secrets WHERE hash = ?1";

/// What a verification says about a key, read once per snapshot.
const KEY_SQL: &str = "SELECT k.public_id, k.name, k.environment, k.revoked_at, k.expires_at, \
     w.name FROM keys k JOIN workspaces w ON w.id = k.workspace_id WHERE k.id = ?1";

/// A key as verification sees it; `None` for a row it cannot use.
type KnownKey = Option<std::sync::Arc<KeyFacts>>;

/// What verification remembers from one snapshot of the store (see `snapshot`): only what
/// was found, so a flood of unknown keys leaves nothing behind.
#[derive(Default)]
pub(super) struct Remembered {
    /// Secrets, by digest: the key each belongs to and when it stops.
    secrets: HashMap<Digest, (i64, Option<i64>), BuildHasherDefault<DigestHasher>>,
    keys: HashMap<i64, KnownKey>,
}

/// Most secrets remembered per snapshot; past it the memory starts again.
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
        let errors = ErrorMap {
            path: &self.path,
            busy_ms: self.busy_timeout.as_millis() as u64,
        };
        if self.reader.is_none() {
            let reader =
                SnapshotReader::open(&self.path, self.busy_timeout, &[SECRET_SQL, KEY_SQL])
                    .map_err(|e| errors.sql(e))?;
            let reader = Arc::new(Mutex::new(reader));
            // A read transaction left open by a gateway that has gone quiet would keep every
            // writer's log from being checkpointed, and the WAL would grow for as long as
            // the quiet lasts: the background thread ends a snapshot no call has used for a
            // whole interval.
            let watched = Arc::downgrade(&reader);
            let mut calls_seen = None;
            let on_tick = Box::new(move || {
                let Some(reader) = watched.upgrade() else {
                    return;
                };
                let Ok(mut reader) = reader.try_lock() else {
                    return; // in use right now: not idle
                };
                let calls = reader.calls();
                if calls_seen == Some(calls) {
                    reader.release();
                }
                calls_seen = Some(calls);
            });
            self.usage.start(&self.path, self.busy_timeout, on_tick);
            self.reader = Some(reader);
        }
        let mut reader = self
            .reader
            .as_ref()
            .expect("opened above")
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let looked_up = reader.read(|statements, memo: &mut Remembered| {
            let [secret, key] = statements else {
                unreachable!("opened with two statements")
            };
            let digest = Digest(hash.0);
            let (key_id, secret_expires_at) = match memo.secrets.get(&digest) {
                Some(found) => *found,
                None => {
                    let Some(found) = secret
                        .query_row([&hash.0[..]], |row| {
                            Ok((row.get::<_, i64>(0)?, row.get::<_, Option<i64>>(1)?))
                        })
                        .optional()?
                    else {
                        return Ok(None);
                    };
                    if memo.secrets.len() >= MAX_REMEMBERED {
                        *memo = Remembered::default();
                    }
                    memo.secrets.insert(digest, found);
                    found
                }
            };
            let facts = match memo.keys.get(&key_id) {
                Some(facts) => facts.clone(),
                None => {
                    let facts = key_facts(key, key_id)?;
                    memo.keys.insert(key_id, facts.clone());
                    facts
                }
            };
            Ok(Some((key_id, secret_expires_at, facts)))
        });
        let (key_id, secret_expires_at, facts) = match looked_up {
            Ok(Some(found)) => found,
            Ok(None) => return Ok(Verification::Invalid(InvalidReason::NotFound)),
            Err(e) => return Err(errors.sql(e)),
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
        drop(reader);
        self.usage.record(key_id, now);
        Ok(Verification::Valid(VerifiedKey {
            id: facts.public_id.clone(),
            name: facts.name.clone(),
            environment: facts.environment,
            workspace: facts.workspace.clone(),
        }))
    }

    /// Verifications recorded in memory and not yet handed to a write.
    pub fn pending_usage(&self) -> usize {
        self.usage.shared.state().buffer.verifications
    }

    /// Writes the buffered usage now, in one transaction, after any write the background
    /// thread has in flight. Returns how many verifications this call wrote.
    pub fn flush_usage(&mut self) -> Result<usize> {
        let shared = Arc::clone(&self.usage.shared);
        let _writing = shared.writing();
        let batch = std::mem::take(&mut shared.state().buffer);
        if batch.verifications == 0 {
            return Ok(0);
        }
        let written = self.write(|tx, cx| {
            batch.write(tx).map_err(|e| cx.sql_err(e))?;
            Ok(batch.verifications)
        });
        if written.is_err() {
            shared.state().buffer.restore(batch);
        }
        written
    }

    /// Uses per day of key `id` over the `days` days ending today (UTC), oldest first,
    /// including days without use.
    pub fn daily_usage(&self, workspace: &str, id: &str, days: u32) -> Result<Vec<DailyUse>> {
        let today = self.now_secs().div_euclid(86_400);
        let first = today - i64::from(days.max(1)) + 1;
        let counts: HashMap<i64, u64> = self
            .conn
            .prepare_cached(
                "SELECT u.day, u.count FROM key_usage u JOIN keys k ON k.id = u.key_id \
                 JOIN workspaces w ON w.id = k.workspace_id \
                 WHERE w.name = ?1 AND k.public_id = ?2 AND u.day BETWEEN ?3 AND ?4",
            )
            .and_then(|mut st| {
                st.query_map(params![workspace, id, first, today], |row| {
                    Ok((row.get::<_, i64>(0)?, row.get::<_, i64>(1)?.max(0) as u64))
                })?
                .collect()
            })
            .map_err(|e| self.sql_err(e))?;
        Ok((first..=today)
            .map(|day| DailyUse {
                date: day_to_date(day),
                count: counts.get(&day).copied().unwrap_or(0),
            })
            .collect())
    }
}

fn key_facts(statement: &mut rusqlite::Statement<'_>, key_id: i64) -> rusqlite::Result<KnownKey> {
    let row = statement
        .query_row([key_id], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
                row.get::<_, Option<i64>>(3)?,
                row.get::<_, Option<i64>>(4)?,
                row.get::<_, String>(5)?,
            ))
        })
        .optional()?;
    Ok(row.and_then(
        |(public_id, name, environment, revoked_at, expires_at, workspace)| {
            Some(std::sync::Arc::new(KeyFacts {
                public_id,
                name,
                environment: environment.parse().ok()?,
                workspace,
                revoked_at,
                expires_at,
            }))
        },
    ))
}

fn day_to_date(day: i64) -> NaiveDate {
    DateTime::<Utc>::from_timestamp(day * 86_400, 0)
        .map(|t| t.date_naive())
        .unwrap_or_default()
}
