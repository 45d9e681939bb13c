//! "Your New API Key": the only place the full key ever appears.

use super::{Effect, Outcome};
use crate::key::Secret;
use crate::store::{IssuedKey, KeyRecord};
use crate::tui::action::Action;
use crate::tui::clipboard::CopyReport;

/// Dropping the dialog drops the [`Secret`], which wipes it.
pub struct NewKeyDialog {
    pub secret: Secret,
    pub key: KeyRecord,
    /// True after a rotation, false after a creation.
    pub rotated: bool,
    pub copied: Option<CopyReport>,
    /// Asking "close without copying?".
    pub confirm_close: bool,
}

impl NewKeyDialog {
    pub fn new(issued: IssuedKey, rotated: bool) -> NewKeyDialog {
        NewKeyDialog {
            secret: issued.secret,
            key: issued.record,
            rotated,
            copied: None,
            confirm_close: false,
        }
    }

    pub fn update(&mut self, action: Action) -> Outcome {
        match action {
            Action::Copy if !self.confirm_close => return Outcome::Run(Effect::Copy),
            Action::Submit if self.copied.is_some() => return Outcome::Run(Effect::CloseNewKey),
            Action::Submit => self.confirm_close = true,
            Action::Confirm if self.confirm_close => return Outcome::Run(Effect::CloseNewKey),
            Action::Cancel if self.confirm_close => self.confirm_close = false,
            _ => {}
        }
        Outcome::Stay
    }

    /// A quit while the key is not copied asks first, as closing would; true when the
    /// question is showing already (or the key was copied), so the quit may go ahead.
    pub fn quit_may_go_ahead(&mut self) -> bool {
        if self.copied.is_none() && !self.confirm_close {
            self.confirm_close = true;
            return false;
        }
        true
    }

    /// What the status line says once the dialog has closed.
    pub fn closing_notice(&self) -> String {
        let verb = if self.rotated { "Rotated" } else { "Created" };
        format!(
            "{verb} {} \"{}\". Only its masked form {} is kept.",
            self.key.id, self.key.name, self.key.masked_key
        )
    }
}
