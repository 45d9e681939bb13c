//! Entering and leaving the terminal's full-screen mode. Whatever happens — quit, error or
//! panic — the terminal is handed back as it was found: main screen, cooked mode, cursor
//! shown, bracketed paste and mouse reporting off.

use std::io::{self, Write};
use std::mem::ManuallyDrop;
use std::sync::Once;
use std::sync::atomic::{AtomicBool, Ordering};

use ratatui::Terminal;
use ratatui::backend::{ClearType, CrosstermBackend, WindowSize};
use ratatui::buffer::Cell;
use ratatui::crossterm::event::{DisableBracketedPaste, EnableBracketedPaste};
use ratatui::crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use ratatui::crossterm::{cursor, execute};
use ratatui::layout::{Position, Size};
use ratatui::style::{Color, Modifier};

pub type Backend = AnsiBackend<io::Stdout>;

/// Restores the terminal when dropped.
pub struct TerminalGuard {
    /// Never dropped: ratatui's `Terminal` shows the cursor on drop and reports a failure with
    /// `eprintln!`, which panics when stderr is a terminal that went away. [`restore`] shows the
    /// cursor instead, and ignores a terminal that is gone.
    pub terminal: ManuallyDrop<Terminal<Backend>>,
}

impl TerminalGuard {
    pub fn enter() -> io::Result<TerminalGuard> {
        install_panic_hook();
        ENTERED.store(true, Ordering::SeqCst);
        enable_raw_mode()?;
        let entered = execute!(io::stdout(), EnterAlternateScreen, EnableBracketedPaste)
            .and_then(|()| Terminal::new(AnsiBackend::new(io::stdout())));
        match entered {
            Ok(terminal) => Ok(TerminalGuard {
                terminal: ManuallyDrop::new(terminal),
            }),
            Err(err) => {
                restore();
                Err(err)
            }
        }
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore();
    }
}

/// Whether mouse reporting is on now: [`restore`] turns it off only then, so a dashboard run
/// with `--no-mouse` never sends a mouse sequence at all. Global, like the terminal itself:
/// the panic hook and the signal thread restore it too.
static MOUSE_ON: AtomicBool = AtomicBool::new(false);

/// Button presses and releases, the wheel among them (1000), reported in SGR form (1006:
/// any column, unambiguous press and release). Not crossterm's `EnableMouseCapture`, which
/// also asks for every motion of the pointer (1003): a flood of events the dashboard has no
/// use for, each one a redraw.
const MOUSE_ON_SEQUENCE: &str = "\x1b[?1000h\x1b[?1006h";
const MOUSE_OFF_SEQUENCE: &str = "\x1b[?1006l\x1b[?1000l";

/// Turns mouse reporting on or off, when that changes anything. Off while "Your New API Key"
/// is open, so the admin can select the key with the mouse as in any terminal text.
pub fn set_mouse(on: bool) -> io::Result<()> {
    if MOUSE_ON.swap(on, Ordering::SeqCst) == on {
        return Ok(());
    }
    let mut out = io::stdout();
    out.write_all(
        match on {
            true => MOUSE_ON_SEQUENCE,
            false => MOUSE_OFF_SEQUENCE,
        }
        .as_bytes(),
    )?;
    out.flush()
}

/// Whether the terminal is in the dashboard's modes, so that [`restore`] puts it back once.
/// A second "leave the alternate screen" is not harmless: terminals (tmux, xterm) restore the
/// cursor saved on entering, so after a panic the guard's drop during unwinding moved the
/// cursor back over the hook's message, and the shell's prompt overwrote it.
static ENTERED: AtomicBool = AtomicBool::new(false);

/// Puts the terminal back, once: later calls (the guard's drop after the panic hook or the
/// signal thread) do nothing.
pub fn restore() {
    if !ENTERED.swap(false, Ordering::SeqCst) {
        return;
    }
    let mut out = io::stdout();
    if MOUSE_ON.swap(false, Ordering::SeqCst) {
        let _ = out.write_all(MOUSE_OFF_SEQUENCE.as_bytes());
    }
    let _ = execute!(
        out,
        DisableBracketedPaste,
        LeaveAlternateScreen,
        cursor::Show
    );
    let _ = disable_raw_mode();
    let _ = out.flush();
}

/// A panic restores the terminal before its message is printed, so the message is readable
/// and the shell usable.
fn install_panic_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            restore();
            previous(info);
        }));
    });
}

/// crossterm's backend, except that cells are drawn with the terminal's named colours: the
/// basic sixteen as SGR 30–37 / 90–97 (backgrounds 40–47 / 100–107), which terminal themes
/// remap, where crossterm sends every colour as a 256-colour index (`38;5;N`) that many
/// themes leave alone. Only indexed and RGB colours, which the dashboard does not use, keep
/// their extended form. Everything but drawing is crossterm's.
pub struct AnsiBackend<W: Write> {
    inner: CrosstermBackend<W>,
}

impl<W: Write> AnsiBackend<W> {
    pub fn new(writer: W) -> AnsiBackend<W> {
        AnsiBackend {
            inner: CrosstermBackend::new(writer),
        }
    }
}

/// The SGR parameters that set `color` as a foreground (`base` 30) or background (`base` 40)
/// colour, after a reset to the defaults: nothing for the default colour.
fn color_sgr(color: Color, base: u8, out: &mut String) {
    use std::fmt::Write as _;
    let named = |n: u8| Some(base + n);
    let bright = |n: u8| Some(base + 60 + n);
    let code = match color {
        Color::Reset => None,
        Color::Black => named(0),
        Color::Red => named(1),
        Color::Green => named(2),
        Color::Yellow => named(3),
        Color::Blue => named(4),
        Color::Magenta => named(5),
        Color::Cyan => named(6),
        Color::Gray => named(7),
        Color::DarkGray => bright(0),
        Color::LightRed => bright(1),
        Color::LightGreen => bright(2),
        Color::LightYellow => bright(3),
        Color::LightBlue => bright(4),
        Color::LightMagenta => bright(5),
        Color::LightCyan => bright(6),
        Color::White => bright(7),
        Color::Indexed(n) => {
            let _ = write!(out, ";{};5;{n}", base + 8);
            None
        }
        Color::Rgb(r, g, b) => {
            let _ = write!(out, ";{};2;{r};{g};{b}", base + 8);
            None
        }
    };
    if let Some(code) = code {
        let _ = write!(out, ";{code}");
    }
}

/// The whole SGR sequence for a cell's style: a reset, then its modifiers and colours. A
/// full reset each time the style changes costs a few bytes and cannot leave an attribute
/// of the previous style behind.
fn style_sgr(cell: &Cell) -> String {
    use std::fmt::Write as _;
    const MODIFIERS: [(Modifier, u8); 9] = [
        (Modifier::BOLD, 1),
        (Modifier::DIM, 2),
        (Modifier::ITALIC, 3),
        (Modifier::UNDERLINED, 4),
        (Modifier::SLOW_BLINK, 5),
        (Modifier::RAPID_BLINK, 6),
        (Modifier::REVERSED, 7),
        (Modifier::HIDDEN, 8),
        (Modifier::CROSSED_OUT, 9),
    ];
    let mut sgr = String::from("\x1b[0");
    for (modifier, code) in MODIFIERS {
        if cell.modifier.contains(modifier) {
            let _ = write!(sgr, ";{code}");
        }
    }
    color_sgr(cell.fg, 30, &mut sgr);
    color_sgr(cell.bg, 40, &mut sgr);
    sgr.push('m');
    sgr
}

impl<W: Write> ratatui::backend::Backend for AnsiBackend<W> {
    type Error = io::Error;

    fn draw<'a, I>(&mut self, content: I) -> io::Result<()>
    where
        I: Iterator<Item = (u16, u16, &'a Cell)>,
    {
        use ratatui::crossterm::cursor::MoveTo;
        use ratatui::crossterm::queue;
        let mut style: Option<(Color, Color, Modifier)> = None;
        let mut last: Option<(u16, u16)> = None;
        for (x, y, cell) in content {
            // Move the cursor unless the previous cell drawn was just left of this one.
            if !matches!(last, Some((px, py)) if x == px + 1 && y == py) {
                queue!(self.inner, MoveTo(x, y))?;
            }
            last = Some((x, y));
            let wanted = (cell.fg, cell.bg, cell.modifier);
            if style != Some(wanted) {
                self.inner.write_all(style_sgr(cell).as_bytes())?;
                style = Some(wanted);
            }
            self.inner.write_all(cell.symbol().as_bytes())?;
        }
        self.inner.write_all(b"\x1b[0m")
    }

    fn append_lines(&mut self, n: u16) -> io::Result<()> {
        self.inner.append_lines(n)
    }

    fn hide_cursor(&mut self) -> io::Result<()> {
        self.inner.hide_cursor()
    }

    fn show_cursor(&mut self) -> io::Result<()> {
        self.inner.show_cursor()
    }

    fn get_cursor_position(&mut self) -> io::Result<Position> {
        self.inner.get_cursor_position()
    }

    fn set_cursor_position<P: Into<Position>>(&mut self, position: P) -> io::Result<()> {
        self.inner.set_cursor_position(position)
    }

    fn clear(&mut self) -> io::Result<()> {
        self.inner.clear()
    }

    fn clear_region(&mut self, clear_type: ClearType) -> io::Result<()> {
        self.inner.clear_region(clear_type)
    }

    fn size(&self) -> io::Result<Size> {
        self.inner.size()
    }

    fn window_size(&mut self) -> io::Result<WindowSize> {
        self.inner.window_size()
    }

    fn flush(&mut self) -> io::Result<()> {
        ratatui::backend::Backend::flush(&mut self.inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::backend::Backend as _;
    use ratatui::style::Style;

    /// A writer the test can read after the backend wrote to it.
    #[derive(Clone, Default)]
    struct Shared(std::rc::Rc<std::cell::RefCell<Vec<u8>>>);

    impl Write for Shared {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.borrow_mut().extend_from_slice(buf);
            Ok(buf.len())
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn drawn(style: Style) -> String {
        let out = Shared::default();
        let mut backend = AnsiBackend::new(out.clone());
        let mut cell = Cell::new("x");
        cell.set_style(style);
        backend.draw([(0, 0, &cell)].into_iter()).unwrap();
        ratatui::backend::Backend::flush(&mut backend).unwrap();
        String::from_utf8(out.0.borrow().clone()).unwrap()
    }

    #[test]
    fn the_basic_colours_are_sent_as_named_colours() {
        for (color, fg, bg) in [
            (Color::Red, "31", "41"),
            (Color::Cyan, "36", "46"),
            (Color::Gray, "37", "47"),
            (Color::DarkGray, "90", "100"),
            (Color::LightGreen, "92", "102"),
            (Color::White, "97", "107"),
        ] {
            let out = drawn(Style::new().fg(color).bg(color));
            assert!(
                out.contains(&format!("\x1b[0;{fg};{bg}mx")),
                "{color:?}: {out:?}"
            );
            assert!(!out.contains("38;5") && !out.contains("48;5"), "{out:?}");
        }
        let out = drawn(
            Style::new()
                .fg(Color::Yellow)
                .add_modifier(Modifier::BOLD | Modifier::DIM),
        );
        assert!(out.contains("\x1b[0;1;2;33mx"), "{out:?}");
        assert!(out.ends_with("\x1b[0m"), "{out:?}");
        assert!(drawn(Style::new().fg(Color::Indexed(200))).contains(";38;5;200m"));
    }
}
