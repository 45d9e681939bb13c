//! The dashboard's marks and bulk revoke on both backends, through the real keymap, while
//! another process revokes marked keys or holds the store's write lock.

use std::ops::{Deref, DerefMut};

use hivekeys::tui::app::Modal;
use hivekeys::tui::keymap::Context;
use hivekeys::tui::writer::WAITING;
use hivekeys::{Environment, NewKey, Status};
use ratatui::crossterm::event::KeyCode;

use crate::Backend;
use crate::common::dashboard::{Drive, OnStore};

const WS: &str = "default";

/// Keys "Billing" and "Payments" (production), then "CI", "Search" and "Web" (staging): the
/// table lists them newest first, Web on top.
struct Fixture {
    fx: OnStore,
    ids: Vec<(String, String)>,
}

impl Fixture {
    fn new(backend: &Backend) -> Fixture {
        let keys = [
            ("Billing", Environment::Production),
            ("Payments", Environment::Production),
            ("CI", Environment::Staging),
            ("Search", Environment::Staging),
            ("Web", Environment::Staging),
        ];
        let mut ids = Vec::new();
        let fx = OnStore::open(&backend.location, backend.clock.clone(), |store, clock| {
            for (name, environment) in keys {
                clock.advance(chrono::TimeDelta::seconds(1));
                let issued = store
                    .create_key(WS, NewKey::new(name, environment))
                    .unwrap();
                ids.push((name.to_owned(), issued.record.id.clone()));
            }
        });
        Fixture { fx, ids }
    }

    fn id(&self, name: &str) -> String {
        self.ids.iter().find(|(n, _)| n == name).unwrap().1.clone()
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
}

impl Deref for Fixture {
    type Target = OnStore;

    fn deref(&self) -> &OnStore {
        &self.fx
    }
}

impl DerefMut for Fixture {
    fn deref_mut(&mut self) -> &mut OnStore {
        &mut self.fx
    }
}

fn marks_outlast_search_filters_sorts_and_refreshes(backend: &Backend) {
    let mut fx = Fixture::new(backend);
    // Space marks and moves down: two presses mark Web and Search.
    fx.type_text("  ");
    assert_eq!(fx.marked_names(), ["Web", "Search"]);
    assert_eq!(fx.app.selected_key().unwrap().name, "CI");
    // A search narrows the table to Payments, which is marked too; the others stay marked.
    fx.type_text("/pay");
    fx.press(KeyCode::Enter);
    assert_eq!(fx.app.visible.len(), 1);
    fx.type_text(" ");
    assert_eq!(fx.marked_names(), ["Web", "Search", "Payments"]);
    let screen = fx.screen(120, 30);
    assert!(
        screen.contains("1 of 5 keys · 3 marked, x revokes"),
        "{screen}"
    );
    assert!(screen.contains("●"), "{screen}");
    // Esc clears the search first; filters and sorting hide and reorder, marks stay.
    fx.press(KeyCode::Esc);
    assert_eq!(fx.app.visible.len(), 5);
    fx.type_text("eoo");
    assert_eq!(fx.marked_names(), ["Web", "Search", "Payments"]);
    fx.type_text("e");
    fx.type_text("e");
    fx.type_text("e");
    assert_eq!(fx.app.environment_filter, None, "back to all");
    // Sorted by name, Billing is on top: Space marks it, and Space again unmarks it.
    fx.type_text("g");
    assert_eq!(fx.app.selected_key().unwrap().name, "Billing");
    fx.type_text(" ");
    assert_eq!(fx.marked_names(), ["Web", "Search", "Payments", "Billing"]);
    fx.type_text("g ");
    assert_eq!(fx.marked_names(), ["Web", "Search", "Payments"]);

    // Another process revokes Search: the refresh drops its mark and says so.
    fx.other_process(4242)
        .revoke_key(WS, &fx.id("Search"))
        .unwrap();
    fx.tick_after_change();
    assert_eq!(fx.app.marks.len(), 2);
    assert!(!fx.marked_names().contains(&"Search".to_owned()));
    let notice = fx.notice();
    assert!(
        notice.contains("Unmarked 1 key") && notice.contains(&fx.id("Search")),
        "{notice}"
    );
    // A revoked row cannot be marked.
    fx.type_text("/search");
    fx.press(KeyCode::Enter);
    fx.type_text(" ");
    assert_eq!(fx.app.marks.len(), 2);
    assert!(fx.notice().contains("revoked already"), "{}", fx.notice());
    fx.press(KeyCode::Esc);

    // Esc with no search clears every mark.
    fx.press(KeyCode::Esc);
    assert!(fx.app.marks.is_empty());
    assert_eq!(fx.notice(), "Unmarked 2 keys.");
}

fn x_asks_once_and_y_revokes_every_marked_key(backend: &Backend) {
    let mut fx = Fixture::new(backend);
    // Web, Search, then (past CI) Payments.
    fx.type_text("  j ");
    assert_eq!(fx.marked_names(), ["Web", "Search", "Payments"]);
    fx.type_text("x");
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
    fx.other_process(4242)
        .revoke_key(WS, &fx.id("Search"))
        .unwrap();
    fx.type_text("y");
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
    fx.type_text("gx");
    assert!(
        matches!(fx.app.modal, None | Some(Modal::ConfirmRevoke(_))),
        "{:?}",
        fx.app.context()
    );
}

fn a_bulk_revoke_waits_for_the_lock_and_esc_withdraws_it(backend: &Backend) {
    let mut fx = Fixture::new(backend);
    fx.write_in_background();
    fx.type_text("  ");
    let mut blocker = backend.hold_write_lock();
    fx.type_text("xy");
    assert_eq!(fx.app.context(), Context::Waiting);
    let screen = fx.screen(100, 30);
    assert!(
        screen.contains(WAITING.split_whitespace().next().unwrap()),
        "{screen}"
    );
    fx.press(KeyCode::Esc);
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
    fx.type_text("xy");
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
