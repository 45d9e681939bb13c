//! The real binary in a pseudo-terminal: marking rows and revoking them at once, and the
//! mouse (SGR reports written into the pty as a terminal would send them). Every step waits for
//! what it expects with a deadline; nothing sleeps a fixed time.

mod common;

use common::Sandbox;
use common::pty::{Pty, count, rfind as last};

/// Space marks two rows (the `●` and "2 marked" show), x asks once, y revokes both in the
/// store; the third key stays active.
#[test]
fn space_marks_two_rows_then_x_y_revokes_both() {
    let sandbox = Sandbox::new();
    for name in ["Billing", "Payments", "Search"] {
        sandbox.create_key(name, "prod");
    }
    let mut pty = Pty::start(&sandbox, &[], &[]);
    pty.wait_for("3 of 3 keys");
    pty.send(b"  ");
    let marked = pty.wait_for("2 marked");
    assert_eq!(marked.matches('●').count(), 2, "{marked}");
    pty.send(b"x");
    pty.wait_for("Revoke 2 keys? \"Search\", \"Payments\"");
    pty.send(b"y");
    let done = pty.wait_for("2 keys revoked");
    assert!(!done.contains("marked"), "the marks are gone: {done}");
    pty.send(b"q");
    assert!(pty.wait_exit().success());
    let statuses: Vec<(String, String)> = sandbox
        .list_json()
        .iter()
        .map(|k| {
            (
                k["name"].as_str().unwrap().to_owned(),
                k["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    for (name, status) in &statuses {
        let expected = if name == "Billing" {
            "active"
        } else {
            "revoked"
        };
        assert_eq!(status, expected, "{name}: {statuses:?}");
    }
}

const MOUSE_ON: [&[u8]; 2] = [b"\x1b[?1000h", b"\x1b[?1006h"];
const MOUSE_OFF: [&[u8]; 2] = [b"\x1b[?1006l", b"\x1b[?1000l"];

/// The 1-based column and line (as SGR reports count them) where `text` is on `screen`.
fn sgr_position(screen: &str, text: &str) -> (usize, usize) {
    for (y, line) in screen.lines().enumerate() {
        if let Some(byte) = line.find(text) {
            return (line[..byte].chars().count() + 1, y + 1);
        }
    }
    panic!("{text:?} is not on screen:\n{screen}");
}

/// A left click as a terminal reports it in SGR form: press, then release.
fn click((column, line): (usize, usize)) -> Vec<u8> {
    format!("\x1b[<0;{column};{line}M\x1b[<0;{column};{line}m").into_bytes()
}

/// The row on `screen` that holds `text`.
fn line_with<'a>(screen: &'a str, text: &str) -> &'a str {
    screen
        .lines()
        .find(|line| line.contains(text))
        .unwrap_or("")
}

/// Mouse reporting is asked for at start; a click selects a row, a double click opens its
/// details, the wheel moves the selection, a click on a chip cycles its filter; reporting is
/// off while "Your New API Key" is open and back after; off at exit.
#[test]
fn clicks_wheel_and_chips_in_the_real_binary() {
    let sandbox = Sandbox::new();
    for name in ["Billing", "Payments", "Gateway", "Web"] {
        sandbox.create_key(name, "prod");
    }
    let mut pty = Pty::start(&sandbox, &[], &[]);
    // The whole frame with every row, not one caught half drawn.
    let screen = pty.wait_until("four rows", |s| {
        s.contains("4 of 4 keys")
            && !s.contains("loading…")
            && line_with(s, "Billing").contains("Never")
    });
    let log = pty.log();
    for on in MOUSE_ON {
        assert_eq!(count(&log, on), 1, "{}", String::from_utf8_lossy(on));
    }

    // The newest key (Web) is selected; a click on Payments selects it.
    assert!(line_with(&screen, "Web").contains('▶'), "{screen}");
    pty.send(&click(sgr_position(&screen, "Payments")));
    pty.wait_until("Payments selected", |s| {
        line_with(s, "Payments").contains('▶')
    });

    // A double click on Gateway opens its details; Esc closes them.
    let search = sgr_position(&screen, "Gateway");
    pty.send(&[click(search), click(search)].concat());
    pty.wait_for("Audit trail");
    pty.send(b"\x1b");
    pty.wait_until("the details closed", |s| !s.contains("Audit trail"));

    // One notch of the wheel down: three rows, from Gateway to the last row, Billing.
    pty.send(format!("\x1b[<65;{};{}M", search.0, search.1).as_bytes());
    pty.wait_until("Billing selected", |s| {
        line_with(s, "Billing").contains('▶')
    });

    // A click on the environment chip cycles it, as e does.
    let chip = sgr_position(&screen, "[Environment: All]");
    pty.send(&click(chip));
    pty.wait_for("[Environment: Production]");

    // "Your New API Key": reporting goes off while it shows, so the key can be selected.
    pty.send(b"aFresh\r");
    pty.wait_for("Your New API Key");
    let shown = pty.log();
    let on_at = last(&shown, MOUSE_ON[0]).expect("turned on");
    for off in MOUSE_OFF {
        assert!(
            last(&shown, off).is_some_and(|at| at > on_at),
            "reporting still on under the new key"
        );
    }
    pty.send(b"c\r");
    pty.wait_until("the dialog closed", |s| !s.contains("Your New API Key"));
    pty.wait_until("reporting back on", |_| count(&pty.log(), MOUSE_ON[0]) == 2);
    pty.send(b"q");
    assert!(pty.wait_exit().success());
    // The reader thread may still be taking in the last bytes the process wrote.
    pty.wait_until("the exit's sequences read", |_| {
        MOUSE_OFF.iter().all(|off| count(&pty.log(), off) >= 2)
    });
    let log = pty.log();
    let on_at = last(&log, MOUSE_ON[1]).unwrap();
    for off in MOUSE_OFF {
        assert_eq!(count(&log, off), 2, "off under the new key, and at exit");
        assert!(last(&log, off).unwrap() > on_at, "on at exit");
    }
}

/// `--no-mouse` and `HIVEKEYS_NO_MOUSE=1`: no mouse sequence at all, on or off.
#[test]
fn no_mouse_leaves_the_mouse_to_the_terminal() {
    let sandbox = Sandbox::new();
    sandbox.create_key("Billing", "prod");
    for (args, env) in [
        (&["--no-mouse"][..], &[][..]),
        (&[][..], &[("HIVEKEYS_NO_MOUSE", "1")][..]),
    ] {
        let mut pty = Pty::start(&sandbox, args, env);
        // The first round adds a key: both rounds show Billing.
        let screen = pty.wait_for("Billing");
        assert!(screen.contains("Billing"));
        pty.send(b"aX\r");
        pty.wait_for("Your New API Key");
        pty.send(b"c\rq");
        assert!(pty.wait_exit().success());
        let log = pty.log();
        for sequence in MOUSE_ON.iter().chain(&MOUSE_OFF) {
            assert_eq!(count(&log, sequence), 0, "{args:?} {env:?}");
        }
    }
}

/// SIGTERM ends the dashboard with reporting off, like the other modes.
#[test]
fn a_signal_turns_mouse_reporting_off() {
    let sandbox = Sandbox::new();
    let pty = Pty::start(&sandbox, &[], &[]);
    pty.wait_for("No additional keys yet.");
    // Sent to this dashboard only, by its own process id.
    let pid = pty.pid();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .expect("run kill");
    assert!(killed.success());
    assert!(pty.wait_exit().success());
    let log = pty.log();
    let on_at = last(&log, MOUSE_ON[1]).expect("on at start");
    for off in MOUSE_OFF {
        assert!(
            last(&log, off).is_some_and(|at| at > on_at),
            "off at the end"
        );
    }
}
