//! A new key is handed over before it is stored: `create` and `rotate` write and flush it to
//! stdout first and commit only if that worked. Whatever swallows the key — a full disk, a
//! closed pipe, a closed stdout, /dev/null — the store is left as it was, and a rotation
//! leaves the old secret working. Concurrent rotations never print a key another rotation
//! already killed.

mod common;

use std::fs::OpenOptions;
use std::process::{Command, Output, Stdio};
use std::thread;

use common::{BIN, Sandbox, clean_env, text};
use serde_json::Value;

/// A store in its own sandbox.
type Store = Sandbox;

impl Sandbox {
    fn run(&self, args: &[&str]) -> Output {
        self.output(args, None)
    }

    fn create(&self, name: &str) -> String {
        self.create_key(name, "prod")
    }

    /// The actions of the key's audit trail, oldest first.
    fn actions(&self, key: &str) -> Vec<String> {
        self.show_json(key)["events"]
            .as_array()
            .expect("events")
            .iter()
            .map(|event| event["action"].as_str().expect("action").to_owned())
            .collect()
    }
}

/// Runs a command on a store with its stdout somewhere a key can vanish into.
type RunInto = Box<dyn Fn(&Store, &[&str]) -> Output>;

/// The places a key can vanish into.
fn sinks() -> Vec<(&'static str, RunInto)> {
    vec![
        (
            "a full disk",
            Box::new(|store, args| {
                let full = OpenOptions::new().write(true).open("/dev/full").unwrap();
                store.command(args).stdout(full).output().unwrap()
            }),
        ),
        (
            "a closed pipe",
            Box::new(|store, args| {
                // The reading end is gone before the command even starts: its write fails
                // with EPIPE, as `hivekeys create … | true` does when `true` won the race.
                let (reader, writer) = std::io::pipe().unwrap();
                drop(reader);
                store.command(args).stdout(writer).output().unwrap()
            }),
        ),
        (
            "a closed stdout",
            Box::new(|store, args| {
                let mut command = Command::new("sh");
                clean_env(store.path()).apply(&mut command);
                command
                    .args(["-c", "exec \"$0\" \"$@\" >&-", BIN, "--db"])
                    .arg(&store.db)
                    .args(args)
                    .stdin(Stdio::null())
                    .stderr(Stdio::piped());
                command.output().unwrap()
            }),
        ),
        (
            "/dev/null",
            Box::new(|store, args| store.command(args).stdout(Stdio::null()).output().unwrap()),
        ),
    ]
}

#[track_caller]
fn assert_refused(out: &Output, what: &str, words: &str) {
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{what}: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "{what}: one sentence: {stderr}");
    assert!(stderr.contains(words), "{what}: {stderr}");
}

#[test]
fn a_key_that_cannot_be_printed_is_not_created() {
    for (what, run) in sinks() {
        let store = Store::new();
        store.run(&["list"]); // the store exists, empty
        let out = run(&store, &["create", "--name", "lost", "--env", "prod"]);
        let words = match what {
            "a closed stdout" | "/dev/null" => "nothing was changed",
            _ => "no key was created",
        };
        assert_refused(&out, what, words);
        assert_eq!(
            store.list_json(),
            Vec::<Value>::new(),
            "{what}: a key was stored"
        );

        // The default key too: no unseen default blocks the next one.
        let out = run(&store, &["create", "--default"]);
        assert_refused(&out, what, words);
        let out = store.run(&["create", "--default"]);
        assert!(out.status.success(), "{what}: {}", text(&out.stderr));
    }
}

#[test]
fn a_rotation_that_cannot_be_printed_keeps_the_old_secret() {
    for (what, run) in sinks() {
        let store = Store::new();
        let key = store.create("kept");
        let before = store.list_json();
        let out = run(&store, &["rotate", "kept", "--yes"]);
        let words = match what {
            "a closed stdout" | "/dev/null" => "nothing was changed",
            _ => "its current secret keeps working",
        };
        assert_refused(&out, what, words);
        assert_eq!(store.list_json(), before, "{what}: the key changed");
        assert_eq!(
            store.verify_json(&key)["valid"],
            true,
            "{what}: the old secret died"
        );
        assert_eq!(store.actions("kept"), ["created"], "{what}");
    }
}

/// Six admins rotate one key at the same moment, without grace. Each rotation either prints
/// the key's new current secret or fails saying it was rotated meanwhile; the audit trail has
/// one rotation per printed key, and the last one printed is the secret that works.
#[test]
fn concurrent_rotations_each_print_a_live_key_or_refuse() {
    let store = Store::new();
    let original = store.create("contended");
    let runs: Vec<Output> = thread::scope(|scope| {
        let handles: Vec<_> = (0..6)
            .map(|_| scope.spawn(|| store.run(&["rotate", "contended", "--yes"])))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut printed = Vec::new();
    for out in &runs {
        if out.status.success() {
            printed.push(text(&out.stdout).trim().to_owned());
        } else {
            let stderr = text(&out.stderr);
            assert!(
                stderr.contains("rotated meanwhile") || stderr.contains("busy"),
                "an unexpected failure: {stderr}"
            );
        }
    }
    assert!(!printed.is_empty(), "no rotation succeeded");
    let rotations = store
        .actions("contended")
        .iter()
        .filter(|a| *a == "rotated")
        .count();
    assert_eq!(rotations, printed.len(), "one rotation per printed key");
    let live: Vec<&String> = printed
        .iter()
        .filter(|key| store.verify_json(key)["valid"] == true)
        .collect();
    assert_eq!(live.len(), 1, "exactly the newest printed key works");
    assert_eq!(store.verify_json(&original)["valid"], false);
}

/// Review finding: a key printed and then not stored (the COMMIT fails: here a file size
/// limit the write past the store's end hits) is said to be dead, first thing, so a script
/// that kept the printed key is told; nothing is stored.
#[test]
fn a_key_printed_but_not_stored_is_said_to_be_dead() {
    let store = Store::new();
    store.create("first");
    let mut command = Command::new("sh");
    command
        .args(["-c", "ulimit -f 64; exec \"$0\" \"$@\"", BIN, "--db"])
        .arg(&store.db)
        .args(["create", "--name", "second", "--env", "prod"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    clean_env(store.path()).apply(&mut command);
    let out = command.output().unwrap();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(text(&out.stdout).trim().len(), 47, "the key was printed");
    assert!(
        stderr.starts_with("error: The key printed above was not stored and will not work."),
        "{stderr}"
    );
    assert_eq!(store.list_json().len(), 1, "only the first key is stored");
}
