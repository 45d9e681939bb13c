//! The rows marked for a bulk revoke, by key id. They live beside the key list, not in it:
//! scrolling, filtering, sorting, searching and live refreshes reorder or hide rows, and a
//! mark must outlast all of that. Only a key that is gone from the store, or revoked by
//! someone else, loses its mark (see [`Marks::prune`]).

use std::collections::HashSet;

use chrono::{DateTime, Utc};

use crate::environment::Status;
use crate::store::KeyRecord;

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Marks {
    /// In the order marked: the confirmation names the first few as the admin marked them.
    order: Vec<String>,
    ids: HashSet<String>,
}

/// What [`Marks::prune`] dropped, for the notice.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Dropped {
    pub revoked: Vec<String>,
    pub gone: Vec<String>,
}

impl Dropped {
    pub fn is_empty(&self) -> bool {
        self.revoked.is_empty() && self.gone.is_empty()
    }

    /// "Unmarked 2 keys: key_3 revoked elsewhere; key_2 no longer in the store."
    pub fn notice(&self) -> String {
        let count = self.revoked.len() + self.gone.len();
        let mut parts = Vec::new();
        if !self.revoked.is_empty() {
            parts.push(format!("{} revoked elsewhere", few(&self.revoked, 3)));
        }
        if !self.gone.is_empty() {
            parts.push(format!("{} no longer in the store", few(&self.gone, 3)));
        }
        let keys = crate::text::count(count as u64, "key", "keys");
        format!("Unmarked {keys}: {}.", parts.join("; "))
    }
}

/// The first `shown` of `items`, then "and N more".
pub fn few(items: &[String], shown: usize) -> String {
    match items.len() {
        n if n <= shown => items.join(", "),
        n => format!("{} and {} more", items[..shown].join(", "), n - shown),
    }
}

impl Marks {
    pub fn len(&self) -> usize {
        self.order.len()
    }

    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    pub fn contains(&self, id: &str) -> bool {
        self.ids.contains(id)
    }

    /// The marked ids, in the order marked.
    pub fn ids(&self) -> &[String] {
        &self.order
    }

    /// Marks `id`, or unmarks it if it was; returns whether it is marked now.
    pub fn toggle(&mut self, id: &str) -> bool {
        if self.ids.remove(id) {
            self.order.retain(|marked| marked != id);
            false
        } else {
            self.ids.insert(id.to_owned());
            self.order.push(id.to_owned());
            true
        }
    }

    pub fn clear(&mut self) {
        self.order.clear();
        self.ids.clear();
    }

    /// Unmarks `ids` (keys a bulk revoke just dealt with).
    pub fn remove_all<'a>(&mut self, ids: impl IntoIterator<Item = &'a str>) {
        for id in ids {
            self.ids.remove(id);
        }
        let ids = &self.ids;
        self.order.retain(|marked| ids.contains(marked));
    }

    /// Drops the marks of keys that are no longer in `keys` or are revoked there, and says
    /// which. One pass over the keys, and nothing at all while nothing is marked: the list
    /// may hold a million keys and be read again every few seconds.
    pub fn prune<'a>(
        &mut self,
        keys: impl IntoIterator<Item = &'a KeyRecord>,
        now: DateTime<Utc>,
    ) -> Dropped {
        let mut dropped = Dropped::default();
        if self.is_empty() {
            return dropped;
        }
        let mut seen = HashSet::with_capacity(self.len());
        let mut revoked = HashSet::new();
        for key in keys {
            if self.ids.contains(&key.id) {
                seen.insert(key.id.clone());
                if key.status_at(now) == Status::Revoked {
                    revoked.insert(key.id.clone());
                }
            }
        }
        // In the order marked, for a notice that reads like the admin's own list.
        for id in &self.order {
            if revoked.contains(id) {
                dropped.revoked.push(id.clone());
            } else if !seen.contains(id) {
                dropped.gone.push(id.clone());
            }
        }
        let unmarked: Vec<String> = dropped
            .revoked
            .iter()
            .chain(&dropped.gone)
            .cloned()
            .collect();
        self.remove_all(unmarked.iter().map(String::as_str));
        dropped
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Environment;

    fn key(id: &str) -> KeyRecord {
        KeyRecord::example(id, id, Environment::Staging, DateTime::UNIX_EPOCH)
    }

    #[test]
    fn a_mark_toggles_and_keeps_the_order_marked() {
        let mut marks = Marks::default();
        assert!(marks.toggle("key_b"));
        assert!(marks.toggle("key_a"));
        assert!(marks.toggle("key_c"));
        assert!(!marks.toggle("key_a"));
        assert_eq!(marks.ids(), ["key_b", "key_c"]);
        assert!(marks.contains("key_c") && !marks.contains("key_a"));
        marks.clear();
        assert!(marks.is_empty());
    }

    #[test]
    fn keys_gone_or_revoked_lose_their_marks() {
        let mut marks = Marks::default();
        for id in ["key_1", "key_2", "key_3", "key_4"] {
            marks.toggle(id);
        }
        let mut revoked = key("key_3");
        revoked.revoked_at = Some(DateTime::UNIX_EPOCH);
        let keys = [key("key_1"), revoked, key("key_4"), key("key_9")];
        let dropped = marks.prune(&keys, DateTime::UNIX_EPOCH + chrono::TimeDelta::days(1));
        assert_eq!(dropped.revoked, ["key_3"]);
        assert_eq!(dropped.gone, ["key_2"]);
        assert_eq!(marks.ids(), ["key_1", "key_4"]);
        assert_eq!(
            dropped.notice(),
            "Unmarked 2 keys: key_3 revoked elsewhere; key_2 no longer in the store."
        );
        assert!(marks.prune(&keys, DateTime::UNIX_EPOCH).is_empty());
    }

    #[test]
    fn few_names_the_first_and_counts_the_rest() {
        let names: Vec<String> = ["Billing", "Payments", "CI", "Search", "Web"]
            .map(String::from)
            .to_vec();
        assert_eq!(few(&names, 3), "Billing, Payments, CI and 2 more");
        assert_eq!(few(&names[..3], 3), "Billing, Payments, CI");
    }
}
