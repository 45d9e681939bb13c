//! Add API Key: a name field and two choices, the environment and the expiry. Typing always
//! goes to the name; Tab moves between the choices and the arrows change the one in focus.

use tui_input::Input;

use super::{Effect, Job, Outcome, choice_step, name_field};
use crate::environment::Environment;
use crate::expiry::ExpiryChoice;
use crate::tui::action::{Action, cycle};

/// The choice the arrows change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AddKeyChoice {
    #[default]
    Environment,
    Expiry,
}

pub struct AddKey {
    pub name: Input,
    pub environment: Environment,
    /// Never unless the admin picks a lifetime.
    pub expiry: ExpiryChoice,
    pub focus: AddKeyChoice,
    /// Shown under the name field as the admin types.
    pub error: Option<String>,
}

impl Default for AddKey {
    fn default() -> AddKey {
        AddKey {
            name: Input::default(),
            environment: Environment::Production,
            expiry: ExpiryChoice::Never,
            focus: AddKeyChoice::Environment,
            error: None,
        }
    }
}

impl AddKey {
    pub fn update(&mut self, action: Action) -> Outcome {
        if let Some(error) = name_field::edit(&mut self.name, &action) {
            self.error = error;
            return Outcome::Stay;
        }
        if let Some(step) = choice_step(&action) {
            match self.focus {
                AddKeyChoice::Environment => {
                    self.environment = cycle(&Environment::ALL, self.environment, step)
                }
                AddKeyChoice::Expiry => self.expiry = cycle(&ExpiryChoice::ALL, self.expiry, step),
            }
            return Outcome::Stay;
        }
        match action {
            // Two choices: forward and back both reach the other one.
            Action::FocusNext | Action::FocusPrevious => {
                self.focus = match self.focus {
                    AddKeyChoice::Environment => AddKeyChoice::Expiry,
                    AddKeyChoice::Expiry => AddKeyChoice::Environment,
                };
            }
            Action::Cancel => return Outcome::Close,
            Action::Submit => match name_field::submit_error(self.name.value()) {
                Some(rule) => self.error = Some(rule),
                None => {
                    return Outcome::Run(Effect::Write(Job::Create {
                        name: self.name.value().to_owned(),
                        environment: self.environment,
                        lifetime: self.expiry.lifetime(),
                    }));
                }
            },
            _ => {}
        }
        Outcome::Stay
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::MAX_NAME_CHARS;
    use tui_input::InputRequest;

    fn typed(dialog: &mut AddKey, text: &str) {
        for c in text.chars() {
            assert_eq!(
                dialog.update(Action::Edit(InputRequest::InsertChar(c))),
                Outcome::Stay
            );
        }
    }

    #[test]
    fn enter_asks_to_create_a_key_with_a_valid_name() {
        let mut dialog = AddKey::default();
        typed(&mut dialog, "Billing");
        dialog.update(Action::ChoiceNext);
        assert_eq!(
            dialog.update(Action::Submit),
            Outcome::Run(Effect::Write(Job::Create {
                name: "Billing".into(),
                environment: Environment::Staging,
                lifetime: None,
            }))
        );
    }

    #[test]
    fn tab_moves_to_the_expiry_and_the_arrows_then_pick_a_lifetime() {
        let mut dialog = AddKey::default();
        typed(&mut dialog, "Trial");
        assert_eq!(dialog.expiry, ExpiryChoice::Never, "never by default");
        dialog.update(Action::FocusNext);
        assert_eq!(dialog.focus, AddKeyChoice::Expiry);
        dialog.update(Action::ChoiceNext);
        assert_eq!(dialog.expiry, ExpiryChoice::Days30);
        assert_eq!(dialog.environment, Environment::Production, "untouched");
        dialog.update(Action::ChoicePrevious);
        dialog.update(Action::ChoicePrevious);
        assert_eq!(dialog.expiry, ExpiryChoice::Year, "wraps around");
        dialog.update(Action::FocusPrevious);
        dialog.update(Action::ChoiceNext);
        assert_eq!(dialog.environment, Environment::Staging);
        assert_eq!(dialog.expiry, ExpiryChoice::Year, "untouched");
        typed(&mut dialog, "s");
        assert_eq!(
            dialog.name.value(),
            "Trials",
            "typing still goes to the name"
        );
        assert_eq!(
            dialog.update(Action::Submit),
            Outcome::Run(Effect::Write(Job::Create {
                name: "Trials".into(),
                environment: Environment::Staging,
                lifetime: Some(chrono::TimeDelta::days(365)),
            }))
        );
    }

    #[test]
    fn an_invalid_name_is_explained_and_not_submitted() {
        let mut dialog = AddKey::default();
        assert_eq!(dialog.update(Action::Submit), Outcome::Stay);
        let empty = dialog
            .error
            .clone()
            .expect("an empty name is explained on Enter");
        assert!(
            empty.ends_with('.') && empty.starts_with(char::is_uppercase),
            "{empty}"
        );
        typed(&mut dialog, "x");
        assert_eq!(dialog.error, None, "a valid name clears it");
        dialog.update(Action::Paste("y".repeat(1000)));
        assert_eq!(dialog.name.value().chars().count(), MAX_NAME_CHARS + 1);
        assert!(dialog.error.is_some(), "too long, while typing");
        assert_eq!(dialog.update(Action::Submit), Outcome::Stay);
    }

    #[test]
    fn a_pasted_name_of_accents_is_not_cut_short() {
        // 40 "é" typed as e and a combining accent: 80 code points, 40 characters, valid. A
        // cut at 65 code points stored "éé…e" (33 characters) without a word.
        let mut dialog = AddKey::default();
        let accented = "e\u{301}".repeat(40);
        dialog.update(Action::Paste(accented.clone()));
        assert_eq!(dialog.name.value(), accented);
        assert_eq!(dialog.error, None);
        // Stacked marks are still cut once past the rule's code points, and refused.
        let mut dialog = AddKey::default();
        dialog.update(Action::Paste(format!("a{}", "\u{301}".repeat(100_000))));
        assert_eq!(
            dialog.name.value().chars().count(),
            crate::text::MAX_NAME_CODE_POINTS + 1
        );
        assert!(dialog.error.is_some());
    }

    #[test]
    fn a_pasted_line_loses_its_newline() {
        let mut dialog = AddKey::default();
        dialog.update(Action::Paste("Search\r\n".into()));
        assert_eq!(dialog.name.value(), "Search");
        assert_eq!(dialog.error, None);
    }

    #[test]
    fn the_environment_choice_wraps_around_and_esc_closes() {
        let mut dialog = AddKey::default();
        dialog.update(Action::ChoicePrevious);
        assert_eq!(dialog.environment, Environment::Development);
        dialog.update(Action::ChoiceNext);
        assert_eq!(dialog.environment, Environment::Production);
        assert_eq!(dialog.update(Action::Copy), Outcome::Stay);
        assert_eq!(dialog.update(Action::Cancel), Outcome::Close);
    }
}
