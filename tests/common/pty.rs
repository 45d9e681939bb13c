//! The real binary in a pseudo-terminal, read back through a terminal emulator (`vt100`): start
//! it on a sandbox's store, send it keys (or mouse reports, as a terminal writes them), wait
//! with a deadline for what the screen should show, wait for it to exit.
//!
//! Waiting looks only at whole frames: a frame reaches the pty in several writes, and between
//! them the screen is half old, half new (under load, a test caught a first screen and an exit
//! log half drawn). Once the binary has exited and all its output is read, the final screen
//! counts whatever it ends with. Nothing sleeps a fixed time to be correct.

use std::io::{Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

use portable_pty::{Child, CommandBuilder, ExitStatus, MasterPty, PtySize, native_pty_system};

use super::{BIN, Sandbox, clean_env, nonzero};

/// How long any one expected change on screen may take before the test fails.
pub const WAIT: Duration = Duration::from_secs(10);
/// How often the screen is looked at while waiting.
pub const POLL: Duration = Duration::from_millis(15);

pub const CURSOR_HIDE: &[u8] = b"\x1b[?25l";
pub const CURSOR_SHOW: &[u8] = b"\x1b[?25h";

/// The usual deadline: [`WAIT`] from now.
pub fn soon() -> Instant {
    Instant::now() + WAIT
}

pub fn size(rows: u16, cols: u16) -> PtySize {
    PtySize {
        rows,
        cols,
        pixel_width: 0,
        pixel_height: 0,
    }
}

/// A mutex's content even after a panic elsewhere held it (the panic is the test's failure).
pub fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The terminal's mode flags (input, output, control, local), to compare before and after.
pub type Modes = [u64; 4];

pub fn modes(master: &dyn MasterPty) -> Modes {
    let t = master.get_termios().expect("the pty's termios");
    [
        t.input_flags.bits().into(),
        t.output_flags.bits().into(),
        t.control_flags.bits().into(),
        t.local_flags.bits().into(),
    ]
}

/// How the binary is started: `hivekeys --db <store> <args…>` in a `cols`×`rows` pty with
/// `TERM=term` and `env` set over the sandbox's clean environment (and no `NO_COLOR`).
pub struct Launch<'a> {
    pub rows: u16,
    pub cols: u16,
    pub term: &'a str,
    pub args: &'a [&'a str],
    pub env: &'a [(&'a str, &'a str)],
    /// A program and its arguments to start the binary through (e.g. `setpriv …`).
    pub via: &'a [&'a str],
    /// The screen's lines without their trailing blanks (cells written as spaces and cells
    /// cleared look alike on a terminal), for screens compared whole.
    pub trim_blanks: bool,
}

impl Default for Launch<'_> {
    /// 120×40, `xterm-256color`, no arguments.
    fn default() -> Self {
        Launch {
            rows: 40,
            cols: 120,
            term: "xterm-256color",
            args: &[],
            env: &[],
            via: &[],
            trim_blanks: false,
        }
    }
}

pub struct Pty {
    master: Box<dyn MasterPty + Send>,
    /// Kept open until the child is gone: dropping it sends the child a newline and EOF.
    writer: Box<dyn Write + Send>,
    child: Mutex<Box<dyn Child + Send + Sync>>,
    status: Mutex<Option<ExitStatus>>,
    /// Every byte the binary wrote to the terminal.
    log: Arc<Mutex<Vec<u8>>>,
    /// The same bytes, interpreted as a terminal would.
    parser: Arc<Mutex<vt100::Parser>>,
    /// Set once the reader has seen the end of the output (the child's side closed).
    drained: Arc<AtomicBool>,
    /// The pty's modes before the binary started (cooked: a fresh pty).
    pub modes_before: Modes,
    trim_blanks: bool,
}

impl Pty {
    /// `hivekeys --db <store> <args…>` in a 120×40 pty, with `env` set.
    pub fn start(sandbox: &Sandbox, args: &[&str], env: &[(&str, &str)]) -> Pty {
        Pty::launch(
            sandbox,
            Launch {
                args,
                env,
                ..Launch::default()
            },
        )
    }

    pub fn launch(sandbox: &Sandbox, launch: Launch) -> Pty {
        let Launch {
            rows,
            cols,
            term,
            args,
            env,
            via,
            trim_blanks,
        } = launch;
        let pair = native_pty_system()
            .openpty(size(rows, cols))
            .expect("open a pty");
        let mut command = match via.split_first() {
            Some((program, via_args)) => {
                let mut command = CommandBuilder::new(program);
                command.args(via_args);
                command.arg(BIN);
                command
            }
            None => CommandBuilder::new(BIN),
        };
        command.arg("--db");
        command.arg(&sandbox.db);
        command.args(args);
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
        for (name, value) in env {
            command.env(name, value);
        }
        let modes_before = modes(&*pair.master);
        let child = pair.slave.spawn_command(command).expect("spawn hivekeys");
        // Only the child holds the terminal side now.
        drop(pair.slave);

        let log = Arc::new(Mutex::new(Vec::new()));
        let parser = Arc::new(Mutex::new(vt100::Parser::new(
            nonzero(rows),
            nonzero(cols),
            0,
        )));
        let mut reader = pair.master.try_clone_reader().expect("pty reader");
        let drained = Arc::new(AtomicBool::new(false));
        let (log_in, parser_in, drained_in) =
            (Arc::clone(&log), Arc::clone(&parser), Arc::clone(&drained));
        thread::spawn(move || {
            let mut buffer = [0u8; 16 * 1024];
            loop {
                match reader.read(&mut buffer) {
                    // EOF, or EIO once the child's side is closed.
                    Ok(0) => break,
                    Ok(n) => {
                        // Both locks (always log, then parser) so that a snapshot sees the
                        // log and the screen at the same point.
                        let mut log = lock(&log_in);
                        let mut parser = lock(&parser_in);
                        log.extend_from_slice(&buffer[..n]);
                        parser.process(&buffer[..n]);
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(_) => break,
                }
            }
            drained_in.store(true, Ordering::SeqCst);
        });
        let writer = pair.master.take_writer().expect("pty writer");
        Pty {
            master: pair.master,
            writer,
            child: Mutex::new(child),
            status: Mutex::new(None),
            log,
            parser,
            drained,
            modes_before,
            trim_blanks,
        }
    }

    fn contents(&self, parser: &vt100::Parser) -> String {
        let contents = parser.screen().contents();
        match self.trim_blanks {
            true => contents
                .lines()
                .map(str::trim_end)
                .collect::<Vec<_>>()
                .join("\n"),
            false => contents,
        }
    }

    /// The screen as it is now, possibly in the middle of drawing a frame.
    pub fn screen(&self) -> String {
        self.contents(&lock(&self.parser))
    }

    /// The screen, and whether it shows a whole frame: the output so far ends where a frame
    /// ends.
    pub fn snapshot(&self) -> (String, bool) {
        let log = lock(&self.log);
        let parser = lock(&self.parser);
        (self.contents(&parser), ends_a_frame(&log))
    }

    /// The emulated terminal (its modes: alternate screen, cursor, bracketed paste).
    pub fn parser(&self) -> MutexGuard<'_, vt100::Parser> {
        lock(&self.parser)
    }

    /// Every byte the binary wrote so far.
    pub fn log(&self) -> Vec<u8> {
        lock(&self.log).clone()
    }

    /// The pty's modes now.
    pub fn modes(&self) -> Modes {
        modes(&*self.master)
    }

    pub fn pid(&self) -> u32 {
        lock(&self.child).process_id().expect("the dashboard's pid")
    }

    pub fn send(&mut self, bytes: &[u8]) {
        self.writer.write_all(bytes).expect("write to the pty");
        self.writer.flush().expect("flush the pty");
    }

    /// Waits, until [`WAIT`] from now, for a whole frame on which `ok` holds; returns it.
    #[track_caller]
    pub fn wait_until(&self, what: &str, ok: impl Fn(&str) -> bool) -> String {
        self.wait_until_by(what, soon(), ok)
    }

    /// Polls the screen until a whole frame on it satisfies `ok` (or, once the binary is
    /// gone, the final screen does); panics with the screen at `deadline`, or as soon as the
    /// binary has exited and all its output has been read.
    #[track_caller]
    pub fn wait_until_by(
        &self,
        what: &str,
        deadline: Instant,
        ok: impl Fn(&str) -> bool,
    ) -> String {
        self.poll(what, deadline, Duration::ZERO, ok)
    }

    /// The same, once the output has also been quiet for a moment: for screens compared whole,
    /// which a frame drawn right after must not change.
    #[track_caller]
    pub fn settled(&self, what: &str, ok: impl Fn(&str) -> bool) -> String {
        self.poll(what, soon(), Duration::from_millis(150), ok)
    }

    #[track_caller]
    fn poll(
        &self,
        what: &str,
        deadline: Instant,
        quiet: Duration,
        ok: impl Fn(&str) -> bool,
    ) -> String {
        let mut last = (0, Instant::now());
        loop {
            let drained = self.drained.load(Ordering::SeqCst);
            let len = lock(&self.log).len();
            if len != last.0 {
                last = (len, Instant::now());
            }
            let (screen, whole_frame) = self.snapshot();
            if (whole_frame || drained) && last.1.elapsed() >= quiet && ok(&screen) {
                return screen;
            }
            if let Some(status) = self.exited().filter(|_| drained) {
                // Nothing more can come; the output may still have to be quiet for long enough.
                if !ok(&screen) {
                    panic!(
                        "the dashboard exited ({status:?}) while waiting for {what}\n{}",
                        framed(&screen)
                    );
                }
            }
            if Instant::now() >= deadline {
                panic!("timed out waiting for {what}\n{}", framed(&screen));
            }
            thread::sleep(POLL);
        }
    }

    /// Waits until `text` is on screen; returns the screen.
    #[track_caller]
    pub fn wait_for(&self, text: &str) -> String {
        self.wait_for_by(text, soon())
    }

    #[track_caller]
    pub fn wait_for_by(&self, text: &str, deadline: Instant) -> String {
        self.wait_until_by(&format!("{text:?} on screen"), deadline, |s| {
            s.contains(text)
        })
    }

    /// Waits until `text` is no longer on screen; returns the screen.
    #[track_caller]
    pub fn wait_gone(&self, text: &str) -> String {
        self.wait_until(&format!("{text:?} to disappear"), |s| !s.contains(text))
    }

    /// Every byte the binary wrote, read to the end: its exit can be seen before the reader
    /// thread has read its last output, so this waits (until [`WAIT`]) for the end of it.
    pub fn whole_log(&self) -> Vec<u8> {
        let deadline = soon();
        while !self.drained.load(Ordering::SeqCst) && Instant::now() < deadline {
            thread::sleep(POLL);
        }
        self.log()
    }

    /// The exit status, once the binary has exited.
    pub fn exited(&self) -> Option<ExitStatus> {
        let mut status = lock(&self.status);
        if status.is_none() {
            *status = lock(&self.child).try_wait().expect("poll the child");
        }
        status.clone()
    }

    #[track_caller]
    pub fn wait_exit(&self) -> ExitStatus {
        let deadline = soon();
        loop {
            if let Some(status) = self.exited() {
                return status;
            }
            if Instant::now() >= deadline {
                panic!(
                    "the dashboard did not exit in time\n{}",
                    framed(&self.screen())
                );
            }
            thread::sleep(POLL);
        }
    }

    /// Resizes the terminal: the emulator first, then the pty (which signals the child).
    pub fn resize(&mut self, rows: u16, cols: u16) {
        lock(&self.parser).set_size(nonzero(rows), nonzero(cols));
        self.master
            .resize(size(rows, cols))
            .expect("resize the pty");
    }

    /// Resizes the terminal away and back: the dashboard clears and draws everything afresh.
    /// Returns the settled screen.
    #[track_caller]
    pub fn fresh_draw(&mut self, rows: u16, cols: u16) -> String {
        for (r, c) in [(rows + 1, cols), (rows, cols)] {
            let before = self.log().len();
            self.resize(r, c);
            let deadline = soon();
            while self.log().len() == before {
                assert!(Instant::now() < deadline, "no redraw after a resize");
                thread::sleep(POLL);
            }
        }
        self.settled("the redraw", |_| true)
    }
}

impl Drop for Pty {
    fn drop(&mut self) {
        // A failed test must not leave the dashboard running.
        if self.exited().is_none() {
            let child = self.child.get_mut().unwrap_or_else(|p| p.into_inner());
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

pub fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

pub fn rfind(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).rposition(|w| w == needle)
}

/// How many times `needle` is in `haystack`.
pub fn count(haystack: &[u8], needle: &[u8]) -> usize {
    haystack
        .windows(needle.len())
        .filter(|w| *w == needle)
        .count()
}

/// Whether `log` ends where a ratatui frame ends: every draw finishes by hiding the cursor,
/// or by showing it and moving it to the focused text field.
pub fn ends_a_frame(log: &[u8]) -> bool {
    if log.ends_with(CURSOR_HIDE) || log.ends_with(CURSOR_SHOW) {
        return true;
    }
    match rfind(log, CURSOR_SHOW) {
        Some(p) => last_cursor_move(log) == Some(p + CURSOR_SHOW.len()) && log.ends_with(b"H"),
        None => false,
    }
}

/// Where the last `ESC [ row ; col H` (cursor move, as every frame makes) starts.
pub fn last_cursor_move(log: &[u8]) -> Option<usize> {
    (0..log.len()).rev().find(|&i| {
        let rest = &log[i..];
        if !rest.starts_with(b"\x1b[") {
            return false;
        }
        let params = &rest[2..];
        let end = params
            .iter()
            .position(|b| !(b.is_ascii_digit() || *b == b';'));
        matches!(end, Some(n) if params[n] == b'H')
    })
}

/// The screen with a frame around it, for failure messages.
pub fn framed(screen: &str) -> String {
    let mut out = String::from("--- screen ---\n");
    for (i, line) in screen.lines().enumerate() {
        out.push_str(&format!("{i:>2}|{line}\n"));
    }
    out.push_str("--- end of screen ---");
    out
}
