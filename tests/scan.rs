//! `hivekeys scan`, the real binary on a fixture tree and a fixture git repository made here:
//! keys in text and hidden files, in a file larger than the scanner's read chunk (across a
//! chunk boundary), in files deleted from the tree but present in history; keys in binary
//! files and blobs, skipped and counted by default and found with `--binary`; near misses
//! (wrong checksum, split across lines, inside a word, ignored by .gitignore) that must not
//! be reported; every state; the exit codes; skipped files counted; `--revoke` on SQLite and
//! PostgreSQL; and the full key in no output, whatever the path.

mod common;

use std::ffi::OsStr;
use std::fs;
use std::path::Path;
use std::process::{Command, Output};

use common::{Sandbox, contains_full_key, masked, output, text};
use hivekeys::scan::find::CHUNK_LEN;
use serde_json::Value;

/// Keys in every state, in one store.
struct Keys {
    live: String,
    live_id: String,
    revoked: String,
    /// A secret rotated away without grace: expired.
    expired: String,
    /// Well-formed, right checksum, in no store.
    unknown: String,
}

fn keys(sandbox: &Sandbox) -> Keys {
    let live = sandbox.create_key("Prod API", "production");
    let live_id = sandbox.list_json()[0]["id"].as_str().unwrap().to_owned();
    let revoked = sandbox.create_key("Old CI", "staging");
    sandbox.stdout_of(&["revoke", "Old CI", "--yes"], None);
    let expired = sandbox.create_key("Rotated", "development");
    sandbox.stdout_of(&["rotate", "Rotated", "--yes"], None);
    let unknown = hivekeys::Secret::generate(
        hivekeys::Environment::Production,
        &mut hivekeys::entropy::OsEntropy,
    )
    .unwrap()
    .expose()
    .to_owned();
    Keys {
        live,
        live_id,
        revoked,
        expired,
        unknown,
    }
}

fn write(root: &Path, relative: &str, bytes: impl AsRef<[u8]>) {
    let path = root.join(relative);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, bytes).unwrap();
}

/// The same key with its last checksum character changed: the right shape, a wrong checksum.
fn wrong_checksum(key: &str) -> String {
    let (head, last) = key.split_at(key.len() - 1);
    format!("{head}{}", if last == "a" { "b" } else { "a" })
}

/// `git args…` in `dir`, which must succeed, with a fixed identity and no user config.
fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .args(["-c", "user.name=Test", "-c", "user.email=test@example.com"])
        .args([
            "-c",
            "init.defaultBranch=main",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "git {args:?}: {}", text(&out.stderr));
    text(&out.stdout).trim().to_owned()
}

/// `hivekeys --db <store> scan args…` run in `dir`.
fn scan<S: AsRef<OsStr>>(sandbox: &Sandbox, dir: &Path, args: &[S]) -> Output {
    let mut command = sandbox.command(&["scan"]);
    command.args(args).current_dir(dir);
    output(command, None)
}

/// Everything a run wrote, checked to hold no full key.
#[track_caller]
fn no_full_key(out: &Output, keys: &[&str]) -> (String, String) {
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    for key in keys {
        assert!(
            !stdout.contains(key) && !stderr.contains(key),
            "{stdout}\n{stderr}"
        );
    }
    assert!(!contains_full_key(&stdout), "{stdout}");
    assert!(!contains_full_key(&stderr), "{stderr}");
    (stdout, stderr)
}

/// A binary file's bytes (NULs in its first 8 bytes) with `key` at line 1, column 9.
fn elf_with(key: &str) -> Vec<u8> {
    let mut binary = b"\x7fELF\x00\x01\x02\x00".to_vec();
    binary.extend_from_slice(key.as_bytes());
    binary.extend_from_slice(b"\x00\xff");
    binary
}

/// The fixture tree: where each key sits, and the near misses around them.
fn fixture_tree(root: &Path, k: &Keys) {
    write(
        root,
        "src/config.py",
        format!("import os\nTOKEN = \"{}\"\n", k.live),
    );
    // Hidden files are scanned: `.env` is where keys leak most.
    write(root, ".env", format!("OLD={}\n", k.revoked));
    write(root, "notes/rotated.md", format!("- {} (old)\n", k.expired));
    write(root, "docs/example.txt", format!("key: {}\n", k.unknown));
    // A key in a binary file (NUL bytes before it): skipped and counted, found with --binary.
    write(root, "bin/app.bin", elf_with(&k.live));
    // Longer than two read chunks, the key across the first boundary: 4,095 lines of 64 bytes,
    // then 44 bytes before the key on line 4,096, so the key starts 20 bytes before the end of
    // the first chunk.
    let line = format!("{}\n", "x".repeat(63));
    let mut big = line.repeat(4095);
    big.push_str(&format!("{} {}\n", "y".repeat(43), k.live));
    big.push_str(&line.repeat(9000));
    assert_eq!(big.find(&k.live), Some(CHUNK_LEN - 20));
    assert!(big.len() > 2 * CHUNK_LEN);
    write(root, "data/big.log", big);
    // Near misses: none of these may be reported.
    let (head, tail) = k.live.split_at(25);
    write(
        root,
        "src/near_miss.txt",
        format!(
            "{}\n{head}\n{tail}\n{head}\\\n{tail}\nx{}\n{}9\nfhk_test_{}\n",
            wrong_checksum(&k.live),
            k.live,
            k.live,
            &k.live[9..]
        ),
    );
    // Ignored as ripgrep ignores it (the tree is a git repository).
    write(root, ".gitignore", "ignored/\n");
    write(root, "ignored/secret.txt", format!("{}\n", k.live));
    git(root, &["init", "-q"]);
}

#[test]
fn the_report_gives_each_key_its_place_and_state_and_exits_1_on_a_live_one() {
    let sandbox = Sandbox::new();
    let k = keys(&sandbox);
    let root = sandbox.path().join("tree");
    fixture_tree(&root, &k);
    let out = scan::<&str>(&sandbox, &root, &[]);
    let all = [&*k.live, &*k.revoked, &*k.expired, &*k.unknown];
    let (stdout, stderr) = no_full_key(&out, &all);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    let id = &k.live_id;
    let expected = [
        format!(".env:1:5  {}  revoked  \"Old CI\" ", masked(&k.revoked)),
        format!(
            "data/big.log:4096:45  {}  live  \"Prod API\" {id}",
            masked(&k.live)
        ),
        format!("docs/example.txt:1:6  {}  unknown", masked(&k.unknown)),
        format!(
            "notes/rotated.md:1:3  {}  expired  \"Rotated\" ",
            masked(&k.expired)
        ),
        format!(
            "src/config.py:2:10  {}  live  \"Prod API\" {id}",
            masked(&k.live)
        ),
    ];
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), expected.len() + 1, "{stdout}");
    for (line, want) in lines.iter().zip(&expected) {
        assert!(
            line.starts_with(want.as_str()),
            "{line:?} is not {want:?}\n{stdout}"
        );
    }
    let summary = lines.last().unwrap();
    assert!(
        summary.starts_with("Scanned 7 files (")
            && summary.ends_with(
                "; skipped 1 (1 binary); found 5 keys: 2 live, 1 revoked, 1 expired, 1 unknown."
            ),
        "{summary}"
    );
    assert_eq!(stderr, "");
    // The live key is marked leaked in the store, with every place it was seen (not the
    // binary file, skipped); the others are not.
    let shown = sandbox.show_json("Prod API");
    assert_eq!(shown["leaked"], true, "{shown}");
    let mut places: Vec<&str> = shown["leaked_in"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["location"].as_str().unwrap())
        .collect();
    places.sort();
    assert_eq!(places, ["data/big.log:4096", "src/config.py:2"]);
    assert_eq!(sandbox.show_json("Old CI")["leaked"], false);
}

#[test]
fn no_live_key_exits_0_and_an_empty_tree_says_so() {
    let sandbox = Sandbox::new();
    let k = keys(&sandbox);
    let root = sandbox.path().join("tree");
    write(&root, "a.txt", format!("{}\n{}\n", k.revoked, k.unknown));
    let out = scan(&sandbox, &root, &["a.txt"]);
    let (stdout, _) = no_full_key(&out, &[&k.revoked, &k.unknown]);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("found 2 keys: 0 live, 1 revoked, 0 expired, 1 unknown."));

    fs::create_dir_all(root.join("empty")).unwrap();
    let out = scan(&sandbox, &root, &["empty"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        text(&out.stdout),
        "Scanned 0 files (0 B); skipped 0; found 0 keys: 0 live, 0 revoked, 0 expired, 0 unknown.\n"
    );
}

/// A store that refuses the leak mark (another process holds its write lock past the busy
/// timeout) still gets the report printed: the findings are what the admin came for.
#[test]
fn a_locked_store_still_gets_the_report_then_says_the_mark_failed() {
    let sandbox = Sandbox::new();
    let k = keys(&sandbox);
    let tree = sandbox.dir.path().join("tree");
    write(&tree, "config.env", format!("API_KEY={}\n", k.live));
    let lock = rusqlite::Connection::open(&sandbox.db).unwrap();
    lock.execute_batch("BEGIN IMMEDIATE").unwrap();
    let mut command = sandbox.command(&["scan"]);
    command
        .arg(".")
        .current_dir(&tree)
        .env("HIVEKEYS_BUSY_TIMEOUT_MS", "200");
    let out = output(command, None);
    lock.execute_batch("ROLLBACK").unwrap();
    let (stdout, stderr) = no_full_key(&out, &[&k.live]);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(stdout.contains(&masked(&k.live)), "{stdout}");
    assert!(stdout.contains("live"), "{stdout}");
    assert!(
        stderr.contains("not marked leaked in the store"),
        "{stderr}"
    );
    // Nothing was marked: the write did not happen.
    let listed = sandbox.list_json();
    assert!(
        listed.iter().all(|key| key["leaked"] == false),
        "{listed:?}"
    );
}

/// `scan | head -1` in a hook with `pipefail`: the reader going away takes nothing from the
/// verdict. The report is larger than a pipe's buffer, so the scan is still writing when the
/// reader is gone, whatever the timing.
#[test]
fn a_reader_that_stops_early_leaves_the_verdict_at_1() {
    let sandbox = Sandbox::new();
    let key = sandbox.create_key("Piped", "production");
    let tree = sandbox.dir.path().join("tree");
    write(&tree, "many.txt", format!("{key}\n").repeat(3000));
    for extra in [None, Some("--json")] {
        let mut command = sandbox.command(&["scan", "."]);
        command.args(extra).current_dir(&tree);
        let mut child = command
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{extra:?}: {stderr}");
        assert!(!stderr.contains(&key), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

#[test]
fn usage_errors_exit_2_with_one_sentence() {
    let sandbox = Sandbox::new();
    let k = keys(&sandbox);
    let root = sandbox.path().join("tree");
    write(&root, "a.txt", format!("{}\n", k.live));
    // A path that does not exist, even one holding a key, is named without the key.
    let missing = format!("no/{}", k.live);
    for (args, says) in [
        (vec![missing.as_str()], "Nothing to scan at no/"),
        (vec!["--git", "."], "is not a git repository"),
        (
            vec!["--revoke", "a.txt"],
            "Refusing to revoke without --yes",
        ),
    ] {
        let out = scan(&sandbox, &root, &args);
        let (stdout, stderr) = no_full_key(&out, &[&k.live]);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stdout}{stderr}");
        assert!(
            stderr.starts_with("error: ") && stderr.contains(says),
            "{stderr}"
        );
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert_eq!(stdout, "");
    }
    let out = scan(&sandbox, &root, &["--yes", "a.txt"]);
    assert_eq!(out.status.code(), Some(2), "--yes needs --revoke");
    // Nothing was revoked by any of these.
    assert_eq!(sandbox.verify_json(&k.live)["valid"], true);
}

#[test]
fn huge_special_and_unreadable_files_are_skipped_and_counted() {
    let sandbox = Sandbox::new();
    let k = keys(&sandbox);
    let root = sandbox.path().join("tree");
    write(&root, "ok.txt", format!("{}\n", k.live));
    // Over 100 MiB (sparse: no disk used), a key at its end.
    let huge = fs::File::create(root.join("huge.bin")).unwrap();
    huge.set_len(100 * 1024 * 1024 + 1).unwrap();
    drop(huge);
    let status = Command::new("mkfifo")
        .arg(root.join("pipe"))
        .status()
        .unwrap();
    assert!(status.success());
    // Unreadable even as root: /proc/self/mem opens, but reading address 0 fails.
    let out = scan(&sandbox, &root, &[".", "/proc/self/mem"]);
    let (stdout, _) = no_full_key(&out, &[&k.live]);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.ends_with(
            "skipped 3 (1 over 100 MiB, 1 unreadable, 1 not a regular file); found 1 key: 1 live, 0 revoked, 0 expired, 0 unknown.\n"
        ),
        "{stdout}"
    );
    assert!(
        stdout
            .lines()
            .nth(1)
            .unwrap()
            .starts_with("Scanned 1 file ("),
        "{stdout}"
    );
}

/// A repository whose history holds keys no longer in its files.
fn fixture_repo(root: &Path, k: &Keys) -> (String, String) {
    fs::create_dir_all(root).unwrap();
    git(root, &["init", "-q"]);
    write(root, "README.md", "hello\n");
    write(
        root,
        "config/secrets.env",
        format!("A=1\nTOKEN={}\n", k.live),
    );
    let mut binary = vec![0u8; 100];
    binary.extend_from_slice(k.revoked.as_bytes());
    write(root, "assets/blob.bin", binary);
    write(root, "near.txt", format!("{}\n", wrong_checksum(&k.live)));
    git(root, &["add", "."]);
    git(root, &["commit", "-qm", "add config"]);
    let first = git(root, &["rev-parse", "HEAD"]);
    git(root, &["rm", "-q", "config/secrets.env", "assets/blob.bin"]);
    git(root, &["commit", "-qm", "remove the secrets"]);
    // The same blob again on another branch and path: still read, and reported, once.
    git(root, &["checkout", "-qb", "other", &first]);
    write(root, "copy/secrets.env", format!("A=1\nTOKEN={}\n", k.live));
    write(root, "notes.txt", format!("\n\n  {}\n", k.unknown));
    git(root, &["add", "."]);
    git(root, &["commit", "-qm", "copy"]);
    let second = git(root, &["rev-parse", "HEAD"]);
    git(root, &["checkout", "-q", "main"]);
    (first, second)
}

#[test]
fn git_finds_keys_only_in_history_once_per_blob_with_the_commit_that_added_them() {
    let sandbox = Sandbox::new();
    let k = keys(&sandbox);
    let root = sandbox.path().join("repo");
    let (first, second) = fixture_repo(&root, &k);
    let all = [&*k.live, &*k.revoked, &*k.unknown];
    // The working tree no longer holds any key.
    let out = scan::<&str>(&sandbox, &root, &[]);
    let (stdout, _) = no_full_key(&out, &all);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("found 0 keys"), "{stdout}");

    // By default the binary blob (100 NULs, then the revoked key) is skipped and counted.
    let out = scan(&sandbox, &root, &["--git"]);
    let (stdout, stderr) = no_full_key(&out, &all);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(!stdout.contains("blob.bin"), "{stdout}");
    let summary = stdout.lines().last().unwrap();
    assert!(
        summary.starts_with("Scanned 4 blobs (")
            && summary.ends_with(
                "; skipped 1 (1 binary); found 2 keys: 1 live, 0 revoked, 0 expired, 1 unknown."
            ),
        "{stdout}"
    );

    let out = scan(&sandbox, &root, &["--git", "--binary"]);
    let (stdout, stderr) = no_full_key(&out, &all);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    let mut expected = vec![
        format!(
            "{}:assets/blob.bin:1:101  {}  revoked",
            &first[..12],
            masked(&k.revoked)
        ),
        format!(
            "{}:config/secrets.env:2:7  {}  live  \"Prod API\" {}",
            &first[..12],
            masked(&k.live),
            k.live_id
        ),
        format!(
            "{}:notes.txt:3:3  {}  unknown",
            &second[..12],
            masked(&k.unknown)
        ),
    ];
    expected.sort();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), expected.len() + 1, "{stdout}");
    for (line, want) in lines.iter().zip(&expected) {
        assert!(
            line.starts_with(want.as_str()),
            "{line:?} is not {want:?}\n{stdout}"
        );
    }
    // README, secrets.env (one blob at two paths), blob.bin, near.txt, notes.txt.
    assert!(lines[3].starts_with("Scanned 5 blobs ("), "{}", lines[3]);
    assert!(
        lines[3].ends_with("; skipped 0; found 3 keys: 1 live, 1 revoked, 0 expired, 1 unknown."),
        "{}",
        lines[3]
    );

    let out = scan(&sandbox, &root, &["--git", "--json"]);
    let (stdout, _) = no_full_key(&out, &all);
    let report: Value = serde_json::from_str(&stdout).unwrap();
    let live = &report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["state"] == "live")
        .unwrap();
    assert_eq!(live["commit"], first.as_str());
    assert_eq!(live["path"], "config/secrets.env");
    assert_eq!(
        (live["line"].as_u64(), live["column"].as_u64()),
        (Some(2), Some(7))
    );
    assert_eq!(report["summary"]["files"], 4);
    assert_eq!(report["summary"]["skipped"]["binary"], 1);
}

/// The contract: binary files (a NUL in the first 8 KiB) are skipped with a count, so a live
/// key in one is neither reported nor sets the exit status; `--binary` scans them, in the
/// tree and in the history. A NUL only after the first 8 KiB leaves a file text.
#[test]
fn binary_files_are_skipped_and_counted_unless_binary_is_asked_for() {
    let sandbox = Sandbox::new();
    let k = keys(&sandbox);
    let root = sandbox.path().join("tree");
    write(&root, "bin/app.bin", elf_with(&k.live));
    // 8 KiB of text (128 lines of 64 bytes), then a NUL, then the revoked key: text.
    let mut late = format!("{}\n", "t".repeat(63)).repeat(128).into_bytes();
    assert_eq!(late.len(), 8 * 1024);
    late.extend_from_slice(format!("\0 {}\n", k.revoked).as_bytes());
    write(&root, "late_nul.txt", late);
    write(&root, "ok.txt", format!("{}\n", k.unknown));
    git(&root, &["init", "-q"]);
    git(&root, &["add", "."]);
    git(&root, &["commit", "-qm", "files"]);
    let all = [&*k.live, &*k.revoked, &*k.unknown];
    // A report's lines without the commit (`--git` starts each with `COMMIT:`).
    let report = |args: &[&str], status: i32| -> Vec<String> {
        let out = scan(&sandbox, &root, args);
        let (stdout, stderr) = no_full_key(&out, &all);
        assert_eq!(
            out.status.code(),
            Some(status),
            "{args:?}: {stdout}\n{stderr}"
        );
        assert_eq!(stderr, "", "{args:?}");
        let git = args.contains(&"--git");
        stdout
            .lines()
            .map(|line| match git && !line.starts_with("Scanned ") {
                true => line.split_once(':').unwrap().1.to_owned(),
                false => line.to_owned(),
            })
            .collect()
    };
    let revoked = format!("late_nul.txt:129:3  {}  revoked", masked(&k.revoked));
    let unknown = format!("ok.txt:1:1  {}  unknown", masked(&k.unknown));
    let live = format!(
        "bin/app.bin:1:9  {}  live  \"Prod API\" {}",
        masked(&k.live),
        k.live_id
    );
    for (args, noun) in [(vec![], "files"), (vec!["--git"], "blobs")] {
        let lines = report(&args, 0);
        assert_eq!(lines.len(), 3, "{args:?}: {lines:?}");
        assert!(lines[0].starts_with(&revoked), "{lines:?}");
        assert!(lines[1].starts_with(&unknown), "{lines:?}");
        assert!(
            lines[2].starts_with(&format!("Scanned 2 {noun} ("))
                && lines[2].ends_with(
                    "; skipped 1 (1 binary); found 2 keys: 0 live, 1 revoked, 0 expired, 1 unknown."
                ),
            "{args:?}: {lines:?}"
        );
    }
    let out = scan(&sandbox, &root, &["--json"]);
    let (stdout, _) = no_full_key(&out, &all);
    let json: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(json["summary"]["skipped"]["binary"], 1, "{stdout}");
    assert_eq!(json["summary"]["files"], 2, "{stdout}");
    // Skipped means unread: the live key was not marked leaked.
    assert_eq!(sandbox.show_json("Prod API")["leaked"], false);

    for (args, noun) in [
        (vec!["--binary"], "files"),
        (vec!["--git", "--binary"], "blobs"),
    ] {
        let lines = report(&args, 1);
        assert_eq!(lines.len(), 4, "{args:?}: {lines:?}");
        assert!(lines[0].starts_with(&live), "{lines:?}");
        assert!(lines[1].starts_with(&revoked), "{lines:?}");
        assert!(lines[2].starts_with(&unknown), "{lines:?}");
        assert!(
            lines[3].starts_with(&format!("Scanned 3 {noun} ("))
                && lines[3].ends_with(
                    "; skipped 0; found 3 keys: 1 live, 1 revoked, 0 expired, 1 unknown."
                ),
            "{args:?}: {lines:?}"
        );
    }
    assert_eq!(sandbox.show_json("Prod API")["leaked"], true);
    let out = scan(&sandbox, &root, &["--binary", "--json"]);
    let (stdout, _) = no_full_key(&out, &all);
    let json: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(json["summary"]["skipped"]["binary"], 0, "{stdout}");
    assert_eq!(json["findings"][0]["path"], "bin/app.bin", "{stdout}");
}

#[test]
fn json_is_one_document_with_findings_and_summary() {
    let sandbox = Sandbox::new();
    let k = keys(&sandbox);
    let root = sandbox.path().join("tree");
    fixture_tree(&root, &k);
    let out = scan(&sandbox, &root, &["--json"]);
    let all = [&*k.live, &*k.revoked, &*k.expired, &*k.unknown];
    let (stdout, stderr) = no_full_key(&out, &all);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    let report: Value = serde_json::from_str(&stdout).unwrap();
    let findings = report["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 5);
    assert!(!stdout.contains("bin/app.bin"), "{stdout}");
    let config = findings
        .iter()
        .find(|f| f["path"] == "src/config.py")
        .unwrap();
    assert_eq!(
        config,
        &serde_json::json!({
            "path": "src/config.py", "commit": null, "line": 2, "column": 10,
            "masked_key": masked(&k.live), "state": "live", "id": k.live_id,
            "name": "Prod API", "workspace": "default",
        })
    );
    let unknown = findings.iter().find(|f| f["state"] == "unknown").unwrap();
    assert_eq!(unknown["id"], Value::Null);
    let summary = &report["summary"];
    assert_eq!(summary["files"], 7);
    assert_eq!(
        summary["found"],
        serde_json::json!({"live": 2, "revoked": 1, "expired": 1, "unknown": 1})
    );
    assert_eq!(
        summary["skipped"],
        serde_json::json!({"binary": 1, "huge": 0, "unreadable": 0, "special": 0})
    );
    assert!(summary["bytes"].as_u64().unwrap() > 2 * CHUNK_LEN as u64);
}

#[test]
fn a_key_in_a_file_name_is_not_printed_either() {
    let sandbox = Sandbox::new();
    let k = keys(&sandbox);
    let root = sandbox.path().join("tree");
    write(&root, &format!("{}.txt", k.live), format!("{}\n", k.live));
    for args in [vec![], vec!["--json"]] {
        let out = scan(&sandbox, &root, &args);
        let (stdout, _) = no_full_key(&out, &[&k.live]);
        assert_eq!(out.status.code(), Some(1), "{stdout}");
        assert!(stdout.contains(&masked(&k.live)), "{stdout}");
    }
    // The store records where the key was seen: the path, with the key masked.
    let shown = sandbox.show_json("Prod API");
    let place = shown["leaked_in"][0]["location"].as_str().unwrap();
    assert_eq!(place, format!("{}.txt:1", masked(&k.live)));
    common::assert_keys_not_on_disk(&sandbox.db, std::slice::from_ref(&k.live), "after scan");
}

/// `hivekeys --db <db> args…` in the sandbox's clean environment.
fn on(sandbox: &Sandbox, db: &OsStr, args: &[&str]) -> Command {
    let mut command = sandbox.bare_command();
    command.arg("--db").arg(db).args(args);
    command
}

/// A full key from `create` on `db`.
fn create_on(sandbox: &Sandbox, db: &OsStr, name: &str) -> String {
    let out = output(
        on(sandbox, db, &["create", "--name", name, "--env", "prod"]),
        None,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    text(&out.stdout).trim().to_owned()
}

fn valid_on(sandbox: &Sandbox, db: &OsStr, key: &str) -> bool {
    let out = output(on(sandbox, db, &["verify"]), Some(key.as_bytes()));
    let verdict: Value = serde_json::from_slice(&out.stdout).unwrap();
    verdict["valid"] == true
}

/// `--revoke`: refused without `--yes` off a terminal; then one transaction revoking every
/// live key found, each once, audited with where it leaked; the next scan finds them revoked.
fn revoke_leaked_keys(db: &OsStr) {
    let sandbox = Sandbox::new();
    let a = create_on(&sandbox, db, "Alpha");
    let b = create_on(&sandbox, db, "Beta");
    let root = sandbox.path().join("tree");
    write(&root, "a.txt", format!("{a}\n"));
    write(&root, "b.txt", format!("\n\n{a} {b}\n"));
    let scan_on = |args: &[&str]| {
        let mut command = on(&sandbox, db, &["scan"]);
        command.args(args).current_dir(&root);
        output(command, None)
    };

    let out = scan_on(&["--revoke"]);
    no_full_key(&out, &[&a, &b]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(valid_on(&sandbox, db, &a) && valid_on(&sandbox, db, &b));

    let out = scan_on(&["--revoke", "--yes"]);
    let (stdout, stderr) = no_full_key(&out, &[&a, &b]);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    let revoked: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("Revoked "))
        .collect();
    assert_eq!(revoked.len(), 2, "{stdout}");
    assert!(
        revoked[0].ends_with("\"Alpha\" (leaked in a.txt:1)."),
        "{stdout}"
    );
    assert!(
        revoked[1].ends_with("\"Beta\" (leaked in b.txt:3)."),
        "{stdout}"
    );
    assert!(!valid_on(&sandbox, db, &a) && !valid_on(&sandbox, db, &b));

    let log = output(on(&sandbox, db, &["log", "--json"]), None);
    let events: Vec<Value> = serde_json::from_slice(&log.stdout).unwrap();
    let revocations: Vec<(&str, &str)> = events
        .iter()
        .filter(|e| e["action"] == "revoked")
        .map(|e| {
            (
                e["key_name"].as_str().unwrap(),
                e["detail"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(revocations.len(), 2, "{events:?}");
    assert!(
        revocations.contains(&("Alpha", "leaked in a.txt:1")),
        "{revocations:?}"
    );
    assert!(
        revocations.contains(&("Beta", "leaked in b.txt:3")),
        "{revocations:?}"
    );

    let out = scan_on(&["--json"]);
    let (stdout, _) = no_full_key(&out, &[&a, &b]);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    let report: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        report["summary"]["found"],
        serde_json::json!({"live": 0, "revoked": 3, "expired": 0, "unknown": 0})
    );

    // With --json, what was revoked is in the document.
    let c = create_on(&sandbox, db, "Gamma");
    write(&root, "c.txt", format!("{c}\n"));
    let out = scan_on(&["--json", "--revoke", "--yes", "c.txt"]);
    let (stdout, _) = no_full_key(&out, &[&c]);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    let report: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["revoked"][0]["name"], "Gamma", "{stdout}");
    assert_eq!(report["revoked"][0]["leaked_in"], "c.txt:1", "{stdout}");
    assert!(!valid_on(&sandbox, db, &c));
}

#[test]
fn revoke_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    revoke_leaked_keys(dir.path().join("store.db").as_os_str());
}

#[test]
fn revoke_on_postgres() {
    revoke_leaked_keys(OsStr::new(&common::postgres::database()));
}

/// On a terminal, `--revoke` asks once, after the report, for every live key found; `n`
/// changes nothing, `y` revokes them all.
#[test]
fn revoke_asks_once_on_a_terminal() {
    let sandbox = Sandbox::new();
    let a = sandbox.create_key("Alpha", "production");
    let b = sandbox.create_key("Beta", "staging");
    let root = sandbox.path().join("tree");
    write(&root, "a.txt", format!("{a}\n{a}\n"));
    write(&root, "b.txt", format!("{b}\n"));
    let tree = root.to_str().unwrap();

    for (answer, revoked) in [(b"n\r", false), (b"y\r", true)] {
        let launch = common::pty::Launch {
            cols: 250,
            args: &["scan", "--revoke", tree],
            ..Default::default()
        };
        let mut pty = common::pty::Pty::launch(&sandbox, launch);
        // Not a dashboard: no frames to wait for, only the question in the output.
        let deadline = common::pty::soon();
        while !text(&pty.log()).contains("[y/N]") {
            assert!(
                std::time::Instant::now() < deadline,
                "no question: {}",
                pty.screen()
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        pty.send(answer);
        let status = pty.wait_exit();
        assert_eq!(status.exit_code(), 1);
        let log = text(&pty.whole_log());
        assert!(
            !log.contains(&a) && !log.contains(&b) && !contains_full_key(&log),
            "{log}"
        );
        assert_eq!(log.matches("[y/N]").count(), 1, "{log}");
        assert!(
            log.contains("Revoke 2 live leaked keys \"Alpha\""),
            "one question for both keys: {log}"
        );
        let report_at = log.find("found 3 keys").expect("the report");
        assert!(
            report_at < log.find("[y/N]").unwrap(),
            "the report comes first: {log}"
        );
        assert_eq!(
            log.matches("Revoked key_").count(),
            2 * usize::from(revoked),
            "{log}"
        );
        if !revoked {
            assert!(log.contains("Cancelled; nothing was changed."), "{log}");
        }
        for key in [&a, &b] {
            assert_eq!(sandbox.verify_json(key)["valid"], !revoked);
        }
    }
}
