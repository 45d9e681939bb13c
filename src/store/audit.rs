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

/// Keys a workspace may have for its log to be read key by key (through each key's events,
/// then sorted). Past it the log is read by walking every event newest first until a page is
/// full: at a million events, sorting the workspace's whole log for each page of 1,000 took
/// 14 s, the walk 3 ms; for a workspace of 10 keys in that store, the walk took 0.9 s and the
/// per-key read 0.3 ms. Counting up to this bound is itself bounded.
const PER_KEY_READ_MAX_KEYS: i64 = 10_000;

impl Store {
    /// The workspace's audit log, newest first, as `query` narrows it. A bounded page costs
    /// about the same in a log of a thousand events as in one of a million (see
    /// [`PER_KEY_READ_MAX_KEYS`]).
    pub fn audit_log(&self, workspace: &str, query: &AuditQuery) -> Result<Vec<LoggedEvent>> {
        let since = query.since.map_or(i64::MIN, |at| at.timestamp());
        let before = query.before.unwrap_or(i64::MAX);
        let limit = query
            .limit
            .map_or(i64::MAX, |n| i64::try_from(n).unwrap_or(i64::MAX));
        let db = self.db();
        let read = || -> Result<Vec<LoggedEvent>, super::failure::Failure> {
            let Some(workspace_id) = db.query_i64(
                "SELECT id FROM workspaces WHERE name = ?1",
                args![workspace],
            )?
            else {
                return Ok(Vec::new());
            };
            let keys = db
                .query_i64(
                    "SELECT count(*) FROM (SELECT 1 FROM keys WHERE workspace_id = ?1 LIMIT ?2) \
                     AS counted",
                    args![workspace_id, PER_KEY_READ_MAX_KEYS + 1],
                )?
                .unwrap_or(0);
            // Both read the same rows; only the way there differs. CROSS JOIN keeps SQLite
            // walking the events (by their primary key, newest first) rather than the keys.
            let from = match keys <= PER_KEY_READ_MAX_KEYS {
                true => "FROM keys k JOIN audit_events e ON e.key_id = k.id",
                false => "FROM audit_events e CROSS JOIN keys k",
            };
            let sql = format!(
                "SELECT e.id, e.at, e.action, e.actor, e.detail, k.public_id, k.name {from} \
                 WHERE k.id = e.key_id AND k.workspace_id = ?1 AND e.id < ?2 AND e.at >= ?3 \
                 ORDER BY e.id DESC LIMIT ?4"
            );
            db.query_all(&sql, args![workspace_id, before, since, limit], |row| {
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
            })
        };
        read().at(self.site())
    }
}
