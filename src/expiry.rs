//! When keys expire, as the admin console offers and shows it: the expiry picked when a key is
//! created, and the mark an active key carries in its last days ("expires in 3 days").
//!
//! One wording everywhere (the dashboard's Status column and detail view, `hivekeys list` and
//! `show`): whole days left, rounded down, so "expires in 1 day" means 24 to 48 hours and
//! anything under 24 hours is "expires today".

use chrono::{DateTime, TimeDelta, Utc};

use crate::environment::Status;
use crate::store::KeyRecord;

/// How close to its expiry an active key is marked.
pub const SOON: TimeDelta = TimeDelta::days(7);

/// A year as an expiry counts it: 365 days, whatever the calendar says (as `1y` on the
/// command line).
pub const YEAR: TimeDelta = TimeDelta::days(365);

/// The expiries the Add API Key dialog offers, in the order it shows them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ExpiryChoice {
    /// The key lasts until it is revoked; the default.
    #[default]
    Never,
    Days30,
    Days90,
    Year,
}

impl ExpiryChoice {
    pub const ALL: [ExpiryChoice; 4] = [
        ExpiryChoice::Never,
        ExpiryChoice::Days30,
        ExpiryChoice::Days90,
        ExpiryChoice::Year,
    ];

    pub fn label(self) -> &'static str {
        match self {
            ExpiryChoice::Never => "Never",
            ExpiryChoice::Days30 => "30 days",
            ExpiryChoice::Days90 => "90 days",
            ExpiryChoice::Year => "1 year",
        }
    }

    /// How long after its creation the key expires; `None` for never.
    pub fn lifetime(self) -> Option<TimeDelta> {
        match self {
            ExpiryChoice::Never => None,
            ExpiryChoice::Days30 => Some(TimeDelta::days(30)),
            ExpiryChoice::Days90 => Some(TimeDelta::days(90)),
            ExpiryChoice::Year => Some(YEAR),
        }
    }
}

/// The time an active `key` has left at `now`, when it expires within `window` of it; `None`
/// for a key without expiry, one that expires later, and a revoked or expired one.
pub fn left_within(key: &KeyRecord, now: DateTime<Utc>, window: TimeDelta) -> Option<TimeDelta> {
    if key.status_at(now) != Status::Active {
        return None;
    }
    let left = key.expires_at? - now;
    (left <= window).then_some(left)
}

/// "expires today", "expires in 1 day", "expires in 6 days": what an active key that expires
/// within [`SOON`] is marked with; `None` for every other key.
pub fn soon_note(key: &KeyRecord, now: DateTime<Utc>) -> Option<String> {
    left_within(key, now, SOON).map(note)
}

/// The note for a key with `left` to go (positive).
fn note(left: TimeDelta) -> String {
    match left.num_days() {
        0 => "expires today".to_owned(),
        1 => "expires in 1 day".to_owned(),
        days => format!("expires in {days} days"),
    }
}

/// A key's status as a person reads it, `label` being how the status is written there
/// ("Active", "active"): with "leaked" when a scan found a secret that still opens it, and
/// the note when it expires soon: "Active · leaked · expires in 3 days". In words, never by
/// colour alone.
pub fn status_text(key: &KeyRecord, now: DateTime<Utc>, label: &str) -> String {
    let mut text = label.to_owned();
    if key.is_leaked_at(now) {
        text.push_str(" · leaked");
    }
    if let Some(note) = soon_note(key, now) {
        text.push_str(" · ");
        text.push_str(&note);
    }
    text
}

/// Whole days an active key has left, rounded down, for scripts (`expires_in_days`); `None`
/// without expiry or once the key is not active.
pub fn days_left(key: &KeyRecord, now: DateTime<Utc>) -> Option<i64> {
    left_within(key, now, TimeDelta::MAX).map(|left| left.num_days())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::environment::Environment;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0).unwrap()
    }

    fn expiring_in(left: TimeDelta) -> KeyRecord {
        KeyRecord {
            expires_at: Some(now() + left),
            ..KeyRecord::example("k1", "Billing", Environment::Production, now())
        }
    }

    #[test]
    fn the_note_counts_whole_days_left_and_says_today_under_a_day() {
        let cases = [
            (TimeDelta::seconds(1), Some("expires today")),
            (
                TimeDelta::hours(23) + TimeDelta::minutes(59),
                Some("expires today"),
            ),
            (TimeDelta::hours(24), Some("expires in 1 day")),
            (TimeDelta::hours(47), Some("expires in 1 day")),
            (TimeDelta::hours(48), Some("expires in 2 days")),
            (
                TimeDelta::days(3) + TimeDelta::hours(5),
                Some("expires in 3 days"),
            ),
            (TimeDelta::days(7), Some("expires in 7 days")),
            (TimeDelta::days(7) + TimeDelta::seconds(1), None),
            (TimeDelta::days(30), None),
            (TimeDelta::zero(), None),
            (TimeDelta::hours(-1), None),
        ];
        for (left, expected) in cases {
            let key = expiring_in(left);
            assert_eq!(soon_note(&key, now()).as_deref(), expected, "{left}");
        }
    }

    #[test]
    fn only_active_keys_are_marked() {
        let mut key = expiring_in(TimeDelta::days(2));
        assert_eq!(
            status_text(&key, now(), "Active"),
            "Active · expires in 2 days"
        );
        assert_eq!(days_left(&key, now()), Some(2));
        key.revoked_at = Some(now());
        assert_eq!(status_text(&key, now(), "Revoked"), "Revoked");
        assert_eq!(days_left(&key, now()), None);
        let never = KeyRecord::example("k2", "Forever", Environment::Staging, now());
        assert_eq!(status_text(&never, now(), "active"), "active");
        assert_eq!(days_left(&never, now()), None);
        assert_eq!(
            days_left(&expiring_in(TimeDelta::days(400)), now()),
            Some(400)
        );
    }

    #[test]
    fn the_choices_are_never_then_30_and_90_days_then_a_year() {
        let lifetimes: Vec<_> = ExpiryChoice::ALL.iter().map(|c| c.lifetime()).collect();
        assert_eq!(
            lifetimes,
            [
                None,
                Some(TimeDelta::days(30)),
                Some(TimeDelta::days(90)),
                Some(TimeDelta::days(365))
            ]
        );
        assert_eq!(ExpiryChoice::default(), ExpiryChoice::Never);
        let labels: Vec<_> = ExpiryChoice::ALL.iter().map(|c| c.label()).collect();
        assert_eq!(labels, ["Never", "30 days", "90 days", "1 year"]);
    }
}
