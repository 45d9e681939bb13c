//! Where things go on screen, as pure functions of the terminal's area. The views draw into
//! these areas, and `App::update` derives from the same functions how many rows a page holds
//! and whether the screen is too small, so nothing measured while drawing is remembered.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::widgets::Block;

/// The smallest terminal the layout fits in.
pub const MIN_WIDTH: u16 = 60;
pub const MIN_HEIGHT: u16 = 16;

/// Rows a page holds before the terminal's size is known (tests that never resize).
pub const DEFAULT_PAGE_ROWS: usize = 10;

/// The terminal cannot hold the layout: a notice shows instead of the dashboard.
pub fn too_small(area: Rect) -> bool {
    area.width < MIN_WIDTH || area.height < MIN_HEIGHT
}

/// The dashboard's parts, top to bottom.
pub struct Screen {
    pub header: Rect,
    pub panel: Rect,
    pub table: Rect,
    pub notice: Rect,
    pub footer: Rect,
}

pub fn screen(area: Rect) -> Screen {
    let [header, panel, table, notice, footer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(5),
        Constraint::Min(6),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(area);
    Screen {
        header,
        panel,
        table,
        notice,
        footer,
    }
}

/// Inside the keys table's border: the search and filter line, and the rows (a header row,
/// then the keys).
pub fn table_inside(table: Rect) -> [Rect; 2] {
    Layout::vertical([Constraint::Length(1), Constraint::Min(1)])
        .areas(Block::bordered().inner(table))
}

/// Key rows that fit in `rows` under the header row.
pub fn rows_fit(rows: Rect) -> usize {
    rows.height.saturating_sub(1).max(1) as usize
}

/// Key rows on a screen of `area`: a page for PgDn and PgUp.
pub fn page_rows(area: Rect) -> usize {
    rows_fit(table_inside(screen(area).table)[1])
}

/// A rectangle of at most `width`×`height` in the middle of `area`.
pub fn centered(area: Rect, width: u16, height: u16) -> Rect {
    area.centered(
        Constraint::Length(width.min(area.width)),
        Constraint::Length(height.min(area.height)),
    )
}

/// Inside a dialog's border, with a column of margin on either side.
pub fn dialog_inside(outer: Rect) -> Rect {
    let inner = Block::bordered().inner(outer);
    Rect {
        x: inner.x + 1,
        width: inner.width.saturating_sub(2),
        ..inner
    }
}

/// The help overlay's box.
pub fn help_box(area: Rect) -> Rect {
    centered(area, 84, area.height.saturating_sub(2))
}

/// The detail view's box: the whole screen but the footer, so no slivers of the table show
/// at the edges.
pub fn details_box(area: Rect) -> Rect {
    let screen = Rect {
        height: area.height.saturating_sub(1),
        ..area
    };
    centered(screen, screen.width, screen.height)
}

/// The detail view's parts: its text (fields and audit trail), the chart's label, the chart
/// and the hints.
pub struct Details {
    pub text: Rect,
    pub chart_label: Rect,
    pub chart: Rect,
    pub footer: Rect,
}

pub fn details(area: Rect) -> Details {
    let [text, chart_label, chart, footer] = Layout::vertical([
        Constraint::Min(3),
        Constraint::Length(1),
        Constraint::Length(4),
        Constraint::Length(1),
    ])
    .areas(dialog_inside(details_box(area)));
    Details {
        text,
        chart_label,
        chart,
        footer,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn area(width: u16, height: u16) -> Rect {
        Rect::new(0, 0, width, height)
    }

    #[test]
    fn too_small_applies_to_each_dimension_alone() {
        assert!(too_small(area(59, 40)));
        assert!(too_small(area(120, 15)));
        assert!(!too_small(area(MIN_WIDTH, MIN_HEIGHT)));
    }

    #[test]
    fn a_page_is_the_key_rows_the_table_shows() {
        // 40 lines: header 1, panel 5, notice 1, footer 1 leave 32 for the table; its border
        // takes 2, the search line 1 and the column headers 1.
        assert_eq!(page_rows(area(120, 40)), 28);
        assert_eq!(page_rows(area(80, 24)), 12);
        assert_eq!(page_rows(area(60, 16)), 4);
        assert!(page_rows(area(1, 1)) >= 1);
    }

    #[test]
    fn the_details_text_takes_what_the_chart_leaves() {
        let parts = details(area(80, 24));
        assert_eq!(parts.text.height, 23 - 2 - 6);
        assert_eq!(parts.chart.height, 4);
        assert_eq!(parts.footer.y, 21);
    }
}
