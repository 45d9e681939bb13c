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

/// One event of a workspace's audit log: the event and the key it is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedEvent {
    /// The event's place in the log: larger is newer. [`AuditQuery::before`] pages by it.
    pub seq: i64,
    pub event: AuditEvent,
    /// The key's public id and its name now (a rename's detail holds the old one).
    pub key_id: String,
    pub key_name: String,
}

/// Which events of a workspace's log to read, newest first.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AuditQuery {
    /// Only events recorded at or after this time.
    pub since: Option<chrono::DateTime<chrono::Utc>>,
    /// Only events older than the one with this [`LoggedEvent::seq`]: the next page.
    pub before: Option<i64>,
    /// At most this many events; a log can hold millions.
    pub limit: Option<usize>,
}

impl Store {
    /// The workspace's audit log, newest first, as `query` narrows it. The newest events are
    /// read first by the events' primary key, so a bounded page costs the same in a log of a
    /// thousand events as in one of a million.
    pub fn audit_log(&self, workspace: &str, query: &AuditQuery) -> Result<Vec<LoggedEvent>> {
        let since = query.since.map_or(i64::MIN, |at| at.timestamp());
        let before = query.before.unwrap_or(i64::MAX);
        let limit = query
            .limit
            .map_or(i64::MAX, |n| i64::try_from(n).unwrap_or(i64::MAX));
        self.db()
            .query_all(
                "SELECT e.id, e.at, e.action, e.actor, e.detail, k.public_id, k.name \
                 FROM audit_events e JOIN keys k ON k.id = e.key_id \
                 JOIN workspaces w ON w.id = k.workspace_id \
                 WHERE w.name = ?1 AND e.id < ?2 AND e.at >= ?3 \
                 ORDER BY e.id DESC LIMIT ?4",
                args![workspace, before, since, limit],
                |row| {
                    Ok(LoggedEvent {
                        seq: row.i64(0)?,
                        event: AuditEvent {
                            at: row.time(1)?,
                            action: row.parsed(2)?,
                            actor: row.text(3)?,
                            detail: row.opt_text(4)?,
                        },
                        key_id: row.text(5)?,
                        key_name: row.text(6)?,
                    })
                },
            )
            .at(self.site())
    }
}
