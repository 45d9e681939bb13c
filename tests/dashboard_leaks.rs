//! Keys a scan found leaked, as the dashboard draws them: the row's status in words (not by
//! colour alone) and the details view's "Leaked" line. How a running dashboard comes to show
//! them (another process records the leak) is in the conformance suite
//! (`tests/conformance/leaks.rs`), on SQLite and PostgreSQL.

mod common;

use chrono::TimeDelta;
use common::dashboard::{Drive, TempApp, t0};
use hivekeys::store::LeakSighting;
use hivekeys::{Environment, NewKey};
use ratatui::crossterm::event::KeyCode;

const WS: &str = "default";

/// "Billing" (leaked in two places, the second a commit's), "Search" (rotated after a leak,
/// its grace over: no longer marked) and "Worker" (never found).
fn fixture() -> TempApp {
    TempApp::at(t0(), |store, clock| {
        let billing = store
            .create_key(WS, NewKey::new("Billing", Environment::Production))
            .unwrap();
        let search = store
            .create_key(WS, NewKey::new("Search", Environment::Staging))
            .unwrap();
        store
            .create_key(WS, NewKey::new("Worker", Environment::Development))
            .unwrap();
        let seen = |secret: &hivekeys::Secret, location: &str| LeakSighting {
            hash: secret.hash(),
            location: location.to_owned(),
        };
        store
            .record_leaks(&[
                seen(&billing.secret, "src/config.py:12"),
                seen(&search.secret, "notebooks/try.ipynb:40"),
            ])
            .unwrap();
        store
            .rotate_key(WS, &search.record.id, hivekeys::store::Grace::OneHour)
            .unwrap();
        clock.advance(TimeDelta::days(1));
        store
            .record_leaks(&[seen(&billing.secret, "4f9c2a1:deploy/.env:3")])
            .unwrap();
    })
}

/// The table: Billing's status says "Active · leaked"; Search, rotated with its grace over,
/// and Worker say "Active".
#[test]
fn snapshot_leaked_key_in_the_table() {
    let mut fx = fixture();
    insta::assert_snapshot!(fx.screen(100, 20));
}

/// Billing's details: the status, and where it leaked first with how many more places.
#[test]
fn snapshot_leaked_key_details() {
    let mut fx = fixture();
    let billing = fx
        .names_in_table()
        .iter()
        .position(|name| name == "Billing");
    for _ in 0..billing.expect("Billing is listed") {
        fx.press(KeyCode::Down);
    }
    fx.press(KeyCode::Enter);
    insta::assert_snapshot!(fx.screen(100, 34));
}
