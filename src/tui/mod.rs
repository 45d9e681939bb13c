//! The dashboard: the API Keys page as a keyboard-driven terminal UI.
//!
//! ```text
//! terminal event ─► keymap ─► Action ─► App::update ─► store / clipboard
//!                                             │
//!                                             ▼
//!                                  view::render(&App)  (reads only)
//! ```

pub mod action;
pub mod app;
pub mod clipboard;
pub mod keymap;
pub mod terminal;
pub mod view;

use std::io::{self, IsTerminal};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use ratatui::Terminal;
use ratatui::backend::Backend;
use ratatui::crossterm::event;
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};

use crate::store::Store;
use action::Action;
use app::App;
use clipboard::SystemClipboard;
use view::theme::Theme;

/// How often the dashboard looks for changes by other processes and refreshes relative times.
pub const TICK: Duration = Duration::from_millis(250);
/// How often a background read of the key list is looked for while it runs.
const LOAD_POLL: Duration = Duration::from_millis(10);

/// Runs the dashboard until the admin quits. The terminal is restored on every way out.
pub fn run(store: Store, workspace: &str) -> io::Result<()> {
    if !io::stdout().is_terminal() || !io::stdin().is_terminal() {
        return Err(io::Error::other(
            "the dashboard needs a terminal; use a command such as `hivekeys list` instead (see `hivekeys --help`)",
        ));
    }
    let theme = Theme::from_env();
    // SIGTERM, SIGHUP (the terminal went away) and SIGINT from outside end the loop like `q`
    // does, so the terminal is restored and the store closed cleanly.
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [SIGTERM, SIGHUP, SIGINT] {
        signal_hook::flag::register(signal, Arc::clone(&stop))?;
    }
    let mut guard = terminal::TerminalGuard::enter()?;
    let clipboard = Box::new(SystemClipboard::new(io::stdout()));
    let mut app = App::new_in_background(store, workspace, clipboard);
    event_loop(&mut guard.terminal, &mut app, &theme, &stop)
}

/// Draw, wait for input or the next tick, update; repeat.
pub fn event_loop<B: Backend>(
    terminal: &mut Terminal<B>,
    app: &mut App,
    theme: &Theme,
    stop: &AtomicBool,
) -> io::Result<()>
where
    B::Error: Into<io::Error>,
{
    let mut last_tick = Instant::now();
    loop {
        terminal
            .draw(|frame| view::render(app, frame, theme))
            .map_err(Into::into)?;
        let mut timeout = TICK.saturating_sub(last_tick.elapsed());
        if app.is_loading() {
            // Look for the background read's result often: it should show the moment it lands.
            timeout = timeout.min(LOAD_POLL);
        }
        if event::poll(timeout)? {
            // Take everything already waiting (a paste, fast typing) before drawing again.
            loop {
                let event = event::read()?;
                if let Some(action) = keymap::action_for(app.context(), &event) {
                    app.update(action);
                }
                // After a resize, draw before taking more keys: which keys apply depends on
                // whether the new size fits the layout (see `App::too_small`).
                let resized = matches!(event, event::Event::Resize(..));
                if app.should_quit || resized || !event::poll(Duration::ZERO)? {
                    break;
                }
            }
        }
        if app.is_loading() {
            app.update(Action::KeysLoaded);
        }
        if last_tick.elapsed() >= TICK {
            app.update(Action::Tick);
            last_tick = Instant::now();
        }
        if app.should_quit || stop.load(Ordering::Relaxed) {
            return Ok(());
        }
    }
}
