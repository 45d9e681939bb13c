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
    /// The marked keys' one revoke confirmation.
    ConfirmBulkRevoke,
    /// The daily limit dialog: a number field.
    SetLimit,
    /// Rename Key: a name field.
    Rename,
    NewKey,
    /// The new-key dialog asking "close without copying?".
    ConfirmClose,
    Details,
    Help,
    /// The workspaces overlay (`w`).
    Workspaces,
    /// New Workspace: a name field in the workspaces overlay.
    CreateWorkspace,
    /// The audit log (`L`).
    AuditLog,
    /// Typing in the audit log's search box.
    AuditSearch,
    /// A dialog's write waits for another process to release the store: only withdrawing it
    /// and quitting apply.
    Waiting,
    /// The terminal is smaller than the layout needs and shows only a notice: nothing else is
    /// visible to act on, so only quitting (and resizing) does anything.
    TooSmall,
}

impl Context {
    /// Contexts with a focused text field: printable keys are typed, not bound.
    pub fn has_text_field(self) -> bool {
        matches!(
            self,
            Context::Search
                | Context::AddKey
                | Context::SetLimit
                | Context::Rename
                | Context::CreateWorkspace
                | Context::AuditSearch
        )
    }

    pub fn title(self) -> &'static str {
        match self {
            Context::Main => "Keys table and Default API Key panel",
            Context::Search => "Search box",
            Context::AddKey => "Add API Key",
            Context::CreateDefault => "Create Default Key",
            Context::ConfirmRotate => "Rotate confirmation",
            Context::ConfirmRevoke => "Revoke confirmation",
            Context::ConfirmBulkRevoke => "Bulk revoke confirmation",
            Context::SetLimit => "Daily limit",
            Context::Rename => "Rename Key",
            Context::NewKey => "Your New API Key",
            Context::ConfirmClose => "Close without copying?",
            Context::Details => "Key details",
            Context::Help => "Help",
            Context::Workspaces => "Workspaces",
            Context::CreateWorkspace => "New workspace",
            Context::AuditLog => "Audit log",
            Context::AuditSearch => "Audit log search",
            Context::Waiting => "Waiting for the store",
            Context::TooSmall => "Terminal too small",
        }
    }

    pub const ALL: [Context; 19] = [
        Context::Main,
        Context::Search,
        Context::AddKey,
        Context::CreateDefault,
        Context::ConfirmRotate,
        Context::ConfirmRevoke,
        Context::ConfirmBulkRevoke,
        Context::SetLimit,
        Context::Rename,
        Context::NewKey,
        Context::ConfirmClose,
        Context::Details,
        Context::Help,
        Context::Workspaces,
        Context::CreateWorkspace,
        Context::AuditLog,
        Context::AuditSearch,
        Context::Waiting,
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

    /// The key as text on screen names it.
    pub fn name(self) -> String {
        let name = match self.0 {
            KeyCode::Char(' ') => "Space".into(),
            KeyCode::Char(c) => c.to_string(),
            KeyCode::Enter => "Enter".into(),
            KeyCode::Esc => "Esc".into(),
            KeyCode::Tab => "Tab".into(),
            KeyCode::BackTab => "Shift-Tab".into(),
            KeyCode::Down => "↓".into(),
            KeyCode::Up => "↑".into(),
            KeyCode::PageDown => "PgDn".into(),
            KeyCode::PageUp => "PgUp".into(),
            other => format!("{other:?}"),
        };
        match self.1.contains(KeyModifiers::CONTROL) {
            true => format!("Ctrl-{}", name.to_uppercase()),
            false => name,
        }
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

const fn bind(
    contexts: &'static [Context],
    keys: &'static [Key],
    action: Action,
    hint: Option<Hint>,
) -> Binding {
    Binding {
        contexts,
        keys,
        action,
        hint,
    }
}

/// Shown in the footer and the help overlay.
const fn hint(keys: &'static str, text: &'static str) -> Option<Hint> {
    Some(Hint {
        keys,
        text,
        footer: true,
    })
}

/// Shown in the help overlay only.
const fn help(keys: &'static str, text: &'static str) -> Option<Hint> {
    Some(Hint {
        keys,
        text,
        footer: false,
    })
}

use Action as A;
use Context as C;
use Movement as M;

const MAIN: &[Context] = &[C::Main];
const SEARCH: &[Context] = &[C::Search, C::AuditSearch];
const CHOICES: &[Context] = &[C::CreateDefault, C::ConfirmRotate];
const QUESTIONS: &[Context] = &[
    C::CreateDefault,
    C::ConfirmRotate,
    C::ConfirmRevoke,
    C::ConfirmBulkRevoke,
];
const OVERLAYS: &[Context] = &[C::Details, C::Help, C::AuditLog];
const EVERYWHERE: &[Context] = &C::ALL;

const DOWN: Key = Key::plain(KeyCode::Down);
const UP: Key = Key::plain(KeyCode::Up);
const ENTER: Key = Key::plain(KeyCode::Enter);
const ESC: Key = Key::plain(KeyCode::Esc);
const TAB: Key = Key::plain(KeyCode::Tab);
const BACK_TAB: Key = Key::plain(KeyCode::BackTab);

/// The whole key map, one binding a line: where it applies, its keys, what it does, how it is
/// shown. Order matters only for display: the first binding that matches wins.
#[rustfmt::skip]
pub const BINDINGS: &[Binding] = &[
    // Main view: the table and the Default API Key panel.
    bind(MAIN, &[Key::char('j'), DOWN], A::Move(M::Down), hint("j/k ↓/↑", "move")),
    bind(MAIN, &[Key::char('k'), UP], A::Move(M::Up), None),
    bind(MAIN, &[Key::plain(KeyCode::PageDown)], A::Move(M::PageDown), help("PgDn/PgUp", "page down / up")),
    bind(MAIN, &[Key::plain(KeyCode::PageUp)], A::Move(M::PageUp), None),
    bind(MAIN, &[Key::char('g'), Key::plain(KeyCode::Home)], A::Move(M::Top), help("g/G", "first / last key")),
    bind(MAIN, &[Key::char('G'), Key::plain(KeyCode::End)], A::Move(M::Bottom), None),
    bind(MAIN, &[TAB], A::FocusNext, help("Tab/Shift-Tab", "focus table / Default API Key panel")),
    bind(MAIN, &[BACK_TAB], A::FocusPrevious, None),
    bind(MAIN, &[Key::char('/')], A::StartSearch, hint("/", "search")),
    // The three filters share a hint, as their chips sit side by side, each after its key.
    bind(MAIN, &[Key::char('e')], A::CycleEnvironmentFilter, hint("e/s/u", "filter env/status/usage")),
    bind(MAIN, &[Key::char('s')], A::CycleStatusFilter, None),
    bind(MAIN, &[Key::char('u')], A::CycleUsageFilter, None),
    bind(MAIN, &[Key::char('o')], A::CycleSort, hint("o", "sort")),
    bind(MAIN, &[Key::char('a')], A::OpenAddKey, hint("a", "add key")),
    bind(MAIN, &[Key::char('D')], A::OpenCreateDefault, hint("D", "default key")),
    bind(MAIN, &[Key::char('r')], A::OpenRotate, hint("r", "rotate")),
    bind(MAIN, &[Key::char('x')], A::OpenRevoke, hint("x", "revoke")),
    bind(MAIN, &[Key::char(' ')], A::ToggleMark, hint("Space", "mark")),
    bind(MAIN, &[Key::char('l')], A::OpenLimit, help("l", "set the focused key's daily limit")),
    bind(MAIN, &[Key::char('n')], A::OpenRename, help("n", "rename the focused key")),
    bind(MAIN, &[ENTER], A::OpenDetails, hint("Enter", "details")),
    bind(MAIN, &[Key::char('w')], A::OpenWorkspaces, hint("w", "workspaces")),
    bind(MAIN, &[Key::char('L')], A::OpenAuditLog, hint("L", "audit log")),
    bind(MAIN, &[ESC], A::ClearSearch, help("Esc", "clear the search; with none, the marks")),
    bind(MAIN, &[Key::char('?')], A::OpenHelp, hint("?", "help")),
    bind(MAIN, &[Key::char('q')], A::Quit, hint("q", "quit")),
    // The search box.
    bind(SEARCH, &[ENTER], A::KeepSearch, hint("Enter", "keep search")),
    bind(SEARCH, &[ESC], A::ClearSearch, hint("Esc", "clear search")),
    bind(SEARCH, &[DOWN], A::Move(M::Down), hint("↓/↑", "move")),
    bind(SEARCH, &[UP], A::Move(M::Up), None),
    // Dialogs with a choice (environment, grace period).
    bind(CHOICES, &[DOWN, TAB], A::ChoiceNext, hint("↑/↓ Tab", "choose")),
    bind(CHOICES, &[UP, BACK_TAB], A::ChoicePrevious, None),
    // Add API Key has two choices: Tab moves between them, the arrows change the focused one.
    bind(&[C::AddKey], &[DOWN], A::ChoiceNext, hint("↑/↓", "choose")),
    bind(&[C::AddKey], &[UP], A::ChoicePrevious, None),
    bind(&[C::AddKey], &[TAB], A::FocusNext, hint("Tab", "next choice")),
    bind(&[C::AddKey], &[BACK_TAB], A::FocusPrevious, None),
    bind(&[C::AddKey], &[ENTER], A::Submit, hint("Enter", "save")),
    bind(&[C::CreateDefault], &[ENTER], A::Submit, hint("Enter", "create")),
    bind(&[C::ConfirmRotate], &[Key::char('y'), ENTER], A::Confirm, hint("y/Enter", "rotate")),
    bind(&[C::ConfirmRevoke, C::ConfirmBulkRevoke], &[Key::char('y')], A::Confirm, hint("y", "revoke")),
    bind(&[C::SetLimit, C::Rename], &[ENTER], A::Submit, hint("Enter", "save")),
    bind(&[C::AddKey, C::SetLimit, C::Rename], &[ESC], A::Cancel, hint("Esc", "cancel")),
    bind(QUESTIONS, &[Key::char('n'), ESC], A::Cancel, hint("n/Esc", "cancel")),
    // Your New API Key.
    bind(&[C::NewKey], &[Key::char('c')], A::Copy, hint("c", "copy")),
    bind(&[C::NewKey], &[ENTER, ESC], A::Submit, hint("Enter/Esc", "close")),
    bind(&[C::ConfirmClose], &[Key::char('y')], A::Confirm, hint("y", "close, key is gone")),
    bind(&[C::ConfirmClose], &[Key::char('n'), ESC], A::Cancel, hint("n/Esc", "back to the key")),
    // Overlays.
    bind(OVERLAYS, &[Key::char('j'), DOWN], A::Move(M::Down), hint("j/k", "scroll")),
    bind(OVERLAYS, &[Key::char('k'), UP], A::Move(M::Up), None),
    bind(OVERLAYS, &[Key::plain(KeyCode::PageDown)], A::Move(M::PageDown), help("PgDn/PgUp", "page down / up")),
    bind(OVERLAYS, &[Key::plain(KeyCode::PageUp)], A::Move(M::PageUp), None),
    bind(OVERLAYS, &[Key::char('g'), Key::plain(KeyCode::Home)], A::Move(M::Top), help("g/G", "top / end")),
    bind(OVERLAYS, &[Key::char('G'), Key::plain(KeyCode::End)], A::Move(M::Bottom), None),
    bind(&[C::Details], &[ESC, ENTER, Key::char('q')], A::Cancel, hint("Esc", "back")),
    bind(&[C::Help], &[ESC, Key::char('?'), Key::char('q')], A::Cancel, hint("Esc/?", "close help")),
    // The workspaces overlay and its New Workspace field.
    bind(&[C::Workspaces], &[Key::char('j'), DOWN], A::Move(M::Down), hint("↑/↓", "choose")),
    bind(&[C::Workspaces], &[Key::char('k'), UP], A::Move(M::Up), None),
    bind(&[C::Workspaces], &[ENTER], A::Submit, hint("Enter", "switch")),
    bind(&[C::Workspaces], &[Key::char('a')], A::OpenAddKey, hint("a", "new workspace")),
    bind(&[C::Workspaces], &[ESC, Key::char('w'), Key::char('q')], A::Cancel, hint("Esc", "close")),
    bind(&[C::CreateWorkspace], &[ENTER], A::Submit, hint("Enter", "create")),
    bind(&[C::CreateWorkspace], &[ESC], A::Cancel, hint("Esc", "back to the list")),
    // The audit log (its scrolling is the overlays' above; its search box is the search's).
    bind(&[C::AuditLog], &[Key::char('/')], A::StartSearch, hint("/", "search")),
    bind(&[C::AuditLog], &[ESC, Key::char('L'), Key::char('q')], A::Cancel, hint("Esc", "close")),
    // A dialog whose write waits for the store.
    bind(&[C::Waiting], &[ESC], A::Cancel, hint("Esc", "withdraw the change")),
    // The "terminal too small" notice, which says "press q to quit".
    bind(&[C::TooSmall], &[Key::char('q')], A::Quit, hint("q", "quit")),
    // Everywhere, text field or not.
    bind(EVERYWHERE, &[Key::ctrl('c')], A::Quit, help("Ctrl-C", "quit")),
];

/// The action a terminal event asks for in `context`, if any. A resize is one in every
/// context: what fits decides which keys apply.
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
        Event::Resize(width, height) => Some(Action::Resize(*width, *height)),
        _ => None,
    }
}

/// The binding for `action` in `context`: the first in the table.
fn binding(context: Context, action: &Action) -> Option<&'static Binding> {
    BINDINGS
        .iter()
        .find(|b| b.contexts.contains(&context) && b.action == *action)
}

/// The name of the first key bound to `action` in `context` ("r", "Enter", "Tab"): how text
/// on screen (the panel's hints, the empty table, notices) names the key, so that it follows
/// the table.
pub fn key_name(context: Context, action: &Action) -> String {
    binding(context, action)
        .and_then(|b| b.keys.first())
        .map_or_else(String::new, |key| key.name())
}

/// The keys of the hint `action` carries in `context` ("j/k", "Esc/?").
pub fn hint_keys(context: Context, action: &Action) -> &'static str {
    binding(context, action)
        .and_then(|b| b.hint)
        .map_or("", |hint| hint.keys)
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
        // The help overlay cannot be open while the notice is, or while a dialog waits:
        // nothing to explain there.
        .filter(|&&context| !matches!(context, Context::TooSmall | Context::Waiting))
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
            (key('u'), CycleUsageFilter),
            (key('o'), CycleSort),
            (key('a'), OpenAddKey),
            (key('D'), OpenCreateDefault),
            (key('r'), OpenRotate),
            (key('x'), OpenRevoke),
            (key('l'), OpenLimit),
            (key('n'), OpenRename),
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
        for context in [Context::Search, Context::AddKey, Context::Rename] {
            for c in ['q', 'j', 'a', 'x', 'n', 'o', 'u', 'D', '?', '/'] {
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
            Some(Action::FocusNext),
            "Tab moves between the environment and expiry choices"
        );
        assert_eq!(
            action_for(
                Context::AddKey,
                &press(KeyCode::BackTab, KeyModifiers::SHIFT)
            ),
            Some(Action::FocusPrevious)
        );
        assert_eq!(
            action_for(Context::AddKey, &plain(KeyCode::Down)),
            Some(Action::ChoiceNext)
        );
        assert_eq!(
            action_for(Context::AddKey, &plain(KeyCode::Up)),
            Some(Action::ChoicePrevious)
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
            'D', 'x', 'y', 'r', 'a', 'c', 'n', 'j', 'k', 'g', 'G', 'e', 's', 'o', 'u', '/', '?',
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
        assert_eq!(
            action_for(Context::TooSmall, &Event::Resize(100, 30)),
            Some(Action::Resize(100, 30)),
            "resizing is how the notice goes away"
        );
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

    /// Every key named in text on screen (see `key_name` callers) is bound where that text
    /// shows, and is named as the product's key table names it.
    #[test]
    fn keys_named_on_screen_come_from_the_table() {
        use Action::*;
        let cases: &[(Context, Action, &str)] = &[
            (Context::Main, OpenRotate, "r"),
            (Context::Main, OpenRevoke, "x"),
            (Context::Main, OpenDetails, "Enter"),
            (Context::Main, FocusNext, "Tab"),
            (Context::Main, FocusPrevious, "Shift-Tab"),
            (Context::Main, OpenCreateDefault, "D"),
            (Context::Main, OpenAddKey, "a"),
            (Context::Main, StartSearch, "/"),
            (Context::Main, ClearSearch, "Esc"),
            (Context::Main, CycleEnvironmentFilter, "e"),
            (Context::Main, CycleStatusFilter, "s"),
            (Context::Main, CycleUsageFilter, "u"),
            (Context::Main, CycleSort, "o"),
            (Context::Main, Move(Movement::PageDown), "PgDn"),
            (Context::Search, Move(Movement::Down), "↓"),
            (Context::TooSmall, Quit, "q"),
            (Context::AddKey, Quit, "Ctrl-C"),
        ];
        for (context, action, name) in cases {
            assert_eq!(key_name(*context, action), *name, "{context:?} {action:?}");
        }
        assert_eq!(hint_keys(Context::Help, &Move(Movement::Down)), "j/k");
        assert_eq!(hint_keys(Context::Help, &Cancel), "Esc/?");
        assert_eq!(
            hint_keys(Context::Main, &CycleEnvironmentFilter),
            "e/s/u",
            "the filters' shared hint names all three keys"
        );
        assert_eq!(key_name(Context::Help, &OpenRotate), "", "not bound there");
    }
}
