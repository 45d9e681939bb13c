//! Everything the dashboard can be asked to do. Key presses become actions in the keymap;
//! only `App::update` acts on them.

use tui_input::InputRequest;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Quit,
    /// Move the table selection (or scroll the help overlay).
    Move(Movement),
    /// Move focus between the keys table and the Default API Key panel.
    FocusNext,
    FocusPrevious,
    StartSearch,
    /// `Enter` in the search box: keep the search, leave the box.
    KeepSearch,
    /// `Esc` in the search box: clear the search.
    ClearSearch,
    CycleEnvironmentFilter,
    CycleStatusFilter,
    /// `u`: the next usage filter (all, used in 30 days, unused 30+ days, never used).
    CycleUsageFilter,
    /// `o`: the next order of the table (created, last used, name, uses).
    CycleSort,
    OpenAddKey,
    OpenCreateDefault,
    OpenRotate,
    OpenRevoke,
    /// A click on the table's `n`th row (counted in the rows the search and filters leave).
    SelectRow(usize),
    /// `Space`: mark or unmark the selected row for a bulk revoke.
    ToggleMark,
    OpenLimit,
    OpenRename,
    OpenDetails,
    OpenHelp,
    /// `w`: the workspaces overlay.
    OpenWorkspaces,
    /// `L`: the workspace's audit log.
    OpenAuditLog,
    /// An edit of the focused text field (search box, key name or daily limit).
    Edit(InputRequest),
    /// Text pasted into the focused text field (bracketed paste).
    Paste(String),
    /// Next / previous option of a dialog's choice (environment, grace period).
    ChoiceNext,
    ChoicePrevious,
    /// `Enter` in a dialog: save, create, confirm or close.
    Submit,
    /// `y` in a confirmation.
    Confirm,
    /// `Esc` or `n`: cancel the dialog or answer no.
    Cancel,
    /// `c` in the new-key dialog.
    Copy,
    /// Time passed: refresh relative times, look for changes by other processes.
    Tick,
    /// The background read of the key list may have finished: take its result.
    KeysLoaded,
    /// The background count of the workspaces' active keys may have finished.
    WorkspacesCounted,
    /// A write on the writer thread may have finished: take its answer. The answer itself
    /// (a new key's secret among it) stays out of the action, which is cloned and compared.
    WriteDone,
    /// The terminal is now this many columns and rows: paging, scrolling and which keys
    /// apply follow the size the screen is drawn at.
    Resize(u16, u16),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Movement {
    Down,
    Up,
    PageDown,
    PageUp,
    Top,
    Bottom,
}

/// The option `step` places after `current` in `all`, wrapping around at either end: how the
/// filters and every dialog choice move.
pub(crate) fn cycle<T: Copy + PartialEq>(all: &[T], current: T, step: isize) -> T {
    let index = all.iter().position(|o| *o == current).unwrap_or(0) as isize;
    all[(index + step).rem_euclid(all.len() as isize) as usize]
}
