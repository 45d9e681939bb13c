//! Following the store: other processes' changes (a full read when keys change, only the
//! use counts on screen when bookkeeping alone did), the file the path names, and what an
//! open dialog or detail view shows.

use super::*;
use crate::store::KeyUsage;

impl App {
    pub(super) fn open_details(&mut self, key: KeyRecord) {
        match self.read_details(key) {
            Ok(details) => self.modal = Some(Modal::Details(details)),
            Err(err) => self.say_error(err.to_string()),
        }
    }

    /// What the detail view shows of `key`, read from the store.
    pub(super) fn read_details(&self, key: KeyRecord) -> crate::Result<Details> {
        let secrets = self.store.live_secrets(&self.workspace, &key.id)?;
        let events = self.store.audit_trail(&self.workspace, &key.id)?;
        let usage = self
            .store
            .daily_usage(&self.workspace, &key.id, USAGE_DAYS)?;
        let leaks = self.store.key_leaks(&self.workspace, &key.id)?;
        Ok(Details {
            key,
            secrets,
            events,
            usage,
            leaks,
            scroll: 0,
        })
    }

    /// The list was read again: an open dialog about a key follows what is true of it now.
    /// A confirmation shows someone else's change and asks again, Rename Key the key's name
    /// now; the detail view reads its secrets, trail and uses again, keeping its scroll.
    pub(super) fn follow_open_modal(&mut self) {
        let id = match &self.modal {
            Some(Modal::Details(details)) => details.key.id.clone(),
            Some(modal) => match modal.following() {
                Some(id) => id.to_owned(),
                None => return,
            },
            None => return,
        };
        let fresh = match self.list.keys.position(&id) {
            Some(row) => Some(self.list.keys.record(row)),
            None => self.list.default_key.clone().filter(|key| key.id == id),
        };
        match &mut self.modal {
            Some(Modal::Details(details)) => {
                let key = fresh.unwrap_or_else(|| details.key.clone());
                let scroll = details.scroll;
                match self.read_details(key) {
                    Ok(read) => self.modal = Some(Modal::Details(Details { scroll, ..read })),
                    Err(err) => self.say_error(err.to_string()),
                }
            }
            Some(modal) => {
                if let Some(fresh) = fresh {
                    modal.follow(&fresh, false);
                }
            }
            None => {}
        }
    }

    /// Follows the store's path to the file it names now: after a backup was restored over
    /// it, the dashboard reopens it and reads it again; while it is deleted, it says so and the
    /// store refuses every change.
    pub(super) fn follow_store_file(&mut self) {
        match self.store.check_file() {
            Ok(()) => {}
            Err(crate::Error::StoreReplaced { .. }) => match self.store.reopen() {
                Ok(()) => {
                    // Every row, dialog and read under way belongs to the old file.
                    self.modal = None;
                    self.loader.forget(&mut self.list, self.now);
                    self.reload();
                    self.say(format!(
                        "The store file {} was replaced by another; showing that one now.",
                        crate::text::printable_path(self.store.path())
                    ));
                }
                Err(err) => self.say_error(err.to_string()),
            },
            Err(err) => self.say_error(err.to_string()),
        }
    }

    pub(super) fn tick(&mut self) {
        let before = std::mem::replace(&mut self.now, self.store.now());
        // "Used in 30 days" moves with the clock: a key crosses the line with no write to the
        // store, so nothing else would refilter. Once a minute is enough for a 30-day window.
        if self.list.usage_filter.moves_with_time()
            && before.timestamp().div_euclid(60) != self.now.timestamp().div_euclid(60)
        {
            self.list.refilter(self.now);
        }
        match self.loader.due(&self.store, self.now) {
            Ok(Due::Nothing) => {}
            Ok(Due::Reload) => self.reload(),
            Ok(Due::UseCounts) => self.refresh_use_counts(),
            Err(err) => self.say_error(err.to_string()),
        }
    }

    /// Only use counts changed: reads them again for the rows on screen, the default key and
    /// an open detail view — a few indexed reads, whatever the size of the workspace.
    pub(super) fn refresh_use_counts(&mut self) {
        let rows = self.page_rows();
        let on_screen: Vec<usize> = self
            .list
            .visible
            .iter()
            .skip(self.list.scroll)
            .take(rows)
            .map(|&i| i as usize)
            .collect();
        let mut ids: Vec<String> = on_screen
            .iter()
            .map(|&index| self.list.keys.id(index).to_owned())
            .collect();
        ids.extend(self.list.default_key.as_ref().map(|key| key.id.clone()));
        let id_refs: Vec<&str> = ids.iter().map(String::as_str).collect();
        let usage = match self.store.usage_of(&self.workspace, &id_refs) {
            Ok(usage) => usage,
            Err(err) => return self.say_error(err.to_string()),
        };
        let (rows_usage, default_usage) = usage.split_at(on_screen.len());
        let read: Vec<(usize, KeyUsage)> = on_screen
            .iter()
            .zip(rows_usage)
            .filter_map(|(&index, usage)| usage.map(|usage| (index, usage)))
            .collect();
        if let (Some(key), Some(Some(usage))) = (&mut self.list.default_key, default_usage.first())
        {
            key.last_used_at = usage.last_used_at;
            key.use_count = usage.use_count;
        }
        self.list.set_usage(&read, self.now);
        // The detail view's key may be anywhere in the list: read it alone.
        if let Some(Modal::Details(details)) = &self.modal {
            let scroll = details.scroll;
            let read = self
                .store
                .get_key(&self.workspace, &details.key.id)
                .and_then(|key| self.read_details(key));
            match read {
                Ok(read) => self.modal = Some(Modal::Details(Details { scroll, ..read })),
                Err(err) => self.say_error(err.to_string()),
            }
        }
    }

    /// Reads the workspace's keys again, keeping the selection on the same key: at once, or
    /// by starting a background read.
    pub fn reload(&mut self) {
        self.now = self.store.now();
        match self.loader.reload(&self.store, &self.workspace, self.now) {
            Ok(Some(read)) => self.install(read),
            Ok(None) => {}
            Err(err) => self.say_error(err.to_string()),
        }
    }

    /// A background read may have finished: show its keys, or read again if the dashboard
    /// changed a key meanwhile.
    pub(super) fn take_loaded(&mut self) {
        match self.loader.take(self.store.path()) {
            Taken::Nothing => {}
            Taken::Outdated => self.reload(),
            Taken::Keys(read) => self.install(*read),
            Taken::Failed(err) => self.say_error(err.to_string()),
        }
    }

    pub(super) fn install(&mut self, read: Read) {
        self.loader.install(read, &mut self.list, self.now);
        self.prune_marks();
        self.follow_open_modal();
    }

    /// After the dashboard itself changed `record`.
    pub(super) fn changed(&mut self, record: &KeyRecord) {
        self.now = self.store.now();
        if self.loader.patch(record, &mut self.list, self.now) {
            self.reload();
        }
    }
}
