//! The admin console in the real binary, in a pseudo-terminal: `w` → `a` creates a workspace,
//! `Enter` switches the whole screen to it (the header says so, keys added land there), and
//! `L` shows a rotation just made, with its grace period. Every step waits for what it
//! expects with a deadline; nothing sleeps a fixed time.

mod common;

use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use common::{BIN, Sandbox, clean_env, nonzero};
use portable_pty::{Child, CommandBuilder, MasterPty, PtySize, native_pty_system};

const WAIT: Duration = Duration::from_secs(10);

struct Pty {
    // Kept open for the session: dropping it would hang up the terminal.
    _master: Box<dyn MasterPty + Send>,
    writer: Box<dyn Write + Send>,
    child: Box<dyn Child + Send + Sync>,
    parser: Arc<Mutex<vt100::Parser>>,
}

impl Pty {
    /// `hivekeys --db <store> <args…>` in a 120×40 pty, with `env` set.
    fn start(sandbox: &Sandbox, args: &[&str], env: &[(&str, &str)]) -> Pty {
        let pair = native_pty_system()
            .openpty(PtySize {
                rows: 40,
                cols: 120,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("open a pty");
        let mut command = CommandBuilder::new(BIN);
        command.arg("--db");
        command.arg(&sandbox.db);
        command.args(args);
        command.cwd(sandbox.path());
        let clean = clean_env(sandbox.path());
        for name in &clean.removed {
            command.env_remove(name);
        }
        for (name, value) in clean.set.iter().map(|(n, v)| (*n, v.clone())) {
            command.env(name, value);
        }
        command.env("TERM", "xterm-256color");
        for (name, value) in env {
            command.env(name, value);
        }
        let child = pair.slave.spawn_command(command).expect("spawn hivekeys");
        drop(pair.slave);
        let parser = Arc::new(Mutex::new(vt100::Parser::new(nonzero(40), nonzero(120), 0)));
        let mut reader = pair.master.try_clone_reader().expect("pty reader");
        let parser_in = Arc::clone(&parser);
        thread::spawn(move || {
            let mut buffer = [0u8; 16 * 1024];
            while let Ok(n) = reader.read(&mut buffer) {
                if n == 0 {
                    break;
                }
                parser_in.lock().unwrap().process(&buffer[..n]);
            }
        });
        let writer = pair.master.take_writer().expect("pty writer");
        Pty {
            _master: pair.master,
            writer,
            child,
            parser,
        }
    }

    fn screen(&self) -> String {
        self.parser.lock().unwrap().screen().contents()
    }

    fn send(&mut self, bytes: &[u8]) {
        self.writer.write_all(bytes).unwrap();
        self.writer.flush().unwrap();
    }

    #[track_caller]
    fn wait_until(&self, what: &str, ok: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            let screen = self.screen();
            if ok(&screen) {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}:\n{screen}"
            );
            thread::sleep(Duration::from_millis(15));
        }
    }

    #[track_caller]
    fn wait_for(&self, text: &str) -> String {
        self.wait_until(text, |s| s.contains(text))
    }

    #[track_caller]
    fn wait_exit(&mut self) -> portable_pty::ExitStatus {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "hivekeys did not exit:\n{}",
                self.screen()
            );
            thread::sleep(Duration::from_millis(15));
        }
    }
}

impl Drop for Pty {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn w_creates_a_workspace_enter_switches_to_it_and_l_shows_a_rotation() {
    let sandbox = Sandbox::new();
    let mut pty = Pty::start(&sandbox, &[], &[]);
    pty.wait_for("workspace default");
    pty.wait_for("No additional keys yet.");

    pty.send(b"w");
    let list = pty.wait_for("┌ Workspaces");
    assert!(list.contains("default (current)"), "{list}");
    pty.send(b"a");
    pty.wait_for("New workspace name");
    pty.send(b"Team A\r");
    let created = pty.wait_for("Created workspace \"Team A\"");
    assert!(
        created.contains("▶ Team A"),
        "the new one is selected: {created}"
    );
    pty.send(b"\r");
    let switched = pty.wait_for("workspace Team A");
    assert!(!switched.contains("┌ Workspaces"), "{switched}");

    // A key made now is Team A's, and its rotation is in Team A's log.
    pty.send(b"a");
    pty.wait_for("┌ Add API Key");
    pty.send(b"Billing\r");
    pty.wait_for("┌ Your New API Key");
    pty.send(b"c\r");
    pty.wait_until("the new key closed", |s| !s.contains("Your New API Key"));
    pty.send(b"r");
    pty.wait_for("┌ Rotate Key");
    // The grace period: 1 hour, then rotate.
    pty.send(b"\x1b[B");
    pty.wait_for("▶ (•) After 1 hour");
    pty.send(b"y");
    pty.wait_for("┌ Your New API Key");
    pty.send(b"c\r");
    pty.wait_until("the new key closed", |s| !s.contains("Your New API Key"));

    pty.send(b"L");
    let log = pty.wait_until("Team A's whole log drawn", |s| {
        s.contains("Audit log · workspace Team A") && s.contains("Showing all 2 events")
    });
    let lines: Vec<&str> = log.lines().filter(|l| l.contains("Billing")).collect();
    assert_eq!(lines.len(), 2, "{log}");
    assert!(
        lines[0].contains("rotated") && lines[0].contains("after 1 hour"),
        "newest first, with the grace: {log}"
    );
    assert!(lines[1].contains("created"), "{log}");
    pty.send(b"/");
    pty.send(b"CREATED");
    pty.wait_until("the search narrowed the log", |s| {
        s.contains("1 of all 2 events match")
    });
    pty.send(b"\x1b");
    pty.wait_for("Showing all 2 events");
    pty.send(b"\x1b");
    pty.wait_until("the log closed", |s| !s.contains("Audit log"));

    pty.send(b"q");
    assert!(pty.wait_exit().success());
    let listed = std::process::Command::new(BIN)
        .args(["--db".as_ref(), sandbox.db.as_os_str()])
        .args(["--workspace", "Team A", "list", "--json"])
        .output()
        .unwrap();
    let keys: serde_json::Value = serde_json::from_slice(&listed.stdout).unwrap();
    assert_eq!(keys[0]["name"], "Billing", "{keys}");
}
