//! A key's details as people read them: one list of labelled fields and one line per audit
//! event, which `hivekeys show` prints and the dashboard's detail view draws. Written once, so
//! the two can never say different things about the same key.

use chrono::{DateTime, Utc};

use crate::environment::Status;
use crate::store::{AuditEvent, KeyLeak, KeyRecord};
use crate::text::{group_digits, printable};
use crate::timefmt::{allowance, short, short_and_relative};

/// One labelled value of a key's details.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    pub label: &'static str,
    pub value: String,
    /// Set on the status field, which a screen colours by it.
    pub status: Option<Status>,
}

/// Width of the label column, "Environment" and "Daily limit" included.
pub const LABEL_WIDTH: usize = 12;

/// The fields of `key` at `now`, in the order they are shown; `uses_today` feeds the daily
/// limit line ("Today 1,234 of 5,000 · resets in 5 h"), `leaks` (where a scan saw a secret
/// that still opens the key, [`crate::Store::key_leaks`]) the "Leaked" line, shown only then.
pub fn fields(
    key: &KeyRecord,
    uses_today: u64,
    leaks: &[KeyLeak],
    now: DateTime<Utc>,
) -> Vec<Field> {
    let when = |at| short_and_relative(at, now);
    let status = key.status_at(now);
    let field = |label, value| Field {
        label,
        value,
        status: None,
    };
    let mut fields = vec![
        field("Id", printable(&key.id, 40)),
        field("Key", printable(&key.masked_key, 40)),
        field("Environment", key.environment.label().to_owned()),
        Field {
            status: Some(status),
            ..field(
                "Status",
                crate::expiry::status_text(key, now, status.label()),
            )
        },
        field(
            "Default",
            if key.is_default { "yes" } else { "no" }.to_owned(),
        ),
        field("Created", when(Some(key.created_at))),
        field("Rotated", when(key.rotated_at)),
        field("Revoked", when(key.revoked_at)),
        field("Expires", when(key.expires_at)),
        field("Last used", when(key.last_used_at)),
        field("Uses", group_digits(key.use_count)),
        field("Daily limit", allowance(key.daily_limit, uses_today, now)),
    ];
    if let Some(leaked) = leaked_in(leaks) {
        // Beside the status, which says "leaked" too.
        fields.insert(4, field("Leaked", leaked));
    }
    fields
}

/// "src/config.py:12 (found 2026-11-30)", and how many more places when there are more:
/// the first place a secret of the key was seen, `None` when none was.
pub fn leaked_in(leaks: &[KeyLeak]) -> Option<String> {
    let first = leaks.first()?;
    let more = match leaks.len() - 1 {
        0 => String::new(),
        1 => " and 1 more place".to_owned(),
        n => format!(" and {n} more places"),
    };
    Some(format!(
        "{} (found {}){more}",
        printable(&first.location, MAX_LOCATION_CHARS),
        first.found_at.format("%Y-%m-%d")
    ))
}

/// Longest location a "Leaked" line shows: most of a deep path, not a screenful.
const MAX_LOCATION_CHARS: usize = 200;

/// One audit event: "2026-11-26 05:33 UTC  rotated  by alice (previous secret stops in 24
/// hours)", "…  renamed  by alice (Billing → Payments)". Names and details written by other
/// programs are made printable.
pub fn event_line(event: &AuditEvent) -> String {
    let detail = event
        .detail
        .as_deref()
        .map(|d| format!(" ({})", printable(d, MAX_DETAIL_CHARS)))
        .unwrap_or_default();
    format!(
        "{}  {:<8} by {}{detail}",
        short(event.at),
        event.action.as_str(),
        printable(&event.actor, 40)
    )
}

/// Longest detail an event line shows: a rename's "OLD → NEW" of two 64-character names
/// whole, and no more of a detail another program wrote.
const MAX_DETAIL_CHARS: usize = 2 * crate::text::MAX_NAME_CHARS + 3;

/// What the live secrets section says when there is none.
pub const NO_LIVE_SECRET: &str = "none: no secret of this key verifies";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Environment;

    #[test]
    fn every_field_of_a_limited_key_reads_as_shown() {
        let now = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let key = KeyRecord {
            id: "key_0123abcd".into(),
            name: "Gateway".into(),
            environment: Environment::Staging,
            is_default: true,
            masked_key: "fhk_stg_abcd…wxyz".into(),
            created_at: now - chrono::TimeDelta::days(2),
            rotated_at: None,
            revoked_at: None,
            expires_at: None,
            last_used_at: Some(now - chrono::TimeDelta::minutes(3)),
            use_count: 1_234_567,
            daily_limit: Some(5_000),
            leak: None,
        };
        let fields = fields(&key, 1_234, &[], now);
        let value = |label: &str| {
            fields
                .iter()
                .find(|f| f.label == label)
                .map(|f| f.value.clone())
                .unwrap()
        };
        assert_eq!(value("Environment"), "Staging");
        assert_eq!(value("Default"), "yes");
        assert_eq!(value("Rotated"), "—");
        assert_eq!(value("Uses"), "1,234,567");
        assert!(value("Last used").ends_with("(3 minutes ago)"));
        assert!(value("Daily limit").starts_with("Today 1,234 of 5,000 · resets in "));
        let status = fields.iter().find(|f| f.label == "Status").unwrap();
        assert_eq!(status.status, Some(Status::Active));
        assert!(fields.iter().all(|f| f.label.len() < LABEL_WIDTH));
        assert!(fields.iter().all(|f| f.label != "Leaked"));
    }

    #[test]
    fn a_leaked_key_says_where_beside_its_status() {
        let now = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let key = KeyRecord {
            leak: Some(crate::store::LeakMark { until: None }),
            ..KeyRecord::example("key_1", "Gateway", Environment::Production, now)
        };
        let leak = |location: &str| KeyLeak {
            location: location.into(),
            found_at: now,
        };
        let one = fields(&key, 0, &[leak("src/config.py:12")], now);
        let labels: Vec<&str> = one.iter().map(|f| f.label).collect();
        assert_eq!(labels[3..5], ["Status", "Leaked"]);
        assert_eq!(one[3].value, "Active · leaked");
        assert_eq!(one[4].value, "src/config.py:12 (found 2027-01-15)");
        let three = [leak("a:1"), leak("b:2"), leak("c\x1b[2J:3")];
        assert_eq!(
            leaked_in(&three).unwrap(),
            "a:1 (found 2027-01-15) and 2 more places"
        );
        assert_eq!(
            leaked_in(&three[1..]).unwrap(),
            "b:2 (found 2027-01-15) and 1 more place"
        );
        // A place another program wrote cannot drive the terminal.
        assert!(!leaked_in(&three[2..]).unwrap().contains('\x1b'));
    }
}
