//! The modal dialogs: Add API Key, Create Default Key, the rotate and revoke confirmations,
//! Your New API Key, and the key's detail view.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Position, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Sparkline, Wrap};

use super::default_panel::hints;
use super::text_field::field_view;
use super::theme::Theme;
use super::{centered, clear_box, help};
use crate::environment::{Environment, Status};
use crate::store::{Grace, KeyRecord};
use crate::text::{capitalize, echo, fit, group_digits, printable};
use crate::timefmt::short;
use crate::tui::app::{App, Modal, NewKeyDialog};
use crate::tui::keymap::{Context, hints as key_hints};

/// Longest error message a dialog shows, in characters. Messages can quote names and ids from
/// the store, so they go through `printable` like everything else from there.
const MESSAGE_CHARS: usize = 400;

pub fn render(app: &App, frame: &mut Frame<'_>, area: Rect, theme: &Theme) {
    let Some(modal) = &app.modal else {
        return;
    };
    match modal {
        Modal::AddKey {
            name,
            environment,
            error,
        } => {
            let dialog = open(frame, area, 64, 15, " Add API Key ", theme);
            let [label, field, message, _, choice_label, choices, _, footer] = Layout::vertical([
                Constraint::Length(1),
                Constraint::Length(1),
                Constraint::Length(2),
                Constraint::Length(1),
                Constraint::Length(1),
                Constraint::Length(3),
                Constraint::Min(0),
                Constraint::Length(1),
            ])
            .areas(dialog);
            frame.render_widget(Line::styled("Name", theme.title()), label);
            let width = field.width.saturating_sub(2).max(1) as usize;
            let shown = field_view(name, width);
            frame.render_widget(
                Line::from(vec![
                    Span::styled("› ", theme.key_hint()),
                    Span::raw(shown.text),
                ]),
                field,
            );
            let cursor = field.x + 2 + shown.cursor;
            frame.set_cursor_position(Position::new(
                cursor.min(field.right().saturating_sub(1)),
                field.y,
            ));
            let message_line = match error {
                Some(error) => Line::styled(echo(error, MESSAGE_CHARS), theme.error()),
                None => Line::styled(
                    "1–64 characters, e.g. the service or environment it is for.",
                    theme.dim(),
                ),
            };
            frame.render_widget(
                Paragraph::new(message_line).wrap(Wrap { trim: true }),
                message,
            );
            frame.render_widget(Line::styled("Environment", theme.title()), choice_label);
            frame.render_widget(environment_choice(*environment, theme), choices);
            frame.render_widget(footer_hints(Context::AddKey, theme), footer);
        }
        Modal::CreateDefault { environment, error } => {
            let dialog = open(frame, area, 64, 12, " Create Default Key ", theme);
            let [intro, choices, message, footer] = Layout::vertical([
                Constraint::Length(3),
                Constraint::Length(3),
                Constraint::Min(1),
                Constraint::Length(1),
            ])
            .areas(dialog);
            frame.render_widget(
                Paragraph::new(
                    "The workspace's default key, shown in its own panel. Choose its environment:",
                )
                .wrap(Wrap { trim: true }),
                intro,
            );
            frame.render_widget(environment_choice(*environment, theme), choices);
            render_error(frame, message, error.as_deref(), theme);
            frame.render_widget(footer_hints(Context::CreateDefault, theme), footer);
        }
        Modal::ConfirmRotate { key, grace, error } => {
            let dialog = open(frame, area, 66, 15, " Rotate Key ", theme);
            let [question, choices, message, footer] = Layout::vertical([
                Constraint::Length(4),
                Constraint::Length(4),
                Constraint::Min(1),
                Constraint::Length(1),
            ])
            .areas(dialog);
            let lines = vec![
                Line::from(vec![
                    Span::raw("Rotate "),
                    Span::styled(describe(key), theme.title()),
                    Span::raw("?"),
                ]),
                Line::from("A new secret replaces the current one; you will see it once."),
                Line::from("The current secret stops working:"),
            ];
            frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: true }), question);
            let options: Vec<Line> = Grace::ALL
                .iter()
                .map(|g| option_line(capitalize(g.label()), *g == *grace, theme))
                .collect();
            frame.render_widget(Paragraph::new(options), choices);
            render_error(frame, message, error.as_deref(), theme);
            frame.render_widget(footer_hints(Context::ConfirmRotate, theme), footer);
        }
        Modal::ConfirmRevoke { key, error } => {
            let dialog = open(frame, area, 66, 10, " Revoke Key ", theme);
            let [question, message, footer] = Layout::vertical([
                Constraint::Length(4),
                Constraint::Min(1),
                Constraint::Length(1),
            ])
            .areas(dialog);
            let lines = vec![
                Line::from(vec![
                    Span::raw("Revoke "),
                    Span::styled(describe(key), theme.title()),
                    Span::raw("?"),
                ]),
                Line::styled(
                    match key.status_at(app.now) {
                        Status::Expired => {
                            "It has expired already; revoking it disables it for good and \
                             records that in its audit trail. This cannot be undone."
                        }
                        _ => "Apps using this key stop working at once. This cannot be undone.",
                    },
                    theme.warning(),
                ),
            ];
            frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: true }), question);
            render_error(frame, message, error.as_deref(), theme);
            frame.render_widget(footer_hints(Context::ConfirmRevoke, theme), footer);
        }
        Modal::NewKey(dialog) => render_new_key(dialog, frame, area, theme),
        Modal::Details {
            key,
            events,
            usage,
            scroll,
        } => render_details(app, key, events, usage, *scroll, frame, area, theme),
        Modal::Help { scroll } => help::render(app, frame, area, *scroll, theme),
    }
}

fn render_new_key(dialog: &NewKeyDialog, frame: &mut Frame<'_>, area: Rect, theme: &Theme) {
    let inner = open(frame, area, 72, 14, " Your New API Key ", theme);
    let verb = if dialog.rotated { "Rotated" } else { "Created" };
    let mut lines = vec![
        Line::from(format!(
            "{verb} \"{}\" ({}, {}).",
            printable(&dialog.key.name, 40),
            printable(&dialog.key.id, 40),
            dialog.key.environment.label()
        )),
        Line::from(""),
        Line::styled(dialog.secret.expose(), theme.secret()),
        Line::from(""),
        Line::styled(
            "Copy this key now: it will not be shown again. hivekeys keeps only its hash.",
            theme.warning(),
        ),
    ];
    match &dialog.copied {
        Some(report) => lines.push(Line::styled(report.message(), theme.success())),
        None => lines.push(Line::styled("Not copied yet.", theme.dim())),
    }
    if dialog.confirm_close {
        lines.push(Line::from(""));
        lines.push(Line::styled(
            "You have not copied the key. Close anyway? It cannot be shown again.",
            theme.error(),
        ));
    }
    let [body, footer] = Layout::vertical([Constraint::Min(1), Constraint::Length(1)]).areas(inner);
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), body);
    let context = if dialog.confirm_close {
        Context::ConfirmClose
    } else {
        Context::NewKey
    };
    frame.render_widget(footer_hints(context, theme), footer);
}

#[allow(clippy::too_many_arguments)]
fn render_details(
    app: &App,
    key: &KeyRecord,
    events: &[crate::store::AuditEvent],
    usage: &[crate::store::DailyUse],
    scroll: u16,
    frame: &mut Frame<'_>,
    area: Rect,
    theme: &Theme,
) {
    let title = format!(" {} ", printable(&key.name, 50));
    // The whole screen but the footer: no slivers of the table showing at the edges.
    let screen = Rect {
        height: area.height.saturating_sub(1),
        ..area
    };
    let inner = open(frame, screen, screen.width, screen.height, &title, theme);
    let [text_area, chart_label, chart_area, footer] = Layout::vertical([
        Constraint::Min(3),
        Constraint::Length(1),
        Constraint::Length(4),
        Constraint::Length(1),
    ])
    .areas(inner);
    let when = |at| crate::timefmt::short_and_relative(at, app.now);
    let status = key.status_at(app.now);
    let field = |label: &str, value: String| {
        Line::from(vec![
            Span::styled(format!("{label:<12}"), theme.dim()),
            Span::raw(value),
        ])
    };
    let mut lines = vec![
        field("Id", printable(&key.id, 40)),
        field("Key", printable(&key.masked_key, 40)),
        field("Environment", key.environment.label().to_owned()),
        Line::from(vec![
            Span::styled(format!("{:<12}", "Status"), theme.dim()),
            Span::styled(status.label(), theme.status(status)),
        ]),
        field(
            "Default",
            if key.is_default { "yes" } else { "no" }.to_owned(),
        ),
        field("Created", when(Some(key.created_at))),
        field("Rotated", when(key.rotated_at)),
        field("Revoked", when(key.revoked_at)),
        field("Expires", when(key.expires_at)),
        field("Last used", when(key.last_used_at)),
        field("Uses", group_digits(key.use_count)),
        Line::from(""),
        Line::styled("Audit trail", theme.title()),
    ];
    lines.extend(events.iter().map(|event| {
        let detail = event
            .detail
            .as_deref()
            .map(|d| format!(" ({d})"))
            .unwrap_or_default();
        Line::from(format!(
            "{}  {:<8} by {}{}",
            short(event.at),
            event.action.as_str(),
            printable(&event.actor, 40),
            printable(&detail, 80)
        ))
    }));
    let max_scroll = lines
        .len()
        .saturating_sub(text_area.height as usize)
        .min(u16::MAX as usize) as u16;
    app.overlay_max_scroll.set(max_scroll);
    let scroll = scroll.min(max_scroll);
    frame.render_widget(Paragraph::new(lines).scroll((scroll, 0)), text_area);

    // Two cells per day where the month fits, so it reads as a chart; one cell per day, the
    // most recent ones kept, where it does not.
    let cells_per_day = if chart_area.width as usize >= usage.len() * 2 {
        2
    } else {
        1
    };
    let days_shown = (chart_area.width as usize / cells_per_day).min(usage.len());
    let shown = &usage[usage.len() - days_shown..];
    let total: u64 = shown.iter().map(|d| d.count).sum();
    let peak = shown.iter().map(|d| d.count).max().unwrap_or(0);
    let range = match (shown.first(), shown.last()) {
        (Some(first), Some(last)) => format!(
            "{} – {}",
            first.date.format("%b %d"),
            last.date.format("%b %d")
        ),
        _ => String::new(),
    };
    let label = format!(
        "{range} · {} uses · peak {} a day",
        group_digits(total),
        group_digits(peak)
    );
    frame.render_widget(
        Line::from(vec![
            Span::styled(
                format!("Uses per day, last {} days  ", shown.len()),
                theme.title(),
            ),
            Span::raw(fit(&label, chart_label.width.saturating_sub(30) as usize)),
        ]),
        chart_label,
    );
    let bars: Vec<u64> = shown
        .iter()
        .flat_map(|d| std::iter::repeat_n(d.count, cells_per_day))
        .collect();
    let chart = Rect {
        width: (bars.len() as u16).min(chart_area.width),
        ..chart_area
    };
    frame.render_widget(
        Sparkline::default().data(bars).style(theme.success()),
        chart,
    );
    frame.render_widget(footer_hints(Context::Details, theme), footer);
}

/// Clears a centered box, draws its border and title, and returns its inside.
fn open(
    frame: &mut Frame<'_>,
    area: Rect,
    width: u16,
    height: u16,
    title: &str,
    theme: &Theme,
) -> Rect {
    let outer = centered(area, width, height);
    clear_box(frame, outer);
    let block = Block::bordered()
        .border_style(theme.border(true))
        .title(Line::styled(title.to_owned(), theme.title()));
    let inner = block.inner(outer);
    frame.render_widget(block, outer);
    Rect {
        x: inner.x + 1,
        width: inner.width.saturating_sub(2),
        ..inner
    }
}

fn environment_choice(selected: Environment, theme: &Theme) -> Paragraph<'static> {
    Paragraph::new(
        Environment::ALL
            .iter()
            .map(|e| option_line(e.label().to_owned(), *e == selected, theme))
            .collect::<Vec<_>>(),
    )
}

/// `▶ (•) Label` for the chosen option, `  ( ) Label` for the others: readable without colour.
fn option_line(label: String, chosen: bool, theme: &Theme) -> Line<'static> {
    match chosen {
        true => Line::styled(format!("▶ (•) {label}"), theme.selected()),
        false => Line::from(format!("  ( ) {label}")),
    }
}

fn render_error(frame: &mut Frame<'_>, area: Rect, error: Option<&str>, theme: &Theme) {
    if let Some(error) = error {
        frame.render_widget(
            Paragraph::new(Line::styled(echo(error, MESSAGE_CHARS), theme.error()))
                .wrap(Wrap { trim: true }),
            area,
        );
    }
}

fn footer_hints(context: Context, theme: &Theme) -> Line<'static> {
    let pairs: Vec<(&str, &str)> = key_hints(context)
        .filter(|h| h.footer)
        .map(|h| (h.keys, h.text))
        .collect();
    hints(theme, &pairs)
}

fn describe(key: &KeyRecord) -> String {
    format!(
        "\"{}\" ({}, {})",
        printable(&key.name, 40),
        printable(&key.id, 40),
        key.environment.label()
    )
}
