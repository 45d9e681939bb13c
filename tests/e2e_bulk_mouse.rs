//! The real binary in a pseudo-terminal: marking rows and revoking them at once, and the
//! mouse (SGR reports written into the pty as a terminal would send them). Every step waits for
//! what it expects with a deadline; nothing sleeps a fixed time.

mod common;

use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use common::{BIN, Sandbox, clean_env, nonzero};
use portable_pty::{Child, CommandBuilder, MasterPty, PtySize, native_pty_system};

const WAIT: Duration = Duration::from_secs(10);

struct Pty {
    master: Box<dyn MasterPty + Send>,
    writer: Box<dyn Write + Send>,
    child: Box<dyn Child + Send + Sync>,
    log: Arc<Mutex<Vec<u8>>>,
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
        let log = Arc::new(Mutex::new(Vec::new()));
        let parser = Arc::new(Mutex::new(vt100::Parser::new(nonzero(40), nonzero(120), 0)));
        let mut reader = pair.master.try_clone_reader().expect("pty reader");
        let (log_in, parser_in) = (Arc::clone(&log), Arc::clone(&parser));
        thread::spawn(move || {
            let mut buffer = [0u8; 16 * 1024];
            while let Ok(n) = reader.read(&mut buffer) {
                if n == 0 {
                    break;
                }
                log_in.lock().unwrap().extend_from_slice(&buffer[..n]);
                parser_in.lock().unwrap().process(&buffer[..n]);
            }
        });
        let writer = pair.master.take_writer().expect("pty writer");
        Pty {
            master: pair.master,
            writer,
            child,
            log,
            parser,
        }
    }

    /// Every byte the dashboard wrote so far.
    fn log(&self) -> Vec<u8> {
        self.log.lock().unwrap().clone()
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

    fn resize(&mut self, rows: u16, cols: u16) {
        self.parser
            .lock()
            .unwrap()
            .screen_mut()
            .set_size(nonzero(rows), nonzero(cols));
        self.master
            .resize(PtySize {
                rows,
                cols,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("resize the pty");
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
        let expected = if name == "Billing" { "active" } else { "revoked" };
        assert_eq!(status, expected, "{name}: {statuses:?}");
    }
}
