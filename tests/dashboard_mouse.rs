//! Mouse reports through `tui::mouse` into `App::update`, at positions read off the screen
//! as drawn: a click selects the row under it, a double click opens its details, the wheel
//! moves three rows, a click on a chip cycles its filter, on the column headers the sort.

#[path = "common/mod.rs"]
mod common;

use std::ops::{Deref, DerefMut};
use std::time::{Duration, Instant};

use chrono::TimeDelta;
use common::dashboard::{Drive, TempApp, t0};
use hivekeys::store::SortBy;
use hivekeys::tui::action::Action;
use hivekeys::tui::app::{Focus, Modal};
use hivekeys::tui::keymap::Context;
use hivekeys::tui::mouse::{Clicks, DOUBLE_CLICK};
use hivekeys::tui::view::{self, theme::Theme};
use hivekeys::{Environment, NewKey, Status};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};

const WS: &str = "default";
const WIDTH: u16 = 100;
const HEIGHT: u16 = 24;

/// Twenty keys "Key 01" … "Key 20", a second apart: more than a 100×24 screen shows.
struct Fixture {
    fx: TempApp,
    clicks: Clicks,
    start: Instant,
}

impl Fixture {
    fn new() -> Fixture {
        let mut fx = TempApp::at(t0(), |store, clock| {
            for i in 1..=20 {
                clock.advance(TimeDelta::seconds(1));
                store
                    .create_key(WS, NewKey::new(format!("Key {i:02}"), Environment::Staging))
                    .unwrap();
            }
        });
        fx.app.update(Action::Resize(WIDTH, HEIGHT));
        Fixture {
            fx,
            clicks: Clicks::default(),
            start: Instant::now(),
        }
    }

    fn screen(&self) -> Vec<String> {
        let mut terminal = Terminal::new(TestBackend::new(WIDTH, HEIGHT)).unwrap();
        terminal
            .draw(|frame| view::render(&self.app, frame, &Theme::PLAIN))
            .unwrap();
        let buffer = terminal.backend().buffer().clone();
        (0..HEIGHT)
            .map(|y| {
                (0..WIDTH)
                    .map(|x| buffer[(x, y)].symbol().to_owned())
                    .collect()
            })
            .collect()
    }

    /// The column and line where `text` is drawn.
    fn find(&self, text: &str) -> (u16, u16) {
        let screen = self.screen();
        for (y, line) in screen.iter().enumerate() {
            if let Some(byte) = line.find(text) {
                return (line[..byte].chars().count() as u16, y as u16);
            }
        }
        panic!("{text:?} is not on screen:\n{}", screen.join("\n"));
    }

    /// A mouse report `ms` milliseconds after the fixture started.
    fn mouse(&mut self, kind: MouseEventKind, (column, row): (u16, u16), ms: u64) {
        let event = MouseEvent {
            kind,
            column,
            row,
            modifiers: KeyModifiers::NONE,
        };
        let at = self.start + Duration::from_millis(ms);
        for action in self.clicks.actions(&self.fx.app, &event, at) {
            self.fx.app.update(action);
        }
    }

    fn click(&mut self, at: (u16, u16), ms: u64) {
        self.mouse(MouseEventKind::Down(MouseButton::Left), at, ms);
        self.mouse(MouseEventKind::Up(MouseButton::Left), at, ms + 20);
    }

    fn selected(&self) -> String {
        self.app.selected_key().unwrap().name.clone()
    }
}

impl Deref for Fixture {
    type Target = TempApp;

    fn deref(&self) -> &TempApp {
        &self.fx
    }
}

impl DerefMut for Fixture {
    fn deref_mut(&mut self) -> &mut TempApp {
        &mut self.fx
    }
}

#[test]
fn a_click_selects_the_row_under_it_and_a_double_click_opens_it() {
    let mut fx = Fixture::new();
    assert_eq!(fx.selected(), "Key 20");
    let row = fx.find("Key 17");
    fx.click(row, 0);
    assert_eq!(fx.selected(), "Key 17");
    assert!(fx.app.modal.is_none(), "one click only selects");
    // Two clicks further apart than a double click: still only selected.
    fx.click(row, 100 + DOUBLE_CLICK.as_millis() as u64);
    assert!(fx.app.modal.is_none());
    let other = fx.find("Key 15");
    fx.click(other, 1000);
    fx.click(row, 1100);
    assert!(
        fx.app.modal.is_none(),
        "two clicks on two rows are no double click"
    );
    fx.click(row, 1300);
    match &fx.app.modal {
        Some(Modal::Details(details)) => assert_eq!(details.key.name, "Key 17"),
        _ => panic!("no details after a double click: {:?}", fx.app.context()),
    }
    // Clicks go nowhere while an overlay is open; Esc closes it.
    fx.click(other, 3000);
    assert_eq!(fx.app.context(), Context::Details);
    fx.press(KeyCode::Esc);
    // A click on the Default API Key panel focuses it; one on a row, the table again.
    fx.click((5, 3), 4000);
    assert_eq!(fx.app.focus, Focus::DefaultPanel);
    fx.click(row, 4500);
    assert_eq!(fx.app.focus, Focus::Table);
    // Below the last row, on the border, on the header line: nothing.
    for at in [(5, HEIGHT - 3), (0, 10), (5, 0)] {
        fx.click(at, 5000);
        assert_eq!(fx.selected(), "Key 17", "{at:?}");
    }
}

#[test]
fn the_wheel_moves_three_rows_a_notch_and_the_window_follows() {
    let mut fx = Fixture::new();
    let anywhere = fx.find("Key 18");
    for _ in 0..4 {
        fx.mouse(MouseEventKind::ScrollDown, anywhere, 0);
    }
    assert_eq!(fx.selected(), "Key 08");
    assert!(fx.app.scroll > 0, "the window follows the selection");
    // A click lands on the row drawn there after scrolling.
    assert!(!fx.screen().concat().contains("Key 20"), "scrolled off");
    let row = fx.find("Key 10");
    fx.click(row, 0);
    assert_eq!(fx.selected(), "Key 10");
    fx.mouse(MouseEventKind::ScrollUp, anywhere, 0);
    assert_eq!(fx.selected(), "Key 13");
}

#[test]
fn a_click_on_a_chip_cycles_its_filter_and_on_the_headers_the_sort() {
    let mut fx = Fixture::new();
    let environment = fx.find("[Environment: All]");
    fx.click((environment.0 + 3, environment.1), 0);
    assert_eq!(fx.app.environment_filter, Some(Environment::Production));
    assert!(fx.app.visible.is_empty());
    let status = fx.find("[Status: All]");
    fx.click(status, 1000);
    assert_eq!(fx.app.status_filter, Some(Status::Active));
    // The key before a chip counts as the chip; the gap between chips does not.
    let (x, y) = fx.find("[Environment: Production]");
    fx.click((x - 2, y), 2000);
    assert_eq!(fx.app.environment_filter, Some(Environment::Staging));
    let (x, y) = fx.find("  s [Status");
    fx.click((x, y), 3000);
    assert_eq!(
        fx.app.status_filter,
        Some(Status::Active),
        "the gap is no chip"
    );
    assert_eq!(fx.app.visible.len(), 20);

    let header = fx.find("Created ▼");
    fx.click(header, 4000);
    assert_eq!(fx.app.sort, SortBy::LastUsed);

    let usage = fx.find("[Usage: All]");
    fx.click(usage, 5000);
    assert_eq!(
        fx.app.usage_filter,
        hivekeys::usage_filter::UsageFilter::UsedRecently
    );
    assert!(fx.app.visible.is_empty(), "no key was ever used");
}

#[test]
fn a_click_from_the_search_box_keeps_the_search_and_selects() {
    let mut fx = Fixture::new();
    fx.press(KeyCode::Char('/'));
    for c in "key 1".chars() {
        fx.press(KeyCode::Char(c));
    }
    assert_eq!(fx.app.context(), Context::Search);
    let row = fx.find("Key 12");
    fx.click(row, 0);
    assert_eq!(fx.app.context(), Context::Main);
    assert_eq!(fx.app.search.value(), "key 1");
    assert_eq!(fx.selected(), "Key 12");
}

#[test]
fn the_mouse_is_released_while_a_new_key_is_shown() {
    let mut fx = Fixture::new();
    assert!(fx.app.wants_mouse());
    fx.press(KeyCode::Char('a'));
    for c in "Fresh".chars() {
        fx.press(KeyCode::Char(c));
    }
    fx.press(KeyCode::Enter);
    assert_eq!(fx.app.context(), Context::NewKey);
    assert!(!fx.app.wants_mouse());
    // A click reported meanwhile (a terminal that still sends them) changes nothing.
    fx.click((5, 12), 0);
    assert_eq!(fx.app.context(), Context::NewKey);
    fx.press(KeyCode::Char('c'));
    fx.press(KeyCode::Enter);
    assert!(fx.app.wants_mouse());
}

/// Every mouse report at every cell of terminals from 1×1 to the smallest drawn size, and
/// past the screen's edge: no panic, and a click on no row selects nothing new.
#[test]
fn mouse_reports_anywhere_on_any_size_never_panic() {
    let kinds = [
        MouseEventKind::Down(MouseButton::Left),
        MouseEventKind::Down(MouseButton::Right),
        MouseEventKind::ScrollDown,
        MouseEventKind::ScrollUp,
    ];
    for (width, height) in [(1, 1), (10, 3), (59, 16), (60, 15), (60, 16)] {
        let mut fx = Fixture::new();
        fx.app.update(Action::Resize(width, height));
        let too_small = (width, height) != (60, 16);
        for x in (0..width + 2).chain([u16::MAX]) {
            for y in (0..height + 2).chain([u16::MAX]) {
                for kind in kinds {
                    fx.mouse(kind, (x, y), 0);
                }
            }
        }
        fx.press(KeyCode::Esc);
        if too_small {
            assert_eq!(
                fx.selected(),
                "Key 20",
                "{width}×{height}: a notice, no rows"
            );
            assert!(fx.app.modal.is_none(), "{width}×{height}");
        }
    }
}

/// Two clicks on one spot are a double click only on one key: a live refresh that put
/// another key under the pointer between them makes the second a single click on that key.
#[test]
fn a_double_click_needs_the_same_key_under_both_clicks() {
    let mut fx = Fixture::new();
    let spot = fx.find("Key 17");
    fx.click(spot, 0);
    assert_eq!(fx.selected(), "Key 17");
    // Another admin adds a key: the newest-first list moves every row down one.
    let mut other = fx.other_process(7);
    other
        .create_key(WS, NewKey::new("Key 21", Environment::Staging))
        .unwrap();
    fx.clock.advance(hivekeys::tui::app::RELOAD_INTERVAL);
    fx.app.update(Action::Tick);
    let moved = fx.find("Key 17");
    assert_ne!(moved, spot, "the row moved");
    fx.click(spot, 100);
    assert!(
        fx.app.modal.is_none(),
        "the second click was on another key: {:?}",
        fx.app.context()
    );
    assert_ne!(fx.selected(), "Key 17");
}
