//! The dashboard in the test's own process, on any store: the app, a manual clock, and the
//! screen it draws after a tick.

use std::sync::Arc;

use chrono::Utc;
use hivekeys::Store;
use hivekeys::clock::ManualClock;
use hivekeys::store::Location;
use hivekeys::tui::action::Action;
use hivekeys::tui::app::{App, RELOAD_INTERVAL};
use hivekeys::tui::clipboard::Osc52Only;
use hivekeys::tui::view::{self, theme::Theme};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use super::store_options;

pub struct Dashboard {
    pub app: App,
    pub clock: Arc<ManualClock>,
}

impl Dashboard {
    /// The dashboard on workspace `default` of the store `db` names (a path or a URL).
    pub fn open(db: &str) -> Dashboard {
        let clock = Arc::new(ManualClock::new(Utc::now()));
        let location = Location::parse(db.as_ref()).unwrap();
        let store = Store::open_with(&location, store_options(&clock, 7)).unwrap();
        let app = App::new(store, "default", Box::new(Osc52Only::default()));
        Dashboard { app, clock }
    }

    /// The screen (120×30) after a tick that the reload throttle lets through.
    pub fn screen_after_tick(&mut self) -> String {
        self.clock.advance(RELOAD_INTERVAL);
        self.app.update(Action::Tick);
        self.app.update(Action::Resize(120, 30));
        let mut terminal = Terminal::new(TestBackend::new(120, 30)).unwrap();
        terminal
            .draw(|frame| view::render(&self.app, frame, &Theme::PLAIN))
            .unwrap();
        terminal.backend().to_string()
    }
}
