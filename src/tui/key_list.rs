//! The key list the dashboard shows: every key of the workspace held in memory (compactly,
//! [`KeyRows`]), its orders, the search and the filters, which rows pass them, the selection
//! and the first row on screen. No store, no terminal: the App fills it and the views read it.

use chrono::{DateTime, Utc};
use tui_input::{Input, InputRequest};

use super::action::{Movement, cycle};
use super::key_filters;
use super::key_orders::{self, Orders};
use super::key_rows::KeyRows;
use super::key_search::{KeptSearches, Matches};
use super::visible_rows;
use crate::environment::{Environment, Status};
use crate::store::{KeyRecord, KeyUsage, SortBy, normalize_search, search_text};
use crate::usage_filter::UsageFilter;

/// The longest search kept: no key's searchable text is longer, and a huge paste must not
/// cost a pass per character.
pub const MAX_SEARCH_CHARS: usize = 256;

/// The environment filter's values, in the order `e` cycles through them.
const ENVIRONMENT_FILTERS: [Option<Environment>; 4] = [
    None,
    Some(Environment::Production),
    Some(Environment::Staging),
    Some(Environment::Development),
];

/// The status filter's values, in the order `s` cycles through them.
const STATUS_FILTERS: [Option<Status>; 4] = [
    None,
    Some(Status::Active),
    Some(Status::Revoked),
    Some(Status::Expired),
];

#[derive(Default)]
pub struct KeyList {
    /// The workspace's active default key: shown in its own panel, never as a table row.
    pub default_key: Option<KeyRecord>,
    /// The table's keys: every key of the workspace but the active default, newest first.
    pub keys: KeyRows,
    /// The rows in each order `o` offers, worked out once per read of the list (on the
    /// reader's thread) and kept true by the dashboard's own changes: no keystroke sorts.
    orders: Orders,
    /// The rows the search and filters passed at the last look (`None` inside for all of
    /// them), so that a new sort only lays them out again; `None` when a recognised full key
    /// picked the rows.
    passing: Option<Option<Matches>>,
    /// The most recent searches and the rows each matches; forgotten
    /// whenever the rows change.
    searches: KeptSearches,
    /// Rows (indices into `keys`) that pass the search and filters, in table order.
    pub visible: Vec<u32>,
    pub sort: SortBy,
    pub search: Input,
    pub environment_filter: Option<Environment>,
    pub status_filter: Option<Status>,
    pub usage_filter: UsageFilter,
    /// Position in `visible` of the selected row. Changed only through the methods here,
    /// which keep `current` in step.
    pub selected: usize,
    /// The selected row's key, whole: kept in step with `selected` so it can be lent out.
    current: Option<KeyRecord>,
    /// Position in `visible` of the first row on screen. It moves only when the selection
    /// would leave the window, so rows do not jump while the selection moves inside it.
    pub scroll: usize,
    /// A full key pasted into the search, recognised: the box shows its masked form instead,
    /// and the rows are the key it belongs to (found by digest) rather than what the masked
    /// text happens to match. Forgotten as soon as the box holds anything else.
    secret_match: Option<SecretMatch>,
    /// The search matches the workspace's default key, which has its own panel rather than a
    /// row: the views say so there.
    pub default_matches: bool,
}

/// A full key recognised in the search box.
#[derive(Debug, Clone, PartialEq, Eq)]
struct SecretMatch {
    /// What the box holds in its place: the key's masked form.
    shown: String,
    /// The id of the key whose secret it is; `None` when no key of the workspace has it.
    id: Option<String>,
}

impl KeyList {
    /// The selected table row's key.
    pub fn selected_key(&self) -> Option<&KeyRecord> {
        // `selected` is changed only through methods that keep `current` in step.
        debug_assert_eq!(
            self.current.as_ref().map(|k| k.id.as_str()),
            self.selected_row().map(|i| self.keys.id(i)),
            "the selected key was not kept in step with the selection"
        );
        self.current.as_ref()
    }

    /// The selected row: its index into `keys`.
    pub fn selected_row(&self) -> Option<usize> {
        self.visible.get(self.selected).map(|&i| i as usize)
    }

    /// The key of the row at `position` in `visible`, whole.
    pub fn visible_key(&self, position: usize) -> Option<KeyRecord> {
        self.visible
            .get(position)
            .map(|&i| self.keys.record(i as usize))
    }

    /// `current` follows `selected`.
    fn settle(&mut self) {
        self.current = self.selected_row().map(|i| self.keys.record(i));
    }

    /// Puts the selection back on the key it was on; when that key has left the rows (revoked
    /// elsewhere under "Status: Active", say), on the row that took its place, the next one
    /// (or the last row, when it was last), so the admin does not lose their place.
    fn reselect(&mut self, anchor: Option<KeyRecord>) {
        self.selected = 0;
        if let Some(anchor) = anchor {
            let keys = &self.keys;
            self.selected = match self
                .visible
                .iter()
                .position(|&i| keys.id(i as usize) == anchor.id)
            {
                Some(position) => position,
                // Rows are in the sort's order: the next row is the first one that does not
                // sort before where the key was.
                None => self
                    .visible
                    .partition_point(|&i| {
                        key_orders::compare_to(keys, self.sort, i as usize, &anchor).is_lt()
                    })
                    .min(self.visible.len().saturating_sub(1)),
            };
        }
        self.settle();
    }

    /// [`KeyList::reselect`] when the rows themselves did not change: `anchor` is the row
    /// that was selected.
    fn reselect_row(&mut self, anchor: Option<usize>) {
        self.selected = 0;
        if let Some(anchor) = anchor {
            let anchor = anchor as u32;
            self.selected = match self.visible.iter().position(|&i| i == anchor) {
                Some(position) => position,
                None => {
                    let (keys, sort) = (&self.keys, self.sort);
                    self.visible
                        .partition_point(|&i| {
                            key_orders::before(keys, sort, i as usize, anchor as usize)
                        })
                        .min(self.visible.len().saturating_sub(1))
                }
            };
        }
        self.settle();
    }

    /// Selects the row of key `id`, if it passes the search and filters.
    pub fn select(&mut self, id: &str) {
        let keys = &self.keys;
        if let Some(position) = self.visible.iter().position(|&i| keys.id(i as usize) == id) {
            self.selected = position;
            self.settle();
        }
    }

    /// Selects the `row`th row of the table (the last, past the end): a click.
    pub fn select_row(&mut self, row: usize) {
        self.selected = row.min(self.visible.len().saturating_sub(1));
        self.settle();
    }

    /// Makes `keys` (the whole workspace, newest first) the list, keeping the selection on the
    /// same key.
    pub fn replace(
        &mut self,
        default_key: Option<KeyRecord>,
        keys: Vec<KeyRecord>,
        now: DateTime<Utc>,
    ) {
        let rows = table_rows(default_key.as_ref(), keys);
        let orders = Orders::of(&rows);
        self.install(default_key, rows, orders, now);
    }

    /// Makes `rows` (every key of the workspace but `default_key`, newest first) and their
    /// `orders` the list, keeping the selection on the same key.
    pub fn install(
        &mut self,
        default_key: Option<KeyRecord>,
        rows: KeyRows,
        orders: Orders,
        now: DateTime<Utc>,
    ) {
        let anchor = self.current.take();
        // The old rows' positions mean nothing in the new list (which may be shorter):
        // forget them before anything reads them. The selection is kept by id.
        self.visible.clear();
        self.selected = 0;
        self.keys = rows;
        self.orders = orders;
        self.searches.clear();
        self.default_key = default_key;
        self.filter_rows(now);
        self.reselect(anchor);
    }

    /// Puts `record`, as the store holds it now, in its place: the default panel when it is
    /// the active default, the table otherwise. Returns whether it was a table row before and
    /// whether it is one now.
    pub fn put(&mut self, record: &KeyRecord, now: DateTime<Utc>) -> (bool, bool) {
        let anchor = self.current.take();
        if self.default_key.as_ref().is_some_and(|k| k.id == record.id) {
            self.default_key = None;
        }
        self.visible.clear();
        self.searches.clear();
        let was_in_table = match self.keys.position(&record.id) {
            Some(at) => {
                self.keys.remove(at);
                self.orders.removed(at);
                true
            }
            None => false,
        };
        let in_table = !(record.is_default && record.status_at(now) == Status::Active);
        if !in_table {
            self.default_key = Some(record.clone());
        } else {
            // Newest first; among keys created in the same second the store's order may
            // differ, and the full read behind this puts that right.
            let at = self.keys.newest_first_place(record);
            self.keys.insert(at, record);
            self.orders.inserted(&self.keys, at);
        }
        self.filter_rows(now);
        self.reselect(anchor);
        (was_in_table, in_table)
    }

    /// The soonest moment after `now` a key held (or the default) expires: statuses change
    /// then without any write to the store.
    pub fn next_expiry(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let keys = &self.keys;
        (0..keys.len())
            .filter(|&i| !keys.is_revoked(i))
            .filter_map(|i| keys.expires_at(i))
            .chain(
                self.default_key
                    .iter()
                    .filter(|k| k.revoked_at.is_none())
                    .filter_map(|k| k.expires_at),
            )
            .filter(|at| *at > now)
            .min()
    }

    /// Recomputes which keys pass the search and filters, keeping the selection in place.
    pub fn refilter(&mut self, now: DateTime<Utc>) {
        let anchor = self.selected_row();
        self.filter_rows(now);
        self.reselect_row(anchor);
    }

    /// One pass over the in-memory rows, in the sort's order, so a keystroke never queries
    /// the store nor sorts. A recognised full key picks its own key instead.
    fn filter_rows(&mut self, now: DateTime<Utc>) {
        if self
            .secret_match
            .as_ref()
            .is_some_and(|m| m.shown != self.search.value())
        {
            self.secret_match = None;
        }
        let pinned: Option<Option<String>> = self.secret_match.as_ref().map(|m| m.id.clone());
        let needle = normalize_search(self.search.value());
        let mut visible = std::mem::take(&mut self.visible);
        visible.clear();
        let pinned_row = pinned
            .as_ref()
            .map(|id| id.as_deref().and_then(|id| self.keys.position(id)));
        let matches = match pinned.is_none() && !needle.is_empty() {
            true => Some(self.searches.matching(&self.keys, &needle).clone()),
            false => None,
        };
        let keys = &self.keys;
        let now_secs = now.timestamp();
        let (environment, status, usage) = (
            self.environment_filter,
            self.status_filter,
            self.usage_filter,
        );
        let filtered = environment.is_some() || status.is_some() || usage != UsageFilter::All;
        let used_cutoff = UsageFilter::cutoff(now);
        let passes = |i: usize| {
            environment.is_none_or(|e| keys.environment(i) == e)
                && status.is_none_or(|s| keys.status_at_secs(i, now_secs) == s)
                && usage.passes_secs(keys.last_used_secs(i), used_cutoff)
        };
        // Filtering the sorted order keeps the rows sorted: no sort per keystroke. Each case
        // touches no more than it must: a million rows are a million steps.
        // Which rows pass, worked out in row order first (sequential reads of the columns),
        // then the sort's order walked against that one bitset.
        let keep = match (filtered, matches) {
            (_, None) if pinned_row.is_some() => None,
            (false, matches) => matches,
            (true, matches) => {
                let filters = key_filters::Filters {
                    environment,
                    status,
                    usage,
                    now: now_secs,
                    cutoff: used_cutoff,
                };
                let mut keep = key_filters::passing(keys, &filters);
                if let Some(m) = &matches {
                    keep.intersect(m);
                }
                Some(keep)
            }
        };
        match pinned_row {
            Some(row) => visible.extend(row.filter(|&i| passes(i)).map(|i| i as u32)),
            None => {
                let order = self.orders.get(self.sort);
                visible_rows::arrange(order, keep.as_ref(), keys.len(), None, &mut visible);
            }
        }
        self.passing = pinned_row.is_none().then_some(keep);
        self.visible = visible;
        let searching = pinned.is_some() || !needle.is_empty();
        self.default_matches = searching
            && self.default_key.as_ref().is_some_and(|key| match &pinned {
                Some(id) => id.as_deref() == Some(key.id.as_str()),
                None => search_text(&key.name, &key.masked_key, &key.id).contains(&needle),
            });
    }
    /// Replaces every full key in the search box by its masked form, so the key is never
    /// shown (nor kept in the box) while it is looked up. Returns the first such key for
    /// the caller to look up in the store ([`KeyList::found_secret`]), or `None` when the box
    /// holds no full key. The box's old text is wiped from memory.
    pub fn take_full_key(&mut self) -> Option<crate::key::Secret> {
        let value = self.search.value();
        let (start, len) = value
            .match_indices(crate::key::KEY_PREFIX)
            .find_map(|(start, _)| {
                crate::key::key_len_at(&value[start..]).map(|len| (start, len))
            })?;
        let secret = crate::key::Secret::parse(&value[start..start + len]).ok()?;
        let masked = crate::key::redact_keys(value).into_owned();
        let mut old = std::mem::take(&mut self.search).value_and_reset();
        zeroize::Zeroize::zeroize(&mut old);
        self.search = Input::new(masked);
        Some(secret)
    }

    /// The store's answer for the full key [`KeyList::take_full_key`] took: the key it belongs
    /// to, if any. The rows become that key alone (or none), and the selection goes to it.
    pub fn found_secret(&mut self, key: Option<&KeyRecord>, now: DateTime<Utc>) {
        self.secret_match = Some(SecretMatch {
            shown: self.search.value().to_owned(),
            id: key.map(|k| k.id.clone()),
        });
        self.filter_rows(now);
        self.reselect(key.cloned());
    }

    /// Moves the selection; a page is `page` rows.
    pub fn move_selection(&mut self, movement: Movement, page: usize) {
        let last = self.visible.len().saturating_sub(1);
        let page = page.max(1);
        self.selected = match movement {
            Movement::Down => (self.selected + 1).min(last),
            Movement::Up => self.selected.saturating_sub(1),
            Movement::PageDown => (self.selected + page).min(last),
            Movement::PageUp => self.selected.saturating_sub(page),
            Movement::Top => 0,
            Movement::Bottom => last,
        };
        self.settle();
    }

    /// Moves the first row on screen just enough that the selection shows in a window of
    /// `rows` rows.
    pub fn keep_in_view(&mut self, rows: usize) {
        self.scroll = first_row(self.scroll, self.selected, self.visible.len(), rows);
    }

    /// An edit of the search box; the rows follow when the text changed.
    pub fn edit_search(&mut self, request: InputRequest, now: DateTime<Utc>) {
        if self.search.handle(request).is_some_and(|c| c.value) {
            self.refilter(now);
        }
    }

    /// Pasted text goes into the search without its control characters, up to
    /// [`MAX_SEARCH_CHARS`].
    pub fn paste_search(&mut self, text: &str, now: DateTime<Utc>) {
        let room = MAX_SEARCH_CHARS.saturating_sub(self.search.value().chars().count());
        for c in text.chars().filter(|c| !c.is_control()).take(room) {
            self.search.handle(InputRequest::InsertChar(c));
        }
        self.refilter(now);
    }

    pub fn clear_search(&mut self, now: DateTime<Utc>) {
        self.search.reset();
        self.refilter(now);
    }

    pub fn cycle_environment_filter(&mut self, now: DateTime<Utc>) {
        self.environment_filter = cycle(&ENVIRONMENT_FILTERS, self.environment_filter, 1);
        self.refilter(now);
    }

    pub fn cycle_status_filter(&mut self, now: DateTime<Utc>) {
        self.status_filter = cycle(&STATUS_FILTERS, self.status_filter, 1);
        self.refilter(now);
    }

    pub fn cycle_usage_filter(&mut self, now: DateTime<Utc>) {
        self.usage_filter = cycle(&UsageFilter::ALL, self.usage_filter, 1);
        self.refilter(now);
    }

    /// The next order `o` offers; the focused key stays focused wherever it lands.
    pub fn cycle_sort(&mut self, now: DateTime<Utc>) {
        self.sort = cycle(&SortBy::ALL, self.sort, 1);
        // The same rows pass as a moment ago: only their order changes.
        let Some(keep) = &self.passing else {
            return self.refilter(now);
        };
        let anchor = self.selected_row();
        let (order, len) = (self.orders.get(self.sort), self.keys.len());
        let landed = visible_rows::arrange(order, keep.as_ref(), len, anchor, &mut self.visible);
        match landed {
            Some(position) => {
                self.selected = position;
                self.settle();
            }
            None => self.reselect_row(anchor),
        }
    }

    /// Use counts and last uses of some rows were read again: they are written in, and the
    /// orders by usage put those rows where they now belong, the selection staying on its key.
    pub fn set_usage(&mut self, read: &[(usize, KeyUsage)], now: DateTime<Utc>) {
        let anchor = self.selected_row();
        for &(i, usage) in read {
            self.keys.set_usage(i, usage);
        }
        let changed: Vec<usize> = read.iter().map(|&(i, _)| i).collect();
        self.orders.usage_changed(&self.keys, &changed);
        if matches!(self.sort, SortBy::LastUsed | SortBy::Uses) {
            self.filter_rows(now);
        } else if self.usage_filter != UsageFilter::All {
            // A key just used leaves "Never used" and "Unused 30+ days".
            self.filter_rows(now);
        }
        // Also brings the selected key's use count up to date.
        self.reselect_row(anchor);
    }
}

/// The table's rows of `keys`: all but the active default, which has its own panel.
pub fn table_rows(default_key: Option<&KeyRecord>, keys: Vec<KeyRecord>) -> KeyRows {
    let default_id = default_key.map(|k| k.id.as_str());
    keys.into_iter()
        .filter(|k| Some(k.id.as_str()) != default_id)
        .collect()
}

/// The first of `len` rows to show in a window of `rows` rows, starting from `scroll`: moved
/// just enough to show row `selected`, and never past the point where the window would end
/// below the last row.
pub fn first_row(scroll: usize, selected: usize, len: usize, rows: usize) -> usize {
    let rows = rows.max(1);
    let scroll = if selected < scroll {
        selected
    } else if selected >= scroll + rows {
        selected + 1 - rows
    } else {
        scroll
    };
    scroll.min(len.saturating_sub(rows))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeDelta, TimeZone};

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0).unwrap()
    }

    /// A key created `age` minutes before [`now`].
    fn key(id: &str, name: &str, environment: Environment, age: i64) -> KeyRecord {
        KeyRecord {
            masked_key: format!("fhk_{}_abcd…{id}", environment.code()),
            ..KeyRecord::example(id, name, environment, now() - TimeDelta::minutes(age))
        }
    }

    /// Four keys, newest first: billing (production), search (staging), a revoked worker
    /// (development), and the default (production).
    fn list() -> KeyList {
        let mut revoked = key("k3", "Worker", Environment::Development, 3);
        revoked.revoked_at = Some(now());
        let mut default = key("k0", "Default", Environment::Production, 10);
        default.is_default = true;
        let keys = vec![
            key("k1", "Billing API", Environment::Production, 1),
            key("k2", "Search", Environment::Staging, 2),
            revoked,
            default.clone(),
        ];
        let mut list = KeyList::default();
        list.replace(Some(default), keys, now());
        list
    }

    fn visible_ids(list: &KeyList) -> Vec<&str> {
        list.visible
            .iter()
            .map(|&i| list.keys.id(i as usize))
            .collect()
    }

    #[test]
    fn the_default_key_is_held_apart_from_the_table() {
        let list = list();
        assert_eq!(list.default_key.as_ref().unwrap().id, "k0");
        assert_eq!(visible_ids(&list), ["k1", "k2", "k3"]);
        assert_eq!(list.selected_key().unwrap().id, "k1");
    }

    #[test]
    fn search_matches_names_masked_keys_and_ids_ignoring_case() {
        let mut list = list();
        for (typed, expected) in [
            ("BILL", vec!["k1"]),
            ("fhk_stg", vec!["k2"]),
            ("k3", vec!["k3"]),
            ("nothing", vec![]),
        ] {
            list.clear_search(now());
            list.paste_search(typed, now());
            assert_eq!(visible_ids(&list), expected, "{typed}");
        }
        list.clear_search(now());
        assert_eq!(visible_ids(&list).len(), 3);
    }

    #[test]
    fn a_paste_drops_control_characters_and_stops_at_the_limit() {
        let mut list = list();
        list.paste_search("bil\u{1b}\nling", now());
        assert_eq!(list.search.value(), "billing");
        list.paste_search(&"x".repeat(1000), now());
        assert_eq!(list.search.value().chars().count(), MAX_SEARCH_CHARS);
    }

    #[test]
    fn filters_cycle_and_combine() {
        let mut list = list();
        list.cycle_environment_filter(now());
        assert_eq!(list.environment_filter, Some(Environment::Production));
        assert_eq!(visible_ids(&list), ["k1"]);
        list.cycle_environment_filter(now());
        list.cycle_environment_filter(now());
        assert_eq!(list.environment_filter, Some(Environment::Development));
        list.cycle_status_filter(now());
        assert_eq!(list.status_filter, Some(Status::Active));
        assert!(visible_ids(&list).is_empty());
        list.cycle_status_filter(now());
        assert_eq!(visible_ids(&list), ["k3"]);
        list.cycle_environment_filter(now());
        list.cycle_status_filter(now());
        list.cycle_status_filter(now());
        assert_eq!((list.environment_filter, list.status_filter), (None, None));
        assert_eq!(visible_ids(&list).len(), 3);
    }

    #[test]
    fn the_selection_follows_its_key_through_filtering_and_replacing() {
        let mut list = list();
        list.select("k2");
        list.paste_search("s", now());
        assert_eq!(list.selected_key().unwrap().id, "k2");
        let mut newer = key("k4", "Newest", Environment::Staging, 0);
        newer.name = "Newest s".into();
        let mut keys: Vec<KeyRecord> = list.keys.iter().collect();
        keys.insert(0, newer);
        list.replace(list.default_key.clone(), keys, now());
        assert_eq!(list.selected_key().unwrap().id, "k2", "kept by id");
        list.clear_search(now());
        assert_eq!(list.selected_key().unwrap().id, "k2");
    }

    #[test]
    fn selection_moves_within_the_rows() {
        let mut list = list();
        let cases = [
            (Movement::Down, 1),
            (Movement::Down, 2),
            (Movement::Down, 2),
            (Movement::Top, 0),
            (Movement::Up, 0),
            (Movement::PageDown, 2),
            (Movement::PageUp, 0),
            (Movement::Bottom, 2),
        ];
        for (movement, expected) in cases {
            list.move_selection(movement, 2);
            assert_eq!(list.selected, expected, "{movement:?}");
        }
        let mut empty = KeyList::default();
        empty.move_selection(Movement::Bottom, 10);
        assert_eq!(empty.selected, 0);
        assert!(empty.selected_key().is_none());
    }

    #[test]
    fn put_moves_a_record_between_the_panel_and_the_table() {
        let mut list = list();
        let mut revoked_default = list.default_key.clone().unwrap();
        revoked_default.revoked_at = Some(now());
        assert_eq!(list.put(&revoked_default, now()), (false, true));
        assert!(list.default_key.is_none());
        assert_eq!(visible_ids(&list), ["k1", "k2", "k3", "k0"], "newest first");

        let mut new_default = key("k5", "New default", Environment::Staging, 0);
        new_default.is_default = true;
        assert_eq!(list.put(&new_default, now()), (false, false));
        assert_eq!(list.default_key.as_ref().unwrap().id, "k5");

        list.select("k2");
        let mut revoked = list.selected_key().unwrap().clone();
        revoked.revoked_at = Some(now());
        assert_eq!(list.put(&revoked, now()), (true, true));
        assert_eq!(list.selected_key().unwrap().id, "k2");
        assert_eq!(
            list.selected_key().unwrap().status_at(now()),
            Status::Revoked
        );
        list.paste_search("search", now());
        assert_eq!(
            visible_ids(&list),
            ["k2"],
            "its search text is kept with it"
        );
    }

    #[test]
    fn the_sort_orders_the_rows_once_and_filters_and_own_changes_keep_it() {
        let mut list = list();
        list.select("k3");
        list.cycle_sort(now());
        assert_eq!(list.sort, SortBy::LastUsed);
        list.cycle_sort(now());
        assert_eq!(list.sort, SortBy::Name);
        assert_eq!(
            visible_ids(&list),
            ["k1", "k2", "k3"],
            "Billing, Search, Worker"
        );
        assert_eq!(list.selected_key().unwrap().id, "k3", "focus kept");
        // A key of the dashboard's own making goes where the sort puts it.
        let added = key("k7", "aardvark", Environment::Staging, 0);
        list.put(&added, now());
        assert_eq!(visible_ids(&list), ["k7", "k1", "k2", "k3"]);
        assert_eq!(list.selected_key().unwrap().id, "k3");
        list.cycle_environment_filter(now());
        assert_eq!(visible_ids(&list), ["k1"], "Production only, still by name");
        list.cycle_sort(now());
        list.cycle_sort(now());
        assert_eq!(list.sort, SortBy::Created);
        list.cycle_environment_filter(now());
        list.cycle_environment_filter(now());
        list.cycle_environment_filter(now());
        assert_eq!(visible_ids(&list), ["k7", "k1", "k2", "k3"], "newest first");
        // The Name order worked out above is of no use once the list is read again.
        let keys: Vec<KeyRecord> = list.keys.iter().filter(|k| k.id != "k7").collect();
        list.replace(list.default_key.clone(), keys, now());
        list.cycle_sort(now());
        list.cycle_sort(now());
        assert_eq!(visible_ids(&list), ["k1", "k2", "k3"]);
    }

    #[test]
    fn the_usage_filter_cycles_and_combines_with_search_filters_and_sort() {
        let mut list = list();
        // k1 used an hour ago, k2 forty days ago, k3 (revoked) never; the default key is not
        // a row whatever its use.
        let mut keys: Vec<KeyRecord> = list.keys.iter().collect();
        keys[0].last_used_at = Some(now() - TimeDelta::hours(1));
        keys[1].last_used_at = Some(now() - TimeDelta::days(40));
        keys.push(list.default_key.clone().unwrap());
        list.replace(list.default_key.clone(), keys, now());
        list.select("k2");
        let mut seen = Vec::new();
        for _ in 0..4 {
            list.cycle_usage_filter(now());
            let ids: Vec<String> = visible_ids(&list).iter().map(|id| id.to_string()).collect();
            seen.push((list.usage_filter, ids));
        }
        let seen: Vec<(UsageFilter, Vec<&str>)> = seen
            .iter()
            .map(|(filter, ids)| (*filter, ids.iter().map(String::as_str).collect()))
            .collect();
        assert_eq!(
            seen,
            [
                (UsageFilter::UsedRecently, vec!["k1"]),
                (UsageFilter::Unused, vec!["k2", "k3"]),
                (UsageFilter::NeverUsed, vec!["k3"]),
                (UsageFilter::All, vec!["k1", "k2", "k3"]),
            ]
        );
        list.cycle_usage_filter(now());
        list.cycle_usage_filter(now());
        assert_eq!(visible_ids(&list), ["k2", "k3"]);
        list.select("k2");
        list.cycle_sort(now());
        assert_eq!(list.selected_key().unwrap().id, "k2", "kept on its key");
        assert_eq!(list.sort, SortBy::LastUsed);
        assert_eq!(visible_ids(&list), ["k2", "k3"], "never used last");
        list.cycle_status_filter(now());
        assert_eq!(visible_ids(&list), ["k2"], "and active");
        assert_eq!(list.selected_key().unwrap().id, "k2");
        list.paste_search("work", now());
        assert!(visible_ids(&list).is_empty(), "Worker is revoked");
        list.clear_search(now());
        list.cycle_status_filter(now());
        list.cycle_environment_filter(now());
        list.cycle_environment_filter(now());
        list.cycle_environment_filter(now());
        assert_eq!(visible_ids(&list), ["k3"], "Development, unused");
    }

    #[test]
    fn a_use_read_again_moves_a_key_out_of_never_used() {
        let mut list = list();
        list.cycle_usage_filter(now());
        list.cycle_usage_filter(now());
        list.cycle_usage_filter(now());
        assert_eq!(list.usage_filter, UsageFilter::NeverUsed);
        assert_eq!(visible_ids(&list), ["k1", "k2", "k3"]);
        let at = list.keys.position("k2").unwrap();
        let used = KeyUsage {
            last_used_at: Some(now()),
            use_count: 1,
        };
        list.set_usage(&[(at, used)], now());
        assert_eq!(visible_ids(&list), ["k1", "k3"]);
    }

    #[test]
    fn next_expiry_is_the_soonest_future_one_of_unrevoked_keys() {
        let mut list = list();
        assert_eq!(list.next_expiry(now()), None);
        let soon = now() + TimeDelta::hours(1);
        let mut keys: Vec<KeyRecord> = list.keys.iter().collect();
        keys[0].expires_at = Some(now() + TimeDelta::hours(2));
        keys[1].expires_at = Some(soon);
        keys[2].expires_at = Some(now() + TimeDelta::minutes(1)); // revoked: never changes
        keys.push(key("k6", "Gone", Environment::Staging, 20));
        keys[3].expires_at = Some(now() - TimeDelta::hours(1)); // already expired
        list.replace(list.default_key.clone(), keys, now());
        assert_eq!(list.next_expiry(now()), Some(soon));
    }

    #[test]
    fn the_window_moves_only_to_keep_the_selection_on_screen() {
        // (scroll, selected, len, rows) -> first row
        let cases = [
            ((0, 0, 40, 10), 0),
            ((0, 9, 40, 10), 0),
            ((0, 10, 40, 10), 1),
            ((5, 7, 40, 10), 5),
            ((5, 2, 40, 10), 2),
            ((0, 39, 40, 10), 30),
            ((35, 39, 40, 10), 30),
            ((30, 3, 5, 10), 0),
            ((0, 0, 0, 0), 0),
        ];
        for ((scroll, selected, len, rows), expected) in cases {
            assert_eq!(
                first_row(scroll, selected, len, rows),
                expected,
                "{scroll} {selected} {len} {rows}"
            );
        }
        let mut list = list();
        list.move_selection(Movement::Bottom, 1);
        list.keep_in_view(2);
        assert_eq!(list.scroll, 1);
        list.move_selection(Movement::Up, 1);
        list.keep_in_view(2);
        assert_eq!(list.scroll, 1, "still on screen: no jump");
    }

    /// A new sort lays out the rows that passed a moment ago: the same rows a fresh look
    /// under that sort finds, the selection staying on its key.
    #[test]
    fn a_new_sort_shows_what_filtering_afresh_shows() {
        let mut list = list();
        list.put(
            &key("k8", "Billing worker", Environment::Production, 5),
            now(),
        );
        for (search, environment) in [("", 0), ("bill", 0), ("", 1), ("i", 1), ("zzz", 0)] {
            list.clear_search(now());
            list.paste_search(search, now());
            for _ in 0..environment {
                list.cycle_environment_filter(now());
            }
            list.select_row(1);
            for _ in 0..SortBy::ALL.len() {
                let selected = list.selected_key().map(|k| k.id.clone());
                list.cycle_sort(now());
                let sorted = (
                    list.visible.clone(),
                    list.selected_key().map(|k| k.id.clone()),
                );
                assert_eq!(sorted.1, selected, "{search:?} {:?}", list.sort);
                list.refilter(now());
                assert_eq!(sorted.0, list.visible, "{search:?} {:?}", list.sort);
            }
            for _ in environment..ENVIRONMENT_FILTERS.len() {
                list.cycle_environment_filter(now());
            }
        }
    }

    /// Every sort, under every combination of the three filters and a few searches: the rows
    /// shown are the sort's whole order with each row kept by the plain test of its record.
    /// 150 keys: the rows passing are gathered 64 to a word.
    #[test]
    fn filters_and_search_under_each_sort_keep_what_each_record_passes() {
        let keys: Vec<KeyRecord> = (0..150)
            .map(|i| {
                let service = ["Billing", "Search", "Café"][i % 3];
                let environment = Environment::ALL[i % Environment::ALL.len()];
                let mut k = key(
                    &format!("k{i:03}"),
                    &format!("{service} {i}"),
                    environment,
                    i as i64,
                );
                if i % 7 == 0 {
                    k.revoked_at = Some(now());
                }
                if i % 5 == 0 {
                    k.expires_at = Some(now() - TimeDelta::hours(1));
                }
                if i % 4 != 0 {
                    k.last_used_at = Some(now() - TimeDelta::days((i % 60) as i64));
                }
                k.use_count = (i % 9) as u64;
                k
            })
            .collect();
        let mut list = KeyList::default();
        list.replace(None, keys, now());
        let mut checked = 0;
        for _ in 0..SortBy::ALL.len() {
            list.cycle_sort(now());
            let sorted = list.visible.clone();
            assert_eq!(sorted.len(), 150, "{:?}", list.sort);
            for search in ["", "BILL", "1", "é", "k04"] {
                list.clear_search(now());
                list.paste_search(search, now());
                let needle = normalize_search(search);
                for _ in 0..ENVIRONMENT_FILTERS.len() {
                    list.cycle_environment_filter(now());
                    for _ in 0..STATUS_FILTERS.len() {
                        list.cycle_status_filter(now());
                        for _ in 0..4 {
                            list.cycle_usage_filter(now());
                            let expected: Vec<u32> = sorted
                                .iter()
                                .copied()
                                .filter(|&i| {
                                    let k = list.keys.record(i as usize);
                                    list.environment_filter.is_none_or(|e| k.environment == e)
                                        && list
                                            .status_filter
                                            .is_none_or(|s| k.status_at(now()) == s)
                                        && list.usage_filter.passes(k.last_used_at, now())
                                        && search_text(&k.name, &k.masked_key, &k.id)
                                            .contains(&needle)
                                })
                                .collect();
                            assert_eq!(list.visible, expected, "{search:?} {:?}", list.sort);
                            checked += usize::from(!expected.is_empty());
                        }
                    }
                }
            }
            list.clear_search(now());
        }
        assert!(checked > 100, "most combinations keep some rows: {checked}");
    }
}
