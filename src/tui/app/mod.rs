//! The dashboard's state and the one function that changes it. The key list, its loading and
//! each dialog are types of their own; the App routes actions to them and runs the store and
//! clipboard work they ask for.

mod admin;
mod marking;
mod pointer;
mod refresh;
mod writes;

use std::ops::Deref;

use chrono::{DateTime, Utc};
use ratatui::layout::Rect;

use super::action::Action;
use super::clipboard::Clipboard;
use super::counting::Counting;
use super::dialog::{
    AddKey, ConfirmRevoke, ConfirmRotate, CreateDefault, Details, Effect, Help, Outcome, RenameKey,
    SetLimit,
};
use super::key_list::KeyList;
use super::keymap::{self, Context};
use super::layout;
use super::loader::{Due, Loader, Read, Taken};
use super::marks::Marks;
use super::writer::{Done, Job, Writer};
use crate::environment::Status;
use crate::store::{IssuedKey, KeyRecord, Store};

pub use super::dialog::{Modal, NewKeyDialog};
pub use super::loader::{FIRST_PAGE, RELOAD_INTERVAL};

/// Days of usage the detail view charts.
pub const USAGE_DAYS: u32 = 30;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    Table,
    DefaultPanel,
}

/// A one-line message under the table: the result of the last action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub text: String,
    pub is_error: bool,
}

pub struct App {
    store: Store,
    pub workspace: String,
    clipboard: Box<dyn Clipboard>,
    /// The keys, their search and filters and the selection; read through [`Deref`].
    list: KeyList,
    /// Rows marked for a bulk revoke, by key id: outside the list, so that they outlast
    /// its searches, filters, sorts and reloads.
    pub marks: Marks,
    loader: Loader,
    /// The workspaces overlay's count of active keys, while it runs on its own thread.
    counting: Option<Counting>,
    /// Where store writes run: on a thread of their own when set (the real dashboard, and
    /// tests of waiting), inline on `store` otherwise, settled when `update` returns.
    writer: Option<Writer>,
    pub search_focused: bool,
    pub focus: Focus,
    pub modal: Option<Modal>,
    pub notice: Option<Notice>,
    pub now: DateTime<Utc>,
    /// The terminal's area as last reported ([`Action::Resize`]); `None` until then, as in
    /// tests that never resize: pages are [`layout::DEFAULT_PAGE_ROWS`] rows and nothing
    /// scrolls but what the view clamps.
    pub terminal_area: Option<Rect>,
    pub should_quit: bool,
    /// A quit withdrew a write that waited for another process's lock.
    withdrew: bool,
}

/// Reading the App reads its key list too (`app.keys`, `app.visible`, `app.selected`, …):
/// views, tests and benchmarks see one model, as they did before the list had a type of its
/// own. There is no `DerefMut`: the list changes only in [`App::update`].
impl Deref for App {
    type Target = KeyList;

    fn deref(&self) -> &KeyList {
        &self.list
    }
}

impl App {
    /// The dashboard with every read done inline: each state is settled when `update`
    /// returns, as tests and benchmarks want.
    pub fn new(store: Store, workspace: &str, clipboard: Box<dyn Clipboard>) -> App {
        let mut app = App::with_loader(store, workspace, clipboard, Loader::inline());
        app.reload();
        app
    }

    /// The dashboard as the binary runs it: the first frame shows the first page of keys, and
    /// the whole list, which search and filters work on, is read on a background thread and
    /// replaces it when it arrives ([`Action::KeysLoaded`]).
    pub fn new_in_background(store: Store, workspace: &str, clipboard: Box<dyn Clipboard>) -> App {
        let loader = Loader::in_background(&store, workspace);
        let mut app = App::with_loader(store, workspace, clipboard, loader);
        let first = app
            .loader
            .first_page(&app.store, &app.workspace, &mut app.list, app.now);
        if let Err(err) = first {
            app.say_error(err.to_string());
        }
        app.reload();
        app
    }

    fn with_loader(
        store: Store,
        workspace: &str,
        clipboard: Box<dyn Clipboard>,
        loader: Loader,
    ) -> App {
        let now = store.now();
        App {
            store,
            workspace: workspace.to_owned(),
            clipboard,
            list: KeyList::default(),
            marks: Marks::default(),
            loader,
            counting: None,
            writer: None,
            search_focused: false,
            focus: Focus::Table,
            modal: None,
            notice: None,
            now,
            terminal_area: None,
            should_quit: false,
            withdrew: false,
        }
    }

    /// Store writes go to `writer`'s thread from now on, so the screen keeps drawing while
    /// one waits for another process's lock.
    pub fn write_in_background(&mut self, writer: Writer) {
        self.writer = Some(writer);
    }

    /// The open dialog waits for its write: it says so, and takes only Esc (withdraw) and
    /// Ctrl-C (quit).
    pub fn is_waiting(&self) -> bool {
        self.writer.as_ref().is_some_and(Writer::is_waiting)
    }

    /// A write's answer has not been taken yet: the event loop looks for it often.
    pub fn has_outstanding_write(&self) -> bool {
        self.writer.as_ref().is_some_and(Writer::has_outstanding)
    }

    /// Waits up to `timeout` for a write's answer (see [`Writer::settle`]); the event loop then
    /// sends [`Action::WriteDone`].
    pub fn settle_write(&mut self, timeout: std::time::Duration) {
        if let Some(writer) = &mut self.writer {
            writer.settle(timeout);
        }
    }

    /// The dashboard is ending: withdraws a write still waiting, and says whether there was
    /// one (the change it asked for was then not made).
    pub fn withdraw_waiting_write(&mut self) -> bool {
        self.withdrew || self.writer.as_mut().is_some_and(Writer::withdraw)
    }

    /// A full read of the key list is under way on the background thread.
    pub fn is_loading(&self) -> bool {
        self.loader.is_loading()
    }

    /// The workspaces overlay's count of active keys runs on its own thread.
    pub fn is_counting(&self) -> bool {
        self.counting.is_some()
    }

    /// While the first full read is under way: how many keys the table will hold.
    pub fn loading_total(&self) -> Option<usize> {
        self.loader.loading_total()
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The terminal cannot hold the layout: a notice shows instead, and only quitting is
    /// offered, since nothing the other keys would act on is visible.
    pub fn too_small(&self) -> bool {
        self.terminal_area.is_some_and(layout::too_small)
    }

    /// Key rows on screen: how far PgDn and PgUp move.
    pub fn page_rows(&self) -> usize {
        self.terminal_area
            .map_or(layout::DEFAULT_PAGE_ROWS, layout::page_rows)
    }

    /// Which bindings apply now.
    pub fn context(&self) -> Context {
        match &self.modal {
            _ if self.too_small() => Context::TooSmall,
            _ if self.is_waiting() => Context::Waiting,
            Some(modal) => modal.context(),
            None if self.search_focused => Context::Search,
            None => Context::Main,
        }
    }

    /// The key that rotate, revoke and details act on: the table's selected row, or the
    /// default key when its panel has focus.
    pub fn focused_key(&self) -> Option<&KeyRecord> {
        match self.focus {
            Focus::DefaultPanel => self.list.default_key.as_ref(),
            Focus::Table => self.list.selected_key(),
        }
    }

    /// Whether `action` would do something now: the footer leaves out the rest (no "r rotate"
    /// with nothing selected, no "D default" when the workspace has one).
    pub fn offers(&self, action: &Action) -> bool {
        let focused_status = self.focused_key().map(|k| k.status_at(self.now));
        match action {
            Action::OpenCreateDefault => self.list.default_key.is_none(),
            Action::OpenRotate => focused_status.is_some_and(ConfirmRotate::allows),
            Action::OpenRevoke if self.revokes_marks() => true,
            Action::ToggleMark => {
                self.focus == Focus::Table
                    && focused_status.is_some_and(|status| status != Status::Revoked)
            }
            Action::OpenRevoke | Action::OpenLimit | Action::OpenRename => {
                focused_status.is_some_and(ConfirmRevoke::allows)
            }
            Action::OpenDetails => self.focused_key().is_some(),
            Action::Move(_) => !self.list.visible.is_empty() || self.modal.is_some(),
            Action::ClearSearch => {
                !self.list.search.value().is_empty()
                    || self.search_focused
                    || !self.marks.is_empty()
            }
            _ => true,
        }
    }

    /// Keys in the table before filtering ("M" in "N of M keys").
    pub fn total_keys(&self) -> usize {
        self.loading_total().unwrap_or(self.list.keys.len())
    }

    pub fn update(&mut self, action: Action) {
        match action {
            // Only what fits changes: the notice stays, and the store is not looked at.
            Action::Resize(width, height) => {
                self.terminal_area = Some(Rect::new(0, 0, width, height));
            }
            Action::KeysLoaded => self.take_loaded(),
            Action::WorkspacesCounted => self.take_counted(),
            Action::WriteDone => self.take_written(),
            action => {
                if action != Action::Tick {
                    self.notice = None;
                }
                // Before anything reads or writes: the store's path may name another file.
                self.follow_store_file();
                match action {
                    Action::Quit => self.quit(),
                    Action::Tick => self.tick(),
                    Action::Cancel if self.is_waiting() => self.withdraw(),
                    // Nothing else may act while a write waits: a `y` or an edit must not
                    // change what that write is about, nor queue a second one behind it.
                    _ if self.is_waiting() => {}
                    action if self.modal.is_some() => self.update_modal(action),
                    action => self.update_main(action),
                }
            }
        }
        // Whatever moved the selection, changed the rows or resized the screen, the selected
        // row stays on it. Under the too-small notice no rows show, so none are followed.
        if let Some(area) = self.terminal_area.filter(|area| !layout::too_small(*area)) {
            self.list.keep_in_view(layout::page_rows(area));
        }
    }

    fn update_main(&mut self, action: Action) {
        let now = self.now;
        match action {
            Action::Move(movement) => {
                self.focus = Focus::Table;
                self.list.move_selection(movement, self.page_rows());
            }
            Action::FocusNext | Action::FocusPrevious => {
                self.focus = match self.focus {
                    Focus::Table => Focus::DefaultPanel,
                    Focus::DefaultPanel => Focus::Table,
                };
            }
            Action::StartSearch => {
                self.search_focused = true;
                self.focus = Focus::Table;
            }
            Action::KeepSearch => self.search_focused = false,
            Action::ClearSearch
                if self.list.search.value().is_empty()
                    && !self.search_focused
                    && !self.marks.is_empty() =>
            {
                self.clear_marks()
            }
            Action::ClearSearch => {
                self.search_focused = false;
                self.list.clear_search(now);
            }
            Action::Edit(request) => {
                self.list.edit_search(request, now);
                self.search_changed();
            }
            Action::Paste(text) => {
                self.list.paste_search(&text, now);
                self.search_changed();
            }
            Action::CycleEnvironmentFilter => self.list.cycle_environment_filter(now),
            Action::CycleStatusFilter => self.list.cycle_status_filter(now),
            Action::CycleUsageFilter => self.list.cycle_usage_filter(now),
            Action::CycleSort => self.list.cycle_sort(now),
            Action::OpenAddKey => self.modal = Some(Modal::AddKey(AddKey::default())),
            Action::OpenCreateDefault => match &self.list.default_key {
                Some(key) => self.say_error(format!(
                    "The workspace already has an active default key ({}); rotate or revoke it instead.",
                    key.id
                )),
                None => self.modal = Some(Modal::CreateDefault(CreateDefault::default())),
            },
            Action::OpenRotate => self.open_for_focused_key(ConfirmRotate::allows, |key| {
                Modal::ConfirmRotate(ConfirmRotate::new(key))
            }),
            Action::ToggleMark => self.toggle_mark(),
            Action::SelectRow(row) => self.select_row(row),
            Action::OpenRevoke if self.revokes_marks() => self.open_bulk_revoke(),
            Action::OpenRevoke => self.open_for_focused_key(ConfirmRevoke::allows, |key| {
                Modal::ConfirmRevoke(ConfirmRevoke::new(key))
            }),
            Action::OpenLimit => self.open_for_focused_key(ConfirmRevoke::allows, |key| {
                Modal::SetLimit(SetLimit::new(key))
            }),
            // Like a limit, a name can change until the key is revoked.
            Action::OpenRename => self.open_for_focused_key(ConfirmRevoke::allows, |key| {
                Modal::Rename(RenameKey::new(key))
            }),
            Action::OpenDetails => match self.focused_key().cloned() {
                Some(key) => self.open_details(key),
                None => self.say_error("There is no key here to show.".into()),
            },
            Action::OpenHelp => self.modal = Some(Modal::Help(Help::default())),
            Action::OpenWorkspaces => self.open_workspaces(),
            Action::OpenAuditLog => self.open_audit_log(),
            _ => {}
        }
    }

    /// After the search text changed. A full key in it is taken out at once (the box shows
    /// its masked form) and looked up by digest, since admins paste keys to ask "which one is
    /// this?". When what the search finds is the default key alone, its panel takes focus,
    /// since the key has no row in the table.
    fn search_changed(&mut self) {
        if let Some(secret) = self.list.take_full_key() {
            match self.store.find_by_secret(&self.workspace, secret.expose()) {
                Ok(found) => {
                    self.list.found_secret(found.as_ref(), self.now);
                    match &found {
                        Some(key) => self.say(identified(key, &secret.masked(), self.now)),
                        None => self.say_error(format!(
                            "No key of workspace {} has the secret {}.",
                            self.workspace,
                            secret.masked()
                        )),
                    }
                }
                Err(err) => self.say_error(err.to_string()),
            }
        }
        self.focus = match self.list.default_matches && self.list.visible.is_empty() {
            true => Focus::DefaultPanel,
            false => Focus::Table,
        };
    }

    /// Opens the dialog `open` makes for the focused key, when its status `allows` it;
    /// explains the refusal otherwise.
    fn open_for_focused_key(
        &mut self,
        allows: fn(Status) -> bool,
        open: impl FnOnce(KeyRecord) -> Modal,
    ) {
        let Some(key) = self.focused_key().cloned() else {
            let hint = match self.focus {
                Focus::DefaultPanel => format!(
                    "The workspace has no default key; press {} to create one.",
                    keymap::key_name(Context::Main, &Action::OpenCreateDefault)
                ),
                Focus::Table => "No key is selected.".into(),
            };
            return self.say_error(hint);
        };
        match key.status_at(self.now) {
            status if allows(status) => self.modal = Some(open(key)),
            Status::Revoked => self.say_error(format!(
                "{} is revoked; a revoked key cannot change.",
                key.id
            )),
            Status::Expired => {
                self.say_error(format!("{} has expired; create a new key instead.", key.id))
            }
            // Not reached: rotate and revoke both allow an active key.
            Status::Active => self.say_error(format!("{} is active; nothing to do.", key.id)),
        }
    }

    /// `Quit` (Ctrl-C anywhere, `q` where it is bound). A new key that has not been copied is
    /// never lost to it: the first quit asks "close without copying?" as closing the dialog
    /// would, and only a quit while that question is showing leaves.
    fn quit(&mut self) {
        if let Some(Modal::NewKey(dialog)) = &mut self.modal
            && !dialog.quit_may_go_ahead()
        {
            return;
        }
        // A write still waiting is withdrawn first; one the store already took is let
        // finish, so that the key it makes is shown rather than lost.
        if let Some(writer) = &mut self.writer
            && writer.is_waiting()
        {
            if !writer.withdraw() {
                self.say("The change is being written; quit again once it is shown.".into());
                return;
            }
            self.withdrew = true;
        }
        self.should_quit = true;
    }

    fn say(&mut self, text: String) {
        self.notice = Some(Notice {
            text,
            is_error: false,
        });
    }

    fn say_error(&mut self, text: String) {
        self.notice = Some(Notice {
            text,
            is_error: true,
        });
    }
}

/// What a pasted full key turned out to be, for the notice: never the key itself, only its
/// masked form and the key it belongs to.
fn identified(key: &KeyRecord, masked: &str, now: DateTime<Utc>) -> String {
    let which = match key.masked_key == masked {
        true => format!("{masked} is"),
        false => format!("{masked} is an earlier secret (before a rotation) of"),
    };
    let place = match key.is_default && key.status_at(now) == Status::Active {
        true => ": the workspace's default key, in the Default API Key panel",
        false => "",
    };
    format!(
        "{which} {} \"{}\" ({}, {}){place}.",
        key.id,
        key.name,
        key.environment.label(),
        key.status_at(now)
    )
}

/// `App::update` over a real store in a temporary directory: an action in, the new state (and
/// the store) out. The flows through real key events and the rendered screens are in
/// `tests/dashboard.rs`.
#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use chrono::TimeZone;

    use super::*;
    use crate::Environment;
    use crate::clock::ManualClock;
    use crate::entropy::SeededEntropy;
    use crate::store::{NewKey, StoreOptions};
    use crate::tui::action::Movement;
    use crate::tui::clipboard::Osc52Only;
    use tui_input::InputRequest;

    const WS: &str = "default";

    /// The app and the directory its store lives in (dropped after it).
    struct Fixture {
        app: App,
        path: std::path::PathBuf,
        clock: Arc<ManualClock>,
        _dir: tempfile::TempDir,
    }

    impl Fixture {
        /// `keys` keys named "Key 1", "Key 2", …, no default key.
        fn with_keys(keys: usize) -> Fixture {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("hivekeys.db");
            let clock = Arc::new(ManualClock::new(
                Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0).unwrap(),
            ));
            let mut store = Store::open_with(&path, options(&clock, 1)).unwrap();
            for i in 1..=keys {
                let new = NewKey::new(format!("Key {i}"), Environment::Staging);
                store.create_key(WS, new).unwrap();
            }
            let app = App::new(store, WS, Box::new(Osc52Only::default()));
            Fixture {
                app,
                path,
                clock,
                _dir: dir,
            }
        }

        /// Another process's connection to the same store.
        fn other_store(&self) -> Store {
            Store::open_with(&self.path, options(&self.clock, 2)).unwrap()
        }

        fn send(&mut self, actions: impl IntoIterator<Item = Action>) {
            for action in actions {
                self.app.update(action);
            }
        }

        fn stored(&self, id: &str) -> KeyRecord {
            self.app.store().get_key(WS, id).unwrap()
        }
    }

    fn options(clock: &Arc<ManualClock>, seed: u64) -> StoreOptions {
        StoreOptions {
            clock: clock.clone(),
            entropy: Box::new(SeededEntropy::new(seed)),
            actor: "alice".into(),
            ..StoreOptions::default()
        }
    }

    fn typed(text: &str) -> Vec<Action> {
        text.chars()
            .map(|c| Action::Edit(InputRequest::InsertChar(c)))
            .collect()
    }

    #[test]
    fn a_resize_decides_what_fits_and_keeps_the_notice() {
        let mut fx = Fixture::with_keys(1);
        assert_eq!(fx.app.page_rows(), layout::DEFAULT_PAGE_ROWS);
        fx.send([Action::FocusNext, Action::OpenRotate]);
        let notice = fx.app.notice.clone().expect("no default key to rotate");
        fx.send([Action::Resize(59, 15)]);
        assert_eq!(fx.app.context(), Context::TooSmall);
        assert_eq!(fx.app.notice, Some(notice), "a resize is not an answer");
        fx.send([Action::Resize(120, 40)]);
        assert_eq!(fx.app.context(), Context::Main);
        assert_eq!(
            fx.app.page_rows(),
            layout::page_rows(Rect::new(0, 0, 120, 40))
        );
    }

    #[test]
    fn paging_moves_by_the_rows_on_screen_and_the_window_follows() {
        let mut fx = Fixture::with_keys(30);
        fx.send([Action::Resize(80, 24)]);
        let page = fx.app.page_rows();
        fx.send([Action::Move(Movement::PageDown)]);
        assert_eq!(fx.app.selected, page);
        assert_eq!(fx.app.scroll, 1, "the selection is the last row on screen");
        fx.send([Action::Move(Movement::Bottom)]);
        assert_eq!(fx.app.scroll, 30 - page);
        fx.send([Action::Move(Movement::Up)]);
        assert_eq!(fx.app.scroll, 30 - page, "still on screen: the rows stay");
        fx.send([Action::Resize(120, 40)]);
        assert_eq!(
            fx.app.scroll,
            30 - fx.app.page_rows(),
            "no empty rows below"
        );
    }

    #[test]
    fn x_then_y_revokes_the_selected_key_in_the_store() {
        let mut fx = Fixture::with_keys(3);
        fx.send([Action::Move(Movement::Down)]);
        let key = fx.app.focused_key().unwrap().clone();
        fx.send([Action::OpenRevoke]);
        assert_eq!(fx.app.context(), Context::ConfirmRevoke);
        assert_eq!(fx.stored(&key.id).revoked_at, None, "only asked so far");
        fx.send([Action::Confirm]);
        assert!(fx.app.modal.is_none());
        assert!(fx.stored(&key.id).revoked_at.is_some());
        let row = fx.app.focused_key().unwrap();
        assert_eq!(
            (row.id.as_str(), row.status_at(fx.app.now)),
            (key.id.as_str(), Status::Revoked)
        );
        let notice = fx.app.notice.clone().unwrap();
        assert!(
            !notice.is_error && notice.text.starts_with("Revoked"),
            "{notice:?}"
        );
        fx.send([Action::OpenRevoke]);
        assert!(
            fx.app.modal.is_none(),
            "a revoked key cannot be revoked again"
        );
    }

    #[test]
    fn a_new_key_is_shown_once_copied_and_closed() {
        let mut fx = Fixture::with_keys(0);
        fx.send([Action::OpenAddKey]);
        fx.send(typed("Billing"));
        fx.send([Action::ChoiceNext, Action::Submit]);
        let Some(Modal::NewKey(dialog)) = &fx.app.modal else {
            panic!("the new key is not shown");
        };
        let id = dialog.key.id.clone();
        assert!(dialog.secret.expose().starts_with("fhk_stg_"));
        assert_eq!(fx.stored(&id).environment, Environment::Staging);
        assert_eq!(
            fx.app.focused_key().unwrap().id,
            id,
            "the new row is selected"
        );

        fx.send([Action::Quit]);
        assert!(!fx.app.should_quit, "not copied: asks first");
        assert_eq!(fx.app.context(), Context::ConfirmClose);
        fx.send([Action::Cancel, Action::Copy]);
        let Some(Modal::NewKey(dialog)) = &fx.app.modal else {
            panic!("the new key is gone");
        };
        assert!(dialog.copied.is_some());
        fx.send([Action::Submit]);
        assert!(fx.app.modal.is_none());
        assert!(fx.app.notice.as_ref().unwrap().text.starts_with("Created"));
    }

    #[test]
    fn a_store_refusal_stays_in_the_dialog() {
        let mut fx = Fixture::with_keys(0);
        fx.send([Action::OpenAddKey, Action::Submit]);
        let Some(Modal::AddKey(dialog)) = &fx.app.modal else {
            panic!("Add API Key closed");
        };
        assert!(dialog.error.is_some(), "an empty name is explained");
        // Another process creates the default key while this dialog is open.
        fx.send([Action::Cancel, Action::OpenCreateDefault]);
        let mut other = fx.other_store();
        other
            .create_default_key(WS, Environment::Development)
            .unwrap();
        fx.send([Action::Submit]);
        let Some(Modal::CreateDefault(dialog)) = &fx.app.modal else {
            panic!("the dialog closed on a refusal");
        };
        assert!(
            dialog.error.as_ref().unwrap().contains("default"),
            "{:?}",
            dialog.error
        );
    }

    #[test]
    fn a_key_revoked_elsewhere_closes_its_rotate_dialog_with_the_news() {
        let mut fx = Fixture::with_keys(2);
        let key = fx.app.focused_key().unwrap().clone();
        fx.send([Action::OpenRotate, Action::ChoiceNext]);
        fx.other_store().revoke_key(WS, &key.id).unwrap();
        fx.send([Action::Confirm]);
        assert!(fx.app.modal.is_none());
        assert!(fx.app.notice.as_ref().unwrap().is_error);
        let row = fx.app.keys.iter().find(|k| k.id == key.id).unwrap();
        assert_eq!(row.status_at(fx.app.now), Status::Revoked, "read again");
        assert_eq!(fx.stored(&key.id).rotated_at, None);
    }

    #[test]
    fn overlays_scroll_no_further_than_their_text_at_the_known_size() {
        let mut fx = Fixture::with_keys(1);
        fx.send([Action::Resize(120, 40), Action::OpenHelp]);
        fx.send(std::iter::repeat_n(Action::Move(Movement::Down), 500));
        let Some(Modal::Help(help)) = &fx.app.modal else {
            panic!("help is not open");
        };
        let max = crate::tui::view::help::max_scroll(Rect::new(0, 0, 120, 40));
        assert_eq!(help.scroll, max);
        fx.send([
            Action::Cancel,
            Action::OpenDetails,
            Action::Move(Movement::Bottom),
        ]);
        let Some(Modal::Details(details)) = &fx.app.modal else {
            panic!("details are not open");
        };
        assert_eq!(details.scroll, 0, "one event fits on a 40-line screen");
    }

    #[test]
    fn search_and_filters_narrow_the_rows() {
        let mut fx = Fixture::with_keys(12);
        fx.send([Action::StartSearch]);
        assert_eq!(fx.app.context(), Context::Search);
        fx.send(typed("key 1"));
        assert_eq!(fx.app.visible.len(), 4, "Key 1, Key 10, Key 11, Key 12");
        fx.send([Action::KeepSearch, Action::CycleEnvironmentFilter]);
        assert!(fx.app.visible.is_empty(), "no production keys");
        fx.send([Action::ClearSearch, Action::CycleEnvironmentFilter]);
        assert_eq!(fx.app.environment_filter, Some(Environment::Staging));
        assert_eq!(fx.app.visible.len(), 12);
        assert_eq!(fx.app.context(), Context::Main);
    }
}
