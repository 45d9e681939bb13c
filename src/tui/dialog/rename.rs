//! Rename Key: the focused key's name in a field, judged as Add API Key judges a new name.

use tui_input::Input;

use super::{Effect, Job, Outcome, name_field};
use crate::store::KeyRecord;
use crate::tui::action::Action;

pub struct RenameKey {
    /// The key as last read: someone else may rename it while the dialog is open.
    pub key: KeyRecord,
    pub name: Input,
    pub error: Option<String>,
}

impl RenameKey {
    /// Opens on `key` with its current name in the field, the cursor at its end.
    pub fn new(key: KeyRecord) -> RenameKey {
        let name = Input::new(key.name.clone());
        RenameKey {
            key,
            name,
            error: None,
        }
    }

    pub fn update(&mut self, action: Action) -> Outcome {
        if let Some(error) = name_field::edit(&mut self.name, &action) {
            self.error = error;
            return Outcome::Stay;
        }
        match action {
            Action::Cancel => return Outcome::Close,
            Action::Submit => match name_field::submit_error(self.name.value()) {
                Some(rule) => self.error = Some(rule),
                None => {
                    return Outcome::Run(Effect::Write(Job::Rename {
                        key: self.key.clone(),
                        name: self.name.value().to_owned(),
                    }));
                }
            },
            _ => {}
        }
        Outcome::Stay
    }

    /// Another process renamed the key meanwhile: the dialog names it as it is now and says
    /// so. What the admin typed stays; it is still theirs to save or drop.
    pub fn follow(&mut self, fresh: KeyRecord) {
        if fresh.name != self.key.name {
            self.error = Some(format!(
                "Renamed by someone else meanwhile to \"{}\".",
                crate::text::echo(&fresh.name, 64)
            ));
        }
        self.key = fresh;
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use tui_input::InputRequest;

    use super::*;
    use crate::Environment;

    fn key(name: &str) -> KeyRecord {
        let at = Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0).unwrap();
        KeyRecord::example("key_0123abcd", name, Environment::Staging, at)
    }

    #[test]
    fn opens_with_the_name_and_submits_the_edited_one() {
        let mut dialog = RenameKey::new(key("Billing"));
        assert_eq!(dialog.name.value(), "Billing");
        assert_eq!(dialog.name.cursor(), "Billing".len(), "typing appends");
        dialog.update(Action::Paste(" v2\n".into()));
        assert_eq!(
            dialog.update(Action::Submit),
            Outcome::Run(Effect::Write(Job::Rename {
                key: key("Billing"),
                name: "Billing v2".into(),
            }))
        );
    }

    #[test]
    fn an_emptied_field_says_the_add_dialogs_message_on_enter_only() {
        let mut dialog = RenameKey::new(key("B"));
        dialog.update(Action::Edit(InputRequest::DeletePrevChar));
        assert_eq!(dialog.error, None, "not yet: the admin may be retyping");
        assert_eq!(dialog.update(Action::Submit), Outcome::Stay);
        assert_eq!(dialog.error, name_field::submit_error(""));
        assert!(dialog.error.is_some());
        assert_eq!(dialog.update(Action::Cancel), Outcome::Close);
    }

    #[test]
    fn a_rename_elsewhere_is_said_and_the_typed_name_kept() {
        let mut dialog = RenameKey::new(key("Billing"));
        dialog.update(Action::Edit(InputRequest::InsertChar('!')));
        let mut use_only = key("Billing");
        use_only.use_count = 3;
        dialog.follow(use_only);
        assert_eq!(dialog.error, None, "a use is no news");
        dialog.follow(key("Payments"));
        assert_eq!(dialog.key.name, "Payments");
        assert_eq!(dialog.name.value(), "Billing!");
        assert!(dialog.error.as_deref().unwrap().contains("\"Payments\""));
    }
}
