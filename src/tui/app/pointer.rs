//! What the mouse changes: the App's side of it. Which row or chip a click is on is worked
//! out from the layout in `tui::mouse`; here a click's row is selected.

use super::*;

impl App {
    /// Mouse reporting is wanted, unless "Your New API Key" is open: then the terminal's own
    /// selection must work, so that the admin can copy the key by hand.
    pub fn wants_mouse(&self) -> bool {
        !matches!(self.modal, Some(Modal::NewKey(_)))
    }

    /// A click on the table's `row`th row: it gets the selection, and the table the focus.
    pub(super) fn select_row(&mut self, row: usize) {
        self.focus = Focus::Table;
        self.list.select_row(row);
    }
}
