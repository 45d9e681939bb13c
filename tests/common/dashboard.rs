//! The dashboard in the test's own process: [`Drive`], how a test works an `App` (key events
//! through the real keymap, screens drawn in ratatui's `TestBackend`, the rows in the table),
//! and the apps to work: [`TempApp`] over a SQLite store in a temporary directory, [`OnStore`]
//! over a store on either backend that other processes change, and [`Dashboard`], the app on
//! any store with a clock at the present.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use hivekeys::clock::ManualClock;
use hivekeys::store::Location;
use hivekeys::tui::action::Action;
use hivekeys::tui::app::{App, RELOAD_INTERVAL};
use hivekeys::tui::clipboard::Osc52Only;
use hivekeys::tui::keymap;
use hivekeys::tui::view::{self, theme::Theme};
use hivekeys::tui::writer::Writer;
use hivekeys::{Store, StoreOptions};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{
    Event, KeyCode, KeyEvent, KeyEventKind, KeyEventState, KeyModifiers,
};
use tempfile::TempDir;

use super::store_options;

/// 2026-11-26 12:00:00 UTC: the time the fixtures start at and stay at unless moved.
pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0).unwrap()
}

/// A key pressed with `modifiers`.
pub fn key_event(code: KeyCode, modifiers: KeyModifiers) -> Event {
    Event::Key(KeyEvent {
        code,
        modifiers,
        kind: KeyEventKind::Press,
        state: KeyEventState::NONE,
    })
}

/// A key as a terminal reports it: capitals, shifted symbols and Shift-Tab carry Shift.
pub fn press_event(code: KeyCode) -> Event {
    let shifted = match code {
        KeyCode::Char(c) => c.is_uppercase() || "?!@#$%^&*()_+{}|:\"<>~".contains(c),
        KeyCode::BackTab => true,
        _ => false,
    };
    let modifiers = match shifted {
        true => KeyModifiers::SHIFT,
        false => KeyModifiers::NONE,
    };
    key_event(code, modifiers)
}

/// `app` drawn at `width`×`height` (plain theme), as the test backend shows it.
pub fn render(app: &App, width: u16, height: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal
        .draw(|frame| view::render(app, frame, &Theme::PLAIN))
        .unwrap();
    terminal.backend().to_string()
}

/// How a test works the dashboard: real events through `keymap::action_for` and
/// `App::update`, and what the app then shows. A fixture says where its app is; the rest
/// comes with it.
pub trait Drive {
    fn app(&self) -> &App;
    fn app_mut(&mut self) -> &mut App;

    /// Feeds `event` through the real keymap and update; returns the action it became.
    fn send(&mut self, event: Event) -> Option<Action> {
        let app = self.app_mut();
        let action = keymap::action_for(app.context(), &event);
        if let Some(action) = action.clone() {
            app.update(action);
        }
        action
    }

    /// A key as a terminal reports it (see [`press_event`]).
    fn press(&mut self, code: KeyCode) -> Option<Action> {
        self.send(press_event(code))
    }

    fn char(&mut self, c: char) -> Option<Action> {
        self.press(KeyCode::Char(c))
    }

    /// Each character of `text`, one key at a time.
    fn type_text(&mut self, text: &str) {
        for c in text.chars() {
            self.char(c);
        }
    }

    fn paste(&mut self, text: &str) -> Option<Action> {
        self.send(Event::Paste(text.to_owned()))
    }

    /// The screen at `width`×`height`, after telling the app the terminal has that size.
    fn screen(&mut self, width: u16, height: u16) -> String {
        self.app_mut().update(Action::Resize(width, height));
        render(self.app(), width, height)
    }

    /// The names of the rows that pass the search and filters, in table order.
    fn names_in_table(&self) -> Vec<String> {
        let app = self.app();
        app.visible
            .iter()
            .map(|&i| app.keys.name(i as usize).to_owned())
            .collect()
    }

    /// The ids of the rows that pass the search and filters, in table order.
    fn visible_ids(&self) -> Vec<String> {
        let app = self.app();
        app.visible
            .iter()
            .map(|&i| app.keys.id(i as usize).to_owned())
            .collect()
    }
}

/// An app on workspace `default` of a SQLite store in a fresh temporary directory, filled by
/// `prepare` first; the clock stands at the start until moved, the entropy is seeded. Fields
/// drop in order: the app (and its store) closes before the directory goes.
pub struct TempApp {
    pub app: App,
    pub clock: Arc<ManualClock>,
    pub path: PathBuf,
    _dir: TempDir,
}

impl TempApp {
    pub fn at(start: DateTime<Utc>, prepare: impl FnOnce(&mut Store, &ManualClock)) -> TempApp {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hivekeys.db");
        let clock = Arc::new(ManualClock::new(start));
        let mut store = Store::open_with(&path, store_options(&clock, 42)).unwrap();
        prepare(&mut store, &clock);
        let app = App::new(store, "default", Box::new(Osc52Only::default()));
        TempApp {
            app,
            clock,
            path,
            _dir: dir,
        }
    }

    /// A second connection to the same file, as another admin's process would have: same
    /// clock, entropy seeded with `seed`.
    pub fn other_process(&self, seed: u64) -> Store {
        Store::open_with(&self.path, store_options(&self.clock, seed)).unwrap()
    }

    /// The app as the binary runs it instead, on the same store: the key list and the
    /// workspaces overlay's counts read on threads of their own, their answers taken only
    /// when the test delivers [`Action::KeysLoaded`] / [`Action::WorkspacesCounted`].
    pub fn in_background(mut self) -> TempApp {
        let store = self.other_process(42);
        self.app = App::new_in_background(store, "default", Box::new(Osc52Only::default()));
        self
    }

    /// Delivers [`Action::WorkspacesCounted`] as the event loop does until the count landed.
    pub fn wait_for_counts(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while self.app.is_counting() {
            assert!(Instant::now() < deadline, "the count never landed");
            std::thread::sleep(Duration::from_millis(2));
            self.app.update(Action::WorkspacesCounted);
        }
    }
}

impl Drive for TempApp {
    fn app(&self) -> &App {
        &self.app
    }

    fn app_mut(&mut self) -> &mut App {
        &mut self.app
    }
}

/// An app on workspace `default` of the store at `location` (either backend), filled by
/// `prepare` first, with the store's data version at its last tick: for tests that wait for
/// other processes' changes to be heard.
pub struct OnStore {
    pub app: App,
    pub clock: Arc<ManualClock>,
    pub location: Location,
    /// The store's data version at the last tick.
    pub seen: Option<i64>,
}

impl OnStore {
    pub fn open(
        location: &Location,
        clock: Arc<ManualClock>,
        prepare: impl FnOnce(&mut Store, &ManualClock),
    ) -> OnStore {
        let mut store = Store::open_with(location, store_options(&clock, 42)).unwrap();
        prepare(&mut store, &clock);
        let app = App::new(store, "default", Box::new(Osc52Only::default()));
        let seen = app.store().data_version().ok();
        OnStore {
            app,
            clock,
            location: location.clone(),
            seen,
        }
    }

    /// Another admin's process on the same store: same clock, entropy seeded with `seed`.
    pub fn other_process(&self, seed: u64) -> Store {
        Store::open_with(&self.location, store_options(&self.clock, seed)).unwrap()
    }

    /// A tick once the reload throttle lets other processes' changes in.
    pub fn tick_later(&mut self) {
        self.clock.advance(RELOAD_INTERVAL);
        self.app.update(Action::Tick);
        self.seen = self.app.store().data_version().ok();
    }

    /// [`tick_later`](OnStore::tick_later) once another process's change has been heard:
    /// at once on SQLite, whose data version moves at the commit; on PostgreSQL when the
    /// change's NOTIFY arrives, a moment later, within the dashboards' bound of 2 s.
    pub fn tick_after_change(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(2);
        while self.app.store().data_version().ok() == self.seen && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(2));
        }
        self.tick_later();
    }

    /// Writes go to a writer thread with its own store on the same store, opened with the
    /// same kind of options (the standing clock, seeded entropy) and a long busy timeout.
    pub fn write_in_background(&mut self) {
        let options = StoreOptions {
            busy_timeout: Duration::from_secs(30),
            ..store_options(&self.clock, 7)
        };
        let writer = Writer::start(&self.location, options).expect("start the writer");
        self.app.write_in_background(writer);
    }

    /// Takes the writer's answers until none is outstanding (as the event loop does).
    pub fn wait_for_write(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while self.app.has_outstanding_write() {
            assert!(Instant::now() < deadline, "the write never answered");
            self.app.settle_write(Duration::from_millis(20));
            self.app.update(Action::WriteDone);
        }
    }
}

impl Drive for OnStore {
    fn app(&self) -> &App {
        &self.app
    }

    fn app_mut(&mut self) -> &mut App {
        &mut self.app
    }
}

impl Drive for App {
    fn app(&self) -> &App {
        self
    }

    fn app_mut(&mut self) -> &mut App {
        self
    }
}

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
        self.screen(120, 30)
    }
}

impl Drive for Dashboard {
    fn app(&self) -> &App {
        &self.app
    }

    fn app_mut(&mut self) -> &mut App {
        &mut self.app
    }
}
