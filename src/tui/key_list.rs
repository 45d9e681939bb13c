//! The key list the dashboard shows: every key of the workspace held in memory, the text each
//! is searched by, the search and the filters, which rows pass them, the selection and the
//! first row on screen. No store, no terminal: the App fills it and the views read it.

use chrono::{DateTime, Utc};
use memchr::memmem;
use tui_input::{Input, InputRequest};

use super::action::{Movement, cycle};
use crate::environment::{Environment, Status};
use crate::store::{KeyRecord, SortBy, fold_for_search, normalize_search, search_text};
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
    pub keys: Vec<KeyRecord>,
    /// Lower-cased searchable text of each key, parallel to `keys`.
    haystacks: Vec<String>,
    /// Indices into `keys` in the order `sort` puts them, worked out once per change of the
    /// list or the sort rather than per keystroke; `None` for the store's own order (Created),
    /// which `keys` is in already.
    order: Option<Vec<usize>>,
    /// `order`'s slot in `orders`, while `order` is still true of the list.
    order_slot: Option<usize>,
    /// Orders worked out before for this list, by position in [`SortBy::ALL`]: cycling back to
    /// one costs nothing. Forgotten whenever the list (or a use count an order depends on)
    /// changes.
    orders: [Option<Vec<usize>>; 4],
    /// Indices into `keys` that pass the search and filters, in table order.
    pub visible: Vec<usize>,
    pub sort: SortBy,
    pub search: Input,
    pub environment_filter: Option<Environment>,
    pub status_filter: Option<Status>,
    pub usage_filter: UsageFilter,
    /// Position in `visible` of the selected row.
    pub selected: usize,
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

/// Where the selection was before the rows changed: its key as it was, which says where it
/// sorts.
type Anchor = Option<KeyRecord>;

fn sort_slot(sort: SortBy) -> usize {
    SortBy::ALL.iter().position(|s| *s == sort).unwrap_or(0)
}

/// The name part of a key's searchable text ([`search_text`]): its name folded as search
/// folds it, which is also how the Name order compares names.
fn folded_name(haystack: &str) -> &str {
    haystack.split('\u{1f}').next().unwrap_or_default()
}

impl KeyList {
    /// The selected table row's key.
    pub fn selected_key(&self) -> Option<&KeyRecord> {
        self.visible.get(self.selected).map(|&i| &self.keys[i])
    }

    fn anchor(&self) -> Anchor {
        self.selected_key().cloned()
    }

    /// Puts the selection back on the key it was on; when that key has left the rows (revoked
    /// elsewhere under "Status: Active", say), on the row that took its place, the next one
    /// (or the last row, when it was last), so the admin does not lose their place.
    fn reselect(&mut self, anchor: Anchor) {
        self.selected = 0;
        let Some(anchor) = anchor else {
            return;
        };
        if let Some(position) = self
            .visible
            .iter()
            .position(|&i| self.keys[i].id == anchor.id)
        {
            self.selected = position;
            return;
        }
        // Rows are in the sort's order: the next row is the first one that does not sort
        // before where the key was.
        let anchor_name = fold_for_search(&anchor.name);
        let next = self.visible.partition_point(|&i| {
            let key = &self.keys[i];
            self.sort
                .compare(key, folded_name(&self.haystacks[i]), &anchor, &anchor_name)
                .is_lt()
        });
        self.selected = next.min(self.visible.len().saturating_sub(1));
    }

    /// Selects the row of key `id`, if it passes the search and filters.
    pub fn select(&mut self, id: &str) {
        if let Some(position) = self.visible.iter().position(|&i| self.keys[i].id == id) {
            self.selected = position;
        }
    }

    /// Selects the `row`th row of the table (the last, past the end): a click.
    pub fn select_row(&mut self, row: usize) {
        self.selected = row.min(self.visible.len().saturating_sub(1));
    }

    /// Makes `keys` (the whole workspace, newest first) the list, keeping the selection on the
    /// same key.
    pub fn replace(
        &mut self,
        default_key: Option<KeyRecord>,
        keys: Vec<KeyRecord>,
        now: DateTime<Utc>,
    ) {
        let anchor = self.anchor();
        // The old rows' positions mean nothing in the new list (which may be shorter):
        // forget them before anything reads them. The selection is kept by id.
        self.visible.clear();
        self.selected = 0;
        let default_id = default_key.as_ref().map(|k| k.id.clone());
        self.keys = keys
            .into_iter()
            .filter(|k| Some(&k.id) != default_id.as_ref())
            .collect();
        self.haystacks = self
            .keys
            .iter()
            .map(|k| search_text(&k.name, &k.masked_key, &k.id))
            .collect();
        self.default_key = default_key;
        self.forget_orders();
        self.resort();
        self.filter_rows(now);
        self.reselect(anchor);
    }

    /// Puts `record`, as the store holds it now, in its place: the default panel when it is
    /// the active default, the table otherwise. Returns whether it was a table row before and
    /// whether it is one now.
    pub fn put(&mut self, record: &KeyRecord, now: DateTime<Utc>) -> (bool, bool) {
        let anchor = self.anchor();
        if self.default_key.as_ref().is_some_and(|k| k.id == record.id) {
            self.default_key = None;
        }
        let was_in_table = match self.keys.iter().position(|k| k.id == record.id) {
            Some(at) => {
                self.keys.remove(at);
                self.haystacks.remove(at);
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
            let at = self
                .keys
                .partition_point(|k| k.created_at > record.created_at);
            self.keys.insert(at, record.clone());
            self.haystacks.insert(
                at,
                search_text(&record.name, &record.masked_key, &record.id),
            );
        }
        self.visible.clear();
        self.forget_orders();
        self.resort();
        self.filter_rows(now);
        self.reselect(anchor);
        (was_in_table, in_table)
    }

    /// The soonest moment after `now` a key held (or the default) expires: statuses change
    /// then without any write to the store.
    pub fn next_expiry(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.keys
            .iter()
            .chain(&self.default_key)
            .filter(|k| k.revoked_at.is_none())
            .filter_map(|k| k.expires_at)
            .filter(|at| *at > now)
            .min()
    }

    /// Recomputes which keys pass the search and filters, keeping the selection in place.
    pub fn refilter(&mut self, now: DateTime<Utc>) {
        let anchor = self.anchor();
        self.filter_rows(now);
        self.reselect(anchor);
    }

    /// One pass over the in-memory keys with a substring finder, so a keystroke never queries
    /// the store. A recognised full key picks its own key instead.
    fn filter_rows(&mut self, now: DateTime<Utc>) {
        if self
            .secret_match
            .as_ref()
            .is_some_and(|m| m.shown != self.search.value())
        {
            self.secret_match = None;
        }
        let pinned = self.secret_match.as_ref().map(|m| m.id.as_deref());
        let needle = normalize_search(self.search.value());
        let finder = memmem::Finder::new(needle.as_bytes());
        let matches = |key: &KeyRecord, haystack: &str| match pinned {
            Some(id) => id == Some(key.id.as_str()),
            None => needle.is_empty() || finder.find(haystack.as_bytes()).is_some(),
        };
        let passes = |i: usize| {
            let key = &self.keys[i];
            self.environment_filter.is_none_or(|e| key.environment == e)
                && self.status_filter.is_none_or(|s| key.status_at(now) == s)
                && self.usage_filter.passes(key.last_used_at, now)
                && matches(key, &self.haystacks[i])
        };
        // Filtering the sorted order keeps the rows sorted: no sort per keystroke.
        self.visible = match &self.order {
            Some(order) => order.iter().copied().filter(|&i| passes(i)).collect(),
            None => (0..self.keys.len()).filter(|&i| passes(i)).collect(),
        };
        let searching = pinned.is_some() || !needle.is_empty();
        self.default_matches = searching
            && self
                .default_key
                .as_ref()
                .is_some_and(|key| matches(key, &search_text(&key.name, &key.masked_key, &key.id)));
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
        self.resort();
        self.refilter(now);
    }

    /// Use counts and last uses of some keys were read again (and written into `keys`): an
    /// order by usage puts them where they now belong, the selection staying on its key.
    pub fn usage_changed(&mut self, now: DateTime<Utc>) {
        for sort in [SortBy::LastUsed, SortBy::Uses] {
            self.orders[sort_slot(sort)] = None;
        }
        if matches!(self.sort, SortBy::LastUsed | SortBy::Uses) {
            self.order = None;
            self.order_slot = None;
            self.resort();
            self.refilter(now);
        } else if self.usage_filter != UsageFilter::All {
            // A key just used leaves "Never used" and "Unused 30+ days".
            self.refilter(now);
        }
    }

    /// The keys changed: no order worked out so far is true of them.
    fn forget_orders(&mut self) {
        self.order = None;
        self.order_slot = None;
        self.orders = Default::default();
    }

    /// Makes `order` the current sort's, worked out now unless it was before for this list.
    fn resort(&mut self) {
        // The order in use goes back to its slot (unless the list changed since it was made).
        if let Some(previous) = self.order.take()
            && let Some(slot) = self.order_slot.take()
        {
            self.orders[slot] = Some(previous);
        }
        if self.sort == SortBy::Created {
            return;
        }
        let slot = sort_slot(self.sort);
        self.order = Some(match self.orders[slot].take() {
            Some(order) => order,
            None => self
                .sort
                .order(&self.keys, |i| folded_name(&self.haystacks[i])),
        });
        self.order_slot = Some(slot);
    }
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
            .map(|&i| list.keys[i].id.as_str())
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
        let mut keys = list.keys.clone();
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
        let keys: Vec<KeyRecord> = list.keys.iter().filter(|k| k.id != "k7").cloned().collect();
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
        let mut keys = list.keys.clone();
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
        let at = list.keys.iter().position(|k| k.id == "k2").unwrap();
        list.keys[at].last_used_at = Some(now());
        list.usage_changed(now());
        assert_eq!(visible_ids(&list), ["k1", "k3"]);
    }

    #[test]
    fn next_expiry_is_the_soonest_future_one_of_unrevoked_keys() {
        let mut list = list();
        assert_eq!(list.next_expiry(now()), None);
        let soon = now() + TimeDelta::hours(1);
        let mut keys = list.keys.clone();
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
}
