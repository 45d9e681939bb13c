//! The Daily Limit and Rename Key dialogs as drawn, over a real SQLite store in a temporary directory. The
//! dashboard's behaviour while other processes change the store is in the conformance suite
//! (`tests/conformance/dashboard.rs`), on SQLite and PostgreSQL.

mod common;

use common::dashboard::{Drive, TempApp, t0};
use hivekeys::{Environment, NewKey};
use ratatui::crossterm::event::KeyCode;

const WS: &str = "default";

/// An app over a store holding the keys "Billing" and "Search" (staging).
type Fixture = TempApp;

impl Fixture {
    fn new() -> Fixture {
        TempApp::at(t0(), |store, _| {
            for name in ["Billing", "Search"] {
                store
                    .create_key(WS, NewKey::new(name, Environment::Staging))
                    .unwrap();
            }
        })
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
