//! Reliability against faults only a store file can have: a write past the file size limit,
//! a damaged file handed to the dashboard, a read-only file. Every check reads the real SQLite
//! file afterwards.
//!
//! What holds on both backends (processes writing and verifying at once, `kill -9` in the
//! middle of writes and of buffered use counts, a clean exit) is in
//! `tests/conformance/reliability.rs`, run once on SQLite and once on PostgreSQL.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{BIN, hivekeys_on, store_files, text};
use hivekeys::{KeyQuery, Store};
use serde_json::Value;

const WS: &str = "default";

/// The binary on `db`, `stdin` fed to it (the process may exit before reading it all).
fn hivekeys(db: &Path, args: &[&str], stdin: Option<&[u8]>) -> Output {
    common::output(hivekeys_on(db, args), stdin)
}

fn integrity(db: &Path) -> String {
    let conn = rusqlite::Connection::open(db).expect("open for integrity_check");
    conn.query_row("PRAGMA integrity_check", [], |row| row.get(0))
        .expect("integrity_check")
}

fn key_count(db: &Path) -> u64 {
    Store::open(db)
        .expect("open")
        .count_keys(WS, &KeyQuery::default())
        .expect("count")
}

// ---------------------------------------------------------------------------------------------
// Running out of space
// ---------------------------------------------------------------------------------------------

#[test]
fn a_write_past_the_file_size_limit_fails_cleanly_and_the_store_still_works() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("store.db");
    let out = hivekeys(&db, &["create", "--name", "before", "--env", "prod"], None);
    assert!(out.status.success());
    let before_key = text(&out.stdout).trim().to_owned();
    assert_eq!(integrity(&db), "ok"); // also: every connection closed, the WAL folded back
    let before = key_count(&db);

    // `ulimit -f` caps every file the process writes at 64 blocks (32 or 64 KiB): the shared
    // memory file fits, the log of a 2,000-key demo does not. The write fails with EFBIG.
    let mut limited = Command::new("sh");
    common::clean_env(dir.path()).apply(&mut limited);
    let out = limited
        .arg("-c")
        .arg("ulimit -f 64 && exec \"$0\" --db \"$1\" demo --keys 2000")
        .arg(BIN)
        .arg(&db)
        .output()
        .unwrap();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "stderr: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("could not be written") && stderr.contains("nothing was changed"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");

    // Nothing half-written, and the store carries on once there is room again.
    assert_eq!(integrity(&db), "ok");
    assert_eq!(key_count(&db), before);
    let out = hivekeys(&db, &["create", "--name", "after", "--env", "prod"], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = hivekeys(&db, &["verify"], Some(before_key.as_bytes()));
    assert!(out.status.success(), "{}", text(&out.stdout));
    assert_eq!(key_count(&db), before + 1);
}

// ---------------------------------------------------------------------------------------------
// A damaged store given to the dashboard
// ---------------------------------------------------------------------------------------------

#[test]
fn the_dashboard_refuses_a_damaged_store_with_one_sentence_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.db");
    let out = hivekeys(&good, &["demo", "--keys", "20"], None);
    assert!(out.status.success());
    assert_eq!(integrity(&good), "ok");
    let bytes = std::fs::read(&good).unwrap();

    let cases: Vec<(&str, PathBuf, &str)> = {
        let truncated = dir.path().join("truncated.db");
        std::fs::write(&truncated, &bytes[..bytes.len() / 3]).unwrap();
        let not_sqlite = dir.path().join("notes.db");
        std::fs::write(
            &not_sqlite,
            b"these are my notes, not a database\n".repeat(200),
        )
        .unwrap();
        let newer = dir.path().join("newer.db");
        std::fs::write(&newer, &bytes).unwrap();
        rusqlite::Connection::open(&newer)
            .unwrap()
            .pragma_update(None, "user_version", 99)
            .unwrap();
        let directory = dir.path().join("a-directory.db");
        std::fs::create_dir(&directory).unwrap();
        vec![
            ("truncated", truncated, "damaged"),
            ("not SQLite", not_sqlite, "not a hivekeys database"),
            ("newer", newer, "newer hivekeys"),
            ("directory", directory, "is a directory"),
        ]
    };
    for (what, path, says) in cases {
        let before = snapshot(&path);
        // No subcommand: the dashboard. The store is opened (and refused) before any terminal
        // is needed.
        let out = hivekeys_on(&path, std::iter::empty::<&str>())
            .output()
            .unwrap();
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{what}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{what}: {stderr}");
        assert!(stderr.contains(says), "{what}: {stderr}");
        assert_eq!(snapshot(&path), before, "{what}: the file was changed");
    }
}

/// The bytes of a file (or a directory's listing), to show nothing was touched.
fn snapshot(path: &Path) -> Vec<u8> {
    if path.is_dir() {
        let mut names: Vec<String> = std::fs::read_dir(path)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        return names.join("\n").into_bytes();
    }
    std::fs::read(path).unwrap()
}

// ---------------------------------------------------------------------------------------------
// A read-only store, also when the tests run as root
// ---------------------------------------------------------------------------------------------

/// Permission bits do not stop root. When the tests run as root (as CI does), the commands
/// run as `nobody` on files `nobody` owns, so that a read-only store is really read-only.
const NOBODY: u32 = 65_534;

fn running_as_root() -> bool {
    std::fs::metadata("/proc/self")
        .map(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0)
        .unwrap_or(false)
}

fn hivekeys_as_owner(db: &Path, args: &[&str]) -> Output {
    use std::os::unix::process::CommandExt;
    let mut command = hivekeys_on(db, args);
    if running_as_root() {
        command.uid(NOBODY).gid(NOBODY);
    }
    command.output().expect("run hivekeys")
}

#[test]
fn a_read_only_store_refuses_changes_in_one_sentence_and_stays_as_it_was() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    std::fs::create_dir(&home).unwrap();
    let db = home.join("store.db");
    if running_as_root() {
        std::os::unix::fs::chown(&home, Some(NOBODY), Some(NOBODY)).unwrap();
        // `nobody` must be able to reach the directory.
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let out = hivekeys_as_owner(&db, &["create", "--name", "kept", "--env", "prod"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        store_files(&db).len() == 1,
        "the log was not folded back on exit"
    );
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o400)).unwrap();
    let before = std::fs::read(&db).unwrap();

    for args in [
        vec!["create", "--name", "refused", "--env", "dev"],
        vec!["revoke", "kept", "--yes"],
        vec!["rotate", "kept", "--yes"],
        vec!["demo", "--keys", "5"],
    ] {
        let out = hivekeys_as_owner(&db, &args);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(stderr.contains("read-only"), "{args:?}: {stderr}");
        assert_eq!(
            std::fs::read(&db).unwrap(),
            before,
            "{args:?} changed the file"
        );
    }

    // Writable again: everything works, nothing was left behind that keeps it broken.
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o600)).unwrap();
    let out = hivekeys_as_owner(&db, &["create", "--name", "after", "--env", "dev"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = hivekeys_as_owner(&db, &["list", "--json"]);
    let listed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 2);
}
