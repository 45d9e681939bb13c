//! Verification, the hot path a gateway calls for every request, and the usage bookkeeping it
//! feeds.
//!
//! A verification is one indexed read. Its bookkeeping (last used, uses per day) is kept in
//! memory and written in one transaction per batch: a synchronous commit per call would cost
//! ten times the lookup. A batch is written when it holds [`FLUSH_AT_COUNT`] verifications,
//! when a verification arrives [`FLUSH_AFTER`] after the batch began, on
//! [`Store::flush_usage`] and when the store is dropped. A hard kill loses at most the
//! unflushed batch; a clean shutdown loses nothing.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::{OptionalExtension, params};

use super::Store;
use super::records::DailyUse;
use crate::environment::Environment;
use crate::error::Result;
use crate::key::{KeyHash, MAX_KEY_LEN, check_format};

/// Write the batch once it holds this many verifications…
pub const FLUSH_AT_COUNT: usize = 4096;
/// …or once it is this old.
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
pub(super) struct UsageBuffer {
    per_key: HashMap<i64, PendingUse>,
    verifications: usize,
    started: Option<Instant>,
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

    fn due(&self) -> bool {
        self.verifications >= FLUSH_AT_COUNT
            || self.started.is_some_and(|t| t.elapsed() >= FLUSH_AFTER)
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
}

const VERIFY_SQL: &str = "SELECT s.key_id, s.expires_at, k.public_id, k.name, k.environment, \
     k.revoked_at, k.expires_at, w.name FROM secrets s JOIN keys k ON k.id = s.key_id \
     JOIN workspaces w ON w.id = k.workspace_id WHERE s.hash = ?1";

impl Store {
    /// Checks a full key: its checksum first (a malformed key never reaches the database),
    /// then one lookup by hash. A valid key's use is recorded.
    pub fn verify(&mut self, full_key: &str) -> Result<Verification> {
        if full_key.len() > MAX_KEY_LEN || check_format(full_key).is_err() {
            return Ok(Verification::Invalid(InvalidReason::Malformed));
        }
        let hash = KeyHash::of(full_key);
        let now = self.now_secs();
        let found = self
            .conn
            .prepare_cached(VERIFY_SQL)
            .and_then(|mut st| {
                st.query_row([&hash.0[..]], |row| {
                    Ok(Lookup {
                        key_id: row.get(0)?,
                        secret_expires_at: row.get(1)?,
                        public_id: row.get(2)?,
                        name: row.get(3)?,
                        environment: row.get(4)?,
                        revoked_at: row.get(5)?,
                        key_expires_at: row.get(6)?,
                        workspace: row.get(7)?,
                    })
                })
                .optional()
            })
            .map_err(|e| self.sql_err(e))?;
        let Some(found) = found else {
            return Ok(Verification::Invalid(InvalidReason::NotFound));
        };
        if found.revoked_at.is_some() {
            return Ok(Verification::Invalid(InvalidReason::Revoked));
        }
        let past = |at: Option<i64>| at.is_some_and(|at| at <= now);
        if past(found.key_expires_at) || past(found.secret_expires_at) {
            return Ok(Verification::Invalid(InvalidReason::Expired));
        }
        let Ok(environment) = found.environment.parse() else {
            return Ok(Verification::Invalid(InvalidReason::NotFound));
        };
        self.usage.record(found.key_id, now);
        if self.usage.due() {
            // A failed write (say, another process holds the lock) keeps the batch for the
            // next attempt; the verification itself stands either way.
            let _ = self.flush_usage();
        }
        Ok(Verification::Valid(VerifiedKey {
            id: found.public_id,
            name: found.name,
            environment,
            workspace: found.workspace,
        }))
    }

    /// Verifications recorded in memory and not yet written.
    pub fn pending_usage(&self) -> usize {
        self.usage.verifications
    }

    /// Writes the buffered usage in one transaction. Last used never moves backwards, even
    /// when batches from several processes land out of order. Returns how many
    /// verifications were written.
    pub fn flush_usage(&mut self) -> Result<usize> {
        if self.usage.verifications == 0 {
            return Ok(0);
        }
        let batch = std::mem::take(&mut self.usage);
        let written = self.write(|tx, cx| {
            let sql = |e| cx.sql_err(e);
            let mut touch = tx
                .prepare_cached(
                    "UPDATE keys SET last_used_at = max(coalesce(last_used_at, ?2), ?2), \
                     use_count = use_count + ?3 WHERE id = ?1",
                )
                .map_err(sql)?;
            let mut per_day = tx
                .prepare_cached(
                    "INSERT INTO key_usage (key_id, day, count) VALUES (?1, ?2, ?3) \
                     ON CONFLICT (key_id, day) DO UPDATE SET count = count + excluded.count",
                )
                .map_err(sql)?;
            for (key_id, pending) in &batch.per_key {
                let total: u64 = pending.days.iter().map(|(_, c)| c).sum();
                touch
                    .execute(params![key_id, pending.last_used, total as i64])
                    .map_err(sql)?;
                for (day, count) in &pending.days {
                    per_day
                        .execute(params![key_id, day, *count as i64])
                        .map_err(sql)?;
                }
            }
            Ok(batch.verifications)
        });
        if written.is_err() {
            self.usage.restore(batch);
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

struct Lookup {
    key_id: i64,
    secret_expires_at: Option<i64>,
    public_id: String,
    name: String,
    environment: String,
    revoked_at: Option<i64>,
    key_expires_at: Option<i64>,
    workspace: String,
}

fn day_to_date(day: i64) -> NaiveDate {
    DateTime::<Utc>::from_timestamp(day * 86_400, 0)
        .map(|t| t.date_naive())
        .unwrap_or_default()
}
