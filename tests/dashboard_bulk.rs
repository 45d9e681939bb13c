//! Snapshots of marked rows and the bulk revoke confirmation, drawn from the real keymap's
//! keys over a store in a temporary directory.

#[path = "common/mod.rs"]
mod common;

use std::sync::Arc;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
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

/// Six keys, a second apart; the table lists them newest first.
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
        for name in ["Billing", "Payments", "CI", "Search", "Web", "Mobile"] {
            clock.advance(TimeDelta::seconds(1));
            store
                .create_key(WS, NewKey::new(name, Environment::Production))
                .unwrap();
        }
        let app = App::new(store, WS, Box::new(Osc52Only::default()));
        Fixture { app, _dir: dir }
    }

    fn keys(&mut self, keys: &str) {
        for c in keys.chars() {
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

/// Two rows marked (`●` in the first column, "2 marked" in the title), the selection on the
/// row after them; the footer offers Space and x.
#[test]
fn snapshot_marked_rows() {
    let mut fx = Fixture::new();
    fx.keys(" j ");
    insta::assert_snapshot!(fx.screen(100, 24));
}

/// The one confirmation for five marked keys: the count, the first three names.
#[test]
fn snapshot_bulk_revoke_confirmation() {
    let mut fx = Fixture::new();
    fx.keys("     x");
    insta::assert_snapshot!(fx.screen(100, 24));
}

/// The marks' column at the narrowest layout still fits the rows.
#[test]
fn snapshot_marked_rows_60x16() {
    let mut fx = Fixture::new();
    fx.keys("  ");
    insta::assert_snapshot!(fx.screen(60, 16));
}
