//! `hivekeys scan`: runs the scanner (src/scan/), asks the store what it knows of each
//! key found (one batched lookup), records the live ones as leaked, prints the report and,
//! with `--revoke`, revokes the live ones after one confirmation.
//!
//! Exit status: 0 when no live key was found, 1 when one was (even once `--revoke` revoked
//! it: the key was out, and a CI job or hook should stop), 2 on usage errors (a path that
//! does not exist, `--git` on a directory that is no repository, `--revoke` without `--yes`
//! and without a terminal). A store that cannot be opened fails as every command does.

use std::collections::HashMap;
use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use serde::Serialize;

use super::{Cli, Failure, confirm, open_store};
use crate::key::KeyHash;
use crate::scan::{self, Finding, Place, Scan};
use crate::store::{FoundKey, LeakSighting, LeakState, RevokedLeak, RevokedLeaks};
use crate::text::echo;

/// What the command line asked for.
pub struct ScanRequest<'a> {
    pub paths: &'a [PathBuf],
    pub git: bool,
    /// Scan binary files too (`--binary`) rather than skip and count them.
    pub binary: bool,
    pub json: bool,
    pub revoke: bool,
    pub yes: bool,
}

/// A finding's state in the store.
#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Live,
    Revoked,
    Expired,
    Unknown,
}

impl State {
    const ALL: [State; 4] = [State::Live, State::Revoked, State::Expired, State::Unknown];

    fn of(found: Option<&FoundKey>) -> State {
        match found.map(|f| &f.state) {
            Some(LeakState::Live) => State::Live,
            Some(LeakState::Revoked) => State::Revoked,
            Some(LeakState::Expired) => State::Expired,
            None => State::Unknown,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            State::Live => "live",
            State::Revoked => "revoked",
            State::Expired => "expired",
            State::Unknown => "unknown",
        }
    }
}

pub fn run(cli: &Cli, request: &ScanRequest) -> Result<ExitCode, Failure> {
    let default = [PathBuf::from(".")];
    let paths = match request.paths.is_empty() {
        true => &default[..],
        false => request.paths,
    };
    for path in paths {
        if std::fs::symlink_metadata(path).is_err() {
            return Err(Failure::usage(format!(
                "Nothing to scan at {}: no such file or directory.",
                crate::text::printable_path(path)
            )));
        }
    }
    if request.revoke && !request.yes && !io::stdin().is_terminal() {
        return Err(Failure::usage(
            "Refusing to revoke without --yes because stdin is not a terminal.",
        ));
    }
    let mut store = open_store(cli)?;
    let binary = match request.binary {
        true => scan::Binary::Scan,
        false => scan::Binary::Skip,
    };
    let mut scan = match request.git {
        false => scan::scan_paths(paths, binary),
        true => scan_histories(paths, binary)?,
    };
    if request.paths.is_empty() {
        // No path given: show `src/x.py`, not `./src/x.py`, as ripgrep does.
        for finding in &mut scan.findings {
            if let Place::File(path) = &mut finding.place
                && let Ok(short) = path.strip_prefix(".")
            {
                *path = short.to_path_buf();
            }
        }
    }
    let mut hashes: Vec<KeyHash> = scan.findings.iter().map(|f| f.hit.hash).collect();
    hashes.sort_unstable_by_key(|h| h.0);
    hashes.dedup();
    let found = store.find_keys_by_hash(&hashes)?;
    let known: HashMap<KeyHash, FoundKey> = hashes
        .into_iter()
        .zip(found)
        .filter_map(|(hash, found)| found.map(|f| (hash, f)))
        .collect();
    let live: Vec<LeakSighting> = scan
        .findings
        .iter()
        .filter(|f| State::of(known.get(&f.hit.hash)) == State::Live)
        .map(|f| LeakSighting {
            hash: f.hit.hash,
            location: f.location(),
        })
        .collect();
    // The report matters more than the mark: a store that refuses the write (locked past the
    // busy timeout, read-only) still gets its findings printed, then the failure said.
    let unrecorded = match live.is_empty() {
        true => None,
        false => store.record_leaks(&live).err(),
    };
    let verdict = match live.is_empty() {
        true => ExitCode::SUCCESS,
        false => ExitCode::from(1),
    };
    let printed = (|| -> Result<(), Failure> {
        let mut out = io::BufWriter::new(io::stdout().lock());
        let report = Report {
            scan: &scan,
            known: &known,
            git: request.git,
            workspace: cli.workspace(),
        };
        if request.json {
            // The confirmation (on the terminal) comes before the one document is printed.
            let revoked = match request.revoke && !live.is_empty() {
                true => Some(revoke(&mut store, &live, &known, request.yes)?),
                false => None,
            };
            let mut json = report.json();
            json.revoked = revoked
                .as_ref()
                .map(|r| r.revoked.iter().map(RevokedJson::of).collect());
            json.already_revoked = revoked
                .as_ref()
                .map(|r| r.already_revoked.iter().map(RevokedJson::of).collect());
            super::output::write_json(&mut out, &json)?;
        } else {
            report.write_text(&mut out)?;
            // The report is on screen before the question about it.
            out.flush()?;
            if request.revoke && !live.is_empty() {
                let revoked = revoke(&mut store, &live, &known, request.yes)?;
                write_revoked(&mut out, &revoked)?;
            }
        }
        out.flush()?;
        Ok(())
    })();
    if let Some(err) = unrecorded {
        super::say(&format!(
            "error: the live keys above are not marked leaked in the store: {}",
            Failure::from(err).message
        ));
    }
    match printed {
        // A reader that stopped early (`scan | head -1`) changes nothing of the verdict: a
        // live key found is status 1 whatever became of the report.
        Err(failure) if failure.is_closed_pipe() => return Ok(verdict),
        Err(failure) => return Err(failure),
        Ok(()) => {}
    }
    if request.revoke && live.is_empty() {
        super::say("No live key was found: nothing to revoke.");
    }
    Ok(verdict)
}

fn scan_histories(paths: &[PathBuf], binary: scan::Binary) -> Result<Scan, Failure> {
    let mut all = Scan::default();
    for path in paths {
        let scan = scan::git::scan_history(path, binary).map_err(|err| Failure {
            status: match err {
                scan::git::GitError::NotARepository { .. } => 2,
                _ => 1,
            },
            message: format!("{}.", crate::text::capitalize(&err.to_string())),
        })?;
        all.findings.extend(scan.findings);
        all.tally.add(&scan.tally);
    }
    Ok(all)
}

/// One confirmation, then one transaction revoking every live key found.
fn revoke(
    store: &mut crate::store::Store,
    live: &[LeakSighting],
    known: &HashMap<KeyHash, FoundKey>,
    yes: bool,
) -> Result<RevokedLeaks, Failure> {
    let mut keys: Vec<&FoundKey> = Vec::new();
    for sighting in live {
        let key = &known[&sighting.hash];
        if !keys.iter().any(|k| k.public_id == key.public_id) {
            keys.push(key);
        }
    }
    let names: Vec<String> = keys
        .iter()
        .map(|k| format!("\"{}\" ({})", echo(&k.name, 64), k.public_id))
        .collect();
    confirm(
        &format!(
            "Revoke {} live leaked {} {}? Apps using {} stop working at once; this cannot be undone.",
            keys.len(),
            if keys.len() == 1 { "key" } else { "keys" },
            names.join(", "),
            if keys.len() == 1 { "it" } else { "them" },
        ),
        yes,
        "revoke",
    )?;
    let revoked = store.revoke_leaked(live)?;
    Ok(revoked)
}

#[derive(Serialize)]
struct RevokedJson<'a> {
    id: &'a str,
    name: &'a str,
    workspace: &'a str,
    /// The first place the key was seen, as the audit event says.
    leaked_in: &'a str,
}

impl<'a> RevokedJson<'a> {
    fn of(leak: &'a RevokedLeak) -> RevokedJson<'a> {
        RevokedJson {
            id: &leak.key.public_id,
            name: &leak.key.name,
            workspace: &leak.key.workspace,
            leaked_in: &leak.location,
        }
    }
}

fn write_revoked(out: &mut impl Write, revoked: &RevokedLeaks) -> io::Result<()> {
    for leak in &revoked.revoked {
        let line = format!(
            "Revoked {} \"{}\" (leaked in {}).",
            leak.key.public_id,
            echo(&leak.key.name, 64),
            leak.location
        );
        writeln!(out, "{}", crate::key::redact_keys(&line))?;
    }
    for leak in &revoked.already_revoked {
        let line = format!(
            "{} \"{}\" was revoked already (by someone else meanwhile).",
            leak.key.public_id,
            echo(&leak.key.name, 64)
        );
        writeln!(out, "{}", crate::key::redact_keys(&line))?;
    }
    Ok(())
}

struct Report<'a> {
    scan: &'a Scan,
    known: &'a HashMap<KeyHash, FoundKey>,
    git: bool,
    workspace: &'a str,
}

#[derive(Serialize)]
struct FindingJson<'a> {
    path: String,
    /// The commit that added the blob, for a history scan (null in a working-tree scan, and
    /// for a blob no commit added).
    commit: Option<&'a str>,
    line: u64,
    /// In bytes from the start of the line, 1-based.
    column: u64,
    masked_key: &'a str,
    state: &'static str,
    id: Option<&'a str>,
    name: Option<&'a str>,
    workspace: Option<&'a str>,
}

#[derive(Serialize)]
struct SummaryJson {
    files: u64,
    bytes: u64,
    skipped: SkippedJson,
    found: FoundJson,
}

#[derive(Serialize)]
struct FoundJson {
    live: u64,
    revoked: u64,
    expired: u64,
    unknown: u64,
}

#[derive(Serialize)]
struct SkippedJson {
    /// A NUL byte in the first 8 KiB (0 with `--binary`).
    binary: u64,
    huge: u64,
    unreadable: u64,
    special: u64,
}

#[derive(Serialize)]
struct ReportJson<'a> {
    findings: Vec<FindingJson<'a>>,
    summary: SummaryJson,
    /// With `--revoke`: the keys revoked.
    #[serde(skip_serializing_if = "Option::is_none")]
    revoked: Option<Vec<RevokedJson<'a>>>,
    /// With `--revoke`: live keys found that someone revoked meanwhile.
    #[serde(skip_serializing_if = "Option::is_none")]
    already_revoked: Option<Vec<RevokedJson<'a>>>,
}

impl Report<'_> {
    fn state(&self, finding: &Finding) -> (State, Option<&FoundKey>) {
        let found = self.known.get(&finding.hit.hash);
        (State::of(found), found)
    }

    fn counts(&self) -> [(State, u64); 4] {
        State::ALL.map(|state| {
            let n = self.scan.findings.iter();
            (state, n.filter(|f| self.state(f).0 == state).count() as u64)
        })
    }

    fn write_text(&self, out: &mut impl Write) -> io::Result<()> {
        for finding in &self.scan.findings {
            let (state, found) = self.state(finding);
            let mut line = format!(
                "{}:{}:{}  {}  {}",
                finding.source(),
                finding.hit.line,
                finding.hit.column,
                finding.hit.masked,
                state.as_str()
            );
            if let Some(key) = found {
                line.push_str(&format!("  \"{}\" {}", echo(&key.name, 64), key.public_id));
                if key.workspace != self.workspace {
                    line.push_str(&format!(" (workspace \"{}\")", echo(&key.workspace, 64)));
                }
            }
            writeln!(out, "{}", crate::key::redact_keys(&line))?;
        }
        writeln!(out, "{}", self.summary_line())
    }

    fn summary_line(&self) -> String {
        let tally = &self.scan.tally;
        let what = match (self.git, tally.files) {
            (false, 1) => "file",
            (false, _) => "files",
            (true, 1) => "blob",
            (true, _) => "blobs",
        };
        let mut skipped = Vec::new();
        let special = match tally.special {
            1 => "not a regular file",
            _ => "not regular files",
        };
        for (n, why) in [
            (tally.binary, "binary"),
            (tally.huge, "over 100 MiB"),
            (tally.unreadable, "unreadable"),
            (tally.special, special),
        ] {
            if n > 0 {
                skipped.push(format!("{n} {why}"));
            }
        }
        let skipped = match skipped.is_empty() {
            true => "skipped 0".to_owned(),
            false => format!("skipped {} ({})", tally.skipped(), skipped.join(", ")),
        };
        let counts = self.counts();
        let found: Vec<String> = counts
            .iter()
            .map(|(state, n)| format!("{n} {}", state.as_str()))
            .collect();
        let total: u64 = counts.iter().map(|(_, n)| n).sum();
        format!(
            "Scanned {} {what} ({}); {skipped}; found {} {}: {}.",
            crate::text::group_digits(tally.files),
            size(tally.bytes),
            total,
            if total == 1 { "key" } else { "keys" },
            found.join(", ")
        )
    }

    fn json(&self) -> ReportJson<'_> {
        let findings = self
            .scan
            .findings
            .iter()
            .map(|finding| {
                let (state, found) = self.state(finding);
                let (commit, path) = match &finding.place {
                    Place::File(path) => (None, crate::text::printable_path(path)),
                    Place::Blob { commit, path } => (commit.as_deref(), path.clone()),
                };
                FindingJson {
                    path: crate::key::redact_keys(&path).into_owned(),
                    commit,
                    line: finding.hit.line,
                    column: finding.hit.column,
                    masked_key: &finding.hit.masked,
                    state: state.as_str(),
                    id: found.map(|k| k.public_id.as_str()),
                    name: found.map(|k| k.name.as_str()),
                    workspace: found.map(|k| k.workspace.as_str()),
                }
            })
            .collect();
        let tally = &self.scan.tally;
        ReportJson {
            findings,
            summary: SummaryJson {
                files: tally.files,
                bytes: tally.bytes,
                skipped: SkippedJson {
                    binary: tally.binary,
                    huge: tally.huge,
                    unreadable: tally.unreadable,
                    special: tally.special,
                },
                found: {
                    let [live, revoked, expired, unknown] = self.counts().map(|(_, n)| n);
                    FoundJson {
                        live,
                        revoked,
                        expired,
                        unknown,
                    }
                },
            },
            revoked: None,
            already_revoked: None,
        }
    }
}

/// Bytes for people: `812 B`, `3.4 KB`, `1.2 GB` (powers of 1000, as `ls --si`).
fn size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KB", "MB", "GB", "TB"];
    if bytes < 1000 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1000.0;
    let mut unit = 0;
    while value >= 1000.0 && unit < UNITS.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}
