//! The audit log overlay (`L`): the workspace's events, newest first, read a page at a time
//! (a workspace can hold millions), searchable with `/` over what is loaded. Moving past the
//! last loaded event asks for the next page.

use tui_input::Input;

use super::workspaces::moved;
use super::{Effect, Outcome};
use crate::audit_log::{LogSearch, searched_text};
use crate::store::LoggedEvent;
use crate::tui::action::{Action, Movement};

/// Events read at a time: the newest page opens the log at once whatever its size.
pub const LOG_PAGE: usize = 1_000;

pub struct AuditLog {
    pub events: Vec<LoggedEvent>,
    /// Each event's searched text, folded once when it loads.
    folded: Vec<String>,
    /// Indices into `events` of those the search matches, newest first.
    pub matching: Vec<usize>,
    pub search: Input,
    /// `/` was pressed: keys go to the search box.
    pub searching: bool,
    /// Index into `matching`.
    pub selected: usize,
    /// The first row shown.
    pub scroll: usize,
    /// The store holds older events than those loaded.
    pub more: bool,
    /// A move that ran past the loaded events: made again once the next page is in.
    pending: Option<Movement>,
}

impl AuditLog {
    /// The log with its newest page.
    pub fn new(first_page: Vec<LoggedEvent>) -> AuditLog {
        let mut log = AuditLog {
            events: Vec::new(),
            folded: Vec::new(),
            matching: Vec::new(),
            search: Input::default(),
            searching: false,
            selected: 0,
            scroll: 0,
            more: false,
            pending: None,
        };
        log.append(first_page, 0);
        log
    }

    /// The `seq` of the oldest event loaded: the next page starts below it.
    pub fn oldest(&self) -> Option<i64> {
        self.events.last().map(|e| e.seq)
    }

    pub fn selected_event(&self) -> Option<&LoggedEvent> {
        self.matching.get(self.selected).map(|&i| &self.events[i])
    }

    /// The next older page arrived; a move that asked for it is made now.
    pub fn append(&mut self, page: Vec<LoggedEvent>, rows: usize) {
        self.more = page.len() == LOG_PAGE;
        let search = LogSearch::new(self.search.value());
        for event in page {
            let folded = searched_text(&event);
            if search.matches_folded(&folded) {
                self.matching.push(self.events.len());
            }
            self.folded.push(folded);
            self.events.push(event);
        }
        if let Some(movement) = self.pending.take() {
            self.move_by(movement, rows);
        }
    }

    /// `rows`: how many event rows show at once, a page for PgDn and PgUp.
    pub fn update(&mut self, action: Action, rows: usize) -> Outcome {
        match action {
            Action::Move(movement) => {
                let at_end = self.selected + 1 >= self.matching.len();
                let forward = matches!(
                    movement,
                    Movement::Down | Movement::PageDown | Movement::Bottom
                );
                let before = self.selected;
                self.move_by(movement, rows);
                // Nothing further loaded, or a page moved only part of the way: read on.
                let short = movement == Movement::PageDown && self.selected < before + rows;
                if forward && self.more && (at_end || short) {
                    self.pending = Some(match movement {
                        Movement::PageDown => Movement::Down,
                        other => other,
                    });
                    return Outcome::Run(Effect::ReadOlderLog);
                }
            }
            Action::StartSearch => self.searching = true,
            Action::KeepSearch => self.searching = false,
            Action::ClearSearch => {
                self.searching = false;
                self.search = Input::default();
                self.refilter();
            }
            Action::Edit(request) if self.searching => {
                self.search.handle(request);
                self.refilter();
            }
            Action::Paste(text) if self.searching => {
                // One line: a search never holds a newline.
                for c in text.chars().filter(|c| !c.is_control()).take(200) {
                    self.search.handle(tui_input::InputRequest::InsertChar(c));
                }
                self.refilter();
            }
            Action::Cancel => return Outcome::Close,
            _ => {}
        }
        Outcome::Stay
    }

    fn move_by(&mut self, movement: Movement, rows: usize) {
        self.selected = moved(self.selected, movement, self.matching.len(), rows);
        self.keep_in_view(rows);
    }

    /// Scrolls so the selected row shows in a window of `rows`.
    pub fn keep_in_view(&mut self, rows: usize) {
        let rows = rows.max(1);
        if self.selected < self.scroll {
            self.scroll = self.selected;
        } else if self.selected >= self.scroll + rows {
            self.scroll = self.selected + 1 - rows;
        }
        let last_window = self.matching.len().saturating_sub(rows);
        self.scroll = self.scroll.min(last_window);
    }

    fn refilter(&mut self) {
        let search = LogSearch::new(self.search.value());
        self.matching = (0..self.events.len())
            .filter(|&i| search.matches_folded(&self.folded[i]))
            .collect();
        self.selected = 0;
        self.scroll = 0;
    }
}

#[cfg(test)]
mod tests {
    use chrono::DateTime;
    use tui_input::InputRequest;

    use super::*;
    use crate::store::{AuditAction, AuditEvent};

    fn events(range: std::ops::Range<i64>) -> Vec<LoggedEvent> {
        range
            .rev()
            .map(|seq| LoggedEvent {
                seq,
                event: AuditEvent {
                    at: DateTime::from_timestamp(1_800_000_000 + seq, 0).unwrap(),
                    action: AuditAction::Created,
                    actor: if seq % 2 == 0 { "alice" } else { "bob" }.into(),
                    detail: None,
                },
                key_id: format!("key_{seq:08x}"),
                key_name: format!("Key {seq}"),
            })
            .collect()
    }

    #[test]
    fn moving_past_the_loaded_page_asks_for_the_next_and_lands_in_it() {
        let mut log = AuditLog::new(events(1..(LOG_PAGE as i64 + 1)));
        assert!(log.more);
        assert_eq!(
            log.update(Action::Move(Movement::Bottom), 20),
            Outcome::Stay
        );
        assert_eq!(log.selected, LOG_PAGE - 1);
        assert_eq!(
            log.update(Action::Move(Movement::Down), 20),
            Outcome::Run(Effect::ReadOlderLog)
        );
        assert_eq!(log.oldest(), Some(1));
        log.append(events(-5..1), 20);
        assert!(!log.more, "a short page is the last");
        assert_eq!(log.selected, LOG_PAGE, "the move is made in the new page");
        assert_eq!(log.selected_event().unwrap().seq, 0);
        assert_eq!(log.scroll, LOG_PAGE + 1 - 20);
        log.update(Action::Move(Movement::Bottom), 20);
        assert_eq!(log.update(Action::Move(Movement::Down), 20), Outcome::Stay);
    }

    #[test]
    fn search_narrows_the_loaded_events_and_esc_in_it_clears_it() {
        let mut log = AuditLog::new(events(1..11));
        log.update(Action::StartSearch, 5);
        for c in "BOB".chars() {
            log.update(Action::Edit(InputRequest::InsertChar(c)), 5);
        }
        assert_eq!(log.matching.len(), 5);
        assert!(
            log.matching
                .iter()
                .all(|&i| log.events[i].event.actor == "bob")
        );
        log.update(Action::KeepSearch, 5);
        assert!(!log.searching);
        assert_eq!(log.matching.len(), 5, "kept");
        log.update(Action::StartSearch, 5);
        log.update(Action::ClearSearch, 5);
        assert_eq!(log.matching.len(), 10);
        assert_eq!(log.update(Action::Cancel, 5), Outcome::Close);
    }
}
