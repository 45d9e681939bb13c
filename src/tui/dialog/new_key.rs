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
    /// The question was asked by a quit (Ctrl-C): `y` then closes the dialog and quits too,
    /// since quitting is what the admin asked for and confirmed.
    pub quitting: bool,
}

impl NewKeyDialog {
    pub fn new(issued: IssuedKey, rotated: bool) -> NewKeyDialog {
        NewKeyDialog {
            secret: issued.secret,
            key: issued.record,
            rotated,
            copied: None,
            confirm_close: false,
            quitting: false,
        }
    }

    pub fn update(&mut self, action: Action) -> Outcome {
        match action {
            Action::Copy if !self.confirm_close => return Outcome::Run(Effect::Copy),
            Action::Submit if self.copied.is_some() => return Outcome::Run(Effect::CloseNewKey),
            Action::Submit => self.confirm_close = true,
            Action::Confirm if self.confirm_close => return Outcome::Run(Effect::CloseNewKey),
            Action::Cancel if self.confirm_close => {
                self.confirm_close = false;
                self.quitting = false;
            }
            _ => {}
        }
        Outcome::Stay
    }

    /// A quit while the key is not copied asks first, as closing would; true when the
    /// question is showing already (or the key was copied), so the quit may go ahead.
    pub fn quit_may_go_ahead(&mut self) -> bool {
        if self.copied.is_none() && !self.confirm_close {
            self.confirm_close = true;
            self.quitting = true;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entropy::SeededEntropy;
    use crate::environment::Environment;
    use crate::tui::clipboard::CopyReport;

    fn dialog() -> NewKeyDialog {
        let secret = Secret::generate(Environment::Staging, &mut SeededEntropy::new(7)).unwrap();
        let key = KeyRecord::example(
            "key_1",
            "Billing",
            Environment::Staging,
            chrono::DateTime::UNIX_EPOCH,
        );
        NewKeyDialog::new(
            IssuedKey {
                record: key,
                secret,
            },
            false,
        )
    }

    #[test]
    fn closing_before_copying_asks_once_more() {
        let mut dialog = dialog();
        assert_eq!(dialog.update(Action::Submit), Outcome::Stay);
        assert!(dialog.confirm_close);
        assert_eq!(
            dialog.update(Action::Copy),
            Outcome::Stay,
            "not while asking"
        );
        assert_eq!(dialog.update(Action::Cancel), Outcome::Stay);
        assert!(!dialog.confirm_close, "n goes back to the key");
        dialog.update(Action::Submit);
        assert_eq!(
            dialog.update(Action::Confirm),
            Outcome::Run(Effect::CloseNewKey)
        );
    }

    #[test]
    fn once_copied_enter_closes_and_a_quit_goes_ahead() {
        let mut dialog = dialog();
        assert_eq!(dialog.update(Action::Copy), Outcome::Run(Effect::Copy));
        dialog.copied = Some(CopyReport {
            system: false,
            osc52: true,
        });
        assert!(dialog.quit_may_go_ahead());
        assert_eq!(
            dialog.update(Action::Submit),
            Outcome::Run(Effect::CloseNewKey)
        );
        assert!(
            dialog
                .closing_notice()
                .starts_with("Created key_1 \"Billing\"")
        );
    }

    #[test]
    fn a_quit_on_an_uncopied_key_asks_first() {
        let mut dialog = dialog();
        assert!(!dialog.quit_may_go_ahead());
        assert!(dialog.confirm_close);
        assert!(dialog.quit_may_go_ahead(), "the second quit leaves");
    }
}
