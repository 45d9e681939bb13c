//! Snapshots of marked rows and the bulk revoke confirmation, drawn from the real keymap's
//! keys over a store in a temporary directory.

#[path = "common/mod.rs"]
mod common;

use chrono::TimeDelta;
use common::dashboard::{Drive, TempApp, t0};
use hivekeys::{Environment, NewKey};

const WS: &str = "default";

/// Six keys, a second apart; the table lists them newest first.
type Fixture = TempApp;

impl Fixture {
    fn new() -> Fixture {
        TempApp::at(t0(), |store, clock| {
            for name in ["Billing", "Payments", "CI", "Search", "Web", "Mobile"] {
                clock.advance(TimeDelta::seconds(1));
                store
                    .create_key(WS, NewKey::new(name, Environment::Production))
                    .unwrap();
            }
        })
    }
}

/// Two rows marked (`●` in the first column, "2 marked" in the title), the selection on the
/// row after them; the footer offers Space and x.
#[test]
fn snapshot_marked_rows() {
    let mut fx = Fixture::new();
    fx.type_text(" j ");
    insta::assert_snapshot!(fx.screen(100, 24));
}

/// The one confirmation for five marked keys: the count, the first three names.
#[test]
fn snapshot_bulk_revoke_confirmation() {
    let mut fx = Fixture::new();
    fx.type_text("     x");
    insta::assert_snapshot!(fx.screen(100, 24));
}

/// The marks' column at the narrowest layout still fits the rows.
#[test]
fn snapshot_marked_rows_60x16() {
    let mut fx = Fixture::new();
    fx.type_text("  ");
    insta::assert_snapshot!(fx.screen(60, 16));
}
