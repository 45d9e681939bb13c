//! `hivekeys copy --to DB`, through the real binary: SQLite → PostgreSQL → SQLite keeps every
//! key as `list --json` and `show --json` print it, and every copied key still verifies.

mod common;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_hivekeys");

/// Runs `hivekeys --db DB ARGS…` with `stdin`, in an environment of its own.
fn run(db: &str, args: &[&str], stdin: &str) -> Output {
    let home = tempfile::tempdir().unwrap();
    let mut child = Command::new(BIN)
        .arg("--db")
        .arg(db)
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home.path())
        .env("USER", "alice")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[track_caller]
fn ok(db: &str, args: &[&str]) -> String {
    let out = run(db, args, "");
    assert!(
        out.status.success(),
        "hivekeys {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Everything `list --json` and `show --json` say about the store's two workspaces.
fn everything(db: &str) -> Vec<String> {
    let mut seen = Vec::new();
    for workspace in ["default", "team b"] {
        let list = ok(db, &["--workspace", workspace, "list", "--json"]);
        let keys: Vec<serde_json::Value> = serde_json::from_str(&list).unwrap();
        seen.push(list);
        for key in keys {
            let id = key["id"].as_str().unwrap();
            seen.push(ok(db, &["--workspace", workspace, "show", id, "--json"]));
        }
    }
    seen
}

fn full_key(create_output: &str) -> String {
    create_output
        .split_whitespace()
        .find(|word| word.starts_with("fhk_"))
        .expect("create prints the key")
        .to_owned()
}

#[test]
fn a_round_trip_through_postgres_keeps_every_key_and_every_key_still_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let first = dir.path().join("first.db");
    let first = first.to_str().unwrap();
    ok(first, &["demo", "--keys", "30", "--seed", "5"]);
    let created = ok(
        first,
        &[
            "--workspace",
            "team b",
            "create",
            "--name",
            "metered",
            "--env",
            "staging",
            "--daily-limit",
            "100",
        ],
    );
    let key = full_key(&created);
    for _ in 0..3 {
        assert!(run(first, &["verify"], &key).status.success());
    }
    let original = everything(first);
    assert!(original.len() > 30, "{} outputs", original.len());

    let shared = common::postgres::database();
    let copied = ok(first, &["copy", "--to", &shared]);
    assert!(
        copied.starts_with("Copied 2 workspaces, 31 keys"),
        "{copied}"
    );
    assert_eq!(
        everything(&shared),
        original,
        "SQLite → PostgreSQL changed something"
    );

    let back = dir.path().join("back.db");
    let back = back.to_str().unwrap();
    ok(&shared, &["copy", "--to", back]);
    assert_eq!(
        everything(back),
        original,
        "PostgreSQL → SQLite changed something"
    );

    for db in [shared.as_str(), back] {
        let out = run(db, &["verify"], &key);
        let verdict = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{db}: {verdict}");
        assert!(verdict.contains("\"valid\":true"), "{verdict}");
        // Uses counted after the copy go on from the copied counts.
        let shown = ok(db, &["--workspace", "team b", "show", "metered", "--json"]);
        assert!(shown.contains("\"uses_today\":4"), "{db}: {shown}");
    }
}

#[test]
fn a_store_that_holds_keys_is_never_copied_into() {
    let dir = tempfile::tempdir().unwrap();
    let (from, into) = (dir.path().join("from.db"), dir.path().join("into.db"));
    let (from, into) = (from.to_str().unwrap(), into.to_str().unwrap());
    ok(from, &["demo", "--keys", "3", "--seed", "1"]);
    ok(into, &["create", "--name", "mine", "--env", "dev"]);
    let before = everything(into);
    let out = run(from, &["copy", "--to", into], "");
    assert_eq!(out.status.code(), Some(1));
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("already holds keys"), "{said}");
    assert_eq!(everything(into), before, "the refused copy wrote something");

    // The same on PostgreSQL, and the password of the URL is never repeated.
    let shared = common::postgres::database();
    ok(&shared, &["create", "--name", "theirs", "--env", "dev"]);
    let out = run(from, &["copy", "--to", &shared], "");
    assert_eq!(out.status.code(), Some(1));
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("already holds keys"), "{said}");
    assert!(Path::new(from).exists());
}
