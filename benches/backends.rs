//! The two backends side by side: `cargo bench --bench backends`.
//!
//! In one run, on an SQLite file and on a database of a throw-away PostgreSQL cluster that
//! the run starts on loopback (the tests' harness, `tests/common/postgres.rs`), it measures:
//!
//! - **demo**: `hivekeys demo --keys N` (the real binary, whole process; N from
//!   `HIVEKEYS_BACKEND_KEYS`, default 100,000) and `hivekeys list --json` over the result;
//! - **verify, remembered**: `Store::verify` of 1,000 valid keys over and over (what a gateway
//!   does all day: a digest and a hash-map lookup once a key was seen);
//! - **verify, cold**: each of those keys verified once by a store that has never seen it (one
//!   lookup in the database), and unknown keys (a lookup every time: nothing is remembered);
//! - beside them the **floor** of each backend in the same run: SHA-256 of the key and one
//!   `SELECT key_id FROM secrets WHERE hash = …` on a plain connection.
//!
//! Figures are medians of several repeats, per call. Nothing here asserts a time.

#[path = "../tests/common/postgres.rs"]
mod pg;
mod support;

use std::process::{Command, Stdio};
use std::time::Instant;

use hivekeys::entropy::SeededEntropy;
use hivekeys::key::{KeyHash, Secret};
use hivekeys::store::{Location, Verification};
use hivekeys::{Environment, NewKey, Store};
use rusqlite::OptionalExtension;
use support::{cpu_model, cpus};

const BIN: &str = env!("CARGO_BIN_EXE_hivekeys");
const KNOWN: usize = 1_000;
const REMEMBERED_CALLS: usize = 200_000;
const REPEATS: usize = 5;

fn main() {
    let keys: u64 = std::env::var("HIVEKEYS_BACKEND_KEYS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(100_000);
    println!("hivekeys backends benchmark: SQLite and PostgreSQL, same run");
    println!("machine: {}, {} CPUs", cpu_model(), cpus());
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!("load average at start: {}", load.trim());
    println!("demo of {keys} keys; verify medians of {REPEATS} runs, µs per call\n");

    let dir = tempfile::tempdir().unwrap();
    let sqlite = dir.path().join("bench.db");
    let backends = [
        ("SQLite", sqlite.to_string_lossy().into_owned()),
        ("PostgreSQL", pg::database()),
    ];
    let mut rows = Vec::new();
    for (name, db) in &backends {
        println!("── {name} ──");
        rows.push((*name, measure(db, keys)));
        println!();
    }
    println!(
        "{:<11} {:>9} {:>8} {:>11} {:>9} {:>9} {:>9}",
        "backend", "demo s", "list s", "remembered", "cold", "unknown", "floor"
    );
    for (name, r) in &rows {
        println!(
            "{:<11} {:>9.1} {:>8.2} {:>11.2} {:>9.1} {:>9.1} {:>9.1}",
            name, r.demo_s, r.list_s, r.remembered_us, r.cold_us, r.unknown_us, r.floor_us
        );
    }
}

struct Figures {
    demo_s: f64,
    list_s: f64,
    remembered_us: f64,
    cold_us: f64,
    unknown_us: f64,
    floor_us: f64,
}

fn measure(db: &str, keys: u64) -> Figures {
    let demo_s = timed(|| run(db, &["demo", "--keys", &keys.to_string(), "--seed", "7"]));
    println!("  demo --keys {keys}: {demo_s:.1} s");
    let list_s = median_of(3, || timed(|| run(db, &["list", "--json"])));
    println!("  list --json: {list_s:.2} s");

    let location = Location::parse(db.as_ref()).unwrap();
    let mut store = Store::open(&location).unwrap();
    let valid: Vec<String> = (0..KNOWN)
        .map(|i| {
            store
                .create_key(
                    "bench",
                    NewKey::new(format!("bench {i}"), Environment::Production),
                )
                .unwrap()
                .secret
                .expose()
                .to_owned()
        })
        .collect();
    let mut seeded = SeededEntropy::new(99);
    let unknown: Vec<String> = (0..KNOWN)
        .map(|_| {
            let secret = Secret::generate(Environment::Production, &mut seeded).unwrap();
            secret.expose().to_owned()
        })
        .collect();

    let verify_all = |store: &mut Store, keys: &[String], calls: usize| {
        let start = Instant::now();
        for i in 0..calls {
            let verdict = store.verify(&keys[i % keys.len()]).unwrap();
            std::hint::black_box(matches!(verdict, Verification::Valid(_)));
        }
        start.elapsed().as_secs_f64() * 1e6 / calls as f64
    };
    // Remembered: after one pass, every key is in memory.
    verify_all(&mut store, &valid, KNOWN);
    let remembered_us = median_of(REPEATS, || verify_all(&mut store, &valid, REMEMBERED_CALLS));
    println!("  verify, remembered: {remembered_us:.2} µs");
    // Cold: a store that has seen none of them.
    let cold_us = median_of(REPEATS, || {
        let mut fresh = Store::open(&location).unwrap();
        verify_all(&mut fresh, &valid, KNOWN)
    });
    println!("  verify, cold (one database lookup): {cold_us:.1} µs");
    let unknown_us = median_of(REPEATS, || verify_all(&mut store, &unknown, KNOWN));
    println!("  verify, unknown key: {unknown_us:.1} µs");
    let floor_us = median_of(REPEATS, || floor(db, &valid));
    println!("  floor (SHA-256 + one SELECT by digest): {floor_us:.1} µs");
    store.flush_usage().unwrap();
    Figures {
        demo_s,
        list_s,
        remembered_us,
        cold_us,
        unknown_us,
        floor_us,
    }
}

/// SHA-256 and one lookup by digest per key on a plain connection, µs per key.
fn floor(db: &str, keys: &[String]) -> f64 {
    let start;
    if db.starts_with("postgres") {
        let mut client = postgres::Client::connect(db, postgres::NoTls).unwrap();
        let lookup = client
            .prepare("SELECT key_id FROM hivekeys.secrets WHERE hash = $1")
            .unwrap();
        start = Instant::now();
        for key in keys {
            let hash = KeyHash::of(key);
            let found = client.query_opt(&lookup, &[&&hash.0[..]]).unwrap();
            std::hint::black_box(found.map(|row| row.get::<_, i64>(0)));
        }
    } else {
        let conn = rusqlite::Connection::open(db).unwrap();
        let mut lookup = conn
            .prepare("SELECT key_id FROM secrets WHERE hash = ?1")
            .unwrap();
        start = Instant::now();
        for key in keys {
            let hash = KeyHash::of(key);
            let found: Option<i64> = lookup
                .query_row([&hash.0[..]], |row| row.get(0))
                .optional()
                .unwrap();
            std::hint::black_box(found);
        }
    }
    start.elapsed().as_secs_f64() * 1e6 / keys.len() as f64
}

fn run(db: &str, args: &[&str]) {
    let status = Command::new(BIN)
        .arg("--db")
        .arg(db)
        .args(args)
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "hivekeys {args:?} failed");
}

fn timed(work: impl FnOnce()) -> f64 {
    let start = Instant::now();
    work();
    start.elapsed().as_secs_f64()
}

fn median_of(runs: usize, mut measure: impl FnMut() -> f64) -> f64 {
    let mut all: Vec<f64> = (0..runs).map(|_| measure()).collect();
    all.sort_by(f64::total_cmp);
    all[all.len() / 2]
}
