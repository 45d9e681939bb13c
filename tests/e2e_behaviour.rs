//! The real binary, in a pseudo-terminal where a terminal matters, for the dashboard's
//! behaviour around other processes: a write waiting for another process's lock, a quit
//! confirmed on an uncopied key, a workspace no command accepts, a leak recorded elsewhere;
//! `show`'s live secrets; and the admin console's expiry choice and usage filter.
//! Every step waits for what it expects with a deadline; nothing sleeps a fixed time.

mod common;

use common::pty::Pty;
use common::{Sandbox, contains_full_key, is_full_key};

const ENTER_ALT_SCREEN: &[u8] = b"\x1b[?1049h";

/// The column where the Add API Key dialog's top-left corner is on `screen`.
fn dialog_column(screen: &str) -> Option<usize> {
    screen.lines().find_map(|line| {
        line.find("┌ Add API Key")
            .map(|i| line[..i].chars().count())
    })
}

/// Another process holds the write lock while the admin saves a key: the dashboard keeps
/// drawing (it redraws for a resize), says that it waits, and finishes when the lock goes.
#[test]
fn a_write_waiting_for_the_lock_says_so_and_the_screen_keeps_redrawing() {
    let sandbox = Sandbox::new();
    let mut pty = Pty::start(&sandbox, &[], &[("HIVEKEYS_BUSY_TIMEOUT_MS", "30000")]);
    pty.wait_for("No additional keys yet.");
    let blocker = rusqlite::Connection::open(&sandbox.db).expect("open the store");
    blocker.execute_batch("BEGIN IMMEDIATE").expect("lock");

    pty.send(b"a");
    pty.wait_for("┌ Add API Key");
    pty.send(b"Locked\r");
    let waiting = pty.wait_for("Waiting for another process to release the store");
    assert!(waiting.contains("Esc withdraw the change"), "{waiting}");
    let before = dialog_column(&waiting).expect("the dialog");

    pty.resize(30, 90);
    let resized = pty.wait_until("the dialog re-centred at 90 columns", |s| {
        dialog_column(s).is_some_and(|column| column < before)
    });
    assert!(resized.contains("Waiting for another process"), "{resized}");

    blocker.execute_batch("ROLLBACK").expect("unlock");
    drop(blocker);
    let shown = pty.wait_for("┌ Your New API Key");
    assert!(shown.contains("Locked"), "{shown}");
    pty.send(b"c\r");
    pty.wait_until("the dialog closed", |s| !s.contains("Your New API Key"));
    pty.send(b"q");
    assert!(pty.wait_exit().success());
}

/// Ctrl-C on an uncopied key asks "Close anyway?"; `y` then closes it and quits.
#[test]
fn ctrl_c_then_y_on_an_uncopied_new_key_quits() {
    let sandbox = Sandbox::new();
    let mut pty = Pty::start(&sandbox, &[], &[]);
    pty.wait_for("No additional keys yet.");
    pty.send(b"D");
    pty.wait_for("┌ Create Default Key");
    pty.send(b"\r");
    pty.wait_for("┌ Your New API Key");
    pty.send(b"\x03");
    pty.wait_for("Close anyway?");
    pty.send(b"y");
    let status = pty.wait_exit();
    assert!(status.success(), "{status:?}");
}

/// An empty workspace name is refused as every command refuses it, before the terminal is
/// taken over.
#[test]
fn an_empty_workspace_is_refused_before_the_dashboard_opens() {
    let sandbox = Sandbox::new();
    for workspace in ["", "  "] {
        let pty = Pty::start(&sandbox, &["--workspace", workspace], &[]);
        let status = pty.wait_exit();
        assert_eq!(status.exit_code(), 2, "{workspace:?}");
        pty.wait_for("the workspace name is empty");
        let log = pty.log();
        assert!(
            !log.windows(ENTER_ALT_SCREEN.len())
                .any(|w| w == ENTER_ALT_SCREEN),
            "the terminal was taken over"
        );
    }
}

/// `show` lists the secrets that verify now, by issue time, never their text.
#[test]
fn show_lists_the_live_secrets_in_text_and_json() {
    let sandbox = Sandbox::new();
    let first = sandbox.create_key("Billing", "stg");
    let rotated = sandbox
        .stdout_of(&["rotate", "Billing", "--grace", "1h", "--yes"], None)
        .trim()
        .to_owned();
    let json = sandbox.show_json("Billing");
    let secrets = json["secrets"].as_array().expect("a secrets array");
    assert_eq!(secrets.len(), 2, "{json}");
    assert!(secrets[0]["expires_at"].is_null(), "the current one first");
    assert!(
        secrets[1]["expires_at"].is_string(),
        "the old one, in its grace"
    );
    assert!(secrets.iter().all(|s| s["created_at"].is_string()));

    let text = sandbox.stdout_of(&["show", "Billing"], None);
    assert!(text.contains("Live secrets"), "{text}");
    assert!(
        text.contains("current") && text.contains("until "),
        "{text}"
    );
    for output in [text, json.to_string()] {
        assert!(
            !output.contains(&first) && !output.contains(&rotated),
            "a key was printed"
        );
        assert!(!output.split_whitespace().any(is_full_key));
    }

    sandbox.stdout_of(&["revoke", "Billing", "--yes"], None);
    let json = sandbox.show_json("Billing");
    assert_eq!(json["secrets"].as_array().map(Vec::len), Some(0));
}

/// The admin console's expiry and usage filter in the real binary: a key added through the
/// Add API Key dialog with a 30-day expiry is listed with it by `list`; a key in its last
/// week is marked in the table; `u` cycles the usage filter and the rows and count follow.
#[test]
fn a_key_added_with_an_expiry_is_listed_and_u_filters_by_usage() {
    use chrono::{TimeDelta, Utc};
    use hivekeys::clock::ManualClock;
    use hivekeys::{Environment, NewKey, Store};

    let sandbox = Sandbox::new();
    // History written relative to now, since the binary reads the system clock.
    let now = Utc::now();
    let clock = std::sync::Arc::new(ManualClock::new(now - TimeDelta::days(60)));
    let mut store = Store::open_with(&sandbox.db, common::store_options(&clock, 5)).unwrap();
    let mut create = |name: &str, expires_at| {
        let new = NewKey {
            expires_at,
            ..NewKey::new(name, Environment::Staging)
        };
        store.create_key("default", new).unwrap()
    };
    let stale = create("Stale", None);
    let fresh = create("Fresh", None);
    create("Unused", None);
    create(
        "Trial",
        Some(now + TimeDelta::days(3) + TimeDelta::hours(2)),
    );
    clock.set(now - TimeDelta::days(40));
    store.verify(stale.secret.expose()).unwrap();
    clock.set(now - TimeDelta::hours(1));
    store.verify(fresh.secret.expose()).unwrap();
    store.flush_usage().unwrap();
    drop(store);

    let mut pty = Pty::start(&sandbox, &[], &[]);
    pty.wait_until("four rows, the trial key marked", |s| {
        s.contains("4 of 4 keys") && s.contains("Active · expires in 3 days")
    });

    pty.send(b"a");
    pty.wait_for("┌ Add API Key");
    pty.send(b"Contractor\t\x1b[B");
    pty.wait_for("▶ (•) 30 days");
    pty.send(b"\r");
    pty.wait_for("┌ Your New API Key");
    pty.send(b"c\r");
    pty.wait_until("the dialog closed and the key listed", |s| {
        !s.contains("Your New API Key") && s.contains("5 of 5 keys") && s.contains("Contractor")
    });

    let listed: serde_json::Value =
        serde_json::from_str(&sandbox.stdout_of(&["list", "--json"], None)).unwrap();
    let contractor = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["name"] == "Contractor")
        .unwrap_or_else(|| panic!("{listed}"));
    let expires: chrono::DateTime<Utc> =
        contractor["expires_at"].as_str().unwrap().parse().unwrap();
    let lifetime = expires - now;
    assert!(
        // Stored to the second.
        lifetime > TimeDelta::days(30) - TimeDelta::seconds(1)
            && lifetime < TimeDelta::days(30) + TimeDelta::minutes(5),
        "{contractor}"
    );
    assert_eq!(contractor["expiring_soon"], false, "{contractor}");
    let expiring = sandbox.stdout_of(&["list", "--expiring-within", "7d"], None);
    assert!(
        expiring.contains("Trial") && expiring.contains("active · expires in 3 days"),
        "{expiring}"
    );
    assert!(!expiring.contains("Contractor"), "{expiring}");

    // Used in 30 days → Unused 30+ days → Never used → All.
    for (chip, count, shown, hidden) in [
        ("[Usage: Used in 30 days]", "1 of 5 keys", "Fresh", "Stale"),
        ("[Usage: Unused 30+ days]", "4 of 5 keys", "Stale", "Fresh"),
        ("[Usage: Never used]", "3 of 5 keys", "Contractor", "Stale"),
        ("[Usage: All]", "5 of 5 keys", "Stale", "no such key"),
    ] {
        pty.send(b"u");
        // Waits for the whole frame: the chip, the count, and the rows drawn under them.
        pty.wait_until(&format!("{chip}, {count}, {shown} and not {hidden}"), |s| {
            let rows: Vec<&str> = s.lines().filter(|l| l.contains("fhk_")).collect();
            s.contains(chip)
                && s.contains(count)
                && rows.iter().any(|r| r.contains(shown))
                && !rows.iter().any(|r| r.contains(hidden))
        });
    }
    pty.send(b"q");
    assert!(pty.wait_exit().success());
}

/// A scan's finding recorded by another process reaches a running dashboard: Billing's row
/// says "leaked" in words, its details say where; Search says nothing.
#[test]
fn a_leak_recorded_elsewhere_marks_the_key_in_a_running_dashboard() {
    let sandbox = Sandbox::new();
    let billing = sandbox.create_key("Billing", "prod");
    sandbox.create_key("Search", "stg");
    let mut pty = Pty::start(&sandbox, &[], &[]);
    pty.wait_for("Search");
    assert!(!pty.screen().contains("leaked"));

    let mut store = hivekeys::Store::open(&sandbox.db).expect("open the store");
    let secret = hivekeys::Secret::parse(&billing).expect("a key");
    store
        .record_leaks(&[hivekeys::store::LeakSighting {
            hash: secret.hash(),
            location: "src/config.py:12".into(),
        }])
        .expect("record the leak");
    drop(store);
    let marked = pty.wait_for("Active · leaked");
    let billing_row = marked.lines().find(|l| l.contains("Billing")).expect("row");
    assert!(billing_row.contains("leaked"), "{marked}");
    let search_row = marked.lines().find(|l| l.contains("Search")).expect("row");
    assert!(!search_row.contains("leaked"), "{marked}");

    // Newest first: Search, then Billing.
    pty.send(b"j\r");
    let details = pty.wait_for("src/config.py:12 (found ");
    assert!(details.contains("Leaked"), "{details}");
    assert!(!contains_full_key(&details) && !details.contains(&billing));
    pty.send(b"\x1b");
    pty.wait_gone("src/config.py:12");
    pty.send(b"q");
    assert!(pty.wait_exit().success());
}
