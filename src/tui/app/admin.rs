//! The admin console's overlays: the workspaces (listing, creating, switching the whole
//! screen to another) and the audit log (read a page at a time).

use super::*;
use crate::store::{AuditQuery, WorkspaceSummary, uncounted_with_current};
use crate::tui::counting::Counting;
use crate::tui::dialog::{AuditLog, LOG_PAGE, Workspaces};

impl App {
    /// Opens at once on the workspaces' names (the workspaces table alone); their active keys,
    /// which take a pass over every key, are counted on a thread of their own when the
    /// dashboard reads in the background, and show when the count lands
    /// ([`Action::WorkspacesCounted`]). Read inline, they are counted here.
    pub(super) fn open_workspaces(&mut self) {
        let entries = match self.list_workspaces() {
            Ok(entries) => entries,
            Err(err) => return self.say_error(err.to_string()),
        };
        let mut overlay = Workspaces::new(entries);
        if self.loader.is_background() {
            // A count still under way from an earlier opening is dropped: this one is newer.
            self.counting = Some(Counting::start(self.store.counter()));
        } else {
            let counted = self.store.workspaces();
            self.counted(&mut overlay, counted);
        }
        self.modal = Some(Modal::Workspaces(overlay));
    }

    /// The workspaces, current one included, their keys not counted.
    fn list_workspaces(&self) -> crate::Result<Vec<crate::store::ListedWorkspace>> {
        let stored = self.store.stored_workspaces()?;
        Ok(uncounted_with_current(stored, &self.workspace))
    }

    /// The background count may have landed: the overlay shows it, if still open.
    pub(super) fn take_counted(&mut self) {
        let Some(result) = self
            .counting
            .as_ref()
            .and_then(|c| c.take(self.store.path()))
        else {
            return;
        };
        self.counting = None;
        let mut modal = self.modal.take();
        if let Some(Modal::Workspaces(overlay)) = &mut modal {
            self.counted(overlay, result);
        }
        self.modal = modal;
    }

    fn counted(&mut self, overlay: &mut Workspaces, result: crate::Result<Vec<WorkspaceSummary>>) {
        match result {
            Ok(counts) => overlay.counted(counts),
            Err(err) => {
                overlay.count_failed();
                self.say_error(format!("The active keys could not be counted: {err}"));
            }
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
        // The names alone, as at opening: the counts known (or still coming) apply to them.
        let listed = self.list_workspaces();
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
