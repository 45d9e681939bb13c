//! The modal dialogs: Add API Key, Daily Limit, Rename Key, Create Default Key, the rotate and
//! revoke confirmations, Your New API Key, and the key's detail view.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Position, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};

use super::footer::hint_line;
use super::text_field::field_view;
use super::theme::Theme;
use super::{admin, clear_box, details, help};
use crate::environment::{Environment, Status};
use crate::expiry::ExpiryChoice;
use crate::store::{Grace, KeyRecord};
use crate::text::{capitalize, echo, fit, printable};
use crate::tui::app::{App, Modal, NewKeyDialog};
use crate::tui::dialog::{AddKey, AddKeyChoice};
use crate::tui::keymap::{Context, hints as key_hints};
use crate::tui::layout::{centered, dialog_inside};
use crate::tui::writer::WAITING;

/// Longest error message a dialog shows, in characters. Messages can quote names and ids from
/// the store, so they go through `printable` like everything else from there.
const MESSAGE_CHARS: usize = 400;

pub fn render(app: &App, frame: &mut Frame<'_>, area: Rect, theme: &Theme) {
    let Some(modal) = &app.modal else {
        return;
    };
    // While its write waits, a dialog says so where its error would go, and its footer
    // offers what applies then.
    let waiting = app.is_waiting().then_some(WAITING);
    let footer_hints = |context: Context, theme: &Theme| match waiting {
        Some(_) => footer_hints(Context::Waiting, theme),
        None => footer_hints(context, theme),
    };
    let render_error =
        |frame: &mut Frame<'_>, area: Rect, error: Option<&str>, theme: &Theme| match waiting {
            Some(text) => render_message(frame, area, text, theme.warning()),
            None => render_error(frame, area, error, theme),
        };
    match modal {
        Modal::AddKey(dialog) => {
            let inner = open(frame, centered(area, 64, 15), " Add API Key ", theme);
            let [label, field, message, _, choices, _, footer] = Layout::vertical([
                Constraint::Length(1),
                Constraint::Length(1),
                Constraint::Length(2),
                Constraint::Length(1),
                Constraint::Length(1 + ExpiryChoice::ALL.len() as u16),
                Constraint::Min(0),
                Constraint::Length(1),
            ])
            .areas(inner);
            frame.render_widget(Line::styled("Name", theme.title()), label);
            render_field(frame, field, &dialog.name, theme);
            let rule = "1–64 characters, e.g. the service or environment it is for.";
            render_field_message(
                frame,
                message,
                dialog.error.as_deref(),
                rule,
                waiting,
                theme,
            );
            render_add_key_choices(dialog, frame, choices, theme);
            frame.render_widget(footer_hints(Context::AddKey, theme), footer);
        }
        Modal::SetLimit(dialog) => {
            let dialog_area = open(frame, centered(area, 64, 11), " Daily Limit ", theme);
            let [about, label, field, message, footer] = Layout::vertical([
                Constraint::Length(2),
                Constraint::Length(1),
                Constraint::Length(1),
                Constraint::Min(1),
                Constraint::Length(1),
            ])
            .areas(dialog_area);
            frame.render_widget(
                Paragraph::new(format!("For {}.", describe(&dialog.key))).wrap(Wrap { trim: true }),
                about,
            );
            frame.render_widget(Line::styled("Uses per UTC day", theme.title()), label);
            render_field(frame, field, &dialog.value, theme);
            let rule = "1 to 1,000,000,000; empty for no limit. Past it, verification answers \
                        RATE_LIMITED until 00:00 UTC.";
            let error = dialog.error.as_deref();
            render_field_message(frame, message, error, rule, waiting, theme);
            frame.render_widget(footer_hints(Context::SetLimit, theme), footer);
        }
        Modal::Rename(dialog) => {
            let dialog_area = open(frame, centered(area, 64, 11), " Rename Key ", theme);
            let [about, label, field, message, footer] = Layout::vertical([
                Constraint::Length(2),
                Constraint::Length(1),
                Constraint::Length(1),
                Constraint::Min(1),
                Constraint::Length(1),
            ])
            .areas(dialog_area);
            frame.render_widget(
                Paragraph::new(format!("For {}.", describe(&dialog.key))).wrap(Wrap { trim: true }),
                about,
            );
            frame.render_widget(Line::styled("New name", theme.title()), label);
            render_field(frame, field, &dialog.name, theme);
            let rule = "1–64 characters. The id, key and history stay; the rename is audited.";
            let error = dialog.error.as_deref();
            render_field_message(frame, message, error, rule, waiting, theme);
            frame.render_widget(footer_hints(Context::Rename, theme), footer);
        }
        Modal::CreateDefault(dialog) => {
            let (environment, error) = (&dialog.environment, &dialog.error);
            let dialog = open(frame, centered(area, 64, 12), " Create Default Key ", theme);
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
        Modal::ConfirmRotate(dialog) => {
            let (key, grace, error) = (&dialog.key, &dialog.grace, &dialog.error);
            let question = Paragraph::new(vec![
                question_line("Rotate", key, theme),
                Line::from("A new secret replaces the current one; you will see it once."),
                Line::from("The current secret stops working:"),
            ])
            .wrap(Wrap { trim: true });
            let options: Vec<Line> = Grace::ALL
                .iter()
                .map(|g| option_line(capitalize(g.label()), *g == *grace, theme))
                .collect();
            let choices_height = options.len() as u16;
            let sized = Fitted::new(area, 66, &question, error.as_deref(), theme);
            // The question with a blank line under it, the choices, the error, the hints.
            let height = sized.question + 1 + choices_height + sized.error + 1;
            let dialog = open(frame, sized.outer(15, height), " Rotate Key ", theme);
            let [question_area, choices, message, footer] = Layout::vertical([
                Constraint::Length(sized.question + 1),
                Constraint::Length(choices_height),
                Constraint::Min(0),
                Constraint::Length(1),
            ])
            .areas(dialog);
            frame.render_widget(question, question_area);
            frame.render_widget(Paragraph::new(options), choices);
            render_error(frame, message, error.as_deref(), theme);
            frame.render_widget(footer_hints(Context::ConfirmRotate, theme), footer);
        }
        Modal::ConfirmRevoke(dialog) => {
            let (key, error) = (&dialog.key, &dialog.error);
            let question = Paragraph::new(vec![
                question_line("Revoke", key, theme),
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
            ])
            .wrap(Wrap { trim: true });
            let sized = Fitted::new(area, 66, &question, error.as_deref(), theme);
            let question_height = sized.question.max(3) + 1;
            let height = question_height + sized.error + 1;
            let dialog = open(frame, sized.outer(10, height), " Revoke Key ", theme);
            let [question_area, message, footer] = Layout::vertical([
                Constraint::Length(question_height),
                Constraint::Min(0),
                Constraint::Length(1),
            ])
            .areas(dialog);
            frame.render_widget(question, question_area);
            render_error(frame, message, error.as_deref(), theme);
            frame.render_widget(footer_hints(Context::ConfirmRevoke, theme), footer);
        }
        Modal::BulkRevoke(dialog) => {
            let question = Paragraph::new(vec![
                Line::styled(dialog.question(), theme.title()),
                Line::styled(
                    "Apps using these keys stop working at once. This cannot be undone.",
                    theme.warning(),
                ),
            ])
            .wrap(Wrap { trim: true });
            let error = dialog.error.as_deref();
            let sized = Fitted::new(area, 66, &question, error, theme);
            let question_height = sized.question.max(3) + 1;
            let height = question_height + sized.error + 1;
            let dialog = open(
                frame,
                sized.outer(10, height),
                " Revoke Marked Keys ",
                theme,
            );
            let [question_area, message, footer] = Layout::vertical([
                Constraint::Length(question_height),
                Constraint::Min(0),
                Constraint::Length(1),
            ])
            .areas(dialog);
            frame.render_widget(question, question_area);
            render_error(frame, message, error, theme);
            frame.render_widget(footer_hints(Context::ConfirmBulkRevoke, theme), footer);
        }
        Modal::NewKey(dialog) => render_new_key(dialog, frame, area, theme),
        Modal::Details(overlay) => details::render(overlay, app.now, frame, area, theme),
        Modal::Help(overlay) => help::render(frame, area, overlay.scroll, theme),
        Modal::Workspaces(overlay) => {
            admin::render_workspaces(overlay, waiting, frame, area, theme)
        }
        Modal::AuditLog(log) => admin::render_audit_log(log, &app.workspace, frame, area, theme),
    }
}

fn render_new_key(dialog: &NewKeyDialog, frame: &mut Frame<'_>, area: Rect, theme: &Theme) {
    let inner = open(frame, centered(area, 72, 14), " Your New API Key ", theme);
    let verb = if dialog.rotated { "Rotated" } else { "Created" };
    let mut lines = vec![
        Line::from(format!(
            "{verb} \"{}\" ({}, {}).",
            quoted_name(&dialog.key.name),
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

/// Clears the box `outer`, draws its border and title, and returns its inside.
pub(super) fn open(frame: &mut Frame<'_>, outer: Rect, title: &str, theme: &Theme) -> Rect {
    clear_box(frame, outer);
    let block = Block::bordered()
        .border_style(theme.border(true))
        .title(Line::styled(title.to_owned(), theme.title()));
    frame.render_widget(block, outer);
    dialog_inside(outer)
}

fn environment_choice(selected: Environment, theme: &Theme) -> Paragraph<'static> {
    Paragraph::new(
        Environment::ALL
            .iter()
            .map(|e| option_line(e.label().to_owned(), *e == selected, theme))
            .collect::<Vec<_>>(),
    )
}

/// Add API Key's two choices side by side, each under its heading. Only the one the arrows
/// change marks its option with `▶`; the other shows its pick as `(•)` alone.
fn render_add_key_choices(dialog: &AddKey, frame: &mut Frame<'_>, area: Rect, theme: &Theme) {
    let [environment_area, expiry_area] =
        Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(area);
    let column = |heading: &'static str, focus: AddKeyChoice, options: Vec<(String, bool)>| {
        let focused = dialog.focus == focus;
        let heading = match focused {
            true => Line::styled(heading, theme.title()),
            false => Line::styled(heading, theme.dim()),
        };
        let options = options
            .into_iter()
            .map(|(label, chosen)| match (chosen, focused) {
                (true, false) => Line::from(format!("  (•) {label}")),
                _ => option_line(label, chosen, theme),
            });
        Paragraph::new(std::iter::once(heading).chain(options).collect::<Vec<_>>())
    };
    let environments = Environment::ALL
        .iter()
        .map(|e| (e.label().to_owned(), *e == dialog.environment))
        .collect();
    let expiries = ExpiryChoice::ALL
        .iter()
        .map(|e| (e.label().to_owned(), *e == dialog.expiry))
        .collect();
    let environment = column("Environment", AddKeyChoice::Environment, environments);
    frame.render_widget(environment, environment_area);
    frame.render_widget(
        column("Expires", AddKeyChoice::Expiry, expiries),
        expiry_area,
    );
}

/// `▶ (•) Label` for the chosen option, `  ( ) Label` for the others: readable without colour.
fn option_line(label: String, chosen: bool, theme: &Theme) -> Line<'static> {
    match chosen {
        true => Line::styled(format!("▶ (•) {label}"), theme.selected()),
        false => Line::from(format!("  ( ) {label}")),
    }
}

/// The line under a text field: that a write waits, else the field's error, else its rule.
pub(super) fn render_field_message(
    frame: &mut Frame<'_>,
    area: Rect,
    error: Option<&str>,
    rule: &'static str,
    waiting: Option<&'static str>,
    theme: &Theme,
) {
    let line = match (waiting, error) {
        (Some(waiting), _) => Line::styled(waiting, theme.warning()),
        (None, Some(error)) => Line::styled(echo(error, MESSAGE_CHARS), theme.error()),
        (None, None) => Line::styled(rule, theme.dim()),
    };
    frame.render_widget(Paragraph::new(line).wrap(Wrap { trim: true }), area);
}

/// A one-line text field: "› " and the part of the text around the cursor that fits, with
/// the terminal's cursor placed in it.
pub(super) fn render_field(
    frame: &mut Frame<'_>,
    field: Rect,
    input: &tui_input::Input,
    theme: &Theme,
) {
    let width = field.width.saturating_sub(2).max(1) as usize;
    let shown = field_view(input, width);
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
}

fn render_message(frame: &mut Frame<'_>, area: Rect, text: &str, style: ratatui::style::Style) {
    frame.render_widget(
        Paragraph::new(Line::styled(text.to_owned(), style)).wrap(Wrap { trim: true }),
        area,
    );
}

fn render_error(frame: &mut Frame<'_>, area: Rect, error: Option<&str>, theme: &Theme) {
    if let Some(error) = error {
        frame.render_widget(error_paragraph(error, theme), area);
    }
}

fn error_paragraph(error: &str, theme: &Theme) -> Paragraph<'static> {
    Paragraph::new(Line::styled(echo(error, MESSAGE_CHARS), theme.error()))
        .wrap(Wrap { trim: true })
}

/// How tall a confirmation's parts are at the width it gets on this screen, as the paragraphs
/// will wrap them: the box grows to show its whole text (the warning words come last in it,
/// and are the ones that must not be lost) instead of cutting it.
struct Fitted {
    area: Rect,
    width: u16,
    /// Lines the question takes.
    question: u16,
    /// Lines the error takes; one blank line when there is none.
    error: u16,
}

impl Fitted {
    fn new(
        area: Rect,
        width: u16,
        question: &Paragraph<'_>,
        error: Option<&str>,
        theme: &Theme,
    ) -> Fitted {
        let width = width.min(area.width);
        let inner = dialog_inside(Rect::new(0, 0, width, 3)).width.max(1);
        let lines = |p: &Paragraph<'_>| p.line_count(inner).min(u16::MAX as usize) as u16;
        Fitted {
            area,
            width,
            question: lines(question),
            error: error.map_or(1, |e| lines(&error_paragraph(e, theme)).max(1)),
        }
    }

    /// The box: at least `least` lines (the usual size), more when the inside needs
    /// `inside` lines, never more than the screen.
    fn outer(&self, least: u16, inside: u16) -> Rect {
        centered(self.area, self.width, least.max(inside + 2))
    }
}

/// A dialog's bottom line: its context's footer hints.
pub(super) fn footer_hints(context: Context, theme: &Theme) -> Line<'static> {
    let pairs: Vec<(String, &str)> = key_hints(context)
        .filter(|h| h.footer)
        .map(|h| (h.keys.to_owned(), h.text))
        .collect();
    hint_line(theme, pairs)
}

/// "Rotate "name" (id, Environment)?": a confirmation's question.
fn question_line(verb: &str, key: &KeyRecord, theme: &Theme) -> Line<'static> {
    Line::from(vec![
        Span::raw(format!("{verb} ")),
        Span::styled(describe(key), theme.title()),
        Span::raw("?"),
    ])
}

/// A key's name as dialogs quote it: cut by display width, not characters, so 40 wide
/// characters take 40 columns, not 80.
fn quoted_name(name: &str) -> String {
    fit(&printable(name, 64), NAME_COLUMNS)
}

/// Columns a name takes in a dialog's sentence, "…" included.
const NAME_COLUMNS: usize = 41;

/// The key as a confirmation names it. The masked key is part of it: when someone else
/// rotates the key while the dialog is open, the dialog must show that it is another secret
/// now, as the row behind it does.
fn describe(key: &KeyRecord) -> String {
    format!(
        "\"{}\" ({}, {}, {})",
        quoted_name(&key.name),
        printable(&key.id, 40),
        key.environment.label(),
        printable(&key.masked_key, 40)
    )
}
