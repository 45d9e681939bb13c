//! The bottom two lines: the last action's result, and the keys that work right now (from
//! the key map itself).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use unicode_width::UnicodeWidthStr;

use super::theme::Theme;
use crate::text::echo;
use crate::tui::app::App;
use crate::tui::keymap::{Hint, hinted_bindings};

pub fn render(app: &App, frame: &mut Frame<'_>, area: Rect, theme: &Theme) {
    let mut offered: Vec<Hint> = hinted_bindings(app.context())
        .filter(|(hint, action)| hint.footer && app.offers(action))
        .map(|(hint, _)| hint)
        .collect();
    // Whole hints or none: drop them from the end, but the way to help and out stays.
    while line_width(&offered) > area.width as usize {
        match offered.iter().rposition(|h| !matches!(h.keys, "?" | "q")) {
            Some(index) if offered.len() > 1 => {
                offered.remove(index);
            }
            _ => break,
        }
    }
    let mut spans = vec![Span::raw(" ")];
    for (i, hint) in offered.iter().enumerate() {
        if i > 0 {
            spans.push(Span::styled(" · ", theme.dim()));
        }
        spans.push(Span::styled(hint.keys, theme.key_hint()));
        spans.push(Span::raw(format!(" {}", hint.text)));
    }
    frame.render_widget(Line::from(spans), area);
}

/// Cells the footer line takes: a leading space, each `keys text`, and ` · ` between them.
fn line_width(hints: &[Hint]) -> usize {
    let hints_width: usize = hints
        .iter()
        .map(|h| h.keys.width() + 1 + h.text.width())
        .sum();
    1 + hints_width + 3 * hints.len().saturating_sub(1)
}

pub fn render_notice(app: &App, frame: &mut Frame<'_>, area: Rect, theme: &Theme) {
    let Some(notice) = &app.notice else {
        return;
    };
    let (mark, style) = match notice.is_error {
        true => ("✗ ", theme.error()),
        false => ("✓ ", theme.success()),
    };
    let text = echo(&notice.text, 400);
    frame.render_widget(
        Line::from(vec![
            Span::raw(" "),
            Span::styled(format!("{mark}{text}"), style),
        ]),
        area,
    );
}
