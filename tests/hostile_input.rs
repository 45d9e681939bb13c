//! Hostile input: whatever arrives — on the command line, on stdin, in the search box, or
//! already in the database from another program — hivekeys must not panic, must answer with a
//! clear error, and must never pass a control character or escape sequence through to a
//! terminal, where it could rewrite the screen or smuggle a command into the clipboard.

mod common;

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::path::Path;
use std::process::Output;
use std::sync::Arc;

use common::{
    NASTY, Sandbox, assert_masked_only, checksum, conspicuous_key, hivekeys_on, is_full_key,
    output_text,
};
use hivekeys::clock::ManualClock;
use hivekeys::entropy::SeededEntropy;
use hivekeys::key::{Secret, check_format};
use hivekeys::text::validate_name;
use hivekeys::tui::action::Action;
use hivekeys::tui::app::App;
use hivekeys::tui::clipboard::Osc52Only;
use hivekeys::tui::view::{self, theme::Theme};
use hivekeys::{Environment, Store, StoreOptions};
use proptest::prelude::*;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use tui_input::InputRequest;

/// The binary on `db` in a clean environment, `stdin` fed to it.
fn run(db: &Path, args: &[OsString], stdin: &[u8]) -> Output {
    common::output(hivekeys_on(db, args), Some(stdin))
}

/// No byte a terminal would act on: C0 controls (but newline and tab), DEL and C1 controls.
#[track_caller]
fn assert_terminal_safe(what: &str, bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    if let Some(bad) = text
        .chars()
        .find(|&c| (c.is_control() && c != '\n' && c != '\t') || c == '\u{7f}')
    {
        panic!("{what} carries the control character {bad:?}: {text:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// The command line
// ---------------------------------------------------------------------------------------------

/// The nasty strings an argument vector can carry (the OS cannot pass a NUL).
fn argv_nasty() -> Vec<&'static str> {
    NASTY
        .iter()
        .copied()
        .filter(|s| !s.contains('\0'))
        .collect()
}

fn arbitrary_arg() -> impl Strategy<Value = OsString> {
    prop_oneof![
        // Words the CLI knows, so that parsing gets past the first argument.
        prop::sample::select(vec![
            "list",
            "create",
            "rotate",
            "revoke",
            "show",
            "verify",
            "demo",
            "--name",
            "--env",
            "--json",
            "--yes",
            "--grace",
            "--default",
            "--search",
            "--status",
            "--keys",
            "--seed",
            "--expires-in",
            "--workspace",
            "prod",
            "dev",
            "banana",
            "1h",
            "-1",
            "99999999999999999999",
            "--",
            "-",
        ])
        .prop_map(OsString::from),
        prop::sample::select(argv_nasty()).prop_map(OsString::from),
        "[^\\x00]{0,40}".prop_map(OsString::from),
        // Not UTF-8 at all.
        prop::collection::vec(
            any::<u8>().prop_filter("no NUL in argv", |b| *b != 0),
            0..20
        )
        .prop_map(OsString::from_vec),
        // Long (Linux takes at most 128 KiB in one argument).
        (1usize..100_000).prop_map(|n| OsString::from("x".repeat(n))),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn any_command_line_gets_an_answer_and_never_a_panic(
        args in prop::collection::vec(arbitrary_arg(), 0..6),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("store.db");
        // The dashboard needs a terminal: without one it must refuse, not hang.
        let out = run(&db, &args, b"");
        let code = out.status.code();
        prop_assert!(
            matches!(code, Some(0..=2)),
            "exit {:?} for {:?}: {}", out.status, args, String::from_utf8_lossy(&out.stderr)
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        prop_assert!(!stderr.contains("panicked"), "{}", stderr);
        if code != Some(0) {
            // An error says why on stderr; `verify`'s verdict is its JSON on stdout.
            let said = !stderr.trim().is_empty() || !out.stdout.is_empty();
            prop_assert!(said, "a failure without a word: {:?}", args);
        }
        assert_terminal_safe("stderr", &out.stderr);
        assert_terminal_safe("stdout", &out.stdout);
    }
}

#[test]
fn values_echoed_in_usage_errors_are_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("store.db");
    for nasty in argv_nasty() {
        for args in [
            vec!["list", "--env", nasty],
            vec!["create", "--name", "x", "--env", nasty],
            vec!["rotate", "x", "--grace", nasty],
            vec![nasty],
            vec!["show", nasty],
            vec!["create", "--name", nasty, "--env", "dev"],
        ] {
            let a_valid_name = args[0] == "create" && validate_name(nasty, "key").is_ok();
            let args: Vec<OsString> = args.into_iter().map(OsString::from).collect();
            let out = run(&db, &args, b"");
            if a_valid_name && args[2] == *nasty {
                // Wide characters and emoji make a fine name.
                assert_eq!(out.status.code(), Some(0), "{args:?}");
                continue;
            }
            assert_ne!(out.status.code(), Some(0), "{args:?} succeeded");
            assert!(
                matches!(out.status.code(), Some(1 | 2)),
                "{args:?}: {:?}",
                out.status
            );
            assert_terminal_safe(&format!("stderr of {args:?}"), &out.stderr);
        }
    }
}

/// A fresh store holding one key, "real"; returns its directory, path and full key.
fn store_with_a_key() -> (tempfile::TempDir, std::path::PathBuf, String) {
    let sandbox = Sandbox::new();
    let key = sandbox.create_key("real", "prod");
    (sandbox.dir, sandbox.db, key)
}

// ---------------------------------------------------------------------------------------------
// The dashboard's search box and the library's parsers
// ---------------------------------------------------------------------------------------------

fn render(app: &App) -> String {
    let mut terminal = Terminal::new(TestBackend::new(100, 30)).unwrap();
    terminal
        .draw(|frame| view::render(app, frame, &Theme::PLAIN))
        .unwrap();
    terminal.backend().to_string()
}

fn small_app() -> (App, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.db");
    let clock = Arc::new(ManualClock::new(chrono::Utc::now()));
    let mut store = Store::open_with(
        &path,
        StoreOptions {
            clock,
            entropy: Box::new(SeededEntropy::new(3)),
            ..StoreOptions::default()
        },
    )
    .unwrap();
    store.fill_demo("default", 30, 5).unwrap();
    (
        App::new(store, "default", Box::new(Osc52Only::default())),
        dir,
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn the_search_box_takes_anything_and_draws_nothing_raw(
        typed in prop::collection::vec(
            prop_oneof![
                any::<char>().prop_map(Some),
                prop::sample::select(NASTY.to_vec()).prop_map(|s| s.chars().next()),
                Just(None), // a backspace
            ],
            0..40,
        ),
        pasted in prop::sample::select(NASTY.to_vec()),
    ) {
        let (mut app, _dir) = small_app();
        app.update(Action::StartSearch);
        for c in typed {
            app.update(Action::Edit(match c {
                Some(c) => InputRequest::InsertChar(c),
                None => InputRequest::DeletePrevChar,
            }));
        }
        app.update(Action::Paste(pasted.to_owned()));
        let screen = render(&app);
        assert_terminal_safe("the search screen", screen.as_bytes());
        // The rows shown are those that match, whatever was typed: the search ignores control
        // characters and case, over the name, the masked key and the id.
        let needle = app
            .search
            .value()
            .chars()
            .filter(|c| !c.is_control())
            .collect::<String>()
            .to_lowercase();
        let matching: Vec<u32> = (0..app.keys.len() as u32)
            .filter(|&i| {
                let key = &app.keys.record(i as usize);
                [&key.name, &key.masked_key, &key.id]
                    .iter()
                    .any(|field| field.to_lowercase().contains(&needle))
            })
            .collect();
        prop_assert_eq!(&app.visible, &matching, "searching {:?}", needle);
    }

    #[test]
    fn key_parsing_takes_anything(input in "\\PC{0,80}|fhk_(prod|stg|dev)_[0-9A-Za-z]{0,45}") {
        // Judged against PRODUCT.md's format, written out independently in tests/common:
        // the shape, then the checksum over everything before it.
        let documented = is_full_key(&input)
            && checksum(&input[..input.len() - 6]) == input[input.len() - 6..];
        match check_format(&input) {
            Ok(environment) => {
                prop_assert!(documented, "accepted off the format: {:?}", input);
                let code = format!("fhk_{}_", environment.code());
                prop_assert!(input.starts_with(&code), "{:?} read as {:?}", input, environment);
            }
            Err(err) => {
                prop_assert!(!documented, "refused a well-formed key: {:?} ({})", input, err);
                // A fixed sentence: it never repeats the input, so holds no control character.
                let message = err.to_string();
                prop_assert!(!message.chars().any(char::is_control), "{:?}", message);
            }
        }
    }

    #[test]
    fn names_are_valid_or_refused_in_one_line(input in "\\PC{0,80}|[\\x00-\\x1f\\x7f\\u{80}-\\u{9f}]{1,4}") {
        match validate_name(&input, "key") {
            Ok(name) => {
                // 64 user-perceived characters (graphemes), however many code points.
                let graphemes = unicode_segmentation::UnicodeSegmentation::graphemes(name.as_str(), true).count();
                prop_assert!(!name.is_empty() && graphemes <= 64);
                prop_assert!(!name.chars().any(char::is_control));
            }
            Err(err) => {
                // Whatever the name held, the message about it never carries it raw.
                let message = err.to_string();
                prop_assert!(!message.chars().any(char::is_control), "{:?}", message);
            }
        }
    }
}

#[test]
fn no_debug_output_shows_a_key() {
    let mut entropy = SeededEntropy::new(11);
    for environment in Environment::ALL {
        let secret = Secret::generate(environment, &mut entropy).unwrap();
        let shown = format!("{secret:?} {:?}", Some(&secret));
        assert!(!shown.contains(secret.expose()), "{shown}");
        assert!(!shown.contains(&secret.expose()[9..41]), "{shown}");
    }
}

// ---------------------------------------------------------------------------------------------
// A full key where it does not belong: never stored as a name, never repeated unmasked
// ---------------------------------------------------------------------------------------------

#[test]
fn every_message_shows_a_key_only_in_its_masked_form() {
    let (dir, db, _real_key) = store_with_a_key();
    let key = conspicuous_key();
    let glued = format!("x{key}y");
    let in_proc = format!("/proc/{key}");
    let missing_dir = dir.path().join(format!("gone-{key}")).join("store.db");
    let missing_dir = missing_dir.to_str().unwrap().to_owned();
    let cases: Vec<Vec<&str>> = vec![
        vec![
            "create",
            "--name",
            "x",
            "--env",
            "dev",
            "--expires-in",
            &key,
        ],
        vec![
            "create",
            "--name",
            "x",
            "--env",
            "dev",
            "--expires-in",
            &glued,
        ],
        vec!["rotate", "real", "--yes", "--grace", &key],
        vec!["rotate", "real", "--yes", "--grace", &glued],
        vec!["list", "--env", &key],
        vec!["list", "--env", &glued],
        vec!["create", "--name", "x", "--env", &key],
        vec!["list", "--status", &key],
        vec!["demo", "--keys", &key],
        vec!["show", &glued],
        vec!["revoke", &key, "--yes"],
        vec![&key],
    ];
    let in_other_stores: Vec<(&str, Vec<&str>)> = vec![
        (&in_proc, vec!["list"]),
        (&in_proc, vec!["create", "--name", "x", "--env", "dev"]),
        (&missing_dir, vec!["verify"]),
    ];
    let cases = cases
        .into_iter()
        .map(|args| (db.to_str().unwrap(), args))
        .chain(in_other_stores);
    for (db, args) in cases {
        let input = if args.contains(&"verify") {
            format!("{key}\n").into_bytes()
        } else {
            Vec::new()
        };
        let out = run(
            Path::new(db),
            &args.iter().map(OsString::from).collect::<Vec<_>>(),
            &input,
        );
        let text = output_text(&out);
        assert!(
            matches!(out.status.code(), Some(1 | 2)),
            "{args:?}: {:?} {text}",
            out.status
        );
        assert!(!text.contains(&key[9..20]), "{args:?}: {text}");
        assert_masked_only(&format!("{args:?}"), &text, &key);
    }
    // A path holding a key that the store refuses to open: the path is named, masked.
    let out = run(Path::new(&in_proc), &[OsString::from("list")], b"");
    assert!(
        output_text(&out).contains(&format!("/proc/{}", hivekeys::key::mask(&key))),
        "{}",
        output_text(&out)
    );
}
