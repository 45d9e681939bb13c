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
use std::time::{Duration, Instant};

use ratatui::Terminal;
use ratatui::backend::Backend;
use ratatui::crossterm::event;

use crate::store::Store;
use action::Action;
use app::App;
use clipboard::SystemClipboard;
use view::theme::Theme;

/// How often the dashboard looks for changes by other processes and refreshes relative times.
pub const TICK: Duration = Duration::from_millis(250);

/// Runs the dashboard until the admin quits. The terminal is restored on every way out.
pub fn run(store: Store, workspace: &str) -> io::Result<()> {
    if !io::stdout().is_terminal() || !io::stdin().is_terminal() {
        return Err(io::Error::other(
            "the dashboard needs a terminal; use a command such as `hivekeys list` instead (see `hivekeys --help`)",
        ));
    }
    let theme = Theme::from_env();
    let mut guard = terminal::TerminalGuard::enter()?;
    let clipboard = Box::new(SystemClipboard::new(io::stdout()));
    let mut app = App::new(store, workspace, clipboard);
    event_loop(&mut guard.terminal, &mut app, &theme)
}

/// Draw, wait for input or the next tick, update; repeat.
pub fn event_loop<B: Backend>(
    terminal: &mut Terminal<B>,
    app: &mut App,
    theme: &Theme,
) -> io::Result<()>
where
    B::Error: Into<io::Error>,
{
    let mut last_tick = Instant::now();
    loop {
        terminal
            .draw(|frame| view::render(app, frame, theme))
            .map_err(Into::into)?;
        let timeout = TICK.saturating_sub(last_tick.elapsed());
        if event::poll(timeout)? {
            // Take everything already waiting (a paste, fast typing) before drawing again.
            loop {
                let event = event::read()?;
                if let Some(action) = keymap::action_for(app.context(), &event) {
                    app.update(action);
                }
                if app.should_quit || !event::poll(Duration::ZERO)? {
                    break;
                }
            }
        }
        if last_tick.elapsed() >= TICK {
            app.update(Action::Tick);
            last_tick = Instant::now();
        }
        if app.should_quit {
            return Ok(());
        }
    }
}
