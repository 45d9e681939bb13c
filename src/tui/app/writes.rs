//! Every write the dashboard makes: a dialog's effect run inline or on the writer thread,
//! and what its answer changes on screen.

use super::*;

impl App {
    /// The open dialog takes `action`, in place; what it asks for happens here.
    pub(super) fn update_modal(&mut self, action: Action) {
        let Some(modal) = &mut self.modal else {
            return;
        };
        match modal.update(action, self.terminal_area) {
            Outcome::Stay => {}
            Outcome::Close => self.modal = None,
            Outcome::Run(effect) => self.run(effect),
        }
    }

    /// The store and clipboard work of a dialog: every write the dashboard makes is here,
    /// done inline or handed to the writer thread.
    pub(super) fn run(&mut self, effect: Effect) {
        let job = match effect {
            Effect::Write(job) => job,
            Effect::Copy
            | Effect::CloseNewKey
            | Effect::SwitchWorkspace(_)
            | Effect::ReadOlderLog => return self.run_here(effect),
        };
        let Some(writer) = &mut self.writer else {
            return self.run_here_job(job);
        };
        if !writer.submit(&self.workspace, job) {
            let err = crate::Error::Database {
                path: self.store.path().to_path_buf(),
                message: "the writer thread stopped".into(),
            };
            self.refused(err);
        }
    }

    /// A write done on the dashboard's own store, settled when this returns.
    pub(super) fn run_here_job(&mut self, job: Job) {
        let fate = crate::tui::writer::Fate::default();
        let done = crate::tui::writer::perform(&mut self.store, job, &self.workspace, &fate);
        self.written(done, true);
    }

    /// What a write's answer changes on screen. `awaited`: the open dialog asked for it;
    /// otherwise it was withdrawn, and only a change that was made anyway is shown.
    pub(super) fn written(&mut self, done: Done, awaited: bool) {
        match done {
            // A new key reaches the admin whatever else is open: nobody else ever sees it.
            Done::Issued {
                issued: Ok(issued),
                rotated,
            } => self.show_new_key(Ok(issued), rotated),
            Done::Revoked(Ok(revoked)) => {
                if awaited {
                    self.modal = None;
                }
                self.changed(&revoked);
                self.say(format!(
                    "Revoked {} \"{}\": apps using it can no longer authenticate.",
                    revoked.id, revoked.name
                ));
            }
            Done::BulkRevoked(Ok(done)) => self.bulk_revoked(done, awaited),
            Done::LimitSet(Ok(changed)) => {
                if awaited {
                    self.modal = None;
                }
                self.changed(&changed);
                let what = match changed.daily_limit {
                    Some(n) => format!(
                        "may now be used {} times a day (UTC)",
                        crate::text::group_digits(n)
                    ),
                    None => "has no daily limit now".to_owned(),
                };
                self.say(format!(
                    "Key {} \"{}\" {what}.",
                    changed.id,
                    crate::text::echo(&changed.name, 64)
                ));
            }
            Done::Renamed(Ok(crate::store::Renamed {
                key: renamed,
                before,
            })) => {
                if awaited {
                    self.modal = None;
                }
                self.changed(&renamed);
                let name = crate::text::echo(&renamed.name, 64);
                self.say(match renamed.name == before {
                    true => format!(
                        "Key {} is already named \"{name}\"; nothing changed.",
                        renamed.id
                    ),
                    false => format!(
                        "Renamed key {} \"{}\" → \"{name}\".",
                        renamed.id,
                        crate::text::echo(&before, 64)
                    ),
                });
            }
            Done::WorkspaceCreated(Ok(created)) => self.workspace_created(created),
            Done::Issued {
                issued: Err(err), ..
            }
            | Done::WorkspaceCreated(Err(err))
            | Done::Revoked(Err(err))
            | Done::BulkRevoked(Err(err))
            | Done::LimitSet(Err(err))
            | Done::Renamed(Err(err))
                if awaited =>
            {
                self.refused(err)
            }
            // Withdrawn and not made, as the notice said when Esc was pressed.
            Done::Issued { .. }
            | Done::Revoked(_)
            | Done::BulkRevoked(_)
            | Done::LimitSet(_)
            | Done::Renamed(_)
            | Done::WorkspaceCreated(_) => {}
        }
    }

    /// The writer may have answered: show what it did.
    pub(super) fn take_written(&mut self) {
        while let Some(finished) = self.writer.as_mut().and_then(Writer::take) {
            self.written(finished.done, finished.awaited);
        }
    }

    /// Esc while a write waits: withdraw it and close its dialog.
    pub(super) fn withdraw(&mut self) {
        let Some(writer) = &mut self.writer else {
            return;
        };
        if writer.withdraw() {
            self.modal = None;
            self.say("Withdrawn: the change will not be made.".into());
        } else if writer.is_waiting() {
            // The store already took it: its answer (a new key to show) follows at once.
            self.say("Too late to withdraw: the change is being written.".into());
        }
    }

    /// Clipboard work, closing the new key, and the admin overlays' switch and reads.
    pub(super) fn run_here(&mut self, effect: Effect) {
        match effect {
            Effect::Copy => {
                if let Some(Modal::NewKey(dialog)) = &mut self.modal {
                    dialog.copied = Some(self.clipboard.copy(dialog.secret.expose()));
                }
            }
            Effect::Write(_) => unreachable!("writes go through `run`"),
            Effect::SwitchWorkspace(workspace) => self.switch_workspace(workspace),
            Effect::ReadOlderLog => self.read_older_log(),
            // The dialog, and with it the secret, is dropped here. When a quit asked the
            // question, the `y` that answers it confirms the quit as well.
            Effect::CloseNewKey => {
                if let Some(Modal::NewKey(dialog)) = self.modal.take() {
                    self.say(dialog.closing_notice());
                    self.should_quit |= dialog.quitting;
                }
            }
        }
    }

    /// A key was created or rotated: "Your New API Key" replaces the dialog that asked.
    pub(super) fn show_new_key(&mut self, issued: crate::Result<IssuedKey>, rotated: bool) {
        match issued {
            Ok(issued) => {
                // A key that was made is always shown, even if a quit was asked for while it
                // was being written: otherwise nobody would ever see it.
                self.should_quit = false;
                // Closed first: the asking dialog must not take this change for someone
                // else's when the list is read again.
                self.modal = None;
                self.changed(&issued.record);
                self.list.select(&issued.record.id);
                self.modal = Some(Modal::NewKey(NewKeyDialog::new(issued, rotated)));
            }
            Err(err) => self.refused(err),
        }
    }

    /// The store refused a dialog's change. When someone else changed the key while its
    /// dialog was open, show what is true now; otherwise the dialog says why and stays.
    pub(super) fn refused(&mut self, err: crate::Error) {
        if let crate::Error::RotatedMeanwhile { id } = &err
            && let Ok(fresh) = self.store.get_key(&self.workspace, id)
            && let Some(modal) = &mut self.modal
        {
            // The `y` that met the change did not act, and the dialog stays with the key as
            // it is now: rotating again may still be what the admin wants, but only once they
            // have seen that someone else just did.
            modal.follow(&fresh, true);
            self.reload();
        } else if changed_meanwhile(&err) {
            self.modal = None;
            self.reload();
            self.say_error(err.to_string());
        } else if let Some(modal) = &mut self.modal {
            modal.show_error(err.to_string());
        } else {
            self.say_error(err.to_string());
        }
    }
}

/// Errors that mean the key is no longer what the dialog showed (revoked, expired or gone by
/// another process's hand): retrying cannot help. (Creating a key never fails this way.)
fn changed_meanwhile(err: &crate::Error) -> bool {
    matches!(
        err,
        crate::Error::KeyRevoked { .. }
            | crate::Error::KeyExpired { .. }
            | crate::Error::KeyNotFound { .. }
            | crate::Error::RotatedMeanwhile { .. }
    )
}
