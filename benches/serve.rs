//! `hivekeys serve` under load: `cargo bench --bench serve`.
//!
//! On a store of 100,000 demo keys (or `HIVEKEYS_BENCH_KEYS`), on SQLite and on PostgreSQL (a
//! throw-away cluster on loopback) in the same run (`HIVEKEYS_BENCH_BACKENDS=sqlite` or
//! `postgres` for one), `wrk` (Debian package `wrk`)
//! drives `GET /v1/auth` over 1, 16 and 256 keep-alive connections, 3 s each, with a valid key,
//! with an unknown (well-formed) key — the 401 path — and with a mix (a Lua script cycling
//! through valid, unknown and revoked keys). Beside each figure, the floor measured in the same
//! run: `examples/floor_server.rs`, the same runtime and hyper settings answering 200 without
//! work, driven the same way. Goal: at least 0.8× the floor's requests per second, p99 at most
//! 1 ms at 16 connections. Then 16 connections again with the server pinned to CPU 0 and wrk
//! to CPU 1 (`taskset`), floor included.
//!
//! Each case runs 3 rounds (`HIVEKEYS_BENCH_ROUNDS`), the floor first in one round and last in
//! the next; figures are medians, and the ratio to the floor is the median of each round's
//! ratio to that round's floor. On a machine shared with builds, one pair of runs could be
//! off by a factor of two either way; the load average is printed at the start and the end.
//! Printed, and written as JSON to `target/serve-bench.json`.
//!
//! wrk and both servers share the machine: the floor carries the same handicap. Nothing here
//! asserts a time.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use hivekeys::entropy::SeededEntropy;
use hivekeys::key::Secret;
use hivekeys::store::Location;
use hivekeys::{Environment, NewKey, Store};
use serde_json::{Value, json};

#[path = "../tests/common/postgres.rs"]
mod pg;
mod support;
use support::{cpu_model, cpus, listening_address, load_average, target_dir};

const BIN: &str = env!("CARGO_BIN_EXE_hivekeys");
const WORKSPACE: &str = "default";
const DEFAULT_KEYS: u64 = 100_000;
const CONNECTIONS: [u32; 3] = [1, 16, 256];
const DURATION: &str = "3s";
/// Rounds per case unless `HIVEKEYS_BENCH_ROUNDS` says otherwise.
const DEFAULT_ROUNDS: usize = 3;
/// Keys of each kind the mix cycles through.
const MIX_EACH: usize = 8;

fn main() {
    if Command::new("wrk")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_err()
    {
        println!("wrk is not installed (Debian: apt-get install wrk): nothing measured");
        return;
    }
    let keys = std::env::var("HIVEKEYS_BENCH_KEYS")
        .ok()
        .and_then(|n| n.replace('_', "").parse().ok())
        .unwrap_or(DEFAULT_KEYS);
    let dir = tempfile::tempdir().expect("temp dir");
    println!("hivekeys serve benchmark (wrk, GET /v1/auth, {DURATION} per run)");
    println!("machine: {}, {} CPUs", cpu_model(), cpus());
    // Both backends in the same run unless `HIVEKEYS_BENCH_BACKENDS` names one
    // (`sqlite` or `postgres`); PostgreSQL is a throw-away cluster on loopback.
    let wanted = std::env::var("HIVEKEYS_BENCH_BACKENDS").unwrap_or_default();
    let wants = |name: &str| wanted.is_empty() || wanted.contains(name);
    let mut backends: Vec<(&str, PathBuf)> = Vec::new();
    if wants("sqlite") {
        backends.push(("SQLite", dir.path().join("serve.db")));
    }
    if wants("postgres") {
        backends.push(("PostgreSQL", PathBuf::from(pg::database())));
    }
    let floor_exe = build_floor_server();
    let rounds: usize = std::env::var("HIVEKEYS_BENCH_ROUNDS")
        .ok()
        .and_then(|n| n.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(DEFAULT_ROUNDS);
    let mut all = Vec::new();
    for (backend, db) in &backends {
        println!("\n════ {backend} ════");
        let results = bench_store(db, keys, dir.path(), &floor_exe, rounds);
        all.push(json!({ "backend": backend, "results": results }));
    }
    println!("load average at the end: {}", load_average());
    println!("goal: ≥ 0.8× the floor's requests/s; p99 ≤ 1 ms at 16 connections");
    let json = json!({
        "machine": { "cpu": cpu_model(), "cpus": cpus() },
        "keys": keys,
        "duration": DURATION,
        "rounds": rounds,
        "backends": all,
        "goal": { "ratio_to_floor": 0.8, "p99_ms_at_16": 1.0 },
    });
    let out = target_dir().join("serve-bench.json");
    match std::fs::write(&out, serde_json::to_string_pretty(&json).unwrap()) {
        Ok(()) => println!("\nJSON: {}", out.display()),
        Err(e) => println!("\nJSON not written to {}: {e}", out.display()),
    }
}

/// Every case on the store at `db` (a file or a PostgreSQL URL), filled with `keys` demo
/// keys first; one JSON row per case.
fn bench_store(db: &Path, keys: u64, dir: &Path, floor_exe: &Path, rounds: usize) -> Vec<Value> {
    println!("store: {keys} demo keys (hivekeys demo --keys {keys} --seed 7)\n");
    let demo = Command::new(BIN)
        .arg("--db")
        .arg(db)
        .args(["demo", "--keys", &keys.to_string(), "--seed", "7"])
        .stdout(Stdio::null())
        .status()
        .expect("run hivekeys demo");
    assert!(demo.success(), "demo failed");
    let valid = create_key(db, "serve bench");

    // The mix: valid, unknown and revoked keys, in turn.
    let location = Location::parse(db.as_os_str()).expect("a store location");
    let mut store = Store::open(&location).expect("open");
    let mut mix = Vec::new();
    let mut seeded = SeededEntropy::new(99);
    for i in 0..MIX_EACH {
        let good = store
            .create_key(
                WORKSPACE,
                NewKey::new(format!("mix {i}"), Environment::Production),
            )
            .expect("create");
        let bad = store
            .create_key(
                WORKSPACE,
                NewKey::new(format!("mix revoked {i}"), Environment::Production),
            )
            .expect("create");
        store.revoke_key(WORKSPACE, &bad.record.id).expect("revoke");
        let unknown = Secret::generate(Environment::Production, &mut seeded).unwrap();
        mix.push(good.secret.expose().to_owned());
        mix.push(unknown.expose().to_owned());
        mix.push(bad.secret.expose().to_owned());
    }
    drop(store);
    let unknown = Secret::generate(Environment::Production, &mut seeded)
        .unwrap()
        .expose()
        .to_owned();
    let mix_script = dir.join("mix.lua");
    std::fs::write(&mix_script, lua_cycle(&mix)).expect("write the Lua script");

    // Each count of connections with wrk and the server sharing every CPU; then 16 again with
    // the server pinned to CPU 0 and wrk (one thread) to CPU 1, so that the tail latency is
    // the server's own rather than the two taking turns on the same cores.
    let mut cases: Vec<(u32, bool)> = CONNECTIONS.iter().map(|&c| (c, false)).collect();
    let taskset = Command::new("taskset")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .is_ok();
    match cpus() >= 2 && taskset {
        true => cases.push((16, true)),
        false => println!("(no pinned run: it needs `taskset` and two CPUs)\n"),
    }
    println!(
        "{rounds} rounds per case; figures are medians, × floor the median of each round's ratio"
    );
    println!("load average at the start: {}\n", load_average());
    let loads = [
        ("valid key (200)", Load::Header(&valid)),
        ("unknown key (401)", Load::Header(&unknown)),
        ("mix valid/unknown/revoked", Load::Script(&mix_script)),
    ];
    let mut results = Vec::new();
    for (connections, pinned) in cases {
        let pinning = match pinned {
            true => ", server on CPU 0, wrk on CPU 1",
            false => "",
        };
        println!("── {connections} connection(s){pinning} ──");
        let server = |program: &Path, args: &[&std::ffi::OsStr]| match pinned {
            true => {
                let mut command = Command::new("taskset");
                command.args(["-c", "0"]).arg(program).args(args);
                Server::start(&mut command)
            }
            false => Server::start(Command::new(program).args(args)),
        };
        let run = |address: &str, load: Load<'_>| wrk(address, connections, pinned, load);
        let measure_floor = || {
            let mut floor = server(floor_exe, &["127.0.0.1:0".as_ref()]);
            let floor_run = run(&floor.address, Load::Header(&valid));
            floor.stop();
            floor_run
        };
        let serve_args = ["--db".as_ref(), db.as_os_str(), "serve".as_ref()];
        let listen = ["--listen".as_ref(), "127.0.0.1:0".as_ref()];
        let serve_args = [&serve_args[..], &listen[..]].concat();

        let mut floor_runs = Vec::new();
        let mut serve_runs: Vec<Vec<WrkRun>> = loads.iter().map(|_| Vec::new()).collect();
        for round in 0..rounds {
            // The floor goes first, then last, in turn: on a shared machine, a load that
            // comes or goes during a case then weighs on both sides alike.
            let floor_first = round % 2 == 0;
            if floor_first {
                floor_runs.push(measure_floor());
            }
            let mut serve = server(Path::new(BIN), &serve_args);
            for ((_, load), runs) in loads.iter().zip(&mut serve_runs) {
                runs.push(run(&serve.address, *load));
            }
            serve.stop();
            if !floor_first {
                floor_runs.push(measure_floor());
            }
        }
        print_runs("floor (200, no work)", &floor_runs, None);
        let mut row = json!({
            "connections": connections,
            "pinned": pinned,
            "floor": Summary::of(&floor_runs, None).json(),
        });
        for ((what, _), runs) in loads.iter().zip(&serve_runs) {
            print_runs(what, runs, Some(&floor_runs));
            row[what.split_whitespace().next().unwrap()] =
                Summary::of(runs, Some(&floor_runs)).json();
        }
        if connections == 16 {
            let p99 = Summary::of(&serve_runs[0], None).p99_ms;
            println!("  goal at 16 connections: p99 ≤ 1 ms (valid: {p99:.2} ms)");
        }
        results.push(row);
        println!();
    }
    results
}

fn print_runs(what: &str, runs: &[WrkRun], floor: Option<&[WrkRun]>) {
    let summary = Summary::of(runs, floor);
    let ratio = match &summary.ratios {
        Some(ratios) => {
            let each: Vec<String> = ratios.iter().map(|r| format!("{r:.2}")).collect();
            format!("  {:.2}× floor [{}]", median(ratios), each.join(" "))
        }
        None => String::new(),
    };
    let non_2xx = match summary.non_2xx {
        0 => String::new(),
        n => format!(", {n} non-2xx"),
    };
    println!(
        "  {what:<28} {:>9.0} req/s  p50 {:>6.3} ms  p99 {:>6.3} ms{non_2xx}{ratio}",
        summary.requests_per_s, summary.p50_ms, summary.p99_ms
    );
}

/// The medians of a case's rounds, and each round's ratio to the floor's run of that round.
struct Summary {
    requests_per_s: f64,
    p50_ms: f64,
    p99_ms: f64,
    /// Over all rounds.
    non_2xx: u64,
    ratios: Option<Vec<f64>>,
}

impl Summary {
    fn of(runs: &[WrkRun], floor: Option<&[WrkRun]>) -> Summary {
        let of = |field: fn(&WrkRun) -> f64| median(&runs.iter().map(field).collect::<Vec<_>>());
        Summary {
            requests_per_s: of(|run| run.requests_per_s),
            p50_ms: of(|run| run.p50_ms),
            p99_ms: of(|run| run.p99_ms),
            non_2xx: runs.iter().map(|run| run.non_2xx).sum(),
            ratios: floor.map(|floor| {
                runs.iter()
                    .zip(floor)
                    .map(|(run, floor)| run.requests_per_s / floor.requests_per_s)
                    .collect()
            }),
        }
    }

    fn json(&self) -> Value {
        json!({
            "requests_per_s": self.requests_per_s,
            "p50_ms": self.p50_ms,
            "p99_ms": self.p99_ms,
            "non_2xx": self.non_2xx,
            "ratio_to_floor": self.ratios.as_deref().map(median),
            "ratio_each_round": self.ratios,
        })
    }
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    match sorted.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => sorted[n / 2],
        n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

/// A Lua script for wrk sending `/v1/auth` with each of `keys` in turn.
fn lua_cycle(keys: &[String]) -> String {
    let list: Vec<String> = keys.iter().map(|k| format!("\"{k}\"")).collect();
    format!(
        "local keys = {{{}}}\nlocal i = 0\nrequest = function()\n  i = i % #keys + 1\n  \
         return wrk.format(\"GET\", \"/v1/auth\", {{[\"Authorization\"] = \"Bearer \" .. keys[i]}})\nend\n",
        list.join(", ")
    )
}

#[derive(Clone, Copy)]
enum Load<'a> {
    Header(&'a str),
    Script(&'a Path),
}

struct WrkRun {
    requests_per_s: f64,
    p50_ms: f64,
    p99_ms: f64,
    non_2xx: u64,
}

fn wrk(address: &str, connections: u32, pinned: bool, load: Load<'_>) -> WrkRun {
    let mut command = match pinned {
        true => {
            let mut taskset = Command::new("taskset");
            taskset.args(["-c", "1", "wrk", "-t1"]);
            taskset
        }
        false => {
            let mut wrk = Command::new("wrk");
            wrk.arg(format!("-t{}", connections.min(2)));
            wrk
        }
    };
    command
        .arg(format!("-c{connections}"))
        .arg(format!("-d{DURATION}"))
        .arg("--latency");
    match load {
        Load::Header(key) => {
            command
                .arg("-H")
                .arg(format!("Authorization: Bearer {key}"));
        }
        Load::Script(script) => {
            command.arg("-s").arg(script);
        }
    }
    let out = command
        .arg(format!("http://{address}/v1/auth"))
        .output()
        .expect("run wrk");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "wrk failed: {text}");
    let field = |prefix: &str| {
        text.lines()
            .map(str::trim)
            .find_map(|line| line.strip_prefix(prefix))
            .map(str::trim)
    };
    WrkRun {
        requests_per_s: field("Requests/sec:")
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no Requests/sec in wrk's output:\n{text}")),
        p50_ms: field("50%").and_then(wrk_ms).expect("p50"),
        p99_ms: field("99%").and_then(wrk_ms).expect("p99"),
        non_2xx: field("Non-2xx or 3xx responses:")
            .and_then(|n| n.parse().ok())
            .unwrap_or(0),
    }
}

/// wrk's `123.45us`, `1.23ms`, `1.02s` in milliseconds.
fn wrk_ms(text: &str) -> Option<f64> {
    let split = text.find(|c: char| c.is_ascii_alphabetic())?;
    let (number, unit) = text.split_at(split);
    let number: f64 = number.parse().ok()?;
    Some(match unit {
        "us" => number / 1e3,
        "ms" => number,
        "s" => number * 1e3,
        "m" => number * 60e3,
        _ => return None,
    })
}

/// A server that says `listening on http://ADDR` on stderr, stopped with SIGTERM.
struct Server {
    child: Child,
    address: String,
}

impl Server {
    fn start(command: &mut Command) -> Server {
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the server");
        let address = listening_address(child.stderr.take().unwrap());
        Server { child, address }
    }

    fn stop(&mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
    }
}

fn create_key(db: &Path, name: &str) -> String {
    let out = Command::new(BIN)
        .arg("--db")
        .arg(db)
        .args(["create", "--name", name, "--env", "prod"])
        .stdin(Stdio::null())
        .output()
        .expect("run hivekeys create");
    assert!(out.status.success(), "create failed");
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// Builds `examples/floor_server.rs` in this bench's profile (`cargo bench` does not build
/// examples) and returns its path.
fn build_floor_server() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let profile = exe.parent().unwrap().parent().unwrap();
    let mut cargo = Command::new(env!("CARGO"));
    cargo
        .args([
            "build",
            "--quiet",
            "--example",
            "floor_server",
            "--manifest-path",
        ])
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml"));
    if profile.file_name().is_some_and(|name| name == "release") {
        cargo.arg("--release");
    }
    let status = cargo.status().expect("run cargo");
    assert!(
        status.success(),
        "cargo build --example floor_server failed"
    );
    profile.join("examples").join("floor_server")
}
