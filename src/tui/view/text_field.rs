//! One-line text fields (the search box, the key name): which part of the text fits, and where
//! the cursor goes, both counted in terminal cells.
//!
//! tui-input's `visual_scroll` and `visual_cursor` measure the raw text, but a field shows it
//! escaped (an escape character is drawn as `\u{1b}`, six cells), so the measuring is done
//! here, on the text as drawn, grapheme by grapheme as ratatui draws it.

use ratatui::style::Style;
use ratatui::text::Span;
use tui_input::Input;
use unicode_width::UnicodeWidthStr;

use crate::text::printable;

/// What a field `width` cells wide shows of its input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FieldView {
    /// The visible part of the text, made printable (no control character or escape sequence
    /// reaches the terminal): at most `width` cells.
    pub text: String,
    /// The cursor's offset from the field's left edge, in cells: always less than `width`.
    pub cursor: u16,
}

/// The part of `input` a field `width` cells wide shows, scrolled (by whole characters) just
/// enough to keep the cursor inside the field.
pub(crate) fn field_view(input: &Input, width: usize) -> FieldView {
    let width = width.max(1);
    let value = input.value();
    let cursor_byte = value
        .char_indices()
        .nth(input.cursor())
        .map_or(value.len(), |(i, _)| i);
    // Escaped first, so that the cells counted are the cells drawn. Nothing is cut off.
    let shown = printable(value, usize::MAX);
    let cursor_at = printable(&value[..cursor_byte], usize::MAX).len();

    // Each grapheme as (start byte in `shown`, cells). `shown` holds no control character, so
    // `styled_graphemes` (which drops graphemes holding one) yields every byte of it.
    let span = Span::raw(shown.as_str());
    let mut start = 0;
    let graphemes: Vec<(usize, usize)> = span
        .styled_graphemes(Style::default())
        .map(|g| {
            let grapheme = (start, g.symbol.width());
            start += g.symbol.len();
            grapheme
        })
        .collect();
    debug_assert_eq!(start, shown.len());

    let cursor_cell: usize = graphemes
        .iter()
        .take_while(|(start, _)| *start < cursor_at)
        .map(|(_, cells)| cells)
        .sum();
    // The least scroll, in whole graphemes, that leaves the cursor in the last cell or before.
    let needed = (cursor_cell + 1).saturating_sub(width);
    let mut skipped = 0;
    let mut first = graphemes.len();
    for (i, (_, cells)) in graphemes.iter().enumerate() {
        if skipped >= needed {
            first = i;
            break;
        }
        skipped += cells;
    }
    let mut used = 0;
    let last = graphemes[first..]
        .iter()
        .take_while(|(_, cells)| {
            used += cells;
            used <= width
        })
        .count()
        + first;
    let byte_at = |i: usize| graphemes.get(i).map_or(shown.len(), |(start, _)| *start);
    FieldView {
        text: shown[byte_at(first)..byte_at(last)].to_owned(),
        cursor: (cursor_cell - skipped) as u16,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use tui_input::InputRequest;

    fn input(text: &str) -> Input {
        Input::new(text.to_owned())
    }

    fn view(text: &str, width: usize) -> FieldView {
        field_view(&input(text), width)
    }

    #[test]
    fn short_text_is_shown_whole_with_the_cursor_after_it() {
        assert_eq!(
            view("billing", 20),
            FieldView {
                text: "billing".into(),
                cursor: 7
            }
        );
        assert_eq!(
            view("", 20),
            FieldView {
                text: String::new(),
                cursor: 0
            }
        );
    }

    #[test]
    fn long_text_scrolls_to_keep_the_cursor_in_the_field() {
        let shown = view("abcdefghijklmnop", 10);
        assert_eq!(shown.text, "hijklmnop");
        assert_eq!(shown.cursor, 9);
        // With the cursor back at the start, the start shows.
        let mut field = input("abcdefghijklmnop");
        field.handle(InputRequest::GoToStart);
        let shown = field_view(&field, 10);
        assert_eq!(shown.text, "abcdefghij");
        assert_eq!(shown.cursor, 0);
    }

    #[test]
    fn wide_characters_scroll_by_their_cells() {
        // 40 characters, 80 cells: skipping 70-odd *characters* would show nothing at all.
        let text = "東".repeat(40);
        let shown = view(&text, 10);
        assert_eq!(shown.text, "東東東東");
        assert_eq!(shown.cursor, 8);
        assert!(shown.text.width() <= 10);

        let mut field = input(&format!("{text}abc"));
        for _ in 0..3 {
            field.handle(InputRequest::GoToPrevChar);
        }
        let shown = field_view(&field, 11);
        assert_eq!(shown.cursor, 10, "{shown:?}");
        assert_eq!(shown.text, "東東東東東a");
    }

    #[test]
    fn an_emoji_sequence_counts_as_the_cells_it_is_drawn_in() {
        let family = "👨\u{200D}👩\u{200D}👧";
        let text = family.repeat(10);
        let shown = view(&text, 7);
        assert_eq!(shown.text, family.repeat(3));
        assert_eq!(shown.cursor, 6);
    }

    #[test]
    fn control_characters_are_escaped_and_measured_as_escaped() {
        let shown = view("a\u{1b}[2Jb", 40);
        assert_eq!(shown.text, "a\\u{1b}[2Jb");
        assert_eq!(shown.cursor, 11);
        let shown = view("x\u{202E}y", 40);
        assert_eq!(shown.text, "x\\u{202e}y");
        assert_eq!(shown.cursor, 10);
    }

    proptest! {
        #[test]
        fn the_cursor_stays_in_the_field_and_the_text_fits(
            text in "[a-z東🚀\u{1b}\u{301}\u{200D}é ]{0,60}",
            back in 0usize..70,
            width in 1usize..30,
        ) {
            let mut field = input(&text);
            for _ in 0..back {
                field.handle(InputRequest::GoToPrevChar);
            }
            let shown = field_view(&field, width);
            prop_assert!((shown.cursor as usize) < width, "{shown:?}");
            prop_assert!(shown.text.width() <= width, "{shown:?}");
            prop_assert!(!shown.text.chars().any(crate::text::is_forbidden_in_name));
        }
    }
}
