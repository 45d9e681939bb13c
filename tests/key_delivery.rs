//! A new key is handed over before it is stored: `create` and `rotate` write and flush it to
//! stdout first and commit only if that worked. Whatever swallows the key — a full disk, a
//! closed pipe, a closed stdout, /dev/null — the store is left as it was, and a rotation
//! leaves the old secret working. Concurrent rotations never print a key another rotation
//! already killed.

use std::fs::OpenOptions;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::thread;

use serde_json::Value;
use tempfile::TempDir;

const BIN: &str = env!("CARGO_BIN_EXE_hivekeys");

struct Store {
    _dir: TempDir,
    db: PathBuf,
}

impl Store {
    fn new() -> Store {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = dir.path().join("hivekeys.db");
        Store { _dir: dir, db }
    }

    /// The binary on this store, with stdin closed and stderr captured.
    fn command(&self, args: &[&str]) -> Command {
        command(&self.db, args)
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command(args)
            .stdout(Stdio::piped())
            .output()
            .expect("run hivekeys")
    }

    fn create(&self, name: &str) -> String {
        let out = self.run(&["create", "--name", name, "--env", "prod"]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        text(&out.stdout).trim().to_owned()
    }

    fn list(&self) -> Vec<Value> {
        let out = self.run(&["list", "--json"]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        serde_json::from_slice::<Value>(&out.stdout)
            .expect("JSON")
            .as_array()
            .expect("an array")
            .clone()
    }

    fn verify(&self, key: &str) -> Value {
        let mut child = self
            .command(&["verify"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("run verify");
        {
            use std::io::Write;
            let mut stdin = child.stdin.take().expect("stdin");
            stdin.write_all(key.as_bytes()).expect("write the key");
        }
        let out = child.wait_with_output().expect("verify");
        serde_json::from_slice(&out.stdout).expect("verify's JSON")
    }

    fn actions(&self, key: &str) -> Vec<String> {
        let out = self.run(&["show", key, "--json"]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        let detail: Value = serde_json::from_slice(&out.stdout).expect("JSON");
        detail["events"]
            .as_array()
            .expect("events")
            .iter()
            .map(|event| event["action"].as_str().expect("action").to_owned())
            .collect()
    }
}

fn command(db: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(BIN);
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("HIVEKEYS_") {
            command.env_remove(name);
        }
    }
    command
        .arg("--db")
        .arg(db)
        .args(args)
        .stdin(Stdio::null())
        .stderr(Stdio::piped());
    command
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
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
            store.list(),
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
        let before = store.list();
        let out = run(&store, &["rotate", "kept", "--yes"]);
        let words = match what {
            "a closed stdout" | "/dev/null" => "nothing was changed",
            _ => "its current secret keeps working",
        };
        assert_refused(&out, what, words);
        assert_eq!(store.list(), before, "{what}: the key changed");
        assert_eq!(
            store.verify(&key)["valid"],
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
        .filter(|key| store.verify(key)["valid"] == true)
        .collect();
    assert_eq!(live.len(), 1, "exactly the newest printed key works");
    assert_eq!(store.verify(&original)["valid"], false);
}
