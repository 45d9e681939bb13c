//! `hivekeys scan` throughput: `cargo bench --bench scan`.
//!
//! - **tree**: a generated tree of text files (`HIVEKEYS_SCAN_BENCH_MB`, default 256 MB; the
//!   issue's figure is `HIVEKEYS_SCAN_BENCH_MB=1024 cargo bench --bench scan`), files of 1 KB
//!   to 1 MB in directories of 100, with a `fhk_` near miss every few KB and a few real
//!   keys. The real binary (`hivekeys scan TREE`, whole process, store lookup included)
//!   beside `rg -c fhk_ TREE` on the same tree in the same run, both with a warm page cache,
//!   alternated, median of the repeats. Goal: scan ≥ 0.5× ripgrep's MB/s.
//! - **history**: a generated repository of `HIVEKEYS_SCAN_BENCH_COMMITS` commits (default
//!   10,000, written with `git fast-import`), each changing one of 500 files; `hivekeys scan
//!   --git` beside `git cat-file --batch-all-objects --batch` (git alone reading every
//!   object: the floor).
//!
//! `HIVEKEYS_SCAN_BENCH_REPEATS` (default 5) sets the repeats. Nothing here asserts a time.

use std::fs;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use hivekeys::entropy::SeededEntropy;
use hivekeys::{Environment, Secret};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

mod support;
use support::{cpu_model, cpus, load_average};

const BIN: &str = env!("CARGO_BIN_EXE_hivekeys");

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Text that looks like source: words of key characters, spaces, newlines, some `fhk_`.
fn pool(rng: &mut StdRng, len: usize) -> Vec<u8> {
    const CHARS: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_=(){}";
    let mut text = Vec::with_capacity(len + 64);
    while text.len() < len {
        match rng.random_range(0..100u32) {
            0..6 => text.push(b'\n'),
            6..8 if rng.random_range(0..40u32) == 0 => text.extend_from_slice(b"fhk_prod_x "),
            _ => {
                let word = rng.random_range(1..10usize);
                text.extend((0..word).map(|_| CHARS[rng.random_range(0..CHARS.len())]));
                text.push(b' ');
            }
        }
    }
    text.truncate(len);
    text
}

fn generate_tree(root: &Path, megabytes: u64, rng: &mut StdRng) -> (u64, u64) {
    let text = pool(rng, 4 << 20);
    let mut entropy = SeededEntropy::new(7);
    let target = megabytes * 1_000_000;
    let (mut bytes, mut files) = (0u64, 0u64);
    while bytes < target {
        let dir = root.join(format!("d{:04}", files / 100));
        if files % 100 == 0 {
            fs::create_dir_all(&dir).unwrap();
        }
        // Mostly small files, some large: sizes spread log-uniformly from 1 KB to 1 MB.
        let len = (1000.0 * 1000f64.powf(rng.random::<f64>())) as usize;
        let start = rng.random_range(0..text.len() - len);
        let mut file = fs::File::create(dir.join(format!("f{files}.txt"))).unwrap();
        file.write_all(&text[start..start + len]).unwrap();
        if files % 1000 == 0 {
            let key = Secret::generate(Environment::Production, &mut entropy).unwrap();
            writeln!(file, "\nAPI_KEY={}", key.expose()).unwrap();
        }
        bytes += len as u64;
        files += 1;
    }
    (bytes, files)
}

/// Wall time of `command` run to its end, its output thrown away.
fn time(command: &mut Command) -> Duration {
    let start = Instant::now();
    let status = command
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    let elapsed = start.elapsed();
    // scan exits 1 when a live key is found: here every key is unknown, so 0.
    assert!(
        status.code().is_some_and(|c| c <= 1),
        "{command:?}: {status}"
    );
    elapsed
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn mb_per_s(bytes: u64, time: Duration) -> f64 {
    bytes as f64 / 1e6 / time.as_secs_f64()
}

/// Runs each of `commands` `repeats` times, alternated, after one untimed warm-up each.
fn race(commands: &mut [(&str, Command)], repeats: u64) -> Vec<Duration> {
    for (_, command) in commands.iter_mut() {
        time(command);
    }
    let mut times = vec![Vec::new(); commands.len()];
    for _ in 0..repeats {
        for (i, (_, command)) in commands.iter_mut().enumerate() {
            times[i].push(time(command));
        }
    }
    times.into_iter().map(median).collect()
}

fn git(dir: &Path) -> Command {
    let mut command = Command::new("git");
    command
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1");
    command
}

/// A repository of `commits` commits written through `git fast-import`; the bytes of its
/// distinct blobs.
fn generate_repo(root: &Path, commits: u64, rng: &mut StdRng) -> u64 {
    fs::create_dir_all(root).unwrap();
    assert!(
        git(root)
            .args(["init", "-q", "-b", "main"])
            .status()
            .unwrap()
            .success()
    );
    let text = pool(rng, 1 << 20);
    let mut entropy = SeededEntropy::new(11);
    let mut import = git(root)
        .args(["fast-import", "--quiet"])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = std::io::BufWriter::new(import.stdin.take().unwrap());
    let mut blob_bytes = 0u64;
    for n in 0..commits {
        let len = rng.random_range(500..6000usize);
        let start = rng.random_range(0..text.len() - len);
        let mut content = text[start..start + len].to_vec();
        if n % 500 == 0 {
            let key = Secret::generate(Environment::Staging, &mut entropy).unwrap();
            content.extend_from_slice(format!("\nTOKEN={}\n", key.expose()).as_bytes());
        }
        blob_bytes += content.len() as u64;
        let message = format!("change {n}");
        write!(
            input,
            "commit refs/heads/main\ncommitter Bench <bench@example.com> {} +0000\ndata {}\n{message}\n",
            1_700_000_000 + n,
            message.len()
        )
        .unwrap();
        write!(
            input,
            "M 100644 inline src/m{}/file{}.txt\ndata {}\n",
            n % 20,
            n % 500,
            content.len()
        )
        .unwrap();
        input.write_all(&content).unwrap();
        input.write_all(b"\n").unwrap();
    }
    input.flush().unwrap();
    drop(input);
    assert!(import.wait().unwrap().success());
    blob_bytes
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else to parse.
    let megabytes = env_u64("HIVEKEYS_SCAN_BENCH_MB", 256);
    let commits = env_u64("HIVEKEYS_SCAN_BENCH_COMMITS", 10_000);
    let repeats = env_u64("HIVEKEYS_SCAN_BENCH_REPEATS", 5).max(1);
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("store.db");
    let mut rng = StdRng::seed_from_u64(15);
    println!(
        "hivekeys scan benchmark: {} ({} CPUs), load {}; medians of {repeats}",
        cpu_model(),
        cpus(),
        load_average()
    );

    let tree = dir.path().join("tree");
    let started = Instant::now();
    let (bytes, files) = generate_tree(&tree, megabytes, &mut rng);
    println!(
        "tree: {files} files, {:.0} MB (generated in {:.1} s)",
        bytes as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );
    let mut scan = Command::new(BIN);
    scan.arg("--db").arg(&db).arg("scan").arg(&tree);
    let mut rg = Command::new("rg");
    rg.args(["-c", "fhk_"]).arg(&tree);
    let mut commands = [("hivekeys scan", scan), ("rg -c fhk_", rg)];
    let times = race(&mut commands, repeats);
    for ((name, _), time) in commands.iter().zip(&times) {
        println!(
            "  {name:<16} {:>8.3} s  {:>8.0} MB/s",
            time.as_secs_f64(),
            mb_per_s(bytes, *time)
        );
    }
    println!(
        "  scan / ripgrep throughput: {:.2}× (goal ≥ 0.5×)",
        times[1].as_secs_f64() / times[0].as_secs_f64()
    );
    fs::remove_dir_all(&tree).unwrap();

    let repo = dir.path().join("repo");
    let started = Instant::now();
    let blob_bytes = generate_repo(&repo, commits, &mut rng);
    println!(
        "history: {commits} commits, {:.0} MB of blobs (generated in {:.1} s)",
        blob_bytes as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );
    let mut scan = Command::new(BIN);
    scan.arg("--db").arg(&db).args(["scan", "--git"]).arg(&repo);
    let mut floor = git(&repo);
    floor.args(["cat-file", "--batch-all-objects", "--batch"]);
    let mut commands = [
        ("hivekeys scan --git", scan),
        ("git cat-file --batch-all-objects", floor),
    ];
    let times = race(&mut commands, repeats);
    for ((name, _), time) in commands.iter().zip(&times) {
        println!(
            "  {name:<32} {:>8.3} s  {:>8.0} MB/s of blobs",
            time.as_secs_f64(),
            mb_per_s(blob_bytes, *time)
        );
    }
}
