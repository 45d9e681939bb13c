//! The performance harness: `cargo bench --bench scale`.
//!
//! For stores of 1,000, 10,000, 100,000 and 1,000,000 demo keys (or the sizes listed in
//! `HIVEKEYS_SCALE_SIZES`, e.g. `1000,10000`) it measures, and prints as one table and as
//! JSON in `target/scale-bench.json`:
//!
//! - **bulk**: `hivekeys demo --keys N`, the real binary, whole process;
//! - **verify**: `Store::verify`, the call a gateway makes, single thread, over a mix of valid,
//!   malformed, unknown and revoked keys, and over each kind alone; and in the same run on
//!   the same file the **floor**, SHA-256 of the key plus one `SELECT … WHERE hash = ?` inside
//!   one read transaction. Afterwards it checks that use counts, per-day counts and last-used
//!   times add up to exactly the valid verifications made;
//! - **list / search** through the store, as `hivekeys list` does;
//! - **dashboard start-up**: the real binary in a pseudo-terminal (120×40), from spawning the
//!   process to the first complete frame on screen, and to the moment the whole key list is
//!   loaded; also in-process, `App` init plus one draw into ratatui's `TestBackend`;
//! - **memory**: the dashboard's peak resident set (`VmHWM`) after the list is loaded and a
//!   search has been typed;
//! - **keystrokes** (in-process, update + draw into `TestBackend`, a fresh dashboard per
//!   repeat): each kind apart — typing a search, deleting it, moving the selection, cycling
//!   the environment, status and usage filters, cycling the sort (the first `o` after a load
//!   included) — median and p99, beside the goal (p99 ≤ 5 ms up to 100,000 keys, ≤ 16 ms up
//!   to a million; peak RSS ≤ 150 MB at a million).
//!
//! `HIVEKEYS_SCALE_ONLY=dashboard` leaves out verify and list (and fills the store once);
//! with it, `HIVEKEYS_SCALE_KEEP=DIR` keeps each store in DIR and uses it again next time.
//! Figures are medians over several repeats. Nothing here asserts a time.

use std::io::{Read, Write};
use std::num::NonZeroU16;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hivekeys::entropy::SeededEntropy;
use hivekeys::key::{KeyHash, Secret};
use hivekeys::store::SortBy;
use hivekeys::store::{READER_PRAGMAS, Verification};
use hivekeys::tui::action::{Action, Movement};
use hivekeys::tui::app::App;
use hivekeys::tui::clipboard::Osc52Only;
use hivekeys::tui::view::{render, theme::Theme};
use hivekeys::{Environment, KeyQuery, NewKey, Status, Store};
use portable_pty::{CommandBuilder, PtySize, native_pty_system};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use rusqlite::OptionalExtension;
use serde_json::{Value, json};
use tui_input::InputRequest;

mod support;
use support::{cpu_model, cpus, target_dir};

const BIN: &str = env!("CARGO_BIN_EXE_hivekeys");
const WORKSPACE: &str = "default";
const DEFAULT_SIZES: [u64; 4] = [1_000, 10_000, 100_000, 1_000_000];
/// Keys whose secrets the benchmark keeps (the demo's are thrown away at once).
const KNOWN_VALID: usize = 1_000;
const KNOWN_REVOKED: usize = 100;
const VERIFY_CALLS: usize = 200_000;
const REPEATS: usize = 5;
const DEMO_RUNS: usize = 3;
const STARTS: usize = 5;
const ROWS: u16 = 40;
const COLS: u16 = 120;
const QUERY: &str = "billing worker";
const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

fn main() {
    let sizes = sizes();
    let dir = tempfile::tempdir().expect("temp dir");
    println!("hivekeys scale benchmark");
    println!("machine: {}, {} CPUs", cpu_model(), cpus());
    let demo_runs = if dashboard_only() { 1 } else { DEMO_RUNS };
    println!(
        "sizes: {sizes:?}; medians of {REPEATS} runs (demo: {demo_runs}, start-up: {STARTS})\n"
    );

    let mut results = Vec::new();
    for &keys in &sizes {
        println!("── {keys} keys ──");
        let result = measure(dir.path(), keys);
        results.push(result);
        println!();
    }
    print_table(&results);
    let json = json!({
        "machine": { "cpu": cpu_model(), "cpus": cpus() },
        "repeats": REPEATS,
        "verify_calls_per_run": VERIFY_CALLS,
        "results": results,
    });
    let out = target_dir().join("scale-bench.json");
    match std::fs::write(&out, serde_json::to_string_pretty(&json).unwrap()) {
        Ok(()) => println!("\nJSON: {}", out.display()),
        Err(e) => println!("\nJSON not written to {}: {e}", out.display()),
    }
}

/// `HIVEKEYS_SCALE_ONLY=dashboard` measures the dashboard alone (one demo fill, no verify or
/// list figures): what a change to the dashboard needs, in a fraction of the time.
fn dashboard_only() -> bool {
    std::env::var("HIVEKEYS_SCALE_ONLY").is_ok_and(|only| only.trim() == "dashboard")
}

fn measure(dir: &Path, keys: u64) -> Value {
    // Bulk: the real binary, as a user runs it. Each run builds a new file; the last is kept.
    let mut demo_times = Vec::new();
    let mut db = PathBuf::new();
    // A kept store (dashboard only): filled once, measured as often as wanted.
    let kept = std::env::var_os("HIVEKEYS_SCALE_KEEP")
        .filter(|_| dashboard_only())
        .map(|dir| PathBuf::from(dir).join(format!("scale-{keys}.db")));
    let demo_runs = match (dashboard_only(), &kept) {
        (true, Some(kept)) if kept.exists() => 0,
        (true, _) => 1,
        (false, _) => DEMO_RUNS,
    };
    if let Some(kept) = &kept {
        db = kept.clone();
    }
    for run in 0..demo_runs {
        if kept.is_none() {
            if !db.as_os_str().is_empty() {
                remove_store(&db);
            }
            db = dir.join(format!("scale-{keys}-{run}.db"));
        }
        let start = Instant::now();
        let status = Command::new(BIN)
            .arg("--db")
            .arg(&db)
            .args(["demo", "--keys", &keys.to_string(), "--seed", "7"])
            .stdout(Stdio::null())
            .status()
            .expect("run hivekeys demo");
        assert!(status.success(), "demo failed");
        demo_times.push(start.elapsed());
    }
    let demo_ms = match demo_times.is_empty() {
        true => f64::NAN,
        false => ms(median(&mut demo_times)),
    };
    let store_mb = std::fs::metadata(&db).map_or(0.0, |m| m.len() as f64 / 1e6);
    println!("  demo --keys {keys}: {demo_ms:.0} ms (store file {store_mb:.1} MB)");

    let (verify, list) = match dashboard_only() {
        true => (Value::Null, Value::Null),
        false => (measure_verify(&db), measure_list(&db)),
    };
    let startup = measure_startup(&db);
    let keystrokes = measure_keystrokes(&db);
    let result = json!({
        "keys": keys,
        "demo_ms": demo_ms,
        "store_mb": store_mb,
        "verify": verify,
        "list": list,
        "startup": startup,
        "keystrokes": keystrokes,
    });
    if kept.is_none() {
        remove_store(&db);
    }
    result
}

// ---------------------------------------------------------------------------------------------
// Verify and its floor
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Valid,
    Malformed,
    Unknown,
    Revoked,
}

fn measure_verify(db: &Path) -> Value {
    let mut store = Store::open(db).expect("open store");
    let mut valid = Vec::new();
    let mut revoked = Vec::new();
    for i in 0..KNOWN_VALID + KNOWN_REVOKED {
        let issued = store
            .create_key(
                WORKSPACE,
                NewKey::new(format!("scale bench {i}"), Environment::Production),
            )
            .expect("create");
        if i < KNOWN_VALID {
            valid.push(issued.secret.expose().to_owned());
        } else {
            store
                .revoke_key(WORKSPACE, &issued.record.id)
                .expect("revoke");
            revoked.push(issued.secret.expose().to_owned());
        }
    }
    let mut seeded = SeededEntropy::new(1234);
    let unknown: Vec<String> = (0..KNOWN_VALID)
        .map(|_| {
            Secret::generate(Environment::Production, &mut seeded)
                .unwrap()
                .expose()
                .to_owned()
        })
        .collect();
    let malformed: Vec<String> = valid
        .iter()
        .map(|k| {
            let mut bad = k.clone();
            let last = bad.pop().unwrap();
            bad.push(if last == '0' { '1' } else { '0' });
            bad
        })
        .collect();
    // The mix a gateway might see: mostly good keys, some junk, some probing, some stale.
    let mix: Vec<(Kind, &String)> = (0..VERIFY_CALLS)
        .map(|i| match i % 10 {
            0 => (Kind::Malformed, &malformed[i % malformed.len()]),
            1 => (Kind::Unknown, &unknown[i % unknown.len()]),
            2 => (Kind::Revoked, &revoked[i % revoked.len()]),
            _ => (Kind::Valid, &valid[(i * 7) % valid.len()]),
        })
        .collect();
    store.flush_usage().expect("flush");
    let before = usage_totals(db);
    let started_at = store.now().timestamp();

    // Unknown keys that share a real key's visible prefix (`fhk_prod_` and the first four
    // secret characters), with a valid checksum: they must cost what any unknown key costs.
    // Seeded: the same look-alike keys on every run.
    let mut rng = StdRng::seed_from_u64(99);
    let lookalikes: Vec<String> = valid
        .iter()
        .map(|real| {
            let mut key = real[..13].to_owned();
            while key.len() < 41 {
                key.push(BASE62[rng.random_range(0..BASE62.len())] as char);
            }
            let checksum = hivekeys::key::checksum_digits(key.as_bytes());
            key.push_str(std::str::from_utf8(&checksum).unwrap());
            key
        })
        .collect();

    let sequences: Vec<(&str, Vec<(Kind, &String)>)> = vec![
        ("mix", mix.clone()),
        ("valid", only(Kind::Valid, &valid)),
        ("malformed", only(Kind::Malformed, &malformed)),
        ("unknown", only(Kind::Unknown, &unknown)),
        ("lookalike", only(Kind::Unknown, &lookalikes)),
        ("revoked", only(Kind::Revoked, &revoked)),
    ];
    let keys_of = |seq: &[(Kind, &String)]| -> Vec<String> {
        seq.iter().map(|(_, key)| (*key).clone()).collect()
    };
    // The floor runs over the same sequences: every key of the mix hashed and looked up (it
    // has no checksum to reject malformed ones early), and the valid keys alone.
    let floor_mix_keys = keys_of(&sequences[0].1);
    let floor_valid_keys = keys_of(&sequences[1].1);
    let tuned = floor_connection(db, READER_PRAGMAS);
    let plain = floor_connection(db, "");
    // Warm both sides up once, then alternate them so that both see the same machine.
    floor_run(&tuned, &floor_valid_keys);
    floor_run(&plain, &floor_valid_keys);
    let mut valid_calls = 0u64;
    let mut verify_times: Vec<Vec<Duration>> = vec![Vec::new(); sequences.len()];
    let mut floor_times: [Vec<Duration>; 3] = Default::default();
    for _ in 0..REPEATS {
        for (times, (_, seq)) in verify_times.iter_mut().zip(&sequences) {
            let start = Instant::now();
            for (kind, key) in seq {
                let verdict = store.verify(key).expect("verify");
                debug_assert_eq!(
                    matches!(verdict, Verification::Valid(_)),
                    *kind == Kind::Valid
                );
                std::hint::black_box(verdict);
            }
            times.push(start.elapsed());
            valid_calls += seq.iter().filter(|(k, _)| *k == Kind::Valid).count() as u64;
        }
        floor_times[0].push(floor_run(&tuned, &floor_mix_keys));
        floor_times[1].push(floor_run(&tuned, &floor_valid_keys));
        floor_times[2].push(floor_run(&plain, &floor_valid_keys));
    }
    let per_call =
        |times: &mut Vec<Duration>, calls: usize| median(times).as_secs_f64() * 1e6 / calls as f64;
    let verify_us: Vec<f64> = verify_times
        .iter_mut()
        .zip(&sequences)
        .map(|(times, (_, seq))| per_call(times, seq.len()))
        .collect();
    let [
        mix_us,
        valid_us,
        malformed_us,
        unknown_us,
        lookalike_us,
        revoked_us,
    ] = verify_us[..]
    else {
        unreachable!()
    };
    let floor_mix_us = per_call(&mut floor_times[0], floor_mix_keys.len());
    let floor_valid_us = per_call(&mut floor_times[1], floor_valid_keys.len());
    let floor_valid_default_us = per_call(&mut floor_times[2], floor_valid_keys.len());
    drop((tuned, plain));

    store.flush_usage().expect("flush");
    drop(store);
    let after = usage_totals(db);
    let last_used_ok = last_used_all_at_least(db, started_at);
    let check = after.uses - before.uses == valid_calls
        && after.today - before.today == valid_calls
        && last_used_ok;
    let ratio_valid = floor_valid_us / valid_us;
    let ratio_mix = floor_mix_us / mix_us;
    println!(
        "  verify mix {mix_us:.2} µs ({:.0}/s), valid {valid_us:.2}, malformed {malformed_us:.3}, unknown {unknown_us:.2} (sharing a real key's prefix {lookalike_us:.2}), revoked {revoked_us:.2} µs",
        1e6 / mix_us
    );
    println!(
        "  floor mix {floor_mix_us:.2} µs, valid {floor_valid_us:.2} µs (SQLite defaults: {floor_valid_default_us:.2}); verify/floor (throughput) valid {ratio_valid:.2}, mix {ratio_mix:.2}"
    );
    println!(
        "  bookkeeping: uses +{}, today's count +{}, for {valid_calls} valid verifications; every verified key's last used ≥ run start: {last_used_ok} → {}",
        after.uses - before.uses,
        after.today - before.today,
        if check { "OK" } else { "MISMATCH" }
    );
    json!({
        "mix_us": mix_us, "mix_per_s": 1e6 / mix_us,
        "valid_us": valid_us, "malformed_us": malformed_us,
        "unknown_us": unknown_us, "unknown_sharing_prefix_us": lookalike_us,
        "revoked_us": revoked_us,
        "floor_mix_us": floor_mix_us, "floor_valid_us": floor_valid_us,
        "floor_valid_sqlite_defaults_us": floor_valid_default_us,
        "ratio_valid": ratio_valid, "ratio_mix": ratio_mix,
        "valid_verifications": valid_calls,
        "uses_added": after.uses - before.uses,
        "today_added": after.today - before.today,
        "bookkeeping_ok": check,
    })
}

/// `kind` keys only, as many as half a mixed run.
fn only(kind: Kind, keys: &[String]) -> Vec<(Kind, &String)> {
    (0..VERIFY_CALLS / 2)
        .map(|i| (kind, &keys[(i * 7) % keys.len()]))
        .collect()
}

/// A connection of its own for the floor, set up with `pragmas`.
fn floor_connection(db: &Path, pragmas: &str) -> rusqlite::Connection {
    let conn = rusqlite::Connection::open(db).expect("open");
    conn.execute_batch(pragmas).expect("pragmas");
    conn
}

/// SHA-256 + `SELECT key_id FROM secrets WHERE hash = ?` for each key, all in one read
/// transaction: the least a verification can cost against this file.
fn floor_run(conn: &rusqlite::Connection, keys: &[String]) -> Duration {
    let start = Instant::now();
    let tx = conn.unchecked_transaction().expect("begin");
    {
        let mut lookup = tx
            .prepare_cached("SELECT key_id FROM secrets WHERE hash = ?1")
            .expect("prepare");
        for key in keys {
            let hash = KeyHash::of(key);
            let found: Option<i64> = lookup
                .query_row([&hash.0[..]], |row| row.get(0))
                .optional()
                .expect("lookup");
            std::hint::black_box(found);
        }
    }
    tx.commit().expect("end");
    start.elapsed()
}

struct UsageTotals {
    uses: u64,
    today: u64,
}

/// Use counts of the benchmark's keys, read straight from the file.
fn usage_totals(db: &Path) -> UsageTotals {
    let conn = rusqlite::Connection::open(db).expect("open");
    let uses: i64 = conn
        .query_row(
            "SELECT coalesce(sum(use_count), 0) FROM keys WHERE name LIKE 'scale bench %'",
            [],
            |row| row.get(0),
        )
        .expect("uses");
    let today: i64 = conn
        .query_row(
            "SELECT coalesce(sum(u.count), 0) FROM key_usage u JOIN keys k ON k.id = u.key_id \
             WHERE k.name LIKE 'scale bench %' AND u.day = unixepoch() / 86400",
            [],
            |row| row.get(0),
        )
        .expect("today");
    UsageTotals {
        uses: uses as u64,
        today: today as u64,
    }
}

/// Every valid benchmark key was used during the run: its last-used time is not older.
fn last_used_all_at_least(db: &Path, since: i64) -> bool {
    let conn = rusqlite::Connection::open(db).expect("open");
    let stale: i64 = conn
        .query_row(
            "SELECT count(*) FROM keys WHERE name LIKE 'scale bench %' AND revoked_at IS NULL \
             AND (last_used_at IS NULL OR last_used_at < ?1)",
            [since],
            |row| row.get(0),
        )
        .expect("last used");
    stale == 0
}

// ---------------------------------------------------------------------------------------------
// List and search through the store
// ---------------------------------------------------------------------------------------------

fn measure_list(db: &Path) -> Value {
    let store = Store::open(db).expect("open");
    let search = |text: &str| KeyQuery {
        search: Some(text.to_owned()),
        ..KeyQuery::default()
    };
    let queries = [
        ("list_all", KeyQuery::default()),
        (
            "first_page",
            KeyQuery {
                limit: Some(50),
                ..KeyQuery::default()
            },
        ),
        ("search_billing", search("billing")),
        (
            "env_and_status",
            KeyQuery {
                environment: Some(Environment::Staging),
                status: Some(Status::Revoked),
                ..KeyQuery::default()
            },
        ),
    ];
    let mut out = serde_json::Map::new();
    let mut line = String::from("  list/search:");
    for (label, query) in queries {
        let mut times = Vec::new();
        for _ in 0..REPEATS {
            let start = Instant::now();
            std::hint::black_box(store.list_keys(WORKSPACE, &query).expect("list"));
            times.push(start.elapsed());
        }
        let took = ms(median(&mut times));
        line.push_str(&format!(" {label} {took:.2} ms,"));
        out.insert(format!("{label}_ms"), json!(took));
    }
    println!("{}", line.trim_end_matches(','));
    Value::Object(out)
}

// ---------------------------------------------------------------------------------------------
// Dashboard start-up and memory: the real binary in a pseudo-terminal
// ---------------------------------------------------------------------------------------------

fn measure_startup(db: &Path) -> Value {
    let total = {
        let store = Store::open(db).expect("open");
        let all = store.count_keys(WORKSPACE, &KeyQuery::default()).unwrap();
        all - u64::from(store.default_key(WORKSPACE).unwrap().is_some())
    };
    let mut first_frames = Vec::new();
    let mut loaded = Vec::new();
    let mut peak_rss = Vec::new();
    for _ in 0..STARTS {
        let run = run_dashboard(db, total);
        first_frames.push(run.first_frame);
        loaded.push(run.loaded);
        peak_rss.push(run.peak_rss_kb);
    }
    peak_rss.sort();
    let rss_mb = peak_rss[peak_rss.len() / 2] as f64 / 1024.0;

    // In-process: the same work without process start and terminal, into TestBackend.
    let mut background_first = Vec::new();
    let mut inline_full = Vec::new();
    for _ in 0..STARTS {
        let start = Instant::now();
        let app = App::new_in_background(
            Store::open(db).expect("open"),
            WORKSPACE,
            Box::new(Osc52Only::default()),
        );
        draw(&app, &mut test_terminal());
        background_first.push(start.elapsed());
        drop(app);
        let start = Instant::now();
        let app = App::new(
            Store::open(db).expect("open"),
            WORKSPACE,
            Box::new(Osc52Only::default()),
        );
        draw(&app, &mut test_terminal());
        inline_full.push(start.elapsed());
    }
    let first_ms = ms(median(&mut first_frames));
    let loaded_ms = ms(median(&mut loaded));
    let in_first_ms = ms(median(&mut background_first));
    let in_full_ms = ms(median(&mut inline_full));
    let rss_goal = match total >= 1_000_000 {
        true => format!(
            " (goal ≤ {RSS_GOAL_MB} MB: {})",
            if rss_mb <= RSS_GOAL_MB { "ok" } else { "OVER" }
        ),
        false => String::new(),
    };
    println!(
        "  dashboard (pty): first frame {first_ms:.1} ms, whole list loaded {loaded_ms:.1} ms, peak RSS {rss_mb:.1} MB{rss_goal}; in-process: first frame {in_first_ms:.1} ms, inline full load + frame {in_full_ms:.1} ms"
    );
    json!({
        "pty_first_frame_ms": first_ms,
        "pty_list_loaded_ms": loaded_ms,
        "peak_rss_mb": rss_mb,
        "in_process_first_frame_ms": in_first_ms,
        "in_process_full_load_and_frame_ms": in_full_ms,
    })
}

struct DashboardRun {
    first_frame: Duration,
    loaded: Duration,
    peak_rss_kb: u64,
}

/// Starts the dashboard in a pty, times the first complete frame and the loaded list, types
/// a search, reads the peak RSS, quits.
fn run_dashboard(db: &Path, total: u64) -> DashboardRun {
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
    let start = Instant::now();
    let mut child = pair.slave.spawn_command(command).expect("spawn");
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
    let mut writer = pair.master.take_writer().expect("writer");
    let screen = || parser.lock().unwrap().screen().contents();
    let wait = |what: &str, ok: &dyn Fn(&str) -> bool| -> Duration {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let now = screen();
            if ok(&now) {
                return start.elapsed();
            }
            assert!(Instant::now() < deadline, "no {what}:\n{now}");
            std::thread::sleep(Duration::from_micros(500));
        }
    };
    // Complete: the count at the top of the table and the footer, drawn last, both there.
    let count = format!(" of {total} keys");
    let first_frame = wait("first frame", &|s| {
        s.contains(&count) && s.contains("q quit")
    });
    let full = format!("{total} of {total} keys");
    let loaded = wait("loaded list", &|s| {
        s.contains(&full) && !s.contains("loading")
    });
    writer.write_all(b"/billing").unwrap();
    writer.flush().unwrap();
    wait("search", &|s| s.contains("billing") && !s.contains(&full));
    let peak_rss_kb = peak_rss_kb(pid);
    // Esc and q apart: sent together they would read as Alt-q.
    writer.write_all(b"\x1b").unwrap();
    writer.flush().unwrap();
    wait("cleared search", &|s| s.contains(&full));
    writer.write_all(b"q").unwrap();
    writer.flush().unwrap();
    let _ = child.wait();
    DashboardRun {
        first_frame,
        loaded,
        peak_rss_kb,
    }
}

fn peak_rss_kb(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse().ok())
        })
        .unwrap_or(0)
}

// ---------------------------------------------------------------------------------------------
// Keystrokes: update + draw, in-process
// ---------------------------------------------------------------------------------------------

/// The keystroke kinds measured, each against the goal it has at the size measured.
const KEYSTROKE_KINDS: [&str; 7] = [
    "type",
    "delete",
    "move",
    "environment",
    "status",
    "usage",
    "sort",
];

/// A keystroke's p99 goal (update + draw): 5 ms up to 100,000 keys, 16 ms (a frame at 60 Hz)
/// up to a million.
fn keystroke_goal_ms(keys: u64) -> f64 {
    if keys <= 100_000 { 5.0 } else { 16.0 }
}

/// The dashboard's peak RSS goal at a million keys.
const RSS_GOAL_MB: f64 = 150.0;

fn measure_keystrokes(db: &Path) -> Value {
    let mut times: Vec<Vec<Duration>> = vec![Vec::new(); KEYSTROKE_KINDS.len()];
    // Each typed character's times, to tell which keystroke is the slow one.
    let mut per_char: Vec<Vec<Duration>> = vec![Vec::new(); QUERY.chars().count()];
    let keys_in_store = Store::open(db)
        .expect("open")
        .count_keys(WORKSPACE, &KeyQuery::default())
        .unwrap();
    for _ in 0..REPEATS {
        // A fresh dashboard each time: the first `o` after a load is measured every run.
        let mut app = App::new(
            Store::open(db).expect("open"),
            WORKSPACE,
            Box::new(Osc52Only::default()),
        );
        let mut terminal = test_terminal();
        draw(&app, &mut terminal);
        let mut key = |app: &mut App, kind: usize, action: Action| {
            let start = Instant::now();
            app.update(action);
            draw(app, &mut terminal);
            let took = start.elapsed();
            times[kind].push(took);
            took
        };
        // A whole cycle of the sort first, before anything else has touched the list.
        for _ in 0..SortBy::ALL.len() {
            key(&mut app, 6, Action::CycleSort);
        }
        app.update(Action::StartSearch);
        for (n, c) in QUERY.chars().enumerate() {
            per_char[n].push(key(&mut app, 0, Action::Edit(InputRequest::InsertChar(c))));
        }
        for _ in QUERY.chars() {
            key(&mut app, 1, Action::Edit(InputRequest::DeletePrevChar));
        }
        app.update(Action::KeepSearch);
        for _ in 0..20 {
            key(&mut app, 2, Action::Move(Movement::Down));
            key(&mut app, 2, Action::Move(Movement::PageDown));
        }
        key(&mut app, 2, Action::Move(Movement::Bottom));
        key(&mut app, 2, Action::Move(Movement::Top));
        for _ in 0..4 {
            key(&mut app, 3, Action::CycleEnvironmentFilter);
        }
        for _ in 0..4 {
            key(&mut app, 4, Action::CycleStatusFilter);
        }
        for _ in 0..4 {
            key(&mut app, 5, Action::CycleUsageFilter);
        }
        // Sorting and filtering together: each order under a filter, then the filter off.
        key(&mut app, 3, Action::CycleEnvironmentFilter);
        for _ in 0..SortBy::ALL.len() {
            key(&mut app, 6, Action::CycleSort);
        }
        for _ in 0..3 {
            key(&mut app, 3, Action::CycleEnvironmentFilter);
        }
        drop(app);
    }
    let slowest: Vec<String> = QUERY
        .chars()
        .zip(&per_char)
        .map(|(c, t)| format!("{c:?} {:.1}", ms(*t.iter().max().expect("timed"))))
        .collect();
    println!(
        "  typing, slowest per character (ms): {}",
        slowest.join(", ")
    );
    let goal = keystroke_goal_ms(keys_in_store);
    let mut out = serde_json::Map::new();
    let mut line = format!("  keystroke (update + draw), median / p99 ms, goal p99 ≤ {goal} ms:");
    for (kind, samples) in KEYSTROKE_KINDS.iter().zip(&mut times) {
        if samples.is_empty() {
            continue;
        }
        let (median, p99) = median_p99(samples);
        let verdict = if p99 <= goal { "ok" } else { "OVER" };
        line.push_str(&format!(" {kind} {median:.2} / {p99:.2} {verdict},"));
        out.insert(format!("{kind}_median_ms"), json!(median));
        out.insert(format!("{kind}_p99_ms"), json!(p99));
        out.insert(format!("{kind}_samples"), json!(samples.len()));
    }
    out.insert("goal_p99_ms".into(), json!(goal));
    println!("{}", line.trim_end_matches(','));
    Value::Object(out)
}

fn test_terminal() -> Terminal<TestBackend> {
    Terminal::new(TestBackend::new(COLS, ROWS)).expect("terminal")
}

fn draw(app: &App, terminal: &mut Terminal<TestBackend>) {
    terminal
        .draw(|frame| render(app, frame, &Theme::PLAIN))
        .expect("draw");
}

// ---------------------------------------------------------------------------------------------
// Reporting
// ---------------------------------------------------------------------------------------------

fn print_table(results: &[Value]) {
    let mut rows: Vec<(String, &str, String)> = [
        ("demo --keys N (ms)", "", "demo_ms"),
        ("verify mix (µs/call)", "verify", "mix_us"),
        ("verify mix (calls/s)", "verify", "mix_per_s"),
        ("verify valid (µs)", "verify", "valid_us"),
        ("floor valid (µs)", "verify", "floor_valid_us"),
        ("verify/floor, valid", "verify", "ratio_valid"),
        ("verify/floor, mix", "verify", "ratio_mix"),
        ("list all (ms)", "list", "list_all_ms"),
        ("search \"billing\" (ms)", "list", "search_billing_ms"),
        (
            "start-up, pty first frame (ms)",
            "startup",
            "pty_first_frame_ms",
        ),
        (
            "start-up, list loaded (ms)",
            "startup",
            "pty_list_loaded_ms",
        ),
        ("peak RSS (MB)", "startup", "peak_rss_mb"),
    ]
    .into_iter()
    .map(|(label, group, field)| (label.to_owned(), group, field.to_owned()))
    .collect();
    for kind in KEYSTROKE_KINDS {
        for stat in ["median", "p99"] {
            rows.push((
                format!("key {kind}, {stat} (ms)"),
                "keystrokes",
                format!("{kind}_{stat}_ms"),
            ));
        }
    }
    rows.push((
        "keystroke goal, p99 (ms)".into(),
        "keystrokes",
        "goal_p99_ms".into(),
    ));
    print!("{:<32}", "keys");
    for r in results {
        print!("{:>13}", r["keys"].as_u64().unwrap_or(0));
    }
    println!();
    for (label, group, field) in rows {
        let field = field.as_str();
        let present = results.iter().any(|r| match group.is_empty() {
            true => !r[field].is_null(),
            false => !r[group][field].is_null(),
        });
        if !present {
            continue;
        }
        print!("{label:<32}");
        for r in results {
            let value = if group.is_empty() {
                &r[field]
            } else {
                &r[group][field]
            };
            let v = value.as_f64().unwrap_or(f64::NAN);
            let text = if v >= 1000.0 {
                format!("{v:.0}")
            } else {
                format!("{v:.2}")
            };
            print!("{text:>13}");
        }
        println!();
    }
    let checks: Vec<String> = results
        .iter()
        .map(|r| {
            format!(
                "{}: {}",
                r["keys"],
                if r["verify"].is_null() {
                    "not measured"
                } else if r["verify"]["bookkeeping_ok"] == json!(true) {
                    "OK"
                } else {
                    "MISMATCH"
                }
            )
        })
        .collect();
    println!(
        "bookkeeping check (uses, per-day counts, last used): {}",
        checks.join(", ")
    );
}

fn sizes() -> Vec<u64> {
    std::env::var("HIVEKEYS_SCALE_SIZES")
        .ok()
        .map(|list| {
            list.split(',')
                .filter_map(|n| n.trim().replace('_', "").parse().ok())
                .collect::<Vec<u64>>()
        })
        .filter(|sizes| !sizes.is_empty())
        .unwrap_or_else(|| DEFAULT_SIZES.to_vec())
}

fn median(times: &mut [Duration]) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn median_p99(times: &mut [Duration]) -> (f64, f64) {
    times.sort();
    let at = |q: f64| ms(times[((times.len() - 1) as f64 * q).round() as usize]);
    (at(0.5), at(0.99))
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn remove_store(db: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let mut path = db.as_os_str().to_owned();
        path.push(suffix);
        let _ = std::fs::remove_file(path);
    }
}
