//! The admin console's overlays: the workspaces list (with its New Workspace field) and the
//! audit log.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use unicode_width::UnicodeWidthStr;

use super::dialogs::{footer_hints, open, render_field, render_field_message};
use super::theme::Theme;
use crate::audit_log::{ACTION_WIDTH, LogLine};
use crate::text::{echo, fit, group_digits, pad, printable};
use crate::tui::action::Action;
use crate::tui::dialog::{AuditLog, Counts, Workspaces};
use crate::tui::keymap::{Context, key_name};
use crate::tui::layout::{centered, details_box, dialog_inside};

/// The workspaces box: 64 columns, at most 20 lines.
fn workspaces_box(area: Rect) -> Rect {
    centered(area, 64, 20.min(area.height.saturating_sub(2)))
}

/// The workspaces box's parts: column titles, the list, the New Workspace field's three lines
/// (label, field, message: empty until `a`), and the hints.
fn workspaces_parts(area: Rect) -> [Rect; 6] {
    Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(1),
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Length(2),
        Constraint::Length(1),
    ])
    .areas(dialog_inside(workspaces_box(area)))
}

/// Workspaces the list shows at once on a screen of `area`: a page for PgDn and PgUp.
pub(crate) fn workspace_rows(area: Rect) -> usize {
    workspaces_parts(area)[1].height as usize
}

/// Width of the active-key count column, its title included.
const COUNT_WIDTH: usize = 11;

pub fn render_workspaces(
    overlay: &Workspaces,
    waiting: Option<&'static str>,
    frame: &mut Frame<'_>,
    area: Rect,
    theme: &Theme,
) {
    open(frame, workspaces_box(area), " Workspaces ", theme);
    let [titles, list, label, field, message, footer] = workspaces_parts(area);
    let name_width = (titles.width as usize).saturating_sub(COUNT_WIDTH + 4);
    frame.render_widget(
        Line::styled(
            format!(
                "  {}  {:>COUNT_WIDTH$}",
                pad("WORKSPACE", name_width),
                "ACTIVE KEYS"
            ),
            theme.dim(),
        ),
        titles,
    );
    let rows = list.height as usize;
    let first = overlay.selected.saturating_sub(rows.saturating_sub(1));
    let lines: Vec<Line<'static>> = overlay
        .entries
        .iter()
        .enumerate()
        .skip(first)
        .take(rows)
        .map(|(index, entry)| {
            let marker = if index == overlay.selected {
                "▶ "
            } else {
                "  "
            };
            // "(current)" in words: the mark must not rest on colour alone.
            let suffix = if entry.current { " (current)" } else { "" };
            let name = fit(
                &printable(&entry.name, 64),
                name_width.saturating_sub(suffix.len()),
            );
            let text = format!(
                "{marker}{}  {:>COUNT_WIDTH$}",
                pad(&format!("{name}{suffix}"), name_width),
                count_text(entry.active_keys, &overlay.counts)
            );
            match index == overlay.selected {
                true => Line::styled(text, theme.selected()),
                false => Line::from(text),
            }
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), list);
    let context = match &overlay.creating {
        Some(creating) => {
            frame.render_widget(Line::styled("New workspace name", theme.title()), label);
            render_field(frame, field, &creating.name, theme);
            let rule = "1–64 characters; the new workspace starts empty.";
            let error = creating.error.as_deref();
            render_field_message(frame, message, error, rule, waiting, theme);
            Context::CreateWorkspace
        }
        None => Context::Workspaces,
    };
    let hints = match waiting {
        Some(_) => footer_hints(Context::Waiting, theme),
        None => footer_hints(context, theme),
    };
    frame.render_widget(hints, footer);
}

/// A workspace's active keys as the count column shows them: "…" while they are counted,
/// "unknown" when the count failed.
fn count_text(active_keys: Option<u64>, counts: &Counts) -> String {
    match (active_keys, counts) {
        (Some(n), _) => group_digits(n),
        (None, Counts::Failed) => "unknown".into(),
        (None, _) => "…".into(),
    }
}

/// The audit log's parts: the search line, the column titles, the events, the status line
/// and the hints.
fn log_parts(area: Rect) -> [Rect; 5] {
    Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Min(1),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(dialog_inside(details_box(area)))
}

/// Events the log shows at once on a screen of `area`: a page for PgDn and PgUp.
pub(crate) fn log_rows(area: Rect) -> usize {
    log_parts(area)[2].height as usize
}

/// Columns: time, actor, action, then the key and the detail share the rest.
const TIME_WIDTH: usize = 20;
const ACTOR_WIDTH: usize = 12;
/// The widest the key column gets: a quoted 20-character name and its id.
const KEY_WIDTH: usize = 36;

/// The key's and the detail's widths on a line `width` cells wide.
#[derive(Debug, Clone, Copy)]
struct Widths {
    key: usize,
    detail: usize,
}

impl Widths {
    /// `widest_key`: the widest key text on screen; the key column takes no more, so the
    /// detail (a grace period, a rename) keeps what the key does not need.
    fn at(width: usize, widest_key: usize) -> Widths {
        // The selection mark, three fixed columns and the gaps between all five.
        let rest = width.saturating_sub(2 + TIME_WIDTH + ACTOR_WIDTH + ACTION_WIDTH + 4 * 2);
        let key = (rest / 2).min(KEY_WIDTH).min(widest_key.max("KEY".len()));
        Widths {
            key,
            detail: rest - key,
        }
    }
}

pub fn render_audit_log(
    log: &AuditLog,
    workspace: &str,
    frame: &mut Frame<'_>,
    area: Rect,
    theme: &Theme,
) {
    let title = format!(" Audit log · workspace {} ", fit(&echo(workspace, 64), 40));
    open(frame, details_box(area), &title, theme);
    let [search, titles, rows_area, status, footer] = log_parts(area);
    let search_line = match (log.searching, log.search.value().is_empty()) {
        (true, _) => {
            render_field(frame, search, &log.search, theme);
            None
        }
        (false, true) => Some(Line::styled(
            format!(
                "Press {} to search by actor, action, key or detail.",
                key_name(Context::AuditLog, &Action::StartSearch)
            ),
            theme.dim(),
        )),
        (false, false) => Some(Line::from(vec![
            Span::styled("Search: ", theme.dim()),
            Span::raw(echo(log.search.value(), 64)),
        ])),
    };
    if let Some(line) = search_line {
        frame.render_widget(line, search);
    }
    let rows = rows_area.height as usize;
    let on_screen = || log.matching.iter().skip(log.scroll).take(rows);
    let key_text = |event: usize| {
        let line = LogLine::of(&log.events[event]);
        format!("\"{}\" {}", line.key_name, line.key_id)
    };
    let widest_key = on_screen().map(|&e| key_text(e).width()).max().unwrap_or(0);
    let widths = Widths::at(titles.width as usize, widest_key);
    let titles_text = columns(
        ["TIME", "ACTOR", "ACTION", "KEY", "DETAIL"].map(str::to_owned),
        widths,
    );
    frame.render_widget(
        Line::styled(format!("  {titles_text}"), theme.dim()),
        titles,
    );
    let lines: Vec<Line<'static>> = log
        .matching
        .iter()
        .enumerate()
        .skip(log.scroll)
        .take(rows)
        .map(|(index, &event)| {
            let line = LogLine::of(&log.events[event]);
            let key = key_text(event);
            let text = columns(
                [
                    line.time,
                    line.actor,
                    line.action.to_owned(),
                    key,
                    line.detail,
                ],
                widths,
            );
            match index == log.selected {
                true => Line::styled(format!("▶ {text}"), theme.selected()),
                false => Line::from(format!("  {text}")),
            }
        })
        .collect();
    if lines.is_empty() {
        let empty = match log.events.is_empty() {
            true => "No changes have been recorded in this workspace yet.",
            false => "No loaded event matches the search.",
        };
        frame.render_widget(
            Paragraph::new(Line::styled(empty, theme.dim())).wrap(Wrap { trim: true }),
            rows_area,
        );
    } else {
        frame.render_widget(Paragraph::new(lines), rows_area);
    }
    frame.render_widget(Line::styled(status_line(log), theme.dim()), status);
    frame.render_widget(footer_hints(Context::AuditLog, theme), footer);
}

/// "12 of the newest 1,000 events match · ↓ past the end reads older ones": how much of the
/// log is loaded and shown, so a search over loaded events never passes for one over all.
fn status_line(log: &AuditLog) -> String {
    let loaded = log.events.len() as u64;
    let events = match (log.more, loaded) {
        (true, n) => format!("the newest {} events", group_digits(n)),
        (false, 1) => "1 event".to_owned(),
        (false, n) => format!("all {} events", group_digits(n)),
    };
    let shown = match log.search.value().is_empty() {
        true => format!("Showing {events}"),
        false => format!(
            "{} of {events} match",
            group_digits(log.matching.len() as u64)
        ),
    };
    match log.more {
        true => format!("{shown} · moving past the last reads older ones"),
        false => shown,
    }
}

/// One row: each column cut and padded to its width, the detail to what is left.
fn columns([time, actor, action, key, detail]: [String; 5], widths: Widths) -> String {
    format!(
        "{}  {}  {}  {}  {}",
        pad(&fit(&time, TIME_WIDTH), TIME_WIDTH),
        pad(&fit(&actor, ACTOR_WIDTH), ACTOR_WIDTH),
        pad(&action, ACTION_WIDTH),
        pad(&fit(&key, widths.key), widths.key),
        fit(&detail, widths.detail)
    )
}
