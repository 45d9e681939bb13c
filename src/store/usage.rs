//! Use bookkeeping: what verifications feed (last used, uses per day) and reading it back.
//!
//! The bookkeeping is kept in memory and written by a background thread, in one transaction
//! per batch: a synchronous commit per call would cost ten times the lookup, and a write on
//! the caller's thread would make it wait whenever another process holds the lock. A batch
//! is written once it is [`FLUSH_AFTER`] old (or the interval the store was opened with) or
//! holds [`FLUSH_AT_COUNT`] verifications, on [`Store::flush_usage`], and when the store is
//! dropped. A hard kill loses at most the batch not yet written; a clean shutdown loses
//! nothing.

use std::collections::HashMap;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::Store;
use super::failure::{AtSite, Failure};
use super::location::Location;
use super::records::{DailyUse, KeyRecord, KeyUsage};
use super::sql::{Conn, Db, Writers, args};
use crate::error::Result;
use chrono::{DateTime, NaiveDate, Utc};

/// Write the batch once it holds this many verifications…
pub const FLUSH_AT_COUNT: usize = 16_384;
/// …or once it is this old (the default; see `StoreOptions::usage_flush_interval`).
pub const FLUSH_AFTER: Duration = Duration::from_secs(1);

/// Verifications not yet written: per key, the latest use and the uses per day.
#[derive(Debug, Default, Clone)]
struct UsageBuffer {
    per_key: HashMap<i64, PendingUse>,
    verifications: usize,
    /// When the first verification of this batch was recorded.
    started: Option<Instant>,
    /// After a failed write, not before this.
    retry_at: Option<Instant>,
}

#[derive(Debug, Default, Clone)]
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

    /// Uses of key `key_id` on `day` in this batch.
    fn count(&self, key_id: i64, day: i64) -> u64 {
        self.per_key.get(&key_id).map_or(0, |pending| {
            pending
                .days
                .iter()
                .filter(|(d, _)| *d == day)
                .map(|(_, count)| count)
                .sum()
        })
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
    /// batches from several processes land out of order. Keys are written in row-id order,
    /// so that two processes' batches lock rows in the same order and never deadlock.
    fn write(&self, tx: Db<'_>) -> Result<(), Failure> {
        let mut keys: Vec<_> = self.per_key.iter().collect();
        keys.sort_unstable_by_key(|(key_id, _)| **key_id);
        for (key_id, pending) in keys {
            let total: u64 = pending.days.iter().map(|(_, c)| c).sum();
            tx.execute(
                "UPDATE keys SET last_used_at = CASE WHEN last_used_at IS NULL \
                 OR last_used_at < ?2 THEN ?2 ELSE last_used_at END, \
                 use_count = use_count + ?3 WHERE id = ?1",
                args![*key_id, pending.last_used, total as i64],
            )?;
            for (day, count) in &pending.days {
                tx.execute(
                    "INSERT INTO key_usage (key_id, day, count) VALUES (?1, ?2, ?3) \
                     ON CONFLICT (key_id, day) DO UPDATE SET count = key_usage.count + excluded.count",
                    args![*key_id, *day, *count as i64],
                )?;
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
    /// Held from a batch's COMMIT until it is no longer in flight, and by a daily limit's
    /// count: without it a count could see a batch both in the store and in flight (a false
    /// refusal) or in neither (an overshoot). Never held while waiting for the lock.
    commit_gate: Mutex<()>,
    /// Run by the background thread at least once an interval: lets go of the verifying
    /// connection's snapshot once it has been idle (see `Store::verify`).
    on_tick: Mutex<Option<Box<dyn FnMut() + Send>>>,
}

#[derive(Default)]
struct FlushState {
    buffer: UsageBuffer,
    /// The batch being written: taken from `buffer`, not yet committed. Daily limits count
    /// it, or its uses would be in neither place for the length of the write.
    in_flight: Option<Arc<UsageBuffer>>,
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

    fn gate(&self) -> MutexGuard<'_, ()> {
        self.commit_gate
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Takes the buffer for a write, keeping it visible as in flight; `None` when empty.
    fn take_batch(&self) -> Option<Arc<UsageBuffer>> {
        let mut state = self.state();
        let batch = Arc::new(std::mem::take(&mut state.buffer));
        if batch.verifications == 0 {
            return None;
        }
        state.in_flight = Some(Arc::clone(&batch));
        Some(batch)
    }

    /// Ends a write of `batch`: written, it is no longer in flight; failed, it goes back into
    /// the buffer (to be retried after `retry_after`, if given).
    fn settle(&self, batch: Arc<UsageBuffer>, written: bool, retry_after: Option<Duration>) {
        let mut state = self.state();
        state.in_flight = None;
        if written {
            return;
        }
        // No other holder is left once `in_flight` is cleared: this takes it without a copy.
        state.buffer.restore(Arc::unwrap_or_clone(batch));
        if let Some(after) = retry_after {
            state.buffer.retry_at = Some(Instant::now() + after);
        }
    }
}

impl Usage {
    pub(super) fn new(interval: Duration) -> Usage {
        Usage {
            shared: Arc::new(Shared {
                state: Mutex::default(),
                wake: Condvar::new(),
                writing: Mutex::new(()),
                commit_gate: Mutex::new(()),
                on_tick: Mutex::new(None),
            }),
            flusher: None,
            interval,
        }
    }

    /// Uses of key `key_id` on `day`: those `stored` reads from the store plus those recorded
    /// here and not yet committed, counted so that a batch committing meanwhile is counted
    /// exactly once.
    pub(super) fn uses_on<E>(
        &self,
        key_id: i64,
        day: i64,
        stored: impl FnOnce() -> std::result::Result<u64, E>,
    ) -> std::result::Result<u64, E> {
        let _gate = self.shared.gate();
        let stored = stored()?;
        let state = self.shared.state();
        let in_flight = state.in_flight.as_ref().map_or(0, |b| b.count(key_id, day));
        Ok(stored + state.buffer.count(key_id, day) + in_flight)
    }

    pub(super) fn record(&mut self, key_id: i64, at: i64) {
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
    pub(super) fn start(
        &mut self,
        location: &Location,
        busy_timeout: Duration,
        on_tick: Box<dyn FnMut() + Send>,
    ) {
        *self
            .shared
            .on_tick
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(on_tick);
        if self.flusher.is_none() {
            let shared = Arc::clone(&self.shared);
            let (location, interval) = (location.clone(), self.interval);
            // If no thread can be started, batches wait for `flush_usage` or the drop.
            self.flusher = std::thread::Builder::new()
                .name("hivekeys-usage".into())
                .spawn(move || run_flusher(&shared, &location, busy_timeout, interval))
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
fn run_flusher(shared: &Shared, location: &Location, busy_timeout: Duration, interval: Duration) {
    let mut conn: Option<Conn> = None;
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
        let Some(batch) = shared.take_batch() else {
            continue; // `flush_usage` wrote it meanwhile
        };
        if conn.is_none() {
            conn = open_writer(location, busy_timeout).ok();
        }
        let written = match conn.as_mut() {
            Some(conn) => write_batch(conn, &batch, shared),
            None => Err(Failure::Decode("no connection to write use counts".into())),
        };
        if written.is_err() {
            // A PostgreSQL connection that failed may be gone: connect afresh next time.
            if matches!(conn, Some(Conn::Postgres(_))) {
                conn = None;
            }
            shared.settle(batch, false, Some(interval));
        }
    }
}

fn open_writer(location: &Location, busy_timeout: Duration) -> Result<Conn, Failure> {
    let conn = location.reconnect(busy_timeout)?;
    if let Conn::Sqlite(conn) = &conn {
        conn.execute_batch("PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL;")?;
    }
    Ok(conn)
}

/// Writes `batch` and, once committed, takes it out of flight, both under the commit gate.
fn write_batch(conn: &mut Conn, batch: &UsageBuffer, shared: &Shared) -> Result<(), Failure> {
    let tx = conn.begin(Writers::RowLocks)?;
    batch.write(tx.db())?;
    let _gate = shared.gate();
    tx.commit()?;
    shared.state().in_flight = None;
    Ok(())
}

impl Store {
    /// Verifications recorded in memory and not yet handed to a write.
    pub fn pending_usage(&self) -> usize {
        self.usage.shared.state().buffer.verifications
    }

    /// Writes the buffered usage now, in one transaction, after any write the background
    /// thread has in flight. Returns how many verifications this call wrote.
    pub fn flush_usage(&mut self) -> Result<usize> {
        let shared = Arc::clone(&self.usage.shared);
        let _writing = shared.writing();
        let Some(batch) = shared.take_batch() else {
            return Ok(0);
        };
        // Held for the whole write: this runs on the caller's thread (a closing store, a
        // one-shot verify), never on a gateway's hot path.
        let _gate = shared.gate();
        let written = self.write_in(super::Target::TheOpenFile, |tx, _| {
            batch.write(tx)?;
            Ok(batch.verifications)
        });
        shared.settle(batch, written.is_ok(), None);
        written
    }

    /// The bookkeeping of each of the keys with public ids `ids` (last used, total uses), as
    /// the store has it now; `None` for an id not in the workspace. What a screen showing a
    /// few keys needs when only use counts changed: a handful of indexed reads instead of
    /// the whole list.
    pub fn usage_of(&self, workspace: &str, ids: &[&str]) -> Result<Vec<Option<KeyUsage>>> {
        ids.iter()
            .map(|id| {
                self.db()
                    .query_row(
                        "SELECT k.last_used_at, k.use_count FROM keys k \
                         JOIN workspaces w ON w.id = k.workspace_id \
                         WHERE w.name = ?1 AND k.public_id = ?2",
                        args![workspace, *id],
                        |row| {
                            Ok(KeyUsage {
                                last_used_at: row.opt_time(0)?,
                                use_count: row.u64(1)?,
                            })
                        },
                    )
                    .at(self.site())
            })
            .collect()
    }

    /// The uses today (UTC) of each of `keys`, as far as the store has them: what this
    /// process still buffers is not included. A few keys are read one by one; many (a whole
    /// list) in one read of the workspace's counts for today, which on PostgreSQL saves a
    /// round trip per key.
    pub fn uses_today(&self, workspace: &str, keys: &[KeyRecord]) -> Result<Vec<u64>> {
        let today = self.now_secs().div_euclid(86_400);
        if keys.len() > 32 {
            let counts: HashMap<String, u64> = self
                .db()
                .query_all(
                    "SELECT k.public_id, u.count FROM key_usage u JOIN keys k ON k.id = u.key_id \
                     JOIN workspaces w ON w.id = k.workspace_id WHERE w.name = ?1 AND u.day = ?2",
                    args![workspace, today],
                    |row| Ok((row.text(0)?, row.u64(1)?)),
                )
                .at(self.site())?
                .into_iter()
                .collect();
            return Ok(keys
                .iter()
                .map(|key| counts.get(&key.id).copied().unwrap_or(0))
                .collect());
        }
        keys.iter()
            .map(|key| {
                self.db()
                    .query_row(
                        "SELECT u.count FROM key_usage u JOIN keys k ON k.id = u.key_id \
                         JOIN workspaces w ON w.id = k.workspace_id \
                         WHERE w.name = ?1 AND k.public_id = ?2 AND u.day = ?3",
                        args![workspace, key.id.as_str(), today],
                        |row| row.u64(0),
                    )
                    .map(Option::unwrap_or_default)
                    .at(self.site())
            })
            .collect()
    }

    /// Uses per day of key `id` over the `days` days ending today (UTC), oldest first,
    /// including days without use.
    pub fn daily_usage(&self, workspace: &str, id: &str, days: u32) -> Result<Vec<DailyUse>> {
        let today = self.now_secs().div_euclid(86_400);
        let first = today - i64::from(days.max(1)) + 1;
        let counts: HashMap<i64, u64> = self
            .db()
            .query_all(
                "SELECT u.day, u.count FROM key_usage u JOIN keys k ON k.id = u.key_id \
                 JOIN workspaces w ON w.id = k.workspace_id \
                 WHERE w.name = ?1 AND k.public_id = ?2 AND u.day BETWEEN ?3 AND ?4",
                args![workspace, id, first, today],
                |row| Ok((row.i64(0)?, row.u64(1)?)),
            )
            .at(self.site())?
            .into_iter()
            .collect();
        Ok((first..=today)
            .map(|day| DailyUse {
                date: day_to_date(day),
                count: counts.get(&day).copied().unwrap_or(0),
            })
            .collect())
    }
}

fn day_to_date(day: i64) -> NaiveDate {
    DateTime::<Utc>::from_timestamp(day * 86_400, 0)
        .map(|t| t.date_naive())
        .unwrap_or_default()
}
