//! Revoking several keys at once (the dashboard's marked rows, `hivekeys revoke A B C`): one
//! transaction, so either every key that can be revoked is, or — when one of them is not in
//! the workspace at all — none is. A key someone else revoked meanwhile is no reason to stop:
//! it is reported beside the ones revoked, since what the admin wanted is true of it too.

use super::Store;
use super::event_sink::Events;
use super::failure::Failure;
use super::key_queries::{fetch_key, not_found};
use super::key_writes::mark_revoked;
use super::records::KeyRecord;
use super::sql::{Db, args};
use crate::error::{Error, Result};
use crate::text::validate_name;

/// What one bulk revocation did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BulkRevoked {
    /// The keys this revocation revoked, as they are now, in the order asked for.
    pub revoked: Vec<KeyRecord>,
    /// The keys that were revoked already (by someone else, meanwhile), as they are: left
    /// untouched, and no audit event written for them.
    pub already_revoked: Vec<KeyRecord>,
}

impl BulkRevoked {
    /// "4 keys revoked; 1 was already revoked": how the dashboard and the CLI sum it up.
    pub fn summary(&self) -> String {
        let revoked = match self.revoked.len() {
            1 => "1 key revoked".to_owned(),
            n => format!("{n} keys revoked"),
        };
        match self.already_revoked.len() {
            0 => revoked,
            1 => format!("{revoked}; 1 was already revoked"),
            n => format!("{revoked}; {n} were already revoked"),
        }
    }
}

impl Store {
    /// Revokes the keys `ids` (each id once, whatever the repeats) in one transaction, with
    /// one `revoked` audit event per key. Fails, changing nothing, when one is not a key of
    /// the workspace; keys revoked already are reported in [`BulkRevoked::already_revoked`].
    pub fn revoke_keys(&mut self, workspace: &str, ids: &[&str]) -> Result<BulkRevoked> {
        self.revoke_keys_unless(workspace, ids, || false)
    }

    /// [`revoke_keys`](Store::revoke_keys), unless `withdrawn` says, once the write lock is
    /// held, that the caller no longer wants it: then nothing changes and the answer is
    /// [`Error::Withdrawn`].
    pub fn revoke_keys_unless(
        &mut self,
        workspace: &str,
        ids: &[&str],
        withdrawn: impl FnOnce() -> bool,
    ) -> Result<BulkRevoked> {
        let workspace = validate_name(workspace, "workspace")?;
        let mut unique: Vec<&str> = Vec::with_capacity(ids.len());
        for id in ids {
            if !unique.contains(id) {
                unique.push(id);
            }
        }
        self.write(|tx, cx| {
            // Every key is looked at before any is changed: a missing one stops the whole
            // revocation before it writes (the transaction would roll it back anyway).
            let mut found = Vec::with_capacity(unique.len());
            for id in &unique {
                let state = revocation_state(tx, &workspace, id)?
                    .ok_or_else(|| not_found(id, &workspace))?;
                found.push((*id, state));
            }
            if withdrawn() {
                return Err(Error::Withdrawn.into());
            }
            let mut done = BulkRevoked {
                revoked: Vec::new(),
                already_revoked: Vec::new(),
            };
            for (id, (row_id, revoked_at)) in found {
                if revoked_at.is_none() {
                    mark_revoked(tx, row_id, cx.now, &mut Events::Logged(cx.actor))?;
                }
                let record =
                    fetch_key(tx, &workspace, id)?.ok_or_else(|| not_found(id, &workspace))?;
                match revoked_at {
                    None => done.revoked.push(record),
                    Some(_) => done.already_revoked.push(record),
                }
            }
            Ok(done)
        })
    }
}

/// Key `id`'s row id and revocation time, read under the write lock.
fn revocation_state(
    tx: Db<'_>,
    workspace: &str,
    id: &str,
) -> Result<Option<(i64, Option<i64>)>, Failure> {
    tx.query_row(
        "SELECT k.id, k.revoked_at FROM keys k JOIN workspaces w ON w.id = k.workspace_id \
         WHERE w.name = ?1 AND k.public_id = ?2",
        args![workspace, id],
        |row| Ok((row.i64(0)?, row.opt_i64(1)?)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Environment;
    use chrono::DateTime;

    fn record(id: &str) -> KeyRecord {
        KeyRecord::example(id, "K", Environment::Staging, DateTime::UNIX_EPOCH)
    }

    #[test]
    fn the_summary_counts_both_kinds() {
        let done = |revoked: usize, already: usize| BulkRevoked {
            revoked: (0..revoked).map(|i| record(&format!("key_{i}"))).collect(),
            already_revoked: (0..already).map(|i| record(&format!("key_a{i}"))).collect(),
        };
        assert_eq!(done(1, 0).summary(), "1 key revoked");
        assert_eq!(
            done(4, 1).summary(),
            "4 keys revoked; 1 was already revoked"
        );
        assert_eq!(
            done(0, 2).summary(),
            "0 keys revoked; 2 were already revoked"
        );
    }
}
