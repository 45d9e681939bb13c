//! What the integration tests share: running the binary in a clean environment, a sandbox
//! (a temporary directory and a store path in it), fixtures, JSON and key helpers, a seeded
//! random generator, and a rendering of a ratatui buffer that keeps its styles.
//!
//! Each file under `tests/` is its own crate and includes this module with `mod common;`;
//! every one of them uses only part of it, and the rest would warn as dead code there.
#![allow(dead_code)]

pub mod dashboard;
pub mod postgres;
pub mod pty;
pub mod serve;

use std::ffi::{OsStr, OsString};
use std::fmt::Write as _;
use std::io::Write as _;
use std::num::NonZeroU16;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::time::Duration;

use hivekeys::StoreOptions;
use hivekeys::clock::ManualClock;
use hivekeys::entropy::SeededEntropy;
use rand::SeedableRng;
use rand::rngs::StdRng;
use ratatui::buffer::{Buffer, CellWidth};
use ratatui::style::{Color, Modifier};
use serde_json::Value;
use tempfile::TempDir;

pub const BIN: &str = env!("CARGO_BIN_EXE_hivekeys");

// ---------------------------------------------------------------------------------------------
// A clean environment
// ---------------------------------------------------------------------------------------------

/// The environment a test runs the binary in, whatever the developer's shell holds: no
/// `HIVEKEYS_*` setting (the test decides them), no display (a copy can never reach the
/// desktop's real clipboard, and messages are the same everywhere), no inherited terminal
/// size, and home and data directories inside the sandbox, so that a test that forgot `--db`
/// cannot touch the real user's store.
pub struct CleanEnv {
    pub removed: Vec<OsString>,
    pub set: Vec<(&'static str, OsString)>,
}

pub fn clean_env(sandbox: &Path) -> CleanEnv {
    let removed = std::env::vars_os()
        .map(|(name, _)| name)
        .filter(|name| name.to_string_lossy().starts_with("HIVEKEYS_"))
        .chain(
            ["DISPLAY", "WAYLAND_DISPLAY", "COLUMNS", "LINES"]
                .into_iter()
                .map(OsString::from),
        )
        .collect();
    let set = vec![
        ("HOME", sandbox.join("home").into()),
        ("XDG_DATA_HOME", sandbox.join("xdg-data").into()),
        ("XDG_CONFIG_HOME", sandbox.join("xdg-config").into()),
    ];
    CleanEnv { removed, set }
}

impl CleanEnv {
    pub fn apply(&self, command: &mut Command) {
        for name in &self.removed {
            command.env_remove(name);
        }
        for (name, value) in &self.set {
            command.env(name, value);
        }
    }
}

/// The binary in a clean environment rooted at `sandbox`: stdin closed, stdout and stderr
/// captured, no arguments yet.
pub fn hivekeys(sandbox: &Path) -> Command {
    let mut command = Command::new(BIN);
    clean_env(sandbox).apply(&mut command);
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

/// `hivekeys --db <db> <args…>`, its environment rooted at the directory holding `db`.
pub fn hivekeys_on<I, S>(db: &Path, args: I) -> Command
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut command = hivekeys(db.parent().expect("a store path has a parent"));
    command.arg("--db").arg(db).args(args);
    command
}

/// Runs `command` to its end, feeding `input` on stdin from a thread (so a large input cannot
/// deadlock on a full pipe). Also returns how the writing went: the child may stop reading
/// early, and the writer then sees EPIPE.
pub fn run_fed(mut command: Command, input: Option<&[u8]>) -> (Output, std::io::Result<()>) {
    if input.is_some() {
        command.stdin(Stdio::piped());
    }
    let mut child = command.spawn().expect("cannot start hivekeys");
    let writer = input.map(|bytes| {
        let mut stdin = child.stdin.take().expect("piped stdin");
        let bytes = bytes.to_vec();
        std::thread::spawn(move || stdin.write_all(&bytes))
    });
    let output = child.wait_with_output().expect("cannot wait for hivekeys");
    let written = match writer {
        Some(writer) => writer.join().expect("stdin writer thread"),
        None => Ok(()),
    };
    (output, written)
}

/// Runs `command`, `input` on its stdin (a write the child did not wait for is ignored).
pub fn output(command: Command, input: Option<&[u8]>) -> Output {
    run_fed(command, input).0
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Stdout and stderr together, for failure messages and for "shown anywhere" checks.
pub fn output_text(out: &Output) -> String {
    format!("{}{}", text(&out.stdout), text(&out.stderr))
}

// ---------------------------------------------------------------------------------------------
// One run of the binary, as the CLI tests read it
// ---------------------------------------------------------------------------------------------

/// What one run of the binary produced.
#[derive(Debug)]
pub struct Run {
    /// The arguments, for failure messages.
    pub what: String,
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `command` with `input` on stdin; a panic or a death by signal fails the test.
pub fn run(command: Command, input: Option<Vec<u8>>) -> Run {
    run_checked(command, input).0
}

/// [`run`], plus how the writing of `input` went.
pub fn run_checked(command: Command, input: Option<Vec<u8>>) -> (Run, std::io::Result<()>) {
    let what = format!(
        "hivekeys {}",
        command
            .get_args()
            .map(|a| format!("{:?}", a.to_string_lossy()))
            .collect::<Vec<_>>()
            .join(" ")
    );
    let (output, written) = run_fed(command, input.as_deref());
    let stdout = String::from_utf8(output.stdout).expect("stdout is not UTF-8");
    let stderr = String::from_utf8(output.stderr).expect("stderr is not UTF-8");
    let code = output.status.code().unwrap_or_else(|| {
        panic!(
            "{what} was killed by a signal ({:?}); stderr: {stderr}",
            output.status
        )
    });
    let run = Run {
        what,
        code,
        stdout,
        stderr,
    };
    assert!(
        !run.stdout.contains("panicked") && !run.stderr.contains("panicked"),
        "hivekeys panicked: {run:#?}"
    );
    (run, written)
}

impl Run {
    #[track_caller]
    pub fn success(self) -> Run {
        assert_eq!(self.code, 0, "{} failed: {self:#?}", self.what);
        self
    }

    #[track_caller]
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {self:#?}"))
    }

    /// The single line stdout holds (and asserts it holds exactly one).
    #[track_caller]
    pub fn only_line(&self) -> &str {
        assert!(
            self.stdout.ends_with('\n'),
            "stdout must end in a newline: {self:#?}"
        );
        let lines: Vec<&str> = self.stdout.lines().collect();
        assert_eq!(lines.len(), 1, "stdout must be exactly one line: {self:#?}");
        lines[0]
    }

    /// A failed command: non-zero exit, nothing on stdout, one non-empty line on stderr.
    #[track_caller]
    pub fn one_line_error(&self, code: i32) -> &Run {
        assert_eq!(self.code, code, "exit status: {self:#?}");
        assert_eq!(
            self.stdout, "",
            "a failed command prints nothing on stdout: {self:#?}"
        );
        let lines: Vec<&str> = self.stderr.lines().collect();
        assert_eq!(lines.len(), 1, "stderr must be exactly one line: {self:#?}");
        assert!(
            !lines[0].trim().is_empty(),
            "stderr line is empty: {self:#?}"
        );
        assert!(
            self.stderr.ends_with('\n'),
            "stderr must end in a newline: {self:#?}"
        );
        self
    }

    /// A usage error reported by clap: exit 2 and a message naming the bad value (clap adds
    /// its own "For more information" lines).
    #[track_caller]
    pub fn clap_error(&self, bad_value: &str) {
        assert_eq!(self.code, 2, "exit status: {self:#?}");
        assert_eq!(self.stdout, "", "{self:#?}");
        assert!(
            self.stderr.contains(bad_value),
            "stderr must name {bad_value:?}: {self:#?}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// A sandbox: a temporary directory and a store path in it
// ---------------------------------------------------------------------------------------------

/// A temporary directory (home, data directory, store) that goes with the test. Fields drop in
/// order: nothing here holds the store open, so the directory can go at once.
pub struct Sandbox {
    pub dir: TempDir,
    pub db: PathBuf,
}

impl Sandbox {
    /// A sandbox whose store is `store.db` at its top.
    pub fn new() -> Sandbox {
        Sandbox::with_store_at("store.db")
    }

    /// A sandbox whose store is `relative` inside it (its directories not made yet).
    pub fn with_store_at(relative: &str) -> Sandbox {
        let dir = tempfile::tempdir().expect("temporary directory");
        let db = dir.path().join(relative);
        Sandbox { dir, db }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The binary in this sandbox's clean environment, no arguments yet.
    pub fn bare_command(&self) -> Command {
        hivekeys(self.path())
    }

    /// `hivekeys --db <this store> <args…>` in this sandbox's clean environment.
    pub fn command<S: AsRef<OsStr>>(&self, args: &[S]) -> Command {
        let mut command = self.bare_command();
        command.arg("--db").arg(&self.db).args(args);
        command
    }

    pub fn output(&self, args: &[&str], stdin: Option<&[u8]>) -> Output {
        output(self.command(args), stdin)
    }

    /// Runs `args`, `stdin` fed to it; it must succeed. Returns stdout.
    #[track_caller]
    pub fn stdout_of(&self, args: &[&str], stdin: Option<&[u8]>) -> String {
        let out = self.output(args, stdin);
        assert!(
            out.status.success(),
            "hivekeys {args:?} failed: {}\nstdout: {}\nstderr: {}",
            out.status,
            text(&out.stdout),
            text(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("UTF-8 stdout")
    }

    /// `hivekeys create`: the full key it prints.
    #[track_caller]
    pub fn create_key(&self, name: &str, env: &str) -> String {
        self.stdout_of(&["create", "--name", name, "--env", env], None)
            .trim_end()
            .to_owned()
    }

    /// `list --json`, parsed.
    #[track_caller]
    pub fn list_json(&self) -> Vec<Value> {
        json_array(&self.stdout_of(&["list", "--json"], None))
    }

    /// `verify`, the key on stdin: its JSON verdict.
    #[track_caller]
    pub fn verify_json(&self, key: &str) -> Value {
        let out = self.output(&["verify"], Some(key.as_bytes()));
        serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("verify's stdout is not JSON ({e}): {}", output_text(&out)))
    }

    /// `show <key> --json`, parsed.
    #[track_caller]
    pub fn show_json(&self, key: &str) -> Value {
        let stdout = self.stdout_of(&["show", key, "--json"], None);
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}"))
    }
}

// ---------------------------------------------------------------------------------------------
// JSON
// ---------------------------------------------------------------------------------------------

/// Text that must be one JSON array (what `list --json` prints).
#[track_caller]
pub fn json_array(stdout: &str) -> Vec<Value> {
    match serde_json::from_str(stdout) {
        Ok(Value::Array(items)) => items,
        other => panic!("not a JSON array: {other:?}\n{stdout}"),
    }
}

/// The object in `items` whose `field` is `value`.
#[track_caller]
pub fn entry<'a>(items: &'a [Value], field: &str, value: &str) -> &'a Value {
    items
        .iter()
        .find(|item| item[field] == value)
        .unwrap_or_else(|| panic!("no entry with {field} = {value:?} in {items:#?}"))
}

// ---------------------------------------------------------------------------------------------
// Keys and store files
// ---------------------------------------------------------------------------------------------

/// PRODUCT.md's masked form: prefix, first 4 secret characters, `…`, last 4 characters.
pub fn masked(key: &str) -> String {
    let prefix = key.match_indices('_').nth(1).expect("fhk_<env>_").0 + 1;
    format!("{}…{}", &key[..prefix + 4], &key[key.len() - 4..])
}

pub const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// `^fhk_(prod|stg|dev)_[0-9A-Za-z]{38}$`
pub fn is_full_key(text: &str) -> bool {
    let Some(rest) = text.strip_prefix("fhk_") else {
        return false;
    };
    ["prod_", "stg_", "dev_"].iter().any(|code| {
        rest.strip_prefix(code)
            .is_some_and(|body| body.len() == 38 && body.bytes().all(|b| b.is_ascii_alphanumeric()))
    })
}

/// Whether `text` contains anything matching `fhk_(prod|stg|dev)_[0-9A-Za-z]{38}`.
pub fn contains_full_key(text: &str) -> bool {
    text.match_indices("fhk_").any(|(at, _)| {
        let rest = &text[at + 4..];
        ["prod_", "stg_", "dev_"].iter().any(|code| {
            rest.strip_prefix(code).is_some_and(|body| {
                body.len() >= 38 && body.as_bytes()[..38].iter().all(u8::is_ascii_alphanumeric)
            })
        })
    })
}

/// PRODUCT.md's checksum: CRC32 (IEEE) of everything before it, six base62 digits, most
/// significant first, zero-padded.
pub fn checksum(signed: &str) -> String {
    let mut value = crc32fast::hash(signed.as_bytes());
    let mut digits = [b'0'; 6];
    for digit in digits.iter_mut().rev() {
        *digit = BASE62[(value % 62) as usize];
        value /= 62;
    }
    String::from_utf8(digits.to_vec()).expect("ascii")
}

/// `path` with `suffix` appended (SQLite's sidecar files: `-wal`, `-shm`, `-journal`).
pub fn sidecar(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// The database and every sidecar SQLite may have left next to it.
pub fn store_files(db: &Path) -> Vec<PathBuf> {
    ["", "-wal", "-shm", "-journal"]
        .iter()
        .map(|suffix| sidecar(db, suffix))
        .filter(|path| path.exists())
        .collect()
}

pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

/// No file of the store holds any of `keys`: not whole, not their 32 secret characters, not
/// the part of the secret the masked form hides.
#[track_caller]
pub fn assert_keys_not_on_disk(db: &Path, keys: &[String], when: &str) {
    let files = store_files(db);
    assert!(!files.is_empty(), "{when}: no database file to check");
    for file in files {
        let bytes = std::fs::read(&file).expect("read a store file");
        assert_keys_not_in(&bytes, keys, &format!("{when}: {}", file.display()));
    }
}

/// `bytes` (a store file, a dump of a database) hold none of `keys`: not whole, not their 32
/// secret characters, not the part of the secret the masked form hides.
#[track_caller]
pub fn assert_keys_not_in(bytes: &[u8], keys: &[String], what_and_when: &str) {
    for key in keys {
        let body = &key[key.rfind('_').expect("fhk_<env>_") + 1..];
        let secret = &body[..32];
        for (what, needle) in [
            ("full key", key.as_str()),
            ("secret", secret),
            ("hidden middle of the secret", &secret[4..]),
        ] {
            assert!(
                !contains(bytes, needle.as_bytes()),
                "{what_and_when}: the {what} is there"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Library fixtures
// ---------------------------------------------------------------------------------------------

/// Store options for a test: the given clock, seeded entropy, "alice" in the audit trail, and
/// a busy timeout long enough for a loaded machine.
pub fn store_options(clock: &Arc<ManualClock>, seed: u64) -> StoreOptions {
    StoreOptions {
        clock: clock.clone(),
        entropy: Box::new(SeededEntropy::new(seed)),
        actor: "alice".into(),
        busy_timeout: Duration::from_secs(5),
        ..StoreOptions::default()
    }
}

/// The tests' random choices: the same on every run for a given seed.
pub fn seeded_rng(seed: u64) -> StdRng {
    StdRng::seed_from_u64(seed)
}

// ---------------------------------------------------------------------------------------------
// Terminals
// ---------------------------------------------------------------------------------------------

pub fn nonzero(n: u16) -> NonZeroU16 {
    NonZeroU16::new(n).expect("a terminal size is never zero")
}

/// A rendered buffer as text that keeps its styles: each line, with every run of cells that
/// share a non-default style written `[fg:Red,bold]text[/]`, and unstyled trailing blanks
/// dropped. Cells hidden under a wide character are skipped, as a terminal would.
pub fn styled_buffer(buffer: &Buffer) -> String {
    let width = usize::from(buffer.area.width).max(1);
    let mut out = String::new();
    for cells in buffer.content.chunks(width) {
        let mut line = String::new();
        let mut open: Option<String> = None;
        let mut skip = 0u16;
        for cell in cells {
            if skip == 0 {
                let style = style_name(cell.fg, cell.bg, cell.modifier);
                if style != open {
                    if open.is_some() {
                        line.push_str("[/]");
                    }
                    if let Some(style) = &style {
                        write!(line, "[{style}]").unwrap();
                    }
                    open = style;
                }
                line.push_str(cell.symbol());
            }
            skip = skip.max(cell.cell_width()).saturating_sub(1);
        }
        if open.is_some() {
            line.push_str("[/]");
        }
        out.push_str(line.trim_end_matches(' '));
        out.push('\n');
    }
    out
}

/// `fg:Red,bg:Blue,bold,dim`, or `None` for the terminal's default style.
fn style_name(fg: Color, bg: Color, modifier: Modifier) -> Option<String> {
    let mut parts = Vec::new();
    if fg != Color::Reset {
        parts.push(format!("fg:{fg:?}"));
    }
    if bg != Color::Reset {
        parts.push(format!("bg:{bg:?}"));
    }
    parts.extend(modifier.iter_names().map(|(name, _)| name.to_lowercase()));
    (!parts.is_empty()).then(|| parts.join(","))
}

/// A well-formed key (right checksum) whose secret is easy to spot in any output: after its
/// first four characters, only `Zx` pairs, which no message or help text contains.
pub fn conspicuous_key() -> String {
    let signed = format!("fhk_prod_7Gq1{}", "Zx".repeat(14));
    let checksum = hivekeys::key::checksum_digits(signed.as_bytes());
    let key = format!("{signed}{}", std::str::from_utf8(&checksum).unwrap());
    assert!(hivekeys::key::check_format(&key).is_ok(), "{key}");
    key
}

/// `text` shows nothing of `key` but its masked form: no two secret characters past the first
/// four, and every `fhk_` in it is the masked form or a shorter head of it.
#[track_caller]
pub fn assert_masked_only(what: &str, text: &str, key: &str) {
    assert!(
        !text.contains("Zx") && !text.contains("xZ"),
        "{what} shows secret characters: {text}"
    );
    let masked = hivekeys::key::mask(key);
    let head = &masked[..masked.find('…').unwrap() + '…'.len_utf8()];
    let last_four = &key[key.len() - 4..];
    for (at, _) in text.match_indices("fhk_") {
        let after_head = text[at..]
            .strip_prefix(head)
            .unwrap_or_else(|| panic!("{what}: a key shown other than as {masked:?}: {text}"));
        // Then the last four, or nothing of the key (a head alone, for a cut-off key).
        let tail: String = after_head
            .chars()
            .take_while(char::is_ascii_alphanumeric)
            .collect();
        assert!(
            tail.is_empty() || tail.starts_with(last_four),
            "{what}: {tail:?} after {head:?}: {text}"
        );
    }
}

/// Text that tries everything: escape sequences (colour, clear screen, OSC 52 clipboard
/// write, window title), bidi overrides, NUL, DEL, C1 controls, wide characters, emoji.
pub const NASTY: &[&str] = &[
    "\u{1b}[31mred\u{1b}[0m",
    "\u{1b}[2J\u{1b}[H",
    "\u{1b}]52;c;ZWNobyBwd25lZA==\u{7}",
    "\u{1b}]0;title\u{7}",
    "\u{202e}evil\u{202c}",
    "nul\u{0}byte",
    "del\u{7f}",
    "c1\u{9b}31m",
    "東京🚀",
    "",
    " ",
];
