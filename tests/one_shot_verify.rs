//! `hivekeys verify`, the one-shot process: it commits its use without waiting for the disk
//! (`synchronous = NORMAL`) and closes without a checkpoint, so the use lives in the
//! write-ahead log when the process answers. These tests check that the use is there for
//! every later reader, that it survives the process being killed the moment it has answered,
//! and that the next process to close the store normally checkpoints the log away. (What a
//! power cut can lose is documented, not testable here.)

mod common;

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use common::{Sandbox, sidecar};
use serde_json::Value;

/// Uses of the key named `name` as the store holds them: (`use_count`, today's count in
/// `daily_uses`), read by a new process.
#[track_caller]
fn uses(sandbox: &Sandbox, name: &str) -> (u64, u64) {
    let shown = sandbox.show_json(name);
    let count = shown["use_count"].as_u64().expect("use_count");
    let today = shown["daily_uses"]
        .as_array()
        .and_then(|days| days.last())
        .and_then(|day| day["count"].as_u64())
        .expect("today's count");
    (count, today)
}

/// The store file is intact and complete.
#[track_caller]
fn assert_intact(sandbox: &Sandbox) {
    let conn = rusqlite::Connection::open(&sandbox.db).expect("open the store");
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |row| row.get(0))
        .expect("integrity check");
    assert_eq!(check, "ok");
}

#[test]
fn a_one_shot_use_is_in_the_store_once_the_process_has_exited() {
    let sandbox = Sandbox::new();
    let key = sandbox.create_key("Gateway", "prod");
    // `create` closed the store cleanly: nothing left in a log.
    assert!(!sidecar(&sandbox.db, "-wal").exists());

    for n in 1..=3u64 {
        let verdict = sandbox.verify_json(&key);
        assert_eq!(verdict["valid"], true, "{verdict}");
        // The use was committed to the log and left there: no checkpoint on the way out.
        let log = std::fs::metadata(sidecar(&sandbox.db, "-wal")).expect("the log is there");
        assert!(log.len() > 0, "the log holds the use");
        // Read by a process that closes normally, which checkpoints the log away.
        assert_eq!(uses(&sandbox, "Gateway"), (n, n), "after {n} verifications");
        assert!(
            !sidecar(&sandbox.db, "-wal").exists(),
            "the next normal close checkpointed the log"
        );
    }
    // A refused key counts nothing.
    let revoked = sandbox.create_key("Other", "dev");
    sandbox.stdout_of(&["revoke", "Other", "--yes"], None);
    assert_eq!(sandbox.verify_json(&revoked)["valid"], false);
    assert_eq!(uses(&sandbox, "Gateway"), (3, 3));
    assert_intact(&sandbox);
}

#[test]
fn a_one_shot_use_survives_a_kill_the_moment_the_process_has_answered() {
    let sandbox = Sandbox::new();
    let key = sandbox.create_key("Gateway", "prod");
    const RUNS: u64 = 10;
    for _ in 0..RUNS {
        let mut child = Command::new(common::BIN);
        common::clean_env(sandbox.path()).apply(&mut child);
        let mut child = child
            .arg("--db")
            .arg(&sandbox.db)
            .arg("verify")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start hivekeys verify");
        let mut stdin = child.stdin.take().expect("stdin");
        stdin.write_all(key.as_bytes()).expect("write the key");
        drop(stdin);
        let mut answer = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut answer)
            .expect("read the answer");
        // SIGKILL as soon as the answer is out: while the process closes the store, or just
        // after it exited (then the signal reaches a zombie and changes nothing).
        child.kill().expect("kill -9");
        let _ = child.wait();
        let verdict: Value = serde_json::from_str(&answer).expect("a JSON answer");
        assert_eq!(verdict["valid"], true, "{answer}");
    }
    assert_eq!(uses(&sandbox, "Gateway"), (RUNS, RUNS));
    assert_intact(&sandbox);
}
