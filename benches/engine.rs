//! The key engine at scale: `cargo bench --bench engine`.
//!
//! Builds a 100,000-key store with the real binary's `demo`, then measures verification
//! throughput through the library call a gateway would make (valid, malformed, unknown and
//! revoked keys), the floor under it (SHA-256 + one indexed lookup), and list/search times.
//! Prints medians over several repeats; asserts nothing about time.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use hivekeys::entropy::SeededEntropy;
use hivekeys::key::{KeyHash, Secret};
use hivekeys::store::{KeyQuery, Verification};
use hivekeys::{Environment, NewKey, Status, Store};
use rusqlite::OptionalExtension;

const KEYS: u64 = 100_000;
const KNOWN: usize = 1_000;
const REPEATS: usize = 5;
const VERIFY_CALLS: usize = 100_000;
const WORKSPACE: &str = "default";

fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    println!("hivekeys engine benchmark — {}", cpu_model());
    println!("store: {KEYS} demo keys; medians of {REPEATS} runs\n");

    // Bulk: the real binary, as a user would run it.
    let mut demo_times = Vec::new();
    let mut db = dir.path().join("bench-0.db");
    for run in 0..3 {
        db = dir.path().join(format!("bench-{run}.db"));
        let start = Instant::now();
        let status = Command::new(env!("CARGO_BIN_EXE_hivekeys"))
            .args([
                "--db",
                db.to_str().unwrap(),
                "demo",
                "--keys",
                &KEYS.to_string(),
            ])
            .args(["--seed", "7"])
            .stdout(std::process::Stdio::null())
            .status()
            .expect("run hivekeys demo");
        assert!(status.success(), "demo failed");
        demo_times.push(start.elapsed());
    }
    report("demo --keys 100000 (whole process)", &mut demo_times, None);
    let size = std::fs::metadata(&db).map(|m| m.len()).unwrap_or(0);
    println!("    store file: {:.1} MB", size as f64 / 1e6);

    let mut store = Store::open(&db).expect("open store");
    let (valid, revoked) = known_keys(&mut store);
    let mut seeded = SeededEntropy::new(1234);
    let unknown: Vec<String> = (0..KNOWN)
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
            bad.pop();
            bad.push(if k.ends_with('0') { '1' } else { '0' });
            bad
        })
        .collect();
    let before = total_uses(&store);

    println!("\nverify, {VERIFY_CALLS} calls per run, single thread:");
    let mut valid_calls = 0u64;
    let valid_rate = verify_rate(&mut store, &valid, "valid", Some(&mut valid_calls));
    verify_rate(&mut store, &malformed, "malformed (bad checksum)", None);
    verify_rate(&mut store, &unknown, "well-formed, unknown", None);
    verify_rate(&mut store, &revoked, "revoked", None);
    let floor_rate = floor(&db, &valid);
    println!("    verify(valid) / floor = {:.2}", valid_rate / floor_rate);
    store.flush_usage().expect("flush");
    let after = total_uses(&store);
    println!(
        "    bookkeeping check: use counts grew by {} for {} valid verifications: {}",
        after - before,
        valid_calls,
        if after - before == valid_calls {
            "OK"
        } else {
            "MISMATCH"
        }
    );

    println!(
        "\nlist and search over {} keys:",
        store.count_keys(WORKSPACE, &KeyQuery::default()).unwrap()
    );
    let queries: [(&str, KeyQuery); 6] = [
        ("list all", KeyQuery::default()),
        (
            "list first page (50)",
            KeyQuery {
                limit: Some(50),
                ..KeyQuery::default()
            },
        ),
        ("search \"billing\"", search("billing")),
        ("search \"東京\"", search("東京")),
        (
            "search a masked-key fragment",
            search(&valid[0][9..13].to_lowercase()),
        ),
        (
            "env=staging, status=revoked",
            KeyQuery {
                environment: Some(Environment::Staging),
                status: Some(Status::Revoked),
                ..KeyQuery::default()
            },
        ),
    ];
    for (label, query) in queries {
        let mut times = Vec::new();
        let mut rows = 0;
        for _ in 0..REPEATS {
            let start = Instant::now();
            rows = store.list_keys(WORKSPACE, &query).unwrap().len();
            times.push(start.elapsed());
        }
        report(&format!("{label} → {rows} rows"), &mut times, None);
    }
    let mut times = Vec::new();
    for _ in 0..REPEATS {
        let start = Instant::now();
        store.count_keys(WORKSPACE, &search("billing")).unwrap();
        times.push(start.elapsed());
    }
    report("count search \"billing\"", &mut times, None);
}

fn search(text: &str) -> KeyQuery {
    KeyQuery {
        search: Some(text.to_owned()),
        ..KeyQuery::default()
    }
}

/// Creates keys whose secrets the benchmark keeps: the demo's are thrown away at once.
fn known_keys(store: &mut Store) -> (Vec<String>, Vec<String>) {
    let start = Instant::now();
    let mut valid = Vec::new();
    let mut revoked = Vec::new();
    for i in 0..KNOWN + KNOWN / 10 {
        let issued = store
            .create_key(
                WORKSPACE,
                NewKey::new(format!("bench key {i}"), Environment::Production),
            )
            .expect("create");
        if i < KNOWN {
            valid.push(issued.secret.expose().to_owned());
        } else {
            store
                .revoke_key(WORKSPACE, &issued.record.id)
                .expect("revoke");
            revoked.push(issued.secret.expose().to_owned());
        }
    }
    println!(
        "\ncreate_key, one transaction each (synchronous=FULL): {:.2} ms per key",
        start.elapsed().as_secs_f64() * 1e3 / (KNOWN + KNOWN / 10) as f64
    );
    (valid, revoked)
}

fn verify_rate(store: &mut Store, keys: &[String], label: &str, calls: Option<&mut u64>) -> f64 {
    let expect_valid = calls.is_some();
    let mut times = Vec::new();
    for _ in 0..REPEATS {
        let start = Instant::now();
        for i in 0..VERIFY_CALLS {
            let verdict = store.verify(&keys[i % keys.len()]).expect("verify");
            debug_assert_eq!(matches!(verdict, Verification::Valid(_)), expect_valid);
            std::hint::black_box(verdict);
        }
        times.push(start.elapsed());
    }
    if let Some(calls) = calls {
        *calls = (REPEATS * VERIFY_CALLS) as u64;
    }
    report(&format!("verify {label}"), &mut times, Some(VERIFY_CALLS))
}

/// SHA-256 of the key and one `SELECT … WHERE hash = ?` in a read transaction: the least a
/// verification can cost against this store.
fn floor(db: &Path, keys: &[String]) -> f64 {
    let conn = rusqlite::Connection::open(db).expect("open");
    let mut times = Vec::new();
    for _ in 0..REPEATS {
        let start = Instant::now();
        let tx = conn.unchecked_transaction().expect("begin");
        {
            let mut lookup = tx
                .prepare_cached("SELECT key_id FROM secrets WHERE hash = ?1")
                .expect("prepare");
            for i in 0..VERIFY_CALLS {
                let hash = KeyHash::of(&keys[i % keys.len()]);
                let found: Option<i64> = lookup
                    .query_row([&hash.0[..]], |row| row.get(0))
                    .optional()
                    .expect("lookup");
                std::hint::black_box(found);
            }
        }
        tx.commit().expect("end");
        times.push(start.elapsed());
    }
    report(
        "floor: SHA-256 + indexed SELECT",
        &mut times,
        Some(VERIFY_CALLS),
    )
}

fn total_uses(store: &Store) -> u64 {
    store
        .list_keys(WORKSPACE, &search("bench key"))
        .unwrap()
        .iter()
        .map(|k| k.use_count)
        .sum()
}

/// Prints the median (and per-operation rate when `ops` is given); returns operations per
/// second, or 0.
fn report(label: &str, times: &mut [Duration], ops: Option<usize>) -> f64 {
    times.sort();
    let median = times[times.len() / 2];
    match ops {
        Some(ops) => {
            let rate = ops as f64 / median.as_secs_f64();
            println!(
                "  {label:<44} {:>10.0} /s   ({:.2} µs each)",
                rate,
                median.as_secs_f64() * 1e6 / ops as f64
            );
            rate
        }
        None => {
            println!("  {label:<44} {:>10.2} ms", median.as_secs_f64() * 1e3);
            0.0
        }
    }
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into())
}
