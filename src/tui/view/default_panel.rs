//! The Default API Key panel, apart from the table, as on the page.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

use super::footer::hint_line;
use super::theme::Theme;
use crate::text::{group_digits, printable};
use crate::timefmt::relative;
use crate::tui::action::Action;
use crate::tui::app::{App, Focus};
use crate::tui::keymap::{Context, key_name};

pub fn render(app: &App, frame: &mut Frame<'_>, area: Rect, theme: &Theme) {
    let focused = app.focus == Focus::DefaultPanel && app.modal.is_none();
    let marker = if focused { "▶ " } else { "" };
    // The default key has no row in the table: when the search finds it, this says so.
    let matched = match app.default_matches {
        true => "· matches the search ",
        false => "",
    };
    let block = Block::bordered()
        .border_style(theme.border(focused))
        .title(Line::styled(
            format!(" {marker}Default API Key {matched}"),
            theme.title(),
        ));
    let lines = match &app.default_key {
        Some(key) => {
            let status = key.status_at(app.now);
            vec![
                Line::from(vec![
                    Span::styled(printable(&key.masked_key, 40), theme.key_hint()),
                    Span::raw("   "),
                    Span::raw(key.environment.label()),
                    Span::raw("   "),
                    Span::styled(
                        crate::expiry::status_text(key, app.now, status.label()),
                        theme.status(status),
                    ),
                    Span::styled(format!("   {}", printable(&key.id, 40)), theme.dim()),
                ]),
                Line::from(format!(
                    "Created {} · Last used {} · {} uses",
                    key.created_at.format("%Y-%m-%d"),
                    relative(key.last_used_at, app.now),
                    group_digits(key.use_count)
                )),
                hints(
                    theme,
                    if focused {
                        &[
                            (Action::OpenRotate, "Rotate Key"),
                            (Action::OpenRevoke, "Revoke"),
                            (Action::OpenDetails, "details"),
                            (Action::FocusNext, "back to the table"),
                        ]
                    } else {
                        &[(Action::FocusNext, "select this key to rotate or revoke it")]
                    },
                ),
            ]
        }
        None => vec![
            Line::from("This workspace has no active default API key."),
            hints(
                theme,
                &[(
                    Action::OpenCreateDefault,
                    "Create Default Key (Production unless you pick another environment)",
                )],
            ),
            Line::styled(
                "Apps calling your deployments usually use the default key.",
                theme.dim(),
            ),
        ],
    };
    frame.render_widget(Paragraph::new(lines).block(block), area);
}

/// The panel's hints: each action's key, as the key map binds it in the main view.
fn hints<'a>(theme: &Theme, pairs: &[(Action, &'a str)]) -> Line<'a> {
    hint_line(
        theme,
        pairs
            .iter()
            .map(|(action, text)| (key_name(Context::Main, action), *text)),
    )
}
