//! Changing keys: creating, rotating, revoking, limiting and renaming them, with the rows, secrets and audit
//! events each change writes inside its transaction.

use super::Store;
use super::event_sink::Events;
use super::failure::Failure;
use super::key_queries::{fetch_key, not_found, search_text};
use super::records::{AuditAction, Grace, IssuedKey, KeyRecord, MAX_DAILY_LIMIT, NewKey};
use super::sql::{Db, args};
use crate::entropy::Entropy;
use crate::environment::Environment;
use crate::error::{Error, Result};
use crate::key::Secret;
use crate::text::validate_name;

/// The columns of a new key row, shared by single creation and the demo's bulk insert.
pub(super) struct KeyRow<'a> {
    pub workspace_id: i64,
    pub name: &'a str,
    pub environment: Environment,
    pub is_default: bool,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub daily_limit: Option<u64>,
}

/// Inserts a key with a fresh secret and its `created` audit event. Returns the row id,
/// public id and the secret.
pub(super) fn insert_key(
    tx: Db<'_>,
    entropy: &mut dyn Entropy,
    events: &mut Events<'_>,
    row: &KeyRow<'_>,
) -> Result<(i64, String, Secret), Failure> {
    let secret = Secret::generate(row.environment, entropy)?;
    let public_id = unused_public_id(tx, entropy)?;
    let masked = secret.masked();
    let key_id = tx
        .query_i64(
            "INSERT INTO keys (public_id, workspace_id, name, environment, is_default, \
             masked_key, search_text, created_at, expires_at, daily_limit) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) RETURNING id",
            args![
                public_id.as_str(),
                row.workspace_id,
                row.name,
                row.environment.as_str(),
                row.is_default,
                masked.as_str(),
                search_text(row.name, &masked, &public_id).as_str(),
                row.created_at,
                row.expires_at,
                row.daily_limit.map(|n| n as i64),
            ],
        )?
        .ok_or_else(|| Failure::Decode("INSERT … RETURNING gave no row id".into()))?;
    insert_secret(tx, key_id, &secret, row.created_at)?;
    events.record(tx, key_id, row.created_at, AuditAction::Created, None)?;
    Ok((key_id, public_id, secret))
}

pub(super) fn insert_secret(
    tx: Db<'_>,
    key_id: i64,
    secret: &Secret,
    at: i64,
) -> Result<(), Failure> {
    tx.execute(
        "INSERT INTO secrets (hash, key_id, created_at) VALUES (?1, ?2, ?3)",
        args![&secret.hash().0[..], key_id, at],
    )?;
    Ok(())
}

pub(super) fn record_event(
    tx: Db<'_>,
    key_id: i64,
    at: i64,
    action: AuditAction,
    actor: &str,
    detail: Option<&str>,
) -> Result<(), Failure> {
    tx.execute(
        "INSERT INTO audit_events (key_id, at, action, actor, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
        args![key_id, at, action.as_str(), actor, detail],
    )?;
    Ok(())
}

/// The key whose secret [`replace_secret`] replaces.
pub(super) struct RotationTarget<'a> {
    pub key_id: i64,
    pub public_id: &'a str,
    pub name: &'a str,
    pub environment: Environment,
}

/// Issues a new secret for a key at time `at`: older secrets stop at `at + grace` (or earlier
/// if they were already counting down), the masked key changes, and the rotation is audited.
pub(super) fn replace_secret(
    tx: Db<'_>,
    entropy: &mut dyn Entropy,
    events: &mut Events<'_>,
    target: &RotationTarget<'_>,
    at: i64,
    grace: Grace,
) -> Result<Secret, Failure> {
    let secret = Secret::generate(target.environment, entropy)?;
    // Only the current secret starts counting down: an older one keeps the grace an earlier
    // rotation gave it, even when this rotation's is shorter (a promise to its apps).
    tx.execute(
        "UPDATE secrets SET expires_at = ?1 WHERE key_id = ?2 AND expires_at IS NULL",
        args![at + grace.seconds(), target.key_id],
    )?;
    insert_secret(tx, target.key_id, &secret, at)?;
    // A found secret now has an end: the key's leak mark follows it.
    super::leaks::refresh_leak_mark(tx, target.key_id)?;
    let masked = secret.masked();
    tx.execute(
        "UPDATE keys SET masked_key = ?1, search_text = ?2, rotated_at = ?3 WHERE id = ?4",
        args![
            masked.as_str(),
            search_text(target.name, &masked, target.public_id).as_str(),
            at,
            target.key_id
        ],
    )?;
    let detail = format!("previous secret stops {}", grace.label());
    events.record(tx, target.key_id, at, AuditAction::Rotated, Some(detail))?;
    Ok(secret)
}

pub(super) fn mark_revoked(
    tx: Db<'_>,
    key_id: i64,
    at: i64,
    events: &mut Events<'_>,
) -> Result<(), Failure> {
    tx.execute(
        "UPDATE keys SET revoked_at = ?1 WHERE id = ?2",
        args![at, key_id],
    )?;
    events.record(tx, key_id, at, AuditAction::Revoked, None)
}

/// A public id no key has yet. 32 random bits collide rarely even at a million keys; the
/// check makes "rarely" harmless.
fn unused_public_id(tx: Db<'_>, entropy: &mut dyn Entropy) -> Result<String, Failure> {
    loop {
        let mut bytes = [0u8; 4];
        entropy.fill(&mut bytes)?;
        let id = format!("key_{}", bytes.map(|b| format!("{b:02x}")).concat());
        if !tx.exists(
            "SELECT 1 FROM keys WHERE public_id = ?1",
            args![id.as_str()],
        )? {
            return Ok(id);
        }
    }
}

/// Row id and workspace id of a workspace, creating it inside `tx` if needed.
pub(super) fn workspace_for_write(tx: Db<'_>, name: &str, now: i64) -> Result<i64, Failure> {
    if let Some(id) = tx.query_i64("SELECT id FROM workspaces WHERE name = ?1", args![name])? {
        return Ok(id);
    }
    // A new one: refused when it would show as a stored one.
    super::workspaces::refuse_look_alike(tx, name)?;
    tx.execute(
        "INSERT INTO workspaces (name, created_at) VALUES (?1, ?2) ON CONFLICT (name) DO NOTHING",
        args![name, now],
    )?;
    tx.query_i64("SELECT id FROM workspaces WHERE name = ?1", args![name])?
        .ok_or_else(|| Failure::Decode(format!("workspace {name} vanished inside its write")))
}

/// The public id of the workspace's active default key.
pub(super) fn active_default(
    tx: Db<'_>,
    workspace_id: i64,
    now: i64,
) -> Result<Option<String>, Failure> {
    tx.query_row(
        "SELECT public_id FROM keys k WHERE k.workspace_id = ?1 AND k.is_default = 1 \
         AND k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > ?2) LIMIT 1",
        args![workspace_id, now],
        |row| row.text(0),
    )
}

impl Store {
    /// Issues a new active key. For a default key, fails if the workspace already has an
    /// active default.
    pub fn create_key(&mut self, workspace: &str, new: NewKey) -> Result<IssuedKey> {
        self.create_key_and(workspace, new, |_| Ok(()))
    }

    /// [`create_key`](Store::create_key), handing the new key to `deliver` (print it, show
    /// it) before the change commits. If `deliver` fails nothing is stored: a key nobody saw
    /// must not exist. The write lock is held meanwhile, so `deliver` should be quick.
    pub fn create_key_and(
        &mut self,
        workspace: &str,
        new: NewKey,
        deliver: impl FnOnce(&IssuedKey) -> std::io::Result<()>,
    ) -> Result<IssuedKey> {
        let workspace = validate_name(workspace, "workspace")?;
        let name = validate_name(&new.name, "key")?;
        let expires_at = new.expires_at.map(|at| at.timestamp());
        if expires_at.is_some_and(|at| at <= self.now_secs()) {
            return Err(Error::ExpiryInPast);
        }
        check_daily_limit(new.daily_limit)?;
        self.write(|tx, cx| {
            let workspace_id = workspace_for_write(tx, &workspace, cx.now)?;
            let existing_default = match new.is_default {
                true => active_default(tx, workspace_id, cx.now)?,
                false => None,
            };
            if let Some(id) = existing_default {
                return Err(Error::DefaultKeyExists {
                    workspace: workspace.clone(),
                    id,
                }
                .into());
            }
            let row = KeyRow {
                workspace_id,
                name: &name,
                environment: new.environment,
                is_default: new.is_default,
                created_at: cx.now,
                expires_at,
                daily_limit: new.daily_limit,
            };
            let (_, public_id, secret) =
                insert_key(tx, cx.entropy, &mut Events::Logged(cx.actor), &row)?;
            let record = written_key(tx, &workspace, &public_id)?;
            hand_over(IssuedKey { record, secret }, false, deliver)
        })
    }

    /// The workspace's default key, for `environment` (Production unless chosen otherwise).
    pub fn create_default_key(
        &mut self,
        workspace: &str,
        environment: Environment,
    ) -> Result<IssuedKey> {
        self.create_key(workspace, NewKey::default_key(environment))
    }

    /// Gives key `id` a new secret. The old secret stops at once or, with a grace period,
    /// when that period ends.
    pub fn rotate_key(&mut self, workspace: &str, id: &str, grace: Grace) -> Result<IssuedKey> {
        self.rotate(workspace, id, None, grace, |_| Ok(()))
    }

    /// Rotates `seen`, the key as the admin saw it when deciding to rotate it, and hands the
    /// new key to `deliver` before the change commits (see [`create_key_and`]). Fails with
    /// [`Error::RotatedMeanwhile`] if its secret changed since: the secret that rotation
    /// printed must not be killed by a rotation its admin never saw.
    ///
    /// [`create_key_and`]: Store::create_key_and
    pub fn rotate_key_as_seen(
        &mut self,
        workspace: &str,
        seen: &KeyRecord,
        grace: Grace,
        deliver: impl FnOnce(&IssuedKey) -> std::io::Result<()>,
    ) -> Result<IssuedKey> {
        self.rotate(workspace, &seen.id, Some(&seen.masked_key), grace, deliver)
    }

    fn rotate(
        &mut self,
        workspace: &str,
        id: &str,
        seen_masked_key: Option<&str>,
        grace: Grace,
        deliver: impl FnOnce(&IssuedKey) -> std::io::Result<()>,
    ) -> Result<IssuedKey> {
        let workspace = validate_name(workspace, "workspace")?;
        self.write(|tx, cx| {
            let key = unrevoked_key(tx, &workspace, id)?;
            if key.expires_at.is_some_and(|at| at <= cx.now) {
                return Err(Error::KeyExpired { id: id.to_owned() }.into());
            }
            if seen_masked_key.is_some_and(|seen| seen != key.masked_key) {
                return Err(Error::RotatedMeanwhile { id: id.to_owned() }.into());
            }
            let target = RotationTarget {
                key_id: key.row_id,
                public_id: id,
                name: &key.name,
                environment: key.environment,
            };
            let secret = replace_secret(
                tx,
                cx.entropy,
                &mut Events::Logged(cx.actor),
                &target,
                cx.now,
                grace,
            )?;
            let record = written_key(tx, &workspace, id)?;
            hand_over(IssuedKey { record, secret }, true, deliver)
        })
    }

    /// Revokes key `id` and every secret it has, at once and for good.
    pub fn revoke_key(&mut self, workspace: &str, id: &str) -> Result<KeyRecord> {
        self.revoke_key_unless(workspace, id, || false)
    }

    /// [`revoke_key`](Store::revoke_key), unless `withdrawn` says, once the write lock is
    /// held, that the caller no longer wants it: then nothing changes and the answer is
    /// [`Error::Withdrawn`]. For a caller that gave up waiting for another process's lock.
    pub fn revoke_key_unless(
        &mut self,
        workspace: &str,
        id: &str,
        withdrawn: impl FnOnce() -> bool,
    ) -> Result<KeyRecord> {
        let workspace = validate_name(workspace, "workspace")?;
        self.write(|tx, cx| {
            let key = unrevoked_key(tx, &workspace, id)?;
            if withdrawn() {
                return Err(Error::Withdrawn.into());
            }
            mark_revoked(tx, key.row_id, cx.now, &mut Events::Logged(cx.actor))?;
            written_key(tx, &workspace, id)
        })
    }

    /// Sets (`Some`) or clears (`None`) key `id`'s daily limit, audited as `limit_changed`
    /// when it changes. A revoked key keeps the limit it had.
    pub fn set_daily_limit(
        &mut self,
        workspace: &str,
        id: &str,
        limit: Option<u64>,
    ) -> Result<KeyRecord> {
        self.set_daily_limit_unless(workspace, id, limit, || false)
    }

    /// [`set_daily_limit`](Store::set_daily_limit), unless `withdrawn` (asked under the
    /// write lock) says the change is no longer wanted: then [`Error::Withdrawn`].
    pub fn set_daily_limit_unless(
        &mut self,
        workspace: &str,
        id: &str,
        limit: Option<u64>,
        withdrawn: impl FnOnce() -> bool,
    ) -> Result<KeyRecord> {
        let workspace = validate_name(workspace, "workspace")?;
        check_daily_limit(limit)?;
        self.write(|tx, cx| {
            let key = unrevoked_key(tx, &workspace, id)?;
            if withdrawn() {
                return Err(Error::Withdrawn.into());
            }
            if key.daily_limit == limit {
                return written_key(tx, &workspace, id);
            }
            tx.execute(
                "UPDATE keys SET daily_limit = ?1 WHERE id = ?2",
                args![limit.map(|n| n as i64), key.row_id],
            )?;
            let detail = match limit {
                Some(n) => format!("{n} uses a day"),
                None => "no limit".to_owned(),
            };
            record_event(
                tx,
                key.row_id,
                cx.now,
                AuditAction::LimitChanged,
                cx.actor,
                Some(&detail),
            )?;
            written_key(tx, &workspace, id)
        })
    }
}

/// A daily limit is 1 to [`MAX_DAILY_LIMIT`] uses, or none.
fn check_daily_limit(limit: Option<u64>) -> Result<()> {
    match limit {
        Some(n) if !(1..=MAX_DAILY_LIMIT).contains(&n) => Err(Error::InvalidDailyLimit),
        _ => Ok(()),
    }
}

/// The parts of a key that a rotation or revocation decides on, read inside the write
/// transaction so no other process can change them between the check and the write.
pub(super) struct KeyState {
    pub(super) row_id: i64,
    pub(super) name: String,
    environment: Environment,
    revoked_at: Option<i64>,
    expires_at: Option<i64>,
    pub(super) masked_key: String,
    daily_limit: Option<u64>,
}

fn key_state(tx: Db<'_>, workspace: &str, id: &str) -> Result<Option<KeyState>, Failure> {
    tx.query_row(
        "SELECT k.id, k.name, k.environment, k.revoked_at, k.expires_at, k.masked_key, \
         k.daily_limit FROM keys k JOIN workspaces w ON w.id = k.workspace_id \
         WHERE w.name = ?1 AND k.public_id = ?2",
        args![workspace, id],
        |row| {
            Ok(KeyState {
                row_id: row.i64(0)?,
                name: row.text(1)?,
                environment: row.parsed(2)?,
                revoked_at: row.opt_i64(3)?,
                expires_at: row.opt_i64(4)?,
                masked_key: row.text(5)?,
                daily_limit: row.opt_u64(6)?,
            })
        },
    )
}

/// Key `id` as a rotation or revocation finds it under the write lock: there, and not
/// revoked (a revocation is final).
pub(super) fn unrevoked_key(tx: Db<'_>, workspace: &str, id: &str) -> Result<KeyState, Failure> {
    let key = key_state(tx, workspace, id)?.ok_or_else(|| not_found(id, workspace))?;
    if key.revoked_at.is_some() {
        return Err(Error::KeyRevoked { id: id.to_owned() }.into());
    }
    Ok(key)
}

/// The key a change just wrote, read back inside its transaction.
pub(super) fn written_key(tx: Db<'_>, workspace: &str, id: &str) -> Result<KeyRecord, Failure> {
    Ok(fetch_key(tx, workspace, id)?.ok_or_else(|| not_found(id, workspace))?)
}

/// Hands a new key to `deliver` before its transaction commits: when that fails, the error
/// rolls the change back, because a key nobody saw must not be stored.
fn hand_over(
    issued: IssuedKey,
    rotation: bool,
    deliver: impl FnOnce(&IssuedKey) -> std::io::Result<()>,
) -> Result<IssuedKey, Failure> {
    deliver(&issued).map_err(|source| Error::NotDelivered { rotation, source })?;
    Ok(issued)
}
