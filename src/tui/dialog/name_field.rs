//! A key's name field, as Add API Key and Rename Key both have it: the same rules, the same
//! messages, the same paste handling, so the two dialogs can never judge a name differently.
//! New Workspace's name field is the same field, its messages saying "workspace".

use tui_input::{Input, InputRequest};
use unicode_segmentation::UnicodeSegmentation;

use crate::text::{MAX_NAME_CHARS, MAX_NAME_CODE_POINTS, capitalize, validate_name};
use crate::tui::action::Action;

/// The validation message for a name submitted with Enter, an empty one included.
pub fn submit_error(name: &str) -> Option<String> {
    submit_error_of(name, "key")
}

/// The validation message for the name of `what` ("key", "workspace") being typed; nothing
/// for an empty field (the admin has not started yet), the rule otherwise.
pub fn live_error_of(name: &str, what: &'static str) -> Option<String> {
    if name.is_empty() {
        return None;
    }
    submit_error_of(name, what)
}

/// [`submit_error`] for the name of `what`.
pub fn submit_error_of(name: &str, what: &'static str) -> Option<String> {
    validate_name(name, what)
        .err()
        .map(|e| sentence(&e.to_string()))
}

/// Applies a keystroke or a paste meant for the name field, and returns the message the name
/// now earns; `None` when `action` is not one for the field (the dialog handles it).
pub fn edit(field: &mut Input, action: &Action) -> Option<Option<String>> {
    edit_of(field, action, "key")
}

/// [`edit`] for the name of `what`.
pub fn edit_of(field: &mut Input, action: &Action, what: &'static str) -> Option<Option<String>> {
    match action {
        Action::Edit(request) => {
            field.handle(*request);
        }
        Action::Paste(text) => paste(field, text),
        _ => return None,
    }
    Some(live_error_of(field.value(), what))
}

/// Inserts pasted `text` at the cursor. A pasted line usually ends in a newline: it is dropped
/// rather than submitting or rejecting the name. One character past the limit is enough to show
/// the "too long" message; a megabyte pasted by mistake must not be inserted one char at a time.
/// The cut counts characters as the rule does (an "é" typed as e and an accent is one), so a
/// valid name is never shortened on its way in; code points are capped as the rule caps them.
pub fn paste(field: &mut Input, text: &str) {
    let typed = field.value();
    let mut room = (MAX_NAME_CHARS + 1).saturating_sub(typed.graphemes(true).count());
    let mut code_points = (MAX_NAME_CODE_POINTS + 1).saturating_sub(typed.chars().count());
    for grapheme in text.trim_end_matches(['\r', '\n']).graphemes(true) {
        if room == 0 {
            break;
        }
        room -= 1;
        for c in grapheme.chars() {
            if code_points == 0 {
                return;
            }
            code_points -= 1;
            field.handle(InputRequest::InsertChar(c));
        }
    }
}

/// A validation message as a sentence: capitalised, with a full stop.
fn sentence(message: &str) -> String {
    capitalize(message) + "."
}
