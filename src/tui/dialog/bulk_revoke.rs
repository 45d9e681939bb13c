//! The one confirmation a bulk revoke asks: how many keys, and the first few by name.

use super::{Effect, Job, Outcome};
use crate::store::KeyRecord;
use crate::text::{fit, printable};
use crate::tui::action::Action;
use crate::tui::marks::few;

/// Names the question spells out before "and N more".
const NAMED: usize = 3;
/// Columns each name gets in the question.
const NAME_COLUMNS: usize = 24;

pub struct ConfirmBulkRevoke {
    /// The marked keys as they were when the dialog opened, in the order marked.
    pub keys: Vec<KeyRecord>,
    pub error: Option<String>,
}

impl ConfirmBulkRevoke {
    pub fn new(keys: Vec<KeyRecord>) -> ConfirmBulkRevoke {
        ConfirmBulkRevoke { keys, error: None }
    }

    /// `Revoke 5 keys? "Billing", "Payments", "CI" and 2 more`. Names come from the store
    /// and may hold anything: they are made printable and cut.
    pub fn question(&self) -> String {
        let names: Vec<String> = self
            .keys
            .iter()
            .map(|key| format!("\"{}\"", fit(&printable(&key.name, 64), NAME_COLUMNS)))
            .collect();
        let count = crate::text::count(self.keys.len() as u64, "key", "keys");
        format!("Revoke {count}? {}", few(&names, NAMED))
    }

    pub fn update(&mut self, action: Action) -> Outcome {
        match action {
            Action::Cancel => Outcome::Close,
            Action::Confirm => {
                let ids = self.keys.iter().map(|key| key.id.clone()).collect();
                Outcome::Run(Effect::Write(Job::RevokeKeys(ids)))
            }
            _ => Outcome::Stay,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Environment;
    use chrono::DateTime;

    fn keys(names: &[&str]) -> Vec<KeyRecord> {
        names
            .iter()
            .enumerate()
            .map(|(i, name)| {
                KeyRecord::example(
                    &format!("key_{i}"),
                    name,
                    Environment::Production,
                    DateTime::UNIX_EPOCH,
                )
            })
            .collect()
    }

    #[test]
    fn the_question_counts_and_names_the_first_few() {
        let dialog = ConfirmBulkRevoke::new(keys(&["Billing", "Payments", "CI", "Search", "Web"]));
        assert_eq!(
            dialog.question(),
            "Revoke 5 keys? \"Billing\", \"Payments\", \"CI\" and 2 more"
        );
        let one = ConfirmBulkRevoke::new(keys(&["Billing\u{1b}[31m"]));
        assert_eq!(one.question(), "Revoke 1 key? \"Billing\\u{1b}[31m\"");
    }

    #[test]
    fn only_y_revokes_them_all() {
        let mut dialog = ConfirmBulkRevoke::new(keys(&["A", "B"]));
        for action in [Action::Submit, Action::ChoiceNext, Action::Copy] {
            assert_eq!(dialog.update(action), Outcome::Stay);
        }
        assert_eq!(
            dialog.update(Action::Confirm),
            Outcome::Run(Effect::Write(Job::RevokeKeys(vec![
                "key_0".into(),
                "key_1".into()
            ])))
        );
        assert_eq!(dialog.update(Action::Cancel), Outcome::Close);
    }
}
