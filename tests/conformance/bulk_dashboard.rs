//! The dashboard's marks and bulk revoke on both backends, through the real keymap, while
//! another process revokes marked keys or holds the store's write lock.

use std::sync::Arc;
use std::time::{Duration, Instant};

use hivekeys::clock::ManualClock;
use hivekeys::store::Location;
use hivekeys::tui::action::Action;
use hivekeys::tui::app::{App, Modal, RELOAD_INTERVAL};
use hivekeys::tui::clipboard::Osc52Only;
use hivekeys::tui::keymap::{self, Context};
use hivekeys::tui::view::{self, theme::Theme};
use hivekeys::tui::writer::{WAITING, Writer};
use hivekeys::{Environment, NewKey, Status, Store, StoreOptions};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{
    Event, KeyCode, KeyEvent, KeyEventKind, KeyEventState, KeyModifiers,
};

use crate::Backend;
use crate::common::store_options;

const WS: &str = "default";

/// Keys "Billing" and "Payments" (production), then "CI", "Search" and "Web" (staging): the
/// table lists them newest first, Web on top.
struct Fixture {
    app: App,
    clock: Arc<ManualClock>,
    location: Location,
    seen: Option<i64>,
    ids: Vec<(String, String)>,
}

impl Fixture {
    fn new(backend: &Backend) -> Fixture {
        let location = backend.location.clone();
        let clock = backend.clock.clone();
        let mut store = Store::open_with(&location, store_options(&clock, 42)).unwrap();
        let keys = [
            ("Billing", Environment::Production),
            ("Payments", Environment::Production),
            ("CI", Environment::Staging),
            ("Search", Environment::Staging),
            ("Web", Environment::Staging),
        ];
        let mut ids = Vec::new();
        for (name, environment) in keys {
            clock.advance(chrono::TimeDelta::seconds(1));
            let issued = store
                .create_key(WS, NewKey::new(name, environment))
                .unwrap();
            ids.push((name.to_owned(), issued.record.id.clone()));
        }
        let app = App::new(store, WS, Box::new(Osc52Only::default()));
        let seen = app.store().data_version().ok();
        Fixture {
            app,
            clock,
            location,
            seen,
            ids,
        }
    }

    fn id(&self, name: &str) -> String {
        self.ids.iter().find(|(n, _)| n == name).unwrap().1.clone()
    }

    fn other_process(&self) -> Store {
        Store::open_with(&self.location, store_options(&self.clock, 4242)).unwrap()
    }

    fn send(&mut self, code: KeyCode) {
        let event = Event::Key(KeyEvent {
            code,
            modifiers: KeyModifiers::NONE,
            kind: KeyEventKind::Press,
            state: KeyEventState::NONE,
        });
        if let Some(action) = keymap::action_for(self.app.context(), &event) {
            self.app.update(action);
        }
    }

    fn keys(&mut self, text: &str) {
        for c in text.chars() {
            self.send(KeyCode::Char(c));
        }
    }

    /// A tick once another process's change has been heard (at once on SQLite, when its
    /// NOTIFY arrives on PostgreSQL).
    fn tick_after_change(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(2);
        while self.app.store().data_version().ok() == self.seen && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(2));
        }
        self.clock.advance(RELOAD_INTERVAL);
        self.app.update(Action::Tick);
        self.seen = self.app.store().data_version().ok();
    }

    fn marked_names(&self) -> Vec<String> {
        self.app
            .marks
            .ids()
            .iter()
            .map(|id| self.ids.iter().find(|(_, i)| i == id).unwrap().0.clone())
            .collect()
    }

    fn status(&self, name: &str) -> Status {
        let key = self.app.store().get_key(WS, &self.id(name)).unwrap();
        key.status_at(self.app.store().now())
    }

    fn notice(&self) -> String {
        self.app
            .notice
            .as_ref()
            .map(|n| n.text.clone())
            .unwrap_or_default()
    }

    fn screen(&mut self, width: u16, height: u16) -> String {
        self.app.update(Action::Resize(width, height));
        let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
        terminal
            .draw(|frame| view::render(&self.app, frame, &Theme::PLAIN))
            .unwrap();
        terminal.backend().to_string()
    }

    fn write_in_background(&mut self) {
        let options = StoreOptions {
            busy_timeout: Duration::from_secs(30),
            ..store_options(&self.clock, 7)
        };
        let writer = Writer::start(&self.location, options).expect("start the writer");
        self.app.write_in_background(writer);
    }

    fn wait_for_write(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while self.app.has_outstanding_write() {
            assert!(Instant::now() < deadline, "the write never answered");
            self.app.settle_write(Duration::from_millis(20));
            self.app.update(Action::WriteDone);
        }
    }
}

fn marks_outlast_search_filters_sorts_and_refreshes(backend: &Backend) {
    let mut fx = Fixture::new(backend);
    // Space marks and moves down: two presses mark Web and Search.
    fx.keys("  ");
    assert_eq!(fx.marked_names(), ["Web", "Search"]);
    assert_eq!(fx.app.selected_key().unwrap().name, "CI");
    // A search narrows the table to Payments, which is marked too; the others stay marked.
    fx.keys("/pay");
    fx.send(KeyCode::Enter);
    assert_eq!(fx.app.visible.len(), 1);
    fx.keys(" ");
    assert_eq!(fx.marked_names(), ["Web", "Search", "Payments"]);
    let screen = fx.screen(120, 30);
    assert!(
        screen.contains("1 of 5 keys · 3 marked, x revokes"),
        "{screen}"
    );
    assert!(screen.contains("●"), "{screen}");
    // Esc clears the search first; filters and sorting hide and reorder, marks stay.
    fx.send(KeyCode::Esc);
    assert_eq!(fx.app.visible.len(), 5);
    fx.keys("eoo");
    assert_eq!(fx.marked_names(), ["Web", "Search", "Payments"]);
    fx.keys("e");
    fx.keys("e");
    fx.keys("e");
    assert_eq!(fx.app.environment_filter, None, "back to all");
    // Sorted by name, Billing is on top: Space marks it, and Space again unmarks it.
    fx.keys("g");
    assert_eq!(fx.app.selected_key().unwrap().name, "Billing");
    fx.keys(" ");
    assert_eq!(fx.marked_names(), ["Web", "Search", "Payments", "Billing"]);
    fx.keys("g ");
    assert_eq!(fx.marked_names(), ["Web", "Search", "Payments"]);

    // Another process revokes Search: the refresh drops its mark and says so.
    fx.other_process().revoke_key(WS, &fx.id("Search")).unwrap();
    fx.tick_after_change();
    assert_eq!(fx.app.marks.len(), 2);
    assert!(!fx.marked_names().contains(&"Search".to_owned()));
    let notice = fx.notice();
    assert!(
        notice.contains("Unmarked 1 key") && notice.contains(&fx.id("Search")),
        "{notice}"
    );
    // A revoked row cannot be marked.
    fx.keys("/search");
    fx.send(KeyCode::Enter);
    fx.keys(" ");
    assert_eq!(fx.app.marks.len(), 2);
    assert!(fx.notice().contains("revoked already"), "{}", fx.notice());
    fx.send(KeyCode::Esc);

    // Esc with no search clears every mark.
    fx.send(KeyCode::Esc);
    assert!(fx.app.marks.is_empty());
    assert_eq!(fx.notice(), "Unmarked 2 keys.");
}

fn x_asks_once_and_y_revokes_every_marked_key(backend: &Backend) {
    let mut fx = Fixture::new(backend);
    // Web, Search, then (past CI) Payments.
    fx.keys("  j ");
    assert_eq!(fx.marked_names(), ["Web", "Search", "Payments"]);
    fx.keys("x");
    let Some(Modal::BulkRevoke(dialog)) = &fx.app.modal else {
        panic!("no bulk confirmation: {:?}", fx.app.context());
    };
    assert_eq!(
        dialog.question(),
        "Revoke 3 keys? \"Web\", \"Search\", \"Payments\""
    );
    let screen = fx.screen(100, 30);
    assert!(screen.contains("Revoke 3 keys?"), "{screen}");
    assert!(screen.contains("y revoke"), "{screen}");
    // Someone else revokes Search while the question is open: the rest still go.
    fx.other_process().revoke_key(WS, &fx.id("Search")).unwrap();
    fx.keys("y");
    assert!(fx.app.modal.is_none());
    assert_eq!(
        fx.notice(),
        "2 keys revoked; 1 was already revoked: apps using them can no longer authenticate."
    );
    for name in ["Web", "Search", "Payments"] {
        assert_eq!(fx.status(name), Status::Revoked, "{name}");
    }
    for name in ["Billing", "CI"] {
        assert_eq!(fx.status(name), Status::Active, "{name}");
    }
    assert!(fx.app.marks.is_empty());
    // With no marks, x is the single revoke again.
    fx.keys("gx");
    assert!(
        matches!(fx.app.modal, None | Some(Modal::ConfirmRevoke(_))),
        "{:?}",
        fx.app.context()
    );
}

fn a_bulk_revoke_waits_for_the_lock_and_esc_withdraws_it(backend: &Backend) {
    let mut fx = Fixture::new(backend);
    fx.write_in_background();
    fx.keys("  ");
    let mut blocker = backend.hold_write_lock();
    fx.keys("xy");
    assert_eq!(fx.app.context(), Context::Waiting);
    let screen = fx.screen(100, 30);
    assert!(
        screen.contains(WAITING.split_whitespace().next().unwrap()),
        "{screen}"
    );
    fx.send(KeyCode::Esc);
    assert!(fx.app.modal.is_none());
    assert!(fx.notice().starts_with("Withdrawn"), "{}", fx.notice());
    blocker.batch("ROLLBACK");
    fx.wait_for_write();
    for name in ["Web", "Search"] {
        assert_eq!(
            fx.status(name),
            Status::Active,
            "withdrawn: {name} not revoked"
        );
    }
    assert_eq!(fx.app.marks.len(), 2, "the marks stay for another try");
    fx.keys("xy");
    fx.wait_for_write();
    for name in ["Web", "Search"] {
        assert_eq!(fx.status(name), Status::Revoked, "{name}");
    }
    assert!(fx.notice().starts_with("2 keys revoked"), "{}", fx.notice());
}

conformance! {
    marks_outlast_search_filters_sorts_and_refreshes,
    x_asks_once_and_y_revokes_every_marked_key,
    a_bulk_revoke_waits_for_the_lock_and_esc_withdraws_it,
}
