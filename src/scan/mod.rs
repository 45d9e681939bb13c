//! `hivekeys scan`: finds hivekeys keys in files and in a git repository's history. A
//! candidate counts only when its shape and CRC32 checksum are right, so the scan has no
//! false positives to triage; what the store knows of each one is the command's business
//! (src/cli/scan.rs), not this module's.
//!
//! What is scanned, and why:
//! - Files as ripgrep walks them (`.gitignore`, `.ignore` respected), hidden files included
//!   (`.env` is where keys leak most) except the `.git` directory itself.
//! - Not binary files (blobs with `--git`): one with a NUL byte in its first 8 KiB is skipped
//!   and counted, as the product contract says. It is git's heuristic (git looks at the first
//!   8,000 bytes); ripgrep looks for a NUL in each buffer it reads. The test is made
//!   on the first chunk read (src/scan/find.rs), so a binary file costs one read, not two; a
//!   NUL only further on leaves a file text. UTF-16 text is binary by this rule, and no loss:
//!   its `fhk_` would be `f\0h\0k\0_\0`, which the search would not match anyway.
//!   `--binary` scans them too ([`Binary::Scan`]): a key inside a SQLite file or an
//!   uncompressed archive is a leak as well, for those who want that.
//! - Not files over [`MAX_FILE_LEN`] (counted before anything is read), symlinks (not
//!   followed, as ripgrep does), and what is not a regular file: these, and paths that cannot
//!   be read, are counted, never an abort.

pub mod find;
pub mod git;
mod walk;

use std::path::PathBuf;

pub use find::{Binary, Finder, Hit, Outcome};
pub use walk::scan_paths;

/// Files and blobs larger than this are skipped (and counted): 100 MiB.
pub const MAX_FILE_LEN: u64 = 100 * 1024 * 1024;

/// Where a key was seen.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Place {
    /// A file of the working tree.
    File(PathBuf),
    /// A blob of a repository's history: the commit that added it (when one did: a blob
    /// reachable only through a tag has none) and its path there.
    Blob {
        commit: Option<String>,
        path: String,
    },
}

/// A path may hold a key too (a file named after one): `Debug` shows it masked.
impl std::fmt::Debug for Place {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let shown = match self {
            Place::File(path) => format!("File({:?})", path.to_string_lossy()),
            Place::Blob { commit, path } => format!("Blob({commit:?}, {path:?})"),
        };
        f.write_str(&crate::key::redact_keys(&shown))
    }
}

/// One key found: where, and the hit (digest, masked form, line, column).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub place: Place,
    pub hit: Hit,
}

impl Finding {
    /// `PATH`, or `COMMIT:PATH` with the commit abbreviated to 12 digits; control characters
    /// escaped, and any key in the path masked (this is also what the store records).
    pub fn source(&self) -> String {
        let shown = match &self.place {
            Place::File(path) => crate::text::printable_path(path),
            Place::Blob { commit, path } => format!(
                "{}:{}",
                commit.as_deref().map_or("?", |c| &c[..c.len().min(12)]),
                crate::text::printable(path, usize::MAX)
            ),
        };
        crate::key::redact_keys(&shown).into_owned()
    }

    /// `PATH:LINE` or `COMMIT:PATH:LINE`: what the store records and the audit quotes.
    pub fn location(&self) -> String {
        format!("{}:{}", self.source(), self.hit.line)
    }
}

/// What a scan went through.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// Files (or blobs) read to the end.
    pub files: u64,
    pub bytes: u64,
    /// Binary (a NUL in the first 8 KiB), skipped: none when binary files are scanned.
    pub binary: u64,
    /// Larger than [`MAX_FILE_LEN`].
    pub huge: u64,
    /// Could not be opened or read (permissions, vanished meanwhile, a directory we may not
    /// list).
    pub unreadable: u64,
    /// Neither a regular file nor a directory: FIFOs, sockets, devices.
    pub special: u64,
}

impl Tally {
    pub fn skipped(&self) -> u64 {
        self.binary + self.huge + self.unreadable + self.special
    }

    pub fn add(&mut self, other: &Tally) {
        self.files += other.files;
        self.bytes += other.bytes;
        self.binary += other.binary;
        self.huge += other.huge;
        self.unreadable += other.unreadable;
        self.special += other.special;
    }
}

/// A scan's result: findings in a stable order (by place, then line and column).
#[derive(Debug, Clone, Default)]
pub struct Scan {
    pub findings: Vec<Finding>,
    pub tally: Tally,
}

impl Scan {
    fn sort(&mut self) {
        self.findings.sort_by(|a, b| {
            (&a.place, a.hit.line, a.hit.column).cmp(&(&b.place, b.hit.line, b.hit.column))
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entropy::OsEntropy;
    use crate::key::Secret;

    #[test]
    fn debug_shows_no_key_even_in_a_path() {
        let key = Secret::generate(crate::Environment::Staging, &mut OsEntropy).unwrap();
        let text = format!("{}\n", key.expose());
        let hit = Finder::new().find_in(text.as_bytes()).remove(0);
        for place in [
            Place::File(PathBuf::from(format!("dir/{}.txt", key.expose()))),
            Place::Blob {
                commit: None,
                path: format!("{}.txt", key.expose()),
            },
        ] {
            let finding = Finding {
                place,
                hit: hit.clone(),
            };
            let debug = format!("{finding:?}");
            assert!(!debug.contains(key.expose()), "{debug}");
            assert!(debug.contains(&key.masked()), "{debug}");
        }
    }
}
