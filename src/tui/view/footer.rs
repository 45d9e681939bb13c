//! The bottom two lines: the last action's result, and the keys that work right now (from
//! the key map itself).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use unicode_width::UnicodeWidthStr;

use super::theme::Theme;
use crate::text::echo;
use crate::tui::action::Action;
use crate::tui::app::App;
use crate::tui::keymap::{Hint, hinted_bindings};

pub fn render(app: &App, frame: &mut Frame<'_>, area: Rect, theme: &Theme) {
    let mut offered: Vec<(Hint, &Action)> = hinted_bindings(app.context())
        .filter(|(hint, action)| hint.footer && app.offers(action))
        .collect();
    // Whole hints or none: drop them from the end, but the way to help and out stays.
    while line_width(&offered) > area.width as usize {
        let droppable =
            |(_, action): &(Hint, &Action)| !matches!(action, Action::OpenHelp | Action::Quit);
        match offered.iter().rposition(droppable) {
            Some(index) if offered.len() > 1 => {
                offered.remove(index);
            }
            _ => break,
        }
    }
    let mut line = hint_line(
        theme,
        offered
            .iter()
            .map(|(hint, _)| (hint.keys.to_owned(), hint.text)),
    );
    line.spans.insert(0, Span::raw(" "));
    frame.render_widget(line, area);
}

/// Cells the footer line takes: a leading space, each `keys text`, and ` · ` between them.
fn line_width(hints: &[(Hint, &Action)]) -> usize {
    let hints_width: usize = hints
        .iter()
        .map(|(h, _)| h.keys.width() + 1 + h.text.width())
        .sum();
    1 + hints_width + 3 * hints.len().saturating_sub(1)
}

/// `keys text · keys text` with the keys highlighted: every line of key hints on screen.
pub(crate) fn hint_line<'a>(
    theme: &Theme,
    pairs: impl IntoIterator<Item = (String, &'a str)>,
) -> Line<'a> {
    let mut spans = Vec::new();
    for (i, (keys, text)) in pairs.into_iter().enumerate() {
        if i > 0 {
            spans.push(Span::styled(" · ", theme.dim()));
        }
        spans.push(Span::styled(keys, theme.key_hint()));
        spans.push(Span::raw(" "));
        spans.push(Span::raw(text));
    }
    Line::from(spans)
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
