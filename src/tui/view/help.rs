//! The `?` overlay: every binding, generated from the key map, and the page's short FAQ.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};

use super::clear_box;
use super::theme::Theme;
use crate::tui::action::{Action, Movement};
use crate::tui::keymap::{Context, help_sections, hint_keys};
use crate::tui::layout;

const FAQ: &[(&str, &str)] = &[
    (
        "Why is only a masked key shown?",
        "hivekeys stores a SHA-256 hash of each key, never the key itself. The full key is shown \
         once, in \"Your New API Key\" after you create or rotate it: copy it then. The masked form \
         is enough to recognise a key and check its environment, status and last use.",
    ),
    (
        "What does Rotate Key do?",
        "It gives the key a new secret under the same id, name and environment. The old secret \
         stops working at once, or after the grace period you pick (1 hour, 24 hours or 7 days), \
         so apps can switch over.",
    ),
    (
        "What does Revoke do?",
        "It disables the key and every secret it has, at once and for good. Revoked keys stay \
         listed so their history can be reviewed.",
    ),
    (
        "Can I use the mouse?",
        "Yes: a click selects a row, a double click opens its details, the wheel scrolls, and a \
         click on a filter chip or on the column headers cycles it. While a new key is shown the \
         mouse is left to the terminal, so you can select the key by hand; start hivekeys with \
         --no-mouse to leave it to the terminal always.",
    ),
    (
        "Are these my model provider's keys?",
        "No. Workspace API keys authenticate requests to your deployments. They are not the \
         provider credentials you connect for personal model usage; those are managed under \
         Integrations (\"Use your own API Key\").",
    ),
];

pub fn render(frame: &mut Frame<'_>, area: Rect, scroll: u16, theme: &Theme) {
    let outer = layout::help_box(area);
    clear_box(frame, outer);
    let lines = lines(theme);
    let scroll = scroll.min(max_scroll_of(&lines, outer));
    let footer = format!(
        " {} scroll · {} close ",
        hint_keys(Context::Help, &Action::Move(Movement::Down)),
        hint_keys(Context::Help, &Action::Cancel)
    );
    let block = Block::bordered()
        .border_style(theme.border(true))
        .title(Line::styled(" Help ", theme.title()))
        .title_bottom(Line::from(footer).right_aligned());
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false })
            .scroll((scroll, 0)),
        outer,
    );
}

/// How far the help scrolls on a screen of `area`: until its text ends.
pub(crate) fn max_scroll(area: Rect) -> u16 {
    max_scroll_of(&lines(&Theme::PLAIN), layout::help_box(area))
}

/// Lines of text the help shows at once on a screen of `area`: a page for PgDn and PgUp.
pub(crate) fn page_lines(area: Rect) -> u16 {
    layout::help_box(area).height.saturating_sub(2)
}

/// Counts the lines as the paragraph will wrap them inside `outer`'s border.
fn max_scroll_of(lines: &[Line<'_>], outer: Rect) -> u16 {
    let inner_width = outer.width.saturating_sub(2).max(1) as usize;
    let wrapped: usize = lines
        .iter()
        .map(|l| l.width().max(1).div_ceil(inner_width))
        .sum();
    let visible = outer.height.saturating_sub(2) as usize;
    wrapped.saturating_sub(visible).min(u16::MAX as usize) as u16
}

/// Every section of the key map, then the FAQ.
fn lines(theme: &Theme) -> Vec<Line<'static>> {
    let mut lines = Vec::new();
    for (title, entries) in help_sections() {
        lines.push(Line::styled(title, theme.title()));
        for hint in entries {
            lines.push(Line::from(vec![
                Span::styled(format!("  {:<16}", hint.keys), theme.key_hint()),
                Span::raw(hint.text),
            ]));
        }
        lines.push(Line::from(""));
    }
    lines.push(Line::styled("Questions", theme.title()));
    for (question, answer) in FAQ {
        lines.push(Line::styled(*question, theme.warning()));
        lines.push(Line::from(*answer));
        lines.push(Line::from(""));
    }
    lines
}
