//! The dashboard, tested in two layers over a real SQLite store in a temporary directory:
//!
//! - **update**: real crossterm events through `keymap::action_for` and `App::update`, with
//!   assertions on the state the app exposes and on the store itself;
//! - **snapshots**: the rendered screen in ratatui's `TestBackend`, compared with the `insta`
//!   snapshots in `tests/snapshots/dashboard__*.snap`.
//!
//! The clock stands still and the entropy is seeded, so the demo data, the ids, the secrets
//! and every relative time are the same on every run. State only ever changes through
//! `App::update`; fields are read, never written.

mod common;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use chrono::TimeDelta;
use common::dashboard::{Drive, key_event, press_event, render, t0};
use common::{store_options, styled_buffer};
use hivekeys::clock::ManualClock;
use hivekeys::store::{Grace, InvalidReason, Verification};
use hivekeys::tui::action::{Action, Movement};
use hivekeys::tui::app::{App, Focus, Modal, NewKeyDialog, RELOAD_INTERVAL};
use hivekeys::tui::clipboard::{CopyReport, Osc52Only};
use hivekeys::tui::dialog::{AddKey, ConfirmRevoke, ConfirmRotate, CreateDefault, Details, Help};
use hivekeys::tui::keymap::{self, Context};
use hivekeys::tui::view::{self, theme::Theme};
use hivekeys::{Environment, KeyQuery, KeyRecord, NewKey, Status, Store};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{
    Event, KeyCode, KeyEvent, KeyEventKind, KeyEventState, KeyModifiers,
};
use tempfile::TempDir;
use tui_input::InputRequest;

const WS: &str = "default";

// ---------------------------------------------------------------------------------------------
// Fixture
// ---------------------------------------------------------------------------------------------

/// An app over a store in a fresh temporary directory. Fields drop in order: the app (and its
/// store) closes before the directory goes.
struct Fixture {
    app: App,
    clock: Arc<ManualClock>,
    path: PathBuf,
    /// Another process's write lock, held for the fixture's life (see `Context::Waiting`).
    lock: Option<rusqlite::Connection>,
    _dir: TempDir,
}

impl Drive for Fixture {
    fn app(&self) -> &App {
        &self.app
    }

    fn app_mut(&mut self) -> &mut App {
        &mut self.app
    }
}

impl Fixture {
    /// An empty store: no keys, no default key.
    fn empty() -> Fixture {
        Fixture::with(|_| {})
    }

    /// The demo workspace: 40 keys (some revoked, rotated, expired) and a default key.
    fn demo() -> Fixture {
        Fixture::with(|store| {
            store.fill_demo(WS, 41, 7).unwrap();
        })
    }

    fn with(prepare: impl FnOnce(&mut Store)) -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hivekeys.db");
        let clock = Arc::new(ManualClock::new(t0()));
        let mut store = Store::open_with(&path, store_options(&clock, 42)).unwrap();
        prepare(&mut store);
        let app = App::new(store, WS, Box::new(Osc52Only::default()));
        Fixture {
            app,
            clock,
            path,
            lock: None,
            _dir: dir,
        }
    }

    /// A second connection to the same file, as another admin's process would have: same
    /// clock, different entropy.
    fn other_process(&self) -> Store {
        Store::open_with(&self.path, store_options(&self.clock, 4242)).unwrap()
    }

    fn update(&mut self, action: Action) {
        self.app.update(action);
    }

    fn focused_id(&self) -> Option<String> {
        self.app.focused_key().map(|k| k.id.clone())
    }

    fn visible_keys(&self) -> Vec<KeyRecord> {
        self.app
            .visible
            .iter()
            .map(|&i| self.app.keys.record(i as usize))
            .collect()
    }

    fn store_count(&self) -> u64 {
        self.app
            .store()
            .count_keys(WS, &KeyQuery::default())
            .unwrap()
    }

    fn stored(&self, id: &str) -> KeyRecord {
        self.app.store().get_key(WS, id).unwrap()
    }

    /// Moves the table selection down until `wanted` holds for the focused key.
    fn select_where(&mut self, wanted: impl Fn(&KeyRecord) -> bool) -> KeyRecord {
        self.press(KeyCode::Home);
        for _ in 0..self.app.visible.len() {
            let key = self.app.focused_key().cloned().expect("a focused key");
            if wanted(&key) {
                return key;
            }
            self.press(KeyCode::Down);
        }
        panic!("no visible key matches");
    }

    fn select_active(&mut self) -> KeyRecord {
        let now = self.app.now;
        self.select_where(|k| k.status_at(now) == Status::Active)
    }

    fn new_key_dialog(&self) -> &NewKeyDialog {
        match &self.app.modal {
            Some(Modal::NewKey(dialog)) => dialog,
            _ => panic!("the new-key dialog is not open ({:?})", self.app.context()),
        }
    }

    /// The full key shown in the open new-key dialog.
    fn shown_secret(&self) -> String {
        self.new_key_dialog().secret.expose().to_owned()
    }

    fn add_key_error(&self) -> Option<String> {
        match &self.app.modal {
            Some(Modal::AddKey(AddKey { error, .. })) => error.clone(),
            _ => panic!("the Add API Key dialog is not open"),
        }
    }

    fn add_key_name(&self) -> String {
        match &self.app.modal {
            Some(Modal::AddKey(AddKey { name, .. })) => name.value().to_owned(),
            _ => panic!("the Add API Key dialog is not open"),
        }
    }

    fn notice(&self) -> (String, bool) {
        let notice = self.app.notice.as_ref().expect("a notice");
        (notice.text.clone(), notice.is_error)
    }

    /// Adds a key through the dialog (a, name, Enter), copies it and closes the dialog;
    /// returns the record and the full key.
    fn add_key(&mut self, name: &str) -> (KeyRecord, String) {
        self.char('a');
        self.type_text(name);
        self.press(KeyCode::Enter);
        let secret = self.shown_secret();
        let record = self.new_key_dialog().key.clone();
        self.char('c');
        self.press(KeyCode::Enter);
        assert_eq!(self.app.context(), Context::Main);
        (record, secret)
    }

    /// A tick once the reload throttle lets other processes' changes in: `RELOAD_INTERVAL`
    /// after the last reload.
    fn tick_later(&mut self) {
        self.clock.advance(RELOAD_INTERVAL);
        self.update(Action::Tick);
    }
}

/// Renders twice from the same state: the output must not depend on anything but the state.
fn stable_screen(app: &App, width: u16, height: u16) -> String {
    let first = render(app, width, height);
    let second = render(app, width, height);
    assert_eq!(first, second, "rendering the same state twice differs");
    first
}

fn plain(code: KeyCode) -> Event {
    key_event(code, KeyModifiers::NONE)
}

/// A printable key as a terminal reports it: capitals and shifted symbols carry Shift.
fn char_key(c: char) -> Event {
    press_event(KeyCode::Char(c))
}

fn ctrl_c() -> Event {
    key_event(KeyCode::Char('c'), KeyModifiers::CONTROL)
}

fn back_tab() -> Event {
    key_event(KeyCode::BackTab, KeyModifiers::SHIFT)
}

fn verify(store: &mut Store, full_key: &str) -> Result<String, InvalidReason> {
    match store.verify(full_key).unwrap() {
        Verification::Valid(key) => Ok(key.id),
        Verification::Invalid(reason) => Err(reason),
    }
}

// ---------------------------------------------------------------------------------------------
// Update: moving in the table
// ---------------------------------------------------------------------------------------------

#[test]
fn demo_store_loads_into_the_table_and_the_default_panel() {
    let fx = Fixture::demo();
    let app = &fx.app;
    assert_eq!(app.context(), Context::Main);
    assert_eq!(app.focus, Focus::Table, "focus starts in the table");
    let default = app
        .default_key
        .as_ref()
        .expect("fill_demo creates a default key");
    assert!(default.is_default);
    assert_eq!(default.environment, Environment::Production);
    assert_eq!(
        app.total_keys(),
        40,
        "the active default is not a table row"
    );
    assert!(app.keys.iter().all(|k| k.id != default.id));
    assert_eq!(app.visible.len(), 40);
    assert_eq!(app.selected, 0);
    assert_eq!(
        fx.focused_id(),
        Some(app.keys.id(app.visible[0] as usize).to_owned())
    );
    // Newest first, like the store lists them.
    let created: Vec<_> = fx.visible_keys().iter().map(|k| k.created_at).collect();
    assert!(created.windows(2).all(|w| w[0] >= w[1]), "{created:?}");
    // The demo is a mix, so the filters below have something to filter.
    for status in [Status::Active, Status::Revoked, Status::Expired] {
        assert!(
            app.keys.iter().any(|k| k.status_at(app.now) == status),
            "no {status:?} key in the demo"
        );
    }
}

#[test]
fn j_k_and_arrows_move_the_selection_one_row() {
    let mut fx = Fixture::demo();
    let ids = fx.visible_ids();
    let cases: &[(Event, usize)] = &[
        (char_key('j'), 1),
        (plain(KeyCode::Down), 2),
        (char_key('j'), 3),
        (char_key('k'), 2),
        (plain(KeyCode::Up), 1),
        (char_key('k'), 0),
        (char_key('k'), 0),
        (plain(KeyCode::Up), 0),
    ];
    for (event, expected) in cases {
        fx.send(event.clone());
        assert_eq!(fx.app.selected, *expected, "after {event:?}");
        assert_eq!(fx.focused_id().as_ref(), Some(&ids[*expected]));
    }
}

#[test]
fn g_and_capital_g_jump_to_the_first_and_last_rows() {
    let mut fx = Fixture::demo();
    let ids = fx.visible_ids();
    assert_eq!(fx.char('G'), Some(Action::Move(Movement::Bottom)));
    assert_eq!(fx.app.selected, 39);
    assert_eq!(fx.focused_id().as_ref(), ids.last());
    // Down at the bottom stays there.
    fx.char('j');
    assert_eq!(fx.app.selected, 39);
    assert_eq!(fx.char('g'), Some(Action::Move(Movement::Top)));
    assert_eq!(fx.app.selected, 0);
    assert_eq!(fx.focused_id().as_ref(), ids.first());
}

#[test]
fn page_down_and_up_move_by_the_rows_on_screen() {
    let mut fx = Fixture::demo();
    let ids = fx.visible_ids();
    // Drawing records how many rows fit; paging follows it.
    fx.screen(120, 40);
    let page = fx.app.page_rows();
    assert!(page > 1 && page < 40, "rows on a 40-line screen: {page}");
    assert_eq!(
        fx.press(KeyCode::PageDown),
        Some(Action::Move(Movement::PageDown))
    );
    assert_eq!(fx.app.selected, page);
    assert_eq!(fx.focused_id().as_ref(), Some(&ids[page]));
    fx.press(KeyCode::PageDown);
    fx.press(KeyCode::PageDown);
    fx.press(KeyCode::PageDown);
    assert_eq!(fx.app.selected, 39, "PgDn stops at the last row");
    fx.press(KeyCode::PageUp);
    assert_eq!(fx.app.selected, 39 - page);
    for _ in 0..5 {
        fx.press(KeyCode::PageUp);
    }
    assert_eq!(fx.app.selected, 0, "PgUp stops at the first row");

    // A smaller screen makes smaller pages.
    fx.screen(80, 24);
    let small_page = fx.app.page_rows();
    assert!(small_page < page);
    fx.press(KeyCode::PageDown);
    assert_eq!(fx.app.selected, small_page);
}

#[test]
fn the_selected_row_stays_on_screen_while_moving() {
    let mut fx = Fixture::demo();
    for _ in 0..39 {
        fx.char('j');
        let screen = fx.screen(80, 24);
        let name = &fx.app.focused_key().unwrap().masked_key;
        let selected_line = screen
            .lines()
            .find(|line| line.contains('▶') && line.contains(name.as_str()));
        assert!(
            selected_line.is_some(),
            "row {} ({name}) is not on screen:\n{screen}",
            fx.app.selected
        );
    }
}

#[test]
fn moving_in_an_empty_table_is_harmless() {
    let mut fx = Fixture::empty();
    for event in [
        char_key('j'),
        char_key('k'),
        char_key('g'),
        char_key('G'),
        plain(KeyCode::PageDown),
        plain(KeyCode::PageUp),
    ] {
        fx.send(event);
        assert_eq!(fx.app.selected, 0);
        assert!(fx.app.focused_key().is_none());
    }
    let screen = fx.screen(120, 40);
    assert!(screen.contains("No additional keys yet."), "{screen}");
}

#[test]
fn tab_and_shift_tab_move_focus_between_the_table_and_the_default_panel() {
    let mut fx = Fixture::demo();
    let default_id = fx.app.default_key.as_ref().unwrap().id.clone();
    fx.char('j');
    let row_id = fx.focused_id().unwrap();

    assert_eq!(fx.press(KeyCode::Tab), Some(Action::FocusNext));
    assert_eq!(fx.app.focus, Focus::DefaultPanel);
    assert_eq!(fx.focused_id(), Some(default_id.clone()));
    fx.press(KeyCode::Tab);
    assert_eq!(fx.app.focus, Focus::Table);
    assert_eq!(
        fx.focused_id(),
        Some(row_id.clone()),
        "the row selection is kept"
    );

    assert_eq!(fx.send(back_tab()), Some(Action::FocusPrevious));
    assert_eq!(fx.app.focus, Focus::DefaultPanel);
    assert_eq!(fx.focused_id(), Some(default_id));
    fx.send(back_tab());
    assert_eq!(fx.app.focus, Focus::Table);
    assert_eq!(fx.focused_id(), Some(row_id));
}

#[test]
fn the_panel_marks_its_focus_on_screen() {
    let mut fx = Fixture::demo();
    let screen = fx.screen(120, 40);
    assert!(screen.contains("▶ API Keys"), "{screen}");
    assert!(!screen.contains("▶ Default API Key"), "{screen}");
    fx.press(KeyCode::Tab);
    let screen = fx.screen(120, 40);
    assert!(screen.contains("▶ Default API Key"), "{screen}");
    assert!(!screen.contains("▶ API Keys"), "{screen}");
    assert!(screen.contains("r Rotate Key"), "{screen}");
}

// ---------------------------------------------------------------------------------------------
// Update: search and filters
// ---------------------------------------------------------------------------------------------

#[test]
fn slash_opens_search_and_typing_filters_live() {
    let mut fx = Fixture::demo();
    assert_eq!(fx.char('/'), Some(Action::StartSearch));
    assert_eq!(fx.app.context(), Context::Search);
    let name = fx.app.keys.name(fx.app.visible[5] as usize).to_owned();
    let word: String = name.chars().take(4).collect();
    let mut previous = fx.app.visible.len();
    for (typed, c) in word.chars().enumerate() {
        fx.char(c);
        assert_eq!(fx.app.search.value().chars().count(), typed + 1);
        let now = fx.app.visible.len();
        assert!(now <= previous, "typing never widens the result");
        previous = now;
        let typed_so_far: String = word
            .chars()
            .take(typed + 1)
            .collect::<String>()
            .to_lowercase();
        assert!(
            fx.visible_keys()
                .iter()
                .all(|k| k.name.to_lowercase().contains(&typed_so_far)
                    || k.masked_key.to_lowercase().contains(&typed_so_far)
                    || k.id.contains(&typed_so_far)),
            "every visible row matches {typed_so_far:?}"
        );
    }
    assert!(fx.app.visible.len() < 40, "\"{word}\" narrows the table");
    assert!(fx.visible_keys().iter().any(|k| k.name == name));
}

#[test]
fn search_is_case_insensitive() {
    let mut fx = Fixture::demo();
    let expected: Vec<String> = fx
        .visible_keys()
        .iter()
        .filter(|k| k.name.to_lowercase().contains("checkout"))
        .map(|k| k.id.clone())
        .collect();
    assert!(!expected.is_empty(), "the demo has Checkout keys");
    for typed in ["checkout", "CHECKOUT", "cHeCkOuT"] {
        fx.char('/');
        fx.type_text(typed);
        assert_eq!(fx.visible_ids(), expected, "{typed}");
        fx.press(KeyCode::Esc);
    }
    // Non-ASCII names fold too.
    fx.char('/');
    fx.type_text("ÉQUIPE");
    assert!(!fx.app.visible.is_empty());
    assert!(
        fx.visible_keys()
            .iter()
            .all(|k| k.name.starts_with("Équipe"))
    );
}

#[test]
fn search_matches_the_masked_key_and_the_id() {
    let mut fx = Fixture::demo();
    let target = fx.app.keys.record(fx.app.visible[7] as usize);

    fx.char('/');
    fx.type_text(&target.id);
    assert_eq!(fx.visible_ids(), vec![target.id.clone()], "search by id");
    fx.press(KeyCode::Esc);

    // The masked key's last four characters (mixed case, say "SXJv"), typed in lower case.
    let tail = &target.masked_key[target.masked_key.len() - 4..];
    fx.char('/');
    fx.type_text(&tail.to_lowercase());
    assert!(
        fx.visible_ids().contains(&target.id),
        "search by the masked key's tail {tail:?}"
    );
    fx.press(KeyCode::Esc);

    // The whole masked key, ellipsis and all, as someone might paste it from the table.
    fx.char('/');
    fx.paste(&target.masked_key);
    assert_eq!(
        fx.visible_ids(),
        vec![target.id.clone()],
        "search by masked key"
    );
}

#[test]
fn enter_keeps_the_search_and_esc_clears_it() {
    let mut fx = Fixture::demo();
    fx.char('/');
    fx.type_text("bot");
    let filtered = fx.visible_ids();
    assert!(!filtered.is_empty() && filtered.len() < 40);

    assert_eq!(fx.press(KeyCode::Enter), Some(Action::KeepSearch));
    assert_eq!(fx.app.context(), Context::Main);
    assert_eq!(fx.app.search.value(), "bot");
    assert_eq!(fx.visible_ids(), filtered, "the search stays applied");
    // Back in the table, keys are bindings again.
    fx.char('j');
    assert_eq!(fx.app.search.value(), "bot");

    // `/` again continues the same search.
    fx.char('/');
    assert_eq!(fx.app.search.value(), "bot");
    assert_eq!(fx.press(KeyCode::Esc), Some(Action::ClearSearch));
    assert_eq!(fx.app.context(), Context::Main);
    assert_eq!(fx.app.search.value(), "");
    assert_eq!(fx.app.visible.len(), 40);

    // Esc in the table clears a kept search too (the help lists it).
    fx.char('/');
    fx.type_text("bot");
    fx.press(KeyCode::Enter);
    assert_eq!(fx.press(KeyCode::Esc), Some(Action::ClearSearch));
    assert_eq!(fx.app.search.value(), "");
    assert_eq!(fx.app.visible.len(), 40);
}

#[test]
fn search_box_takes_bindings_as_text_and_edits() {
    let mut fx = Fixture::demo();
    fx.char('/');
    for c in ['q', 'j', 'x', 'D', '?', 'e', 's', 'a', 'r', 'G'] {
        assert_eq!(fx.char(c), Some(Action::Edit(InputRequest::InsertChar(c))));
    }
    assert!(!fx.app.should_quit, "q is typed, not a quit");
    assert!(
        fx.app.modal.is_none(),
        "no dialog opened from the search box"
    );
    assert_eq!(fx.app.environment_filter, None);
    assert_eq!(fx.app.search.value(), "qjxD?esarG");
    fx.press(KeyCode::Backspace);
    assert_eq!(fx.app.search.value(), "qjxD?esar");
    // ↓/↑ still move in the search box.
    fx.press(KeyCode::Esc);
    fx.char('/');
    fx.press(KeyCode::Down);
    assert_eq!(fx.app.selected, 1);
    assert_eq!(fx.app.context(), Context::Search);
}

#[test]
fn pasting_into_the_search_box_filters_and_drops_control_characters() {
    let mut fx = Fixture::demo();
    let id = fx.app.keys.id(fx.app.visible[2] as usize).to_owned();
    fx.char('/');
    assert_eq!(
        fx.paste(&format!("{id}\n")),
        Some(Action::Paste(format!("{id}\n")))
    );
    assert_eq!(fx.app.search.value(), id);
    assert_eq!(fx.visible_ids(), vec![id]);
    assert_eq!(
        fx.app.context(),
        Context::Search,
        "a pasted newline is not Enter"
    );
    // Paste in the table (no text field) is ignored.
    fx.press(KeyCode::Enter);
    assert_eq!(fx.paste("zzz"), None);
}

#[test]
fn search_with_no_match_shows_an_empty_table_and_keeps_working() {
    let mut fx = Fixture::demo();
    fx.char('/');
    fx.type_text("zzzz");
    assert!(fx.app.visible.is_empty());
    assert!(fx.app.focused_key().is_none());
    fx.press(KeyCode::Enter);
    // Rotate, revoke and details have nothing to act on, and say so.
    for c in ['r', 'x'] {
        fx.char(c);
        assert!(fx.app.modal.is_none());
        let (_, is_error) = fx.notice();
        assert!(is_error);
    }
    fx.press(KeyCode::Enter);
    assert!(fx.app.modal.is_none());
    assert!(fx.notice().1);
    fx.press(KeyCode::Esc);
    assert_eq!(fx.app.visible.len(), 40);
}

#[test]
fn narrowing_the_search_keeps_the_selection_valid() {
    let mut fx = Fixture::demo();
    fx.char('G');
    fx.char('/');
    fx.type_text("e");
    assert!(fx.app.selected < fx.app.visible.len().max(1));
    fx.type_text("zzzz");
    assert_eq!(fx.app.selected, 0);
    fx.press(KeyCode::Backspace);
    fx.press(KeyCode::Backspace);
    fx.press(KeyCode::Backspace);
    fx.press(KeyCode::Backspace);
    assert!(fx.app.selected < fx.app.visible.len());
    assert_focused_row_marked(&mut fx);
}

/// On screen, the focused key is the row marked selected.
#[track_caller]
fn assert_focused_row_marked(fx: &mut Fixture) {
    let focused = fx
        .app
        .focused_key()
        .expect("a focused key")
        .masked_key
        .clone();
    let screen = fx.screen(120, 40);
    assert!(
        screen
            .lines()
            .any(|row| row.contains(&focused) && row.contains('▶')),
        "the focused key is not the row marked selected:\n{screen}"
    );
}

#[test]
fn e_cycles_the_environment_filter() {
    let mut fx = Fixture::demo();
    let expected = [
        Some(Environment::Production),
        Some(Environment::Staging),
        Some(Environment::Development),
        None,
        Some(Environment::Production),
    ];
    let mut seen = 0;
    for want in expected {
        assert_eq!(fx.char('e'), Some(Action::CycleEnvironmentFilter));
        assert_eq!(fx.app.environment_filter, want);
        match want {
            Some(env) => {
                assert!(fx.visible_keys().iter().all(|k| k.environment == env));
                let count = fx.app.keys.iter().filter(|k| k.environment == env).count();
                assert_eq!(fx.app.visible.len(), count);
                seen += count;
            }
            None => assert_eq!(fx.app.visible.len(), 40),
        }
    }
    // Production is counted twice (the cycle comes back to it); the three cover every key.
    let production = fx
        .app
        .keys
        .iter()
        .filter(|k| k.environment == Environment::Production)
        .count();
    assert_eq!(
        seen - production,
        40,
        "the three environments cover every key"
    );
}

#[test]
fn s_cycles_the_status_filter() {
    let mut fx = Fixture::demo();
    let now = fx.app.now;
    let expected = [
        Some(Status::Active),
        Some(Status::Revoked),
        Some(Status::Expired),
        None,
        Some(Status::Active),
    ];
    for want in expected {
        assert_eq!(fx.char('s'), Some(Action::CycleStatusFilter));
        assert_eq!(fx.app.status_filter, want);
        match want {
            Some(status) => {
                assert!(!fx.app.visible.is_empty(), "{status:?}");
                assert!(fx.visible_keys().iter().all(|k| k.status_at(now) == status));
                let count = fx
                    .app
                    .keys
                    .iter()
                    .filter(|k| k.status_at(now) == status)
                    .count();
                assert_eq!(fx.app.visible.len(), count);
            }
            None => assert_eq!(fx.app.visible.len(), 40),
        }
    }
}

#[test]
fn filters_and_search_combine_and_the_count_says_n_of_m() {
    let mut fx = Fixture::demo();
    fx.char('e');
    fx.char('s');
    let now = fx.app.now;
    let expected = fx
        .app
        .keys
        .iter()
        .filter(|k| k.environment == Environment::Production && k.status_at(now) == Status::Active)
        .count();
    assert_eq!(fx.app.visible.len(), expected);
    let screen = fx.screen(120, 40);
    assert!(
        screen.contains(&format!(" {expected} of 40 keys ")),
        "{screen}"
    );
    assert!(screen.contains("[Environment: Production]"), "{screen}");
    assert!(screen.contains("[Status: Active]"), "{screen}");
}

// ---------------------------------------------------------------------------------------------
// Update: Add API Key
// ---------------------------------------------------------------------------------------------

#[test]
fn a_opens_add_key_where_letters_are_typed_not_bound() {
    let mut fx = Fixture::demo();
    assert_eq!(fx.char('a'), Some(Action::OpenAddKey));
    assert_eq!(fx.app.context(), Context::AddKey);
    match &fx.app.modal {
        Some(Modal::AddKey(AddKey {
            name,
            environment,
            expiry,
            focus: _,
            error,
        })) => {
            assert_eq!(name.value(), "");
            assert_eq!(*environment, Environment::Production);
            assert_eq!(*expiry, hivekeys::expiry::ExpiryChoice::Never);
            assert_eq!(*error, None);
        }
        _ => panic!("Add API Key is not open"),
    }
    fx.type_text("qjkxrDseua?/");
    assert_eq!(fx.add_key_name(), "qjkxrDseua?/");
    assert!(!fx.app.should_quit, "q typed in the name does not quit");
    assert_eq!(fx.app.context(), Context::AddKey);
    assert_eq!(fx.add_key_error(), None);
}

#[test]
fn esc_cancels_add_key_and_creates_nothing() {
    let mut fx = Fixture::demo();
    let before = fx.store_count();
    fx.char('a');
    fx.type_text("Checkout worker");
    assert_eq!(fx.press(KeyCode::Esc), Some(Action::Cancel));
    assert!(fx.app.modal.is_none());
    assert_eq!(fx.app.context(), Context::Main);
    assert_eq!(fx.store_count(), before);
    // Opening it again starts blank.
    fx.char('a');
    assert_eq!(fx.add_key_name(), "");
}

#[test]
fn enter_with_an_empty_name_shows_an_error_and_creates_nothing() {
    let mut fx = Fixture::demo();
    let before = fx.store_count();
    fx.char('a');
    assert_eq!(fx.press(KeyCode::Enter), Some(Action::Submit));
    assert_eq!(fx.app.context(), Context::AddKey, "the dialog stays open");
    let error = fx.add_key_error().expect("an error for an empty name");
    assert!(error.to_lowercase().contains("empty"), "{error}");
    assert_eq!(fx.store_count(), before);

    // Spaces only are empty too.
    fx.type_text("   ");
    fx.press(KeyCode::Enter);
    assert_eq!(fx.app.context(), Context::AddKey);
    assert!(fx.add_key_error().is_some());
    assert_eq!(fx.store_count(), before);
}

#[test]
fn a_name_too_long_is_flagged_while_typing_and_refused() {
    let mut fx = Fixture::demo();
    let before = fx.store_count();
    fx.char('a');
    fx.type_text(&"n".repeat(64));
    assert_eq!(
        fx.add_key_error(),
        None,
        "64 characters is the limit, not over it"
    );
    fx.char('n');
    let error = fx.add_key_error().expect("65 characters is too long");
    assert!(error.contains("65") && error.contains("64"), "{error}");
    fx.press(KeyCode::Enter);
    assert_eq!(fx.app.context(), Context::AddKey);
    assert_eq!(fx.store_count(), before);
    fx.press(KeyCode::Backspace);
    assert_eq!(fx.add_key_error(), None, "fixing the name clears the error");
}

#[test]
fn enter_with_a_valid_name_creates_the_key_and_shows_it_once() {
    let mut fx = Fixture::demo();
    let before = fx.store_count();
    fx.char('a');
    fx.type_text("Billing worker");
    fx.press(KeyCode::Down); // Staging
    fx.press(KeyCode::Enter);
    assert_eq!(fx.app.context(), Context::NewKey);
    assert_eq!(fx.store_count(), before + 1);

    let dialog = fx.new_key_dialog();
    assert!(!dialog.rotated);
    assert_eq!(dialog.copied, None);
    assert_eq!(dialog.key.name, "Billing worker");
    assert_eq!(dialog.key.environment, Environment::Staging);
    let secret = fx.shown_secret();
    let id = dialog.key.id.clone();
    assert_eq!(dialog.key.masked_key, hivekeys::key::mask(&secret));

    // The table has it, selected, behind the dialog.
    assert!(fx.app.keys.iter().any(|k| k.id == id));
    assert_eq!(fx.focused_id(), Some(id.clone()));
    assert_eq!(fx.stored(&id).environment, Environment::Staging);

    // Another process can verify the key the dialog shows.
    let mut other = fx.other_process();
    assert_eq!(verify(&mut other, &secret), Ok(id));
}

#[test]
fn the_arrows_change_the_choice_tab_moves_between_environment_and_expiry() {
    let mut fx = Fixture::empty();
    fx.char('a');
    let picked = |fx: &Fixture| match &fx.app.modal {
        Some(Modal::AddKey(AddKey {
            environment,
            expiry,
            ..
        })) => (*environment, *expiry),
        _ => panic!("Add API Key is not open"),
    };
    use hivekeys::expiry::ExpiryChoice;
    fx.press(KeyCode::Down);
    assert_eq!(picked(&fx), (Environment::Staging, ExpiryChoice::Never));
    fx.press(KeyCode::Down);
    fx.press(KeyCode::Down);
    assert_eq!(picked(&fx).0, Environment::Production, "wraps around");
    fx.press(KeyCode::Up);
    assert_eq!(picked(&fx).0, Environment::Development);
    fx.press(KeyCode::Tab);
    fx.press(KeyCode::Down);
    fx.press(KeyCode::Down);
    assert_eq!(
        picked(&fx),
        (Environment::Development, ExpiryChoice::Days90)
    );
    fx.send(back_tab());
    fx.press(KeyCode::Up);
    assert_eq!(picked(&fx), (Environment::Staging, ExpiryChoice::Days90));
    fx.type_text("Dev box");
    fx.press(KeyCode::Enter);
    let key = fx.new_key_dialog().key.clone();
    assert_eq!(key.environment, Environment::Staging);
    assert_eq!(
        key.expires_at,
        Some(key.created_at + TimeDelta::days(90)),
        "90 days from its creation"
    );
    assert_eq!(fx.stored(&key.id).expires_at, key.expires_at);
    let secret = hivekeys::Secret::parse(&fx.shown_secret()).unwrap();
    assert_eq!(secret.environment(), Environment::Staging);
}

#[test]
fn a_pasted_name_with_a_trailing_newline_fills_the_field_without_submitting() {
    let mut fx = Fixture::demo();
    let before = fx.store_count();
    fx.char('a');
    assert_eq!(
        fx.paste("Payments gateway\n"),
        Some(Action::Paste("Payments gateway\n".into()))
    );
    assert_eq!(fx.add_key_name(), "Payments gateway");
    assert_eq!(fx.add_key_error(), None);
    assert_eq!(
        fx.app.context(),
        Context::AddKey,
        "the pasted newline did not submit"
    );
    assert_eq!(fx.store_count(), before);
    fx.paste("\r\n");
    assert_eq!(fx.add_key_name(), "Payments gateway");
    assert_eq!(fx.app.context(), Context::AddKey);
    fx.press(KeyCode::Enter);
    assert_eq!(fx.app.context(), Context::NewKey);
    assert_eq!(fx.new_key_dialog().key.name, "Payments gateway");
}

#[test]
fn a_pasted_name_with_a_control_character_is_flagged_and_refused() {
    let mut fx = Fixture::demo();
    let before = fx.store_count();
    fx.char('a');
    fx.paste("evil\u{1b}[31mname");
    let error = fx.add_key_error().expect("an escape character is flagged");
    assert!(error.contains("control character"), "{error}");
    fx.press(KeyCode::Enter);
    assert_eq!(fx.app.context(), Context::AddKey);
    assert_eq!(fx.store_count(), before);

    // A multi-line paste: the inner newline is not a submit either.
    fx.press(KeyCode::Esc);
    fx.char('a');
    fx.paste("first\nsecond\n");
    assert_eq!(fx.app.context(), Context::AddKey);
    assert!(fx.add_key_error().is_some());
    assert_eq!(fx.store_count(), before);
}

#[test]
fn the_add_dialog_refuses_a_name_holding_a_key_and_shows_only_its_masked_form() {
    let mut fx = Fixture::demo();
    let (_, key) = fx.add_key("Source of a real key");
    let masked = hivekeys::key::mask(&key);
    let before = fx.store_count();
    for typed in [key.clone(), format!("my key is {key}"), format!("x{key}y")] {
        fx.char('a');
        fx.paste(&typed);
        let error = fx
            .add_key_error()
            .expect("a key as a name is flagged while typing");
        assert!(error.contains(&masked), "{error}");
        assert!(!error.contains(&key[9..41]), "{error}");
        fx.press(KeyCode::Enter);
        assert_eq!(fx.app.context(), Context::AddKey, "the dialog stays open");
        let error = fx.add_key_error().expect("and refused on Enter");
        assert!(
            error.contains(&masked) && !error.contains(&key[9..41]),
            "{error}"
        );
        // The dialog's message line shows the masked form (the field shows what was typed).
        let screen = fx.screen(120, 40);
        assert!(screen.contains(&masked[..masked.len() - 2]), "{screen}");
        assert_eq!(fx.store_count(), before, "{typed}");
        fx.press(KeyCode::Esc);
    }
}

// ---------------------------------------------------------------------------------------------
// Update: Create Default Key
// ---------------------------------------------------------------------------------------------

#[test]
fn capital_d_opens_create_default_with_production_and_enter_creates_it() {
    let mut fx = Fixture::empty();
    assert!(fx.app.default_key.is_none());
    assert_eq!(fx.char('D'), Some(Action::OpenCreateDefault));
    assert_eq!(fx.app.context(), Context::CreateDefault);
    match &fx.app.modal {
        Some(Modal::CreateDefault(CreateDefault { environment, error })) => {
            assert_eq!(*environment, Environment::Production);
            assert_eq!(*error, None);
        }
        _ => panic!("Create Default Key is not open"),
    }
    assert_eq!(fx.press(KeyCode::Enter), Some(Action::Submit));
    assert_eq!(fx.app.context(), Context::NewKey);
    let secret = fx.shown_secret();
    let dialog = fx.new_key_dialog();
    assert!(dialog.key.is_default);
    assert_eq!(dialog.key.environment, Environment::Production);
    let id = dialog.key.id.clone();
    let default = fx.app.default_key.as_ref().expect("the panel shows it");
    assert_eq!(default.id, id);
    assert!(fx.app.keys.is_empty(), "the default key is not a table row");

    let mut other = fx.other_process();
    assert_eq!(verify(&mut other, &secret), Ok(id));
}

#[test]
fn create_default_can_pick_another_environment_or_be_cancelled() {
    let mut fx = Fixture::empty();
    fx.char('D');
    assert_eq!(fx.char('n'), Some(Action::Cancel));
    assert!(fx.app.modal.is_none());
    fx.char('D');
    fx.press(KeyCode::Esc);
    assert!(fx.app.modal.is_none());
    assert_eq!(fx.store_count(), 0);

    fx.char('D');
    fx.press(KeyCode::Down);
    fx.press(KeyCode::Down);
    fx.press(KeyCode::Enter);
    assert_eq!(
        fx.app.default_key.as_ref().unwrap().environment,
        Environment::Development
    );
}

#[test]
fn capital_d_with_an_active_default_says_so_and_opens_nothing() {
    let mut fx = Fixture::demo();
    let default_id = fx.app.default_key.as_ref().unwrap().id.clone();
    let before = fx.store_count();
    fx.char('D');
    assert!(fx.app.modal.is_none());
    assert_eq!(fx.app.context(), Context::Main);
    let (text, is_error) = fx.notice();
    assert!(is_error);
    assert!(text.contains(&default_id), "{text}");
    assert_eq!(fx.store_count(), before);
    // The notice goes away with the next action.
    fx.char('j');
    assert!(fx.app.notice.is_none());
}

// ---------------------------------------------------------------------------------------------
// Update: rotate and revoke
// ---------------------------------------------------------------------------------------------

fn rotate_grace(fx: &Fixture) -> Grace {
    match &fx.app.modal {
        Some(Modal::ConfirmRotate(ConfirmRotate { grace, .. })) => *grace,
        _ => panic!("the rotate confirmation is not open"),
    }
}

#[test]
fn r_opens_the_rotate_confirmation_with_a_grace_choice() {
    let mut fx = Fixture::demo();
    let key = fx.select_active();
    assert_eq!(fx.char('r'), Some(Action::OpenRotate));
    assert_eq!(fx.app.context(), Context::ConfirmRotate);
    match &fx.app.modal {
        Some(Modal::ConfirmRotate(ConfirmRotate { key: shown, .. })) => {
            assert_eq!(shown.id, key.id)
        }
        _ => unreachable!(),
    }
    assert_eq!(rotate_grace(&fx), Grace::None);
    fx.press(KeyCode::Down);
    assert_eq!(rotate_grace(&fx), Grace::OneHour);
    fx.press(KeyCode::Down);
    assert_eq!(rotate_grace(&fx), Grace::OneDay);
    fx.press(KeyCode::Down);
    assert_eq!(rotate_grace(&fx), Grace::SevenDays);
    fx.press(KeyCode::Down);
    assert_eq!(rotate_grace(&fx), Grace::None, "wraps around");
    fx.press(KeyCode::Up);
    assert_eq!(rotate_grace(&fx), Grace::SevenDays);
    // q neither quits nor closes.
    assert_eq!(fx.char('q'), None);
    assert!(!fx.app.should_quit);
    assert_eq!(fx.app.context(), Context::ConfirmRotate);
}

#[test]
fn n_and_esc_cancel_a_rotation_and_change_nothing() {
    let mut fx = Fixture::demo();
    let key = fx.select_active();
    for cancel in [char_key('n'), plain(KeyCode::Esc)] {
        fx.char('r');
        fx.press(KeyCode::Down);
        assert_eq!(fx.send(cancel), Some(Action::Cancel));
        assert!(fx.app.modal.is_none());
        assert_eq!(fx.stored(&key.id), key, "the key is unchanged");
    }
}

#[test]
fn y_rotates_without_grace_and_the_old_secret_stops_at_once() {
    let mut fx = Fixture::empty();
    let (record, old_secret) = fx.add_key("Checkout service");
    assert_eq!(fx.focused_id(), Some(record.id.clone()));
    fx.char('r');
    assert_eq!(fx.char('y'), Some(Action::Confirm));
    assert_eq!(fx.app.context(), Context::NewKey);
    let dialog = fx.new_key_dialog();
    assert!(dialog.rotated);
    assert_eq!(dialog.key.id, record.id, "same id, new secret");
    let new_secret = fx.shown_secret();
    assert_ne!(new_secret, old_secret);
    assert!(fx.stored(&record.id).rotated_at.is_some());

    let mut other = fx.other_process();
    assert_eq!(verify(&mut other, &new_secret), Ok(record.id.clone()));
    assert_eq!(verify(&mut other, &old_secret), Err(InvalidReason::Expired));
}

#[test]
fn enter_also_confirms_a_rotation_and_a_grace_keeps_the_old_secret_for_a_while() {
    let mut fx = Fixture::empty();
    let (record, old_secret) = fx.add_key("Search backend");
    fx.char('r');
    fx.press(KeyCode::Down); // after 1 hour
    assert_eq!(fx.press(KeyCode::Enter), Some(Action::Confirm));
    let new_secret = fx.shown_secret();
    fx.char('c');
    fx.press(KeyCode::Enter);
    let (text, is_error) = fx.notice();
    assert!(!is_error);
    assert!(
        text.starts_with("Rotated") && text.contains(&record.id),
        "{text}"
    );

    let mut other = fx.other_process();
    assert_eq!(verify(&mut other, &old_secret), Ok(record.id.clone()));
    assert_eq!(verify(&mut other, &new_secret), Ok(record.id.clone()));
    fx.clock
        .advance(TimeDelta::hours(1) + TimeDelta::seconds(1));
    assert_eq!(verify(&mut other, &old_secret), Err(InvalidReason::Expired));
    assert_eq!(verify(&mut other, &new_secret), Ok(record.id));
}

#[test]
fn x_opens_the_revoke_confirmation_and_n_or_esc_cancel() {
    let mut fx = Fixture::demo();
    let key = fx.select_active();
    for cancel in [char_key('n'), plain(KeyCode::Esc)] {
        assert_eq!(fx.char('x'), Some(Action::OpenRevoke));
        assert_eq!(fx.app.context(), Context::ConfirmRevoke);
        match &fx.app.modal {
            Some(Modal::ConfirmRevoke(ConfirmRevoke {
                key: shown, error, ..
            })) => {
                assert_eq!(shown.id, key.id);
                assert_eq!(*error, None);
            }
            _ => unreachable!(),
        }
        // Enter is not a yes.
        assert_eq!(fx.press(KeyCode::Enter), None);
        assert_eq!(fx.app.context(), Context::ConfirmRevoke);
        assert_eq!(fx.send(cancel), Some(Action::Cancel));
        assert!(fx.app.modal.is_none());
        assert_eq!(fx.stored(&key.id).revoked_at, None);
    }
}

#[test]
fn y_revokes_the_focused_key_and_the_table_shows_it() {
    let mut fx = Fixture::demo();
    let key = fx.select_active();
    let selected = fx.app.selected;
    fx.char('x');
    assert_eq!(fx.char('y'), Some(Action::Confirm));
    assert!(fx.app.modal.is_none());
    let (text, is_error) = fx.notice();
    assert!(!is_error);
    assert!(text.contains(&key.id) && text.contains("Revoked"), "{text}");
    assert!(fx.stored(&key.id).revoked_at.is_some());
    let row = fx.app.keys.iter().find(|k| k.id == key.id).unwrap();
    assert_eq!(row.status_at(fx.app.now), Status::Revoked);
    assert_eq!(fx.app.selected, selected, "the selection stays on the key");
    assert_eq!(fx.focused_id(), Some(key.id));
}

#[test]
fn a_revoked_key_really_stops_working() {
    let mut fx = Fixture::empty();
    let (record, secret) = fx.add_key("Mobile app");
    fx.char('x');
    fx.char('y');
    let mut other = fx.other_process();
    assert_eq!(verify(&mut other, &secret), Err(InvalidReason::Revoked));
    assert_eq!(
        fx.app
            .keys
            .iter()
            .find(|k| k.id == record.id)
            .unwrap()
            .revoked_at,
        Some(t0())
    );
}

#[test]
fn r_and_x_on_a_revoked_key_and_r_on_an_expired_one_refuse_with_a_notice() {
    let mut fx = Fixture::demo();
    let now = fx.app.now;
    for (status, keys) in [
        (Status::Revoked, &['r', 'x'][..]),
        (Status::Expired, &['r']),
    ] {
        let key = fx.select_where(|k| k.status_at(now) == status);
        for &c in keys {
            fx.char(c);
            assert!(
                fx.app.modal.is_none(),
                "{c} on a {status:?} key opened a dialog"
            );
            let (text, is_error) = fx.notice();
            assert!(is_error);
            assert!(text.contains(&key.id), "{text}");
            assert_eq!(fx.stored(&key.id), key);
        }
    }
}

#[test]
fn x_revokes_an_expired_key_too() {
    let mut fx = Fixture::demo();
    let now = fx.app.now;
    let key = fx.select_where(|k| k.status_at(now) == Status::Expired);
    // The footer offers revoke, not rotate.
    assert!(fx.app.offers(&Action::OpenRevoke));
    assert!(!fx.app.offers(&Action::OpenRotate));
    let footer = fx.screen(120, 40).lines().last().unwrap().to_owned();
    assert!(footer.contains("x revoke"), "{footer}");
    assert!(!footer.contains("r rotate"), "{footer}");

    fx.char('x');
    assert_eq!(fx.app.context(), Context::ConfirmRevoke);
    let screen = fx.screen(120, 40);
    assert!(screen.contains("expired already"), "{screen}");
    fx.char('y');
    assert!(fx.app.modal.is_none());
    let (text, is_error) = fx.notice();
    assert!(!is_error && text.starts_with("Revoked"), "{text}");
    assert_eq!(fx.stored(&key.id).revoked_at, Some(t0()));
    assert_eq!(fx.focused_id(), Some(key.id.clone()));
    assert_eq!(
        fx.app.focused_key().unwrap().status_at(fx.app.now),
        Status::Revoked
    );
    // Now it is revoked, x refuses.
    fx.char('x');
    assert!(fx.app.modal.is_none());
    assert!(fx.notice().1);
}

#[test]
fn the_default_key_can_be_rotated_and_revoked_from_its_panel() {
    let mut fx = Fixture::demo();
    let default = fx.app.default_key.clone().unwrap();
    fx.press(KeyCode::Tab);
    fx.char('r');
    match &fx.app.modal {
        Some(Modal::ConfirmRotate(ConfirmRotate { key, .. })) => assert_eq!(key.id, default.id),
        _ => panic!("rotate confirmation not open"),
    }
    fx.char('y');
    assert_eq!(fx.new_key_dialog().key.id, default.id);
    fx.char('c');
    fx.press(KeyCode::Enter);
    assert_eq!(fx.app.default_key.as_ref().unwrap().id, default.id);

    fx.press(KeyCode::Tab);
    fx.press(KeyCode::Tab);
    assert_eq!(fx.app.focus, Focus::DefaultPanel);
    fx.char('x');
    fx.char('y');
    assert!(fx.app.default_key.is_none(), "the panel is empty now");
    let former = fx.app.keys.iter().find(|k| k.id == default.id);
    assert!(former.is_some(), "the revoked default appears in the table");
    assert_eq!(fx.app.total_keys(), 41);
    // With no default, r and x on the panel explain what to do.
    fx.char('x');
    assert!(fx.app.modal.is_none());
    assert!(fx.notice().0.contains('D'));
    // And D works again.
    fx.char('D');
    assert_eq!(fx.app.context(), Context::CreateDefault);
}

// ---------------------------------------------------------------------------------------------
// Update: Your New API Key
// ---------------------------------------------------------------------------------------------

#[test]
fn c_copies_the_new_key_and_the_dialog_reports_how() {
    let mut fx = Fixture::empty();
    fx.char('D');
    fx.press(KeyCode::Enter);
    assert_eq!(fx.new_key_dialog().copied, None);
    assert_eq!(fx.char('c'), Some(Action::Copy));
    assert_eq!(
        fx.new_key_dialog().copied,
        Some(CopyReport {
            system: false,
            osc52: true
        })
    );
    let screen = fx.screen(120, 40);
    assert!(screen.contains("OSC 52"), "{screen}");
    // After a copy, Enter closes without asking.
    fx.press(KeyCode::Enter);
    assert!(fx.app.modal.is_none());
    let (text, is_error) = fx.notice();
    assert!(!is_error && text.starts_with("Created"), "{text}");
}

#[test]
fn closing_before_copying_asks_once_more() {
    let mut fx = Fixture::empty();
    fx.char('D');
    fx.press(KeyCode::Enter);
    let secret = fx.shown_secret();

    for close in [plain(KeyCode::Enter), plain(KeyCode::Esc)] {
        assert_eq!(fx.send(close), Some(Action::Submit));
        assert_eq!(fx.app.context(), Context::ConfirmClose);
        assert!(fx.new_key_dialog().confirm_close);
        // c does not copy while asking; q does not quit.
        assert_eq!(fx.char('c'), None);
        assert_eq!(fx.char('q'), None);
        assert!(!fx.app.should_quit);
        assert_eq!(fx.char('n'), Some(Action::Cancel));
        assert_eq!(fx.app.context(), Context::NewKey, "back to the key");
        assert_eq!(fx.shown_secret(), secret);
    }
    // Esc while asking also goes back.
    fx.press(KeyCode::Enter);
    fx.press(KeyCode::Esc);
    assert_eq!(fx.app.context(), Context::NewKey);

    fx.press(KeyCode::Enter);
    assert_eq!(fx.char('y'), Some(Action::Confirm));
    assert!(
        fx.app.modal.is_none(),
        "the dialog, and its secret, are gone"
    );
    assert_eq!(fx.app.context(), Context::Main);
    assert!(!fx.screen(120, 40).contains(&secret));
}

#[test]
fn q_in_the_new_key_dialog_neither_quits_nor_loses_the_key() {
    let mut fx = Fixture::empty();
    fx.char('D');
    fx.press(KeyCode::Enter);
    assert_eq!(fx.char('q'), None);
    assert!(!fx.app.should_quit);
    assert_eq!(fx.app.context(), Context::NewKey);
}

// ---------------------------------------------------------------------------------------------
// Update: details and help
// ---------------------------------------------------------------------------------------------

#[test]
fn enter_opens_the_details_of_the_focused_key_and_esc_returns() {
    let mut fx = Fixture::demo();
    let key = fx.select_where(|k| k.use_count > 0);
    assert_eq!(fx.press(KeyCode::Enter), Some(Action::OpenDetails));
    assert_eq!(fx.app.context(), Context::Details);
    match &fx.app.modal {
        Some(Modal::Details(Details {
            key: shown,
            events,
            usage,
            scroll,
            ..
        })) => {
            assert_eq!(shown.id, key.id);
            assert!(!events.is_empty(), "at least the creation");
            assert_eq!(events[0].action.as_str(), "created");
            assert_eq!(usage.len(), 30, "30 days of usage");
            assert_eq!(usage.iter().map(|d| d.count).sum::<u64>(), key.use_count);
            assert_eq!(*scroll, 0);
        }
        _ => panic!("details not open"),
    }
    fx.char('j');
    assert!(matches!(
        fx.app.modal,
        Some(Modal::Details(Details { scroll: 1, .. }))
    ));
    assert_eq!(fx.press(KeyCode::Esc), Some(Action::Cancel));
    assert!(fx.app.modal.is_none());
    assert_eq!(
        fx.focused_id(),
        Some(key.id),
        "the selection is where it was"
    );
    // q closes the details; it does not quit from inside them.
    fx.press(KeyCode::Enter);
    fx.char('q');
    assert!(fx.app.modal.is_none());
    assert!(!fx.app.should_quit);
}

#[test]
fn details_of_the_default_key_from_its_panel() {
    let mut fx = Fixture::demo();
    let default = fx.app.default_key.clone().unwrap();
    fx.press(KeyCode::Tab);
    fx.press(KeyCode::Enter);
    match &fx.app.modal {
        Some(Modal::Details(Details { key, events, .. })) => {
            assert_eq!(key.id, default.id);
            let actions: Vec<_> = events.iter().map(|e| e.action.as_str()).collect();
            assert_eq!(actions, ["created", "rotated"]);
        }
        _ => panic!("details not open"),
    }
}

#[test]
fn question_mark_opens_help_and_esc_or_question_mark_close_it() {
    let mut fx = Fixture::demo();
    for close in [plain(KeyCode::Esc), char_key('?')] {
        assert_eq!(fx.char('?'), Some(Action::OpenHelp));
        assert_eq!(fx.app.context(), Context::Help);
        fx.char('j');
        assert!(matches!(
            fx.app.modal,
            Some(Modal::Help(Help { scroll: 1 }))
        ));
        assert_eq!(fx.send(close), Some(Action::Cancel));
        assert!(fx.app.modal.is_none());
    }
}

// ---------------------------------------------------------------------------------------------
// Update: quitting
// ---------------------------------------------------------------------------------------------

#[test]
fn q_quits_from_the_table() {
    let mut fx = Fixture::demo();
    assert_eq!(fx.char('q'), Some(Action::Quit));
    assert!(fx.app.should_quit);
}

#[test]
fn q_quits_from_the_default_panel_too() {
    let mut fx = Fixture::demo();
    fx.press(KeyCode::Tab);
    fx.char('q');
    assert!(fx.app.should_quit);
}

/// Puts a fresh demo app into `context` by pressing keys.
fn app_in(context: Context) -> Fixture {
    let mut fx = Fixture::demo();
    match context {
        Context::Main => {}
        Context::Search => {
            fx.char('/');
        }
        Context::AddKey => {
            fx.char('a');
        }
        Context::CreateDefault => {
            fx.press(KeyCode::Tab);
            fx.char('x');
            fx.char('y');
            fx.char('D');
        }
        Context::ConfirmRotate => {
            fx.select_active();
            fx.char('r');
        }
        Context::ConfirmRevoke => {
            fx.select_active();
            fx.char('x');
        }
        Context::ConfirmBulkRevoke => {
            fx.select_active();
            fx.char(' ');
            fx.char('x');
        }
        Context::SetLimit => {
            fx.select_active();
            fx.char('l');
        }
        Context::Rename => {
            fx.select_active();
            fx.char('n');
        }
        Context::NewKey => {
            fx.char('a');
            fx.type_text("x");
            fx.press(KeyCode::Enter);
        }
        Context::ConfirmClose => {
            fx.char('a');
            fx.type_text("x");
            fx.press(KeyCode::Enter);
            fx.press(KeyCode::Enter);
        }
        Context::Details => {
            fx.press(KeyCode::Enter);
        }
        Context::Help => {
            fx.char('?');
        }
        Context::TooSmall => {
            fx.screen(59, 15);
        }
        Context::Workspaces => {
            fx.char('w');
        }
        Context::CreateWorkspace => {
            fx.char('w');
            fx.char('a');
        }
        Context::AuditLog => {
            fx.char('L');
        }
        Context::AuditSearch => {
            fx.char('L');
            fx.char('/');
        }
        Context::Waiting => {
            // Writes on their own thread, and another process holding the lock they need.
            let options = hivekeys::StoreOptions {
                busy_timeout: Duration::from_secs(60),
                ..store_options(&fx.clock, 7)
            };
            let writer = hivekeys::tui::writer::Writer::start(&fx.path, options).unwrap();
            fx.app.write_in_background(writer);
            let lock = rusqlite::Connection::open(&fx.path).unwrap();
            lock.execute_batch("BEGIN IMMEDIATE").unwrap();
            fx.lock = Some(lock);
            fx.char('a');
            fx.type_text("x");
            fx.press(KeyCode::Enter);
        }
    }
    assert_eq!(fx.app.context(), context);
    fx
}

#[test]
fn ctrl_c_quits_from_everywhere_including_text_fields() {
    for context in Context::ALL {
        let mut fx = app_in(context);
        assert_eq!(fx.send(ctrl_c()), Some(Action::Quit), "{context:?}");
        if context == Context::NewKey {
            // An uncopied new key is not lost to one Ctrl-C: it asks first (tested below).
            assert!(!fx.app.should_quit);
            assert_eq!(fx.app.context(), Context::ConfirmClose);
            fx.send(ctrl_c());
        }
        assert!(fx.app.should_quit, "{context:?}");
    }
}

#[test]
fn ctrl_c_with_an_uncopied_new_key_asks_before_quitting() {
    let mut fx = Fixture::empty();
    fx.char('D');
    fx.press(KeyCode::Enter);
    let secret = fx.shown_secret();

    assert_eq!(fx.send(ctrl_c()), Some(Action::Quit));
    assert!(!fx.app.should_quit, "one Ctrl-C lost the key");
    assert_eq!(fx.app.context(), Context::ConfirmClose);
    assert_eq!(fx.shown_secret(), secret);
    let screen = fx.screen(120, 40);
    assert!(screen.contains("You have not copied the key"), "{screen}");
    assert!(screen.contains(&secret), "the key is still on screen");

    // n goes back to the key, as after Enter.
    fx.char('n');
    assert_eq!(fx.app.context(), Context::NewKey);
    assert_eq!(fx.shown_secret(), secret);

    // A second Ctrl-C while asking quits.
    fx.send(ctrl_c());
    assert!(!fx.app.should_quit);
    fx.send(ctrl_c());
    assert!(fx.app.should_quit);

    // So does Ctrl-C in the question that Enter asked.
    let mut fx = Fixture::empty();
    fx.char('D');
    fx.press(KeyCode::Enter);
    fx.press(KeyCode::Enter);
    assert_eq!(fx.app.context(), Context::ConfirmClose);
    fx.send(ctrl_c());
    assert!(fx.app.should_quit);

    // Once the key is copied, Ctrl-C quits at once.
    let mut fx = Fixture::empty();
    fx.char('D');
    fx.press(KeyCode::Enter);
    fx.char('c');
    fx.send(ctrl_c());
    assert!(fx.app.should_quit);
}

#[test]
fn q_never_loses_an_uncopied_new_key() {
    let mut fx = Fixture::empty();
    fx.char('D');
    fx.press(KeyCode::Enter);
    let secret = fx.shown_secret();
    for context in [Context::NewKey, Context::ConfirmClose] {
        if context == Context::ConfirmClose {
            fx.press(KeyCode::Enter);
        }
        assert_eq!(fx.app.context(), context);
        assert_eq!(fx.char('q'), None, "{context:?}");
        assert!(!fx.app.should_quit, "{context:?}");
        assert_eq!(fx.app.context(), context);
        assert_eq!(fx.shown_secret(), secret);
    }

    // Under the "too small" notice q quits, but with a new key open it asks first, and the
    // notice says why.
    fx.char('n');
    fx.screen(59, 15);
    assert_eq!(fx.char('q'), Some(Action::Quit));
    assert!(!fx.app.should_quit, "one q lost the key");
    assert_eq!(fx.shown_secret(), secret);
    let notice = fx.screen(59, 15);
    assert!(notice.contains("not copied"), "{notice}");
    assert!(notice.contains("q again"), "{notice}");
    fx.char('q');
    assert!(fx.app.should_quit);
}

#[test]
fn q_in_a_text_field_is_text() {
    for context in [Context::Search, Context::AddKey] {
        let mut fx = app_in(context);
        assert_eq!(
            fx.char('q'),
            Some(Action::Edit(InputRequest::InsertChar('q')))
        );
        assert!(!fx.app.should_quit, "{context:?}");
    }
}

#[test]
fn key_releases_do_nothing() {
    let mut fx = Fixture::demo();
    let release = Event::Key(KeyEvent {
        code: KeyCode::Char('q'),
        modifiers: KeyModifiers::NONE,
        kind: KeyEventKind::Release,
        state: KeyEventState::NONE,
    });
    assert_eq!(fx.send(release), None);
    assert!(!fx.app.should_quit);
}

// ---------------------------------------------------------------------------------------------
// Update: changes by other processes
// ---------------------------------------------------------------------------------------------

#[test]
fn a_tick_picks_up_a_revocation_by_another_process() {
    let mut fx = Fixture::demo();
    let key = fx.select_active();
    let selected = fx.app.selected;
    let mut other = fx.other_process();
    other.revoke_key(WS, &key.id).unwrap();

    // Nothing happens until the app looks.
    let row = |fx: &Fixture| fx.app.keys.iter().find(|k| k.id == key.id).unwrap().clone();
    assert_eq!(row(&fx).revoked_at, None);

    fx.tick_later();
    assert_eq!(row(&fx).status_at(fx.app.now), Status::Revoked);
    assert_eq!(
        fx.focused_id(),
        Some(key.id.clone()),
        "the selection stays on the key"
    );
    assert_eq!(fx.app.selected, selected);
    assert!(fx.app.notice.is_none());
    // And rotating it now is refused.
    fx.char('r');
    assert!(fx.app.modal.is_none());
}

#[test]
fn a_tick_picks_up_keys_created_and_a_default_set_by_another_process() {
    let mut fx = Fixture::empty();
    let mut other = fx.other_process();
    let created = other
        .create_key(WS, NewKey::new("Made elsewhere", Environment::Staging))
        .unwrap();
    other
        .create_default_key(WS, Environment::Production)
        .unwrap();
    assert!(fx.app.keys.is_empty());
    fx.tick_later();
    assert_eq!(fx.visible_ids(), vec![created.record.id.clone()]);
    assert!(fx.app.default_key.is_some());
    // A tick with nothing new changes nothing.
    let before = fx.visible_ids();
    fx.tick_later();
    assert_eq!(fx.visible_ids(), before);
}

#[test]
fn a_tick_keeps_an_open_dialog_and_the_search() {
    let mut fx = Fixture::demo();
    fx.char('/');
    fx.type_text("bot");
    let filtered = fx.visible_ids();
    let mut other = fx.other_process();
    other
        .create_key(WS, NewKey::new("Another bot", Environment::Staging))
        .unwrap();
    fx.tick_later();
    assert_eq!(fx.app.context(), Context::Search);
    assert_eq!(fx.app.search.value(), "bot");
    assert_eq!(fx.app.visible.len(), filtered.len() + 1);

    fx.press(KeyCode::Enter);
    fx.char('a');
    fx.type_text("half typed");
    other
        .create_key(WS, NewKey::new("Yet another", Environment::Staging))
        .unwrap();
    fx.tick_later();
    assert_eq!(fx.add_key_name(), "half typed");
}

#[test]
fn a_key_that_expires_while_the_status_filter_shows_active_leaves_the_list() {
    // A key that expires in one hour, made by another process.
    let mut fx = Fixture::empty();
    let mut other = fx.other_process();
    let expiring = other
        .create_key(
            WS,
            NewKey {
                expires_at: Some(t0() + TimeDelta::hours(1)),
                ..NewKey::new("Short lived", Environment::Development)
            },
        )
        .unwrap();
    other
        .create_key(WS, NewKey::new("Long lived", Environment::Development))
        .unwrap();
    fx.tick_later();
    fx.char('s'); // Active
    assert_eq!(fx.app.visible.len(), 2);

    fx.clock.advance(TimeDelta::hours(2));
    fx.tick_later();
    let shown = fx.visible_keys();
    assert!(
        shown.iter().all(|k| k.id != expiring.record.id),
        "an expired key is still listed under [Status: Active]"
    );
}

#[test]
fn a_default_key_that_expires_frees_the_panel_for_a_new_one() {
    let mut fx = Fixture::empty();
    let mut other = fx.other_process();
    other
        .create_key(
            WS,
            NewKey {
                is_default: true,
                expires_at: Some(t0() + TimeDelta::hours(1)),
                ..NewKey::default_key(Environment::Production)
            },
        )
        .unwrap();
    fx.tick_later();
    assert!(fx.app.default_key.is_some());

    fx.clock.advance(TimeDelta::hours(2));
    fx.tick_later();
    assert!(
        other.default_key(WS).unwrap().is_none(),
        "the store no longer has an active default"
    );
    fx.char('D');
    assert_eq!(
        fx.app.context(),
        Context::CreateDefault,
        "D still refuses after the default expired: {:?}",
        fx.app.notice
    );
}

#[test]
fn reloads_for_other_processes_come_at_most_once_a_second_and_within_two() {
    let mut fx = Fixture::demo();
    let mut other = fx.other_process();
    let now = fx.app.now;
    let active: Vec<String> = fx
        .app
        .keys
        .iter()
        .filter(|k| k.status_at(now) == Status::Active)
        .map(|k| k.id.clone())
        .collect();
    let revoked_shown = |fx: &Fixture| {
        fx.app
            .keys
            .iter()
            .filter(|k| active.contains(&k.id) && k.revoked_at.is_some())
            .count()
    };

    // A busy gateway (here: another admin) changes the store before every tick, four ticks a
    // second, for three seconds.
    let tick = TimeDelta::milliseconds(250);
    let mut reloaded_at = Vec::new();
    for (n, id) in active.iter().take(12).enumerate() {
        other.revoke_key(WS, id).unwrap();
        fx.clock.advance(tick);
        let before = revoked_shown(&fx);
        fx.update(Action::Tick);
        let after = revoked_shown(&fx);
        if after != before {
            reloaded_at.push(n);
            // Everything done so far is on screen after a reload.
            assert_eq!(after, n + 1);
        }
    }
    assert_eq!(
        reloaded_at,
        vec![3, 7, 11],
        "not once a second: reloads at ticks {reloaded_at:?}"
    );

    // A change made just after a reload shows within two seconds (here: one) of ticking.
    other.revoke_key(WS, &active[12]).unwrap();
    let mut waited = TimeDelta::zero();
    while revoked_shown(&fx) < 13 {
        fx.clock.advance(tick);
        waited += tick;
        fx.update(Action::Tick);
        assert!(
            waited <= TimeDelta::seconds(2),
            "not shown within two seconds"
        );
    }
    assert_eq!(waited, RELOAD_INTERVAL);

    // The dashboard's own changes show at once, throttle or not.
    let key = fx.select_active();
    fx.char('x');
    fx.char('y');
    assert!(fx.app.focused_key().unwrap().revoked_at.is_some());
    assert_eq!(fx.stored(&key.id).revoked_at, Some(fx.app.now));
}

#[test]
fn a_reload_survives_keys_vanishing_from_under_a_filtered_view() {
    let mut fx = Fixture::demo();
    fx.char('s'); // [Status: Active]
    fx.char('G'); // the oldest active key: the highest index into the key list
    let selected_index = fx.app.visible[fx.app.selected];
    let keep = fx.visible_ids()[0].clone();

    // No hivekeys command deletes keys, but another tool (or a later version's purge) may:
    // here all but the 10 newest go.
    let db = rusqlite::Connection::open(&fx.path).unwrap();
    let oldest = "SELECT id FROM keys WHERE is_default = 0 \
                  ORDER BY created_at DESC, id DESC LIMIT -1 OFFSET 10";
    for table in ["key_usage", "audit_events", "secrets"] {
        db.execute(
            &format!("DELETE FROM {table} WHERE key_id IN ({oldest})"),
            [],
        )
        .unwrap();
    }
    db.execute(&format!("DELETE FROM keys WHERE id IN ({oldest})"), [])
        .unwrap();
    drop(db);
    assert!(
        fx.store_count() <= selected_index as u64,
        "the selected row's old index must be past the end of the new list"
    );

    fx.tick_later();
    assert_eq!(fx.app.total_keys(), 10);
    assert!(
        fx.app
            .visible
            .iter()
            .all(|&i| (i as usize) < fx.app.keys.len())
    );
    assert!(fx.app.selected < fx.app.visible.len().max(1));
    assert!(fx.visible_ids().contains(&keep));
    let now = fx.app.now;
    assert!(
        fx.visible_keys()
            .iter()
            .all(|k| k.status_at(now) == Status::Active)
    );
    // The focused key (the old one is gone) is a real one, and everything still works.
    if let Some(id) = fx.focused_id() {
        assert_eq!(fx.stored(&id).id, id);
    }
    fx.char('G');
    fx.char('k');
    assert_focused_row_marked(&mut fx);
    fx.press(KeyCode::Enter);
    assert_eq!(fx.app.context(), Context::Details);
}

// ---------------------------------------------------------------------------------------------
// Update: a terminal too small for the layout
// ---------------------------------------------------------------------------------------------

#[test]
fn keys_do_nothing_under_the_too_small_notice_but_q_quits() {
    let mut fx = Fixture::demo();
    let key = fx.select_active();
    let count = fx.store_count();
    fx.screen(59, 15);
    assert_eq!(fx.app.context(), Context::TooSmall);
    for c in ['D', 'x', 'y', 'r', 'a', 'c', 'j', 'G', '/', 'e', 's', '?'] {
        assert_eq!(fx.char(c), None, "{c} acted under the notice");
    }
    for code in [KeyCode::Enter, KeyCode::Esc, KeyCode::Tab, KeyCode::Down] {
        assert_eq!(fx.press(code), None, "{code:?} acted under the notice");
    }
    assert_eq!(fx.paste("pasted"), None);
    assert!(fx.app.modal.is_none());
    assert_eq!(fx.focused_id(), Some(key.id.clone()));
    assert_eq!(fx.app.focus, Focus::Table);
    assert_eq!(
        (fx.app.environment_filter, fx.app.status_filter),
        (None, None)
    );
    assert_eq!(fx.store_count(), count);

    // A confirmation open before the terminal shrank is not answered blind.
    fx.screen(120, 40);
    assert_eq!(fx.app.context(), Context::Main);
    fx.char('x');
    assert_eq!(fx.app.context(), Context::ConfirmRevoke);
    fx.screen(60, 15);
    assert_eq!(fx.char('y'), None);
    assert_eq!(fx.stored(&key.id).revoked_at, None, "revoked blind");

    // Once the screen fits again, keys act again.
    fx.screen(60, 16);
    assert_eq!(fx.app.context(), Context::ConfirmRevoke);
    fx.char('y');
    assert!(fx.stored(&key.id).revoked_at.is_some());

    fx.screen(40, 10);
    assert_eq!(fx.char('q'), Some(Action::Quit));
    assert!(fx.app.should_quit);
}

// ---------------------------------------------------------------------------------------------
// Text fields and untrusted text
// ---------------------------------------------------------------------------------------------

/// The screen and the cursor's position after one frame, and the cell left of the cursor by
/// `back` cells.
fn render_cursor(app: &App, width: u16, height: u16, back: u16) -> (String, u16, u16, String) {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal
        .draw(|frame| view::render(app, frame, &Theme::PLAIN))
        .unwrap();
    let cursor = terminal.get_cursor_position().unwrap();
    let before = terminal.backend().buffer()[(cursor.x - back, cursor.y)]
        .symbol()
        .to_owned();
    (terminal.backend().to_string(), cursor.x, cursor.y, before)
}

#[test]
fn wide_characters_scroll_the_search_box_by_their_cells() {
    let mut fx = Fixture::demo();
    fx.char('/');
    fx.type_text(&"東".repeat(40));
    let (screen, x, y, before) = render_cursor(&fx.app, 80, 24, 2);
    let line = screen.lines().nth(y as usize).unwrap();
    assert!(line.contains("Search: 東東"), "{line}");
    // The cursor is right after the last character typed, inside the box (left of the
    // filter chips).
    assert_eq!(before, "東", "{line}");
    let chips = line.find("e [Environment").unwrap();
    let chips_x = line[..chips].chars().count() + line[..chips].matches('東').count();
    assert!(
        (x as usize) < chips_x,
        "cursor {x} past the box ({chips_x}): {line}"
    );
}

#[test]
fn wide_characters_scroll_the_name_field_by_their_cells() {
    let mut fx = Fixture::demo();
    fx.char('a');
    fx.type_text(&"東".repeat(40));
    assert_eq!(fx.add_key_error(), None);
    let (screen, x, y, before) = render_cursor(&fx.app, 120, 40, 2);
    let line = screen.lines().nth(y as usize).unwrap();
    assert!(line.contains("› 東"), "{line}");
    assert_eq!(before, "東", "the cursor is not after the text: {line}");
    // Inside the dialog: its right border is further right on the same line.
    let border = line.rfind('│').unwrap();
    let border_x = line[..border].chars().count() + line[..border].matches('東').count();
    assert!((x as usize) < border_x, "{line}");
}

#[test]
fn the_search_box_never_sends_control_characters_to_the_terminal() {
    let mut fx = Fixture::demo();
    fx.char('/');
    // Paste drops C0 controls but keeps a right-to-left override; a typed escape arrives as
    // a character edit.
    fx.paste("ab\u{202E}cd");
    fx.update(Action::Edit(InputRequest::InsertChar('\u{1b}')));
    fx.type_text("]52;c;");
    let screen = fx.screen(120, 40);
    assert!(!screen.contains('\u{202E}'), "{screen:?}");
    assert!(!screen.contains('\u{1b}'), "{screen:?}");
    assert!(
        screen.contains("ab\\u{202e}cd\\u{1b}]52;c;"),
        "shown escaped: {screen}"
    );
}

#[test]
fn names_ids_and_masked_keys_from_the_store_never_reach_the_terminal_raw() {
    let mut fx = Fixture::demo();
    let key = fx.select_active();
    let default = fx.app.default_key.clone().unwrap();
    // Rows written by something other than hivekeys: every text column holds a control
    // character and an invisible direction override.
    let evil = |text: &str| format!("{text}\u{1b}[2J\u{202E}\u{9b}");
    let db = rusqlite::Connection::open(&fx.path).unwrap();
    for id in [&key.id, &default.id] {
        db.execute(
            "UPDATE keys SET name = ?1, public_id = ?2, masked_key = ?3 WHERE public_id = ?4",
            (evil("name"), evil(id), evil("fhk_"), id),
        )
        .unwrap();
    }
    db.execute(
        "UPDATE audit_events SET actor = ?1, detail = ?2",
        (evil("actor"), evil("detail")),
    )
    .unwrap();
    drop(db);
    fx.tick_later();
    let id = evil(&key.id);
    fx.select_where(|k| k.id == id);

    let clean = |screen: String, what: &str| {
        let bad: Vec<char> = screen
            .chars()
            .filter(|&c| c != '\n' && hivekeys::text::is_forbidden_in_name(c))
            .collect();
        assert!(bad.is_empty(), "{what}: {bad:?} in {screen}");
    };
    clean(fx.screen(120, 40), "table and default panel");
    fx.press(KeyCode::Enter);
    assert_eq!(fx.app.context(), Context::Details);
    clean(fx.screen(120, 40), "details");
    fx.press(KeyCode::Esc);
    fx.char('x');
    assert_eq!(fx.app.context(), Context::ConfirmRevoke);
    clean(fx.screen(120, 40), "revoke confirmation");
    fx.press(KeyCode::Esc);
    fx.press(KeyCode::Tab);
    fx.char('r');
    assert_eq!(fx.app.context(), Context::ConfirmRotate);
    clean(fx.screen(120, 40), "rotate confirmation");
    fx.char('y');
    assert_eq!(fx.app.context(), Context::NewKey);
    clean(fx.screen(120, 40), "new key");
}

// ---------------------------------------------------------------------------------------------
// Snapshots
// ---------------------------------------------------------------------------------------------

/// The populated dashboard, with the state driven by `actions`.
fn demo_after(actions: &[Action]) -> Fixture {
    let mut fx = Fixture::demo();
    for action in actions {
        fx.update(action.clone());
    }
    fx
}

fn snapshot(name: &str, fx: &Fixture, width: u16, height: u16) {
    let screen = stable_screen(&fx.app, width, height);
    insta::assert_snapshot!(name, screen);
}

#[test]
fn snapshot_empty_store() {
    let fx = Fixture::empty();
    snapshot("empty_store", &fx, 120, 40);
}

#[test]
fn snapshot_populated_dashboard_is_deterministic() {
    let first = Fixture::demo();
    let second = Fixture::demo();
    let a = stable_screen(&first.app, 120, 40);
    let b = stable_screen(&second.app, 120, 40);
    assert_eq!(a, b, "two fresh demo stores render differently");
    assert_eq!(first.app.keys, second.app.keys);
    snapshot("populated", &first, 120, 40);
}

#[test]
fn snapshot_populated_80x24() {
    let fx = Fixture::demo();
    snapshot("populated_80x24", &fx, 80, 24);
}

#[test]
fn snapshot_populated_scrolled_to_the_bottom() {
    let fx = demo_after(&[Action::Move(Movement::Bottom)]);
    snapshot("populated_bottom", &fx, 120, 40);
}

#[test]
fn snapshot_default_panel_focused() {
    let fx = demo_after(&[Action::FocusNext]);
    snapshot("default_panel_focused", &fx, 120, 40);
}

#[test]
fn snapshot_filtered_no_results() {
    let mut actions = vec![Action::StartSearch];
    actions.extend(
        "zzzz"
            .chars()
            .map(|c| Action::Edit(InputRequest::InsertChar(c))),
    );
    let fx = demo_after(&actions);
    assert!(fx.app.visible.is_empty());
    snapshot("filtered_no_results", &fx, 120, 40);
}

#[test]
fn snapshot_filtered_by_environment_and_status() {
    let fx = demo_after(&[Action::CycleEnvironmentFilter, Action::CycleStatusFilter]);
    snapshot("filtered_production_active", &fx, 120, 40);
}

#[test]
fn snapshot_add_key_name_too_long() {
    let mut actions = vec![Action::OpenAddKey];
    actions.extend(
        "Checkout service for the eu-west region, primary cluster, blue/gr"
            .chars()
            .map(|c| Action::Edit(InputRequest::InsertChar(c))),
    );
    let fx = demo_after(&actions);
    assert_eq!(fx.add_key_name().chars().count(), 65);
    assert!(fx.add_key_error().is_some());
    snapshot("add_key_name_too_long", &fx, 120, 40);
}

#[test]
fn snapshot_add_key_pasted_control_character() {
    let fx = demo_after(&[
        Action::OpenAddKey,
        Action::Paste("billing\tworker".into()),
        Action::ChoiceNext,
    ]);
    assert!(fx.add_key_error().is_some());
    snapshot("add_key_control_character", &fx, 120, 40);
}

#[test]
fn snapshot_add_key_empty_name_submitted() {
    let fx = demo_after(&[Action::OpenAddKey, Action::Submit]);
    snapshot("add_key_empty_submitted", &fx, 120, 40);
}

#[test]
fn snapshot_new_key_dialog() {
    let mut fx = Fixture::empty();
    fx.update(Action::OpenCreateDefault);
    fx.update(Action::Submit);
    let secret = fx.shown_secret();
    let screen = stable_screen(&fx.app, 120, 40);
    assert!(
        screen.contains(&secret),
        "the full key is on screen:\n{screen}"
    );
    assert!(screen.contains("will not be shown again"), "{screen}");
    snapshot("new_key", &fx, 120, 40);
}

#[test]
fn snapshot_new_key_copied() {
    let mut fx = Fixture::empty();
    fx.update(Action::OpenCreateDefault);
    fx.update(Action::Submit);
    fx.update(Action::Copy);
    snapshot("new_key_copied", &fx, 120, 40);
}

#[test]
fn snapshot_new_key_confirm_close() {
    let mut fx = Fixture::empty();
    fx.update(Action::OpenCreateDefault);
    fx.update(Action::Submit);
    fx.update(Action::Submit);
    assert_eq!(fx.app.context(), Context::ConfirmClose);
    snapshot("new_key_confirm_close", &fx, 120, 40);
}

#[test]
fn snapshot_new_key_after_rotation_at_80x24() {
    let fx = demo_after(&[Action::FocusNext, Action::OpenRotate, Action::Confirm]);
    assert!(fx.new_key_dialog().rotated);
    let screen = stable_screen(&fx.app, 80, 24);
    assert!(
        screen.contains(&fx.shown_secret()),
        "the full key fits on an 80×24 screen:\n{screen}"
    );
    snapshot("new_key_rotated_80x24", &fx, 80, 24);
}

#[test]
fn snapshot_revoke_confirmation() {
    let mut fx = Fixture::demo();
    fx.select_active();
    fx.update(Action::OpenRevoke);
    assert_eq!(fx.app.context(), Context::ConfirmRevoke);
    snapshot("confirm_revoke", &fx, 120, 40);
}

#[test]
fn snapshot_revoke_confirmation_of_an_expired_key() {
    let mut fx = Fixture::demo();
    let now = fx.app.now;
    fx.select_where(|k| k.status_at(now) == Status::Expired);
    fx.update(Action::OpenRevoke);
    assert_eq!(fx.app.context(), Context::ConfirmRevoke);
    snapshot("confirm_revoke_expired", &fx, 120, 40);
}

#[test]
fn snapshot_rotate_confirmation_with_grace() {
    let mut fx = Fixture::demo();
    fx.select_active();
    fx.update(Action::OpenRotate);
    fx.update(Action::ChoiceNext);
    fx.update(Action::ChoiceNext);
    assert_eq!(rotate_grace(&fx), Grace::OneDay);
    snapshot("confirm_rotate_24h", &fx, 120, 40);
}

#[test]
fn snapshot_after_revoke_notice() {
    let mut fx = Fixture::demo();
    fx.select_active();
    fx.update(Action::OpenRevoke);
    fx.update(Action::Confirm);
    snapshot("revoked_notice", &fx, 120, 40);
}

#[test]
fn snapshot_details_view() {
    let mut fx = Fixture::demo();
    fx.select_where(|k| k.use_count > 0 && k.rotated_at.is_some());
    fx.update(Action::OpenDetails);
    assert_eq!(fx.app.context(), Context::Details);
    snapshot("details", &fx, 120, 40);
}

#[test]
fn snapshot_help_overlay() {
    let fx = demo_after(&[Action::OpenHelp]);
    snapshot("help", &fx, 120, 40);
}

#[test]
fn snapshot_help_overlay_scrolled_to_the_faq() {
    let fx = demo_after(&[
        Action::OpenHelp,
        // The end, wherever the key list above it ends: the FAQ is last.
        Action::Move(Movement::Bottom),
    ]);
    snapshot("help_faq", &fx, 120, 40);
}

#[test]
fn snapshot_too_small_59x15() {
    let fx = Fixture::demo();
    let screen = stable_screen(&fx.app, 59, 15);
    assert!(screen.contains("Terminal too small"), "{screen}");
    snapshot("too_small_59x15", &fx, 59, 15);
}

#[test]
fn snapshot_too_small_over_an_uncopied_new_key() {
    let mut fx = Fixture::empty();
    fx.update(Action::OpenCreateDefault);
    fx.update(Action::Submit);
    fx.screen(59, 15);
    snapshot("too_small_new_key_not_copied", &fx, 59, 15);
    fx.update(Action::Quit);
    assert!(!fx.app.should_quit);
    snapshot("too_small_new_key_confirm_quit", &fx, 59, 15);
}

#[test]
fn snapshot_smallest_layout_60x16() {
    let fx = Fixture::demo();
    let screen = stable_screen(&fx.app, 60, 16);
    assert!(!screen.contains("Terminal too small"), "{screen}");
    assert!(screen.contains("API Keys"), "{screen}");
    snapshot("smallest_60x16", &fx, 60, 16);
}

#[test]
fn too_small_applies_to_each_dimension_alone() {
    let fx = Fixture::demo();
    assert!(render(&fx.app, 59, 40).contains("Terminal too small"));
    assert!(render(&fx.app, 120, 15).contains("Terminal too small"));
    assert!(!render(&fx.app, 60, 16).contains("Terminal too small"));
    // Tiny terminals must not panic (only drawn: TestBackend cannot print a 0-wide buffer).
    for (w, h) in [(1, 1), (10, 3), (0, 0), (59, 1), (1, 16), (60, 0)] {
        let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
        terminal
            .draw(|frame| view::render(&fx.app, frame, &Theme::PLAIN))
            .unwrap();
    }
}

#[test]
fn every_dialog_renders_at_the_smallest_size_without_panicking() {
    let sizes = [(60, 16), (61, 17), (80, 24), (200, 60)];
    let main = app_in(Context::Main);
    for context in Context::ALL {
        let fx = app_in(context);
        for (w, h) in sizes {
            let screen = render(&fx.app, w, h);
            // The main screen is the reference, and the notice only exists below 60x16.
            if matches!(context, Context::Main | Context::TooSmall) {
                continue;
            }
            assert!(
                !screen.contains("Terminal too small"),
                "{context:?} at {w}x{h}:\n{screen}"
            );
            assert_ne!(
                screen,
                render(&main.app, w, h),
                "{context:?} at {w}x{h} is drawn as the bare main screen"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Rendering checks across states and sizes
// ---------------------------------------------------------------------------------------------

/// Cells where a double-width character (CJK, emoji) is followed by a non-blank cell. ratatui
/// assumes this never happens: when it does, the terminal shows the wide character over the
/// next cell, and `Buffer::diff` never sends that cell at all.
fn swallowed_cells(app: &App, width: u16, height: u16) -> Vec<(u16, u16, String, String)> {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    // The frame as drawn, before the diff to the terminal drops the cells it cannot show.
    let completed = terminal
        .draw(|frame| view::render(app, frame, &Theme::PLAIN))
        .unwrap();
    let buffer = completed.buffer;
    let mut swallowed = Vec::new();
    for y in 0..height {
        for x in 0..width.saturating_sub(1) {
            let cell = &buffer[(x, y)];
            let next = &buffer[(x + 1, y)];
            let wide = ratatui::text::Span::raw(cell.symbol()).width() > 1;
            if wide && next.symbol() != " " && !next.symbol().is_empty() {
                swallowed.push((x + 1, y, cell.symbol().to_owned(), next.symbol().to_owned()));
            }
        }
    }
    swallowed
}

#[test]
fn wide_characters_under_a_dialog_do_not_hide_its_border() {
    let mut states: Vec<(String, Fixture)> = Context::ALL
        .into_iter()
        .map(|context| (format!("{context:?}"), app_in(context)))
        .collect();
    // The same dialogs over the untouched table (the demo's first row is "東京 support worker").
    let from_panel: [(&str, &[Action]); 3] = [
        (
            "rotate the default",
            &[Action::FocusNext, Action::OpenRotate],
        ),
        (
            "revoke the default",
            &[Action::FocusNext, Action::OpenRevoke],
        ),
        (
            "new key after rotating the default",
            &[Action::FocusNext, Action::OpenRotate, Action::Confirm],
        ),
    ];
    for (name, actions) in from_panel {
        states.push((name.to_owned(), demo_after(actions)));
    }
    let mut failures = Vec::new();
    for (name, fx) in &states {
        for (width, height) in [(60, 16), (80, 24), (100, 30), (120, 40)] {
            let swallowed = swallowed_cells(&fx.app, width, height);
            if !swallowed.is_empty() {
                failures.push(format!("{name} at {width}x{height}: {swallowed:?}"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "cells hidden under a wide character:\n{}",
        failures.join("\n")
    );
}

/// The footer line of a rendered screen, without the quotes TestBackend adds.
fn footer_line(screen: &str) -> String {
    let last = screen.lines().last().unwrap();
    last.trim_matches('"').trim_end().to_owned()
}

#[test]
fn the_footer_never_cuts_a_hint_in_half() {
    let mut failures = Vec::new();
    for context in [
        Context::Main,
        Context::Search,
        Context::AddKey,
        Context::NewKey,
    ] {
        let fx = app_in(context);
        let hints: Vec<String> = keymap::hints(context)
            .filter(|h| h.footer)
            .map(|h| format!("{} {}", h.keys, h.text))
            .collect();
        for (width, height) in [(60, 16), (80, 24), (120, 40)] {
            let footer = footer_line(&render(&fx.app, width, height));
            if footer.starts_with('└') {
                continue; // a dialog covers the footer row at this size
            }
            let whole = footer.is_empty() || hints.iter().any(|h| footer.ends_with(h.as_str()));
            if !whole {
                failures.push(format!("{context:?} at {width}: {footer:?}"));
            }
        }
    }
    assert!(failures.is_empty(), "cut footers:\n{}", failures.join("\n"));
}

#[test]
fn the_footer_at_80_columns_still_offers_help_and_quit() {
    let fx = Fixture::demo();
    let footer = footer_line(&render(&fx.app, 80, 24));
    assert!(
        footer.contains("? help") && footer.contains("q quit"),
        "an 80-column footer loses its last hints: {footer:?}"
    );
}

#[test]
fn help_scrolling_stops_at_the_end_of_the_text() {
    let mut fx = Fixture::demo();
    fx.char('?');
    for _ in 0..300 {
        fx.char('j');
    }
    let screen = fx.screen(120, 40);
    assert!(
        screen.contains("Integrations"),
        "j past the end scrolls the help into an empty box:\n{screen}"
    );
}

/// Full-block cells of the usage chart inside the details dialog.
fn chart_blocks(screen: &str) -> usize {
    let lines: Vec<&str> = screen.lines().collect();
    let label = lines
        .iter()
        .position(|line| line.contains("Uses per day"))
        .expect("the chart label is on screen");
    lines[label + 1..label + 5]
        .iter()
        .map(|line| {
            // The details view covers the whole screen, so every block on these lines is the
            // chart's.
            line.chars().filter(|&c| c == '█').count()
        })
        .sum()
}

#[test]
fn the_usage_chart_keeps_today_on_a_narrow_screen() {
    let mut fx = Fixture::empty();
    let (record, secret) = fx.add_key("Used today");
    let mut other = fx.other_process();
    for _ in 0..5 {
        assert_eq!(verify(&mut other, &secret), Ok(record.id.clone()));
    }
    other.flush_usage().unwrap();
    fx.update(Action::Tick);
    fx.press(KeyCode::Enter);
    match &fx.app.modal {
        Some(Modal::Details(Details { usage, .. })) => {
            assert_eq!(
                usage.last().map(|d| d.count),
                Some(5),
                "today is the last day"
            );
        }
        _ => panic!("details not open"),
    }
    // Today's bar: two columns, four rows high.
    let wide = chart_blocks(&fx.screen(120, 40));
    assert_eq!(wide, 8, "{}", fx.screen(120, 40));
    // Narrower, a day gets one column: today's bar is still there, full height.
    let narrow = fx.screen(60, 16);
    assert_eq!(
        chart_blocks(&narrow),
        4,
        "at 60 columns the chart drops its most recent days:\n{narrow}"
    );
}

// ---------------------------------------------------------------------------------------------
// Background loading (what the binary runs): first page first, the whole list behind it
// ---------------------------------------------------------------------------------------------

/// An app that reads its key list on a background thread, over `keys` demo keys.
fn background_fixture(keys: u64) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hivekeys.db");
    let clock = Arc::new(ManualClock::new(t0()));
    let mut store = Store::open_with(&path, store_options(&clock, 42)).unwrap();
    store.fill_demo(WS, keys, 7).unwrap();
    let app = App::new_in_background(store, WS, Box::new(Osc52Only::default()));
    Fixture {
        app,
        clock,
        path,
        lock: None,
        _dir: dir,
    }
}

impl Fixture {
    /// Delivers `KeysLoaded` as the event loop does until the background read has landed.
    fn wait_loaded(&mut self) {
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while self.app.is_loading() {
            assert!(
                std::time::Instant::now() < deadline,
                "the background read never finished"
            );
            std::thread::sleep(Duration::from_millis(2));
            self.update(Action::KeysLoaded);
        }
    }
}

#[test]
fn the_first_frame_shows_the_newest_keys_and_the_total_before_the_whole_list() {
    let mut fx = background_fixture(600);
    let total = fx.store_count() as usize - 1; // the default has its own panel
    // Before the read lands: one page, the true total, and a word that more is coming.
    assert!(fx.app.keys.len() <= hivekeys::tui::app::FIRST_PAGE);
    assert_eq!(fx.app.total_keys(), total);
    assert_eq!(fx.app.loading_total(), Some(total));
    assert!(fx.app.default_key.is_some());
    let first_ids: Vec<String> = fx.app.keys.iter().map(|k| k.id.clone()).collect();
    let screen = fx.screen(120, 40);
    assert!(
        screen.contains(&format!("of {total} keys · loading…")),
        "{screen}"
    );

    fx.wait_loaded();
    assert_eq!(fx.app.loading_total(), None);
    assert_eq!(fx.app.keys.len(), total);
    assert_eq!(fx.app.visible.len(), total);
    // The page shown first is exactly the head of the full list: nothing jumps.
    let head: Vec<String> = fx
        .app
        .keys
        .iter()
        .take(first_ids.len())
        .map(|k| k.id.clone())
        .collect();
    assert_eq!(head, first_ids);
    let screen = fx.screen(120, 40);
    assert!(
        screen.contains(&format!("{total} of {total} keys")),
        "{screen}"
    );
    assert!(!screen.contains("loading"), "{screen}");
}

#[test]
fn a_search_typed_while_loading_applies_to_the_whole_list_once_it_lands() {
    let mut fx = background_fixture(600);
    fx.char('/');
    fx.type_text("billing");
    fx.wait_loaded();
    let expected = fx
        .app
        .store()
        .list_keys(
            WS,
            &KeyQuery {
                search: Some("billing".into()),
                ..KeyQuery::default()
            },
        )
        .unwrap()
        .into_iter()
        .filter(|k| Some(&k.id) != fx.app.default_key.as_ref().map(|d| &d.id))
        .map(|k| k.id)
        .collect::<Vec<_>>();
    assert!(!expected.is_empty());
    assert_eq!(fx.visible_ids(), expected);
}

#[test]
fn a_revoke_shows_at_once_while_the_whole_list_is_read_behind_it() {
    let mut fx = background_fixture(300);
    fx.wait_loaded();
    let key = fx.select_active();
    fx.char('x');
    fx.char('y');
    // Before any background read has landed, the row already says revoked.
    assert!(fx.app.is_loading(), "the revoke should start a read");
    let row = fx.app.focused_key().expect("still selected").clone();
    assert_eq!(row.id, key.id);
    assert_eq!(row.status_at(fx.app.now), Status::Revoked);
    fx.wait_loaded();
    assert_eq!(fx.focused_id(), Some(key.id.clone()));
    assert_eq!(
        fx.app.focused_key().unwrap().status_at(fx.app.now),
        Status::Revoked
    );
    assert_eq!(fx.app.keys.len(), fx.store_count() as usize - 1);
}

#[test]
fn a_key_added_while_a_read_is_under_way_is_not_lost_when_the_read_lands() {
    let mut fx = background_fixture(300);
    // The first full read is still in flight (started by new_in_background) when the key is
    // added: its result predates the key and must not replace the table.
    assert!(fx.app.is_loading());
    let total = fx.app.total_keys();
    let (record, _) = fx.add_key("Added during load");
    assert_eq!(fx.app.keys.id(0), record.id, "shown at once, newest first");
    assert_eq!(
        fx.app.total_keys(),
        total + 1,
        "the count follows the table"
    );
    fx.wait_loaded();
    assert!(
        fx.app.keys.iter().any(|k| k.id == record.id),
        "the read that began before the key was added replaced the table"
    );
    assert_eq!(fx.app.keys.len(), fx.store_count() as usize - 1);
}

#[test]
fn another_process_s_change_arrives_through_a_background_read() {
    let mut fx = background_fixture(100);
    fx.wait_loaded();
    let mut other = fx.other_process();
    let created = other
        .create_key(WS, NewKey::new("From elsewhere", Environment::Staging))
        .unwrap();
    fx.tick_later();
    fx.wait_loaded();
    assert!(fx.app.keys.iter().any(|k| k.id == created.record.id));
    drop(created);
}

#[test]
fn a_huge_paste_is_cut_to_what_the_field_can_use() {
    let mut fx = Fixture::demo();
    let huge = "billing ".repeat(1 << 20); // 8 MiB
    fx.char('/');
    fx.paste(&huge);
    assert_eq!(fx.app.search.value().chars().count(), 256);
    assert!(fx.app.search.value().starts_with("billing billing"));
    fx.press(KeyCode::Esc);

    fx.char('a');
    fx.paste(&format!("{huge}\n"));
    assert_eq!(fx.add_key_name().chars().count(), 65);
    let error = fx.add_key_error().expect("a too-long message");
    assert!(error.contains("65 characters long"), "{error}");
    fx.press(KeyCode::Enter);
    assert_eq!(fx.store_count(), 41, "nothing may be created from it");
}

#[test]
fn a_background_read_that_fails_is_tried_again() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hivekeys.db");
    let clock = Arc::new(ManualClock::new(t0()));
    let mut store = Store::open_with(&path, store_options(&clock, 42)).unwrap();
    store.fill_demo(WS, 300, 7).unwrap();
    // The reader opens the store by its path: with the files moved away, it cannot.
    let moved = dir.path().join("elsewhere");
    std::fs::create_dir(&moved).unwrap();
    let files = ["hivekeys.db", "hivekeys.db-wal", "hivekeys.db-shm"];
    for name in files {
        let _ = std::fs::rename(path.with_file_name(name), moved.join(name));
    }
    // The first page comes through the store's open connection; the whole list cannot.
    let mut fx = Fixture {
        app: App::new_in_background(store, WS, Box::new(Osc52Only::default())),
        clock,
        path: path.clone(),
        lock: None,
        _dir: dir,
    };
    fx.wait_loaded();
    let (message, is_error) = fx.notice();
    assert!(is_error, "{message}");
    assert!(
        fx.app.loading_total().is_some(),
        "still only the first page"
    );
    for name in files {
        let _ = std::fs::rename(moved.join(name), path.with_file_name(name));
    }
    // The next tick past the reload interval reads again, and this time it works.
    fx.tick_later();
    fx.wait_loaded();
    assert_eq!(fx.app.loading_total(), None);
    assert_eq!(fx.app.keys.len(), fx.store_count() as usize - 1);
}

// ---------------------------------------------------------------------------------------------
// Styled snapshots: the same screens with their colours and emphasis
// ---------------------------------------------------------------------------------------------

/// The screen with its styles, as `common::styled_buffer` writes them, rendered twice from
/// the same state like `stable_screen`.
fn styled_screen(app: &App, width: u16, height: u16, theme: &Theme) -> String {
    let draw = || {
        let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
        terminal
            .draw(|frame| view::render(app, frame, theme))
            .unwrap();
        styled_buffer(terminal.backend().buffer())
    };
    let first = draw();
    assert_eq!(first, draw(), "rendering the same state twice differs");
    first
}

const COLOUR: Theme = Theme { color: true };

#[test]
fn styled_snapshot_main_screen() {
    // The selection a few rows down, over active, revoked (dimmed red) and expired (dimmed
    // yellow) rows.
    let fx = demo_after(&[Action::Move(Movement::Down), Action::Move(Movement::Down)]);
    let screen = styled_screen(&fx.app, 120, 40, &COLOUR);
    for style in ["bold,reversed", "fg:Red,dim", "fg:Yellow,dim", "fg:Green"] {
        assert!(screen.contains(style), "no {style} run:\n{screen}");
    }
    insta::assert_snapshot!("styled_main", screen);
}

#[test]
fn styled_snapshot_main_screen_without_colour() {
    // NO_COLOR: the selection and the dimmed rows still show, by emphasis alone.
    let fx = demo_after(&[Action::Move(Movement::Down), Action::Move(Movement::Down)]);
    let screen = styled_screen(&fx.app, 120, 40, &Theme::PLAIN);
    assert!(
        !screen.contains("fg:"),
        "a colour without colour:\n{screen}"
    );
    for style in ["bold,reversed", "dim"] {
        assert!(screen.contains(style), "no {style} run:\n{screen}");
    }
    insta::assert_snapshot!("styled_main_no_color", screen);
}

#[test]
fn styled_snapshot_confirm_revoke() {
    let mut fx = Fixture::demo();
    fx.select_active();
    fx.update(Action::OpenRevoke);
    assert_eq!(fx.app.context(), Context::ConfirmRevoke);
    insta::assert_snapshot!(
        "styled_confirm_revoke",
        styled_screen(&fx.app, 120, 40, &COLOUR)
    );
}

#[test]
fn styled_snapshot_new_key() {
    let mut fx = Fixture::empty();
    fx.update(Action::OpenCreateDefault);
    fx.update(Action::Submit);
    assert_eq!(fx.app.context(), Context::NewKey);
    insta::assert_snapshot!("styled_new_key", styled_screen(&fx.app, 120, 40, &COLOUR));
}

#[test]
fn styled_snapshot_details() {
    let mut fx = Fixture::demo();
    fx.select_where(|k| k.use_count > 0 && k.rotated_at.is_some());
    fx.update(Action::OpenDetails);
    assert_eq!(fx.app.context(), Context::Details);
    insta::assert_snapshot!("styled_details", styled_screen(&fx.app, 120, 40, &COLOUR));
}

/// The sorted column's header carries the marker: `▼` for Uses (most first; its column shows
/// only while the table is sorted by it), `▲` for Name (A→Z).
#[test]
fn snapshot_sorted_by_uses_and_by_name() {
    let fx = demo_after(&[Action::CycleSort, Action::CycleSort, Action::CycleSort]);
    snapshot("sorted_by_uses", &fx, 120, 40);
    let fx = demo_after(&[Action::CycleSort, Action::CycleSort]);
    snapshot("sorted_by_name_80x24", &fx, 80, 24);
}
