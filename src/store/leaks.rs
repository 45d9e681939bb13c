//! What the store knows of secrets found where they do not belong (`hivekeys scan`): a batch
//! of digests looked up at once, store-wide, since a leaked key may be of any workspace.

use std::collections::HashMap;

use super::Store;
use super::failure::{AtSite, Failure};
use super::sql::{Arg, Db};
use crate::error::Result;
use crate::key::KeyHash;

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
    /// and the secret is its current one or within its rotation grace.
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
         k.revoked_at, k.expires_at FROM secrets s JOIN keys k ON k.id = s.key_id \
         JOIN workspaces w ON w.id = k.workspace_id WHERE s.hash IN ({})",
        placeholders.join(", ")
    )
}

impl Store {
    /// The key behind each of `hashes` (digests of full keys, as [`KeyHash::of`] makes them),
    /// in input order: `None` for a digest the store does not hold. One batched lookup, in
    /// chunks of a few hundred digests; repeated digests are answered each time. Reads only:
    /// nothing is counted as a use and no key is changed.
    pub fn find_keys_by_hash(&self, hashes: &[KeyHash]) -> Result<Vec<Option<FoundKey>>> {
        let now = self.now_secs();
        let mut found: HashMap<[u8; 32], FoundKey> = HashMap::new();
        for chunk in hashes.chunks(CHUNK) {
            look_up_chunk(self.db(), chunk, now, &mut found).at(self.site())?;
        }
        Ok(hashes
            .iter()
            .map(|hash| found.get(&hash.0).cloned())
            .collect())
    }
}

fn look_up_chunk(
    db: Db<'_>,
    chunk: &[KeyHash],
    now: i64,
    found: &mut HashMap<[u8; 32], FoundKey>,
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
        Ok((hash, key))
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
