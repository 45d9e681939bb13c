//! The admin console's overlays: the workspaces (listing, creating, switching the whole
//! screen to another) and the audit log (read a page at a time).

use super::*;
use crate::store::{AuditQuery, WorkspaceSummary, with_current};
use crate::tui::dialog::{AuditLog, LOG_PAGE, Workspaces};

impl App {
    pub(super) fn open_workspaces(&mut self) {
        match self.store.workspaces() {
            Ok(stored) => {
                let entries = with_current(stored, &self.workspace);
                self.modal = Some(Modal::Workspaces(Workspaces::new(entries)));
            }
            Err(err) => self.say_error(err.to_string()),
        }
    }

    /// The newest page of the log: one bounded, indexed read, however long the log is.
    pub(super) fn open_audit_log(&mut self) {
        match self.read_log(None) {
            Ok(page) => self.modal = Some(Modal::AuditLog(AuditLog::new(page))),
            Err(err) => self.say_error(err.to_string()),
        }
    }

    pub(super) fn read_older_log(&mut self) {
        let Some(Modal::AuditLog(log)) = &self.modal else {
            return;
        };
        let read = self.read_log(log.oldest());
        let rows = self
            .terminal_area
            .map_or(10, crate::tui::view::admin::log_rows);
        match (read, &mut self.modal) {
            (Ok(page), Some(Modal::AuditLog(log))) => log.append(page, rows),
            (Err(err), _) => self.say_error(err.to_string()),
            _ => {}
        }
    }

    fn read_log(&self, before: Option<i64>) -> crate::Result<Vec<crate::store::LoggedEvent>> {
        let query = AuditQuery {
            before,
            limit: Some(LOG_PAGE),
            ..AuditQuery::default()
        };
        self.store.audit_log(&self.workspace, &query)
    }

    /// The workspace was created: the list shows it, selected, so Enter switches to it.
    pub(super) fn workspace_created(&mut self, created: WorkspaceSummary) {
        let listed = self
            .store
            .workspaces()
            .map(|s| with_current(s, &self.workspace));
        match (listed, &mut self.modal) {
            (Ok(entries), Some(Modal::Workspaces(overlay))) => {
                overlay.relist(entries, &created.name)
            }
            (Err(err), _) => return self.say_error(err.to_string()),
            _ => {}
        }
        let enter = keymap::key_name(Context::Workspaces, &Action::Submit);
        self.say(format!(
            "Created workspace \"{}\"; press {enter} to switch to it.",
            crate::text::echo(&created.name, 64)
        ));
    }

    /// Shows `workspace` instead of the current one: the header, the default key panel and
    /// the table, and with them the background reads, the writes and the watch for other
    /// processes' changes, which all take the workspace from here. Search, filters and
    /// selection start afresh: they were about the other workspace's keys.
    pub(super) fn switch_workspace(&mut self, workspace: String) {
        // A write's answer belongs to the workspace it was made in.
        if self.has_outstanding_write() {
            return self
                .say_error("A change is still being written; switch once it is shown.".into());
        }
        self.modal = None;
        self.search_focused = false;
        self.focus = Focus::Table;
        self.workspace = workspace;
        self.list = KeyList::default();
        // Marks name keys of the workspace left behind: x must never revoke them from here.
        self.marks = Default::default();
        self.now = self.store.now();
        if self.loader.is_background() {
            // The read under way (if any) is of the other workspace: dropped with its loader.
            self.loader = Loader::in_background(&self.store, &self.workspace);
            let first =
                self.loader
                    .first_page(&self.store, &self.workspace, &mut self.list, self.now);
            if let Err(err) = first {
                return self.say_error(err.to_string());
            }
        } else {
            self.loader = Loader::inline();
        }
        self.reload();
        self.say(format!(
            "Now in workspace \"{}\".",
            crate::text::echo(&self.workspace, 64)
        ));
    }
}
