//! `scan --git`: every blob reachable from every ref, each read once.
//!
//! Through the `git` program rather than a library: `git rev-list --objects --all` lists
//! each reachable blob once (with a path it has), and ONE `git cat-file --batch` process
//! streams their contents, so the cost is two processes whatever the history's size, and
//! git's own pack reading (delta caches, zlib) does the work. `git2` would bring libgit2's C
//! build (and OpenSSL) into a pure-Rust build; `gix` over a hundred crates. Anyone with a
//! repository to scan has git. Only when a blob holds a key is the history walked once more
//! (`git log --raw`) to name the commit that added it, so a clean history costs nothing more.

use std::collections::HashMap;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};

use super::{Binary, Finder, Finding, MAX_FILE_LEN, Outcome, Place, Scan};

/// Why a repository's history could not be scanned.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("cannot run git: {0}")]
    Spawn(io::Error),
    #[error("{path} is not a git repository (or has no commits): {message}")]
    NotARepository { path: String, message: String },
    #[error("git failed while reading the history of {path}: {message}")]
    Failed { path: String, message: String },
}

/// One reachable blob: its id and a path it has.
struct Blob {
    id: String,
    path: String,
}

/// Scans every blob reachable from every ref of the repository at `repo`; binary blobs
/// skipped and counted, or scanned, as `binary` says.
pub fn scan_history(repo: &Path, binary: Binary) -> Result<Scan, GitError> {
    let shown = crate::text::printable_path(repo);
    let blobs = reachable_blobs(repo, &shown)?;
    let mut scan = Scan::default();
    let mut finder = Finder::with_binary(binary);
    let mut found: Vec<(usize, super::Hit)> = Vec::new();
    read_blobs(repo, &blobs, |index, size, content| {
        if size > MAX_FILE_LEN {
            scan.tally.huge += 1;
            io::copy(content, &mut io::sink())?;
            return Ok(());
        }
        // A binary blob's rest is drained by `read_blobs`, which reads past every blob.
        match finder.find_in_reader(content)? {
            Outcome::Scanned { hits, bytes } => {
                scan.tally.files += 1;
                scan.tally.bytes += bytes;
                found.extend(hits.into_iter().map(|hit| (index, hit)));
            }
            Outcome::Binary => scan.tally.binary += 1,
        }
        Ok(())
    })
    .map_err(|err| GitError::Failed {
        path: shown.clone(),
        message: err.to_string(),
    })?;
    if found.is_empty() {
        return Ok(scan);
    }
    let mut wanted: Vec<&str> = found.iter().map(|(i, _)| blobs[*i].id.as_str()).collect();
    wanted.sort_unstable();
    wanted.dedup();
    let added_by = commits_adding(repo, &wanted, &shown)?;
    scan.findings = found
        .into_iter()
        .map(|(index, hit)| {
            let blob = &blobs[index];
            let place = match added_by.get(blob.id.as_str()) {
                Some((commit, path)) => Place::Blob {
                    commit: Some(commit.clone()),
                    path: path.clone(),
                },
                None => Place::Blob {
                    commit: None,
                    path: blob.path.clone(),
                },
            };
            Finding { place, hit }
        })
        .collect();
    scan.sort();
    Ok(scan)
}

fn git(repo: &Path) -> Command {
    let mut command = Command::new("git");
    command
        .arg("-C")
        .arg(repo)
        .args(["-c", "core.quotePath=false"])
        .stdin(Stdio::null())
        .stderr(Stdio::piped());
    command
}

fn first_line(stderr: &[u8]) -> String {
    let text = String::from_utf8_lossy(stderr);
    let line = text.lines().next().unwrap_or("").trim();
    let line = line.strip_prefix("fatal: ").unwrap_or(line);
    crate::text::printable(line.trim_end_matches('.'), 300)
}

/// Every blob reachable from a ref, once, with the first path git met it under.
fn reachable_blobs(repo: &Path, shown: &str) -> Result<Vec<Blob>, GitError> {
    let output = git(repo)
        .args([
            "rev-list",
            "--objects",
            "--all",
            "--filter=object:type=blob",
        ])
        .output()
        .map_err(GitError::Spawn)?;
    if !output.status.success() {
        return Err(GitError::NotARepository {
            path: shown.to_owned(),
            message: first_line(&output.stderr),
        });
    }
    // Commits are listed too, without a path; blobs come as `<id> <path>`.
    let text = String::from_utf8_lossy(&output.stdout);
    let blobs: Vec<Blob> = text
        .lines()
        .filter_map(|line| line.split_once(' '))
        .map(|(id, path)| Blob {
            id: id.to_owned(),
            path: path.to_owned(),
        })
        .collect();
    if blobs.is_empty() && text.is_empty() {
        // `--all` in a repository without any ref: nothing to read, but say so plainly.
        return Err(GitError::NotARepository {
            path: shown.to_owned(),
            message: "no commits".into(),
        });
    }
    Ok(blobs)
}

/// Streams the blobs' contents through one `git cat-file --batch`, calling `each` with the
/// blob's index, its size and a reader of exactly its bytes (which `each` must consume).
fn read_blobs(
    repo: &Path,
    blobs: &[Blob],
    mut each: impl FnMut(usize, u64, &mut dyn Read) -> io::Result<()>,
) -> io::Result<()> {
    let mut child = git(repo)
        .args(["cat-file", "--batch"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()?;
    let mut stdin = child.stdin.take().expect("piped stdin");
    let stdout = child.stdout.take().expect("piped stdout");
    let mut stderr = child.stderr.take().expect("piped stderr");
    // Written from another thread: git answers while it reads, and both pipes would fill.
    let ids: Vec<String> = blobs.iter().map(|b| b.id.clone()).collect();
    let writer = std::thread::spawn(move || -> io::Result<()> {
        let mut input = io::BufWriter::new(&mut stdin);
        for id in ids {
            writeln!(input, "{id}")?;
        }
        input.flush()
    });
    let mut reader = BufReader::with_capacity(256 * 1024, stdout);
    let mut header = String::new();
    let result = (|| {
        for index in 0..blobs.len() {
            header.clear();
            if reader.read_line(&mut header)? == 0 {
                return Err(io::Error::other("git cat-file stopped early"));
            }
            let mut fields = header.split_whitespace();
            let (Some(_id), Some(kind), Some(size)) = (fields.next(), fields.next(), fields.next())
            else {
                // `<id> missing`: a ref to an object a shallow or partial clone lacks.
                continue;
            };
            let size: u64 = size
                .parse()
                .map_err(|_| io::Error::other("git cat-file gave a malformed header"))?;
            let mut content = (&mut reader).take(size);
            if kind == "blob" {
                each(index, size, &mut content)?;
            }
            io::copy(&mut content, &mut io::sink())?;
            let mut newline = [0u8; 1];
            reader.read_exact(&mut newline)?;
        }
        Ok(())
    })();
    drop(reader);
    let written = writer
        .join()
        .unwrap_or_else(|_| Err(io::Error::other("writer panicked")));
    let status = child.wait()?;
    result?;
    written?;
    if !status.success() {
        let mut message = Vec::new();
        stderr.read_to_end(&mut message).ok();
        return Err(io::Error::other(first_line(&message)));
    }
    Ok(())
}

/// For each wanted blob, the oldest commit (and path) that added it, from one walk of the
/// history's raw diffs.
fn commits_adding(
    repo: &Path,
    wanted: &[&str],
    shown: &str,
) -> Result<HashMap<String, (String, String)>, GitError> {
    let mut child = git(repo)
        .args([
            "log",
            "--all",
            "--topo-order",
            "--format=commit %H",
            "--raw",
            "--no-abbrev",
            "--no-renames",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .map_err(GitError::Spawn)?;
    let stdout = child.stdout.take().expect("piped stdout");
    let mut added = HashMap::new();
    let mut commit = String::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.map_err(|err| GitError::Failed {
            path: shown.to_owned(),
            message: err.to_string(),
        })?;
        if let Some(id) = line.strip_prefix("commit ") {
            commit = id.to_owned();
            continue;
        }
        // `:<mode> <mode> <old> <new> <status>\t<path>`
        let Some((meta, path)) = line.strip_prefix(':').and_then(|l| l.split_once('\t')) else {
            continue;
        };
        let Some(new) = meta.split(' ').nth(3) else {
            continue;
        };
        if wanted.binary_search(&new).is_ok() {
            // Children before parents (`--topo-order`): the last commit seen is the oldest
            // that added it.
            added.insert(new.to_owned(), (commit.clone(), path.to_owned()));
        }
    }
    let output = child.wait_with_output().map_err(GitError::Spawn)?;
    if !output.status.success() {
        return Err(GitError::Failed {
            path: shown.to_owned(),
            message: first_line(&output.stderr),
        });
    }
    Ok(added)
}
