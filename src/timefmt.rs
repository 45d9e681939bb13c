//! How times are written: RFC 3339 for machines, "3 minutes ago" for people.

use chrono::{DateTime, SecondsFormat, Utc};

/// `2026-11-26T05:33:11Z`.
pub fn rfc3339(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// `2026-11-26 05:33 UTC`.
pub fn short(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// `2026-11-26 05:33 UTC (3 days ago)`, or `—` for a time that never happened.
pub fn short_and_relative(at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> String {
    match at {
        Some(at) => format!("{} ({})", short(at), relative(Some(at), now)),
        None => "—".to_owned(),
    }
}

/// "Never", "just now", "12 seconds ago", "3 minutes ago", "1 day ago", or "in 2 hours" for
/// a time still to come.
pub fn relative(at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> String {
    let Some(at) = at else {
        return "Never".to_owned();
    };
    let seconds = (now - at).num_seconds();
    let (magnitude, future) = (seconds.unsigned_abs(), seconds < 0);
    if magnitude < 5 {
        return "just now".to_owned();
    }
    let (count, unit) = match magnitude {
        0..60 => (magnitude, "second"),
        60..3_600 => (magnitude / 60, "minute"),
        3_600..86_400 => (magnitude / 3_600, "hour"),
        86_400..2_592_000 => (magnitude / 86_400, "day"),
        2_592_000..31_536_000 => (magnitude / 2_592_000, "month"),
        _ => (magnitude / 31_536_000, "year"),
    };
    let plural = if count == 1 { "" } else { "s" };
    if future {
        format!("in {count} {unit}{plural}")
    } else {
        format!("{count} {unit}{plural} ago")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeDelta;

    #[test]
    fn relative_times_read_naturally() {
        let now = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let ago = |s: i64| relative(Some(now - TimeDelta::seconds(s)), now);
        assert_eq!(relative(None, now), "Never");
        assert_eq!(ago(0), "just now");
        assert_eq!(ago(12), "12 seconds ago");
        assert_eq!(ago(60), "1 minute ago");
        assert_eq!(ago(3 * 60 + 59), "3 minutes ago");
        assert_eq!(ago(2 * 3_600), "2 hours ago");
        assert_eq!(ago(86_400), "1 day ago");
        assert_eq!(ago(3 * 86_400), "3 days ago");
        assert_eq!(ago(65 * 86_400), "2 months ago");
        assert_eq!(ago(800 * 86_400), "2 years ago");
        assert_eq!(ago(-7_200), "in 2 hours");
        assert_eq!(rfc3339(now), "2027-01-15T08:00:00Z");
    }
}
