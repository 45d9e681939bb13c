//! The Daily Limit and Rename Key dialogs as drawn, over a real SQLite store in a temporary directory. The
//! dashboard's behaviour while other processes change the store is in the conformance suite
//! (`tests/conformance/dashboard.rs`), on SQLite and PostgreSQL.

mod common;

use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use common::store_options;
use hivekeys::clock::ManualClock;
use hivekeys::tui::action::Action;
use hivekeys::tui::app::App;
use hivekeys::tui::clipboard::Osc52Only;
use hivekeys::tui::keymap;
use hivekeys::tui::view::{self, theme::Theme};
use hivekeys::{Environment, NewKey, Store};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{
    Event, KeyCode, KeyEvent, KeyEventKind, KeyEventState, KeyModifiers,
};
use tempfile::TempDir;

const WS: &str = "default";

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0).unwrap()
}

/// An app over a store holding the keys "Billing" and "Search" (staging). Fields drop in
/// order: the app closes its store before the directory goes.
struct Fixture {
    app: App,
    _dir: TempDir,
}

impl Fixture {
    fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hivekeys.db");
        let clock = Arc::new(ManualClock::new(t0()));
        let mut store = Store::open_with(&path, store_options(&clock, 42)).unwrap();
        for name in ["Billing", "Search"] {
            store
                .create_key(WS, NewKey::new(name, Environment::Staging))
                .unwrap();
        }
        let app = App::new(store, WS, Box::new(Osc52Only::default()));
        Fixture { app, _dir: dir }
    }

    fn char(&mut self, c: char) {
        let event = Event::Key(KeyEvent {
            code: KeyCode::Char(c),
            modifiers: KeyModifiers::NONE,
            kind: KeyEventKind::Press,
            state: KeyEventState::NONE,
        });
        if let Some(action) = keymap::action_for(self.app.context(), &event) {
            self.app.update(action);
        }
    }

    fn press(&mut self, code: KeyCode) {
        let event = Event::Key(KeyEvent {
            code,
            modifiers: KeyModifiers::NONE,
            kind: KeyEventKind::Press,
            state: KeyEventState::NONE,
        });
        if let Some(action) = keymap::action_for(self.app.context(), &event) {
            self.app.update(action);
        }
    }

    fn screen(&mut self, width: u16, height: u16) -> String {
        self.app.update(Action::Resize(width, height));
        let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
        terminal
            .draw(|frame| view::render(&self.app, frame, &Theme::PLAIN))
            .unwrap();
        terminal.backend().to_string()
    }
}

/// The Daily Limit dialog as drawn, with its hints from the key map.
#[test]
fn snapshot_daily_limit_dialog() {
    let mut fx = Fixture::new();
    fx.char('l');
    for c in "250".chars() {
        fx.char(c);
    }
    insta::assert_snapshot!(fx.screen(100, 24));
}

/// Rename Key as drawn: the key it is for, its name in the field (edited), the rule, and
/// its hints from the key map.
#[test]
fn snapshot_rename_dialog() {
    let mut fx = Fixture::new();
    fx.char('n');
    for c in " v2".chars() {
        fx.char(c);
    }
    insta::assert_snapshot!(fx.screen(100, 24));
}

/// Rename Key refusing an emptied name on Enter, in the Add dialog's words.
#[test]
fn snapshot_rename_dialog_empty_submitted() {
    let mut fx = Fixture::new();
    fx.char('n');
    for _ in 0.."Search".len() {
        fx.press(KeyCode::Backspace);
    }
    fx.press(KeyCode::Enter);
    insta::assert_snapshot!(fx.screen(100, 24));
}
