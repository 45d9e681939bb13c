//! Hostile input on both backends: names written into the store by another program, keys
//! pasted where they do not belong, garbage on stdin. hivekeys must not panic, must answer with
//! a clear error, and must never pass a control character or a key's secret to a terminal.

use std::ffi::OsString;
use std::process::Output;

use hivekeys::tui::action::Action;
use hivekeys::tui::app::App;
use hivekeys::tui::clipboard::Osc52Only;
use hivekeys::tui::view::{self, theme::Theme};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use crate::Backend;
use crate::cli::Cli;
use crate::common::{NASTY, assert_masked_only, conspicuous_key, output_text};

/// The binary on the backend's store in a clean environment, `stdin` fed to it.
fn run(backend: &Backend, args: &[OsString], stdin: &[u8]) -> Output {
    let mut command = Cli::new(backend).bare_command();
    command.arg("--db").arg(backend.db_arg()).args(args);
    crate::common::output(command, Some(stdin))
}

/// A store holding one key, "real"; returns the full key.
fn store_with_a_key(backend: &Backend) -> String {
    Cli::new(backend).create("real", "prod")
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

fn render(app: &App) -> String {
    let mut terminal = Terminal::new(TestBackend::new(100, 30)).unwrap();
    terminal
        .draw(|frame| view::render(app, frame, &Theme::PLAIN))
        .unwrap();
    terminal.backend().to_string()
}

fn a_key_typed_where_it_does_not_belong_is_not_echoed(backend: &Backend) {
    let key = store_with_a_key(backend);
    for args in [
        vec!["verify", key.as_str()],
        vec!["show", key.as_str()],
        vec!["revoke", key.as_str(), "--yes"],
        vec!["rotate", key.as_str(), "--yes"],
        vec!["list", "--env", key.as_str()],
        vec![key.as_str()],
    ] {
        let out = run(
            backend,
            &args.iter().map(OsString::from).collect::<Vec<_>>(),
            b"",
        );
        assert!(
            matches!(out.status.code(), Some(1 | 2)),
            "{args:?}: {:?}",
            out.status
        );
        for (what, bytes) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
            let text = String::from_utf8_lossy(bytes);
            assert!(
                !text.contains(&key),
                "{what} of {args:?} repeats the key: {text}"
            );
            assert!(!text.contains(&key[9..41]), "{what} of {args:?}: {text}");
        }
    }
}

fn verify_answers_garbage_on_stdin_as_malformed(backend: &Backend) {
    let key = store_with_a_key(backend);
    let inputs: Vec<Vec<u8>> = vec![
        b"\xff\xfe\xfd".to_vec(),
        [key.as_bytes(), b"\0"].concat(),
        [b"\0", key.as_bytes()].concat(),
        format!("\u{1b}[2J{key}").into_bytes(),
        format!("{key}\u{1b}]52;c;AAAA\u{7}").into_bytes(),
        key.replace("_prod_", "_pr\0d_").into_bytes(),
        vec![b'\n'; 10 << 20],
        vec![0; 10 << 20],
        key.repeat(30).into_bytes(),
    ];
    for input in inputs {
        let out = run(backend, &[OsString::from("verify")], &input);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(1), "{stdout}");
        assert_eq!(
            stdout.trim(),
            r#"{"valid":false,"code":"MALFORMED"}"#,
            "input {:?}",
            String::from_utf8_lossy(&input[..input.len().min(60)])
        );
        assert!(!stdout.contains(&key) && !String::from_utf8_lossy(&out.stderr).contains(&key));
    }
}

fn names_written_by_another_program_cannot_reach_a_terminal_raw(backend: &Backend) {
    let out = run(backend, &["demo", "--keys", "3"].map(OsString::from), b"");
    assert!(out.status.success());
    // Another program writes names no hivekeys command would accept.
    let mut conn = backend.raw();
    let ids = conn.texts("SELECT public_id FROM keys ORDER BY id");
    for (id, nasty) in ids.iter().zip(NASTY) {
        conn.execute(
            "UPDATE keys SET name = $1 WHERE public_id = $2",
            &[nasty, id.as_str()],
        );
    }
    conn.execute(
        "INSERT INTO audit_events (key_id, at, action, actor, detail) \
         SELECT id, 1, 'rotated', $1, $2 FROM keys LIMIT 1",
        &["\u{1b}[31mmallory", "\u{1b}]52;c;AAAA\u{7}"],
    );
    drop(conn);

    let out = run(backend, &[OsString::from("list")], b"");
    assert!(out.status.success());
    assert_terminal_safe("list", &out.stdout);
    // JSON escapes them (\u001b), which is safe to print and loses nothing.
    let out = run(backend, &["list", "--json"].map(OsString::from), b"");
    assert!(out.status.success());
    assert_terminal_safe("list --json", &out.stdout);
    let listed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let names: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&NASTY[0]),
        "the JSON must carry the name exactly"
    );
    for id in &ids {
        let out = run(backend, &["show", id.as_str()].map(OsString::from), b"");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_terminal_safe("show", &out.stdout);
    }

    // The dashboard: every screen drawn from that store.
    let store = backend.open(1);
    let mut app = App::new(store, "default", Box::new(Osc52Only::default()));
    let mut screens = vec![render(&app)];
    for _ in 0..ids.len() {
        app.update(Action::OpenDetails);
        screens.push(render(&app));
        app.update(Action::Cancel);
        app.update(Action::Move(hivekeys::tui::action::Movement::Down));
        screens.push(render(&app));
    }
    for screen in screens {
        assert_terminal_safe("the dashboard", screen.as_bytes());
    }
}

fn a_key_given_as_a_name_or_workspace_is_refused_showing_only_its_masked_form(backend: &Backend) {
    let real_key = store_with_a_key(backend);
    let key = conspicuous_key();
    let masked = hivekeys::key::mask(&key);
    let before = (backend.row_counts(), Cli::new(backend).snapshot());
    let named = |name: &str| {
        vec!["create", "--name", name, "--env", "prod"]
            .into_iter()
            .map(String::from)
            .collect::<Vec<_>>()
    };
    let with_space = format!("  {key} ");
    let in_sentence = format!("my key is {key}");
    let glued = format!("x{key}y");
    let mut cases: Vec<Vec<String>> = vec![
        named(&key),
        named(&with_space),
        named(&in_sentence),
        named(&glued),
        // The one that was really issued: a name must not hold a live key either.
        named(&real_key),
    ];
    for workspace in [&key, &in_sentence] {
        for command in [
            &["create", "--name", "x", "--env", "dev"][..],
            &["create", "--default"][..],
            &["list"][..],
            &["demo", "--keys", "2"][..],
            &["show", "x"][..],
        ] {
            let mut args = vec!["--workspace".to_owned(), workspace.clone()];
            args.extend(command.iter().map(|s| s.to_string()));
            cases.push(args);
        }
    }
    for args in &cases {
        let out = run(
            backend,
            &args.iter().map(OsString::from).collect::<Vec<_>>(),
            b"",
        );
        let text = output_text(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {text}");
        assert!(out.stdout.is_empty(), "{args:?}: {text}");
        assert_eq!(text.lines().count(), 1, "{args:?}: one sentence: {text}");
        let shown_key = if args.iter().any(|a| a.contains(&real_key)) {
            &real_key
        } else {
            &key
        };
        assert!(
            text.contains(&hivekeys::key::mask(shown_key)),
            "{args:?}: the message names the masked key: {text}"
        );
        assert!(!text.contains(shown_key.as_str()), "{args:?}: {text}");
        assert!(!text.contains(&shown_key[9..41]), "{args:?}: {text}");
        assert_masked_only(&format!("{args:?}"), &text, shown_key);
    }
    // The same through the environment variable.
    let out = Cli::new(backend)
        .cmd(&["create", "--name", "x", "--env", "dev"])
        .env("HIVEKEYS_WORKSPACE", &key)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(output_text(&out).contains(&masked), "{}", output_text(&out));
    assert_masked_only("HIVEKEYS_WORKSPACE", &output_text(&out), &key);

    // Nothing was written: no key in the file, the file as it was.
    assert_eq!((backend.row_counts(), Cli::new(backend).snapshot()), before);
}

fn json_output_escapes_c1_controls_written_by_another_program(backend: &Backend) {
    let key = store_with_a_key(backend);
    let name = "csi\u{9b}31m next\u{85}line del\u{7f} bidi\u{202e}";
    let mut conn = backend.raw();
    conn.execute("UPDATE keys SET name = $1", &[name]);
    conn.execute("UPDATE workspaces SET name = $1", &["ws\u{9b}2J"]);
    drop(conn);
    let id_out = run(
        backend,
        &["--workspace", "ws\u{9b}2J", "list", "--json"].map(OsString::from),
        b"",
    );
    // The workspace name itself is refused on the command line (a control character), so
    // list through verify and show by id instead.
    assert_ne!(id_out.status.code(), Some(0));
    let verified = run(backend, &[OsString::from("verify")], key.as_bytes());
    assert_eq!(
        verified.status.code(),
        Some(0),
        "{}",
        output_text(&verified)
    );
    let verdict: serde_json::Value = serde_json::from_slice(&verified.stdout).unwrap();
    assert_eq!(verdict["name"], name, "the JSON carries the name exactly");
    assert_eq!(verdict["workspace"], "ws\u{9b}2J");
    let id = verdict["id"].as_str().unwrap().to_owned();
    backend
        .raw()
        .execute("UPDATE workspaces SET name = 'default'", &[]);
    let outputs = [
        verified.stdout.clone(),
        run(backend, &["list", "--json"].map(OsString::from), b"").stdout,
        run(
            backend,
            &["show", id.as_str(), "--json"].map(OsString::from),
            b"",
        )
        .stdout,
    ];
    for stdout in outputs {
        assert_terminal_safe("JSON output", &stdout);
        let text = String::from_utf8(stdout).unwrap();
        assert!(
            text.contains("\\u009b") && text.contains("\\u0085"),
            "{text}"
        );
        assert!(
            text.contains(
                name.escape_default()
                    .to_string()
                    .split('\\')
                    .next()
                    .unwrap()
            )
        );
        let parsed: serde_json::Value = serde_json::from_str(&text).unwrap();
        let first = if parsed.is_array() {
            &parsed[0]
        } else {
            &parsed
        };
        assert_eq!(first["name"], name, "{text}");
    }
}

conformance![
    a_key_typed_where_it_does_not_belong_is_not_echoed,
    verify_answers_garbage_on_stdin_as_malformed,
    names_written_by_another_program_cannot_reach_a_terminal_raw,
    a_key_given_as_a_name_or_workspace_is_refused_showing_only_its_masked_form,
    json_output_escapes_c1_controls_written_by_another_program,
];
