//! Key → action, as one table. The footer and the `?` help overlay are generated from the same
//! table, so what they say and what the keys do can never drift apart.
//!
//! Keys go to the open dialog first, then to a focused text field, then to the main bindings.

use ratatui::crossterm::event::{Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use tui_input::backend::crossterm::to_input_request;

use super::action::{Action, Movement};

/// Where keyboard input goes right now; decides which bindings apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Context {
    /// The table or the Default API Key panel has focus; no dialog is open.
    Main,
    /// Typing in the search box.
    Search,
    AddKey,
    CreateDefault,
    ConfirmRotate,
    ConfirmRevoke,
    NewKey,
    /// The new-key dialog asking "close without copying?".
    ConfirmClose,
    Details,
    Help,
    /// The terminal is smaller than the layout needs and shows only a notice: nothing else is
    /// visible to act on, so only quitting (and resizing) does anything.
    TooSmall,
}

impl Context {
    /// Contexts with a focused text field: printable keys are typed, not bound.
    pub fn has_text_field(self) -> bool {
        matches!(self, Context::Search | Context::AddKey)
    }

    pub fn title(self) -> &'static str {
        match self {
            Context::Main => "Keys table and Default API Key panel",
            Context::Search => "Search box",
            Context::AddKey => "Add API Key",
            Context::CreateDefault => "Create Default Key",
            Context::ConfirmRotate => "Rotate confirmation",
            Context::ConfirmRevoke => "Revoke confirmation",
            Context::NewKey => "Your New API Key",
            Context::ConfirmClose => "Close without copying?",
            Context::Details => "Key details",
            Context::Help => "Help",
            Context::TooSmall => "Terminal too small",
        }
    }

    pub const ALL: [Context; 11] = [
        Context::Main,
        Context::Search,
        Context::AddKey,
        Context::CreateDefault,
        Context::ConfirmRotate,
        Context::ConfirmRevoke,
        Context::NewKey,
        Context::ConfirmClose,
        Context::Details,
        Context::Help,
        Context::TooSmall,
    ];
}

/// A key with its modifiers. For characters, Shift is part of the character itself
/// (`G`, `D`, `?`), so it is ignored when matching.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key(pub KeyCode, pub KeyModifiers);

impl Key {
    const fn plain(code: KeyCode) -> Key {
        Key(code, KeyModifiers::NONE)
    }

    const fn char(c: char) -> Key {
        Key(KeyCode::Char(c), KeyModifiers::NONE)
    }

    const fn ctrl(c: char) -> Key {
        Key(KeyCode::Char(c), KeyModifiers::CONTROL)
    }

    fn matches(self, event: &KeyEvent) -> bool {
        let ignored = match event.code {
            KeyCode::Char(_) | KeyCode::BackTab => KeyModifiers::SHIFT,
            _ => KeyModifiers::NONE,
        };
        self.0 == event.code && self.1 == event.modifiers.difference(ignored)
    }
}

/// How a binding is shown in the footer and the help overlay. Bindings that share a hint
/// (j and k, say) carry it on the first of them only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hint {
    pub keys: &'static str,
    pub text: &'static str,
    /// Shown in the footer too, not only in the help overlay.
    pub footer: bool,
}

#[derive(Debug, Clone)]
pub struct Binding {
    pub contexts: &'static [Context],
    pub keys: &'static [Key],
    pub action: Action,
    pub hint: Option<Hint>,
}

const fn hint(keys: &'static str, text: &'static str) -> Option<Hint> {
    Some(Hint {
        keys,
        text,
        footer: true,
    })
}

const fn help_only(keys: &'static str, text: &'static str) -> Option<Hint> {
    Some(Hint {
        keys,
        text,
        footer: false,
    })
}

use Context as C;

const MAIN: &[Context] = &[C::Main];
const EVERYWHERE: &[Context] = &C::ALL;
const CHOICES: &[Context] = &[C::AddKey, C::CreateDefault, C::ConfirmRotate];

/// The whole key map. Order matters only for display: the first binding that matches wins.
pub const BINDINGS: &[Binding] = &[
    // Main view: the table and the Default API Key panel.
    Binding {
        contexts: MAIN,
        keys: &[Key::char('j'), Key::plain(KeyCode::Down)],
        action: Action::Move(Movement::Down),
        hint: hint("j/k ↓/↑", "move"),
    },
    Binding {
        contexts: MAIN,
        keys: &[Key::char('k'), Key::plain(KeyCode::Up)],
        action: Action::Move(Movement::Up),
        hint: None,
    },
    Binding {
        contexts: MAIN,
        keys: &[Key::plain(KeyCode::PageDown)],
        action: Action::Move(Movement::PageDown),
        hint: help_only("PgDn/PgUp", "page down / up"),
    },
    Binding {
        contexts: MAIN,
        keys: &[Key::plain(KeyCode::PageUp)],
        action: Action::Move(Movement::PageUp),
        hint: None,
    },
    Binding {
        contexts: MAIN,
        keys: &[Key::char('g'), Key::plain(KeyCode::Home)],
        action: Action::Move(Movement::Top),
        hint: help_only("g/G", "first / last key"),
    },
    Binding {
        contexts: MAIN,
        keys: &[Key::char('G'), Key::plain(KeyCode::End)],
        action: Action::Move(Movement::Bottom),
        hint: None,
    },
    Binding {
        contexts: MAIN,
        keys: &[Key::plain(KeyCode::Tab)],
        action: Action::FocusNext,
        hint: help_only("Tab/Shift-Tab", "focus table / Default API Key panel"),
    },
    Binding {
        contexts: MAIN,
        keys: &[Key::plain(KeyCode::BackTab)],
        action: Action::FocusPrevious,
        hint: None,
    },
    Binding {
        contexts: MAIN,
        keys: &[Key::char('/')],
        action: Action::StartSearch,
        hint: hint("/", "search"),
    },
    Binding {
        contexts: MAIN,
        keys: &[Key::char('e')],
        action: Action::CycleEnvironmentFilter,
        hint: hint("e", "env filter"),
    },
    Binding {
        contexts: MAIN,
        keys: &[Key::char('s')],
        action: Action::CycleStatusFilter,
        hint: hint("s", "status filter"),
    },
    Binding {
        contexts: MAIN,
        keys: &[Key::char('a')],
        action: Action::OpenAddKey,
        hint: hint("a", "add key"),
    },
    Binding {
        contexts: MAIN,
        keys: &[Key::char('D')],
        action: Action::OpenCreateDefault,
        hint: hint("D", "default key"),
    },
    Binding {
        contexts: MAIN,
        keys: &[Key::char('r')],
        action: Action::OpenRotate,
        hint: hint("r", "rotate"),
    },
    Binding {
        contexts: MAIN,
        keys: &[Key::char('x')],
        action: Action::OpenRevoke,
        hint: hint("x", "revoke"),
    },
    Binding {
        contexts: MAIN,
        keys: &[Key::plain(KeyCode::Enter)],
        action: Action::OpenDetails,
        hint: hint("Enter", "details"),
    },
    Binding {
        contexts: MAIN,
        keys: &[Key::plain(KeyCode::Esc)],
        action: Action::ClearSearch,
        hint: help_only("Esc", "clear the search"),
    },
    Binding {
        contexts: MAIN,
        keys: &[Key::char('?')],
        action: Action::OpenHelp,
        hint: hint("?", "help"),
    },
    Binding {
        contexts: MAIN,
        keys: &[Key::char('q')],
        action: Action::Quit,
        hint: hint("q", "quit"),
    },
    // The search box.
    Binding {
        contexts: &[C::Search],
        keys: &[Key::plain(KeyCode::Enter)],
        action: Action::KeepSearch,
        hint: hint("Enter", "keep search"),
    },
    Binding {
        contexts: &[C::Search],
        keys: &[Key::plain(KeyCode::Esc)],
        action: Action::ClearSearch,
        hint: hint("Esc", "clear search"),
    },
    Binding {
        contexts: &[C::Search],
        keys: &[Key::plain(KeyCode::Down)],
        action: Action::Move(Movement::Down),
        hint: hint("↓/↑", "move"),
    },
    Binding {
        contexts: &[C::Search],
        keys: &[Key::plain(KeyCode::Up)],
        action: Action::Move(Movement::Up),
        hint: None,
    },
    // Dialogs with a choice (environment, grace period).
    Binding {
        contexts: CHOICES,
        keys: &[Key::plain(KeyCode::Down), Key::plain(KeyCode::Tab)],
        action: Action::ChoiceNext,
        hint: hint("↑/↓ Tab", "choose"),
    },
    Binding {
        contexts: CHOICES,
        keys: &[Key::plain(KeyCode::Up), Key::plain(KeyCode::BackTab)],
        action: Action::ChoicePrevious,
        hint: None,
    },
    Binding {
        contexts: &[C::AddKey],
        keys: &[Key::plain(KeyCode::Enter)],
        action: Action::Submit,
        hint: hint("Enter", "save"),
    },
    Binding {
        contexts: &[C::CreateDefault],
        keys: &[Key::plain(KeyCode::Enter)],
        action: Action::Submit,
        hint: hint("Enter", "create"),
    },
    Binding {
        contexts: &[C::ConfirmRotate],
        keys: &[Key::char('y'), Key::plain(KeyCode::Enter)],
        action: Action::Confirm,
        hint: hint("y/Enter", "rotate"),
    },
    Binding {
        contexts: &[C::ConfirmRevoke],
        keys: &[Key::char('y')],
        action: Action::Confirm,
        hint: hint("y", "revoke"),
    },
    Binding {
        contexts: &[C::AddKey],
        keys: &[Key::plain(KeyCode::Esc)],
        action: Action::Cancel,
        hint: hint("Esc", "cancel"),
    },
    Binding {
        contexts: &[C::CreateDefault, C::ConfirmRotate, C::ConfirmRevoke],
        keys: &[Key::char('n'), Key::plain(KeyCode::Esc)],
        action: Action::Cancel,
        hint: hint("n/Esc", "cancel"),
    },
    // Your New API Key.
    Binding {
        contexts: &[C::NewKey],
        keys: &[Key::char('c')],
        action: Action::Copy,
        hint: hint("c", "copy"),
    },
    Binding {
        contexts: &[C::NewKey],
        keys: &[Key::plain(KeyCode::Enter), Key::plain(KeyCode::Esc)],
        action: Action::Submit,
        hint: hint("Enter/Esc", "close"),
    },
    Binding {
        contexts: &[C::ConfirmClose],
        keys: &[Key::char('y')],
        action: Action::Confirm,
        hint: hint("y", "close, key is gone"),
    },
    Binding {
        contexts: &[C::ConfirmClose],
        keys: &[Key::char('n'), Key::plain(KeyCode::Esc)],
        action: Action::Cancel,
        hint: hint("n/Esc", "back to the key"),
    },
    // Overlays.
    Binding {
        contexts: &[C::Details, C::Help],
        keys: &[Key::char('j'), Key::plain(KeyCode::Down)],
        action: Action::Move(Movement::Down),
        hint: hint("j/k", "scroll"),
    },
    Binding {
        contexts: &[C::Details, C::Help],
        keys: &[Key::char('k'), Key::plain(KeyCode::Up)],
        action: Action::Move(Movement::Up),
        hint: None,
    },
    Binding {
        contexts: &[C::Details],
        keys: &[
            Key::plain(KeyCode::Esc),
            Key::plain(KeyCode::Enter),
            Key::char('q'),
        ],
        action: Action::Cancel,
        hint: hint("Esc", "back"),
    },
    Binding {
        contexts: &[C::Help],
        keys: &[Key::plain(KeyCode::Esc), Key::char('?'), Key::char('q')],
        action: Action::Cancel,
        hint: hint("Esc/?", "close help"),
    },
    // The "terminal too small" notice, which says "press q to quit".
    Binding {
        contexts: &[C::TooSmall],
        keys: &[Key::char('q')],
        action: Action::Quit,
        hint: hint("q", "quit"),
    },
    // Everywhere, text field or not.
    Binding {
        contexts: EVERYWHERE,
        keys: &[Key::ctrl('c')],
        action: Action::Quit,
        hint: help_only("Ctrl-C", "quit"),
    },
];

/// The action a terminal event asks for in `context`, if any.
pub fn action_for(context: Context, event: &Event) -> Option<Action> {
    match event {
        Event::Key(key) if key.kind != KeyEventKind::Release => {
            let bound = BINDINGS
                .iter()
                .filter(|b| b.contexts.contains(&context))
                .find(|b| b.keys.iter().any(|k| k.matches(key)))
                .map(|b| b.action.clone());
            bound.or_else(|| {
                context
                    .has_text_field()
                    .then(|| to_input_request(event).map(Action::Edit))
                    .flatten()
            })
        }
        Event::Paste(text) if context.has_text_field() => Some(Action::Paste(text.clone())),
        _ => None,
    }
}

/// The hints for `context`, in table order.
pub fn hints(context: Context) -> impl Iterator<Item = Hint> {
    hinted_bindings(context).map(|(hint, _)| hint)
}

/// The help overlay's sections: each context's own keys, then the keys that work anywhere,
/// listed once.
pub fn help_sections() -> Vec<(&'static str, Vec<Hint>)> {
    let anywhere = |b: &Binding| b.contexts.len() == Context::ALL.len();
    let mut sections: Vec<(&'static str, Vec<Hint>)> = Context::ALL
        .iter()
        // The help overlay cannot be open while the notice is: nothing to explain there.
        .filter(|&&context| context != Context::TooSmall)
        .map(|&context| {
            let hints = BINDINGS
                .iter()
                .filter(|b| b.contexts.contains(&context) && !anywhere(b))
                .filter_map(|b| b.hint)
                .collect();
            (context.title(), hints)
        })
        .collect();
    sections.push((
        "Anywhere",
        BINDINGS
            .iter()
            .filter(|b| anywhere(b))
            .filter_map(|b| b.hint)
            .collect(),
    ));
    sections.retain(|(_, hints)| !hints.is_empty());
    sections
}

/// The hints for `context` with the action each stands for, so a caller can leave out what
/// does not apply at the moment.
pub fn hinted_bindings(context: Context) -> impl Iterator<Item = (Hint, &'static Action)> {
    BINDINGS
        .iter()
        .filter(move |b| b.contexts.contains(&context))
        .filter_map(|b| b.hint.map(|hint| (hint, &b.action)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::crossterm::event::KeyEventState;
    use tui_input::InputRequest;

    fn press(code: KeyCode, modifiers: KeyModifiers) -> Event {
        Event::Key(KeyEvent {
            code,
            modifiers,
            kind: KeyEventKind::Press,
            state: KeyEventState::NONE,
        })
    }

    fn key(c: char) -> Event {
        let modifiers = if c.is_ascii_uppercase() || c == '?' {
            KeyModifiers::SHIFT
        } else {
            KeyModifiers::NONE
        };
        press(KeyCode::Char(c), modifiers)
    }

    fn plain(code: KeyCode) -> Event {
        press(code, KeyModifiers::NONE)
    }

    #[test]
    fn main_view_bindings_match_the_product_table() {
        use Action::*;
        let cases: &[(Event, Action)] = &[
            (key('j'), Move(Movement::Down)),
            (plain(KeyCode::Down), Move(Movement::Down)),
            (key('k'), Move(Movement::Up)),
            (plain(KeyCode::Up), Move(Movement::Up)),
            (plain(KeyCode::PageDown), Move(Movement::PageDown)),
            (plain(KeyCode::PageUp), Move(Movement::PageUp)),
            (key('g'), Move(Movement::Top)),
            (key('G'), Move(Movement::Bottom)),
            (plain(KeyCode::Tab), FocusNext),
            (press(KeyCode::BackTab, KeyModifiers::SHIFT), FocusPrevious),
            (key('/'), StartSearch),
            (key('e'), CycleEnvironmentFilter),
            (key('s'), CycleStatusFilter),
            (key('a'), OpenAddKey),
            (key('D'), OpenCreateDefault),
            (key('r'), OpenRotate),
            (key('x'), OpenRevoke),
            (plain(KeyCode::Enter), OpenDetails),
            (key('?'), OpenHelp),
            (key('q'), Quit),
            (press(KeyCode::Char('c'), KeyModifiers::CONTROL), Quit),
        ];
        for (event, expected) in cases {
            assert_eq!(
                action_for(Context::Main, event).as_ref(),
                Some(expected),
                "{event:?}"
            );
        }
        assert_eq!(
            action_for(Context::Main, &key('d')),
            None,
            "lower-case d is not D"
        );
        assert_eq!(action_for(Context::Main, &key('z')), None);
    }

    #[test]
    fn text_fields_take_printable_keys_but_not_ctrl_c() {
        for context in [Context::Search, Context::AddKey] {
            for c in ['q', 'j', 'a', 'x', 'D', '?', '/'] {
                assert_eq!(
                    action_for(context, &key(c)),
                    Some(Action::Edit(InputRequest::InsertChar(c))),
                    "{context:?} {c}"
                );
            }
            assert_eq!(
                action_for(context, &press(KeyCode::Char('c'), KeyModifiers::CONTROL)),
                Some(Action::Quit)
            );
            assert_eq!(
                action_for(context, &plain(KeyCode::Backspace)),
                Some(Action::Edit(InputRequest::DeletePrevChar))
            );
            assert_eq!(
                action_for(context, &Event::Paste("pasted\ntext".into())),
                Some(Action::Paste("pasted\ntext".into()))
            );
        }
        assert_eq!(
            action_for(Context::Search, &plain(KeyCode::Enter)),
            Some(Action::KeepSearch)
        );
        assert_eq!(
            action_for(Context::Search, &plain(KeyCode::Esc)),
            Some(Action::ClearSearch)
        );
        assert_eq!(
            action_for(Context::AddKey, &plain(KeyCode::Enter)),
            Some(Action::Submit)
        );
        assert_eq!(
            action_for(Context::AddKey, &plain(KeyCode::Esc)),
            Some(Action::Cancel)
        );
        assert_eq!(
            action_for(Context::AddKey, &plain(KeyCode::Tab)),
            Some(Action::ChoiceNext)
        );
        assert_eq!(action_for(Context::Main, &Event::Paste("x".into())), None);
    }

    #[test]
    fn dialogs_take_their_own_keys_first() {
        assert_eq!(
            action_for(Context::ConfirmRevoke, &key('y')),
            Some(Action::Confirm)
        );
        assert_eq!(
            action_for(Context::ConfirmRevoke, &key('n')),
            Some(Action::Cancel)
        );
        assert_eq!(
            action_for(Context::ConfirmRevoke, &plain(KeyCode::Esc)),
            Some(Action::Cancel)
        );
        assert_eq!(
            action_for(Context::ConfirmRevoke, &plain(KeyCode::Enter)),
            None,
            "Enter must not revoke"
        );
        assert_eq!(
            action_for(Context::ConfirmRevoke, &key('q')),
            None,
            "q must not quit from a dialog"
        );
        assert_eq!(
            action_for(Context::ConfirmRotate, &plain(KeyCode::Down)),
            Some(Action::ChoiceNext)
        );
        assert_eq!(
            action_for(Context::ConfirmRotate, &key('y')),
            Some(Action::Confirm)
        );
        assert_eq!(
            action_for(Context::CreateDefault, &plain(KeyCode::Enter)),
            Some(Action::Submit)
        );
        assert_eq!(action_for(Context::NewKey, &key('c')), Some(Action::Copy));
        assert_eq!(
            action_for(Context::NewKey, &plain(KeyCode::Enter)),
            Some(Action::Submit)
        );
        assert_eq!(
            action_for(Context::NewKey, &plain(KeyCode::Esc)),
            Some(Action::Submit)
        );
        assert_eq!(
            action_for(Context::NewKey, &key('q')),
            None,
            "the secret is not lost to a stray q"
        );
        assert_eq!(
            action_for(Context::ConfirmClose, &key('y')),
            Some(Action::Confirm)
        );
        assert_eq!(
            action_for(Context::ConfirmClose, &key('n')),
            Some(Action::Cancel)
        );
        assert_eq!(
            action_for(Context::Details, &plain(KeyCode::Esc)),
            Some(Action::Cancel)
        );
        assert_eq!(action_for(Context::Help, &key('?')), Some(Action::Cancel));
    }

    #[test]
    fn the_too_small_notice_takes_only_quit() {
        for c in [
            'D', 'x', 'y', 'r', 'a', 'c', 'n', 'j', 'k', 'g', 'G', 'e', 's', '/', '?',
        ] {
            assert_eq!(action_for(Context::TooSmall, &key(c)), None, "{c}");
        }
        for code in [
            KeyCode::Enter,
            KeyCode::Esc,
            KeyCode::Tab,
            KeyCode::Down,
            KeyCode::Up,
            KeyCode::PageDown,
            KeyCode::Home,
            KeyCode::Backspace,
        ] {
            assert_eq!(
                action_for(Context::TooSmall, &plain(code)),
                None,
                "{code:?}"
            );
        }
        assert_eq!(
            action_for(Context::TooSmall, &Event::Paste("x".into())),
            None
        );
        assert_eq!(action_for(Context::TooSmall, &Event::Resize(100, 30)), None);
        assert_eq!(action_for(Context::TooSmall, &key('q')), Some(Action::Quit));
        assert_eq!(
            action_for(
                Context::TooSmall,
                &press(KeyCode::Char('c'), KeyModifiers::CONTROL)
            ),
            Some(Action::Quit)
        );
        assert!(
            help_sections()
                .iter()
                .all(|(title, _)| *title != Context::TooSmall.title()),
            "the help overlay never shows over the notice"
        );
    }

    #[test]
    fn key_releases_are_ignored() {
        let release = Event::Key(KeyEvent {
            code: KeyCode::Char('q'),
            modifiers: KeyModifiers::NONE,
            kind: KeyEventKind::Release,
            state: KeyEventState::NONE,
        });
        assert_eq!(action_for(Context::Main, &release), None);
    }

    #[test]
    fn every_context_has_hints_and_a_way_out() {
        for context in Context::ALL {
            assert!(hints(context).next().is_some(), "{context:?} has no hints");
            let exits = BINDINGS
                .iter()
                .filter(|b| b.contexts.contains(&context))
                .any(|b| {
                    matches!(
                        b.action,
                        Action::Quit | Action::Cancel | Action::Submit | Action::KeepSearch
                    )
                });
            assert!(exits, "{context:?} cannot be left");
        }
    }

    #[test]
    fn no_key_is_bound_twice_in_one_context() {
        for context in Context::ALL {
            let keys: Vec<Key> = BINDINGS
                .iter()
                .filter(|b| b.contexts.contains(&context))
                .flat_map(|b| b.keys.iter().copied())
                .collect();
            for (i, k) in keys.iter().enumerate() {
                assert!(!keys[i + 1..].contains(k), "{context:?}: {k:?} bound twice");
            }
        }
    }
}
