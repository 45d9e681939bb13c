//! Change propagation and the processes around a store: `cargo bench --bench propagation`.
//!
//! On one store of 100,000 demo keys (or `HIVEKEYS_BENCH_KEYS`), each figure printed beside a
//! floor measured in the same run, on the same file, and written as JSON to
//! `target/propagation-bench.json`:
//!
//! - **one-shot verify**: the wall time of `hivekeys verify` (the real binary, key on stdin),
//!   median and p90 of 25 runs, and its CPU time; floor: `sqlite3 STORE 'SELECT count(*) FROM
//!   sqlite_master'`, a process that opens the same file, reads it and exits (skipped, with a
//!   note, when `sqlite3` is not installed). Goal: at most twice the floor.
//! - **propagation**: 200 revocations and rotations made by another process (`hivekeys revoke`
//!   / `rotate`, real processes) while this process verifies the key being changed; the time
//!   from that process's exit to the first refusal, p50/p99/max (negative: refused before the
//!   process had even exited; it commits, then closes). Floor: a connection that remembers
//!   nothing and reads the key's row afresh at the same pace, watching the same changes.
//!   Bound (PRODUCT.md): 100 ms.
//! - **dashboard under verification**: the real dashboard in a pseudo-terminal, open on the
//!   store while `hivekeys serve` (another process) verifies one key 100 times a second for
//!   10 s: the dashboard's CPU (utime + stime from `/proc`) over the window and its peak
//!   resident set (`VmHWM`). Floor: the same dashboard over 10 s with nobody verifying.
//!   Goal: at most 2 % of a core and 60 MB.
//!
//! Nothing here asserts a time; the machine may be shared, so read the floor beside each figure.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::num::NonZeroU16;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hivekeys::key::KeyHash;
use hivekeys::store::Verification;
use hivekeys::{Environment, KeyQuery, NewKey, Store};
use portable_pty::{CommandBuilder, PtySize, native_pty_system};
use serde_json::{Value, json};

mod support;
use support::{cpu_model, cpus, listening_address, target_dir};

const BIN: &str = env!("CARGO_BIN_EXE_hivekeys");
const WORKSPACE: &str = "default";
const DEFAULT_KEYS: u64 = 100_000;
const ONE_SHOT_ROUNDS: usize = 5;
const ONE_SHOT_PER_ROUND: usize = 5;
const CHANGES: usize = 200;
/// How often the watching threads verify the key about to change.
const WATCH_PACE: Duration = Duration::from_micros(200);
const VERIFY_RATE: u32 = 100;
const WINDOW: Duration = Duration::from_secs(10);
const ROWS: u16 = 40;
const COLS: u16 = 120;

fn main() {
    let keys = std::env::var("HIVEKEYS_BENCH_KEYS")
        .ok()
        .and_then(|n| n.replace('_', "").parse().ok())
        .unwrap_or(DEFAULT_KEYS);
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("propagation.db");
    println!("hivekeys propagation benchmark");
    println!("machine: {}, {} CPUs", cpu_model(), cpus());
    println!("store: {keys} demo keys (hivekeys demo --keys {keys} --seed 7)\n");
    hivekeys(&db, &["demo", "--keys", &keys.to_string(), "--seed", "7"]);

    let one_shot = measure_one_shot(&db);
    let propagation = measure_propagation(&db);
    let dashboard = measure_dashboard(&db);

    let json = json!({
        "machine": { "cpu": cpu_model(), "cpus": cpus() },
        "keys": keys,
        "one_shot_verify": one_shot,
        "propagation": propagation,
        "dashboard_under_verification": dashboard,
    });
    let out = target_dir().join("propagation-bench.json");
    match std::fs::write(&out, serde_json::to_string_pretty(&json).unwrap()) {
        Ok(()) => println!("\nJSON: {}", out.display()),
        Err(e) => println!("\nJSON not written to {}: {e}", out.display()),
    }
}

// ---------------------------------------------------------------------------------------------
// One-shot verify against `sqlite3`
// ---------------------------------------------------------------------------------------------

fn measure_one_shot(db: &Path) -> Value {
    println!("── one-shot `hivekeys verify` ──");
    let key = hivekeys(db, &["create", "--name", "one-shot bench", "--env", "prod"]);
    let key = key.trim().to_owned();
    let sqlite3 = Command::new("sqlite3")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !sqlite3 {
        println!("  note: `sqlite3` is not installed (Debian: apt-get install sqlite3): no floor");
    }
    let (mut verify_times, mut floor_times) = (Vec::new(), Vec::new());
    let (mut verify_cpu, mut floor_cpu) = (Duration::ZERO, Duration::ZERO);
    let uses_before = use_count(db, &key);
    // Rounds of floor runs on a store closed cleanly, then verifications (each but the first
    // finds the log the one before left), then a checkpoint: so the floor never pays for
    // checkpointing what a verification left, and both meet the same machine load.
    for _ in 0..ONE_SHOT_ROUNDS {
        checkpoint(db);
        if sqlite3 {
            for _ in 0..ONE_SHOT_PER_ROUND {
                let cpu = children_cpu();
                let start = Instant::now();
                let out = Command::new("sqlite3")
                    .arg(db)
                    .arg("SELECT count(*) FROM sqlite_master")
                    .stdout(Stdio::piped())
                    .output()
                    .expect("run sqlite3");
                floor_times.push(start.elapsed());
                floor_cpu += children_cpu() - cpu;
                assert!(out.status.success(), "sqlite3 failed");
            }
        }
        for _ in 0..ONE_SHOT_PER_ROUND {
            let cpu = children_cpu();
            let start = Instant::now();
            let mut child = command(db, &["verify"])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .expect("run hivekeys verify");
            child
                .stdin
                .take()
                .unwrap()
                .write_all(key.as_bytes())
                .unwrap();
            let out = child.wait_with_output().expect("wait for verify");
            verify_times.push(start.elapsed());
            verify_cpu += children_cpu() - cpu;
            assert!(out.status.success(), "verify refused the key");
        }
    }
    let runs = ONE_SHOT_ROUNDS * ONE_SHOT_PER_ROUND;
    let uses = use_count(db, &key) - uses_before;
    let (verify_p50, verify_p90) = (
        percentile(&mut verify_times, 0.5),
        percentile(&mut verify_times, 0.9),
    );
    let verify_cpu_ms = ms(verify_cpu) / runs as f64;
    println!(
        "  hivekeys verify: median {verify_p50:.1} ms, p90 {verify_p90:.1} ms wall, {verify_cpu_ms:.1} ms CPU ({runs} runs; {uses} uses recorded)"
    );
    let floor = sqlite3.then(|| {
        let (p50, p90) = (percentile(&mut floor_times, 0.5), percentile(&mut floor_times, 0.9));
        let cpu_ms = ms(floor_cpu) / runs as f64;
        println!(
            "  floor, sqlite3 STORE 'SELECT count(*) FROM sqlite_master': median {p50:.1} ms, p90 {p90:.1} ms wall, {cpu_ms:.1} ms CPU"
        );
        println!(
            "  verify / floor (medians): {:.2}×   goal ≤ 2×",
            verify_p50 / p50
        );
        json!({ "median_ms": p50, "p90_ms": p90, "cpu_ms": cpu_ms })
    });
    println!();
    json!({
        "runs": runs,
        "median_ms": verify_p50,
        "p90_ms": verify_p90,
        "cpu_ms": verify_cpu_ms,
        "uses_recorded": uses,
        "floor_sqlite3": floor,
        "ratio_to_floor": floor.as_ref().map(|f| verify_p50 / f["median_ms"].as_f64().unwrap()),
        "goal_ratio": 2.0,
    })
}

/// Checkpoints the store and removes its log, as a clean close does.
fn checkpoint(db: &Path) {
    let conn = rusqlite::Connection::open(db).expect("open");
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .expect("checkpoint");
}

fn use_count(db: &Path, key: &str) -> i64 {
    let conn = rusqlite::Connection::open(db).expect("open");
    conn.query_row(
        "SELECT k.use_count FROM secrets s JOIN keys k ON k.id = s.key_id WHERE s.hash = ?1",
        [&KeyHash::of(key).0[..]],
        |row| row.get(0),
    )
    .expect("the key's use count")
}

/// CPU time of this process's children that have been waited for (`/proc/self/stat` cutime
/// and cstime).
fn children_cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // Fields 16 and 17 of the file are the 14th and 15th after the name.
    let ticks: u64 = fields
        .get(13..15)
        .map_or(0, |f| f.iter().filter_map(|t| t.parse::<u64>().ok()).sum());
    Duration::from_secs_f64(ticks as f64 / clock_ticks())
}

// ---------------------------------------------------------------------------------------------
// Propagation: changes by another process, seen by a verifier in this one
// ---------------------------------------------------------------------------------------------

/// What a watching thread is told: the key to watch, and where to say when it was refused.
struct Watch {
    key: String,
    armed: mpsc::Sender<()>,
    refused: mpsc::Sender<Instant>,
}

fn measure_propagation(db: &Path) -> Value {
    println!("── propagation: {CHANGES} revocations and rotations by `hivekeys` processes ──");
    // The keys to change, made here (faster than 200 processes; they are ordinary keys).
    let mut store = Store::open(db).expect("open");
    let targets: Vec<(String, String)> = (0..CHANGES)
        .map(|i| {
            let issued = store
                .create_key(
                    WORKSPACE,
                    NewKey::new(format!("propagation {i}"), Environment::Production),
                )
                .expect("create");
            (issued.record.id, issued.secret.expose().to_owned())
        })
        .collect();
    drop(store);

    // The verifier under test: the library's, remembering what it read.
    let (verifier_tx, verifier_rx) = mpsc::channel::<Watch>();
    let verifier_db = db.to_path_buf();
    let verifier = std::thread::spawn(move || {
        let mut store = Store::open(&verifier_db).expect("open");
        for watch in verifier_rx {
            let valid = |store: &mut Store| {
                matches!(
                    store.verify(&watch.key).expect("verify"),
                    Verification::Valid(_)
                )
            };
            // Seen valid first, so that it is remembered when the change comes.
            assert!(valid(&mut store), "the key is valid before its change");
            watch.armed.send(()).unwrap();
            while valid(&mut store) {
                std::thread::sleep(WATCH_PACE);
            }
            watch.refused.send(Instant::now()).unwrap();
        }
    });
    // The floor: a connection that remembers nothing, reading the key's row at the same pace.
    let (floor_tx, floor_rx) = mpsc::channel::<Watch>();
    let floor_db = db.to_path_buf();
    let floor = std::thread::spawn(move || {
        let conn = rusqlite::Connection::open(&floor_db).expect("open");
        let mut statement = conn
            .prepare(
                "SELECT k.revoked_at IS NULL AND (s.expires_at IS NULL OR s.expires_at > ?2) \
                 FROM secrets s JOIN keys k ON k.id = s.key_id WHERE s.hash = ?1",
            )
            .unwrap();
        for watch in floor_rx {
            let hash = KeyHash::of(&watch.key);
            let mut valid = || {
                let now = chrono::Utc::now().timestamp();
                statement
                    .query_row(rusqlite::params![&hash.0[..], now], |row| row.get(0))
                    .unwrap_or(false)
            };
            assert!(valid(), "the key is valid before its change");
            watch.armed.send(()).unwrap();
            while valid() {
                std::thread::sleep(WATCH_PACE);
            }
            watch.refused.send(Instant::now()).unwrap();
        }
    });

    let (mut seen, mut floor_seen, mut cli_times) = (Vec::new(), Vec::new(), Vec::new());
    for (i, (id, key)) in targets.iter().enumerate() {
        let (armed_tx, armed_rx) = mpsc::channel();
        let (refused_tx, refused_rx) = mpsc::channel();
        let (floor_refused_tx, floor_refused_rx) = mpsc::channel();
        verifier_tx
            .send(Watch {
                key: key.clone(),
                armed: armed_tx.clone(),
                refused: refused_tx,
            })
            .unwrap();
        floor_tx
            .send(Watch {
                key: key.clone(),
                armed: armed_tx,
                refused: floor_refused_tx,
            })
            .unwrap();
        armed_rx.recv().unwrap();
        armed_rx.recv().unwrap();
        // Alternately revoked and rotated (no grace: the old secret stops at once).
        let args: &[&str] = match i % 2 {
            0 => &["revoke", id, "--yes"],
            _ => &["rotate", id, "--yes"],
        };
        let start = Instant::now();
        // Stdout a pipe: `rotate` refuses to make a key nobody would see.
        let out = command(db, args)
            .stdin(Stdio::null())
            .output()
            .expect("run hivekeys");
        let exited = Instant::now();
        assert!(out.status.success(), "hivekeys {args:?} failed");
        cli_times.push(exited - start);
        let since_exit = |at: Instant| match at.checked_duration_since(exited) {
            Some(after) => ms(after),
            None => -ms(exited - at),
        };
        seen.push(since_exit(refused_rx.recv().unwrap()));
        floor_seen.push(since_exit(floor_refused_rx.recv().unwrap()));
    }
    drop((verifier_tx, floor_tx));
    verifier.join().unwrap();
    floor.join().unwrap();

    let summary = |times: &mut Vec<f64>| {
        times.sort_by(f64::total_cmp);
        let at = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize];
        let before_exit = times.iter().filter(|t| **t < 0.0).count();
        json!({
            "p50_ms": at(0.5), "p99_ms": at(0.99), "max_ms": at(1.0),
            "refused_before_exit": before_exit,
        })
    };
    let verifier_summary = summary(&mut seen);
    let floor_summary = summary(&mut floor_seen);
    let cli_ms = percentile(&mut cli_times, 0.5);
    let line = |what: &str, s: &Value| {
        println!(
            "  {what}: from the process's exit to the first refusal p50 {:+.1} ms, p99 {:+.1} ms, max {:+.1} ms ({} of {CHANGES} refused before it exited)",
            s["p50_ms"].as_f64().unwrap(),
            s["p99_ms"].as_f64().unwrap(),
            s["max_ms"].as_f64().unwrap(),
            s["refused_before_exit"]
        );
    };
    line("Store::verify (remembers)", &verifier_summary);
    line("floor, a fresh read per call", &floor_summary);
    println!(
        "  bound: 100 ms; `hivekeys revoke/rotate` itself: median {cli_ms:.1} ms from spawn to exit; watched every {} µs\n",
        WATCH_PACE.as_micros()
    );
    json!({
        "changes": CHANGES,
        "verifier": verifier_summary,
        "floor_fresh_read": floor_summary,
        "cli_median_ms": cli_ms,
        "watch_pace_us": WATCH_PACE.as_micros() as u64,
        "bound_ms": 100,
    })
}

// ---------------------------------------------------------------------------------------------
// The dashboard while another process verifies
// ---------------------------------------------------------------------------------------------

fn measure_dashboard(db: &Path) -> Value {
    println!(
        "── dashboard while `hivekeys serve` verifies one key {VERIFY_RATE}×/s for {}s ──",
        WINDOW.as_secs()
    );
    let key = hivekeys(
        db,
        &["create", "--name", "dashboard bench", "--env", "prod"],
    );
    let key = key.trim().to_owned();
    // What the dashboard counts: every key but the default one, shown apart.
    let total = {
        let store = Store::open(db).expect("open");
        let all = store.count_keys(WORKSPACE, &KeyQuery::default()).unwrap();
        all - u64::from(store.default_key(WORKSPACE).unwrap().is_some())
    };
    let dashboard = Dashboard::start(db, total);
    // Let the start-up settle (its list load is behind it), then the floor window.
    std::thread::sleep(Duration::from_secs(1));
    let idle_rss_mb = dashboard.peak_rss_mb();
    let ticks = dashboard.cpu_ticks();
    let start = Instant::now();
    std::thread::sleep(WINDOW);
    let idle_cpu = cpu_percent(dashboard.cpu_ticks() - ticks, start.elapsed());

    let mut serve = Serve::start(db);
    let mut connection = serve.connect();
    let ticks = dashboard.cpu_ticks();
    let start = Instant::now();
    let mut verified = 0u32;
    while start.elapsed() < WINDOW {
        let due = start + Duration::from_secs(1) * verified / VERIFY_RATE;
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        let status = connection.auth(&key);
        assert_eq!(status, 200, "serve refused the key");
        verified += 1;
    }
    let busy_cpu = cpu_percent(dashboard.cpu_ticks() - ticks, start.elapsed());
    let busy_rss_mb = dashboard.peak_rss_mb();
    drop(connection);
    serve.stop();
    dashboard.quit();

    println!(
        "  dashboard CPU: {busy_cpu:.1} % of a core while verified against; floor (nobody verifying) {idle_cpu:.1} %   goal ≤ 2 %"
    );
    println!(
        "  dashboard peak RSS (VmHWM): {busy_rss_mb:.1} MB; before the verifications {idle_rss_mb:.1} MB   goal ≤ 60 MB"
    );
    println!("  ({verified} verifications by serve in the window)");
    json!({
        "verifications": verified,
        "window_s": WINDOW.as_secs_f64(),
        "cpu_percent": busy_cpu,
        "floor_idle_cpu_percent": idle_cpu,
        "peak_rss_mb": busy_rss_mb,
        "floor_idle_peak_rss_mb": idle_rss_mb,
        "goal_cpu_percent": 2.0,
        "goal_rss_mb": 60.0,
    })
}

/// The dashboard, the real binary, in a pseudo-terminal.
struct Dashboard {
    child: Box<dyn portable_pty::Child + Send + Sync>,
    writer: Box<dyn Write + Send>,
    pid: u32,
    _master: Box<dyn portable_pty::MasterPty + Send>,
}

impl Dashboard {
    fn start(db: &Path, total: u64) -> Dashboard {
        let pair = native_pty_system()
            .openpty(PtySize {
                rows: ROWS,
                cols: COLS,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("pty");
        let mut command = CommandBuilder::new(BIN);
        command.arg("--db");
        command.arg(db);
        command.env("TERM", "xterm-256color");
        command.env_remove("DISPLAY");
        command.env_remove("WAYLAND_DISPLAY");
        let child = pair.slave.spawn_command(command).expect("spawn");
        drop(pair.slave);
        let pid = child.process_id().expect("pid");
        let parser = Arc::new(Mutex::new(vt100::Parser::new(
            NonZeroU16::new(ROWS).unwrap(),
            NonZeroU16::new(COLS).unwrap(),
            0,
        )));
        let mut reader = pair.master.try_clone_reader().expect("reader");
        let feed = Arc::clone(&parser);
        std::thread::spawn(move || {
            let mut buffer = [0u8; 64 * 1024];
            while let Ok(n) = reader.read(&mut buffer) {
                if n == 0 {
                    break;
                }
                feed.lock().unwrap().process(&buffer[..n]);
            }
        });
        let writer = pair.master.take_writer().expect("writer");
        // The whole list loaded: "N of N keys" at the top, no "loading".
        let full = format!("{total} of {total} keys");
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let screen = parser.lock().unwrap().screen().contents();
            if screen.contains(&full) && !screen.contains("loading") {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the list never loaded:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        Dashboard {
            child,
            writer,
            pid,
            _master: pair.master,
        }
    }

    /// utime + stime, in clock ticks.
    fn cpu_ticks(&self) -> u64 {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pid)).unwrap();
        let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
        let fields: Vec<&str> = after_name.split_whitespace().collect();
        // Fields 14 and 15 of the file are the 12th and 13th after the name.
        fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
    }

    fn peak_rss_mb(&self) -> f64 {
        std::fs::read_to_string(format!("/proc/{}/status", self.pid))
            .ok()
            .and_then(|status| {
                status
                    .lines()
                    .find(|l| l.starts_with("VmHWM:"))
                    .and_then(|l| l.split_whitespace().nth(1))
                    .and_then(|kb| kb.parse::<f64>().ok())
            })
            .map_or(0.0, |kb| kb / 1024.0)
    }

    fn quit(mut self) {
        self.writer.write_all(b"q").unwrap();
        self.writer.flush().unwrap();
        let _ = self.child.wait();
    }
}

fn cpu_percent(ticks: u64, over: Duration) -> f64 {
    ticks as f64 / clock_ticks() / over.as_secs_f64() * 100.0
}

/// `hivekeys serve` on a port of its own.
struct Serve {
    child: Child,
    address: String,
}

impl Serve {
    fn start(db: &Path) -> Serve {
        let mut child = command(db, &["serve", "--listen", "127.0.0.1:0"])
            .stderr(Stdio::piped())
            .spawn()
            .expect("start hivekeys serve");
        let address = listening_address(child.stderr.take().unwrap());
        Serve { child, address }
    }

    fn connect(&self) -> KeepAlive {
        let stream = TcpStream::connect(&self.address).expect("connect to serve");
        stream.set_nodelay(true).unwrap();
        KeepAlive {
            reader: BufReader::new(stream.try_clone().unwrap()),
            stream,
        }
    }

    /// SIGTERM, as an admin stops it, and wait.
    fn stop(&mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
    }
}

/// One keep-alive HTTP/1.1 connection, speaking just enough of it for `/v1/auth`.
struct KeepAlive {
    stream: TcpStream,
    reader: BufReader<TcpStream>,
}

impl KeepAlive {
    fn auth(&mut self, key: &str) -> u16 {
        write!(
            self.stream,
            "GET /v1/auth HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {key}\r\n\r\n"
        )
        .unwrap();
        let mut status_line = String::new();
        self.reader.read_line(&mut status_line).unwrap();
        let status = status_line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .expect("a status line");
        let mut length = 0usize;
        loop {
            let mut line = String::new();
            self.reader.read_line(&mut line).unwrap();
            if line == "\r\n" {
                break;
            }
            if let Some((name, value)) = line.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse().unwrap();
            }
        }
        let mut body = vec![0; length];
        self.reader.read_exact(&mut body).unwrap();
        status
    }
}

// ---------------------------------------------------------------------------------------------
// Shared
// ---------------------------------------------------------------------------------------------

/// `hivekeys --db <db> <args…>` with no `HIVEKEYS_*` setting from the environment.
fn command(db: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(BIN);
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("HIVEKEYS_") {
            command.env_remove(name);
        }
    }
    command.arg("--db").arg(db).args(args);
    command
}

/// Runs `hivekeys` to success; its stdout.
fn hivekeys(db: &Path, args: &[&str]) -> String {
    let out = command(db, args)
        .stdin(Stdio::null())
        .output()
        .expect("run hivekeys");
    assert!(
        out.status.success(),
        "hivekeys {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8")
}

fn percentile(times: &mut [Duration], q: f64) -> f64 {
    times.sort();
    ms(times[((times.len() - 1) as f64 * q).round() as usize])
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Clock ticks per second (`getconf CLK_TCK`; 100 on Linux unless told otherwise).
fn clock_ticks() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .and_then(|text| text.trim().parse().ok())
        .unwrap_or(100.0)
}
