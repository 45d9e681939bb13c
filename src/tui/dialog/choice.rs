//! The dialogs that ask one question with a choice: Create Default Key (which environment),
//! and the rotate (which grace period) and revoke confirmations.

use super::{Effect, Outcome, choice_step};
use crate::environment::{Environment, Status};
use crate::store::{Grace, KeyRecord};
use crate::tui::action::{Action, cycle};

pub struct CreateDefault {
    pub environment: Environment,
    pub error: Option<String>,
}

pub struct ConfirmRotate {
    pub key: KeyRecord,
    pub grace: Grace,
    pub error: Option<String>,
}

pub struct ConfirmRevoke {
    pub key: KeyRecord,
    pub error: Option<String>,
}

impl Default for CreateDefault {
    /// Production is preselected, as the product asks.
    fn default() -> CreateDefault {
        CreateDefault {
            environment: Environment::Production,
            error: None,
        }
    }
}

impl CreateDefault {
    pub fn update(&mut self, action: Action) -> Outcome {
        if let Some(step) = choice_step(&action) {
            self.environment = cycle(&Environment::ALL, self.environment, step);
        }
        match action {
            Action::Cancel => Outcome::Close,
            Action::Submit => Outcome::Run(Effect::CreateDefault(self.environment)),
            _ => Outcome::Stay,
        }
    }
}

// Rotate and revoke are offered only where they can succeed: a revoked key cannot change, an
// expired one cannot get a new secret but can still be revoked (for the audit trail, or so
// that a later change of its expiry cannot bring it back).

impl ConfirmRotate {
    /// Whether a key in `status` can be rotated.
    pub fn allows(status: Status) -> bool {
        status == Status::Active
    }

    /// No grace period unless the admin picks one.
    pub fn new(key: KeyRecord) -> ConfirmRotate {
        ConfirmRotate {
            key,
            grace: Grace::None,
            error: None,
        }
    }

    pub fn update(&mut self, action: Action) -> Outcome {
        if let Some(step) = choice_step(&action) {
            self.grace = cycle(&Grace::ALL, self.grace, step);
        }
        match action {
            Action::Cancel => Outcome::Close,
            Action::Confirm => Outcome::Run(Effect::Rotate {
                key: self.key.clone(),
                grace: self.grace,
            }),
            _ => Outcome::Stay,
        }
    }
}

impl ConfirmRevoke {
    /// Whether a key in `status` can be revoked.
    pub fn allows(status: Status) -> bool {
        status != Status::Revoked
    }

    pub fn new(key: KeyRecord) -> ConfirmRevoke {
        ConfirmRevoke { key, error: None }
    }

    pub fn update(&mut self, action: Action) -> Outcome {
        match action {
            Action::Cancel => Outcome::Close,
            Action::Confirm => Outcome::Run(Effect::Revoke(self.key.clone())),
            _ => Outcome::Stay,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::DateTime;

    fn key() -> KeyRecord {
        KeyRecord {
            id: "key_1".into(),
            name: "Billing".into(),
            environment: Environment::Production,
            is_default: false,
            masked_key: "fhk_prod_abcd…wxyz".into(),
            created_at: DateTime::UNIX_EPOCH,
            rotated_at: None,
            revoked_at: None,
            expires_at: None,
            last_used_at: None,
            use_count: 0,
            daily_limit: None,
        }
    }

    #[test]
    fn create_default_offers_each_environment_then_creates() {
        let mut dialog = CreateDefault::default();
        assert_eq!(dialog.update(Action::ChoiceNext), Outcome::Stay);
        assert_eq!(dialog.update(Action::ChoiceNext), Outcome::Stay);
        assert_eq!(dialog.environment, Environment::Development);
        assert_eq!(
            dialog.update(Action::Submit),
            Outcome::Run(Effect::CreateDefault(Environment::Development))
        );
        assert_eq!(dialog.update(Action::Cancel), Outcome::Close);
    }

    #[test]
    fn rotate_asks_for_the_grace_period_picked() {
        let mut dialog = ConfirmRotate::new(key());
        assert_eq!(dialog.grace, Grace::None);
        dialog.update(Action::ChoicePrevious);
        let picked = dialog.grace;
        assert_eq!(picked, *Grace::ALL.last().unwrap(), "wraps around");
        assert_eq!(
            dialog.update(Action::Confirm),
            Outcome::Run(Effect::Rotate {
                key: key(),
                grace: picked
            })
        );
        assert_eq!(dialog.update(Action::Submit), Outcome::Stay);
        assert_eq!(dialog.update(Action::Cancel), Outcome::Close);
    }

    #[test]
    fn revoke_runs_only_on_confirm() {
        let mut dialog = ConfirmRevoke::new(key());
        for action in [Action::Submit, Action::ChoiceNext, Action::Copy] {
            assert_eq!(dialog.update(action), Outcome::Stay);
        }
        assert_eq!(
            dialog.update(Action::Confirm),
            Outcome::Run(Effect::Revoke(key()))
        );
        assert_eq!(dialog.update(Action::Cancel), Outcome::Close);
    }
}
