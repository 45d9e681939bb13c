//! What the store knows of secrets found where they do not belong (`hivekeys scan`): a batch
//! of digests looked up at once, store-wide, since a leaked key may be of any workspace.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::Store;
use super::failure::{AtSite, Failure};
use super::key_queries::LEAKED_FOR_GOOD;
use super::records::KeyRecord;
use super::sql::{Arg, Db, args};
use crate::error::Result;
use crate::key::KeyHash;
use crate::text::validate_name;

/// What the store knows of one leaked candidate's digest. Store-wide: a scan may find a key
/// of any workspace. Holds no secret: only the key's public facts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundKey {
    pub public_id: String,
    pub name: String,
    pub workspace: String,
    /// The key as the store lists it (masked). For a secret rotated away this is the key's
    /// current secret's mask, not the one found: the caller masks what it found itself.
    pub masked: String,
    pub state: LeakState,
}

/// Whether a found secret still opens anything. A digest the store does not hold at all
/// (`unknown` in a scan's report) is `None` in [`Store::find_keys_by_hash`]'s answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LeakState {
    /// `verify` would accept the secret now: the key is not revoked and not past its expiry,
    /// and the secret is its current one or within its rotation grace. A key at its daily
    /// limit is live too: the limit resets at midnight, the leak does not.
    Live,
    /// The key is revoked (whatever else is true of it).
    Revoked,
    /// The key is past its expiry, or this secret was rotated away and its grace has ended.
    Expired,
}

impl LeakState {
    /// The word a report prints: `live`, `revoked`, `expired`.
    pub fn as_str(self) -> &'static str {
        match self {
            LeakState::Live => "live",
            LeakState::Revoked => "revoked",
            LeakState::Expired => "expired",
        }
    }
}

impl std::fmt::Display for LeakState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a scan saw a secret: `PATH:LINE`, or `COMMIT:PATH:LINE` for one in a repository's
/// history. Holds the secret's digest, never the secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeakSighting {
    pub hash: KeyHash,
    pub location: String,
}

/// Where a secret of a key was seen, and when first (by any scan).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyLeak {
    pub location: String,
    pub found_at: DateTime<Utc>,
}

/// Longest location kept, in characters: a path is rarely longer, and one that is must not
/// fill the store or the screen.
const MAX_LOCATION_CHARS: usize = 1024;

/// Digests per statement: well under SQLite's parameter limit (32,766 in the bundled build,
/// 999 in old ones), and few round trips to a PostgreSQL server.
const CHUNK: usize = 512;

/// The statement for `n` digests. Chunks are padded to a power of two (the last digest
/// repeated, harmless in `IN`) so that a store prepares at most a handful of statement texts,
/// however many scans of however many findings it answers.
fn lookup_sql(n: usize) -> String {
    let placeholders: Vec<String> = (1..=n).map(|i| format!("?{i}")).collect();
    format!(
        "SELECT s.hash, s.expires_at, k.public_id, k.name, w.name, k.masked_key, \
         k.revoked_at, k.expires_at, k.id FROM secrets s JOIN keys k ON k.id = s.key_id \
         JOIN workspaces w ON w.id = k.workspace_id WHERE s.hash IN ({})",
        placeholders.join(", ")
    )
}

/// A found key and its row id, for a write that goes on to change it.
pub(super) struct Looked {
    pub key_id: i64,
    pub key: FoundKey,
}

impl Store {
    /// The key behind each of `hashes` (digests of full keys, as [`KeyHash::of`] makes them),
    /// in input order: `None` for a digest the store does not hold. One batched lookup, in
    /// chunks of a few hundred digests; repeated digests are answered each time. Reads only:
    /// nothing is counted as a use and no key is changed.
    pub fn find_keys_by_hash(&self, hashes: &[KeyHash]) -> Result<Vec<Option<FoundKey>>> {
        let found = look_up(self.db(), hashes, self.now_secs()).at(self.site())?;
        Ok(hashes
            .iter()
            .map(|hash| found.get(&hash.0).map(|looked| looked.key.clone()))
            .collect())
    }

    /// Keeps where each sighting's secret was seen, for the live keys among them (a secret
    /// that no longer opens anything is no news): the key is then marked leaked (the
    /// dashboard, `list`, `show`) until it is rotated (once the grace of the found secret
    /// ends) or revoked. A later scan that does not see the secret again does not clear the
    /// mark: the secret is out. A place already recorded keeps the time it was first seen
    /// and writes nothing. One transaction.
    pub fn record_leaks(&mut self, sightings: &[LeakSighting]) -> Result<()> {
        let hashes: Vec<KeyHash> = sightings.iter().map(|s| s.hash).collect();
        self.write(|tx, cx| {
            let found = look_up(tx, &hashes, cx.now)?;
            for sighting in sightings {
                let Some(looked) = found.get(&sighting.hash.0) else {
                    continue;
                };
                if looked.key.state != LeakState::Live {
                    continue;
                }
                let location = stored_location(&sighting.location);
                let hash = &sighting.hash.0[..];
                // Looked for first: on PostgreSQL even an insert that does nothing moves the
                // key-change counter, and every verifier would drop what it remembers.
                if tx.exists(
                    "SELECT 1 FROM leaks WHERE hash = ?1 AND location = ?2",
                    args![hash, location.as_str()],
                )? {
                    continue;
                }
                tx.execute(
                    "INSERT INTO leaks (hash, key_id, location, found_at) VALUES (?1, ?2, ?3, ?4)",
                    args![hash, looked.key_id, location.as_str(), cx.now],
                )?;
                refresh_leak_mark(tx, looked.key_id)?;
            }
            Ok(())
        })
    }

    /// Where secrets of key `id` that still open it were seen, first seen first: empty for a
    /// key that is not marked leaked (never found, rotated since, revoked or expired).
    pub fn key_leaks(&self, workspace: &str, id: &str) -> Result<Vec<KeyLeak>> {
        let workspace = validate_name(workspace, "workspace")?;
        self.db()
            .query_all(
                "SELECT l.location, min(l.found_at) FROM leaks l \
                 JOIN secrets s ON s.hash = l.hash JOIN keys k ON k.id = l.key_id \
                 JOIN workspaces w ON w.id = k.workspace_id \
                 WHERE w.name = ?1 AND k.public_id = ?2 AND k.revoked_at IS NULL \
                 AND (k.expires_at IS NULL OR k.expires_at > ?3) \
                 AND (s.expires_at IS NULL OR s.expires_at > ?3) \
                 GROUP BY l.location ORDER BY min(l.found_at), l.location",
                args![workspace.as_str(), id, self.now_secs()],
                |row| {
                    Ok(KeyLeak {
                        location: row.text(0)?,
                        found_at: row.time(1)?,
                    })
                },
            )
            .at(self.site())
    }

    /// [`key_leaks`](Store::key_leaks) of each of `keys` (of `workspace`), in order: one read
    /// per key marked leaked, none for the others.
    pub fn leaks_of_keys(&self, workspace: &str, keys: &[KeyRecord]) -> Result<Vec<Vec<KeyLeak>>> {
        let now = self.now();
        keys.iter()
            .map(|key| match key.is_leaked_at(now) {
                true => self.key_leaks(workspace, &key.id),
                false => Ok(Vec::new()),
            })
            .collect()
    }
}

/// Sets key `key_id`'s `leaked_until` from its found secrets: when the last of them stops,
/// [`LEAKED_FOR_GOOD`] while one is current, NULL when none was found. Cheap for a key never
/// found (one index probe), so a rotation calls it whatever the key's past.
pub(super) fn refresh_leak_mark(tx: Db<'_>, key_id: i64) -> Result<(), Failure> {
    if !tx.exists("SELECT 1 FROM leaks WHERE key_id = ?1", args![key_id])? {
        return Ok(());
    }
    tx.execute(
        "UPDATE keys SET leaked_until = (SELECT max(coalesce(s.expires_at, ?2)) \
         FROM leaks l JOIN secrets s ON s.hash = l.hash WHERE l.key_id = ?1) WHERE id = ?1",
        args![key_id, LEAKED_FOR_GOOD],
    )?;
    Ok(())
}

/// A location as the store keeps it: printable (a path may hold control characters that
/// would drive the terminal of whoever reads it later) and bounded.
pub(super) fn stored_location(location: &str) -> String {
    crate::text::echo(location, MAX_LOCATION_CHARS)
}

/// What the store holds of each of `hashes`, by digest, at time `now`.
pub(super) fn look_up(
    db: Db<'_>,
    hashes: &[KeyHash],
    now: i64,
) -> Result<HashMap<[u8; 32], Looked>, Failure> {
    let mut found = HashMap::new();
    for chunk in hashes.chunks(CHUNK) {
        look_up_chunk(db, chunk, now, &mut found)?;
    }
    Ok(found)
}

fn look_up_chunk(
    db: Db<'_>,
    chunk: &[KeyHash],
    now: i64,
    found: &mut HashMap<[u8; 32], Looked>,
) -> Result<(), Failure> {
    let Some(last) = chunk.last() else {
        return Ok(());
    };
    let padded = chunk.len().next_power_of_two();
    let args: Vec<Arg<'_>> = chunk
        .iter()
        .chain(std::iter::repeat(last))
        .take(padded)
        .map(|hash| Arg::from(&hash.0[..]))
        .collect();
    let rows = db.query_all(&lookup_sql(padded), &args, |row| {
        let hash: [u8; 32] = row
            .bytes(0)?
            .try_into()
            .map_err(|_| Failure::Decode("a secret's digest is not 32 bytes".into()))?;
        let past = |at: Option<i64>| at.is_some_and(|at| at <= now);
        // The order `verify` decides in: revoked before expired.
        let state = if row.opt_i64(6)?.is_some() {
            LeakState::Revoked
        } else if past(row.opt_i64(7)?) || past(row.opt_i64(1)?) {
            LeakState::Expired
        } else {
            LeakState::Live
        };
        let key = FoundKey {
            public_id: row.text(2)?,
            name: row.text(3)?,
            workspace: row.text(4)?,
            masked: row.text(5)?,
            state,
        };
        Ok((
            hash,
            Looked {
                key_id: row.i64(8)?,
                key,
            },
        ))
    })?;
    found.extend(rows);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_statement_numbers_every_digest() {
        let sql = lookup_sql(4);
        assert!(sql.ends_with("IN (?1, ?2, ?3, ?4)"), "{sql}");
    }

    #[test]
    fn states_read_as_the_report_words() {
        assert_eq!(LeakState::Live.to_string(), "live");
        assert_eq!(LeakState::Revoked.as_str(), "revoked");
        assert_eq!(LeakState::Expired.as_str(), "expired");
    }
}
