//! The admin console in the real binary, in a pseudo-terminal: `w` → `a` creates a workspace,
//! `Enter` switches the whole screen to it (the header says so, keys added land there), and
//! `L` shows a rotation just made, with its grace period. Every step waits for what it
//! expects with a deadline; nothing sleeps a fixed time.

mod common;

use common::pty::Pty;
use common::{BIN, Sandbox};

#[test]
fn w_creates_a_workspace_enter_switches_to_it_and_l_shows_a_rotation() {
    let sandbox = Sandbox::new();
    let mut pty = Pty::start(&sandbox, &[], &[]);
    pty.wait_for("workspace default");
    pty.wait_for("No additional keys yet.");

    pty.send(b"w");
    let list = pty.wait_for("┌ Workspaces");
    assert!(list.contains("default (current)"), "{list}");
    pty.send(b"a");
    pty.wait_for("New workspace name");
    pty.send(b"Team A\r");
    let created = pty.wait_for("Created workspace \"Team A\"");
    assert!(
        created.contains("▶ Team A"),
        "the new one is selected: {created}"
    );
    pty.send(b"\r");
    let switched = pty.wait_for("workspace Team A");
    assert!(!switched.contains("┌ Workspaces"), "{switched}");

    // A key made now is Team A's, and its rotation is in Team A's log.
    pty.send(b"a");
    pty.wait_for("┌ Add API Key");
    pty.send(b"Billing\r");
    pty.wait_for("┌ Your New API Key");
    pty.send(b"c\r");
    pty.wait_until("the new key closed", |s| !s.contains("Your New API Key"));
    pty.send(b"r");
    pty.wait_for("┌ Rotate Key");
    // The grace period: 1 hour, then rotate.
    pty.send(b"\x1b[B");
    pty.wait_for("▶ (•) After 1 hour");
    pty.send(b"y");
    pty.wait_for("┌ Your New API Key");
    pty.send(b"c\r");
    pty.wait_until("the new key closed", |s| !s.contains("Your New API Key"));

    pty.send(b"L");
    let log = pty.wait_until("Team A's whole log drawn", |s| {
        s.contains("Audit log · workspace Team A") && s.contains("Showing all 2 events")
    });
    let lines: Vec<&str> = log.lines().filter(|l| l.contains("Billing")).collect();
    assert_eq!(lines.len(), 2, "{log}");
    assert!(
        lines[0].contains("rotated") && lines[0].contains("after 1 hour"),
        "newest first, with the grace: {log}"
    );
    assert!(lines[1].contains("created"), "{log}");
    pty.send(b"/");
    pty.send(b"CREATED");
    pty.wait_until("the search narrowed the log", |s| {
        s.contains("1 of all 2 events match")
    });
    pty.send(b"\x1b");
    pty.wait_for("Showing all 2 events");
    pty.send(b"\x1b");
    pty.wait_until("the log closed", |s| !s.contains("Audit log"));

    pty.send(b"q");
    assert!(pty.wait_exit().success());
    let listed = std::process::Command::new(BIN)
        .args(["--db".as_ref(), sandbox.db.as_os_str()])
        .args(["--workspace", "Team A", "list", "--json"])
        .output()
        .unwrap();
    let keys: serde_json::Value = serde_json::from_slice(&listed.stdout).unwrap();
    assert_eq!(keys[0]["name"], "Billing", "{keys}");
}
