//! Mouse reports (SGR, as the terminal sends them once asked to) become actions, as keys do
//! in the keymap: a click on a row selects it, a second click on the same row within
//! [`DOUBLE_CLICK`] opens its details, the wheel moves [`WHEEL_ROWS`] rows a notch, a click
//! on a filter chip cycles it, a click on the table's column headers cycles the sort, a click
//! on the Default API Key panel gives it the focus.
//!
//! Where the rows and chips are comes from [`layout`] and the keys table's own placement of
//! its chips, computed from the App (its terminal size, its rows): nothing is remembered from
//! drawing. Only the last click is remembered, here, for telling a double click.

use std::time::{Duration, Instant};

use ratatui::crossterm::event::{MouseButton, MouseEvent, MouseEventKind};
use ratatui::layout::{Position, Rect};

use super::action::{Action, Movement};
use super::app::{App, Focus};
use super::key_list::first_row;
use super::keymap::Context;
use super::layout;
use super::view::keys_table::chip_at;

/// Two clicks on one row this close together are a double click.
pub const DOUBLE_CLICK: Duration = Duration::from_millis(400);
/// Rows one notch of the wheel moves, as most terminals and editors scroll.
pub const WHEEL_ROWS: usize = 3;

/// The last click on a row, for telling a double click from two single ones. The key's id,
/// not the row's place: a live refresh may put another key on that line between the clicks.
#[derive(Debug, Default)]
pub struct Clicks {
    last: Option<(String, Instant)>,
}

impl Clicks {
    /// The actions `event`, arriving at `at`, asks for in `app` as it is now.
    pub fn actions(&mut self, app: &App, event: &MouseEvent, at: Instant) -> Vec<Action> {
        let context = app.context();
        let wheel = |movement| vec![Action::Move(movement); WHEEL_ROWS];
        match (context, event.kind) {
            (
                Context::Main
                | Context::Search
                | Context::Details
                | Context::Help
                | Context::Workspaces
                | Context::AuditLog,
                kind,
            ) if matches!(kind, MouseEventKind::ScrollDown | MouseEventKind::ScrollUp) => {
                match kind {
                    MouseEventKind::ScrollDown => wheel(Movement::Down),
                    _ => wheel(Movement::Up),
                }
            }
            (Context::Main | Context::Search, MouseEventKind::Down(MouseButton::Left)) => {
                let mut actions = self.click(app, Position::new(event.column, event.row), at);
                // A click anywhere but the search box leaves it, keeping what was typed.
                if context == Context::Search && !actions.is_empty() {
                    actions.insert(0, Action::KeepSearch);
                }
                actions
            }
            _ => Vec::new(),
        }
    }

    fn click(&mut self, app: &App, at: Position, now: Instant) -> Vec<Action> {
        let Some(area) = app.terminal_area.filter(|area| !layout::too_small(*area)) else {
            return Vec::new();
        };
        let screen = layout::screen(area);
        if screen.panel.contains(at) {
            self.last = None;
            // The Default API Key panel takes the focus, as Tab gives it.
            return match app.focus {
                Focus::Table => vec![Action::FocusNext],
                Focus::DefaultPanel => Vec::new(),
            };
        }
        let [controls, rows] = layout::table_inside(screen.table);
        if controls.contains(at) {
            self.last = None;
            return chip_at(app, controls, at.x).into_iter().collect();
        }
        if !rows.contains(at) {
            self.last = None;
            return Vec::new();
        }
        if at.y == rows.y {
            self.last = None;
            return match app.visible.is_empty() {
                true => Vec::new(),
                false => vec![Action::CycleSort],
            };
        }
        let Some(row) = row_at(app, rows, at.y) else {
            self.last = None;
            return Vec::new();
        };
        let key = app.keys.id(app.visible[row] as usize);
        let double = self
            .last
            .as_ref()
            .is_some_and(|(last, when)| last == key && now.duration_since(*when) <= DOUBLE_CLICK);
        if double {
            self.last = None;
            vec![Action::SelectRow(row), Action::OpenDetails]
        } else {
            self.last = Some((key.to_owned(), now));
            vec![Action::SelectRow(row)]
        }
    }
}

/// The table row (counted in the visible rows) drawn on screen line `y` of the table's rows
/// area, as the keys table places them: a header line, then the window the selection keeps.
fn row_at(app: &App, rows: Rect, y: u16) -> Option<usize> {
    let fit = layout::rows_fit(rows);
    let first = first_row(app.scroll, app.selected, app.visible.len(), fit);
    let offset = usize::from(y.checked_sub(rows.y + 1)?);
    let row = first + offset;
    (offset < fit && row < app.visible.len()).then_some(row)
}
