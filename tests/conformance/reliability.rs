//! Reliability under real processes and real faults, on both backends: many `hivekeys`
//! processes writing and verifying one store at once, `kill -9` in the middle of writes and of
//! buffered use counts, and a clean exit of a verifying process. What these promise
//! (acknowledged changes survive, use counts lose at most one bookkeeping interval) is the
//! store's contract, not SQLite's, so it must hold on PostgreSQL as well.
//!
//! Every check reads the store afterwards as another program would: on SQLite the file's own
//! integrity check, on both the store's rules over the raw rows and `list --json`. Waiting is
//! by reading answers; the only fixed sleeps are the random moments at which a process is
//! killed, and the wait that lets the use-count bound (documented in the README) pass before a
//! kill. What only a file can show (a size limit, a damaged or read-only file) stays in
//! `tests/reliability.rs`.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Output, Stdio};
use std::sync::Mutex;
use std::thread;
use std::time::{Duration, Instant};

use hivekeys::store::{FLUSH_AFTER, InvalidReason, Verification};
use hivekeys::{KeyQuery, Store};
use rand::RngExt;
use serde_json::Value;

use crate::common::{self, seeded_rng, text};
use crate::{Backend, Raw};

const WS: &str = "default";

/// The binary on the backend's store, in its sandbox.
fn hivekeys_cmd(backend: &Backend, args: &[&str]) -> Command {
    let mut command = common::hivekeys(backend.dir.path());
    command.arg("--db").arg(backend.db_arg()).args(args);
    command
}

/// The binary on the backend's store, `stdin` fed to it (the process may exit before reading
/// it all).
fn hivekeys(backend: &Backend, args: &[&str], stdin: Option<&[u8]>) -> Output {
    common::output(hivekeys_cmd(backend, args), stdin)
}

/// A store of the library's own on the backend, as a gateway opens it: the real clock.
fn open(backend: &Backend) -> Store {
    Store::open(&backend.location).expect("open the store")
}

fn key_count(backend: &Backend) -> u64 {
    open(backend)
        .count_keys(WS, &KeyQuery::default())
        .expect("count")
}

/// The store, read after the faults by another program, is whole and tells one story.
#[track_caller]
fn assert_consistent(backend: &Backend, when: &str) {
    let mut raw = backend.raw();
    // SQLite's pages and foreign keys are checked on request; PostgreSQL checks both on every
    // write (the schema declares the foreign keys), and a killed client cannot tear its pages.
    if let Raw::Sqlite(conn) = &raw {
        let integrity: String = conn
            .query_row("PRAGMA integrity_check", [], |row| row.get(0))
            .expect("integrity_check");
        assert_eq!(integrity, "ok", "{when}");
        let dangling = conn
            .prepare("PRAGMA foreign_key_check")
            .unwrap()
            .query_map([], |_| Ok(()))
            .unwrap()
            .count();
        assert_eq!(dangling, 0, "{when}: rows refer to rows that are not there");
    }
    // What neither database knows: the store's own rules, which a half-written change would
    // break.
    for (broken, sql) in [
        (
            "a key without exactly one current secret",
            "SELECT count(*) FROM keys k WHERE (SELECT count(*) FROM secrets s \
             WHERE s.key_id = k.id AND s.expires_at IS NULL) <> 1",
        ),
        (
            "a key without exactly one creation in the audit trail",
            "SELECT count(*) FROM keys k WHERE (SELECT count(*) FROM audit_events a \
             WHERE a.key_id = k.id AND a.action = 'created') <> 1",
        ),
        (
            "a key whose use count is not the sum of its daily counts",
            "SELECT count(*) FROM keys k WHERE k.use_count <> \
             (SELECT coalesce(sum(u.count), 0) FROM key_usage u WHERE u.key_id = k.id)",
        ),
    ] {
        assert_eq!(raw.count(sql), 0, "{when}: {broken}");
    }
    // And the binary lists exactly the rows there are, with their counts (these tests use one
    // workspace).
    let mut rows: Vec<String> = raw.texts("SELECT public_id || ' ' || use_count FROM keys");
    drop(raw);
    let out = hivekeys(backend, &["list", "--json"], None);
    assert!(out.status.success(), "{when}: {}", text(&out.stderr));
    let listed: Value = serde_json::from_slice(&out.stdout).expect("list --json");
    let mut listed: Vec<String> = listed
        .as_array()
        .expect("an array")
        .iter()
        .map(|k| format!("{} {}", k["id"].as_str().unwrap(), k["use_count"]))
        .collect();
    rows.sort();
    listed.sort();
    assert_eq!(listed, rows, "{when}: list --json differs from the rows");
}

/// No issued key is in the store: not in any of its files, or not in a dump of its database.
#[track_caller]
fn assert_keys_not_stored(backend: &Backend, keys: &[String], when: &str) {
    match backend.file() {
        Some(path) => common::assert_keys_not_on_disk(path, keys, when),
        None => {
            let dump = common::postgres::dump(&backend.url());
            assert!(
                dump.contains("CREATE TABLE hivekeys.secrets"),
                "{when}: not a dump of the store"
            );
            common::assert_keys_not_in(dump.as_bytes(), keys, &format!("{when}: the dump"));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Concurrency: 4 writing processes and 2 verifying processes at once
// ---------------------------------------------------------------------------------------------

const WRITERS: usize = 4;
const VERIFIERS: usize = 2;
const RUN_FOR: Duration = Duration::from_secs(4);

/// What the writers were told happened to one key.
#[derive(Clone)]
struct Acknowledged {
    name: String,
    current: String,
    /// Secrets rotated out (no grace): each stopped when its rotation returned.
    retired: Vec<(String, Instant)>,
    revoked: Option<Instant>,
}

struct Verified {
    key: String,
    started: Instant,
    outcome: Value,
}

#[derive(Default)]
struct Failures {
    /// (command, exit status, stderr) of every command that did not succeed.
    list: Vec<(String, Option<i32>, String)>,
}

fn processes_writing_and_verifying_at_once_lose_nothing(backend: &Backend) {
    let seed = hivekeys(
        backend,
        &["create", "--name", "seed", "--env", "prod"],
        None,
    );
    assert!(seed.status.success(), "{}", text(&seed.stderr));
    let keys = Mutex::new(vec![Acknowledged {
        name: "seed".into(),
        current: text(&seed.stdout).trim().to_owned(),
        retired: Vec::new(),
        revoked: None,
    }]);
    let failures = Mutex::new(Failures::default());
    let verified = Mutex::new(Vec::<Verified>::new());
    let commands = Mutex::new(0usize);
    let start = Instant::now();

    thread::scope(|s| {
        for writer in 0..WRITERS {
            let (keys, failures, commands) = (&keys, &failures, &commands);
            s.spawn(move || {
                let mut mine: Vec<usize> = Vec::new();
                let mut step = 0usize;
                while start.elapsed() < RUN_FOR {
                    step += 1;
                    let live: Vec<usize> = {
                        let keys = keys.lock().unwrap();
                        mine.iter()
                            .copied()
                            .filter(|&i| keys[i].revoked.is_none())
                            .collect()
                    };
                    let (args, target) = match (step % 4, live.first(), live.last()) {
                        (2, _, Some(&newest)) => (vec!["rotate".to_owned()], Some(newest)),
                        (3, Some(&oldest), _) if live.len() > 1 => {
                            (vec!["revoke".to_owned()], Some(oldest))
                        }
                        _ => (
                            vec![
                                "create".to_owned(),
                                "--name".to_owned(),
                                format!("w{writer}-{step}"),
                                "--env".to_owned(),
                                "dev".to_owned(),
                            ],
                            None,
                        ),
                    };
                    let mut args = args;
                    if let Some(i) = target {
                        args.push(keys.lock().unwrap()[i].name.clone());
                        args.push("--yes".into());
                    }
                    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
                    let out = hivekeys(backend, &argv, None);
                    let done = Instant::now();
                    *commands.lock().unwrap() += 1;
                    if !out.status.success() {
                        failures.lock().unwrap().list.push((
                            args.join(" "),
                            out.status.code(),
                            text(&out.stderr),
                        ));
                        continue;
                    }
                    let mut keys = keys.lock().unwrap();
                    match (args[0].as_str(), target) {
                        ("create", _) => {
                            mine.push(keys.len());
                            keys.push(Acknowledged {
                                name: args[2].clone(),
                                current: text(&out.stdout).trim().to_owned(),
                                retired: Vec::new(),
                                revoked: None,
                            });
                        }
                        ("rotate", Some(i)) => {
                            let new = text(&out.stdout).trim().to_owned();
                            let old = std::mem::replace(&mut keys[i].current, new);
                            keys[i].retired.push((old, done));
                        }
                        ("revoke", Some(i)) => keys[i].revoked = Some(done),
                        _ => unreachable!(),
                    }
                }
            });
        }
        for verifier in 0..VERIFIERS {
            let (keys, failures, verified, commands) = (&keys, &failures, &verified, &commands);
            s.spawn(move || {
                let mut pick = seeded_rng(verifier as u64 + 1);
                while start.elapsed() < RUN_FOR {
                    let key = {
                        let keys = keys.lock().unwrap();
                        let k = &keys[pick.random_range(0..keys.len())];
                        match pick.random_range(0..4usize) {
                            0 if !k.retired.is_empty() => {
                                k.retired[pick.random_range(0..k.retired.len())].0.clone()
                            }
                            _ => k.current.clone(),
                        }
                    };
                    let started = Instant::now();
                    let out = hivekeys(backend, &["verify"], Some(format!("{key}\n").as_bytes()));
                    *commands.lock().unwrap() += 1;
                    let outcome: Value = match serde_json::from_slice(&out.stdout) {
                        Ok(outcome) => outcome,
                        Err(_) => {
                            failures.lock().unwrap().list.push((
                                format!("verify ({:?})", out.status),
                                out.status.code(),
                                text(&out.stderr),
                            ));
                            continue;
                        }
                    };
                    assert!(
                        !text(&out.stderr).contains("not recorded"),
                        "a use was not recorded: {}",
                        text(&out.stderr)
                    );
                    verified.lock().unwrap().push(Verified {
                        key,
                        started,
                        outcome,
                    });
                }
            });
        }
    });

    let keys = keys.into_inner().unwrap();
    let failures = failures.into_inner().unwrap().list;
    let verified = verified.into_inner().unwrap();
    let commands = commands.into_inner().unwrap();
    let valid = verified
        .iter()
        .filter(|v| v.outcome["valid"] == Value::Bool(true))
        .count();
    eprintln!(
        "{commands} processes in {:?}: {} keys acknowledged, {} rotations, {} revocations, {} verifications ({valid} valid), {} failures",
        start.elapsed(),
        keys.len(),
        keys.iter().map(|k| k.retired.len()).sum::<usize>(),
        keys.iter().filter(|k| k.revoked.is_some()).count(),
        verified.len(),
        failures.len()
    );
    assert!(keys.len() > WRITERS, "the writers hardly ran");
    assert!(verified.len() > VERIFIERS, "the verifiers hardly ran");

    // A failure is allowed only as the clear "busy" sentence, never a crash.
    for (command, status, stderr) in &failures {
        assert_eq!(*status, Some(1), "{command}: {stderr}");
        assert!(
            stderr.starts_with("error: The database is busy") && stderr.lines().count() == 1,
            "{command} failed with something other than a busy store: {stderr}"
        );
    }

    // No verification that began after a revocation or rotation had returned accepted the
    // key it ended.
    let ended: HashMap<&str, Instant> = keys
        .iter()
        .flat_map(|k| {
            k.retired
                .iter()
                .map(|(old, at)| (old.as_str(), *at))
                .chain(k.revoked.map(|at| (k.current.as_str(), at)))
        })
        .collect();
    for v in &verified {
        if let Some(&end) = ended.get(v.key.as_str()) {
            assert!(
                !(v.started > end && v.outcome["valid"] == Value::Bool(true)),
                "a key verified after its revocation or rotation had returned: {}",
                v.outcome
            );
        }
    }

    assert_consistent(backend, "after the run");
    let mut store = open(backend);
    // Every valid verification was counted once, no more, no less.
    let counted: u64 = store
        .list_keys(WS, &KeyQuery::default())
        .unwrap()
        .iter()
        .map(|k| k.use_count)
        .sum();
    assert_eq!(
        counted, valid as u64,
        "use counts differ from valid verifications"
    );

    // Every acknowledged change is in the store, exactly.
    assert_eq!(
        store.count_keys(WS, &KeyQuery::default()).unwrap(),
        keys.len() as u64
    );
    for k in &keys {
        let record = store.resolve_key(WS, &k.name).expect("an acknowledged key");
        assert_eq!(
            record.revoked_at.is_some(),
            k.revoked.is_some(),
            "{}",
            k.name
        );
        let expected = k.revoked.map(|_| InvalidReason::Revoked);
        match (store.verify(&k.current).unwrap(), expected) {
            (Verification::Valid(v), None) => assert_eq!(v.id, record.id),
            (Verification::Invalid(reason), Some(want)) => assert_eq!(reason, want),
            (other, want) => panic!("{}: {other:?}, expected {want:?}", k.name),
        }
        for (old, _) in &k.retired {
            assert!(
                matches!(store.verify(old).unwrap(), Verification::Invalid(_)),
                "a rotated-out secret of {} still works",
                k.name
            );
        }
    }
    drop(store);
    let all: Vec<String> = keys
        .iter()
        .flat_map(|k| {
            std::iter::once(k.current.clone()).chain(k.retired.iter().map(|r| r.0.clone()))
        })
        .collect();
    assert_keys_not_stored(backend, &all, "after the run");
}

// ---------------------------------------------------------------------------------------------
// kill -9
// ---------------------------------------------------------------------------------------------

fn a_hard_kill_in_the_middle_of_writes_loses_nothing_acknowledged(backend: &Backend) {
    let mut acknowledged = Vec::new();
    let mut expected_keys = 0u64;
    let mut pick = seeded_rng(7);
    let (mut killed, mut finished) = (0, 0);
    for round in 0..10 {
        // A stream of small writes, each acknowledged by its exit status and printed key…
        let name = format!("acknowledged {round}");
        let out = hivekeys(backend, &["create", "--name", &name, "--env", "prod"], None);
        assert!(out.status.success(), "{}", text(&out.stderr));
        acknowledged.push((name, text(&out.stdout).trim().to_owned()));
        expected_keys += 1;

        // …and one big transaction (1,000 keys) killed at a random moment.
        let seed = round.to_string();
        let mut demo = hivekeys_cmd(backend, &["demo", "--keys", "1000", "--seed", &seed])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        thread::sleep(Duration::from_millis(pick.random_range(0..120)));
        let _ = demo.kill(); // SIGKILL
        let status = demo.wait().unwrap();
        if status.signal() != Some(9) {
            assert!(status.success(), "demo failed on its own: {status:?}");
        }
        assert_consistent(backend, &format!("round {round}"));
        // The demo is one transaction: its keys are all there or none. All of them when it
        // finished, and also when the kill landed after its commit but before its exit (a
        // window a loaded machine widens); none when the kill landed mid-write.
        let count = key_count(backend);
        if count == expected_keys + 1000 {
            finished += 1;
            // The first time, a default key among them.
            expected_keys += 1000;
        } else {
            assert_eq!(
                status.signal(),
                Some(9),
                "round {round}: a finished demo lost keys"
            );
            killed += 1;
        }
        assert_eq!(count, expected_keys, "round {round}: a partial demo");
    }
    eprintln!("{killed} demos killed mid-write, {finished} committed first");
    assert!(
        killed > 0,
        "no kill landed mid-write; the demo is too fast for this test"
    );

    let store = open(backend);
    for (name, _) in &acknowledged {
        store
            .resolve_key(WS, name)
            .expect("an acknowledged key was lost");
    }
    drop(store);
    let keys: Vec<String> = acknowledged.into_iter().map(|(_, key)| key).collect();
    assert_keys_not_stored(backend, &keys, "after the kill");
}

/// The example gateway (`examples/gateway.rs`). A plain `cargo test` builds it next to the
/// tests; a run of this suite alone (`cargo test --test conformance`) does not, so build it
/// then.
fn gateway_exe() -> PathBuf {
    static BUILT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BUILT
        .get_or_init(|| {
            let deps = std::env::current_exe().unwrap();
            let profile = deps.parent().unwrap().parent().unwrap();
            let exe = profile.join("examples").join("gateway");
            if !exe.exists() {
                let mut cargo = Command::new(env!("CARGO"));
                cargo
                    .args(["build", "--example", "gateway", "--manifest-path"])
                    .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml"));
                if profile.file_name().is_some_and(|name| name == "release") {
                    cargo.arg("--release");
                }
                let status = cargo.status().expect("run cargo");
                assert!(status.success(), "cargo build --example gateway failed");
            }
            exe
        })
        .clone()
}

struct Gateway {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Gateway {
    fn start(backend: &Backend) -> Gateway {
        let exe = gateway_exe();
        assert!(exe.exists(), "{} was not built", exe.display());
        let mut command = Command::new(exe);
        // No HIVEKEYS_* setting of the developer's shell reaches it.
        common::clean_env(backend.dir.path()).apply(&mut command);
        let mut child = command
            .arg("--db")
            .arg(backend.db_arg())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        Gateway {
            child,
            stdin,
            stdout,
        }
    }

    /// Sends the keys and waits for every answer: the acknowledgements.
    fn verify_all(&mut self, keys: &[&str]) -> Vec<String> {
        for key in keys {
            writeln!(self.stdin, "{key}").unwrap();
        }
        self.stdin.flush().unwrap();
        keys.iter()
            .map(|_| {
                let mut line = String::new();
                self.stdout.read_line(&mut line).unwrap();
                line.trim_end().to_owned()
            })
            .collect()
    }

    fn kill(mut self) {
        self.child.kill().unwrap();
        let status = self.child.wait().unwrap();
        assert_eq!(status.signal(), Some(9));
    }
}

/// How long after a batch's first verification its write may still be running: CI machines
/// are slow and shared. Part of the bound the README states.
const WRITE_SLACK: Duration = Duration::from_millis(1500);

fn a_hard_kill_loses_at_most_the_last_second_of_use_counts(backend: &Backend) {
    let mut keys = Vec::new();
    for name in ["gateway a", "gateway b"] {
        let out = hivekeys(backend, &["create", "--name", name, "--env", "prod"], None);
        assert!(out.status.success(), "{}", text(&out.stderr));
        keys.push(text(&out.stdout).trim().to_owned());
    }
    let mut gateway = Gateway::start(backend);
    let early: Vec<&str> = (0..300).map(|i| keys[i % 2].as_str()).collect();
    let answers = gateway.verify_all(&early);
    assert!(
        answers.iter().all(|a| a.starts_with("VALID ")),
        "{answers:?}"
    );
    let acknowledged = Instant::now();

    // Past the bound: everything acknowledged before it must be in the store by now.
    thread::sleep(FLUSH_AFTER + WRITE_SLACK);
    let late: Vec<&str> = (0..50).map(|i| keys[i % 2].as_str()).collect();
    let answers = gateway.verify_all(&late);
    assert!(
        answers.iter().all(|a| a.starts_with("VALID ")),
        "{answers:?}"
    );
    let waited = acknowledged.elapsed();
    gateway.kill();

    assert_consistent(backend, "after the kill");
    let store = open(backend);
    let uses: u64 = store
        .list_keys(WS, &KeyQuery::default())
        .unwrap()
        .iter()
        .map(|k| k.use_count)
        .sum();
    eprintln!(
        "killed {waited:?} after 300 acknowledged verifications and just after 50 more: {uses} uses survived"
    );
    assert!(
        uses >= early.len() as u64,
        "verifications acknowledged {waited:?} before the kill were lost ({uses} of {} survived)",
        early.len()
    );
    // A batch is written whole or not at all: the late ones are all there or all lost.
    assert!(
        uses == early.len() as u64 || uses == (early.len() + late.len()) as u64,
        "{uses} uses: a batch was half written"
    );
    for record in store.list_keys(WS, &KeyQuery::default()).unwrap() {
        assert!(
            record.last_used_at.is_some(),
            "{} lost its last use",
            record.name
        );
    }
    drop(store);
    assert_keys_not_stored(backend, &keys, "after the kill");
}

fn a_clean_exit_of_a_verifying_process_loses_nothing(backend: &Backend) {
    let out = hivekeys(
        backend,
        &["create", "--name", "clean", "--env", "prod"],
        None,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let key = text(&out.stdout).trim().to_owned();
    let mut gateway = Gateway::start(backend);
    let batch: Vec<&str> = vec![key.as_str(); 123];
    let answers = gateway.verify_all(&batch);
    assert!(
        answers.iter().all(|a| a.starts_with("VALID ")),
        "{answers:?}"
    );
    // End of input: the gateway drops its store, which writes the buffered uses.
    let Gateway {
        mut child, stdin, ..
    } = gateway;
    drop(stdin);
    assert!(child.wait().unwrap().success());
    assert_consistent(backend, "after the exit");
    let store = open(backend);
    assert_eq!(store.resolve_key(WS, "clean").unwrap().use_count, 123);
}

conformance![
    processes_writing_and_verifying_at_once_lose_nothing,
    a_hard_kill_in_the_middle_of_writes_loses_nothing_acknowledged,
    a_hard_kill_loses_at_most_the_last_second_of_use_counts,
    a_clean_exit_of_a_verifying_process_loses_nothing,
];
