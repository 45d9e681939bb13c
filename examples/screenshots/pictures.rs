//! The pictures of the dashboard in `assets/screenshots/`: the app's own rendering
//! (`view::render` into ratatui's `TestBackend`, in colour) of a demo store with a standing
//! clock and seeded entropy, written as SVG. Shared by `cargo run --example screenshots`,
//! which writes the files, and `tests/screenshots.rs`, which fails when they differ from what
//! the code draws now.

use std::sync::Arc;

use chrono::{TimeZone, Utc};
use hivekeys::clock::ManualClock;
use hivekeys::entropy::SeededEntropy;
use hivekeys::tui::app::App;
use hivekeys::tui::clipboard::Osc52Only;
use hivekeys::tui::keymap::{self, Context};
use hivekeys::tui::view::{self, theme::Theme};
use hivekeys::{Store, StoreOptions};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::{Buffer, Cell, CellWidth};
use ratatui::crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use ratatui::style::{Color, Modifier};
use svg::Document;
use svg::Node;
use svg::node::Text as TextNode;
use svg::node::element::{Element, Rectangle};

/// Where the pictures live, relative to the repository.
pub const DIR: &str = "assets/screenshots";

/// The terminal the pictures are drawn in.
const WIDTH: u16 = 120;
const HEIGHT: u16 = 36;

/// One terminal cell in the picture, in pixels, and the font that fills it: a monospace
/// glyph is 0.6 em wide, so 15 px text fills 9 px cells.
const CELL_W: u32 = 9;
const CELL_H: u32 = 18;
const FONT_SIZE: u32 = 15;
const BASELINE: u32 = 14;
const PADDING: u32 = 12;
const FONT: &str = "ui-monospace, SFMono-Regular, Menlo, Consolas, 'DejaVu Sans Mono', \
                    'Liberation Mono', monospace";

/// The terminal's own colours, for `Color::Reset`.
const FOREGROUND: Rgb = Rgb(0xd4, 0xd4, 0xd4);
const BACKGROUND: Rgb = Rgb(0x1e, 0x1e, 0x1e);

/// The 16 ANSI colours (`Color::Black` … `Color::White`, `Color::Indexed(0..16)`), as a
/// common dark terminal theme (VS Code's) shows them.
const ANSI: [Rgb; 16] = [
    Rgb(0x00, 0x00, 0x00),
    Rgb(0xcd, 0x31, 0x31),
    Rgb(0x0d, 0xbc, 0x79),
    Rgb(0xe5, 0xe5, 0x10),
    Rgb(0x24, 0x72, 0xc8),
    Rgb(0xbc, 0x3f, 0xbc),
    Rgb(0x11, 0xa8, 0xcd),
    Rgb(0xe5, 0xe5, 0xe5),
    Rgb(0x66, 0x66, 0x66),
    Rgb(0xf1, 0x4c, 0x4c),
    Rgb(0x23, 0xd1, 0x8b),
    Rgb(0xf5, 0xf5, 0x43),
    Rgb(0x3b, 0x8e, 0xea),
    Rgb(0xd6, 0x70, 0xd6),
    Rgb(0x29, 0xb8, 0xdb),
    Rgb(0xff, 0xff, 0xff),
];

/// Each picture: its file name under [`DIR`] and its SVG text.
pub fn pictures() -> Vec<(&'static str, String)> {
    let mut demo = Demo::new();
    let main = demo.svg();
    // Details: the first key in the table that was rotated and is in use, with its chart.
    let busy = |app: &App| {
        app.focused_key()
            .is_some_and(|key| key.rotated_at.is_some() && key.use_count >= 100)
    };
    for _ in 0..demo.app.visible.len() {
        if busy(&demo.app) {
            break;
        }
        demo.press(KeyCode::Down);
    }
    assert!(busy(&demo.app), "the demo data has no rotated key in use");
    demo.press_into(KeyCode::Enter, Context::Details);
    let details = demo.svg();
    demo.press_into(KeyCode::Esc, Context::Main);
    demo.press(KeyCode::Home);
    demo.press_into(KeyCode::Char('?'), Context::Help);
    let help = demo.svg();
    demo.press_into(KeyCode::Esc, Context::Main);
    // Your New API Key: a key added to the demo workspace, its secret from seeded entropy.
    demo.press_into(KeyCode::Char('a'), Context::AddKey);
    for c in "Demo checkout".chars() {
        demo.press(KeyCode::Char(c));
    }
    demo.press_into(KeyCode::Enter, Context::NewKey);
    let new_key = demo.svg();
    vec![
        ("main.svg", main),
        ("new-key.svg", new_key),
        ("details.svg", details),
        ("help.svg", help),
    ]
}

/// The dashboard on workspace `demo` of a demo store in a temporary directory: 40 keys and a
/// default key, the clock standing at 2026-11-26 12:00 UTC, the secrets from seeded entropy.
struct Demo {
    app: App,
    _dir: tempfile::TempDir,
}

impl Demo {
    fn new() -> Demo {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let clock = Arc::new(ManualClock::new(
            Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0).unwrap(),
        ));
        let options = StoreOptions {
            clock,
            entropy: Box::new(SeededEntropy::new(42)),
            actor: "demo".into(),
            ..StoreOptions::default()
        };
        let mut store =
            Store::open_with(dir.path().join("hivekeys.db"), options).expect("open the store");
        store.fill_demo("demo", 41, 7).expect("fill the demo store");
        let mut app = App::new(store, "demo", Box::new(Osc52Only::default()));
        app.update(hivekeys::tui::action::Action::Resize(WIDTH, HEIGHT));
        Demo { app, _dir: dir }
    }

    /// A key pressed, through the real keymap and update.
    fn press(&mut self, code: KeyCode) {
        let modifiers = match code {
            KeyCode::Char(c) if c.is_uppercase() || c == '?' => KeyModifiers::SHIFT,
            _ => KeyModifiers::NONE,
        };
        let event = Event::Key(KeyEvent::new(code, modifiers));
        if let Some(action) = keymap::action_for(self.app.context(), &event) {
            self.app.update(action);
        }
    }

    /// A key pressed that must leave the app in `context` (a dialog open, or closed).
    fn press_into(&mut self, code: KeyCode, context: Context) {
        self.press(code);
        assert_eq!(self.app.context(), context, "after {code:?}");
    }

    /// The screen as the app draws it in colour, as SVG.
    fn svg(&self) -> String {
        let mut terminal = Terminal::new(TestBackend::new(WIDTH, HEIGHT)).expect("a terminal");
        terminal
            .draw(|frame| view::render(&self.app, frame, &Theme { color: true }))
            .expect("draw");
        to_svg(terminal.backend().buffer())
    }
}

/// A colour as the picture paints it.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Rgb(u8, u8, u8);

impl Rgb {
    fn hex(self) -> String {
        format!("#{:02x}{:02x}{:02x}", self.0, self.1, self.2)
    }

    /// `self` faded towards `under` (a dim cell's text).
    fn fade(self, under: Rgb) -> Rgb {
        let mix = |a: u8, b: u8| ((u16::from(a) * 3 + u16::from(b) * 2) / 5) as u8;
        Rgb(
            mix(self.0, under.0),
            mix(self.1, under.1),
            mix(self.2, under.2),
        )
    }
}

/// `color` as an xterm-like terminal shows it; `None` for the terminal's default.
fn rgb(color: Color) -> Option<Rgb> {
    let ansi = |i: usize| Some(ANSI[i]);
    match color {
        Color::Reset => None,
        Color::Black => ansi(0),
        Color::Red => ansi(1),
        Color::Green => ansi(2),
        Color::Yellow => ansi(3),
        Color::Blue => ansi(4),
        Color::Magenta => ansi(5),
        Color::Cyan => ansi(6),
        Color::Gray => ansi(7),
        Color::DarkGray => ansi(8),
        Color::LightRed => ansi(9),
        Color::LightGreen => ansi(10),
        Color::LightYellow => ansi(11),
        Color::LightBlue => ansi(12),
        Color::LightMagenta => ansi(13),
        Color::LightCyan => ansi(14),
        Color::White => ansi(15),
        Color::Rgb(r, g, b) => Some(Rgb(r, g, b)),
        Color::Indexed(i @ 0..16) => ansi(usize::from(i)),
        Color::Indexed(i @ 16..232) => {
            let level = |n: u8| if n == 0 { 0 } else { 55 + 40 * n };
            let i = i - 16;
            Some(Rgb(level(i / 36), level(i / 6 % 6), level(i % 6)))
        }
        Color::Indexed(i) => {
            let grey = 8 + 10 * (i - 232);
            Some(Rgb(grey, grey, grey))
        }
    }
}

/// How one cell looks: its text colour, its background (`None`: the terminal's), and the
/// emphasis that the font shows.
#[derive(Clone, PartialEq, Eq)]
struct Look {
    fill: Rgb,
    background: Option<Rgb>,
    bold: bool,
    italic: bool,
    underline: bool,
    crossed: bool,
    hidden: bool,
}

fn look(cell: &Cell) -> Look {
    let modifier = cell.modifier;
    let (mut fill, mut background) = (rgb(cell.fg).unwrap_or(FOREGROUND), rgb(cell.bg));
    if modifier.contains(Modifier::REVERSED) {
        let under = background.unwrap_or(BACKGROUND);
        background = Some(fill);
        fill = under;
    }
    if modifier.contains(Modifier::DIM) {
        fill = fill.fade(background.unwrap_or(BACKGROUND));
    }
    Look {
        fill,
        background,
        bold: modifier.contains(Modifier::BOLD),
        italic: modifier.contains(Modifier::ITALIC),
        underline: modifier.contains(Modifier::UNDERLINED),
        crossed: modifier.contains(Modifier::CROSSED_OUT),
        hidden: modifier.contains(Modifier::HIDDEN),
    }
}

/// A run of text on one row in one look: the column of each character, and the text.
struct Run {
    look: Look,
    xs: Vec<u32>,
    text: String,
    /// Nothing more joins it: a blank of another look came after it, or it is a cluster.
    closed: bool,
}

/// `buffer` as an SVG picture: a background, a rectangle for each run of cells with a
/// background of their own, and each run of text in one look as a `<text>` that places
/// every character in its cell (a wide character takes two, and the cell it hides is skipped).
pub fn to_svg(buffer: &Buffer) -> String {
    let width = u32::from(buffer.area.width);
    let height = u32::from(buffer.area.height);
    let mut document = Document::new()
        .set("width", width * CELL_W + 2 * PADDING)
        .set("height", height * CELL_H + 2 * PADDING)
        .set("font-family", FONT)
        .set("font-size", FONT_SIZE)
        .set("xml:space", "preserve")
        .set("style", "white-space: pre")
        .add(
            Rectangle::new()
                .set("width", "100%")
                .set("height", "100%")
                .set("rx", 6)
                .set("fill", BACKGROUND.hex()),
        );
    let cells_per_row = usize::from(buffer.area.width).max(1);
    for (row, cells) in buffer.content.chunks(cells_per_row).enumerate() {
        let row = row as u32;
        let top = PADDING + row * CELL_H;
        // Backgrounds: one rectangle for each run of cells that share one.
        let mut column = 0u32;
        let mut open: Option<(u32, Rgb)> = None;
        let close = |document: Document, open: Option<(u32, Rgb)>, end: u32| match open {
            Some((start, colour)) => document.add(
                Rectangle::new()
                    .set("x", PADDING + start * CELL_W)
                    .set("y", top)
                    .set("width", (end - start) * CELL_W)
                    .set("height", CELL_H)
                    .set("fill", colour.hex()),
            ),
            None => document,
        };
        for cell in cells {
            let background = look(cell).background;
            if open.map(|(_, colour)| colour) != background {
                document = close(document, open, column);
                open = background.map(|colour| (column, colour));
            }
            column += 1;
        }
        document = close(document, open, column);
        // Block elements (the chart's bars, the scrollbar) as rectangles that fill their cell
        // exactly, where a font's glyphs would leave seams between rows.
        for (column, cell) in cells.iter().enumerate() {
            let look = look(cell);
            if let Some(eighths) = lower_eighths(cell.symbol()).filter(|_| !look.hidden) {
                let height = (CELL_H * eighths + 4) / 8;
                document = document.add(
                    Rectangle::new()
                        .set("x", PADDING + column as u32 * CELL_W)
                        .set("y", top + CELL_H - height)
                        .set("width", CELL_W)
                        .set("height", height)
                        .set("fill", look.fill.hex()),
                );
            }
        }

        for run in runs(cells) {
            let xs: Vec<String> = run
                .xs
                .iter()
                .map(|x| (PADDING + x * CELL_W).to_string())
                .collect();
            // A bare element, so that the text sits inline: `svg`'s `Text` puts it between
            // line breaks, which `xml:space="preserve"` would draw as spaces.
            let mut text = Element::new("text");
            text.assign("x", xs.join(" "));
            text.assign("y", top + BASELINE);
            text.assign("fill", run.look.fill.hex());
            if run.look.bold {
                text.assign("font-weight", "bold");
            }
            if run.look.italic {
                text.assign("font-style", "italic");
            }
            let decoration = match (run.look.underline, run.look.crossed) {
                (true, true) => Some("underline line-through"),
                (true, false) => Some("underline"),
                (false, true) => Some("line-through"),
                (false, false) => None,
            };
            if let Some(decoration) = decoration {
                text.assign("text-decoration", decoration);
            }
            text.append(TextNode::new(run.text));
            document = document.add(text);
        }
    }
    let mut out = document.to_string();
    out.push('\n');
    out
}

/// How many eighths of its cell a lower block element fills (`▁` 1 … `█` 8).
fn lower_eighths(symbol: &str) -> Option<u32> {
    let mut chars = symbol.chars();
    match (chars.next(), chars.next()) {
        (Some(c @ '\u{2581}'..='\u{2588}'), None) => Some(u32::from(c) - 0x2580),
        _ => None,
    }
}

/// The text of one row as runs of one look. Blanks inside a run are kept (the words stay
/// apart in the file); blanks at either end and hidden text are not written: every character
/// has its own x, so nothing after them moves.
fn runs(cells: &[Cell]) -> Vec<Run> {
    let mut runs: Vec<Run> = Vec::new();
    let mut blanks: Vec<u32> = Vec::new();
    let mut skip = 0u16;
    for (column, cell) in cells.iter().enumerate() {
        let under_wide = skip > 0;
        skip = skip.max(cell.cell_width()).saturating_sub(1);
        if under_wide {
            continue;
        }
        let x = column as u32;
        let look = look(cell);
        // No control character reaches the picture (XML forbids most of them).
        let symbol: String = cell
            .symbol()
            .chars()
            .map(|c| if c.is_control() { '\u{fffd}' } else { c })
            .collect();
        let open = runs
            .last_mut()
            .filter(|run| !run.closed && run.look == look);
        if lower_eighths(&symbol).is_some() {
            // Drawn as a rectangle: it ends the run.
            blanks.clear();
            if let Some(run) = runs.last_mut() {
                run.closed = true;
            }
            continue;
        }
        if look.hidden || symbol.trim().is_empty() {
            match open {
                Some(_) => blanks.push(x),
                None => {
                    if let Some(run) = runs.last_mut() {
                        run.closed = true;
                    }
                }
            }
            continue;
        }
        // A cell of several characters (a grapheme cluster) stands alone at one x, so that
        // the renderer shapes it as one.
        let cluster = symbol.chars().count() > 1;
        match open {
            Some(run) if !cluster => {
                for blank in blanks.drain(..) {
                    run.xs.push(blank);
                    run.text.push(' ');
                }
                run.xs.push(x);
                run.text.push_str(&symbol);
            }
            _ => {
                blanks.clear();
                if let Some(run) = runs.last_mut() {
                    run.closed = true;
                }
                runs.push(Run {
                    look,
                    xs: vec![x],
                    text: symbol,
                    closed: cluster,
                });
            }
        }
    }
    runs
}
