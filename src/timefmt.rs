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

/// Seconds from `now` to the next 00:00 UTC, when daily limits start again (1 to 86,400).
pub fn seconds_to_reset(now: DateTime<Utc>) -> u64 {
    86_400 - now.timestamp().rem_euclid(86_400) as u64
}

/// The next 00:00 UTC after `now`.
pub fn next_reset(now: DateTime<Utc>) -> DateTime<Utc> {
    now + chrono::TimeDelta::seconds(seconds_to_reset(now) as i64)
}

/// A key's standing against its daily limit, as the details show it: "Today 1,234 of 5,000 ·
/// resets in 5 h", or "None · 1,234 uses today".
pub fn allowance(daily_limit: Option<u64>, used_today: u64, now: DateTime<Utc>) -> String {
    let used = crate::text::group_digits(used_today);
    let Some(limit) = daily_limit else {
        let plural = if used_today == 1 { "" } else { "s" };
        return format!("None · {used} use{plural} today");
    };
    let seconds = seconds_to_reset(now);
    let reset = match seconds {
        0..3_600 => format!("{} min", seconds.div_ceil(60)),
        _ => format!("{} h", seconds / 3_600),
    };
    format!(
        "Today {used} of {} · resets in {reset}",
        crate::text::group_digits(limit)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeDelta;

    #[test]
    fn limits_reset_at_midnight_utc() {
        let midnight = DateTime::from_timestamp(1_800_057_600, 0).unwrap(); // 00:00 UTC
        assert_eq!(midnight.timestamp() % 86_400, 0);
        assert_eq!(seconds_to_reset(midnight), 86_400);
        let late = midnight - TimeDelta::seconds(1);
        assert_eq!(seconds_to_reset(late), 1);
        assert_eq!(next_reset(late), midnight);
        let five_h = midnight - TimeDelta::hours(5) - TimeDelta::minutes(20);
        assert_eq!(
            allowance(Some(5_000), 1_234, five_h),
            "Today 1,234 of 5,000 · resets in 5 h"
        );
        assert_eq!(
            allowance(Some(10), 10, late),
            "Today 10 of 10 · resets in 1 min"
        );
        assert_eq!(allowance(None, 1, late), "None · 1 use today");
    }

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
