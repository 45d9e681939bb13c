//! The dialogs and overlays. Each is a type that owns its state and takes every action sent
//! while it is open (gitui's popups are the model); its `update` says what happens next, and
//! any store or clipboard work it asks for is an [`Effect`] the App runs, so those calls stay
//! in one place.

mod add_key;
mod audit_log;
mod bulk_revoke;
mod choice;
mod limit;
mod name_field;
mod new_key;
mod overlay;
mod rename;
mod workspaces;

pub use add_key::{AddKey, AddKeyChoice};
pub use audit_log::{AuditLog, LOG_PAGE};
pub use bulk_revoke::ConfirmBulkRevoke;
pub use choice::{
    CHANGED_MEANWHILE, ConfirmRevoke, ConfirmRotate, Confirmation, CreateDefault, Recheck,
};
pub use limit::{LIMIT_RULE, SetLimit};
pub use new_key::NewKeyDialog;
pub use overlay::{Details, Help};
pub use rename::RenameKey;
pub use workspaces::{Counts, NewWorkspace, Workspaces};

use ratatui::layout::Rect;

use super::action::Action;
use super::keymap::Context;
use crate::store::KeyRecord;
pub use crate::tui::writer::Job;

/// At most one dialog or overlay is open; it takes every key first.
pub enum Modal {
    AddKey(AddKey),
    CreateDefault(CreateDefault),
    ConfirmRotate(ConfirmRotate),
    ConfirmRevoke(ConfirmRevoke),
    /// The marked keys' one confirmation.
    BulkRevoke(ConfirmBulkRevoke),
    SetLimit(SetLimit),
    Rename(RenameKey),
    NewKey(NewKeyDialog),
    Details(Details),
    Help(Help),
    Workspaces(Workspaces),
    AuditLog(AuditLog),
}

/// What a dialog asks for after an action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Stay,
    Close,
    /// Work for the App; the dialog stays open until the App closes or replaces it.
    Run(Effect),
}

/// Work a dialog cannot do itself: it needs the store or the clipboard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// A change to the store, run inline or on the writer thread.
    Write(Job),
    /// Copy the new key to the clipboard.
    Copy,
    /// Close "Your New API Key", which drops (and wipes) the secret.
    CloseNewKey,
    /// Show this workspace instead: header, default key panel, table and what follows the
    /// store.
    SwitchWorkspace(String),
    /// Read the audit log's next older page.
    ReadOlderLog,
}

impl Modal {
    /// Which bindings apply while this dialog is open.
    pub fn context(&self) -> Context {
        match self {
            Modal::AddKey(_) => Context::AddKey,
            Modal::CreateDefault(_) => Context::CreateDefault,
            Modal::ConfirmRotate(_) => Context::ConfirmRotate,
            Modal::ConfirmRevoke(_) => Context::ConfirmRevoke,
            Modal::BulkRevoke(_) => Context::ConfirmBulkRevoke,
            Modal::SetLimit(_) => Context::SetLimit,
            Modal::Rename(_) => Context::Rename,
            Modal::NewKey(dialog) if dialog.confirm_close => Context::ConfirmClose,
            Modal::NewKey(_) => Context::NewKey,
            Modal::Details(_) => Context::Details,
            Modal::Help(_) => Context::Help,
            Modal::Workspaces(overlay) if overlay.creating.is_some() => Context::CreateWorkspace,
            Modal::Workspaces(_) => Context::Workspaces,
            Modal::AuditLog(log) if log.searching => Context::AuditSearch,
            Modal::AuditLog(_) => Context::AuditLog,
        }
    }

    /// Handles `action` in place. `screen` is the terminal's area, when known: overlays
    /// scroll no further than their text goes at that size.
    pub fn update(&mut self, action: Action, screen: Option<Rect>) -> Outcome {
        match self {
            Modal::AddKey(dialog) => dialog.update(action),
            Modal::CreateDefault(dialog) => dialog.update(action),
            Modal::ConfirmRotate(dialog) => dialog.update(action),
            Modal::ConfirmRevoke(dialog) => dialog.update(action),
            Modal::BulkRevoke(dialog) => dialog.update(action),
            Modal::SetLimit(dialog) => dialog.update(action),
            Modal::Rename(dialog) => dialog.update(action),
            Modal::NewKey(dialog) => dialog.update(action),
            Modal::Details(overlay) => overlay.update(action, screen),
            Modal::Help(overlay) => overlay.update(action, screen),
            Modal::Workspaces(overlay) => {
                let rows = screen.map_or(10, crate::tui::view::admin::workspace_rows);
                overlay.update(action, rows)
            }
            Modal::AuditLog(log) => {
                let rows = screen.map_or(10, crate::tui::view::admin::log_rows);
                log.update(action, rows)
            }
        }
    }

    /// Someone else changed the key this dialog is about: a confirmation shows `fresh` and
    /// asks again (see [`Recheck`]); Rename Key names the key as it is now. The Daily Limit
    /// dialog does not follow: a limit is set whole, whatever the key's other fields became.
    pub fn follow(&mut self, fresh: &KeyRecord, confirmed: bool) {
        match self {
            Modal::ConfirmRotate(dialog) if choice::changed(&dialog.key, fresh) => {
                dialog.follow(fresh.clone(), confirmed)
            }
            Modal::ConfirmRevoke(dialog) if choice::changed(&dialog.key, fresh) => {
                dialog.follow(fresh.clone(), confirmed)
            }
            Modal::Rename(dialog) if dialog.key.id == fresh.id => dialog.follow(fresh.clone()),
            _ => {}
        }
    }

    /// The id of the key a following dialog (see [`Modal::follow`]) is about.
    pub fn following(&self) -> Option<&str> {
        match self {
            Modal::ConfirmRotate(dialog) => Some(&dialog.key().id),
            Modal::ConfirmRevoke(dialog) => Some(&dialog.key().id),
            Modal::Rename(dialog) => Some(&dialog.key.id),
            _ => None,
        }
    }

    /// The store refused the dialog's effect for a reason worth retrying: say why in it.
    pub fn show_error(&mut self, message: String) {
        let error = match self {
            Modal::AddKey(dialog) => &mut dialog.error,
            Modal::CreateDefault(dialog) => &mut dialog.error,
            Modal::ConfirmRotate(dialog) => &mut dialog.error,
            Modal::ConfirmRevoke(dialog) => &mut dialog.error,
            Modal::BulkRevoke(dialog) => &mut dialog.error,
            Modal::SetLimit(dialog) => &mut dialog.error,
            Modal::Rename(dialog) => &mut dialog.error,
            Modal::Workspaces(Workspaces {
                creating: Some(creating),
                ..
            }) => &mut creating.error,
            // These run no effect that can fail.
            Modal::NewKey(_)
            | Modal::Details(_)
            | Modal::Help(_)
            | Modal::Workspaces(_)
            | Modal::AuditLog(_) => return,
        };
        *error = Some(message);
    }
}

/// The step a choice moves for `action` (next or previous option), if it is one.
fn choice_step(action: &Action) -> Option<isize> {
    match action {
        Action::ChoiceNext => Some(1),
        Action::ChoicePrevious => Some(-1),
        _ => None,
    }
}
