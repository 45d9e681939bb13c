//! The overlays that only show and scroll: a key's details and the help.

use ratatui::layout::Rect;

use super::Outcome;
use crate::store::{AuditEvent, DailyUse, KeyLeak, KeyRecord, LiveSecret};
use crate::tui::action::{Action, Movement};
use crate::tui::view;

pub struct Details {
    pub key: KeyRecord,
    /// The secrets that verify now: after rotations with grace, more than one.
    pub secrets: Vec<LiveSecret>,
    pub events: Vec<AuditEvent>,
    pub usage: Vec<DailyUse>,
    /// Where a scan saw a secret that still opens the key; empty for most keys.
    pub leaks: Vec<KeyLeak>,
    pub scroll: u16,
}

#[derive(Default)]
pub struct Help {
    pub scroll: u16,
}

impl Details {
    pub fn update(&mut self, action: Action, screen: Option<Rect>) -> Outcome {
        let max = screen.map_or(u16::MAX, |area| view::details::max_scroll(area, self));
        let page = screen.map_or(DEFAULT_PAGE, view::details::page_lines);
        scroll_or_close(&mut self.scroll, action, max, page)
    }
}

impl Help {
    pub fn update(&mut self, action: Action, screen: Option<Rect>) -> Outcome {
        let max = screen.map_or(u16::MAX, view::help::max_scroll);
        let page = screen.map_or(DEFAULT_PAGE, view::help::page_lines);
        scroll_or_close(&mut self.scroll, action, max, page)
    }
}

/// Lines a page holds before the screen's size is known.
const DEFAULT_PAGE: u16 = 10;

/// How both overlays take keys: moves scroll them (no further than `max`; a page is `page`
/// lines, what shows at once, as a page in the table is the rows on screen), cancel closes.
fn scroll_or_close(scroll: &mut u16, action: Action, max: u16, page: u16) -> Outcome {
    match action {
        Action::Cancel => return Outcome::Close,
        Action::Move(movement) => *scroll = scrolled(*scroll, movement, max, page.max(1)),
        _ => {}
    }
    Outcome::Stay
}

fn scrolled(scroll: u16, movement: Movement, max: u16, page: u16) -> u16 {
    let moved = match movement {
        Movement::Down => scroll.saturating_add(1),
        Movement::Up => scroll.saturating_sub(1),
        Movement::PageDown => scroll.saturating_add(page),
        Movement::PageUp => scroll.saturating_sub(page),
        Movement::Top => 0,
        Movement::Bottom => max,
    };
    moved.min(max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrolling_stays_between_the_top_and_the_end() {
        let mut help = Help::default();
        let cases = [
            (Movement::Up, 0),
            (Movement::Down, 1),
            (Movement::PageDown, 11),
            (Movement::PageDown, 15),
            (Movement::PageUp, 5),
            (Movement::Bottom, 15),
            (Movement::Top, 0),
        ];
        for (movement, expected) in cases {
            assert_eq!(
                scroll_or_close(&mut help.scroll, Action::Move(movement), 15, 10),
                Outcome::Stay
            );
            assert_eq!(help.scroll, expected, "{movement:?}");
        }
        assert_eq!(help.update(Action::Cancel, None), Outcome::Close);
    }

    #[test]
    fn before_the_size_is_known_only_the_view_limits_the_scroll() {
        let mut help = Help::default();
        for _ in 0..300 {
            help.update(Action::Move(Movement::Down), None);
        }
        assert_eq!(help.scroll, 300);
        help.update(Action::Move(Movement::Down), Some(Rect::new(0, 0, 120, 40)));
        assert!(
            help.scroll < 300,
            "the text ends well before: {}",
            help.scroll
        );
    }
}
