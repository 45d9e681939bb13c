//! End-to-end tests of the dashboard: the real `hivekeys` binary in a pseudo-terminal, driven
//! by key presses written to the pty, read back through a terminal emulator (`vt100`). They
//! pin down what PRODUCT.md promises about the dashboard and that only a real terminal can
//! show: the screen the admin sees, the OSC 52 bytes that reach the terminal, live refresh
//! from other processes, the "too small" notice, and a terminal handed back in the state it
//! was found (main screen, cooked mode, cursor shown, bracketed paste off).
//!
//! Nothing here sleeps for a fixed time to be correct: every step waits, with a deadline, for
//! what it expects to see, and a timeout shows the screen as it was.

mod common;

use std::fs;
use std::process::Output;
use std::thread;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use common::pty::{
    CURSOR_HIDE, CURSOR_SHOW, Launch, POLL, Pty, find, framed, last_cursor_move, rfind, soon,
};
use common::{Sandbox, entry, masked};
use serde_json::Value;

/// PRODUCT.md: the table reflects other processes' changes "within two seconds"; half a
/// second more for the CLI's own exit and the terminal round trip.
const LIVE_REFRESH: Duration = Duration::from_millis(2500);

const ROWS: u16 = 40;
const COLS: u16 = 120;

const ENTER_ALT_SCREEN: &[u8] = b"\x1b[?1049h";
const LEAVE_ALT_SCREEN: &[u8] = b"\x1b[?1049l";
const PASTE_ON: &[u8] = b"\x1b[?2004h";
const PASTE_OFF: &[u8] = b"\x1b[?2004l";
const OSC52_START: &[u8] = b"\x1b]52;c;";

const ENTER: &[u8] = b"\r";
const ESC: &[u8] = b"\x1b";
const DOWN: &[u8] = b"\x1b[B";
const CTRL_C: &[u8] = b"\x03";

// ---------------------------------------------------------------------------------------------
// The command line on the sandbox's store
// ---------------------------------------------------------------------------------------------

impl Sandbox {
    /// Runs a CLI command against the sandbox's store, `stdin` fed to it (or nothing).
    fn cli(&self, args: &[&str], stdin: Option<&str>) -> Output {
        self.output(args, stdin.map(str::as_bytes))
    }

    #[track_caller]
    fn cli_ok(&self, args: &[&str], stdin: Option<&str>) -> String {
        self.stdout_of(args, stdin.map(str::as_bytes))
    }
}

// ---------------------------------------------------------------------------------------------
// The dashboard in a pseudo-terminal (tests/common/pty.rs), and what only these tests ask of it
// ---------------------------------------------------------------------------------------------

/// Starts `hivekeys --db <store>` (the dashboard) in a `cols`×`rows` pty.
fn dashboard(sandbox: &Sandbox, rows: u16, cols: u16, env: &[(&str, &str)]) -> Pty {
    dashboard_via(sandbox, rows, cols, env, &[])
}

/// The same, started through `via` (a program and its arguments, e.g. `setpriv …`).
fn dashboard_via(
    sandbox: &Sandbox,
    rows: u16,
    cols: u16,
    env: &[(&str, &str)],
    via: &[&str],
) -> Pty {
    Pty::launch(
        sandbox,
        Launch {
            rows,
            cols,
            env,
            via,
            ..Launch::default()
        },
    )
}

impl Pty {
    /// Waits until the table row showing `masked` (a key's masked form) satisfies `ok`;
    /// returns that row.
    #[track_caller]
    fn wait_row(
        &self,
        what: &str,
        masked: &str,
        deadline: Instant,
        ok: impl Fn(&str) -> bool,
    ) -> (String, String) {
        let screen = self.wait_until_by(what, deadline, |s| table_row(s, masked).is_some_and(&ok));
        let row = table_row(&screen, masked).unwrap().to_owned();
        (row, screen)
    }

    /// Raw mode is on while the dashboard runs.
    #[track_caller]
    fn assert_raw_mode(&self) {
        assert_ne!(
            self.modes(),
            self.modes_before,
            "the dashboard is drawn but the terminal's modes are unchanged (no raw mode)"
        );
    }

    /// After the dashboard exited: the terminal is as it was found.
    #[track_caller]
    fn assert_restored(&self) {
        assert!(self.exited().is_some(), "assert_restored before exit");
        // The reader may still be catching up with the last bytes.
        let deadline = soon();
        let log = loop {
            let log = self.log();
            if restore_problems(&log).is_empty() || Instant::now() >= deadline {
                break log;
            }
            thread::sleep(POLL);
        };
        let problems = restore_problems(&log);
        assert!(
            problems.is_empty(),
            "terminal not restored: {problems:?}\nlast bytes: {}\n{}",
            escaped_tail(&log, 300),
            framed(&self.screen())
        );
        {
            let parser = self.parser();
            let screen = parser.screen();
            assert!(!screen.alternate_screen(), "still in the alternate screen");
            assert!(!screen.bracketed_paste(), "bracketed paste still on");
            assert!(!screen.hide_cursor(), "cursor still hidden");
        }
        assert_eq!(
            self.modes(),
            self.modes_before,
            "the terminal's modes (raw mode) were not restored"
        );
    }
}

/// What is wrong with the end of `log` as a restored terminal; empty when all is well. The
/// restore must come after the last frame (the last cursor move a draw makes).
fn restore_problems(log: &[u8]) -> Vec<String> {
    let last_draw = last_cursor_move(log).unwrap_or(0);
    let mut problems = Vec::new();
    let mut check = |what: &str, off: &[u8], on: &[u8]| {
        let after_on = rfind(log, on).map_or(0, |p| p + on.len());
        match rfind(log, off) {
            Some(p) if p >= last_draw && p >= after_on => {}
            Some(_) => problems.push(format!("{what} not sent after the last frame")),
            None => problems.push(format!("{what} never sent")),
        }
    };
    check("leave alternate screen", LEAVE_ALT_SCREEN, ENTER_ALT_SCREEN);
    check("bracketed paste off", PASTE_OFF, PASTE_ON);
    check("cursor show", CURSOR_SHOW, CURSOR_HIDE);
    problems
}

/// The OSC 52 payloads in `log`, decoded.
fn osc52_payloads(log: &[u8]) -> Vec<Vec<u8>> {
    let mut payloads = Vec::new();
    let mut rest = log;
    while let Some(start) = find(rest, OSC52_START) {
        rest = &rest[start + OSC52_START.len()..];
        let end = rest
            .iter()
            .position(|&b| b == 0x07)
            .expect("an OSC 52 sequence ends in BEL");
        payloads.push(
            STANDARD
                .decode(&rest[..end])
                .expect("the OSC 52 payload is base64"),
        );
        rest = &rest[end..];
    }
    payloads
}

/// The one full key on screen: a word starting with `prefix` of the full key's length.
#[track_caller]
fn key_on_screen(screen: &str, prefix: &str) -> String {
    // fhk_<env>_ + 32 characters of secret + 6 of checksum.
    let length = prefix.len() + 32 + 6;
    let found: Vec<&str> = screen
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|word| word.starts_with(prefix) && word.len() == length)
        .collect();
    assert_eq!(
        found.len(),
        1,
        "expected exactly one full {prefix}… key on screen\n{}",
        framed(screen)
    );
    found[0].to_owned()
}

/// The table row (inside the table's border) that shows the key masked as `masked`.
fn table_row<'a>(screen: &'a str, masked: &str) -> Option<&'a str> {
    screen
        .lines()
        .find(|line| line.starts_with('│') && line.contains(masked))
}

fn escaped_tail(log: &[u8], n: usize) -> String {
    let tail = &log[log.len().saturating_sub(n)..];
    tail.escape_ascii().to_string()
}

// ---------------------------------------------------------------------------------------------
// The tests
// ---------------------------------------------------------------------------------------------

/// The main flow on an empty store: create the default key, copy it (OSC 52), verify it with
/// the CLI; add a Staging key and close its dialog without copying; revoke it; quit.
#[test]
fn create_copy_add_revoke_and_quit() {
    let sandbox = Sandbox::new();
    let mut dash = dashboard(&sandbox, ROWS, COLS, &[]);

    // An empty workspace.
    dash.wait_for("Default API Key");
    dash.wait_for("This workspace has no active default API key.");
    dash.wait_for("No additional keys yet.");
    dash.assert_raw_mode();

    // D: Create Default Key, Production preselected; Enter creates.
    dash.send(b"D");
    let dialog = dash.wait_for("┌ Create Default Key");
    assert!(
        dialog.contains("▶ (•) Production"),
        "Production must be preselected\n{}",
        framed(&dialog)
    );
    dash.send(ENTER);
    let dialog = dash.wait_for("┌ Your New API Key");
    let key = key_on_screen(&dialog, "fhk_prod_");
    assert!(dialog.contains("Not copied yet."), "{}", framed(&dialog));
    assert!(
        dialog.contains("will not be shown again"),
        "{}",
        framed(&dialog)
    );

    // c: copy. Without a display there is no system clipboard: OSC 52 only, said honestly.
    assert!(
        osc52_payloads(&dash.log()).is_empty(),
        "OSC 52 sent before c"
    );
    dash.send(b"c");
    let copied = dash.wait_until("the copy message", |s| {
        !s.contains("Not copied yet.") && s.contains("OSC 52")
    });
    assert!(
        copied.contains("Sent to the terminal's clipboard"),
        "{}",
        framed(&copied)
    );
    let payloads = osc52_payloads(&dash.log());
    assert_eq!(
        payloads.len(),
        1,
        "one OSC 52 sequence per copy: {payloads:?}"
    );
    assert_eq!(
        String::from_utf8_lossy(&payloads[0]),
        key,
        "OSC 52 must carry the key on screen"
    );

    // Enter closes at once after a copy; the panel then shows only the masked key.
    dash.send(ENTER);
    let screen = dash.wait_gone("Your New API Key");
    assert!(!screen.contains(&key), "the full key is still on screen");
    dash.wait_for(&masked(&key));

    // The key on screen is a working key.
    let output = sandbox.cli(&["verify"], Some(&format!("{key}\n")));
    let verdict: Value = serde_json::from_slice(&output.stdout).expect("verify prints JSON");
    assert!(output.status.success(), "verify: {verdict}");
    assert_eq!(verdict["valid"], true, "{verdict}");
    assert_eq!(verdict["environment"], "production", "{verdict}");

    // a: Add API Key "e2e worker" for Staging.
    dash.send(b"a");
    dash.wait_for("┌ Add API Key");
    dash.send(b"e2e worker");
    dash.wait_for("› e2e worker");
    dash.send(DOWN);
    dash.wait_for("▶ (•) Staging");
    dash.send(ENTER);
    let dialog = dash.wait_for("┌ Your New API Key");
    assert!(
        dialog.contains("Created \"e2e worker\"") && dialog.contains("Staging)."),
        "{}",
        framed(&dialog)
    );
    let worker_key = key_on_screen(&dialog, "fhk_stg_");
    let worker_masked = masked(&worker_key);

    // Enter without copying asks once more; y closes.
    dash.send(ENTER);
    dash.wait_for("Close anyway?");
    dash.send(b"y");
    let screen = dash.wait_gone("Your New API Key");
    assert!(
        !screen.contains(&worker_key),
        "the full key is still on screen"
    );
    let (row, _) = dash.wait_row("the new key in the table", &worker_masked, soon(), |row| {
        row.contains("e2e worker")
    });
    assert!(
        row.contains("Staging") && row.contains("Active") && row.contains("Never"),
        "row: {row}"
    );
    assert_eq!(
        osc52_payloads(&dash.log()).len(),
        1,
        "nothing copied without c"
    );

    // x: revoke it (the only row, so the selected one); the dialog names the key; y confirms.
    dash.send(b"x");
    let confirm = dash.wait_for("Revoke \"e2e worker\"");
    assert!(confirm.contains("┌ Revoke Key"), "{}", framed(&confirm));
    dash.send(b"y");
    dash.wait_row("the row to say Revoked", &worker_masked, soon(), |row| {
        row.contains("Revoked")
    });
    let screen = dash.wait_for("Revoked key_");

    // The store agrees, and the screens named that key.
    let keys = sandbox.list_json();
    let worker = entry(&keys, "name", "e2e worker");
    assert_eq!(worker["status"], "revoked", "{worker}");
    assert_eq!(worker["environment"], "staging", "{worker}");
    assert_eq!(worker["masked_key"], worker_masked.as_str(), "{worker}");
    let id = worker["id"].as_str().expect("id");
    assert!(
        confirm.contains(id),
        "the confirmation must name {id}\n{}",
        framed(&confirm)
    );
    assert!(
        screen.contains(&format!("Revoked {id} \"e2e worker\"")),
        "{}",
        framed(&screen)
    );
    let default = keys
        .iter()
        .find(|k| k["is_default"] == true)
        .unwrap_or_else(|| panic!("no default key in {keys:#?}"));
    assert_eq!(default["status"], "active", "{default}");
    assert_eq!(default["masked_key"], masked(&key).as_str(), "{default}");
    assert_eq!(default["use_count"], 1, "verified once: {default}");

    // q quits; the terminal is handed back.
    dash.send(b"q");
    let status = dash.wait_exit();
    assert!(status.success(), "exit status {status:?}");
    dash.assert_restored();
    let main_screen = dash.screen();
    assert!(
        !main_screen.contains(&key) && !main_screen.contains(&worker_key),
        "a full key reached the main screen\n{}",
        framed(&main_screen)
    );
}

/// Changes by other processes (the CLI here) appear within two seconds, without a key press.
#[test]
fn table_follows_other_processes() {
    let sandbox = Sandbox::new();
    let alpha = sandbox.create_key("alpha svc", "prod");
    let beta = sandbox.create_key("beta svc", "stg");
    let gamma = sandbox.create_key("gamma svc", "dev");
    let (alpha_masked, beta_masked, gamma_masked) = (masked(&alpha), masked(&beta), masked(&gamma));

    let mut dash = dashboard(&sandbox, ROWS, COLS, &[]);
    dash.wait_for("3 of 3 keys");
    for (masked, name) in [
        (&alpha_masked, "alpha svc"),
        (&beta_masked, "beta svc"),
        (&gamma_masked, "gamma svc"),
    ] {
        let (row, _) = dash.wait_row(name, masked, soon(), |row| row.contains(name));
        assert!(
            row.contains("Active") && row.contains("Never"),
            "row: {row}"
        );
    }

    // Revoked by the CLI.
    sandbox.cli_ok(&["revoke", "beta svc", "--yes"], None);
    let deadline = Instant::now() + LIVE_REFRESH;
    let (_, screen) = dash.wait_row("beta svc to show Revoked", &beta_masked, deadline, |row| {
        row.contains("Revoked")
    });
    for masked in [&alpha_masked, &gamma_masked] {
        let row = table_row(&screen, masked).expect("row");
        assert!(row.contains("Active"), "row: {row}");
    }

    // Used (verified) by the CLI.
    let verdict = sandbox.cli_ok(&["verify"], Some(&format!("{alpha}\n")));
    assert!(verdict.contains("\"valid\":true"), "{verdict}");
    let deadline = Instant::now() + LIVE_REFRESH;
    let (row, _) = dash.wait_row(
        "alpha svc's Last used to change from Never",
        &alpha_masked,
        deadline,
        |row| !row.contains("Never"),
    );
    assert!(row.contains("just now"), "row: {row}");

    dash.send(b"q");
    let status = dash.wait_exit();
    assert!(status.success(), "exit status {status:?}");
    dash.assert_restored();
}

/// Two admins, two dashboards on one store: a revoke in one shows in the other within the
/// two seconds PRODUCT.md promises, with no key pressed there.
#[test]
fn a_revoke_in_one_dashboard_shows_in_another() {
    let sandbox = Sandbox::new();
    let key = sandbox.create_key("shared svc", "prod");
    let shared_masked = masked(&key);
    sandbox.create_key("other svc", "dev");

    let mut first = dashboard(&sandbox, ROWS, COLS, &[]);
    let mut second = dashboard(&sandbox, ROWS, COLS, &[]);
    for dash in [&mut first, &mut second] {
        dash.wait_row("shared svc, active", &shared_masked, soon(), |row| {
            row.contains("Active")
        });
    }

    // In the first: select "shared svc" (created first, so the second row) and revoke it.
    first.send(b"/shared");
    first.wait_for("1 of 2 keys");
    first.send(ENTER);
    first.send(b"x");
    first.wait_for("Revoke \"shared svc\"");
    first.send(b"y");
    first.wait_row("Revoked in the first", &shared_masked, soon(), |row| {
        row.contains("Revoked")
    });
    let revoked_at = Instant::now();

    // The second sees it by itself.
    second.wait_row(
        "Revoked in the second, untouched",
        &shared_masked,
        revoked_at + LIVE_REFRESH,
        |row| row.contains("Revoked"),
    );

    for dash in [&mut first, &mut second] {
        dash.send(b"q");
        let status = dash.wait_exit();
        assert!(status.success(), "exit status {status:?}");
        dash.assert_restored();
    }
}

/// A store its user may read but not write: the dashboard shows it, and a change it cannot
/// make is one sentence on the screen, not a crash. Root ignores permission bits, so when the
/// tests run as root the dashboard runs as `nobody` (through util-linux's `setpriv`) on files
/// `nobody` owns.
#[test]
fn a_read_only_store_is_shown_and_refuses_changes_on_screen() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let sandbox = Sandbox::new();
    let key = sandbox.create_key("kept svc", "prod");
    let kept_masked = masked(&key);
    let root = fs::metadata("/proc/self").expect("/proc").uid() == 0;
    let mut via: Vec<&str> = Vec::new();
    if root {
        for path in [sandbox.dir.path().to_path_buf(), sandbox.db.clone()] {
            std::os::unix::fs::chown(&path, Some(65_534), Some(65_534)).expect("chown");
        }
        fs::set_permissions(sandbox.dir.path(), fs::Permissions::from_mode(0o755)).expect("chmod");
        via = vec![
            "setpriv",
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "--",
        ];
    }
    fs::set_permissions(&sandbox.db, fs::Permissions::from_mode(0o400)).expect("chmod");
    let before = fs::read(&sandbox.db).expect("read store");

    let mut dash = dashboard_via(&sandbox, ROWS, COLS, &[], &via);
    dash.wait_row(
        "the key, read from a read-only store",
        &kept_masked,
        soon(),
        |row| row.contains("Active"),
    );
    // D: create the default key; Enter confirms; the store refuses.
    dash.send(b"D");
    dash.wait_for("┌ Create Default Key");
    dash.send(ENTER);
    let screen = dash.wait_for("read-only");
    assert!(!screen.contains("Your New API Key"), "{}", framed(&screen));
    dash.send(ESC);
    dash.wait_gone("┌ Create Default Key");
    assert_eq!(
        fs::read(&sandbox.db).expect("read store"),
        before,
        "the store changed"
    );

    dash.send(b"q");
    let status = dash.wait_exit();
    assert!(status.success(), "exit status {status:?}");
    dash.assert_restored();
}

/// Below 60×16 the dashboard says so; once the terminal is large enough it draws the page.
/// Ctrl-C quits cleanly.
#[test]
fn too_small_then_resized_then_ctrl_c() {
    let sandbox = Sandbox::new();
    let mut dash = dashboard(&sandbox, 12, 50, &[]);
    let screen = dash.wait_until("the too-small notice", |s| {
        s.to_lowercase().contains("terminal too small")
    });
    assert!(
        !screen.contains("Default API Key"),
        "no broken layout\n{}",
        framed(&screen)
    );
    assert!(screen.contains("50×12"), "{}", framed(&screen));

    dash.resize(ROWS, COLS);
    let screen = dash.wait_for("Default API Key");
    assert!(
        !screen.to_lowercase().contains("terminal too small"),
        "{}",
        framed(&screen)
    );
    dash.wait_for("No additional keys yet.");

    dash.send(CTRL_C);
    let status = dash.wait_exit();

    assert!(status.success(), "exit status {status:?}");
    dash.assert_restored();
}

/// Ctrl-C on a new key that has not been copied asks first, like closing the dialog does;
/// a second Ctrl-C quits, and the terminal is restored.
#[test]
fn ctrl_c_on_an_uncopied_new_key_asks_then_quits() {
    let sandbox = Sandbox::new();
    let mut dash = dashboard(&sandbox, ROWS, COLS, &[]);
    dash.wait_for("No additional keys yet.");
    dash.send(b"D");
    dash.wait_for("┌ Create Default Key");
    dash.send(ENTER);
    let dialog = dash.wait_for("┌ Your New API Key");
    let key = key_on_screen(&dialog, "fhk_prod_");

    dash.send(CTRL_C);
    let asking = dash.wait_for("You have not copied the key");
    assert!(
        asking.contains(&key),
        "the key is gone\n{}",
        framed(&asking)
    );
    assert!(dash.exited().is_none(), "one Ctrl-C quit and lost the key");

    dash.send(CTRL_C);
    let status = dash.wait_exit();
    assert!(status.success(), "exit status {status:?}");
    dash.assert_restored();
}

/// A store error while the dashboard runs (another process holds the write lock past the
/// busy timeout) is shown in the dialog, which keeps the (pasted) name; once the lock is gone,
/// the same Enter succeeds. Also: Esc on the new key asks once more, and n goes back to it.
#[test]
fn busy_store_error_is_shown_and_recoverable() {
    let sandbox = Sandbox::new();
    let mut dash = dashboard(&sandbox, ROWS, COLS, &[("HIVEKEYS_BUSY_TIMEOUT_MS", "200")]);
    dash.wait_for("No additional keys yet.");

    let blocker = rusqlite::Connection::open(&sandbox.db).expect("open the store");
    blocker
        .execute_batch("BEGIN IMMEDIATE")
        .expect("take the write lock");

    dash.send(b"a");
    dash.wait_for("┌ Add API Key");
    // Pasted (bracketed paste), with the trailing newline a copied line usually has.
    dash.send(b"\x1b[200~locked out\n\x1b[201~");
    dash.wait_for("› locked out");
    dash.send(ENTER);
    let screen = dash.wait_for("The database is busy");
    assert!(
        screen.contains("┌ Add API Key") && screen.contains("› locked out"),
        "the dialog stays open with the name\n{}",
        framed(&screen)
    );

    blocker.execute_batch("ROLLBACK").expect("release the lock");
    drop(blocker);
    dash.send(ENTER);
    let dialog = dash.wait_for("┌ Your New API Key");
    let key = key_on_screen(&dialog, "fhk_prod_");
    // Esc before copying asks once more; n goes back to the key; Esc again, y closes.
    dash.send(ESC);
    dash.wait_for("Close anyway?");
    dash.send(b"n");
    let back = dash.wait_gone("Close anyway?");
    assert!(
        back.contains("┌ Your New API Key") && back.contains(&key),
        "n must return to the key\n{}",
        framed(&back)
    );
    dash.send(ESC);
    dash.wait_for("Close anyway?");
    dash.send(b"y");
    dash.wait_gone("Your New API Key");
    dash.wait_row("the new key in the table", &masked(&key), soon(), |row| {
        row.contains("locked out")
    });

    dash.send(b"q");
    let status = dash.wait_exit();
    assert!(status.success(), "exit status {status:?}");
    dash.assert_restored();
}

/// A store that cannot be opened: one clear error, a failing exit status, and the terminal
/// never taken over.
#[test]
fn unusable_store_fails_before_touching_the_terminal() {
    let sandbox = Sandbox::new();
    std::fs::write(&sandbox.db, vec![b'x'; 4096]).expect("write a file that is not SQLite");
    let dash = dashboard(&sandbox, ROWS, COLS, &[]);
    let status = dash.wait_exit();
    assert!(!status.success(), "exit status {status:?}");
    let screen = dash.wait_for("is not a hivekeys database");
    assert!(screen.contains("error: "), "{}", framed(&screen));
    let log = dash.log();
    assert!(
        find(&log, ENTER_ALT_SCREEN).is_none() && find(&log, PASTE_ON).is_none(),
        "the terminal was taken over: {}",
        escaped_tail(&log, 300)
    );
    assert!(!dash.parser().screen().alternate_screen());
    assert_eq!(dash.modes(), dash.modes_before, "terminal modes changed");
}

/// SIGTERM and SIGINT (a shutdown, `kill`) end the dashboard like `q`, with exit status 0;
/// SIGHUP (the terminal closed) with status 1. Each hands the terminal back.
#[test]
fn sigterm_sigint_and_sighup_restore_the_terminal() {
    for (signal, code) in [("-TERM", 0), ("-INT", 0), ("-HUP", 1)] {
        let sandbox = Sandbox::new();
        let dash = dashboard(&sandbox, ROWS, COLS, &[]);
        dash.wait_for("No additional keys yet.");
        dash.assert_raw_mode();
        let pid = dash.pid();
        let killed = std::process::Command::new("kill")
            .args([signal, &pid.to_string()])
            .status()
            .expect("run kill");
        assert!(killed.success(), "kill {signal} failed");
        let status = dash.wait_exit();
        assert_eq!(status.exit_code(), code, "{signal}: exit status {status:?}");
        dash.assert_restored();
    }
}

/// The store file deleted under a running dashboard: it says so and refuses to create a key
/// (never showing one that lives only in the deleted file). A backup moved into its place:
/// the dashboard switches to it, shows its keys, and a key created then verifies on the path.
#[test]
fn a_store_deleted_then_restored_under_the_dashboard() {
    let sandbox = Sandbox::new();
    // The "backup": the sandbox's store with one key, copied aside while nothing is open.
    sandbox.create_key("From the backup", "stg");
    let backup = sandbox.dir.path().join("backup.db");
    fs::copy(&sandbox.db, &backup).expect("copy the store");
    let _ = fs::remove_file(&sandbox.db);
    let mut dash = dashboard(&sandbox, ROWS, COLS, &[]);
    dash.wait_for("No additional keys yet.");

    for suffix in ["", "-wal", "-shm"] {
        let _ = fs::remove_file(format!("{}{suffix}", sandbox.db.display()));
    }
    dash.wait_for("was deleted");
    dash.send(b"a");
    dash.wait_for("┌ Add API Key");
    dash.send(b"ghost");
    dash.wait_for("› ghost");
    dash.send(ENTER);
    let screen = dash.wait_for("nothing was changed");
    assert!(
        screen.contains("┌ Add API Key") && !screen.contains("Your New API Key"),
        "the dialog must stay open with the error\n{}",
        framed(&screen)
    );
    dash.send(ESC);
    dash.wait_gone("┌ Add API Key");
    assert!(!sandbox.db.exists(), "nothing recreated the deleted file");

    fs::rename(&backup, &sandbox.db).expect("restore the backup");
    dash.wait_for("replaced by another");
    dash.wait_for("From the backup");
    dash.send(b"a");
    dash.wait_for("┌ Add API Key");
    dash.send(b"after the restore");
    dash.wait_for("› after the restore");
    dash.send(ENTER);
    let dialog = dash.wait_for("┌ Your New API Key");
    let key = key_on_screen(&dialog, "fhk_prod_");
    let verdict: Value =
        serde_json::from_str(&sandbox.cli_ok(&["verify"], Some(&key))).expect("verify's JSON");
    assert_eq!(verdict["valid"], true, "{verdict}");
    assert_eq!(verdict["name"], "after the restore");
    dash.send(b"c");
    dash.wait_for("OSC 52");
    dash.send(ENTER);
    dash.wait_gone("Your New API Key");
    dash.send(b"q");
    let status = dash.wait_exit();
    assert!(status.success(), "exit status {status:?}");
    dash.assert_restored();
}
