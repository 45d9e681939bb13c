//! Verification, the hot path a gateway calls for every request.
//!
//! A verification is one indexed read on a connection of its own that keeps its read
//! transaction while nothing is committed (see `snapshot`), and what it reads is remembered
//! for as long as that snapshot lasts. Its bookkeeping (last used, uses per day) is handed to
//! `usage`, which writes it off the caller's thread.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hash, Hasher};
use std::sync::{Arc, Mutex, PoisonError};

use rusqlite::OptionalExtension;

use super::Store;
use super::failure::AtSite;
use super::snapshot::SnapshotReader;
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
        if self.reader.is_none() {
            let reader =
                SnapshotReader::open(&self.path, self.busy_timeout, &[SECRET_SQL, KEY_SQL])
                    .at(self.site())?;
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
        drop(reader);
        self.usage.record(key_id, now);
        Ok(Verification::Valid(VerifiedKey {
            id: facts.public_id.clone(),
            name: facts.name.clone(),
            environment: facts.environment,
            workspace: facts.workspace.clone(),
        }))
    }
}

fn key_facts(statement: &mut rusqlite::Statement<'_>, key_id: i64) -> rusqlite::Result<KnownKey> {
    let row = statement
        .query_row([key_id], |row| {
            // A key whose environment this build does not know (a damaged store) proves
            // nothing: it reads as no key at all, not as a failure of every verification.
            let environment = match row.get::<_, Environment>(2) {
                Ok(environment) => Some(environment),
                Err(rusqlite::Error::FromSqlConversionFailure(..)) => None,
                Err(err) => return Err(err),
            };
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                environment,
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
                environment: environment?,
                workspace,
                revoked_at,
                expires_at,
            }))
        },
    ))
}
