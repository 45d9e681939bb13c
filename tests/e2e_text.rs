//! The real binary in a pseudo-terminal, read back through a terminal emulator (`vt100`), for
//! what only a terminal shows: the colours as sent, a dumb terminal refused, and no stray
//! cells left by text whose width terminals disagree on (regional-indicator flags).
//!
//! Every step waits for what it expects with a deadline; nothing sleeps a fixed time.

mod common;

use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use common::{BIN, Sandbox, clean_env, nonzero};
use portable_pty::{Child, CommandBuilder, MasterPty, PtySize, native_pty_system};

const WAIT: Duration = Duration::from_secs(10);
const POLL: Duration = Duration::from_millis(15);

struct Pty {
    master: Box<dyn MasterPty + Send>,
    writer: Box<dyn Write + Send>,
    child: Box<dyn Child + Send + Sync>,
    log: Arc<Mutex<Vec<u8>>>,
    parser: Arc<Mutex<vt100::Parser>>,
}

fn size(rows: u16, cols: u16) -> PtySize {
    PtySize {
        rows,
        cols,
        pixel_width: 0,
        pixel_height: 0,
    }
}

impl Pty {
    /// `hivekeys --db <store>` in a `cols`×`rows` pty with `TERM=term`.
    fn start(sandbox: &Sandbox, rows: u16, cols: u16, term: &str) -> Pty {
        let pair = native_pty_system().openpty(size(rows, cols)).unwrap();
        let mut command = CommandBuilder::new(BIN);
        command.arg("--db");
        command.arg(&sandbox.db);
        command.cwd(sandbox.path());
        let clean = clean_env(sandbox.path());
        for name in &clean.removed {
            command.env_remove(name);
        }
        for (name, value) in &clean.set {
            command.env(name, value);
        }
        command.env_remove("NO_COLOR");
        command.env("TERM", term);
        let child = pair.slave.spawn_command(command).unwrap();
        drop(pair.slave);
        let log = Arc::new(Mutex::new(Vec::new()));
        let parser = Arc::new(Mutex::new(vt100::Parser::new(
            nonzero(rows),
            nonzero(cols),
            0,
        )));
        let mut reader = pair.master.try_clone_reader().unwrap();
        let (log_in, parser_in) = (Arc::clone(&log), Arc::clone(&parser));
        thread::spawn(move || {
            let mut buffer = [0u8; 16 * 1024];
            while let Ok(n) = reader.read(&mut buffer) {
                if n == 0 {
                    break;
                }
                let mut log = log_in.lock().unwrap();
                log.extend_from_slice(&buffer[..n]);
                parser_in.lock().unwrap().process(&buffer[..n]);
            }
        });
        let writer = pair.master.take_writer().unwrap();
        Pty {
            master: pair.master,
            writer,
            child,
            log,
            parser,
        }
    }

    /// The screen's text, each line without its trailing blanks (cells written as spaces and
    /// cells cleared look alike on a terminal).
    fn screen(&self) -> String {
        let contents = self.parser.lock().unwrap().screen().contents();
        contents
            .lines()
            .map(str::trim_end)
            .collect::<Vec<_>>()
            .join("\n")
    }

    fn log(&self) -> Vec<u8> {
        self.log.lock().unwrap().clone()
    }

    fn send(&mut self, bytes: &[u8]) {
        self.writer.write_all(bytes).unwrap();
        self.writer.flush().unwrap();
    }

    /// The screen once `ok` holds for it and the output has been quiet for a moment (a frame
    /// arrives in several writes: a half-drawn one must not be compared).
    #[track_caller]
    fn settled(&self, what: &str, ok: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + WAIT;
        let mut last = (0, Instant::now());
        loop {
            let len = self.log.lock().unwrap().len();
            if len != last.0 {
                last = (len, Instant::now());
            }
            let screen = self.screen();
            if ok(&screen) && last.1.elapsed() >= Duration::from_millis(150) {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}\n{screen}"
            );
            thread::sleep(POLL);
        }
    }

    /// Resizes the terminal away and back: the dashboard clears and draws everything afresh.
    fn fresh_draw(&mut self, rows: u16, cols: u16) -> String {
        for (r, c) in [(rows + 1, cols), (rows, cols)] {
            self.parser.lock().unwrap().set_size(nonzero(r), nonzero(c));
            self.master.resize(size(r, c)).unwrap();
            let before = self.log().len();
            let deadline = Instant::now() + WAIT;
            while self.log().len() == before {
                assert!(Instant::now() < deadline, "no redraw after a resize");
                thread::sleep(POLL);
            }
        }
        self.settled("the redraw", |_| true)
    }

    #[track_caller]
    fn wait_exit(&mut self) -> portable_pty::ExitStatus {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "did not exit\n{}", self.screen());
            thread::sleep(POLL);
        }
    }
}

impl Drop for Pty {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn term_dumb_is_refused_with_one_sentence_pointing_at_the_cli() {
    let sandbox = Sandbox::new();
    sandbox.create_key("Billing", "prod");
    let mut pty = Pty::start(&sandbox, 24, 80, "dumb");
    let status = pty.wait_exit();
    assert!(!status.success());
    let screen = pty.settled("the refusal", |s| s.contains("TERM=dumb"));
    assert!(screen.contains("hivekeys list"), "{screen}");
    let log = pty.log();
    assert!(
        !contains(&log, b"\x1b[?1049h"),
        "entered the alternate screen"
    );
    assert!(!contains(&log, b"\x1b[0;"), "drew with colours");
    assert_eq!(screen.trim().lines().count(), 1, "one sentence: {screen}");
}

#[test]
fn colours_are_sent_as_named_ansi_colours() {
    let sandbox = Sandbox::new();
    sandbox.create_key("Billing", "prod");
    let mut pty = Pty::start(&sandbox, 24, 80, "xterm-256color");
    pty.settled("the table", |s| s.contains("Billing"));
    let log = pty.log();
    assert!(
        !contains(&log, b"38;5;"),
        "a 256-colour foreground was sent"
    );
    assert!(
        !contains(&log, b"48;5;"),
        "a 256-colour background was sent"
    );
    // The title is bold cyan, the active status green.
    assert!(contains(&log, b"\x1b[0;1;36m"), "no named cyan");
    assert!(contains(&log, b";32m"), "no named green");
    pty.send(b"q");
    pty.wait_exit();
}

/// Keys for the flag test: a flag-named key among plain ones, newest first on screen.
fn flag_store() -> Sandbox {
    let sandbox = Sandbox::new();
    for i in 0..30 {
        sandbox.create_key(&format!("Plain key {i:02}"), "stg");
    }
    sandbox.create_key("🇯🇵 Tokyo gateway", "prod");
    sandbox.create_key("🇫🇷 Paris edge", "dev");
    sandbox
}

#[test]
fn flags_leave_no_stray_cells_when_rows_scroll_or_a_dialog_opens() {
    let sandbox = flag_store();
    let (rows, cols) = (24, 80);
    let mut pty = Pty::start(&sandbox, rows, cols, "xterm-256color");
    pty.settled("the flags", |s| s.contains("Tokyo gateway"));
    // Scroll the flag rows away one row at a time, as an admin would.
    for _ in 0..16 {
        pty.send(b"j");
    }
    let scrolled = pty.settled("the flag rows gone", |s| {
        !s.contains("Tokyo gateway") && s.contains("Plain key 1")
    });
    let fresh = pty.fresh_draw(rows, cols);
    assert_eq!(
        scrolled, fresh,
        "the scrolled screen differs from a fresh draw"
    );
    assert!(
        !scrolled.contains('🇵') && !scrolled.contains('🇷'),
        "{scrolled}"
    );

    // Back at the top, the Revoke dialog over the flag row, and the details.
    pty.send(b"g");
    pty.settled("the flags again", |s| s.contains("Paris edge"));
    pty.send(b"j");
    pty.send(b"x");
    let dialog = pty.settled("the Revoke dialog", |s| s.contains("Revoke \""));
    assert!(dialog.contains("JP Tokyo gateway"), "{dialog}");
    assert_eq!(
        dialog,
        pty.fresh_draw(rows, cols),
        "under the Revoke dialog"
    );
    pty.send(b"n");
    pty.send(b"\r");
    let details = pty.settled("the details", |s| s.contains("Last used"));
    assert_eq!(details, pty.fresh_draw(rows, cols), "in the details");
    // Nothing whose width terminals disagree on reached the terminal: a terminal that draws
    // a flag wider than ratatui measured it (two cells per indicator, as some do) would be
    // left with stray cells that no comparison here can see.
    let sent = String::from_utf8_lossy(&pty.log()).into_owned();
    assert!(
        !sent
            .chars()
            .any(|c| ('\u{1F1E6}'..='\u{1F1FF}').contains(&c)),
        "a regional indicator was sent to the terminal"
    );
    pty.send(b"\x1b");
    pty.settled("the table again", |s| s.contains("Plain key"));
    pty.send(b"q");
    pty.wait_exit();
}
