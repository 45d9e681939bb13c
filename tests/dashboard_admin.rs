//! The admin console's overlays as drawn and as they act, over a real SQLite store in a
//! temporary directory: the workspaces overlay (`w`, switching, `a` creating) and the audit
//! log (`L`, paging, `/`). The store queries under them are in the conformance suite, on
//! SQLite and PostgreSQL.

mod common;

use common::dashboard::{Drive, TempApp, t0};
use hivekeys::store::{Grace, LoggedEvent};
use hivekeys::tui::action::Action;
use hivekeys::tui::app::Modal;
use hivekeys::tui::dialog::LOG_PAGE;
use hivekeys::tui::keymap::Context;
use hivekeys::{Environment, NewKey};
use ratatui::crossterm::event::KeyCode;

const WS: &str = "default";

/// An app on workspace "default" ("Billing", rotated with a 24-hour grace and renamed to
/// "Payments"; "Search") of a store that also holds workspace "ops" ("Gateway").
type Fixture = TempApp;

impl Fixture {
    fn new() -> Fixture {
        TempApp::at(t0(), |store, clock| {
            let billing = store
                .create_key(WS, NewKey::new("Billing", Environment::Production))
                .unwrap()
                .record;
            store
                .create_key(WS, NewKey::new("Search", Environment::Staging))
                .unwrap();
            clock.advance(chrono::TimeDelta::minutes(5));
            store.rotate_key(WS, &billing.id, Grace::OneDay).unwrap();
            clock.advance(chrono::TimeDelta::minutes(5));
            store.rename_key(WS, &billing.id, "Payments").unwrap();
            store
                .create_key("ops", NewKey::new("Gateway", Environment::Development))
                .unwrap();
        })
    }

    fn log(&self) -> &hivekeys::tui::dialog::AuditLog {
        match &self.app.modal {
            Some(Modal::AuditLog(log)) => log,
            _ => panic!("the audit log is not open"),
        }
    }
}

/// The workspaces overlay: each workspace with its active keys, the current one marked in
/// words, the selection on it, the hints from the key map.
#[test]
fn snapshot_workspaces_overlay() {
    let mut fx = Fixture::new();
    fx.char('w');
    assert_eq!(fx.app.context(), Context::Workspaces);
    insta::assert_snapshot!(fx.screen(100, 24));
}

/// The workspace rows of the overlay on `screen`: each one's text inside the box, trimmed.
fn overlay_rows(screen: &str, names: &[&str]) -> Vec<String> {
    screen
        .lines()
        .filter_map(|line| {
            // The box's own cells: between its borders, which are not the screen's.
            line.split('│').find_map(|inside| {
                let inside = inside.trim();
                let name = inside.trim_start_matches('▶').trim_start();
                names
                    .iter()
                    .any(|n| name.starts_with(&format!("{n} ")))
                    .then(|| inside.split_whitespace().collect::<Vec<_>>().join(" "))
            })
        })
        .collect()
}

/// As the binary runs it, the overlay opens on the names at once, the counts "…" until the
/// count on its own thread lands; `a` works meanwhile, and a workspace created meanwhile is
/// listed, then counted with the rest.
#[test]
fn the_overlay_lists_the_names_at_once_and_the_counts_when_they_land() {
    let mut fx = Fixture::new().in_background();
    fx.char('w');
    assert!(fx.app.is_counting(), "counted off the UI thread");
    let names = ["default", "ops", "Team A"];
    assert_eq!(
        overlay_rows(&fx.screen(100, 24), &names),
        ["▶ default (current) …", "ops …"],
        "the names before the counts"
    );
    fx.char('a');
    fx.type_text("Team A");
    fx.press(KeyCode::Enter);
    assert_eq!(fx.app.context(), Context::Workspaces, "back to the list");
    assert_eq!(
        overlay_rows(&fx.screen(100, 24), &names),
        ["default (current) …", "ops …", "▶ Team A …"]
    );
    fx.wait_for_counts();
    assert_eq!(
        overlay_rows(&fx.screen(100, 24), &names),
        ["default (current) 2", "ops 1", "▶ Team A 0"],
        "the counts once they land"
    );
    assert!(fx.app.notice.as_ref().is_some_and(|n| !n.is_error));
}

/// Enter switches while the count runs; the count landing after the overlay closed changes
/// nothing. Opened again, the overlay counts again.
#[test]
fn enter_switches_while_the_workspaces_are_counted() {
    let mut fx = Fixture::new().in_background();
    fx.char('w');
    fx.char('j');
    fx.press(KeyCode::Enter);
    assert_eq!(fx.app.workspace, "ops");
    assert!(fx.app.modal.is_none());
    fx.wait_for_counts();
    assert!(fx.app.modal.is_none(), "the late count opens nothing");
    fx.char('w');
    fx.wait_for_counts();
    assert_eq!(
        overlay_rows(&fx.screen(100, 24), &["default", "ops"]),
        ["default 2", "▶ ops (current) 1"]
    );
}

/// A count that fails says so in one sentence; the names stay listed and Enter still
/// switches. (The file is deleted: the app's own connection still reads it, the count's new
/// connection finds nothing to open.)
#[test]
fn a_failed_count_says_so_and_the_list_stays_usable() {
    let mut fx = Fixture::new().in_background();
    std::fs::remove_file(&fx.path).unwrap();
    fx.char('w');
    fx.wait_for_counts();
    let notice = fx.app.notice.clone().expect("a notice");
    assert!(notice.is_error);
    assert!(
        notice
            .text
            .starts_with("The active keys could not be counted: "),
        "{}",
        notice.text
    );
    assert_eq!(
        notice.text.matches(". ").count(),
        0,
        "one sentence: {}",
        notice.text
    );
    assert_eq!(
        overlay_rows(&fx.screen(100, 24), &["default", "ops"]),
        ["▶ default (current) unknown", "ops unknown"]
    );
    fx.char('j');
    fx.press(KeyCode::Enter);
    assert_eq!(fx.app.workspace, "ops");
}

/// New Workspace with a taken name submitted: the field, and the refusal in a key name's
/// style of sentence.
#[test]
fn snapshot_create_workspace_dialog() {
    let mut fx = Fixture::new();
    fx.char('w');
    fx.char('a');
    assert_eq!(fx.app.context(), Context::CreateWorkspace);
    fx.type_text("ops");
    fx.press(KeyCode::Enter);
    insta::assert_snapshot!(fx.screen(100, 24));
}

/// The audit log, newest first: time, actor, action, key name and id, the rotation's grace
/// and the rename's old → new.
#[test]
fn snapshot_audit_log() {
    let mut fx = Fixture::new();
    fx.char('L');
    assert_eq!(fx.app.context(), Context::AuditLog);
    insta::assert_snapshot!(fx.screen(140, 24));
}

/// The audit log searched in another case: only the rotation's detail says "24 hours".
#[test]
fn snapshot_audit_log_searched() {
    let mut fx = Fixture::new();
    fx.char('L');
    fx.char('/');
    assert_eq!(fx.app.context(), Context::AuditSearch);
    fx.type_text("24 HOURS");
    fx.press(KeyCode::Enter);
    assert_eq!(fx.app.context(), Context::AuditLog);
    insta::assert_snapshot!(fx.screen(100, 24));
}

#[test]
fn the_audit_log_is_the_workspaces_own_newest_first() {
    let mut fx = Fixture::new();
    fx.char('L');
    let actions: Vec<&str> = fx
        .log()
        .events
        .iter()
        .map(|e| e.event.action.as_str())
        .collect();
    assert_eq!(actions, ["renamed", "rotated", "created", "created"]);
    assert!(
        fx.log().events.iter().all(|e| e.key_name != "Gateway"),
        "ops's key is not in default's log"
    );
    let renamed: &LoggedEvent = &fx.log().events[0];
    assert_eq!(renamed.event.detail.as_deref(), Some("Billing → Payments"));
    assert_eq!(renamed.event.actor, "alice");
    fx.press(KeyCode::Esc);
    assert!(fx.app.modal.is_none());
}

#[test]
fn enter_switches_the_whole_screen_and_writes_follow() {
    let mut fx = Fixture::new();
    fx.char('w');
    // "default" (current) then "ops".
    fx.press(KeyCode::Down);
    fx.press(KeyCode::Enter);
    assert!(fx.app.modal.is_none());
    assert_eq!(fx.app.workspace, "ops");
    assert_eq!(fx.names_in_table(), ["Gateway"]);
    assert!(fx.app.default_key.is_none());
    let screen = fx.screen(100, 24);
    assert!(screen.contains("workspace ops"), "{screen}");
    assert!(screen.contains("Gateway") && !screen.contains("Payments"));
    // A key added now lands in "ops", and another process's change there shows.
    fx.char('a');
    fx.type_text("Worker");
    fx.press(KeyCode::Enter);
    assert_eq!(fx.app.context(), Context::NewKey);
    fx.press(KeyCode::Esc);
    fx.char('y');
    let ops = fx
        .other_process(9)
        .list_keys("ops", &Default::default())
        .unwrap();
    assert!(ops.iter().any(|k| k.name == "Worker"), "{ops:?}");
    fx.other_process(9)
        .create_key("ops", NewKey::new("Cron", Environment::Staging))
        .unwrap();
    fx.clock.advance(chrono::TimeDelta::seconds(2));
    fx.app.update(Action::Tick);
    let mut names = fx.names_in_table();
    names.sort();
    assert_eq!(names, ["Cron", "Gateway", "Worker"]);
    // And the log is ops's.
    fx.char('L');
    assert!(fx.log().events.iter().all(|e| e.key_name != "Payments"));
}

/// Marks are of the workspace they were made in: switching drops them, so `x` in the new
/// workspace can never revoke the old one's keys.
#[test]
fn switching_drops_the_marks_of_the_workspace_left() {
    let mut fx = Fixture::new();
    fx.char(' ');
    assert!(!fx.app.marks.is_empty());
    fx.char('w');
    fx.press(KeyCode::Down);
    fx.press(KeyCode::Enter);
    assert_eq!(fx.app.workspace, "ops");
    assert!(fx.app.marks.is_empty());
    // Dropped as the workspace's, not reported as keys gone from the store.
    let screen = fx.screen(100, 24);
    assert!(!screen.contains("marked"), "{screen}");
    assert!(screen.contains("Now in workspace \"ops\""), "{screen}");
}

#[test]
fn a_created_workspace_is_stored_listed_selected_and_switched_to() {
    let mut fx = Fixture::new();
    fx.char('w');
    fx.char('a');
    fx.type_text(" Team A ");
    fx.press(KeyCode::Enter);
    assert_eq!(fx.app.context(), Context::Workspaces, "back to the list");
    let stored: Vec<String> = fx
        .other_process(9)
        .workspaces()
        .unwrap()
        .into_iter()
        .map(|w| w.name)
        .collect();
    assert_eq!(stored, ["default", "ops", "Team A"]);
    let Some(Modal::Workspaces(overlay)) = &fx.app.modal else {
        panic!("the list closed");
    };
    assert_eq!(overlay.selected_entry().unwrap().name, "Team A");
    assert!(fx.app.notice.as_ref().unwrap().text.contains("Team A"));
    fx.press(KeyCode::Enter);
    assert_eq!(fx.app.workspace, "Team A");
    assert!(fx.app.keys.is_empty());
}

#[test]
fn a_pasted_key_is_refused_as_a_workspace_name_and_never_shown() {
    let mut fx = Fixture::new();
    let secret = fx
        .other_process(9)
        .create_key("ops", NewKey::new("Leak", Environment::Production))
        .unwrap()
        .secret;
    fx.char('w');
    fx.char('a');
    fx.app.update(Action::Paste(secret.expose().to_owned()));
    fx.press(KeyCode::Enter);
    let Some(Modal::Workspaces(overlay)) = &fx.app.modal else {
        panic!("the overlay closed");
    };
    // The message names the key by its masked form only (the field shows what was pasted,
    // on the admin's own screen, as Add API Key's does).
    let error = overlay.creating.as_ref().unwrap().error.clone().unwrap();
    assert!(error.contains("contains the API key"), "{error}");
    assert!(!error.contains(secret.expose()), "{error}");
    assert!(error.contains(&secret.masked()), "{error}");
    assert_eq!(
        fx.other_process(9).workspaces().unwrap().len(),
        2,
        "nothing stored"
    );
}

#[test]
fn the_log_reads_older_pages_as_the_selection_reaches_the_end() {
    let mut fx = Fixture::new();
    let mut other = fx.other_process(9);
    let id = other
        .create_key(WS, NewKey::new("Busy", Environment::Staging))
        .unwrap()
        .record
        .id;
    for i in 0..LOG_PAGE + 10 {
        other.set_daily_limit(WS, &id, Some(i as u64 + 1)).unwrap();
    }
    fx.char('L');
    assert_eq!(fx.log().events.len(), LOG_PAGE);
    assert!(fx.log().more);
    fx.char('G');
    fx.press(KeyCode::Down);
    // The rest: the 10 limits, "Busy"'s creation and the 4 events of the fixture.
    assert_eq!(fx.log().events.len(), LOG_PAGE + 10 + 1 + 4);
    assert!(!fx.log().more);
    assert_eq!(fx.log().selected, LOG_PAGE);
    let screen = fx.screen(140, 24);
    assert!(screen.contains("Showing all 1,015 events"), "{screen}");
}

/// Another admin renames the key while the Rename dialog is open and before the dashboard has
/// heard of it: the message names the rename that really happened, "Mid" → "New" (as the
/// audit log does), not the name the dialog opened with.
#[test]
fn a_rename_says_which_name_it_replaced_when_another_came_first() {
    let mut fx = Fixture::new();
    assert_eq!(fx.app.selected_key().unwrap().name, "Search");
    let id = fx.app.selected_key().unwrap().id.clone();
    fx.char('n');
    assert_eq!(fx.app.context(), Context::Rename);
    fx.other_process(9).rename_key(WS, &id, "Mid").unwrap();
    for _ in 0.."Search".len() {
        fx.press(KeyCode::Backspace);
    }
    fx.type_text("New");
    fx.press(KeyCode::Enter);
    let screen = fx.screen(120, 30);
    assert!(
        screen.contains("Renamed key") && screen.contains("\"Mid\" → \"New\""),
        "{screen}"
    );
    let trail = fx.app.store().audit_trail(WS, &id).unwrap();
    let details: Vec<_> = trail.iter().filter_map(|e| e.detail.as_deref()).collect();
    assert_eq!(details, ["Search → Mid", "Mid → New"]);
}
