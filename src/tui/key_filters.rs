//! Which rows pass the environment, status and usage filters, worked out a column at a time:
//! each filter set reads only the columns it needs (the flags' byte a key, or eight bytes of
//! times), in row order, without a branch per row, into one bit per row.

use super::key_rows::{ENVIRONMENT_BITS, EXPIRES, KeyRows, REVOKED};
use super::key_search::Matches;
use crate::environment::{Environment, Status};
use crate::usage_filter::UsageFilter;

/// The filters as they stand.
#[derive(Debug, Clone, Copy)]
pub struct Filters {
    pub environment: Option<Environment>,
    pub status: Option<Status>,
    pub usage: UsageFilter,
    /// Now, and the usage filter's cutoff ([`UsageFilter::cutoff`]), in seconds.
    pub now: i64,
    pub cutoff: i64,
}

/// ANDs into `words` whether each row passes `test` of its column value.
fn keep<T: Copy>(words: &mut [u64], column: &[T], test: impl Fn(usize, T) -> bool) {
    for (w, word) in words.iter_mut().enumerate() {
        let rows = w * 64..(w * 64 + 64).min(column.len());
        let start = rows.start;
        let passing = column[rows]
            .iter()
            .enumerate()
            .fold(0u64, |acc, (bit, &v)| {
                acc | u64::from(test(start + bit, v)) << bit
            });
        *word &= passing;
    }
}

/// The rows of `rows` that pass `filters`.
pub fn passing(rows: &KeyRows, filters: &Filters) -> Matches {
    let (flags, expires, last_used) = rows.filter_columns();
    let mut words = vec![u64::MAX; rows.len().div_ceil(64)];
    if let Some(environment) = filters.environment {
        let wanted = Environment::ALL
            .iter()
            .position(|e| *e == environment)
            .unwrap_or(0) as u8;
        keep(&mut words, flags, |_, f| f & ENVIRONMENT_BITS == wanted);
    }
    if let Some(status) = filters.status {
        let now = filters.now;
        // As `KeyRows::status_at`: revoked first, then expired, else active.
        keep(&mut words, flags, |i, f| {
            let revoked = f & REVOKED != 0;
            let expired = !revoked & (f & EXPIRES != 0) & (expires[i] <= now);
            match status {
                Status::Revoked => revoked,
                Status::Expired => expired,
                Status::Active => !revoked & !expired,
            }
        });
    }
    // Each usage filter is a range of last-use seconds (never used: `i64::MIN`).
    let cutoff = filters.cutoff;
    let range = match filters.usage {
        UsageFilter::All => None,
        UsageFilter::UsedRecently => Some((cutoff.saturating_add(1), i64::MAX)),
        UsageFilter::Unused => Some((i64::MIN, cutoff)),
        UsageFilter::NeverUsed => Some((i64::MIN, i64::MIN)),
    };
    if let Some((low, high)) = range {
        keep(&mut words, last_used, |_, at| (low <= at) & (at <= high));
    }
    // Bits past the last row stay clear.
    if let Some(last) = words.last_mut()
        && !rows.len().is_multiple_of(64)
    {
        *last &= (1 << (rows.len() % 64)) - 1;
    }
    Matches::from_words(words)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::KeyRecord;
    use chrono::{TimeDelta, TimeZone, Utc};

    /// Every combination of the filters, over 130 keys of every environment, status and use
    /// (three words of 64, the last one partial): the rows passing are those whose record
    /// passes each filter.
    #[test]
    fn passes_what_each_record_passes() {
        let now = Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0).unwrap();
        let keys: Vec<KeyRecord> = (0..130)
            .map(|i| {
                let environment = Environment::ALL[i % 3];
                let mut k = KeyRecord::example(&format!("key_{i}"), "k", environment, now);
                k.revoked_at = (i % 4 == 0).then_some(now);
                k.expires_at = (i % 5 < 2).then(|| now + TimeDelta::hours(i as i64 % 3 - 1));
                k.last_used_at = (i % 7 != 0).then(|| now - TimeDelta::days(i as i64 % 50));
                k
            })
            .collect();
        let rows: KeyRows = keys.iter().cloned().collect();
        let mut environments = vec![None];
        environments.extend(Environment::ALL.map(Some));
        let mut statuses = vec![None];
        statuses.extend(Status::ALL.map(Some));
        for environment in &environments {
            for status in &statuses {
                for usage in UsageFilter::ALL {
                    let filters = Filters {
                        environment: *environment,
                        status: *status,
                        usage,
                        now: now.timestamp(),
                        cutoff: UsageFilter::cutoff(now),
                    };
                    let expected: Vec<usize> = (0..keys.len())
                        .filter(|&i| {
                            let k = &keys[i];
                            environment.is_none_or(|e| k.environment == e)
                                && status.is_none_or(|s| k.status_at(now) == s)
                                && usage.passes(k.last_used_at, now)
                        })
                        .collect();
                    let found: Vec<usize> = passing(&rows, &filters).iter().collect();
                    assert_eq!(found, expected, "{filters:?}");
                }
            }
        }
    }
}
