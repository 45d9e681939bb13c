//! The workspaces overlay (`w`): the store's workspaces with their active keys, the current
//! one marked. `Enter` switches the dashboard to the selected one; `a` asks for a new
//! workspace's name, judged as a key's name is, in the same overlay.

use tui_input::Input;

use super::{Effect, Job, Outcome, name_field};
use crate::store::ListedWorkspace;
use crate::tui::action::{Action, Movement};

pub struct Workspaces {
    pub entries: Vec<ListedWorkspace>,
    /// Index into `entries`.
    pub selected: usize,
    /// `a` was pressed: the new workspace's name being typed.
    pub creating: Option<NewWorkspace>,
}

#[derive(Default)]
pub struct NewWorkspace {
    pub name: Input,
    pub error: Option<String>,
}

impl Workspaces {
    /// Opens on `entries` with the current workspace selected.
    pub fn new(entries: Vec<ListedWorkspace>) -> Workspaces {
        let selected = entries.iter().position(|w| w.current).unwrap_or(0);
        Workspaces {
            entries,
            selected,
            creating: None,
        }
    }

    /// The list read again (after a create): the selection goes to `name` when it is there.
    pub fn relist(&mut self, entries: Vec<ListedWorkspace>, name: &str) {
        self.selected = entries
            .iter()
            .position(|w| w.name == name)
            .unwrap_or(self.selected.min(entries.len().saturating_sub(1)));
        self.entries = entries;
        self.creating = None;
    }

    pub fn selected_entry(&self) -> Option<&ListedWorkspace> {
        self.entries.get(self.selected)
    }

    pub fn update(&mut self, action: Action, page: usize) -> Outcome {
        if let Some(creating) = &mut self.creating {
            return creating.update(action, &self.entries).unwrap_or_else(|| {
                self.creating = None;
                Outcome::Stay
            });
        }
        match action {
            Action::Cancel => return Outcome::Close,
            Action::Move(movement) => {
                self.selected = moved(self.selected, movement, self.entries.len(), page)
            }
            Action::OpenAddKey => self.creating = Some(NewWorkspace::default()),
            Action::Submit => match self.selected_entry() {
                Some(entry) if entry.current => return Outcome::Close,
                Some(entry) => return Outcome::Run(Effect::SwitchWorkspace(entry.name.clone())),
                None => {}
            },
            _ => {}
        }
        Outcome::Stay
    }
}

impl NewWorkspace {
    /// `None` when the admin went back to the list (Esc).
    fn update(&mut self, action: Action, entries: &[ListedWorkspace]) -> Option<Outcome> {
        if let Some(error) = name_field::edit_of(&mut self.name, &action, "workspace") {
            self.error = error;
            return Some(Outcome::Stay);
        }
        match action {
            Action::Cancel => return None,
            Action::Submit => {
                let typed = self.name.value();
                self.error = name_field::submit_error_of(typed, "workspace");
                let name = typed.trim();
                // Known here already: say so before asking the store, which refuses it too.
                if self.error.is_none() && entries.iter().any(|w| w.name == name) {
                    self.error = Some(
                        crate::Error::WorkspaceExists {
                            name: crate::text::echo(name, 64),
                        }
                        .to_string(),
                    );
                }
                if self.error.is_none() {
                    return Some(Outcome::Run(Effect::Write(Job::CreateWorkspace(
                        name.to_owned(),
                    ))));
                }
            }
            _ => {}
        }
        Some(Outcome::Stay)
    }
}

/// Where `movement` takes a selection at `index` in a list of `len` rows, `page` to a page.
pub(super) fn moved(index: usize, movement: Movement, len: usize, page: usize) -> usize {
    let last = len.saturating_sub(1);
    match movement {
        Movement::Down => index.saturating_add(1),
        Movement::Up => index.saturating_sub(1),
        Movement::PageDown => index.saturating_add(page.max(1)),
        Movement::PageUp => index.saturating_sub(page.max(1)),
        Movement::Top => 0,
        Movement::Bottom => last,
    }
    .min(last)
}

#[cfg(test)]
mod tests {
    use tui_input::InputRequest;

    use super::*;

    fn entry(name: &str, current: bool) -> ListedWorkspace {
        ListedWorkspace {
            name: name.into(),
            active_keys: 1,
            created_at: None,
            current,
        }
    }

    fn typed(overlay: &mut Workspaces, text: &str) {
        for c in text.chars() {
            overlay.update(Action::Edit(InputRequest::InsertChar(c)), 10);
        }
    }

    #[test]
    fn opens_on_the_current_workspace_and_switches_to_the_selected_one() {
        let mut overlay =
            Workspaces::new(vec![entry("a", false), entry("b", true), entry("c", false)]);
        assert_eq!(overlay.selected, 1);
        assert_eq!(
            overlay.update(Action::Submit, 10),
            Outcome::Close,
            "already there"
        );
        overlay.update(Action::Move(Movement::Down), 10);
        overlay.update(Action::Move(Movement::Down), 10);
        assert_eq!(overlay.selected, 2, "stops at the last");
        assert_eq!(
            overlay.update(Action::Submit, 10),
            Outcome::Run(Effect::SwitchWorkspace("c".into()))
        );
        assert_eq!(overlay.update(Action::Cancel, 10), Outcome::Close);
    }

    #[test]
    fn a_new_name_is_judged_as_a_key_name_is_and_may_not_be_taken() {
        let mut overlay = Workspaces::new(vec![entry("ops", true)]);
        overlay.update(Action::OpenAddKey, 10);
        assert_eq!(overlay.update(Action::Submit, 10), Outcome::Stay);
        let error = overlay.creating.as_ref().unwrap().error.clone().unwrap();
        assert_eq!(error, "The workspace name is empty.");
        typed(&mut overlay, "ops");
        overlay.update(Action::Submit, 10);
        let error = overlay.creating.as_ref().unwrap().error.clone().unwrap();
        assert!(error.contains("already exists"), "{error}");
        overlay.update(Action::Paste("\u{1b}[2J".into()), 10);
        let error = overlay.creating.as_ref().unwrap().error.clone().unwrap();
        assert!(error.contains("control"), "{error}");
        overlay.update(Action::Cancel, 10);
        assert!(overlay.creating.is_none(), "Esc goes back to the list");
        overlay.update(Action::OpenAddKey, 10);
        typed(&mut overlay, " Billing ");
        assert_eq!(
            overlay.update(Action::Submit, 10),
            Outcome::Run(Effect::Write(Job::CreateWorkspace("Billing".into())))
        );
    }
}
