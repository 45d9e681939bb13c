//! The workspaces overlay (`w`): the store's workspaces with their active keys, the current
//! one marked. `Enter` switches the dashboard to the selected one; `a` asks for a new
//! workspace's name, judged as a key's name is, in the same overlay.

use std::collections::HashMap;

use tui_input::Input;

use super::{Effect, Job, Outcome, name_field};
use crate::store::{ListedWorkspace, WorkspaceSummary};
use crate::tui::action::{Action, Movement};

pub struct Workspaces {
    /// Their `active_keys` are `None` until [`Workspaces::counted`].
    pub entries: Vec<ListedWorkspace>,
    pub counts: Counts,
    /// Index into `entries`.
    pub selected: usize,
    /// `a` was pressed: the new workspace's name being typed.
    pub creating: Option<NewWorkspace>,
}

/// The workspaces' active keys: counted apart from the names, which show at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Counts {
    Counting,
    /// By workspace name.
    Counted(HashMap<String, u64>),
    /// The count failed (the notice said why): the list stays usable without it.
    Failed,
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
        let mut overlay = Workspaces {
            entries,
            counts: Counts::Counting,
            selected,
            creating: None,
        };
        overlay.show_counts();
        overlay
    }

    /// The count landed: every workspace shows its active keys.
    pub fn counted(&mut self, counts: Vec<WorkspaceSummary>) {
        let counts = counts.into_iter().map(|w| (w.name, w.active_keys));
        self.counts = Counts::Counted(counts.collect());
        self.show_counts();
    }

    pub fn count_failed(&mut self) {
        self.counts = Counts::Failed;
    }

    /// Puts the counts, once known, on the entries. A workspace the count missed (the
    /// current one while nothing is stored in it, one created since the count began) holds no
    /// key yet: 0.
    fn show_counts(&mut self) {
        if let Counts::Counted(counts) = &self.counts {
            for entry in &mut self.entries {
                entry.active_keys = Some(counts.get(&entry.name).copied().unwrap_or(0));
            }
        }
    }

    /// The list read again (after a create): the selection goes to `name` when it is there.
    pub fn relist(&mut self, entries: Vec<ListedWorkspace>, name: &str) {
        self.selected = entries
            .iter()
            .position(|w| w.name == name)
            .unwrap_or(self.selected.min(entries.len().saturating_sub(1)));
        self.entries = entries;
        self.show_counts();
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
            active_keys: Some(1),
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

    fn uncounted(name: &str, current: bool) -> ListedWorkspace {
        ListedWorkspace {
            active_keys: None,
            ..entry(name, current)
        }
    }

    fn counts(overlay: &Workspaces) -> Vec<Option<u64>> {
        overlay.entries.iter().map(|w| w.active_keys).collect()
    }

    #[test]
    fn counts_land_on_the_names_listed_and_on_those_listed_later() {
        let mut overlay = Workspaces::new(vec![uncounted("a", true), uncounted("b", false)]);
        assert_eq!(overlay.counts, Counts::Counting);
        let summary = |name: &str, active_keys| WorkspaceSummary {
            name: name.into(),
            created_at: chrono::DateTime::UNIX_EPOCH,
            active_keys,
        };
        overlay.counted(vec![summary("b", 7)]);
        assert_eq!(
            counts(&overlay),
            [Some(0), Some(7)],
            "a: nothing stored yet"
        );
        // Created after the count began: listed, and empty.
        overlay.relist(
            vec![
                uncounted("a", true),
                uncounted("b", false),
                uncounted("c", false),
            ],
            "c",
        );
        assert_eq!(counts(&overlay), [Some(0), Some(7), Some(0)]);
        assert_eq!(overlay.selected, 2);
    }

    #[test]
    fn a_failed_count_leaves_the_list_usable() {
        let mut overlay = Workspaces::new(vec![uncounted("a", true), uncounted("b", false)]);
        overlay.count_failed();
        assert_eq!(overlay.counts, Counts::Failed);
        assert_eq!(counts(&overlay), [None, None]);
        overlay.update(Action::Move(Movement::Down), 10);
        assert_eq!(
            overlay.update(Action::Submit, 10),
            Outcome::Run(Effect::SwitchWorkspace("b".into()))
        );
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
