//! The top line: where you are.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use super::theme::Theme;
use crate::text::{echo, fit};
use crate::tui::app::App;

const BRAND: &str = "hivekeys ";

pub fn render(app: &App, frame: &mut Frame<'_>, area: Rect, theme: &Theme) {
    let mut line = Line::from(vec![
        Span::styled(" Settings › API Keys", theme.title()),
        Span::raw("  ·  workspace "),
    ]);
    // The workspace name takes what the label and the brand leave, with a cell between it and
    // the brand, so a long name is cut with "…" instead of running into "hivekeys".
    let room = (area.width as usize).saturating_sub(line.width() + BRAND.len() + 1);
    line.push_span(Span::styled(
        fit(&echo(&app.workspace, 64), room),
        theme.key_hint(),
    ));
    frame.render_widget(line, area);
    let brand = Line::styled(BRAND, theme.dim()).right_aligned();
    frame.render_widget(brand, area);
}
