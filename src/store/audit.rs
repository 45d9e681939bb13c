//! Reading the audit trail. Events are written by the operations themselves, inside their
//! transactions, so a change and its record never part.

use super::Store;
use super::failure::AtSite;
use super::records::AuditEvent;
use super::sql::args;
use crate::error::Result;

impl Store {
    /// Every change made to key `id`, oldest first.
    pub fn audit_trail(&self, workspace: &str, id: &str) -> Result<Vec<AuditEvent>> {
        self.db()
            .query_all(
                "SELECT e.at, e.action, e.actor, e.detail FROM audit_events e \
                 JOIN keys k ON k.id = e.key_id JOIN workspaces w ON w.id = k.workspace_id \
                 WHERE w.name = ?1 AND k.public_id = ?2 ORDER BY e.id",
                args![workspace, id],
                |row| {
                    Ok(AuditEvent {
                        at: row.time(0)?,
                        action: row.parsed(1)?,
                        actor: row.text(2)?,
                        detail: row.opt_text(3)?,
                    })
                },
            )
            .at(self.site())
    }
}
