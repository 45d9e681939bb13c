//! Where a key change's audit events go. Real changes log each event as it happens, so the
//! log's order (by row id) is time order. The demo back-dates a whole history key by key;
//! it holds its events back and logs them at the end, sorted by time, so that the log it
//! leaves reads newest first like a real one.

use super::failure::Failure;
use super::key_writes::record_event;
use super::records::AuditAction;
use super::sql::{Arg, Db};

/// The destination of the events that [`insert_key`](super::key_writes::insert_key) and
/// its siblings write.
pub(super) enum Events<'a> {
    /// Into the log at once, as done by this actor.
    Logged(&'a str),
    /// Kept for [`log_in_time_order`].
    Held(&'a mut Vec<HeldEvent>),
}

/// An audit event not yet in the log.
pub(super) struct HeldEvent {
    key_id: i64,
    at: i64,
    action: AuditAction,
    detail: Option<String>,
}

impl Events<'_> {
    pub(super) fn record(
        &mut self,
        tx: Db<'_>,
        key_id: i64,
        at: i64,
        action: AuditAction,
        detail: Option<String>,
    ) -> Result<(), Failure> {
        match self {
            Events::Logged(actor) => record_event(tx, key_id, at, action, actor, detail.as_deref()),
            Events::Held(held) => {
                held.push(HeldEvent {
                    key_id,
                    at,
                    action,
                    detail,
                });
                Ok(())
            }
        }
    }
}

/// Rows per INSERT: one statement per row was most of a big demo's time on PostgreSQL; 4
/// arguments a row stays far below either backend's limit on arguments.
const ROWS_PER_INSERT: usize = 500;

/// Logs `held` as done by `actor`, oldest first. The sort is stable: events of the same
/// second keep the order they were recorded in (a key's `created` before its `rotated`).
pub(super) fn log_in_time_order(
    tx: Db<'_>,
    actor: &str,
    mut held: Vec<HeldEvent>,
) -> Result<(), Failure> {
    held.sort_by_key(|event| event.at);
    for chunk in held.chunks(ROWS_PER_INSERT) {
        // ?1 is the actor, shared by every row.
        let rows: Vec<String> = (0..chunk.len())
            .map(|row| {
                let n = 4 * row + 2;
                format!("(?{n}, ?{}, ?{}, ?1, ?{})", n + 1, n + 2, n + 3)
            })
            .collect();
        let sql = format!(
            "INSERT INTO audit_events (key_id, at, action, actor, detail) VALUES {}",
            rows.join(", ")
        );
        let mut args = Vec::with_capacity(1 + 4 * chunk.len());
        args.push(Arg::from(actor));
        for event in chunk {
            args.extend([
                Arg::from(event.key_id),
                Arg::from(event.at),
                Arg::from(event.action.as_str()),
                Arg::from(event.detail.as_deref()),
            ]);
        }
        tx.execute(&sql, &args)?;
    }
    Ok(())
}
