//! A workspace's audit log as people read it: the columns of one event, which `hivekeys log`
//! prints and the dashboard's audit log draws, and what `/` in the log matches against.
//! Written once, so the two can never say different things about the same event.

use crate::store::{AuditAction, LoggedEvent, fold_for_search, normalize_search};
use crate::text::printable;
use crate::timefmt::short;

/// Widest actor shown; longer ones end in `…`.
pub const ACTOR_CHARS: usize = 24;
/// Widest key name shown.
pub const KEY_NAME_CHARS: usize = 40;
/// The longest action's name ("limit_changed"), for aligned columns.
pub const ACTION_WIDTH: usize = 13;

/// One event's columns, each printable (names and details written by other programs are
/// escaped): time, actor, action, the key (name and id), and what the event's detail says —
/// a rotation's grace period, a rename's "OLD → NEW".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    pub time: String,
    pub actor: String,
    pub action: &'static str,
    pub key_name: String,
    pub key_id: String,
    pub detail: String,
}

impl LogLine {
    pub fn of(logged: &LoggedEvent) -> LogLine {
        LogLine {
            time: short(logged.event.at),
            actor: printable(&logged.event.actor, ACTOR_CHARS),
            action: logged.event.action.as_str(),
            key_name: printable(&logged.key_name, KEY_NAME_CHARS),
            key_id: printable(&logged.key_id, 32),
            detail: logged
                .event
                .detail
                .as_deref()
                .map(|d| printable(d, MAX_DETAIL_CHARS))
                .unwrap_or_default(),
        }
    }
}

/// A rename's "OLD → NEW" of two 64-character names whole, and no more of a detail another
/// program wrote.
const MAX_DETAIL_CHARS: usize = 2 * crate::text::MAX_NAME_CHARS + 3;

/// A search of the log, folded once: `/` matches the actor, the action, the key's name and
/// id and the detail, in any case, as the key search does.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogSearch {
    folded: String,
}

impl LogSearch {
    pub fn new(text: &str) -> LogSearch {
        LogSearch {
            folded: normalize_search(text),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.folded.is_empty()
    }

    pub fn matches(&self, logged: &LoggedEvent) -> bool {
        self.matches_folded(&searched_text(logged))
    }

    /// Whether an event whose [`searched_text`] is `folded` matches: the dashboard folds each
    /// event once when it loads, not at every keystroke.
    pub fn matches_folded(&self, folded: &str) -> bool {
        folded.contains(&self.folded)
    }
}

/// What `/` searches in an event, folded as a query is: actor, action, key name and id and
/// detail, apart (a unit separator between them), so a query never matches across two.
pub fn searched_text(logged: &LoggedEvent) -> String {
    let event = &logged.event;
    [
        event.actor.as_str(),
        action_words(event.action),
        logged.key_name.as_str(),
        logged.key_id.as_str(),
        event.detail.as_deref().unwrap_or(""),
    ]
    .map(fold_for_search)
    .join("\u{1f}")
}

/// The action as stored, and in words: "limit changed" finds `limit_changed` too.
fn action_words(action: AuditAction) -> &'static str {
    match action {
        AuditAction::LimitChanged => "limit_changed limit changed",
        other => other.as_str(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::AuditEvent;

    fn logged(action: AuditAction, detail: Option<&str>) -> LoggedEvent {
        LoggedEvent {
            seq: 7,
            event: AuditEvent {
                at: chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap(),
                action,
                actor: "Alice".into(),
                detail: detail.map(str::to_owned),
            },
            key_id: "key_0123abcd".into(),
            key_name: "Billing\u{1b}[31m".into(),
        }
    }

    #[test]
    fn a_line_is_printable_and_keeps_the_detail() {
        let line = LogLine::of(&logged(AuditAction::Renamed, Some("Old → New")));
        assert_eq!(line.action, "renamed");
        assert_eq!(line.detail, "Old → New");
        assert!(!line.key_name.contains('\u{1b}'), "{:?}", line.key_name);
        assert!(line.time.ends_with("UTC"), "{}", line.time);
    }

    #[test]
    fn search_matches_every_column_in_any_case() {
        let event = logged(AuditAction::LimitChanged, Some("none → 5000"));
        for query in [
            "alice",
            "LIMIT CHANGED",
            "limit_changed",
            "billing",
            "0123AB",
            "→ 50",
        ] {
            assert!(LogSearch::new(query).matches(&event), "{query}");
        }
        for query in ["bob", "rotated", "key_9"] {
            assert!(!LogSearch::new(query).matches(&event), "{query}");
        }
        assert!(LogSearch::new("").matches(&event));
    }
}
