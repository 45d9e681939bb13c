//! A dashboard whose terminal goes away must end at once, close its store cleanly and never
//! spin, with or without a SIGHUP; signals end it within a second in every state.
//!
//! These tests open their own pseudo-terminal (rustix, no helper library) because they must
//! close its master side for real: the reader thread here owns the only master descriptor
//! and closes it when told to, which is exactly what a terminal emulator, tmux or sshd does
//! when it goes away. The child gets the pty as its controlling terminal through util-linux's
//! `setsid --ctty`, so the kernel sends SIGHUP on the hang-up as it would for a real session.

mod common;

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use common::{BIN, clean_env, nonzero, sidecar};
use rustix::event::{PollFd, PollFlags, Timespec};
use rustix::pty::{OpenptFlags, grantpt, openpt, ptsname, unlockpt};
use rustix::termios::{Winsize, tcsetwinsize};
use tempfile::TempDir;

const ROWS: u16 = 40;
const COLS: u16 = 120;
/// How long the dashboard may take to show its first screen (a loaded CI machine).
const START: Duration = Duration::from_secs(10);
/// The issue's promise: gone within one second of the hang-up or signal.
const PROMPT_EXIT: Duration = Duration::from_secs(1);
/// Kernel clock ticks per second, in which /proc reports CPU time (USER_HZ, 100 on Linux).
const TICKS_PER_SECOND: u64 = 100;

/// A pseudo-terminal whose master side this test holds alone, with a child on its other side.
struct Session {
    _dir: TempDir,
    db: PathBuf,
    child: Child,
    screen: Arc<Mutex<vt100::Parser>>,
    /// Keys go in through this second descriptor of the master side.
    writer: Option<File>,
    /// Tells the reader thread to close the master side.
    hang_up: Arc<AtomicBool>,
    reader: Option<JoinHandle<()>>,
}

impl Session {
    /// Starts `hivekeys --db <fresh store>` through `via` (a command line ending where the
    /// binary's own arguments begin), and waits for its first screen.
    fn start(via: &[&str], env: &[(&str, &str)]) -> Session {
        let dir = tempfile::tempdir().expect("temporary directory");
        let db = dir.path().join("store.db");
        let master = openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY | OpenptFlags::CLOEXEC)
            .expect("open a pty");
        grantpt(&master).expect("grantpt");
        unlockpt(&master).expect("unlockpt");
        let name = ptsname(&master, Vec::new()).expect("ptsname");
        let winsize = Winsize {
            ws_row: ROWS,
            ws_col: COLS,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        tcsetwinsize(&master, winsize).expect("set the pty's size");
        let slave = OpenOptions::new()
            .read(true)
            .write(true)
            .open(Path::new(name.to_str().expect("pty name")))
            .expect("open the pty's terminal side");

        let (program, args) = via.split_first().expect("a command line");
        let mut command = Command::new(program);
        clean_env(dir.path()).apply(&mut command);
        command
            .args(args)
            .arg(BIN)
            .arg("--db")
            .arg(&db)
            .current_dir(dir.path())
            .env("TERM", "xterm-256color")
            .stdin(Stdio::from(slave.try_clone().expect("dup")))
            .stdout(Stdio::from(slave.try_clone().expect("dup")))
            .stderr(Stdio::from(slave));
        for (name, value) in env {
            command.env(name, value);
        }
        // `command` holds the last copies of the terminal side; they close with it.
        let child = command.spawn().expect("start hivekeys");
        drop(command);

        let screen = Arc::new(Mutex::new(vt100::Parser::new(
            nonzero(ROWS),
            nonzero(COLS),
            0,
        )));
        let hang_up = Arc::new(AtomicBool::new(false));
        let master = File::from(master);
        let writer = master.try_clone().expect("dup the master side");
        let reader = {
            let (screen, hang_up) = (Arc::clone(&screen), Arc::clone(&hang_up));
            thread::spawn(move || read_until_hang_up(master, &screen, &hang_up))
        };
        let session = Session {
            _dir: dir,
            db,
            child,
            screen,
            writer: Some(writer),
            hang_up,
            reader: Some(reader),
        };
        session.wait_for_screen("No additional keys yet.");
        session
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn screen(&self) -> String {
        self.screen.lock().unwrap().screen().contents()
    }

    #[track_caller]
    fn wait_for_screen(&self, text: &str) {
        let deadline = Instant::now() + START;
        while !self.screen().contains(text) {
            assert!(
                Instant::now() < deadline,
                "{text:?} never showed:\n{}",
                self.screen()
            );
            thread::sleep(Duration::from_millis(10));
        }
    }

    fn send(&self, keys: &[u8]) {
        let mut writer = self.writer.as_ref().expect("not hung up yet");
        writer.write_all(keys).expect("write to the pty");
    }

    /// Closes the master side, as a terminal that goes away does. Returns when it is closed.
    fn hang_up(&mut self) {
        self.writer = None;
        self.hang_up.store(true, Ordering::SeqCst);
        if let Some(reader) = self.reader.take() {
            reader.join().expect("the pty reader");
        }
    }

    /// Waits until the child has exited, without reaping it, and returns how long that took
    /// from `since` and the CPU time it used in all, in clock ticks. Panics past `limit`.
    #[track_caller]
    fn wait_exit_within(&mut self, since: Instant, limit: Duration, what: &str) -> (Duration, u64) {
        let pid = self.pid();
        loop {
            let (state, ticks) = process_state(pid);
            if state == 'Z' {
                return (since.elapsed(), ticks);
            }
            if since.elapsed() > limit {
                let _ = self.child.kill();
                panic!(
                    "{what}: the dashboard still runs after {:?} (state {state}, {} ms of CPU so far)",
                    since.elapsed(),
                    ticks * 1000 / TICKS_PER_SECOND
                );
            }
            thread::sleep(Duration::from_millis(5));
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        self.hang_up.store(true, Ordering::SeqCst);
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Feeds everything the child writes into the screen emulator until told to hang up, then
/// returns, closing the master side (this thread owns its only descriptor).
fn read_until_hang_up(mut master: File, screen: &Mutex<vt100::Parser>, hang_up: &AtomicBool) {
    let mut buffer = [0u8; 16 * 1024];
    let timeout = Timespec {
        tv_sec: 0,
        tv_nsec: 10_000_000,
    };
    while !hang_up.load(Ordering::SeqCst) {
        let mut fds = [PollFd::new(&master, PollFlags::IN)];
        match rustix::event::poll(&mut fds, Some(&timeout)) {
            Ok(0) | Err(rustix::io::Errno::INTR) => continue,
            Ok(_) => {}
            Err(_) => return,
        }
        match master.read(&mut buffer) {
            Ok(0) | Err(_) => return,
            Ok(n) => screen.lock().unwrap().process(&buffer[..n]),
        }
    }
}

/// A process's state letter and the CPU time it has used (user + system, in clock ticks),
/// from /proc/PID/stat. A zombie still has its final figures there until it is reaped.
fn process_state(pid: u32) -> (char, u64) {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("read /proc/PID/stat");
    // The command name is in parentheses and may hold spaces: fields count from after it.
    let fields: Vec<&str> = stat[stat.rfind(')').expect("comm") + 2..]
        .split(' ')
        .collect();
    let state = fields[0].chars().next().expect("state");
    // Fields 14 and 15 of the file (utime, stime) are the 12th and 13th after the name.
    let ticks = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    (state, ticks)
}

/// The store was closed cleanly: SQLite removes the write-ahead log when the last connection
/// closes after a complete checkpoint; a process that died with the store open leaves it.
#[track_caller]
fn assert_closed_cleanly(db: &Path) {
    let wal = sidecar(db, "-wal");
    assert!(
        !wal.exists(),
        "the store was not closed cleanly: {} is still there",
        wal.display()
    );
    let conn = rusqlite::Connection::open(db).expect("open the store");
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |row| row.get(0))
        .expect("integrity check");
    assert_eq!(check, "ok");
}

/// Hangs up `session`'s terminal and checks the dashboard is gone within a second, having
/// used next to no CPU on the way, with a failing status and its store closed cleanly.
fn hang_up_and_check(mut session: Session, what: &str) {
    let (_, ticks_before) = process_state(session.pid());
    let since = Instant::now();
    session.hang_up();
    let (took, ticks_after) = session.wait_exit_within(since, PROMPT_EXIT, what);
    let cpu_ms = (ticks_after - ticks_before) * 1000 / TICKS_PER_SECOND;
    eprintln!("{what}: gone {took:?} after the hang-up, {cpu_ms} ms of CPU between the two");
    // A spin burns a core for as long as it lasts; closing the store costs a few ms. The
    // clock ticks are 10 ms apart, so the bound allows for rounding and a slow machine.
    assert!(
        cpu_ms <= 100,
        "{what}: {cpu_ms} ms of CPU between the hang-up and the exit: a spin"
    );
    let status = session.child.wait().expect("reap the dashboard");
    assert_eq!(status.code(), Some(1), "{what}: exit status {status:?}");
    assert_closed_cleanly(&session.db);
}

/// The ordinary case: the terminal closes, the kernel sends SIGHUP to the session.
#[test]
fn a_closed_terminal_ends_the_dashboard_at_once() {
    let session = Session::start(&["setsid", "--ctty"], &[]);
    hang_up_and_check(session, "with SIGHUP");
}

/// `nohup`, or a shell that does not forward SIGHUP: no signal arrives, and the dashboard must
/// notice the hang-up by itself. `trap '' HUP` before `exec` starts it with SIGHUP ignored.
#[test]
fn a_closed_terminal_ends_the_dashboard_without_sighup() {
    let session = Session::start(
        &[
            "setsid",
            "--ctty",
            "sh",
            "-c",
            "trap '' HUP; exec \"$0\" \"$@\"",
        ],
        &[],
    );
    let status = std::fs::read_to_string(format!("/proc/{}/status", session.pid())).unwrap();
    let ignored = status
        .lines()
        .find_map(|line| line.strip_prefix("SigIgn:"))
        .and_then(|mask| u64::from_str_radix(mask.trim(), 16).ok())
        .expect("SigIgn");
    assert_eq!(ignored & 1, 1, "SIGHUP should be ignored in this test");
    hang_up_and_check(session, "SIGHUP ignored");
}

/// SIGTERM ends the dashboard within a second even while its event loop is stuck in a write
/// that waits for another process's lock (here for up to 30 s): the change is not made, the
/// terminal is handed back, and the store stays sound.
#[test]
fn sigterm_ends_the_dashboard_while_a_write_waits_for_the_lock() {
    let mut session = Session::start(
        &["setsid", "--ctty"],
        &[("HIVEKEYS_BUSY_TIMEOUT_MS", "30000")],
    );
    let blocker = rusqlite::Connection::open(&session.db).expect("open the store");
    blocker
        .execute_batch("BEGIN IMMEDIATE")
        .expect("take the write lock");
    session.send(b"a");
    session.wait_for_screen("Add API Key");
    session.send(b"stuck\r");
    wait_until_sleeping(session.pid());

    let since = Instant::now();
    let killed = Command::new("kill")
        .args(["-TERM", &session.pid().to_string()])
        .status()
        .expect("run kill");
    assert!(killed.success());
    session.wait_exit_within(since, PROMPT_EXIT, "SIGTERM during a waiting write");
    let status = session.child.wait().expect("reap");
    assert!(
        !status.success(),
        "a forced stop reports failure: {status:?}"
    );
    blocker.execute_batch("ROLLBACK").expect("release the lock");
    drop(blocker);
    let conn = rusqlite::Connection::open(&session.db).expect("open the store");
    let keys: i64 = conn
        .query_row("SELECT count(*) FROM keys", [], |row| row.get(0))
        .expect("count keys");
    assert_eq!(keys, 0, "the write that was waiting must not have happened");
}

/// Waits until one of the process's threads sleeps in the kernel (SQLite's busy handler waits
/// in nanosleep between tries), so the signal surely arrives while the write is stuck. The
/// write runs on the dashboard's writer thread, not the event loop, which waits in futex(2),
/// never in a sleep.
#[track_caller]
fn wait_until_sleeping(pid: u32) {
    #[cfg(target_arch = "x86_64")]
    const SLEEPS: [&str; 2] = ["35", "230"];
    #[cfg(target_arch = "aarch64")]
    const SLEEPS: [&str; 2] = ["101", "115"];
    let deadline = Instant::now() + START;
    loop {
        let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).expect("list the threads");
        let mut last = Vec::new();
        for task in tasks.flatten() {
            let Ok(syscall) = std::fs::read_to_string(task.path().join("syscall")) else {
                continue;
            };
            let number = syscall
                .split(' ')
                .next()
                .unwrap_or_default()
                .trim()
                .to_owned();
            if SLEEPS.contains(&number.as_str()) {
                return;
            }
            last.push(number);
        }
        assert!(
            Instant::now() < deadline,
            "the dashboard's write never waited for the lock (last syscalls {last:?})"
        );
        thread::sleep(Duration::from_millis(5));
    }
}
