//! The dialogs that ask one question with a choice: Create Default Key (which environment),
//! and the rotate (which grace period) and revoke confirmations.

use super::{Effect, Job, Outcome, choice_step};
use crate::environment::{Environment, Status};
use crate::store::{Grace, KeyRecord};
use crate::tui::action::{Action, cycle};
use crate::tui::keymap::{Context, key_name};

pub struct CreateDefault {
    pub environment: Environment,
    pub error: Option<String>,
}

pub struct ConfirmRotate {
    pub key: KeyRecord,
    pub grace: Grace,
    pub error: Option<String>,
    /// Whether the key changed under the dialog since the admin last confirmed.
    pub recheck: Recheck,
}

pub struct ConfirmRevoke {
    pub key: KeyRecord,
    pub error: Option<String>,
    pub recheck: Recheck,
}

/// What a confirmation does when someone else changed its key while it was open. The key
/// shown is replaced by what is true now, and a `y` typed before the admin could see that
/// must not act on it: the first `y` after a change only acknowledges it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Recheck {
    /// The key is as the admin last confirmed (or first saw) it.
    #[default]
    Settled,
    /// The key changed; the next `y` acknowledges it and does nothing else.
    Changed,
}

/// Said in a confirmation whose key changed while it was open.
pub const CHANGED_MEANWHILE: &str =
    "This key was changed by someone else meanwhile: check and confirm again.";

/// Whether `fresh` differs from `seen` in anything a confirmation decides on. Use counts and
/// "last used" move all the time and change nothing about rotating or revoking.
pub fn changed(seen: &KeyRecord, fresh: &KeyRecord) -> bool {
    seen.id == fresh.id
        && (seen.masked_key != fresh.masked_key
            || seen.revoked_at != fresh.revoked_at
            || seen.rotated_at != fresh.rotated_at
            || seen.expires_at != fresh.expires_at
            || seen.name != fresh.name
            || seen.environment != fresh.environment
            || seen.is_default != fresh.is_default)
}

/// The confirmations hold their key and its [`Recheck`] the same way.
pub trait Confirmation {
    /// Where the dialog's keys are bound: what its messages name them from.
    const CONTEXT: Context;
    fn key(&self) -> &KeyRecord;
    fn parts(&mut self) -> (&mut KeyRecord, &mut Option<String>, &mut Recheck);

    /// Shows `fresh`, what someone else made of the key, and asks for a new confirmation.
    /// `confirmed` is true when a `y` already met the change (the store refused it): that one
    /// did not act, so the next one may.
    fn follow(&mut self, fresh: KeyRecord, confirmed: bool) {
        let (key, error, recheck) = self.parts();
        *key = fresh;
        *error = Some(CHANGED_MEANWHILE.to_owned());
        *recheck = if confirmed {
            Recheck::Settled
        } else {
            Recheck::Changed
        };
    }

    /// A `y`: acts unless it is the first since a change.
    fn confirm(&mut self, verb: &str, act: impl FnOnce(&KeyRecord) -> Effect) -> Outcome {
        let (key, error, recheck) = self.parts();
        if *recheck == Recheck::Changed {
            *recheck = Recheck::Settled;
            *error = Some(format!(
                "{CHANGED_MEANWHILE} Press {} again to {verb} it as shown.",
                key_name(Self::CONTEXT, &Action::Confirm)
            ));
            return Outcome::Stay;
        }
        Outcome::Run(act(key))
    }
}

impl Confirmation for ConfirmRotate {
    const CONTEXT: Context = Context::ConfirmRotate;
    fn key(&self) -> &KeyRecord {
        &self.key
    }
    fn parts(&mut self) -> (&mut KeyRecord, &mut Option<String>, &mut Recheck) {
        (&mut self.key, &mut self.error, &mut self.recheck)
    }
}

impl Confirmation for ConfirmRevoke {
    const CONTEXT: Context = Context::ConfirmRevoke;
    fn key(&self) -> &KeyRecord {
        &self.key
    }
    fn parts(&mut self) -> (&mut KeyRecord, &mut Option<String>, &mut Recheck) {
        (&mut self.key, &mut self.error, &mut self.recheck)
    }
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
            Action::Submit => Outcome::Run(Effect::Write(Job::CreateDefault(self.environment))),
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
            recheck: Recheck::Settled,
        }
    }

    pub fn update(&mut self, action: Action) -> Outcome {
        if let Some(step) = choice_step(&action) {
            self.grace = cycle(&Grace::ALL, self.grace, step);
        }
        match action {
            Action::Cancel => Outcome::Close,
            Action::Confirm => {
                let grace = self.grace;
                self.confirm("rotate", |key| {
                    Effect::Write(Job::Rotate {
                        key: key.clone(),
                        grace,
                    })
                })
            }
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
        ConfirmRevoke {
            key,
            error: None,
            recheck: Recheck::Settled,
        }
    }

    pub fn update(&mut self, action: Action) -> Outcome {
        match action {
            Action::Cancel => Outcome::Close,
            Action::Confirm => {
                self.confirm("revoke", |key| Effect::Write(Job::Revoke(key.clone())))
            }
            _ => Outcome::Stay,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::DateTime;

    fn key() -> KeyRecord {
        KeyRecord::example(
            "key_1",
            "Billing",
            Environment::Production,
            DateTime::UNIX_EPOCH,
        )
    }

    #[test]
    fn create_default_offers_each_environment_then_creates() {
        let mut dialog = CreateDefault::default();
        assert_eq!(dialog.update(Action::ChoiceNext), Outcome::Stay);
        assert_eq!(dialog.update(Action::ChoiceNext), Outcome::Stay);
        assert_eq!(dialog.environment, Environment::Development);
        assert_eq!(
            dialog.update(Action::Submit),
            Outcome::Run(Effect::Write(Job::CreateDefault(Environment::Development)))
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
            Outcome::Run(Effect::Write(Job::Rotate {
                key: key(),
                grace: picked
            }))
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
            Outcome::Run(Effect::Write(Job::Revoke(key())))
        );
        assert_eq!(dialog.update(Action::Cancel), Outcome::Close);
    }
}
