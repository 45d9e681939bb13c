//! The orders the key list can be shown in, shared by `hivekeys list --sort` and the
//! dashboard's `o`, so the two can never disagree about where a key goes.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use super::key_queries::fold_for_search;
use super::records::KeyRecord;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortBy {
    /// Newest first: the store's own order.
    #[default]
    Created,
    /// Most recently used first; keys never used last.
    LastUsed,
    /// A→Z, compared as search compares text ([`fold_for_search`]), so "api" and "API" sit
    /// together.
    Name,
    /// Most uses first.
    Uses,
}

impl SortBy {
    /// In the order the dashboard's `o` cycles through them.
    pub const ALL: [SortBy; 4] = [
        SortBy::Created,
        SortBy::LastUsed,
        SortBy::Name,
        SortBy::Uses,
    ];

    /// As `--sort` spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            SortBy::Created => "created",
            SortBy::LastUsed => "last-used",
            SortBy::Name => "name",
            SortBy::Uses => "uses",
        }
    }

    /// The table column this order sorts: its header carries the marker.
    pub fn column(self) -> &'static str {
        match self {
            SortBy::Created => "Created",
            SortBy::LastUsed => "Last used",
            SortBy::Name => "Name",
            SortBy::Uses => "Uses",
        }
    }

    /// Smallest first (names A→Z); every other order puts the largest (newest, most) first.
    pub fn ascending(self) -> bool {
        self == SortBy::Name
    }

    /// `▲` for an ascending order, `▼` for a descending one.
    pub fn marker(self) -> &'static str {
        match self.ascending() {
            true => "▲",
            false => "▼",
        }
    }

    /// Where `a` goes relative to `b`; each comes with its name folded by
    /// [`fold_for_search`], which callers hold already (the dashboard keeps it for search)
    /// rather than fold it again for every comparison. Ties go newest first; keys created in
    /// the same instant tie here, and a stable sort of the store's order (newest row first)
    /// settles them, so the result never depends on the sort's luck.
    pub fn compare(self, a: &KeyRecord, a_name: &str, b: &KeyRecord, b_name: &str) -> Ordering {
        let primary = match self {
            SortBy::Created => Ordering::Equal,
            // `None` (never used) is smaller than any time: descending puts it last.
            SortBy::LastUsed => b.last_used_at.cmp(&a.last_used_at),
            SortBy::Name => a_name.cmp(b_name),
            SortBy::Uses => b.use_count.cmp(&a.use_count),
        };
        primary.then_with(|| b.created_at.cmp(&a.created_at))
    }

    /// The positions of `keys` (in the store's order, newest first) in this order;
    /// `folded_name(i)` is key `i`'s name folded by [`fold_for_search`].
    pub fn order<'a>(
        self,
        keys: &[KeyRecord],
        folded_name: impl Fn(usize) -> &'a str,
    ) -> Vec<usize> {
        let mut order: Vec<usize> = (0..keys.len()).collect();
        // Stable sorts: ties keep the store's order.
        match self {
            SortBy::Created => {}
            SortBy::Name => {
                // Looked up once per key, not twice per comparison.
                let names: Vec<&str> = (0..keys.len()).map(folded_name).collect();
                order.sort_by(|&a, &b| self.compare(&keys[a], names[a], &keys[b], names[b]));
            }
            // These compare no names.
            SortBy::LastUsed | SortBy::Uses => {
                order.sort_by(|&a, &b| self.compare(&keys[a], "", &keys[b], ""));
            }
        }
        order
    }

    /// Puts `keys` (in the store's order, newest first) in this order.
    pub fn sort(self, keys: &mut Vec<KeyRecord>) {
        if self == SortBy::Created {
            return;
        }
        let names: Vec<String> = keys.iter().map(|k| fold_for_search(&k.name)).collect();
        let order = self.order(keys, |i| names[i].as_str());
        let mut taken: Vec<Option<KeyRecord>> =
            std::mem::take(keys).into_iter().map(Some).collect();
        *keys = order.into_iter().filter_map(|i| taken[i].take()).collect();
    }
}

impl fmt::Display for SortBy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown sort \"{0}\": use created, last-used, name or uses")]
pub struct UnknownSort(pub String);

impl FromStr for SortBy {
    type Err = UnknownSort;

    fn from_str(input: &str) -> Result<SortBy, UnknownSort> {
        SortBy::ALL
            .into_iter()
            .find(|s| s.as_str() == input.trim().to_ascii_lowercase())
            .ok_or_else(|| UnknownSort(input.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::environment::Environment;
    use chrono::{TimeDelta, TimeZone, Utc};

    fn key(
        id: &str,
        name: &str,
        age_minutes: i64,
        used_minutes_ago: Option<i64>,
        uses: u64,
    ) -> KeyRecord {
        let now = Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0).unwrap();
        KeyRecord {
            last_used_at: used_minutes_ago.map(|m| now - TimeDelta::minutes(m)),
            use_count: uses,
            ..KeyRecord::example(
                id,
                name,
                Environment::Staging,
                now - TimeDelta::minutes(age_minutes),
            )
        }
    }

    /// Newest first, as the store lists them; k3 and k4 were created in the same instant.
    fn keys() -> Vec<KeyRecord> {
        vec![
            key("k1", "beta", 1, None, 0),
            key("k2", "Alpha", 2, Some(30), 5),
            key("k3", "ÄLPHA", 3, Some(5), 5),
            key("k4", "alpha", 3, None, 9),
            key("k5", "gamma", 4, Some(1), 1),
        ]
    }

    fn ids(sort: SortBy) -> Vec<String> {
        let mut keys = keys();
        sort.sort(&mut keys);
        keys.into_iter().map(|k| k.id).collect()
    }

    #[test]
    fn each_order_with_ties_newest_first_then_the_store_order() {
        assert_eq!(ids(SortBy::Created), ["k1", "k2", "k3", "k4", "k5"]);
        assert_eq!(
            ids(SortBy::LastUsed),
            ["k5", "k3", "k2", "k1", "k4"],
            "never used last, newest first"
        );
        // "Alpha" and "alpha" fold alike: newest first among them; "älpha" folds to another word.
        assert_eq!(ids(SortBy::Name), ["k2", "k4", "k1", "k5", "k3"]);
        assert_eq!(ids(SortBy::Uses), ["k4", "k2", "k3", "k5", "k1"]);
    }

    #[test]
    fn parses_what_it_prints() {
        for sort in SortBy::ALL {
            assert_eq!(sort.as_str().parse::<SortBy>(), Ok(sort));
        }
        assert_eq!("Last-Used".parse::<SortBy>(), Ok(SortBy::LastUsed));
        assert!(
            "oldest"
                .parse::<SortBy>()
                .unwrap_err()
                .to_string()
                .contains("last-used")
        );
    }
}
