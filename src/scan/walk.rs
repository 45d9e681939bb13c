//! The working-tree scan: the `ignore` crate (ripgrep's walker) lists the files in parallel,
//! one [`Finder`] per thread reads each in chunks.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use ignore::{WalkBuilder, WalkState};

use super::{Binary, Finder, Finding, MAX_FILE_LEN, Outcome, Place, Scan, Tally};

#[derive(Default)]
struct Counters {
    files: AtomicU64,
    bytes: AtomicU64,
    binary: AtomicU64,
    huge: AtomicU64,
    unreadable: AtomicU64,
    special: AtomicU64,
}

impl Counters {
    fn bump(counter: &AtomicU64, by: u64) {
        counter.fetch_add(by, Ordering::Relaxed);
    }

    fn tally(&self) -> Tally {
        Tally {
            files: self.files.load(Ordering::Relaxed),
            bytes: self.bytes.load(Ordering::Relaxed),
            binary: self.binary.load(Ordering::Relaxed),
            huge: self.huge.load(Ordering::Relaxed),
            unreadable: self.unreadable.load(Ordering::Relaxed),
            special: self.special.load(Ordering::Relaxed),
        }
    }
}

/// Scans the files under `paths` (files or directories; each must exist: the caller checks,
/// since a mistyped path is a usage error rather than a skip); binary files skipped and
/// counted, or scanned, as `binary` says.
pub fn scan_paths(paths: &[PathBuf], binary: Binary) -> Scan {
    let Some((first, rest)) = paths.split_first() else {
        return Scan::default();
    };
    let mut builder = WalkBuilder::new(first);
    for path in rest {
        builder.add(path);
    }
    builder
        .hidden(false)
        .filter_entry(|entry| entry.file_name() != ".git");
    let counters = Counters::default();
    let findings = Mutex::new(Vec::new());
    builder.build_parallel().run(|| {
        let mut finder = Finder::with_binary(binary);
        let (counters, findings) = (&counters, &findings);
        Box::new(move |entry| {
            let entry = match entry {
                Ok(entry) => entry,
                Err(err) => {
                    // A broken ignore file is no unreadable path; a directory we may not list is.
                    if err.io_error().is_some() {
                        Counters::bump(&counters.unreadable, 1);
                    }
                    return WalkState::Continue;
                }
            };
            let Some(kind) = entry.file_type() else {
                // Standard input: never given by scan.
                return WalkState::Continue;
            };
            if kind.is_dir() || kind.is_symlink() {
                return WalkState::Continue;
            }
            if !kind.is_file() {
                Counters::bump(&counters.special, 1);
                return WalkState::Continue;
            }
            let found = scan_file(&mut finder, entry.path(), counters);
            if !found.is_empty() {
                let mut all = findings.lock().unwrap_or_else(|p| p.into_inner());
                all.extend(found.into_iter().map(|hit| Finding {
                    place: Place::File(entry.path().to_path_buf()),
                    hit,
                }));
            }
            WalkState::Continue
        })
    });
    let mut scan = Scan {
        findings: findings.into_inner().unwrap_or_else(|p| p.into_inner()),
        tally: counters.tally(),
    };
    scan.sort();
    scan
}

fn scan_file(finder: &mut Finder, path: &Path, counters: &Counters) -> Vec<super::Hit> {
    let Ok(mut file) = File::open(path) else {
        Counters::bump(&counters.unreadable, 1);
        return Vec::new();
    };
    match file.metadata() {
        Ok(meta) if meta.len() > MAX_FILE_LEN => {
            Counters::bump(&counters.huge, 1);
            return Vec::new();
        }
        Ok(_) => {}
        Err(_) => {
            Counters::bump(&counters.unreadable, 1);
            return Vec::new();
        }
    }
    match finder.find_in_reader(&mut file) {
        Ok(Outcome::Scanned { hits, bytes }) => {
            Counters::bump(&counters.files, 1);
            Counters::bump(&counters.bytes, bytes);
            hits
        }
        Ok(Outcome::Binary) => {
            Counters::bump(&counters.binary, 1);
            Vec::new()
        }
        Err(_) => {
            Counters::bump(&counters.unreadable, 1);
            Vec::new()
        }
    }
}
