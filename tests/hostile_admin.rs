//! The admin console's commands tried as a hostile or careless user would: the same key named
//! twice, names that are one "character" of 50,000 code points, durations that are not whole
//! numbers of the kind the message asks for. The real binary, a real SQLite store.

mod common;

use std::time::{Duration, Instant};

use common::pty::Pty;
use common::{Sandbox, run};

fn hivekeys(sandbox: &Sandbox, args: &[&str]) -> common::Run {
    run(sandbox.command(args), None)
}

fn id_of(sandbox: &Sandbox, name: &str) -> String {
    let keys = sandbox.list_json();
    common::entry(&keys, "name", name)["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// `revoke A A` and `revoke A key_of_A` are one key: revoked as one key is (a key revoked
/// already is then an error, as `revoke A` says), not a bulk revocation of "2 keys".
#[test]
fn revoking_the_same_key_twice_is_revoking_one_key() {
    let sandbox = Sandbox::new();
    sandbox.create_key("Billing", "prod");
    sandbox.create_key("Payments", "prod");
    let id = id_of(&sandbox, "Billing");
    let done = hivekeys(&sandbox, &["revoke", "Billing", "Billing", &id, "--yes"]).success();
    assert_eq!(
        done.stdout,
        format!("Revoked {id} \"Billing\".\n"),
        "{done:#?}"
    );
    assert!(!done.stderr.contains("keys"), "no bulk summary: {done:#?}");
    // Now revoked: one key named twice fails as one key named once does.
    hivekeys(&sandbox, &["revoke", "Billing", &id, "--yes"]).one_line_error(1);
    let once = hivekeys(&sandbox, &["revoke", "Billing", "--yes"]);
    assert_eq!(once.code, 1, "{once:#?}");
    let events = hivekeys(&sandbox, &["log", "--json"]).success().json();
    let revoked = events
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "revoked")
        .count();
    assert_eq!(revoked, 1, "one revoked event: {events:#}");
    assert_eq!(
        common::entry(&sandbox.list_json(), "name", "Payments")["status"],
        "active"
    );
}

/// The confirmation counts keys, not the words that named them.
#[test]
fn the_bulk_confirmation_counts_each_key_once() {
    let sandbox = Sandbox::new();
    sandbox.create_key("Billing", "prod");
    sandbox.create_key("Payments", "prod");
    let id = id_of(&sandbox, "Billing");
    let mut pty = Pty::start(&sandbox, &["revoke", "Billing", &id, "Payments"], &[]);
    // A prompt, not a dashboard frame: read what the binary wrote until the question ends.
    let deadline = common::pty::soon();
    let asked = loop {
        let written = String::from_utf8_lossy(&pty.log()).into_owned();
        if written.contains("[y/N]") {
            break written;
        }
        assert!(Instant::now() < deadline, "no question: {written:?}");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(asked.contains("Revoke 2 keys"), "{asked}");
    assert_eq!(asked.matches("\"Billing\"").count(), 1, "{asked}");
    pty.send(b"n\r");
    assert!(!pty.wait_exit().success());
    assert!(
        sandbox
            .list_json()
            .iter()
            .all(|key| key["status"] == "active")
    );
}

/// One grapheme may stack any number of combining marks: 64 characters on screen could be
/// megabytes in the store and in every listing. Refused, in `create`, `rename` and
/// `workspaces --create`, by the rule's message.
#[test]
fn a_name_of_stacked_combining_marks_is_refused() {
    let sandbox = Sandbox::new();
    sandbox.create_key("Billing", "prod");
    let zalgo = format!("a{}", "\u{301}".repeat(5_000));
    for args in [
        vec!["create", "--name", &zalgo, "--env", "dev"],
        vec!["rename", "Billing", "--name", &zalgo],
        vec!["workspaces", "--create", &zalgo],
    ] {
        let refused = hivekeys(&sandbox, &args);
        assert_eq!(refused.code, 2, "{args:?}: {refused:#?}");
        assert!(
            refused.stderr.contains("5001 Unicode code points"),
            "{:?}",
            refused.stderr
        );
        assert!(refused.stderr.len() < 400, "the name is not echoed whole");
    }
    let names: Vec<String> = sandbox
        .list_json()
        .iter()
        .map(|k| k["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["Billing"]);
    // Real names with accents and emoji stay well inside the rule.
    let accented = "e\u{301}".repeat(64);
    let emoji = "👍🏽".repeat(64);
    for name in [accented.as_str(), emoji.as_str()] {
        hivekeys(&sandbox, &["rename", "Billing", "--name", name]).success();
        hivekeys(&sandbox, &["rename", name, "--name", "Billing"]).success();
    }
}

/// `-1d` is a bad duration, said as one (clap took it for an option before); `+30d` is not the
/// whole number asked for; `3660d` is more than the ten years `10y` (3,650 days) allows.
#[test]
fn durations_outside_the_rule_are_refused_as_durations() {
    let sandbox = Sandbox::new();
    for (option, value) in [
        ("--expires-in", "-1d"),
        ("--expires-in", "+30d"),
        ("--unused-for", "-5m"),
        ("--expiring-within", "-7d"),
    ] {
        let args = match option {
            "--expires-in" => vec!["create", "--name", "X", "--env", "dev", option, value],
            _ => vec!["list", option, value],
        };
        let refused = hivekeys(&sandbox, &args);
        refused.clap_error(value);
        assert!(
            refused.stderr.contains("is not a duration"),
            "{option} {value}: {:?}",
            refused.stderr
        );
    }
    let refused = hivekeys(&sandbox, &["log", "--since", "3660d"]);
    refused.clap_error("3660d");
    assert!(refused.stderr.contains("between 1 minute and 10 years"));
    hivekeys(&sandbox, &["log", "--since", "3650d"]).success();
    assert!(sandbox.list_json().is_empty(), "nothing was created");
}

/// A workspace whose name shows as a stored one's ("default" and "default" + a zero-width
/// space) is refused, whether made with `workspaces --create` or by a first key: it would list
/// as a second "default" that an admin could switch to, and issue keys in, by mistake.
#[test]
fn a_workspace_that_shows_as_another_is_refused() {
    let sandbox = Sandbox::new();
    sandbox.create_key("Billing", "prod");
    let look_alike = "default\u{200B}";
    let refused = hivekeys(&sandbox, &["workspaces", "--create", look_alike]);
    refused.one_line_error(1);
    assert!(
        refused
            .stderr
            .contains("A workspace named \"default\" already exists"),
        "{refused:#?}"
    );
    let mut create = sandbox.command(&["create", "--name", "Stray", "--env", "dev"]);
    create.env("HIVEKEYS_WORKSPACE", look_alike);
    run(create, None).one_line_error(1);
    let listed = hivekeys(&sandbox, &["workspaces", "--json"])
        .success()
        .json();
    let names: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["default"]);
    // A name that merely resembles another stays free to take.
    hivekeys(&sandbox, &["workspaces", "--create", "Default"]).success();
}
