//! Reading the audit trail. Events are written by the operations themselves, inside their
//! transactions, so a change and its record never part.

use rusqlite::params;

use super::Store;
use super::failure::AtSite;
use super::key_queries::timestamp;
use super::records::AuditEvent;
use crate::error::Result;

impl Store {
    /// Every change made to key `id`, oldest first.
    pub fn audit_trail(&self, workspace: &str, id: &str) -> Result<Vec<AuditEvent>> {
        self.conn
            .prepare_cached(
                "SELECT e.at, e.action, e.actor, e.detail FROM audit_events e \
                 JOIN keys k ON k.id = e.key_id JOIN workspaces w ON w.id = k.workspace_id \
                 WHERE w.name = ?1 AND k.public_id = ?2 ORDER BY e.id",
            )
            .and_then(|mut st| {
                st.query_map(params![workspace, id], |row| {
                    Ok(AuditEvent {
                        at: timestamp(row.get(0)?)?,
                        action: row.get(1)?,
                        actor: row.get(2)?,
                        detail: row.get(3)?,
                    })
                })?
                .collect()
            })
            .at(self.site())
    }
}
