//! What the benchmarks share: where cargo builds, what machine this is, and a started
//! server's address. A directory module, so cargo does not take it for a benchmark.

#![allow(dead_code)] // each benchmark is its own crate and uses part of this

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"))
}

pub fn cpus() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

pub fn cpu_model() -> String {
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

/// The 1, 5 and 15 minute load averages, as `/proc/loadavg` gives them: beside a figure
/// measured on a shared machine, how shared it was.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|text| {
            text.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_else(|| "unknown".into())
}

/// Reads `listening on http://ADDR` from a server's stderr; keeps draining it after.
pub fn listening_address(stderr: impl Read + Send + 'static) -> String {
    let mut lines = BufReader::new(stderr).lines();
    let address = loop {
        let line = lines
            .next()
            .expect("the server exited before listening")
            .expect("read stderr");
        if let Some(address) = line.strip_prefix("listening on http://") {
            break address.to_owned();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    address
}
