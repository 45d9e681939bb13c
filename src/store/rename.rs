//! Renaming a key: audited as `renamed` with "OLD → NEW", the old name read under the write
//! lock so the event (and what the caller says) names the rename that really happened.

use super::Store;
use super::key_queries::search_text;
use super::key_writes::{record_event, unrevoked_key, written_key};
use super::records::{AuditAction, KeyRecord};
use super::sql::args;
use crate::error::{Error, Result};
use crate::text::validate_name;

/// What a rename did: the key as it is now, and the name it had just before (under the
/// write lock); the same as the key's name when nothing changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Renamed {
    pub key: KeyRecord,
    pub before: String,
}

impl Store {
    /// Renames key `id` to `new_name` (validated as a new key's name is), audited as
    /// `renamed` with the detail "OLD → NEW". The same name changes nothing and writes no
    /// event. A revoked key cannot be renamed; an expired one can (its history still reads
    /// by name).
    pub fn rename_key(&mut self, workspace: &str, id: &str, new_name: &str) -> Result<KeyRecord> {
        self.rename_key_unless(workspace, id, new_name, || false)
            .map(|renamed| renamed.key)
    }

    /// [`rename_key`](Store::rename_key), unless `withdrawn` (asked under the write lock)
    /// says the change is no longer wanted: then [`Error::Withdrawn`]. It answers the name it
    /// replaced, read under the lock: another admin's rename may have come between what the
    /// caller saw and this one, and "OLD → NEW" must say what really happened.
    pub fn rename_key_unless(
        &mut self,
        workspace: &str,
        id: &str,
        new_name: &str,
        withdrawn: impl FnOnce() -> bool,
    ) -> Result<Renamed> {
        let workspace = validate_name(workspace, "workspace")?;
        let name = validate_name(new_name, "key")?;
        self.write(|tx, cx| {
            let key = unrevoked_key(tx, &workspace, id)?;
            if withdrawn() {
                return Err(Error::Withdrawn.into());
            }
            if key.name == name {
                let key = written_key(tx, &workspace, id)?;
                return Ok(Renamed {
                    before: key.name.clone(),
                    key,
                });
            }
            tx.execute(
                "UPDATE keys SET name = ?1, search_text = ?2 WHERE id = ?3",
                args![
                    name.as_str(),
                    search_text(&name, &key.masked_key, id).as_str(),
                    key.row_id
                ],
            )?;
            let detail = format!("{} → {name}", key.name);
            record_event(
                tx,
                key.row_id,
                cx.now,
                AuditAction::Renamed,
                cx.actor,
                Some(&detail),
            )?;
            Ok(Renamed {
                key: written_key(tx, &workspace, id)?,
                before: key.name,
            })
        })
    }
}
