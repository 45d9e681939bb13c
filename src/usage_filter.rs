//! Which keys are in use, as the admin console asks it ("which keys are unused and can go?"):
//! the dashboard's usage filter (`u`) and `hivekeys list --unused-for`.
//!
//! A key's last use alone decides; its creation time plays no part. "Used in 30 days" means a
//! verification in the last 30 days, so a key created yesterday and never used is not "used":
//! it is "never used", and counts among "unused 30+ days" too (the product's "never-used
//! included"). The Used and Unused choices thus split every key into two, and Never used is
//! part of Unused. A last use exactly 30 days ago is "unused 30+ days".

use chrono::{DateTime, TimeDelta, Utc};

/// The window the dashboard's usage filter looks back over.
pub const WINDOW: TimeDelta = TimeDelta::days(30);

/// The usage filter's values, in the order `u` cycles through them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UsageFilter {
    #[default]
    All,
    /// Last used less than [`WINDOW`] ago.
    UsedRecently,
    /// Not used for [`WINDOW`] or more, never-used keys included.
    Unused,
    /// Never used at all.
    NeverUsed,
}

impl UsageFilter {
    pub const ALL: [UsageFilter; 4] = [
        UsageFilter::All,
        UsageFilter::UsedRecently,
        UsageFilter::Unused,
        UsageFilter::NeverUsed,
    ];

    /// How the filter's chip names it; `None` for All.
    pub fn label(self) -> Option<&'static str> {
        match self {
            UsageFilter::All => None,
            UsageFilter::UsedRecently => Some("Used in 30 days"),
            UsageFilter::Unused => Some("Unused 30+ days"),
            UsageFilter::NeverUsed => Some("Never used"),
        }
    }

    /// The chip's shortest form, for narrow screens; `None` for All.
    pub fn code(self) -> Option<&'static str> {
        match self {
            UsageFilter::All => None,
            UsageFilter::UsedRecently => Some("used <30d"),
            UsageFilter::Unused => Some("unused 30d+"),
            UsageFilter::NeverUsed => Some("never used"),
        }
    }

    /// Whether the keys passing change as time passes, with no use: those that look at the
    /// window do, Never used does not.
    pub fn moves_with_time(self) -> bool {
        matches!(self, UsageFilter::UsedRecently | UsageFilter::Unused)
    }

    /// Whether a key last used at `last_used_at` (`None`: never) passes at `now`.
    pub fn passes(self, last_used_at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
        match self {
            UsageFilter::All => true,
            UsageFilter::UsedRecently => !unused_for(last_used_at, now, WINDOW),
            UsageFilter::Unused => unused_for(last_used_at, now, WINDOW),
            UsageFilter::NeverUsed => last_used_at.is_none(),
        }
    }
}

/// [`UsageFilter::passes`] for a key held as whole seconds, `last_used` being `i64::MIN` for
/// never: the same answer without building a time per key (the dashboard asks it of a
/// million rows per keystroke). `cutoff` is [`UsageFilter::cutoff`] of `now`.
impl UsageFilter {
    pub fn cutoff(now: DateTime<Utc>) -> i64 {
        // Times held are whole seconds: at <= now - WINDOW exactly when its seconds are at
        // most that instant's (rounded down).
        (now - WINDOW).timestamp()
    }

    pub fn passes_secs(self, last_used: i64, cutoff: i64) -> bool {
        match self {
            UsageFilter::All => true,
            UsageFilter::UsedRecently => last_used > cutoff,
            UsageFilter::Unused => last_used <= cutoff,
            UsageFilter::NeverUsed => last_used == i64::MIN,
        }
    }
}

/// Whether a key last used at `last_used_at` has gone unused for `period` at `now`: never
/// used, or last used `period` or longer ago. The store's `--unused-for` query is the same
/// test in SQL (`last_used_at IS NULL OR last_used_at <= now - period`).
pub fn unused_for(
    last_used_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    period: TimeDelta,
) -> bool {
    last_used_at.is_none_or(|at| at <= now - period)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0).unwrap()
    }

    #[test]
    fn used_and_unused_split_every_key_and_never_used_is_part_of_unused() {
        let ago = |d: TimeDelta| Some(now() - d);
        // (last used, used in 30 days, unused 30+ days, never used)
        let cases = [
            (None, false, true, true),
            (ago(TimeDelta::zero()), true, false, false),
            (ago(TimeDelta::days(29)), true, false, false),
            (
                ago(TimeDelta::days(30) - TimeDelta::seconds(1)),
                true,
                false,
                false,
            ),
            (ago(TimeDelta::days(30)), false, true, false),
            (ago(TimeDelta::days(400)), false, true, false),
            // A clock behind another process's: a use "in the future" is a recent one.
            (Some(now() + TimeDelta::minutes(5)), true, false, false),
        ];
        for (last_used, used, unused, never) in cases {
            let secs = last_used.map_or(i64::MIN, |at| at.timestamp());
            for filter in UsageFilter::ALL {
                // A moment later than the whole second, too: `now` carries nanoseconds.
                for now in [now(), now() + TimeDelta::milliseconds(500)] {
                    assert_eq!(
                        filter.passes_secs(secs, UsageFilter::cutoff(now)),
                        filter.passes(last_used, now),
                        "{filter:?} {last_used:?} at {now}"
                    );
                }
            }
            let passes = |f: UsageFilter| f.passes(last_used, now());
            assert!(passes(UsageFilter::All));
            assert_eq!(
                (
                    passes(UsageFilter::UsedRecently),
                    passes(UsageFilter::Unused),
                    passes(UsageFilter::NeverUsed)
                ),
                (used, unused, never),
                "{last_used:?}"
            );
        }
    }

    #[test]
    fn unused_for_takes_any_period() {
        let last = Some(now() - TimeDelta::days(10));
        assert!(unused_for(last, now(), TimeDelta::days(7)));
        assert!(unused_for(last, now(), TimeDelta::days(10)));
        assert!(!unused_for(last, now(), TimeDelta::days(11)));
        assert!(unused_for(None, now(), TimeDelta::days(36_500)));
    }
}
