//! The additional keys: search box, filter chips, "N of M keys", and the table itself. Only
//! the rows on screen are built, so 100,000 keys cost no more per frame than 20.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Position, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{
    Block, Cell, Paragraph, Row, Scrollbar, ScrollbarOrientation, ScrollbarState, Table,
    TableState, Wrap,
};
use unicode_width::UnicodeWidthStr;

use super::text_field::field_view;
use super::theme::Theme;
use crate::environment::Status;
use crate::expiry;
use crate::store::SortBy;
use crate::text::{fit, group_digits, printable};
use crate::timefmt::relative;
use crate::tui::action::Action;
use crate::tui::app::{App, Focus};
use crate::tui::key_list::first_row;
use crate::tui::keymap::{Context, key_name};
use crate::tui::layout;

/// How the main view's key for `action` is named on screen.
fn key(action: Action) -> String {
    key_name(Context::Main, &action)
}

pub fn render(app: &App, frame: &mut Frame<'_>, area: Rect, theme: &Theme) {
    let focused = app.focus == Focus::Table && app.modal.is_none();
    let marker = if focused { "▶ " } else { "" };
    let loading = if app.loading_total().is_some() {
        "· loading… "
    } else {
        ""
    };
    // Marks may be on rows the search or filters hide: the count says how many there are,
    // and what x does with them.
    let marked = match app.marks.len() {
        0 => String::new(),
        n => format!("· {n} marked, {} revokes ", key(Action::OpenRevoke)),
    };
    let count = format!(
        " {} of {} keys {marked}{loading}",
        app.visible.len(),
        app.total_keys()
    );
    let block = Block::bordered()
        .border_style(theme.border(focused))
        .title(Line::styled(format!(" {marker}API Keys "), theme.title()))
        .title(Line::from(count).right_aligned());
    frame.render_widget(block, area);

    let [controls, table_area] = layout::table_inside(area);
    render_controls(app, frame, controls, theme);

    if app.visible.is_empty() {
        return render_empty(app, frame, table_area, theme);
    }
    render_rows(app, frame, table_area, theme);
}

/// The filter chips, from the most to the least spelled out: the first that leaves the search
/// box [`SEARCH_ROOM`] cells for its text is drawn.
#[derive(Clone, Copy)]
enum Chips {
    /// `[Environment: Development]  [Status: Revoked]  [Usage: Unused 30+ days]`
    Full,
    /// `[Env: Development]  [Status: Revoked]  [Usage: Unused 30+ days]`
    Short,
    /// `[Env: dev]  [Status: Revoked]  [Usage: unused 30d+]`
    Codes,
    /// `[dev]  [Revoked]  [unused 30d+]`
    Values,
}

/// Cells the search text keeps beside the chips, at the least.
const SEARCH_ROOM: u16 = 12;

fn chips_line<'a>(app: &App, theme: &Theme, form: Chips) -> Line<'a> {
    let chip = |label: &str, value: Option<&'static str>| {
        let value = value.unwrap_or("All");
        let text = match label {
            "" => format!("[{value}]"),
            label => format!("[{label}: {value}]"),
        };
        Span::styled(text, theme.chip(value != "All"))
    };
    let (environment_label, status_label, usage_label) = match form {
        Chips::Full => ("Environment", "Status", "Usage"),
        Chips::Short | Chips::Codes => ("Env", "Status", "Usage"),
        Chips::Values => ("", "", ""),
    };
    let environment = app.environment_filter.map(|e| match form {
        Chips::Full | Chips::Short => e.label(),
        Chips::Codes | Chips::Values => e.code(),
    });
    let usage = match form {
        Chips::Full | Chips::Short => app.usage_filter.label(),
        Chips::Codes | Chips::Values => app.usage_filter.code(),
    };
    Line::from(vec![
        Span::styled(key(Action::CycleEnvironmentFilter), theme.key_hint()),
        Span::raw(" "),
        chip(environment_label, environment),
        Span::raw("  "),
        Span::styled(key(Action::CycleStatusFilter), theme.key_hint()),
        Span::raw(" "),
        chip(status_label, app.status_filter.map(|s| s.label())),
        Span::raw("  "),
        Span::styled(key(Action::CycleUsageFilter), theme.key_hint()),
        Span::raw(" "),
        chip(usage_label, usage),
    ])
}

/// The chips line that fits beside the search box in `area` (the search line), the search
/// box's area and the chips'. Drawing and clicking both place the chips here.
fn placed_chips<'a>(
    app: &App,
    theme: &Theme,
    area: Rect,
    label_width: u16,
) -> (Line<'a>, Rect, Rect) {
    // With every filter set the full chips take 78 cells: on a narrow screen they would
    // leave the search text no room at all.
    let forms = [Chips::Full, Chips::Short, Chips::Codes, Chips::Values];
    let chips = forms
        .iter()
        .map(|&form| chips_line(app, theme, form))
        .find(|line| {
            area.width.saturating_sub(line.width() as u16 + 1) >= label_width + SEARCH_ROOM
        })
        .unwrap_or_else(|| chips_line(app, theme, Chips::Values));
    let chips_width = chips.width() as u16;
    let [search_area, _, chips_area] = Layout::horizontal([
        Constraint::Min(10),
        Constraint::Length(1),
        Constraint::Length(chips_width),
    ])
    .areas(area);
    (chips, search_area, chips_area)
}

/// The filters a chip in the search line stands for: a click on a chip (or on its key)
/// does what its key does.
const CHIP_ACTIONS: [Action; 3] = [
    Action::CycleEnvironmentFilter,
    Action::CycleStatusFilter,
    Action::CycleUsageFilter,
];

/// The filter whose chip is at column `x` of the search line `controls`, if any.
pub(crate) fn chip_at(app: &App, controls: Rect, x: u16) -> Option<Action> {
    let label_width = search_label(app, &Theme::PLAIN).width() as u16;
    let (line, _, chips_area) = placed_chips(app, &Theme::PLAIN, controls, label_width);
    let mut left = chips_area.x;
    let mut chip = None;
    for span in &line.spans {
        let width = span.width() as u16;
        if let Some(action) = CHIP_ACTIONS
            .iter()
            .find(|a| span.content == key((*a).clone()))
        {
            chip = Some(action.clone());
        }
        // Two spaces part one chip from the next.
        let between = span.content == "  ";
        if (left..left + width).contains(&x) {
            return chip.filter(|_| !between);
        }
        left += width;
    }
    None
}

/// `/ Search: `, lit while the box has focus.
fn search_label<'a>(app: &App, theme: &Theme) -> Span<'a> {
    Span::styled(
        format!("{} Search: ", key(Action::StartSearch)),
        if app.search_focused {
            theme.key_hint()
        } else {
            theme.dim()
        },
    )
}

/// `/ Search: text    e [Environment: All]  s [Status: All]  u [Usage: All]`.
fn render_controls(app: &App, frame: &mut Frame<'_>, area: Rect, theme: &Theme) {
    let search_key = key(Action::StartSearch);
    let label = search_label(app, theme);
    let label_width = label.width() as u16;
    let (chips, search_area, chips_area) = placed_chips(app, theme, area, label_width);

    let field_width = search_area.width.saturating_sub(label_width).max(1) as usize;
    // Typed or pasted text is untrusted: `field_view` escapes control characters.
    let field = field_view(&app.search, field_width);
    let value = if app.search.value().is_empty() && !app.search_focused {
        Span::styled(
            fit(
                &format!("press {search_key} to search names, keys and ids"),
                field_width,
            ),
            theme.dim(),
        )
    } else {
        Span::raw(field.text)
    };
    frame.render_widget(Line::from(vec![label, value]), search_area);
    if app.search_focused && app.modal.is_none() {
        let x = search_area.x + label_width + field.cursor;
        frame.set_cursor_position(Position::new(
            x.min(search_area.right().saturating_sub(1)),
            search_area.y,
        ));
    }
    frame.render_widget(chips, chips_area);
}

fn render_empty(app: &App, frame: &mut Frame<'_>, area: Rect, theme: &Theme) {
    let lines = if app.total_keys() == 0 {
        let mut add = vec![
            Span::raw("Press "),
            Span::styled(key(Action::OpenAddKey), theme.key_hint()),
            Span::raw(" to add a key for an environment or service"),
        ];
        match app.default_key {
            Some(_) => add.push(Span::raw(".")),
            None => add.extend([
                Span::raw(", or "),
                Span::styled(key(Action::OpenCreateDefault), theme.key_hint()),
                Span::raw(" to create the workspace's default key."),
            ]),
        }
        vec![
            Line::from(""),
            Line::styled("No additional keys yet.", theme.title()),
            Line::from(add),
        ]
    } else {
        let search = app.search.value();
        let what = if search.is_empty() {
            "No keys match these filters.".to_owned()
        } else {
            format!("No keys match \"{}\".", fit(&printable(search, 64), 41))
        };
        // The default key is not a row: a search that finds only it must not read "nothing".
        let default = match app.default_matches {
            true => Line::styled(
                "The workspace's default key matches: it is in the Default API Key panel above.",
                theme.warning(),
            ),
            false => Line::from(""),
        };
        vec![
            default,
            Line::styled(what, theme.title()),
            Line::from(vec![
                Span::styled(key(Action::ClearSearch), theme.key_hint()),
                Span::raw(" clears the search; "),
                Span::styled(key(Action::CycleEnvironmentFilter), theme.key_hint()),
                Span::raw(" / "),
                Span::styled(key(Action::CycleStatusFilter), theme.key_hint()),
                Span::raw(" / "),
                Span::styled(key(Action::CycleUsageFilter), theme.key_hint()),
                Span::raw(" change the environment, status and usage filters."),
            ]),
        ]
    };
    frame.render_widget(
        Paragraph::new(lines).centered().wrap(Wrap { trim: true }),
        area,
    );
}

/// The masked key is at most 18 characters (`fhk_prod_` + 4 + `…` + 4).
const KEY_WIDTH: u16 = 18;
/// "12 minutes ago", the longest relative time a last use gets.
const LAST_USED_WIDTH: u16 = 14;
/// "1,000,000" uses, or the header "Uses ▼".
const USES_WIDTH: u16 = 9;
/// The marks' column: `●` or nothing.
const MARK_WIDTH: u16 = 1;
/// The Name column's widest: a 64-character name plus " (former default)" fits.
const NAME_MAX_WIDTH: u16 = 64 + 17;

fn render_rows(app: &App, frame: &mut Frame<'_>, area: Rect, theme: &Theme) {
    let rows_fit = layout::rows_fit(area);
    let needs_scrollbar = app.visible.len() > rows_fit;
    let (area, scrollbar_area) = match needs_scrollbar {
        // A blank column between the last column and the scrollbar, so a "Last used" as
        // wide as its column does not run into the bar.
        true => {
            let [table, _, bar] = Layout::horizontal([
                Constraint::Min(1),
                Constraint::Length(1),
                Constraint::Length(1),
            ])
            .areas(area);
            (table, Some(bar))
        }
        false => (area, None),
    };
    // `update` keeps the selection in the window for the size it was told; this frame may
    // be drawn at another (before the resize event), so it is kept in view here too.
    let scroll = first_row(app.scroll, app.selected, app.visible.len(), rows_fit);
    let window = &app.visible[scroll..(scroll + rows_fit).min(app.visible.len())];
    // "Active · expires in 3 days" for a key in its last week: said in words, not by colour
    // alone. The column widens only while such a row is on screen.
    let statuses: Vec<String> = window
        .iter()
        .map(|&index| {
            let key = &app.keys.record(index as usize);
            expiry::status_text(key, app.now, key.status_at(app.now).label())
        })
        .collect();
    let status_width = statuses
        .iter()
        .map(|s| s.width() as u16)
        .max()
        .unwrap_or(0)
        .max(7);

    // Columns drop out as the screen narrows; below 72 cells the Environment column goes,
    // since the masked key's prefix (fhk_prod_…) already says it.
    let show_created = area.width >= 96;
    let environment_width: Option<u16> = match area.width {
        84.. => Some(11),
        72..84 => Some(4),
        _ => None,
    };
    // A narrow first column for the marks (`●`), only while there are some: the screen
    // is as before until the admin marks a row.
    let show_marks = !app.marks.is_empty();
    let mut header = vec!["Name", "Key"];
    let mut widths = vec![Constraint::Length(KEY_WIDTH)];
    if let Some(width) = environment_width {
        header.push(if width > 4 { "Environment" } else { "Env" });
        widths.push(Constraint::Length(width));
    }
    header.push("Status");
    widths.push(Constraint::Length(status_width));
    if show_created {
        header.push("Created");
        widths.push(Constraint::Length(10));
    }
    header.push("Last used");
    widths.push(Constraint::Length(LAST_USED_WIDTH));
    // Use counts have no column of their own (the default panel and details show them);
    // sorted by them, the rows must show what they are sorted by.
    let show_uses = app.sort == SortBy::Uses;
    if show_uses {
        header.push("Uses");
        widths.push(Constraint::Length(USES_WIDTH));
    }
    // The sorted column says so, and which way, without colour.
    let mut header: Vec<String> = header
        .into_iter()
        .map(|title| match title == app.sort.column() {
            true => format!("{title} {}", app.sort.marker()),
            false => title.to_owned(),
        })
        .collect();
    let fixed: u16 = widths
        .iter()
        .map(|w| match w {
            Constraint::Length(n) => *n,
            _ => 0,
        })
        .sum();
    // Highlight symbol, then one space between each pair of columns.
    let room = area
        .width
        .saturating_sub(2 + fixed + widths.len() as u16)
        .saturating_sub(if show_marks { MARK_WIDTH + 1 } else { 0 })
        .max(4);
    // Name takes the room up to a longest name's width; on a very wide screen what is left
    // is shared out between the other columns, so Key does not drift far from Name.
    let name_width = room.min(NAME_MAX_WIDTH);
    let share = (room - name_width) / widths.len() as u16;
    for width in &mut widths {
        if let Constraint::Length(n) = width {
            *n += share;
        }
    }
    widths.insert(0, Constraint::Length(name_width));
    if show_marks {
        header.insert(0, String::new());
        widths.insert(0, Constraint::Length(MARK_WIDTH));
    }

    let rows = window.iter().zip(statuses).map(|(&index, status_text)| {
        let key = &app.keys.record(index as usize);
        let status = key.status_at(app.now);
        let name = match key.is_default {
            true => format!("{} (former default)", printable(&key.name, 64)),
            false => printable(&key.name, 64),
        };
        let mut cells = Vec::with_capacity(9);
        if show_marks {
            cells.push(match app.marks.contains(&key.id) {
                true => Cell::from(Span::styled("●", theme.warning())),
                false => Cell::from(""),
            });
        }
        cells.extend([
            Cell::from(fit(&name, name_width as usize)),
            Cell::from(printable(&key.masked_key, KEY_WIDTH as usize)),
        ]);
        if let Some(width) = environment_width {
            let environment = match width > 4 {
                true => key.environment.label(),
                false => key.environment.code(),
            };
            cells.push(Cell::from(environment));
        }
        // A status with its expiry note: the words carry the warning, the colour repeats it.
        let style = match status_text.len() > status.label().len() {
            true => theme.warning(),
            false => theme.status(status),
        };
        cells.push(Cell::from(Span::styled(status_text, style)));
        if show_created {
            cells.push(Cell::from(key.created_at.format("%Y-%m-%d").to_string()));
        }
        cells.push(Cell::from(relative(key.last_used_at, app.now)));
        if show_uses {
            cells.push(Cell::from(group_digits(key.use_count)));
        }
        let row = Row::new(cells);
        match status {
            Status::Active => row,
            Status::Revoked | Status::Expired => row.style(theme.dim()),
        }
    });
    let focused = app.focus == Focus::Table;
    let table = Table::new(rows, widths)
        .header(Row::new(header).style(theme.title()))
        .column_spacing(1)
        // The marker shows where the selection is, without colour; only while the table has
        // focus, so the screen never shows two selections.
        .highlight_symbol(if focused { "▶ " } else { "  " })
        .row_highlight_style(if focused {
            theme.selected()
        } else {
            theme.dim()
        });
    let mut state = TableState::default().with_selected(Some(app.selected - scroll));
    frame.render_stateful_widget(table, area, &mut state);

    if let Some(bar) = scrollbar_area {
        let mut scrollbar =
            ScrollbarState::new(app.visible.len().saturating_sub(rows_fit)).position(scroll);
        let track = Rect {
            y: bar.y + 1,
            height: bar.height.saturating_sub(1),
            ..bar
        };
        frame.render_stateful_widget(
            Scrollbar::new(ScrollbarOrientation::VerticalRight)
                .begin_symbol(None)
                .end_symbol(None),
            track,
            &mut scrollbar,
        );
    }
}
