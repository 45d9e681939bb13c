//! The top line: where you are.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use super::theme::Theme;
use crate::text::echo;
use crate::tui::app::App;

pub fn render(app: &App, frame: &mut Frame<'_>, area: Rect, theme: &Theme) {
    let line = Line::from(vec![
        Span::styled(" Settings › API Keys", theme.title()),
        Span::raw("  ·  workspace "),
        Span::styled(echo(&app.workspace, 40), theme.key_hint()),
    ]);
    frame.render_widget(line, area);
    let brand = Line::styled("hivekeys ", theme.dim()).right_aligned();
    frame.render_widget(brand, area);
}
