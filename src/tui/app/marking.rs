//! Marks for a bulk revoke: toggling them, the one confirmation, what its answer changes, and
//! keeping them true to the store as the list is read again.

use super::*;
use crate::store::BulkRevoked;
use crate::tui::dialog::ConfirmBulkRevoke;

impl App {
    /// `Space`: marks the selected row, or unmarks it, then moves down a row so that a run of
    /// rows is marked by pressing it again (as file managers do). Only table rows can be
    /// marked: the active default key, in its own panel, is revoked alone, with its own
    /// confirmation. A revoked key cannot be marked: there is nothing left to revoke.
    pub(super) fn toggle_mark(&mut self) {
        if self.focus != Focus::Table {
            return self.say_error(format!(
                "Only rows of the table can be marked; the default key is revoked on its own with {}.",
                keymap::key_name(Context::Main, &Action::OpenRevoke)
            ));
        }
        let Some(key) = self.list.selected_key() else {
            return self.say_error("No key is selected.".into());
        };
        if key.status_at(self.now) == Status::Revoked && !self.marks.contains(&key.id) {
            return self.say_error(format!(
                "{} is revoked already; there is nothing to revoke.",
                key.id
            ));
        }
        let id = key.id.clone();
        self.marks.toggle(&id);
        self.list
            .move_selection(crate::tui::action::Movement::Down, self.page_rows());
    }

    /// Whether `x` is about the marks: there are some, and the table has focus.
    pub(super) fn revokes_marks(&self) -> bool {
        !self.marks.is_empty() && self.focus == Focus::Table
    }

    /// `x` with rows marked: one confirmation for all of them, whether or not the current
    /// search and filters show them.
    pub(super) fn open_bulk_revoke(&mut self) {
        let mut keys = self.marked_keys();
        let order = self.marks.ids();
        keys.sort_by_key(|key| order.iter().position(|id| *id == key.id));
        self.modal = Some(Modal::BulkRevoke(ConfirmBulkRevoke::new(keys)));
    }

    /// The marked keys among the table's rows, whole (only they: a million rows are not all
    /// built for a few marks).
    fn marked_keys(&self) -> Vec<KeyRecord> {
        let rows = &self.list.keys;
        match self.marks.is_empty() {
            true => Vec::new(),
            false => (0..rows.len())
                .filter(|&i| self.marks.contains(rows.id(i)))
                .map(|i| rows.record(i))
                .collect(),
        }
    }

    /// `Esc` with no search to clear.
    pub(super) fn clear_marks(&mut self) {
        let count = self.marks.len();
        self.marks.clear();
        self.say(match count {
            1 => "Unmarked 1 key.".to_owned(),
            n => format!("Unmarked {n} keys."),
        });
    }

    /// The list was read again: marks on keys gone from it or revoked meanwhile go, and the
    /// notice says which.
    pub(super) fn prune_marks(&mut self) {
        let marked = self.marked_keys();
        let dropped = self.marks.prune(&marked, self.now);
        if !dropped.is_empty() {
            self.say(dropped.notice());
        }
    }

    /// The marked keys were revoked (or found revoked already): they are unmarked, their
    /// rows show it, and the notice counts both kinds.
    pub(super) fn bulk_revoked(&mut self, done: BulkRevoked, awaited: bool) {
        if awaited {
            self.modal = None;
        }
        let dealt_with = done.revoked.iter().chain(&done.already_revoked);
        self.marks
            .remove_all(dealt_with.clone().map(|key| key.id.as_str()));
        self.now = self.store.now();
        let mut read_again = false;
        for record in dealt_with {
            read_again |= self.loader.patch(record, &mut self.list, self.now);
        }
        if read_again {
            self.reload();
        }
        let consequence = match done.revoked.is_empty() {
            true => "nothing changed",
            false => "apps using them can no longer authenticate",
        };
        self.say(format!("{}: {consequence}.", done.summary()));
    }
}
