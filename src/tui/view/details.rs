//! A key's detail view: its fields, its audit trail and a chart of its daily uses.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Sparkline};

use super::dialogs::{footer_hints, open};
use super::theme::Theme;
use crate::details::{LABEL_WIDTH, NO_LIVE_SECRET, event_line, fields};
use crate::text::{fit, group_digits, printable};
use crate::tui::dialog::Details;
use crate::tui::keymap::Context;
use crate::tui::layout;

/// Lines of fields above the audit trail's events (see [`text`]): one more for a leaked key's
/// "Leaked" line.
fn field_lines(details: &Details) -> usize {
    14 + usize::from(!details.leaks.is_empty())
}

pub fn render(
    details: &Details,
    now: chrono::DateTime<chrono::Utc>,
    frame: &mut Frame<'_>,
    area: Rect,
    theme: &Theme,
) {
    let title = format!(" {} ", fit(&printable(&details.key.name, 64), 51));
    open(frame, layout::details_box(area), &title, theme);
    let parts = layout::details(area);
    let lines = text(details, now, theme);
    let scroll = details.scroll.min(max_scroll(area, details));
    frame.render_widget(Paragraph::new(lines).scroll((scroll, 0)), parts.text);
    render_chart(details, frame, parts.chart_label, parts.chart, theme);
    frame.render_widget(footer_hints(Context::Details, theme), parts.footer);
}

/// How far the text scrolls on a screen of `area`: until the audit trail's last event.
pub(crate) fn max_scroll(area: Rect, details: &Details) -> u16 {
    (field_lines(details) + secret_lines(details) + details.events.len())
        .saturating_sub(layout::details(area).text.height as usize)
        .min(u16::MAX as usize) as u16
}

/// Lines of text the detail view shows at once on a screen of `area`: a page for PgDn and
/// PgUp.
pub(crate) fn page_lines(area: Rect) -> u16 {
    layout::details(area).text.height
}

fn text(
    details: &Details,
    now: chrono::DateTime<chrono::Utc>,
    theme: &Theme,
) -> Vec<Line<'static>> {
    let uses_today = details.usage.last().map_or(0, |day| day.count);
    let mut lines: Vec<Line<'static>> = fields(&details.key, uses_today, &details.leaks, now)
        .into_iter()
        .map(|field| {
            let value = match field.status {
                Some(status) => Span::styled(field.value, theme.status(status)),
                None => Span::raw(field.value),
            };
            Line::from(vec![
                Span::styled(format!("{:<LABEL_WIDTH$}", field.label), theme.dim()),
                value,
            ])
        })
        .collect();
    lines.push(Line::from(""));
    lines.push(Line::styled("Audit trail", theme.title()));
    debug_assert_eq!(lines.len(), field_lines(details), "max_scroll counts these");
    // The live secrets go between the fields and the audit trail: after a rotation with
    // grace, which secrets still open the key is what the admin looks for first.
    let trail = lines.split_off(field_lines(details) - 2);
    lines.push(Line::from(""));
    lines.push(Line::styled("Live secrets", theme.title()));
    if details.secrets.is_empty() {
        lines.push(Line::styled(NO_LIVE_SECRET, theme.dim()));
    }
    lines.extend(
        details
            .secrets
            .iter()
            .map(|secret| Line::from(secret.describe(now))),
    );
    lines.extend(trail);
    debug_assert_eq!(lines.len(), field_lines(details) + secret_lines(details));
    lines.extend(
        details
            .events
            .iter()
            .map(|event| Line::from(event_line(event))),
    );
    lines
}

/// Lines the live secrets take: a blank line, the title, one line each (or "none").
fn secret_lines(details: &Details) -> usize {
    2 + details.secrets.len().max(1)
}

fn render_chart(
    details: &Details,
    frame: &mut Frame<'_>,
    chart_label: Rect,
    chart_area: Rect,
    theme: &Theme,
) {
    let usage = &details.usage;
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
}
