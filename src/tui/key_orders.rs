//! The orders `o` offers, as positions into [`KeyRows`] (`u32`, four bytes a key), worked
//! out once per read of the list (on the background reader's thread at start-up and after
//! other processes' changes) and kept up to date by the dashboard's own changes, so that no
//! keystroke ever sorts.

use std::cmp::Ordering;

use super::key_rows::KeyRows;
use crate::store::{KeyRecord, SortBy, fold_for_search};

/// Each order but Created (the rows' own order), by position in [`SortBy::ALL`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Orders {
    by: [Option<Vec<u32>>; 4],
}

fn slot(sort: SortBy) -> usize {
    SortBy::ALL.iter().position(|s| *s == sort).unwrap_or(0)
}

/// Compares two folded names, each compared without regard to ASCII case when its flag says
/// so (see [`KeyRows::folded_name`]): the order of the folded names as strings.
fn compare_names((a, a_fold): (&[u8], bool), (b, b_fold): (&[u8], bool)) -> Ordering {
    // A plain loop: the Name order makes some twenty million of these at a million keys.
    let lower = |byte: u8, fold: bool| {
        if fold {
            byte.to_ascii_lowercase()
        } else {
            byte
        }
    };
    for (&x, &y) in a.iter().zip(b) {
        let (x, y) = (lower(x, a_fold), lower(y, b_fold));
        if x != y {
            return x.cmp(&y);
        }
    }
    a.len().cmp(&b.len())
}

/// Where row `a` goes relative to row `b` in `sort`, as [`SortBy::compare`] says; rows that
/// tie there keep the rows' own order.
fn compare(rows: &KeyRows, sort: SortBy, a: usize, b: usize) -> Ordering {
    let primary = match sort {
        SortBy::Created => Ordering::Equal,
        SortBy::LastUsed => rows.last_used_secs(b).cmp(&rows.last_used_secs(a)),
        SortBy::Name => compare_names(rows.folded_name(a), rows.folded_name(b)),
        SortBy::Uses => rows.use_count(b).cmp(&rows.use_count(a)),
    };
    primary
        .then_with(|| rows.created_secs(b).cmp(&rows.created_secs(a)))
        .then(a.cmp(&b))
}

/// Whether row `a` comes before row `b` in `sort`.
pub fn before(rows: &KeyRows, sort: SortBy, a: usize, b: usize) -> bool {
    compare(rows, sort, a, b).is_lt()
}

/// Where row `i` goes relative to `key`, a key not among the rows, in `sort`.
pub fn compare_to(rows: &KeyRows, sort: SortBy, i: usize, key: &KeyRecord) -> Ordering {
    let secs = |at: Option<chrono::DateTime<chrono::Utc>>| at.map_or(i64::MIN, |t| t.timestamp());
    let primary = match sort {
        SortBy::Created => Ordering::Equal,
        SortBy::LastUsed => secs(key.last_used_at).cmp(&rows.last_used_secs(i)),
        SortBy::Name => {
            let name = fold_for_search(&key.name);
            compare_names(rows.folded_name(i), (name.as_bytes(), false))
        }
        SortBy::Uses => key.use_count.cmp(&rows.use_count(i)),
    };
    primary.then_with(|| key.created_at.timestamp().cmp(&rows.created_secs(i)))
}

impl Orders {
    /// Every order of `rows`.
    pub fn of(rows: &KeyRows) -> Orders {
        let mut orders = Orders::default();
        for sort in SortBy::ALL {
            if sort != SortBy::Created {
                let mut order: Vec<u32> = (0..rows.len() as u32).collect();
                order.sort_unstable_by(|&a, &b| compare(rows, sort, a as usize, b as usize));
                orders.by[slot(sort)] = Some(order);
            }
        }
        orders
    }

    /// The rows in `sort`'s order; `None` for the rows' own order.
    pub fn get(&self, sort: SortBy) -> Option<&[u32]> {
        self.by[slot(sort)].as_deref()
    }

    /// Row `at` was just inserted into `rows`, the rows from there on moving one down.
    pub fn inserted(&mut self, rows: &KeyRows, at: usize) {
        for (sort, order) in SortBy::ALL.into_iter().zip(&mut self.by) {
            let Some(order) = order else { continue };
            for i in order.iter_mut() {
                if *i as usize >= at {
                    *i += 1;
                }
            }
            let place = order.partition_point(|&i| compare(rows, sort, i as usize, at).is_lt());
            order.insert(place, at as u32);
        }
    }

    /// Row `at` was just removed, the rows after it moving one up.
    pub fn removed(&mut self, at: usize) {
        for order in self.by.iter_mut().flatten() {
            order.retain(|&i| i as usize != at);
            for i in order.iter_mut() {
                if *i as usize > at {
                    *i -= 1;
                }
            }
        }
    }

    /// The use counts and last uses of rows `changed` were read again: the orders by them
    /// put those rows where they now belong, in one pass each.
    pub fn usage_changed(&mut self, rows: &KeyRows, changed: &[usize]) {
        if changed.is_empty() {
            return;
        }
        for sort in [SortBy::LastUsed, SortBy::Uses] {
            let Some(order) = &mut self.by[slot(sort)] else {
                continue;
            };
            let mut ids: Vec<u32> = changed.iter().map(|&i| i as u32).collect();
            ids.sort_unstable();
            ids.dedup();
            let mut moved = ids.clone();
            moved.sort_unstable_by(|&a, &b| compare(rows, sort, a as usize, b as usize));
            // The others' values did not change: they stay in order.
            let staying: Vec<u32> = order
                .iter()
                .copied()
                .filter(|i| ids.binary_search(i).is_err())
                .collect();
            // Merge the two sorted runs.
            let mut merged = Vec::with_capacity(order.len());
            let (mut a, mut b) = (staying.iter().peekable(), moved.iter().peekable());
            while let (Some(&&x), Some(&&y)) = (a.peek(), b.peek()) {
                if compare(rows, sort, y as usize, x as usize).is_lt() {
                    merged.push(y);
                    b.next();
                } else {
                    merged.push(x);
                    a.next();
                }
            }
            merged.extend(a);
            merged.extend(b);
            *order = merged;
        }
    }
}
