//! Where the dashboard's input comes from: the terminal's events, the signals that end it,
//! and the terminal going away. All three arrive on one channel, so the event loop waits in
//! one place and never inside crossterm.
//!
//! Why not simply `crossterm::event::poll` in the loop: crossterm 0.29 never returns from
//! `event::poll`/`event::read` once its terminal is gone. Its event source re-reads a tty that
//! answers EOF or EIO in a tight loop (crossterm-rs/crossterm#793; the fix, PR #1067, is not
//! released), so a dashboard whose terminal closed spun at full CPU forever and never looked at
//! its stop flag. Here crossterm reads on a thread of its own, and a second thread waits in
//! poll(2) on the terminal for the hang-up itself (`POLLHUP`), which needs no signal: under
//! `nohup`, or behind a shell that does not forward SIGHUP, none arrives. Once crossterm
//! returns an error at EOF, the hang-up watcher can go; the reader thread can stay.

use std::io::{self, Write};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::thread;
use std::time::Duration;

use ratatui::crossterm::event::{self, Event};
use rustix::event::{PollFd, PollFlags};
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

/// One thing the event loop has to react to.
#[derive(Debug)]
pub enum Input {
    /// A key, a paste, a resize.
    Terminal(Event),
    /// Reading the terminal failed; the dashboard cannot go on.
    ReadFailed(io::Error),
    /// The terminal went away (its other side closed), whether or not a SIGHUP came with it.
    HangUp,
    /// SIGTERM, SIGINT or SIGHUP from outside.
    Signal(i32),
}

/// The receiving end of the dashboard's input. The threads behind it live until the process
/// ends: the crossterm reader cannot be woken from a blocking read, and the process exits
/// right after the dashboard closes.
pub struct Inputs {
    receiver: Receiver<Input>,
}

impl Inputs {
    /// Starts reading the terminal on stdin, watching it for a hang-up, and catching the
    /// signals that end the dashboard. Call it after the terminal is in raw mode.
    pub fn start() -> io::Result<Inputs> {
        let (sender, receiver) = mpsc::channel();
        let mut signals = Signals::new(ending_signals())?;
        spawn("hivekeys-signals", sender.clone(), move |sender| {
            if let Some(signal) = signals.forever().next() {
                let _ = sender.send(Input::Signal(signal));
                end_after_grace();
            }
        })?;
        spawn("hivekeys-hangup", sender.clone(), |sender| {
            if wait_for_hang_up(&io::stdin()) {
                let _ = sender.send(Input::HangUp);
                end_after_grace();
            }
        })?;
        spawn("hivekeys-input", sender, |sender| {
            loop {
                let input = match event::read() {
                    Ok(event) => Input::Terminal(event),
                    Err(err) => Input::ReadFailed(err),
                };
                let failed = matches!(input, Input::ReadFailed(_));
                if sender.send(input).is_err() || failed {
                    break;
                }
            }
        })?;
        Ok(Inputs { receiver })
    }

    /// The next input, waiting at most `timeout`; `None` when nothing came.
    pub fn next(&self, timeout: Duration) -> Option<Input> {
        match self.receiver.recv_timeout(timeout) {
            Ok(input) => Some(input),
            Err(RecvTimeoutError::Timeout) => None,
            // Every source ended (all threads gone): nothing will ever come again.
            Err(RecvTimeoutError::Disconnected) => Some(Input::ReadFailed(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the terminal input stopped",
            ))),
        }
    }

    /// An input already waiting, without waiting.
    pub fn ready(&self) -> Option<Input> {
        self.receiver.try_recv().ok()
    }
}

/// How long the event loop gets, after a signal or a hang-up, to close the store and hand the
/// terminal back before the process ends anyway. The loop answers within a frame unless it is
/// stuck: in a write that waits for another process's lock (up to the busy timeout), or in
/// crossterm. SQLite's transactions make ending mid-write safe: an uncommitted write is simply
/// not made, and the dashboard holds no use counts.
const SHUTDOWN_GRACE: Duration = Duration::from_millis(500);

/// Waits [`SHUTDOWN_GRACE`], then restores the terminal and ends the process with status 1.
/// A clean exit by the event loop ends the process first and this never fires.
fn end_after_grace() {
    thread::sleep(SHUTDOWN_GRACE);
    super::terminal::restore();
    let _ = writeln!(
        io::stderr(),
        "hivekeys: stopped without closing the store cleanly; a change in progress was not made."
    );
    std::process::exit(1);
}

fn spawn(
    name: &str,
    sender: Sender<Input>,
    body: impl FnOnce(Sender<Input>) + Send + 'static,
) -> io::Result<()> {
    thread::Builder::new()
        .name(name.into())
        .spawn(move || body(sender))
        .map(drop)
}

/// SIGTERM and SIGINT always end the dashboard. SIGHUP does too, unless the dashboard was
/// started with it ignored (`nohup`): that choice is kept, and the hang-up watcher still
/// notices a terminal that went away.
fn ending_signals() -> Vec<i32> {
    let mut signals = vec![SIGTERM, SIGINT];
    if !ignored_at_start(SIGHUP) {
        signals.push(SIGHUP);
    }
    signals
}

/// Whether `signal` was ignored when the process started, read from the kernel's own account
/// (`SigIgn` in /proc/self/status): there is no safe call that asks. Elsewhere than Linux the
/// answer is "no", and the signal is caught.
fn ignored_at_start(signal: i32) -> bool {
    std::fs::read_to_string("/proc/self/status").is_ok_and(|status| ignored_in(&status, signal))
}

/// Whether the `SigIgn` mask of a /proc status text has `signal`'s bit.
fn ignored_in(status: &str, signal: i32) -> bool {
    status
        .lines()
        .find_map(|line| line.strip_prefix("SigIgn:"))
        .and_then(|mask| u64::from_str_radix(mask.trim(), 16).ok())
        .zip(u32::try_from(signal - 1).ok())
        .and_then(|(mask, bit)| mask.checked_shr(bit))
        .is_some_and(|bits| bits & 1 == 1)
}

/// Blocks until the terminal on `tty` hangs up, and says whether it did. Asking poll(2) for
/// no events at all still reports `POLLHUP` and `POLLERR`, so the thread sleeps until the
/// terminal goes away and costs nothing while it is there.
pub fn wait_for_hang_up(tty: &impl std::os::fd::AsFd) -> bool {
    loop {
        let mut fds = [PollFd::new(tty, PollFlags::empty())];
        match rustix::event::poll(&mut fds, None) {
            Ok(_) => {
                let revents = fds[0].revents();
                if revents.intersects(PollFlags::HUP | PollFlags::ERR | PollFlags::NVAL) {
                    return true;
                }
            }
            Err(rustix::io::Errno::INTR) => {}
            // poll itself failed: no way to watch, so leave it to the reader and the signals.
            Err(_) => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_closed_pipe_counts_as_a_hang_up() {
        // The write end of a pipe reports POLLERR once its reader is gone, like a tty
        // reports POLLHUP once its other side closed: the watcher wakes, it does not spin.
        let (reader, writer) = std::io::pipe().expect("pipe");
        let watcher = thread::spawn(move || wait_for_hang_up(&writer));
        drop(reader);
        assert!(watcher.join().expect("watcher thread"));
    }

    #[test]
    fn the_ignored_mask_is_read_bit_by_signal() {
        let status = "Name:\thivekeys\nSigBlk:\t0000000000000001\nSigIgn:\t0000000000001001\n";
        assert!(ignored_in(status, SIGHUP)); // bit 0
        assert!(!ignored_in(status, SIGINT)); // bit 1
        assert!(ignored_in(status, 13)); // SIGPIPE, bit 12
        assert!(!ignored_in("SigIgn:\t0000000000000000\n", SIGHUP));
        assert!(!ignored_in("no such line", SIGHUP));
        assert!(!ignored_in("SigIgn:\tnot hex\n", SIGHUP));
    }
}
