//! A key's text as [`super::key_rows::KeyRows`] holds it in its arena: masked key and id,
//! the masked key's "…" as "..." (so that ASCII text compares without regard to case as its
//! folded form does), and the folded form when that is not so.

use std::borrow::Cow;

use crate::store::{KeyRecord, fold_for_search};

/// Separates a key's fields in the arena, as in [`crate::store::search_text`]; no search
/// holds it.
pub(super) const FIELD: char = '\u{1f}';
/// The masked key had no "…" replaced by "...".
pub(super) const NO_ELLIPSIS: u8 = u8::MAX;
pub(super) const ELLIPSIS: &str = "…";

/// `text` cut to at most `u16::MAX` bytes, at a character boundary.
pub(super) fn capped(text: &str) -> &str {
    let mut end = text.len().min(u16::MAX as usize);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// A key's text as the arena holds it, where its "…" was, and its folded search text when
/// comparing the text without regard to ASCII case would not be the same as comparing that.
pub(super) struct Encoded {
    pub text: String,
    pub lens: [u16; 2],
    pub ellipsis: u8,
    pub folded: Option<String>,
}

pub(super) fn encode(key: &KeyRecord) -> Encoded {
    let masked = capped(&key.masked_key);
    let id = capped(&key.id);
    let (masked_text, ellipsis) = match masked.find(ELLIPSIS) {
        Some(at) if at < NO_ELLIPSIS as usize => (
            Cow::Owned(format!(
                "{}...{}",
                &masked[..at],
                &masked[at + ELLIPSIS.len()..]
            )),
            at as u8,
        ),
        _ => (Cow::Borrowed(masked), NO_ELLIPSIS),
    };
    let text = format!("{masked_text}{FIELD}{id}");
    // Folding ASCII text only lower-cases it (and "…" folds to "..."): only other text needs
    // its folded form kept.
    let folded = (!text.is_ascii())
        .then(|| format!("{}{FIELD}{}", fold_for_search(masked), fold_for_search(id)));
    Encoded {
        lens: [masked_text.len(), id.len()].map(|n| n as u16),
        text,
        ellipsis,
        folded,
    }
}
