//! The dashboard at scale: `cargo bench --bench dashboard`.
//!
//! Fills a store with 100,000 demo keys, then measures, in-process with ratatui's
//! `TestBackend` (120×40): start-up to the first complete frame (open the store, load the
//! keys, draw), and the cost of each keystroke — update plus the next frame — while typing a
//! search, deleting it, moving the selection and cycling a filter. Prints medians and p99;
//! asserts nothing about time.

use std::time::{Duration, Instant};

use hivekeys::Store;
use hivekeys::tui::action::{Action, Movement};
use hivekeys::tui::app::App;
use hivekeys::tui::clipboard::Osc52Only;
use hivekeys::tui::view::{render, theme::Theme};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use tui_input::InputRequest;

const KEYS: u64 = 100_000;
const STARTS: usize = 5;

fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("dashboard.db");
    let start = Instant::now();
    Store::open(&path)
        .expect("open")
        .fill_demo("default", KEYS, 7)
        .expect("demo");
    println!(
        "hivekeys dashboard benchmark, {KEYS} keys (filled in {:.1} s)\n",
        start.elapsed().as_secs_f64()
    );

    let mut starts = Vec::new();
    for _ in 0..STARTS {
        let start = Instant::now();
        let (app, mut terminal) = open(&path);
        draw(&app, &mut terminal);
        starts.push(start.elapsed());
    }
    report("start-up to first frame (open, load, draw)", &mut starts);

    let (mut app, mut terminal) = open(&path);
    draw(&app, &mut terminal);
    let mut typing = Vec::new();
    let mut moving = Vec::new();
    let mut filtering = Vec::new();
    for _ in 0..5 {
        app.update(Action::StartSearch);
        for c in "billing worker".chars() {
            typing.push(keystroke(
                &mut app,
                &mut terminal,
                Action::Edit(InputRequest::InsertChar(c)),
            ));
        }
        for _ in 0.."billing worker".len() {
            typing.push(keystroke(
                &mut app,
                &mut terminal,
                Action::Edit(InputRequest::DeletePrevChar),
            ));
        }
        app.update(Action::KeepSearch);
        for _ in 0..20 {
            moving.push(keystroke(
                &mut app,
                &mut terminal,
                Action::Move(Movement::Down),
            ));
            moving.push(keystroke(
                &mut app,
                &mut terminal,
                Action::Move(Movement::PageDown),
            ));
        }
        moving.push(keystroke(
            &mut app,
            &mut terminal,
            Action::Move(Movement::Bottom),
        ));
        moving.push(keystroke(
            &mut app,
            &mut terminal,
            Action::Move(Movement::Top),
        ));
        for _ in 0..4 {
            filtering.push(keystroke(
                &mut app,
                &mut terminal,
                Action::CycleEnvironmentFilter,
            ));
            filtering.push(keystroke(
                &mut app,
                &mut terminal,
                Action::CycleStatusFilter,
            ));
        }
    }
    report("search keystroke (type, then backspace)", &mut typing);
    report("move selection (j, PgDn, G, g)", &mut moving);
    report("cycle a filter (e, s)", &mut filtering);
}

fn open(path: &std::path::Path) -> (App, Terminal<TestBackend>) {
    let store = Store::open(path).expect("open");
    let app = App::new(store, "default", Box::new(Osc52Only::default()));
    let terminal = Terminal::new(TestBackend::new(120, 40)).expect("terminal");
    (app, terminal)
}

fn draw(app: &App, terminal: &mut Terminal<TestBackend>) {
    terminal
        .draw(|frame| render(app, frame, &Theme::PLAIN))
        .expect("draw");
}

fn keystroke(app: &mut App, terminal: &mut Terminal<TestBackend>, action: Action) -> Duration {
    let start = Instant::now();
    app.update(action);
    draw(app, terminal);
    start.elapsed()
}

fn report(label: &str, times: &mut [Duration]) {
    times.sort();
    let at = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize];
    println!(
        "  {label:<44} median {:>8.2} ms   p99 {:>8.2} ms   ({} samples)",
        at(0.5).as_secs_f64() * 1e3,
        at(0.99).as_secs_f64() * 1e3,
        times.len()
    );
}
