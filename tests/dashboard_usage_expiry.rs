//! The admin console's usage filter (`u`) and key expiry in the dashboard, over a real SQLite
//! store in a temporary directory: the chip, the rows and the "N of M keys" count as the
//! filter cycles and combines with search, the other filters and the sort; the Add API Key
//! dialog's expiry choice; "Active · expires in 3 days" in the table and the detail view.
//! The same rules on PostgreSQL and the CLI's `--unused-for` / `--expiring-within` are in
//! the conformance suite (`tests/conformance/cli.rs`).

mod common;

use std::ops::{Deref, DerefMut};

use chrono::TimeDelta;
use common::dashboard::{Drive, TempApp, t0};
use common::store_options;
use hivekeys::expiry::ExpiryChoice;
use hivekeys::store::IssuedKey;
use hivekeys::tui::action::Action;
use hivekeys::tui::app::Modal;
use hivekeys::usage_filter::UsageFilter;
use hivekeys::{Environment, NewKey, Store};
use ratatui::crossterm::event::KeyCode;

const WS: &str = "default";

/// An app at [`t0`] over six keys made over the last two months, newest first:
///
/// | key            | env  | last used    | expiry         |
/// |----------------|------|--------------|----------------|
/// | Nightly export | dev  | 2 days ago   | in 5 hours     |
/// | Trial partner  | stg  | never        | in 3 days 2 h  |
/// | Legacy cron    | prod | never        | (revoked)      |
/// | Search worker  | stg  | 40 days ago  | in 20 days     |
/// | Billing API    | prod | 1 hour ago   | never          |
/// | Old mobile app | prod | 50 days ago  | 10 days ago    |
struct Fixture {
    fx: TempApp,
    /// Trial partner's key, for another process to use.
    trial: IssuedKey,
}

impl Fixture {
    fn new() -> Fixture {
        let mut trial = None;
        let fx = TempApp::at(t0() - TimeDelta::days(60), |store, clock| {
            let mut create = |name: &str, env: Environment, expires_in: Option<TimeDelta>| {
                clock.advance(TimeDelta::hours(1));
                let new = NewKey {
                    expires_at: expires_in.map(|d| t0() + d),
                    ..NewKey::new(name, env)
                };
                store.create_key(WS, new).unwrap()
            };
            let old = create(
                "Old mobile app",
                Environment::Production,
                Some(TimeDelta::days(-10)),
            );
            let billing = create("Billing API", Environment::Production, None);
            let search = create(
                "Search worker",
                Environment::Staging,
                Some(TimeDelta::days(20)),
            );
            let legacy = create("Legacy cron", Environment::Production, None);
            trial = Some(create(
                "Trial partner",
                Environment::Staging,
                Some(TimeDelta::days(3) + TimeDelta::hours(2)),
            ));
            let nightly = create(
                "Nightly export",
                Environment::Development,
                Some(TimeDelta::hours(5)),
            );
            store.revoke_key(WS, &legacy.record.id).unwrap();
            let mut use_at = |key: &IssuedKey, ago: TimeDelta| {
                clock.set(t0() - ago);
                store.verify(key.secret.expose()).unwrap();
            };
            use_at(&old, TimeDelta::days(50));
            use_at(&search, TimeDelta::days(40));
            use_at(&nightly, TimeDelta::days(2));
            use_at(&billing, TimeDelta::hours(1));
            store.flush_usage().unwrap();
            clock.set(t0());
        });
        Fixture {
            fx,
            trial: trial.unwrap(),
        }
    }

    fn selected(&self) -> &str {
        &self.app.selected_key().expect("a selected row").name
    }
}

impl Deref for Fixture {
    type Target = TempApp;

    fn deref(&self) -> &TempApp {
        &self.fx
    }
}

impl DerefMut for Fixture {
    fn deref_mut(&mut self) -> &mut TempApp {
        &mut self.fx
    }
}

#[test]
fn u_cycles_the_usage_filter_and_the_rows_and_count_follow() {
    let mut fx = Fixture::new();
    let all = [
        "Nightly export",
        "Trial partner",
        "Legacy cron",
        "Search worker",
        "Billing API",
        "Old mobile app",
    ];
    assert_eq!(fx.names_in_table(), all);
    let mut steps = Vec::new();
    for _ in 0..4 {
        fx.char('u');
        let screen = fx.screen(120, 30);
        let count = ["2 of 6", "4 of 6", "6 of 6"]
            .into_iter()
            .find(|count| screen.contains(&format!(" {count} keys ")))
            .unwrap_or("no count")
            .to_owned();
        let rows: Vec<String> = fx.names_in_table().iter().map(|r| r.to_string()).collect();
        steps.push((fx.app.usage_filter, rows, count));
    }
    let expected = [
        (
            UsageFilter::UsedRecently,
            vec!["Nightly export", "Billing API"],
            "2 of 6",
        ),
        (
            UsageFilter::Unused,
            vec![
                "Trial partner",
                "Legacy cron",
                "Search worker",
                "Old mobile app",
            ],
            "4 of 6",
        ),
        (
            UsageFilter::NeverUsed,
            vec!["Trial partner", "Legacy cron"],
            "2 of 6",
        ),
        (UsageFilter::All, all.to_vec(), "6 of 6"),
    ];
    for (step, (filter, rows, count)) in steps.iter().zip(expected) {
        assert_eq!(step.0, filter);
        assert_eq!(step.1, rows, "{filter:?}");
        assert_eq!(step.2, count, "{filter:?}");
    }
}

#[test]
fn the_usage_filter_combines_with_search_the_other_filters_and_the_sort() {
    let mut fx = Fixture::new();
    fx.char('u');
    fx.char('u');
    assert_eq!(fx.app.usage_filter, UsageFilter::Unused);
    fx.char('s');
    assert_eq!(
        fx.names_in_table(),
        ["Trial partner", "Search worker"],
        "active and unused for 30 days"
    );
    fx.char('e');
    fx.char('e');
    assert_eq!(
        fx.names_in_table(),
        ["Trial partner", "Search worker"],
        "staging"
    );
    fx.char('o');
    assert_eq!(
        fx.names_in_table(),
        ["Search worker", "Trial partner"],
        "last used first, never used last"
    );
    fx.char('/');
    fx.type_text("trial");
    fx.press(KeyCode::Enter);
    assert_eq!(fx.names_in_table(), ["Trial partner"]);
    assert_eq!(fx.selected(), "Trial partner");
    fx.press(KeyCode::Esc);
    assert_eq!(fx.names_in_table(), ["Search worker", "Trial partner"]);
    assert_eq!(
        fx.selected(),
        "Trial partner",
        "the selection stays on its key"
    );
    fx.char('u');
    assert_eq!(fx.names_in_table(), ["Trial partner"], "never used");
    fx.char('u');
    assert_eq!(fx.app.usage_filter, UsageFilter::All);
    assert_eq!(fx.names_in_table(), ["Search worker", "Trial partner"]);
}

#[test]
fn a_use_elsewhere_takes_a_key_out_of_never_used_on_the_next_tick() {
    let mut fx = Fixture::new();
    for _ in 0..3 {
        fx.char('u');
    }
    assert_eq!(fx.names_in_table(), ["Trial partner", "Legacy cron"]);
    fx.screen(120, 30);
    // Another process verifies the trial key: only use counts change, no key.
    let path = fx.app.store().path().to_path_buf();
    let mut other = Store::open_with(&path, store_options(&fx.clock, 43)).unwrap();
    fx.clock.advance(TimeDelta::minutes(1));
    other.verify(fx.trial.secret.expose()).unwrap();
    other.flush_usage().unwrap();
    fx.clock.advance(hivekeys::tui::app::RELOAD_INTERVAL);
    fx.app.update(Action::Tick);
    assert_eq!(fx.names_in_table(), ["Legacy cron"]);
    assert!(fx.screen(120, 30).contains("1 of 6 keys"));
}

/// A key leaves "Used in 30 days" when its last use turns 30 days old, though nothing was
/// written: the clock alone moves it, within a minute.
#[test]
fn a_key_whose_last_use_turns_30_days_old_leaves_used_in_30_days() {
    let mut fx = Fixture::new();
    fx.char('u');
    assert_eq!(fx.names_in_table(), ["Nightly export", "Billing API"]);
    // Past every expiry first (that reads the list again by itself)...
    fx.clock.advance(TimeDelta::days(27));
    fx.app.update(Action::Tick);
    assert_eq!(fx.names_in_table(), ["Nightly export", "Billing API"]);
    // ...then past the day Nightly export's last use (two days before t0) turns 30 days old.
    fx.clock.advance(TimeDelta::days(1) + TimeDelta::minutes(1));
    fx.app.update(Action::Tick);
    assert_eq!(fx.names_in_table(), ["Billing API"]);
}

#[test]
fn the_table_marks_active_keys_in_their_last_week_in_words() {
    let mut fx = Fixture::new();
    let screen = fx.screen(120, 30);
    let line = |name: &str| {
        screen
            .lines()
            .find(|l| l.contains(name))
            .unwrap_or_else(|| panic!("{name}:\n{screen}"))
    };
    assert!(
        line("Trial partner").contains("Active · expires in 3 days"),
        "{screen}"
    );
    assert!(
        line("Nightly export").contains("Active · expires today"),
        "{screen}"
    );
    assert!(
        !line("Search worker").contains("expires"),
        "20 days: {screen}"
    );
    assert!(line("Old mobile app").contains("Expired"), "{screen}");
    // A day later the count has moved on: the mark follows the clock, not the read.
    fx.clock.advance(TimeDelta::days(1));
    fx.app.update(Action::Tick);
    let later = fx.screen(120, 30);
    assert!(later.contains("Active · expires in 2 days"), "{later}");
}

#[test]
fn the_detail_view_says_when_the_key_expires() {
    let mut fx = Fixture::new();
    fx.char('j');
    assert_eq!(fx.selected(), "Trial partner");
    fx.press(KeyCode::Enter);
    let screen = fx.screen(120, 40);
    assert!(screen.contains("Active · expires in 3 days"), "{screen}");
    assert!(
        screen.contains("2026-11-29 14:00 UTC (in 3 days)"),
        "{screen}"
    );
}

#[test]
fn a_key_added_with_a_30_day_expiry_expires_30_days_from_now() {
    let mut fx = Fixture::new();
    fx.char('a');
    fx.type_text("Contractor");
    fx.press(KeyCode::Tab);
    fx.press(KeyCode::Down);
    let Some(Modal::AddKey(dialog)) = &fx.app.modal else {
        panic!("Add API Key is not open");
    };
    assert_eq!(
        (dialog.environment, dialog.expiry),
        (Environment::Production, ExpiryChoice::Days30)
    );
    fx.press(KeyCode::Enter);
    let Some(Modal::NewKey(shown)) = &fx.app.modal else {
        panic!("the new key is not shown");
    };
    let id = shown.key.id.clone();
    let stored = fx.app.store().get_key(WS, &id).unwrap();
    assert_eq!(stored.expires_at, Some(t0() + TimeDelta::days(30)));
    assert_eq!(stored.name, "Contractor");
}

/// The Add API Key dialog with the expiry in focus and 90 days picked: `▶` marks where the
/// arrows act, the environment keeps its pick as `(•)`.
#[test]
fn snapshot_add_key_dialog_with_the_expiry_choice() {
    let mut fx = Fixture::new();
    fx.char('a');
    fx.type_text("Contractor access");
    fx.press(KeyCode::Down);
    fx.press(KeyCode::Tab);
    fx.press(KeyCode::Down);
    fx.press(KeyCode::Down);
    insta::assert_snapshot!(fx.screen(100, 24));
}

/// The table with the usage filter on "Unused 30+ days": its chip, the count, and the trial
/// key's expiry mark widening the Status column.
#[test]
fn snapshot_unused_keys_with_an_expiring_mark() {
    let mut fx = Fixture::new();
    fx.char('u');
    fx.char('u');
    insta::assert_snapshot!(fx.screen(120, 24));
}

/// Every key, at 80 columns: the marks fit beside the other columns, the chips shorten.
#[test]
fn snapshot_expiring_marks_at_80_columns() {
    let mut fx = Fixture::new();
    fx.char('u');
    insta::assert_snapshot!(fx.screen(80, 24));
}
