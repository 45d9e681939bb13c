//! Colours and emphasis. With `NO_COLOR` set, only modifiers remain (bold, dim, reversed),
//! so nothing depends on colour alone: the selected row is also reversed and marked `▶`.

use ratatui::style::{Color, Modifier, Style};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Theme {
    pub color: bool,
}

impl Theme {
    /// Honours `NO_COLOR` (any non-empty value), as https://no-color.org asks.
    pub fn from_env() -> Theme {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Theme { color: !no_color }
    }

    pub const PLAIN: Theme = Theme { color: false };

    fn paint(&self, style: Style, color: Color) -> Style {
        if self.color { style.fg(color) } else { style }
    }

    pub fn title(&self) -> Style {
        self.paint(Style::new().add_modifier(Modifier::BOLD), Color::Cyan)
    }

    pub fn border(&self, focused: bool) -> Style {
        match focused {
            true => self.paint(Style::new().add_modifier(Modifier::BOLD), Color::Cyan),
            false => self.paint(Style::new(), Color::DarkGray),
        }
    }

    pub fn selected(&self) -> Style {
        Style::new().add_modifier(Modifier::REVERSED | Modifier::BOLD)
    }

    pub fn dim(&self) -> Style {
        Style::new().add_modifier(Modifier::DIM)
    }

    pub fn key_hint(&self) -> Style {
        self.paint(Style::new().add_modifier(Modifier::BOLD), Color::Yellow)
    }

    pub fn error(&self) -> Style {
        self.paint(Style::new().add_modifier(Modifier::BOLD), Color::Red)
    }

    pub fn success(&self) -> Style {
        self.paint(Style::new(), Color::Green)
    }

    pub fn warning(&self) -> Style {
        self.paint(Style::new().add_modifier(Modifier::BOLD), Color::Yellow)
    }

    pub fn secret(&self) -> Style {
        self.paint(Style::new().add_modifier(Modifier::BOLD), Color::LightGreen)
    }

    pub fn chip(&self, active: bool) -> Style {
        match active {
            true => self.paint(Style::new().add_modifier(Modifier::BOLD), Color::Cyan),
            false => Style::new(),
        }
    }

    pub fn status(&self, status: crate::environment::Status) -> Style {
        use crate::environment::Status;
        match status {
            Status::Active => self.success(),
            Status::Revoked => self.paint(self.dim(), Color::Red),
            Status::Expired => self.paint(self.dim(), Color::Yellow),
        }
    }
}
