//! The real binary in a pseudo-terminal, read back through a terminal emulator (`vt100`), for
//! what only a terminal shows: the colours as sent, a dumb terminal refused, and no stray
//! cells left by text whose width terminals disagree on (regional-indicator flags).
//!
//! Every step waits for what it expects with a deadline; nothing sleeps a fixed time.

mod common;

use common::pty::{Launch, Pty};
use common::{Sandbox, contains};

/// `hivekeys --db <store>` in a `cols`×`rows` pty with `TERM=term`; the screen read without
/// trailing blanks.
fn start(sandbox: &Sandbox, rows: u16, cols: u16, term: &str) -> Pty {
    Pty::launch(
        sandbox,
        Launch {
            rows,
            cols,
            term,
            trim_blanks: true,
            ..Launch::default()
        },
    )
}

#[test]
fn term_dumb_is_refused_with_one_sentence_pointing_at_the_cli() {
    let sandbox = Sandbox::new();
    sandbox.create_key("Billing", "prod");
    let pty = start(&sandbox, 24, 80, "dumb");
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
    let mut pty = start(&sandbox, 24, 80, "xterm-256color");
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
    let mut pty = start(&sandbox, rows, cols, "xterm-256color");
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
