//! The bottom two lines: the last action's result, and the keys that work right now (from
//! the key map itself).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use super::theme::Theme;
use crate::text::printable;
use crate::tui::app::App;
use crate::tui::keymap::hints;

pub fn render(app: &App, frame: &mut Frame<'_>, area: Rect, theme: &Theme) {
    let mut spans = vec![Span::raw(" ")];
    for (i, hint) in hints(app.context()).filter(|h| h.footer).enumerate() {
        if i > 0 {
            spans.push(Span::styled(" · ", theme.dim()));
        }
        spans.push(Span::styled(hint.keys, theme.key_hint()));
        spans.push(Span::raw(format!(" {}", hint.text)));
    }
    frame.render_widget(Line::from(spans), area);
}

pub fn render_notice(app: &App, frame: &mut Frame<'_>, area: Rect, theme: &Theme) {
    let Some(notice) = &app.notice else {
        return;
    };
    let (mark, style) = match notice.is_error {
        true => ("✗ ", theme.error()),
        false => ("✓ ", theme.success()),
    };
    let text = printable(&notice.text, 400);
    frame.render_widget(
        Line::from(vec![
            Span::raw(" "),
            Span::styled(format!("{mark}{text}"), style),
        ]),
        area,
    );
}
