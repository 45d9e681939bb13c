//! Rules for the names people give keys and workspaces, and safe echoing of untrusted text
//! into a terminal.

use unicode_segmentation::UnicodeSegmentation;
use unicode_width::UnicodeWidthStr;

/// Longest key or workspace name after trimming, in user-perceived characters (grapheme
/// clusters): "é" counts once whether it was typed as one code point or as `e` and a combining
/// accent, and "👨‍👩‍👧" once although it is five.
pub const MAX_NAME_CHARS: usize = 64;

/// Most Unicode code points a name may hold. Counting graphemes alone let one "character"
/// carry 50,000 combining accents (100 KB, drawn over the neighbouring rows by many
/// terminals); four per character leave room for accents, emoji with skin tones and flags.
pub const MAX_NAME_CODE_POINTS: usize = 4 * MAX_NAME_CHARS;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("the {0} name is empty")]
    Empty(&'static str),
    #[error("the {what} name is {chars} characters long; the limit is {MAX_NAME_CHARS}")]
    TooLong { what: &'static str, chars: usize },
    /// Within [`MAX_NAME_CHARS`] characters, but with more code points than any real name
    /// needs: stacked combining marks.
    #[error(
        "the {what} name holds {code_points} Unicode code points (stacked accents or marks); the limit is {MAX_NAME_CODE_POINTS}"
    )]
    TooManyCodePoints {
        what: &'static str,
        code_points: usize,
    },
    #[error("the {0} name contains a control character (such as a newline, tab or escape)")]
    ControlCharacter(&'static str),
    /// Only invisible characters (zero-width spaces, soft hyphens, joiners, byte-order marks):
    /// the name would show as a blank row that no one could tell from another.
    #[error("the {0} name has no visible character")]
    Invisible(&'static str),
    /// Names are shown in lists, logs and JSON and stored in plain text: a key must never be
    /// one. Only its masked form is kept here, for the message.
    #[error(
        "the {what} name contains the API key {masked}, and names are stored and shown in plain text"
    )]
    ContainsKey { what: &'static str, masked: String },
    /// `key_` and 8 hex digits: a KEY argument is looked up as an id first, so a key so named
    /// could not be reached by its name, and an admin reading it would act on the other key.
    #[error(
        "the {what} name \"{name}\" has the shape of a key id (key_ and 8 hex digits), and commands take a key's id before its name"
    )]
    LooksLikeId { what: &'static str, name: String },
}

/// Characters a name may not hold: C0/C1 controls (escape sequences, newlines, tabs) and
/// the invisible line-breaking and bidirectional-override characters that could make a name
/// display as something else. Zero-width joiners stay allowed: emoji sequences need them.
pub fn is_forbidden_in_name(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{2028}' | '\u{2029}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Characters that draw nothing: white space and Unicode's default-ignorable code points
/// (zero-width space and joiners, soft hyphen, word joiner, byte-order mark, variation
/// selectors, fillers, tags). A name needs at least one character that is not one of these.
pub fn is_invisible(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '\u{00AD}'
                | '\u{034F}'
                | '\u{061C}'
                | '\u{115F}'
                | '\u{1160}'
                | '\u{17B4}'
                | '\u{17B5}'
                | '\u{180B}'..='\u{180F}'
                | '\u{200B}'..='\u{200F}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2060}'..='\u{206F}'
                | '\u{2800}'
                | '\u{3164}'
                | '\u{FE00}'..='\u{FE0F}'
                | '\u{FEFF}'
                | '\u{FFA0}'
                | '\u{FFF0}'..='\u{FFF8}'
                | '\u{1BCA0}'..='\u{1BCA3}'
                | '\u{1D173}'..='\u{1D17A}'
                | '\u{E0000}'..='\u{E0FFF}'
        )
}

/// Trims and checks a name; `what` is "key" or "workspace" for the message.
pub fn validate_name(raw: &str, what: &'static str) -> Result<String, NameError> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Err(NameError::Empty(what));
    }
    if trimmed.chars().any(is_forbidden_in_name) {
        return Err(NameError::ControlCharacter(what));
    }
    if trimmed.chars().all(is_invisible) {
        return Err(NameError::Invisible(what));
    }
    // Before the length: a name that is a key must say so, not that it is too long.
    if let Some(masked) = crate::key::find_key(trimmed) {
        return Err(NameError::ContainsKey { what, masked });
    }
    if looks_like_public_id(trimmed) {
        return Err(NameError::LooksLikeId {
            what,
            name: trimmed.to_owned(),
        });
    }
    let chars = trimmed.graphemes(true).count();
    if chars > MAX_NAME_CHARS {
        return Err(NameError::TooLong { what, chars });
    }
    let code_points = trimmed.chars().count();
    if code_points > MAX_NAME_CODE_POINTS {
        return Err(NameError::TooManyCodePoints { what, code_points });
    }
    Ok(trimmed.to_owned())
}

/// `key_4f9c2a1b` in any case: the shape of a key's public id.
fn looks_like_public_id(name: &str) -> bool {
    name.len() == 12
        && name.is_char_boundary(4)
        && name[..4].eq_ignore_ascii_case("key_")
        && name[4..].bytes().all(|b| b.is_ascii_hexdigit())
}

/// Code points of one character [`printable`] shows: more than any real one (a family emoji
/// with skin tones has 11), far fewer than stacked marks can pile up.
pub const MAX_GRAPHEME_CODE_POINTS: usize = 32;

/// `input` made safe to print: forbidden characters become `\u{…}` escapes, regional
/// indicators become their letters (see [`displayable_char`]), and anything past `max_chars`
/// user-perceived characters becomes `…`. Used whenever untrusted text is echoed to a terminal.
pub fn printable(input: &str, max_chars: usize) -> String {
    let mut out = String::new();
    for (i, grapheme) in input.graphemes(true).enumerate() {
        if i == max_chars {
            out.push('…');
            break;
        }
        // A grapheme stacking thousands of combining marks (written by another program or
        // an older version: names are capped) would send them all to the terminal.
        for c in grapheme.chars().take(MAX_GRAPHEME_CODE_POINTS) {
            if is_forbidden_in_name(c) {
                out.push_str(&c.escape_unicode().to_string());
            } else {
                out.push(displayable_char(c));
            }
        }
    }
    out
}

/// `c` as the dashboard draws it. A regional indicator (two make a flag: 🇯🇵) becomes its
/// letter (`JP`): terminals disagree about how many cells a flag takes (one per indicator, two
/// for the pair, two per indicator), and a terminal that draws it wider than ratatui measured
/// leaves stray cells behind when the text moves. Letters measure the same everywhere.
pub fn displayable_char(c: char) -> char {
    const REGIONAL_A: u32 = 0x1F1E6;
    match c {
        '\u{1F1E6}'..='\u{1F1FF}' => char::from(b'A' + (c as u32 - REGIONAL_A) as u8),
        c => c,
    }
}

/// Untrusted input repeated in a message: every key in it masked (before anything is cut, so
/// a cut can never turn a key into a fragment whose masked form shows other characters),
/// control characters escaped, at most `max_chars` characters.
pub fn echo(input: &str, max_chars: usize) -> String {
    printable(&crate::key::redact_keys(input), max_chars)
}

/// `text` cut to at most `width` terminal cells, ending in `…` when cut. Cuts between
/// user-perceived characters and measures each as ratatui does (the width of the whole
/// cluster), so wide characters and emoji take their two cells and an emoji with a variation
/// selector ("❤️") is never split from it or counted narrower than it is drawn.
pub fn fit(text: &str, width: usize) -> String {
    if text.width() <= width {
        return text.to_owned();
    }
    let mut out = String::new();
    let mut used = 0;
    for grapheme in text.graphemes(true) {
        let w = grapheme.width();
        if used + w + 1 > width {
            break;
        }
        out.push_str(grapheme);
        used += w;
    }
    if width > 0 {
        out.push('…');
    }
    out
}

/// `text` followed by spaces up to `width` cells (`{:<w}` counts characters, not cells).
pub fn pad(text: &str, width: usize) -> String {
    format!("{text}{}", " ".repeat(width.saturating_sub(text.width())))
}

/// `1234567` as `1,234,567`.
pub fn group_digits(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `1 key`, `2 keys`: a count with its noun, singular only for one.
pub fn count(n: u64, singular: &str, plural: &str) -> String {
    match n {
        1 => format!("1 {singular}"),
        n => format!("{n} {plural}"),
    }
}

/// `text` with its first letter in upper case.
pub fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// A file path made safe to print, for error messages.
pub fn printable_path(path: &std::path::Path) -> String {
    printable(&path.to_string_lossy(), 512)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn stacked_marks_are_not_all_printed() {
        let stored = format!("a{}b", "\u{301}".repeat(50_000));
        let shown = printable(&stored, 64);
        assert_eq!(
            shown.chars().count(),
            MAX_GRAPHEME_CODE_POINTS + 1,
            "{shown:?}"
        );
        assert!(shown.ends_with('b'));
        let family = "👨🏽‍👩🏽‍👧🏽‍👦🏽";
        assert_eq!(printable(family, 64), family, "real characters whole");
    }

    #[test]
    fn a_name_shaped_like_a_key_id_is_refused() {
        for id in ["key_4f9c2a1b", " KEY_4F9C2A1B ", "Key_00000000"] {
            let err = validate_name(id, "key").unwrap_err();
            assert!(
                matches!(err, NameError::LooksLikeId { .. }),
                "{id:?}: {err}"
            );
            assert!(err.to_string().contains("shape of a key id"), "{err}");
        }
        // Near the shape is a name like any other.
        for name in [
            "key_4f9c2a1",
            "key_4f9c2a1b2",
            "key_4f9c2a1g",
            "key 4f9c2a1b",
            "keys",
        ] {
            assert_eq!(validate_name(name, "key").as_deref(), Ok(name));
        }
    }

    #[test]
    fn a_count_of_one_is_singular() {
        assert_eq!(count(0, "key", "keys"), "0 keys");
        assert_eq!(count(1, "workspace", "workspaces"), "1 workspace");
        assert_eq!(count(2, "audit event", "audit events"), "2 audit events");
    }

    #[test]
    fn names_are_trimmed_and_checked() {
        assert_eq!(
            validate_name("  Billing worker ", "key").unwrap(),
            "Billing worker"
        );
        assert_eq!(
            validate_name("", "key").unwrap_err(),
            NameError::Empty("key")
        );
        assert_eq!(
            validate_name(" \t ", "key").unwrap_err(),
            NameError::Empty("key")
        );
        let sixty_four = "a".repeat(64);
        assert_eq!(validate_name(&sixty_four, "key").unwrap(), sixty_four);
        assert_eq!(
            validate_name(&"a".repeat(65), "key").unwrap_err(),
            NameError::TooLong {
                what: "key",
                chars: 65
            }
        );
        for bad in [
            "a\u{1b}[31mred",
            "two\nlines",
            "tab\there",
            "nul\0",
            "bidi\u{202E}txt",
            "c1\u{9b}",
        ] {
            assert_eq!(
                validate_name(bad, "key").unwrap_err(),
                NameError::ControlCharacter("key"),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn a_name_holding_a_key_is_refused_showing_only_the_masked_form() {
        let key = "fhk_stg_abcdefghijklmnopqrstuvwxyzABCDEF44I7t3";
        for name in [
            key.to_owned(),
            format!("my key is {key}"),
            format!("  {key}  "),
            format!("prefix{key}suffix"),
        ] {
            for what in ["key", "workspace"] {
                let err = validate_name(&name, what).unwrap_err();
                assert_eq!(
                    err,
                    NameError::ContainsKey {
                        what,
                        masked: "fhk_stg_abcd…I7t3".into()
                    }
                );
                let message = err.to_string();
                assert!(message.contains("fhk_stg_abcd…I7t3"), "{message}");
                assert!(!message.contains("efgh"), "{message}");
            }
        }
        // Something merely shaped like a key (wrong checksum) is an ordinary name.
        let mistyped = key.replace("44I7t3", "44I7t4");
        assert_eq!(validate_name(&mistyped, "key").unwrap(), mistyped);
    }

    #[test]
    fn echo_masks_keys_before_cutting() {
        let key = "fhk_stg_abcdefghijklmnopqrstuvwxyzABCDEF44I7t3";
        assert_eq!(echo(key, 20), "fhk_stg_abcd…I7t3");
        assert_eq!(
            echo(&format!("{key}\u{1b}"), 40),
            "fhk_stg_abcd…I7t3\\u{1b}"
        );
        assert!(!echo(&format!("xx {key}"), 12).contains("efgh"));
    }

    #[test]
    fn wide_unicode_and_emoji_are_names_too() {
        // 64 wide characters are 64 characters, whatever their display width or byte length.
        let wide = "東".repeat(64);
        assert_eq!(validate_name(&wide, "key").unwrap(), wide);
        let family = "👨\u{200D}👩\u{200D}👧 team";
        assert_eq!(validate_name(family, "key").unwrap(), family);
        assert!(validate_name(&"🚀".repeat(65), "key").is_err());
    }

    #[test]
    fn text_is_fitted_by_display_width() {
        assert_eq!(fit("short", 10), "short");
        let cut = fit(&"東".repeat(40), 32);
        assert!(cut.width() <= 32, "{}", cut.width());
        assert!(cut.ends_with('…'));
        assert_eq!(fit("abcdef", 4), "abc…");
        assert_eq!(pad("東京", 6).width(), 6);
    }

    #[test]
    fn digits_are_grouped_in_thousands() {
        assert_eq!(group_digits(0), "0");
        assert_eq!(group_digits(999), "999");
        assert_eq!(group_digits(1_000), "1,000");
        assert_eq!(group_digits(330_328), "330,328");
        assert_eq!(group_digits(1_234_567), "1,234,567");
    }

    #[test]
    fn printable_escapes_and_truncates() {
        assert_eq!(printable("a\u{1b}[2J", 10), "a\\u{1b}[2J");
        assert_eq!(printable("abcdef", 3), "abc…");
        assert_eq!(printable("東京", 5), "東京");
    }

    proptest! {
        #[test]
        fn printable_output_never_holds_a_control_character(input in "\\PC*|[\\x00-\\x1f\\x7f-\\x9f]{0,20}") {
            prop_assert!(!printable(&input, 100).chars().any(is_forbidden_in_name));
        }

        #[test]
        fn accepted_names_are_trimmed_short_and_clean(input in ".{0,80}") {
            if let Ok(name) = validate_name(&input, "key") {
                prop_assert_eq!(name.trim(), name.as_str());
                prop_assert!(!name.is_empty() && name.graphemes(true).count() <= MAX_NAME_CHARS);
                prop_assert!(!name.chars().all(is_invisible));
                prop_assert!(!name.chars().any(is_forbidden_in_name));
            }
        }
    }
}
