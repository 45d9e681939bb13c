//! The dashboard: the API Keys page as a keyboard-driven terminal UI.
//!
//! ```text
//! terminal event ─► keymap ─► Action ─► App::update ─► store / clipboard
//!                                             │
//!                                             ▼
//!                                  view::render(&App)  (reads only)
//!
//! `App` holds a [`key_list::KeyList`], a [`loader::Loader`] and at most one
//! [`dialog::Modal`]; [`layout`] is where things go for a given terminal size, shared by the
//! views and `update`.
//! ```

pub mod action;
pub mod app;
mod byte_classes;
mod byte_pairs;
pub mod clipboard;
pub mod counting;
pub mod dialog;
pub mod input;
mod key_filters;
pub mod key_list;
mod key_names;
pub mod key_orders;
pub mod key_rows;
pub mod key_search;
mod key_text;
pub mod keymap;
pub mod layout;
pub mod loader;
pub mod marks;
pub mod mouse;
pub mod terminal;
pub mod view;
mod visible_rows;
pub mod writer;

use std::io::{self, IsTerminal};
use std::time::{Duration, Instant};

use ratatui::Terminal;
use ratatui::backend::Backend;
use ratatui::crossterm::event::Event;
use signal_hook::consts::SIGHUP;

use crate::store::{Store, StoreOptions};
use action::Action;
use app::App;
use clipboard::SystemClipboard;
use input::{Input, Inputs};
use view::theme::Theme;

/// How often the dashboard looks for changes by other processes and refreshes relative times.
pub const TICK: Duration = Duration::from_millis(250);
/// How often a background read of the key list is looked for while it runs.
const LOAD_POLL: Duration = Duration::from_millis(10);
/// How long the loop waits for a write's answer before drawing "Waiting…": a write that gets
/// the lock at once answers well within it, so the text never flashes for a frame.
const WRITE_SETTLE: Duration = Duration::from_millis(50);

/// How the dashboard ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// The admin quit.
    Quit,
    /// SIGTERM or SIGINT asked it to stop (a shutdown, `kill`).
    Stopped,
    /// The terminal went away: its other side closed, or SIGHUP said so.
    HungUp,
    /// It was quit or stopped while a change waited for another process to release the
    /// store; that change was withdrawn.
    Withdrew,
    /// A signal or a hang-up ended it while the store was already writing a change: it was
    /// made, but what it produced (a new key) was never shown.
    StoppedMidWrite,
}

/// How the dashboard runs, from the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// Ask the terminal for mouse reports (`--no-mouse` or `HIVEKEYS_NO_MOUSE` say no).
    pub mouse: bool,
}

impl Default for Options {
    fn default() -> Options {
        Options { mouse: true }
    }
}

/// Runs the dashboard until the admin quits, a signal stops it or the terminal goes away.
/// The terminal is restored and the store closed on every way out.
pub fn run(store: Store, workspace: &str) -> io::Result<Ending> {
    run_with(store, workspace, Options::default())
}

/// [`run`], with `options`.
pub fn run_with(store: Store, workspace: &str, options: Options) -> io::Result<Ending> {
    // The same rule as every command's, before the terminal is taken over: a dashboard on a
    // workspace no write can use would open fine and fail at the first change.
    let workspace = crate::text::validate_name(workspace, "workspace")
        .map_err(|err| io::Error::new(io::ErrorKind::InvalidInput, err))?;
    let workspace = workspace.as_str();
    if !io::stdout().is_terminal() || !io::stdin().is_terminal() {
        return Err(io::Error::other(
            "the dashboard needs a terminal; use a command such as `hivekeys list` instead (see `hivekeys --help`)",
        ));
    }
    // A dumb terminal has no cursor addressing, alternate screen or colours: the dashboard
    // would draw garbage over the scrollback. Nothing has been sent to it yet.
    if std::env::var_os("TERM").is_some_and(|term| term == "dumb") {
        return Err(io::Error::other(
            "this terminal (TERM=dumb) cannot show the dashboard; use the command line instead, such as `hivekeys list` (see `hivekeys --help`)",
        ));
    }
    let theme = Theme::from_env();
    let mut guard = terminal::TerminalGuard::enter()?;
    let inputs = Inputs::start()?;
    let clipboard = Box::new(SystemClipboard::new(io::stdout()));
    let writer = writer::Writer::start(
        store.location(),
        StoreOptions::from_env().map_err(io::Error::other)?,
    )
    .map_err(io::Error::other)?;
    let mut app = App::new_in_background(store, workspace, clipboard);
    app.write_in_background(writer);
    let ending = event_loop(&mut guard.terminal, &mut app, &theme, &inputs, options);
    // A write still waiting for another process's lock is withdrawn, not waited for: the
    // terminal is handed back now, and the admin told that the change was not made.
    let withdrew = app.withdraw_waiting_write();
    // Not withdrawn yet still awaited: the store already took it, and nobody will see its
    // result. Say so rather than "not made".
    let mid_write = !withdrew && app.is_waiting();
    // Close the store (writing what it holds) before the terminal is handed back.
    drop(app);
    match ending {
        Ok(_) if mid_write => Ok(Ending::StoppedMidWrite),
        Ok(Ending::Quit | Ending::Stopped) if withdrew => Ok(Ending::Withdrew),
        ending => ending,
    }
}

/// Draw, wait for input or the next tick, update; repeat.
pub fn event_loop<B: Backend>(
    terminal: &mut Terminal<B>,
    app: &mut App,
    theme: &Theme,
    inputs: &Inputs,
    options: Options,
) -> io::Result<Ending>
where
    B::Error: Into<io::Error>,
{
    let mut last_tick = Instant::now();
    // Resizes arrive as events; the size before the first one is asked for.
    let size = terminal.size().map_err(Into::into)?;
    app.update(Action::Resize(size.width, size.height));
    let mut clicks = mouse::Clicks::default();
    loop {
        // Before drawing: the new key's dialog must never be on screen with the mouse
        // captured, or the admin could not select the key by hand.
        terminal::set_mouse(options.mouse && app.wants_mouse())?;
        terminal
            .draw(|frame| view::render(app, frame, theme))
            .map_err(Into::into)?;
        let mut timeout = TICK.saturating_sub(last_tick.elapsed());
        if app.is_loading() || app.is_counting() || app.has_outstanding_write() {
            // Look for the background read's result or a write's answer often: they should
            // show the moment they land.
            timeout = timeout.min(LOAD_POLL);
        }
        // Take everything already waiting (a paste, fast typing) before drawing again.
        let mut next = inputs.next(timeout);
        while let Some(input) = next.take() {
            let event = match input {
                Input::Terminal(event) => event,
                Input::ReadFailed(err) => return Err(err),
                Input::HangUp | Input::Signal(SIGHUP) => return Ok(Ending::HungUp),
                Input::Signal(_) => return Ok(Ending::Stopped),
            };
            // A resize is an action too, so the keys after it already apply to the new size.
            if let Event::Mouse(mouse) = &event {
                for action in clicks.actions(app, mouse, Instant::now()) {
                    app.update(action);
                }
            } else if let Some(action) = keymap::action_for(app.context(), &event) {
                app.update(action);
            }
            if !app.should_quit {
                next = inputs.ready();
            }
        }
        if app.is_loading() {
            app.update(Action::KeysLoaded);
        }
        if app.is_counting() {
            app.update(Action::WorkspacesCounted);
        }
        if app.has_outstanding_write() {
            app.settle_write(WRITE_SETTLE);
            app.update(Action::WriteDone);
        }
        if last_tick.elapsed() >= TICK {
            app.update(Action::Tick);
            last_tick = Instant::now();
        }
        if app.should_quit {
            return Ok(Ending::Quit);
        }
    }
}
