//! Drawing: one module per visible part. Views read the [`App`] and never change it (the
//! table records where it scrolled to, in a `Cell`, so paging follows the screen).

mod default_panel;
mod dialogs;
mod footer;
mod header;
mod help;
mod keys_table;
mod text_field;
pub mod theme;

use ratatui::Frame;
use ratatui::layout::{Alignment, Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Wrap};

use super::app::{App, Modal};
use theme::Theme;

/// The smallest terminal the layout fits in.
pub const MIN_WIDTH: u16 = 60;
pub const MIN_HEIGHT: u16 = 16;

pub fn render(app: &App, frame: &mut Frame<'_>, theme: &Theme) {
    let area = frame.area();
    let too_small = area.width < MIN_WIDTH || area.height < MIN_HEIGHT;
    // Recorded for the keymap: keys must not act on what this frame does not show.
    app.too_small.set(too_small);
    if too_small {
        return render_too_small(app, frame, area, theme);
    }
    let [
        header_area,
        panel_area,
        table_area,
        notice_area,
        footer_area,
    ] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(5),
        Constraint::Min(6),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(area);
    header::render(app, frame, header_area, theme);
    default_panel::render(app, frame, panel_area, theme);
    keys_table::render(app, frame, table_area, theme);
    footer::render_notice(app, frame, notice_area, theme);
    footer::render(app, frame, footer_area, theme);
    if app.modal.is_some() {
        dialogs::render(app, frame, area, theme);
    }
}

fn render_too_small(app: &App, frame: &mut Frame<'_>, area: Rect, theme: &Theme) {
    let mut text = vec![
        Line::styled("Terminal too small", theme.warning()),
        Line::from(format!(
            "{}×{} here; hivekeys needs at least {MIN_WIDTH}×{MIN_HEIGHT}.",
            area.width, area.height
        )),
    ];
    // A new key that has not been copied is hidden under this notice: say so, since quitting
    // now would lose it.
    match &app.modal {
        Some(Modal::NewKey(dialog)) if dialog.copied.is_none() => {
            text.push(Line::styled(
                "Your new API key is not copied yet: enlarge the window to copy it.",
                theme.error(),
            ));
            text.push(Line::from(if dialog.confirm_close {
                "Press q again to quit without it; it cannot be shown again."
            } else {
                "Pressing q twice quits without it."
            }));
        }
        _ => text.push(Line::from("Enlarge the window, or press q to quit.")),
    }
    // Lines as the paragraph wraps them, so a narrow terminal still shows the whole notice
    // when it can.
    let width = area.width.max(1) as usize;
    let wrapped: usize = text.iter().map(|l| l.width().max(1).div_ceil(width)).sum();
    let height = (wrapped + 1).min(area.height as usize) as u16;
    let [_, middle, _] = Layout::vertical([
        Constraint::Fill(1),
        Constraint::Length(height),
        Constraint::Fill(1),
    ])
    .areas(area);
    frame.render_widget(
        Paragraph::new(text)
            .alignment(Alignment::Center)
            .wrap(Wrap { trim: true }),
        middle,
    );
}

/// Clears `area` for a dialog. A double-width character just left of it would swallow the
/// dialog's left border (the terminal draws its right half over that cell, and ratatui skips
/// the cell as covered), so such a character is blanked too.
pub(crate) fn clear_box(frame: &mut Frame<'_>, area: Rect) {
    use unicode_width::UnicodeWidthStr;
    frame.render_widget(ratatui::widgets::Clear, area);
    if area.x == 0 {
        return;
    }
    let buffer = frame.buffer_mut();
    for y in area.top()..area.bottom() {
        if let Some(cell) = buffer
            .cell_mut((area.x - 1, y))
            .filter(|cell| cell.symbol().width() > 1)
        {
            cell.set_symbol(" ");
        }
    }
}

/// A rectangle of at most `width`×`height` in the middle of `area`.
pub(crate) fn centered(area: Rect, width: u16, height: u16) -> Rect {
    area.centered(
        Constraint::Length(width.min(area.width)),
        Constraint::Length(height.min(area.height)),
    )
}
