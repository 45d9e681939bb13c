//! Drawing: one module per visible part. Views read the [`App`] and never change it; where
//! things go comes from [`crate::tui::layout`], which `App::update` uses too.

pub(crate) mod admin;
mod default_panel;
pub(crate) mod details;
mod dialogs;
mod footer;
mod header;
pub(crate) mod help;
pub(crate) mod keys_table;
mod text_field;
pub mod theme;

use ratatui::Frame;
use ratatui::layout::{Alignment, Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Wrap};

use super::action::Action;
use super::app::{App, Modal};
use super::keymap::{Context, key_name};
use super::layout::{self, MIN_HEIGHT, MIN_WIDTH};
use theme::Theme;

/// Draws the whole screen from the App, at the frame's size (which the App's own idea of the
/// size only follows: a frame can come before the resize event).
pub fn render(app: &App, frame: &mut Frame<'_>, theme: &Theme) {
    let area = frame.area();
    if layout::too_small(area) {
        return render_too_small(app, frame, area, theme);
    }
    let screen = layout::screen(area);
    header::render(app, frame, screen.header, theme);
    default_panel::render(app, frame, screen.panel, theme);
    keys_table::render(app, frame, screen.table, theme);
    footer::render_notice(app, frame, screen.notice, theme);
    footer::render(app, frame, screen.footer, theme);
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
    let quit = key_name(Context::TooSmall, &Action::Quit);
    // A new key that has not been copied is hidden under this notice: say so, since quitting
    // now would lose it.
    match &app.modal {
        Some(Modal::NewKey(dialog)) if dialog.copied.is_none() => {
            text.push(Line::styled(
                "Your new API key is not copied yet: enlarge the window to copy it.",
                theme.error(),
            ));
            text.push(Line::from(if dialog.confirm_close {
                format!("Press {quit} again to quit without it; it cannot be shown again.")
            } else {
                format!("Pressing {quit} twice quits without it.")
            }));
        }
        _ => text.push(Line::from(format!(
            "Enlarge the window, or press {quit} to quit."
        ))),
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
