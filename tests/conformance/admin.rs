//! The admin console's store queries and commands, on both backends: the workspaces with
//! their active-key counts, creating a workspace, and a workspace's audit log (newest first,
//! paged, since a time) — through the library and through `hivekeys workspaces` / `log`.

use chrono::TimeDelta;
use hivekeys::clock::Clock;
use hivekeys::store::{AuditAction, AuditQuery, Grace, LoggedEvent};
use hivekeys::text::NameError;
use hivekeys::{Environment, Error, NewKey};
use serde_json::Value;

use crate::Backend;
use crate::cli::Cli;

// ---------------------------------------------------------------------------------------------
// Store

fn actions(events: &[LoggedEvent]) -> Vec<AuditAction> {
    events.iter().map(|e| e.event.action).collect()
}

fn workspaces_are_listed_with_their_active_keys(backend: &Backend) {
    let mut store = backend.open(1);
    assert!(
        store.workspaces().unwrap().is_empty(),
        "a new store has none"
    );
    let new = |name: &str| NewKey::new(name, Environment::Staging);
    store.create_key("beta", new("One")).unwrap();
    let revoked = store.create_key("beta", new("Two")).unwrap().record;
    store.revoke_key("beta", &revoked.id).unwrap();
    let expiring = NewKey {
        expires_at: Some(backend.clock.now() + TimeDelta::minutes(5)),
        ..new("Soon")
    };
    store.create_key("beta", expiring).unwrap();
    store
        .create_default_key("Alpha", Environment::Production)
        .unwrap();
    store.create_key("alpha2", new("Zed")).unwrap();
    let listed = |store: &hivekeys::Store| -> Vec<(String, u64)> {
        store
            .workspaces()
            .unwrap()
            .into_iter()
            .map(|w| (w.name, w.active_keys))
            .collect()
    };
    // By name in any case, the same on both backends whatever the server's collation.
    let expected = |beta: u64| {
        vec![
            ("Alpha".to_owned(), 1),
            ("alpha2".to_owned(), 1),
            ("beta".to_owned(), beta),
        ]
    };
    assert_eq!(listed(&store), expected(2), "revoked keys do not count");
    backend.clock.advance(TimeDelta::minutes(6));
    assert_eq!(listed(&store), expected(1), "expired keys do not count");
}

/// The dashboard's overlay lists the names at once (the workspaces table alone) and counts
/// the keys on a connection of its own, off its thread: the same names, the same counts.
fn workspaces_are_listed_uncounted_and_counted_apart(backend: &Backend) {
    let mut store = backend.open(1);
    assert!(store.stored_workspaces().unwrap().is_empty());
    let new = |name: &str| NewKey::new(name, Environment::Staging);
    store.create_key("beta", new("One")).unwrap();
    store.create_key("beta", new("Two")).unwrap();
    let expiring = NewKey {
        expires_at: Some(backend.clock.now() + TimeDelta::minutes(5)),
        ..new("Soon")
    };
    store.create_key("Alpha", expiring).unwrap();
    store.create_workspace("alpha2").unwrap();
    let names: Vec<String> = store
        .stored_workspaces()
        .unwrap()
        .into_iter()
        .map(|w| w.name)
        .collect();
    assert_eq!(names, ["Alpha", "alpha2", "beta"], "in listing order");
    let counter = store.counter();
    let counted = std::thread::spawn(move || counter.count())
        .join()
        .unwrap()
        .unwrap();
    assert_eq!(counted, store.workspaces().unwrap());
    let counts: Vec<u64> = counted.iter().map(|w| w.active_keys).collect();
    assert_eq!(counts, [1, 0, 2]);
    // The keys active when the count was asked for: the clock moving on meanwhile does not
    // change what it counts.
    let counter = store.counter();
    backend.clock.advance(TimeDelta::minutes(6));
    let counts: Vec<u64> = counter
        .count()
        .unwrap()
        .iter()
        .map(|w| w.active_keys)
        .collect();
    assert_eq!(counts, [1, 0, 2]);
    let counts: Vec<u64> = store
        .counter()
        .count()
        .unwrap()
        .iter()
        .map(|w| w.active_keys)
        .collect();
    assert_eq!(counts, [0, 0, 2], "the expired key no longer counts");
}

fn a_workspace_is_created_once_with_a_valid_name(backend: &Backend) {
    let mut store = backend.open(1);
    let created = store.create_workspace("  Team A ").unwrap();
    assert_eq!(created.name, "Team A");
    assert_eq!(created.active_keys, 0);
    assert_eq!(created.created_at, backend.clock.now());
    let other = backend.open(2);
    assert_eq!(other.workspaces().unwrap(), vec![created.clone()]);
    let before = backend.row_counts();
    let err = store.create_workspace("Team A").unwrap_err();
    assert!(
        matches!(&err, Error::WorkspaceExists { name } if name == "Team A"),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "A workspace named \"Team A\" already exists; choose another name."
    );
    // Names that would list as a second "Team A": zero-width characters, full-width forms.
    for look_alike in [
        "Team\u{200B} A",
        "Team A\u{2060}",
        "\u{FEFF}Team A",
        "Ｔｅａｍ Ａ",
    ] {
        let err = store.create_workspace(look_alike).unwrap_err();
        assert!(
            matches!(&err, Error::WorkspaceExists { name } if name == "Team A"),
            "{look_alike:?}: {err:?}"
        );
    }
    assert_eq!(other.workspaces().unwrap().len(), 1);
    let key = store
        .create_key("Team A", NewKey::new("K", Environment::Staging))
        .unwrap()
        .secret;
    let before_bad = backend.row_counts();
    for (bad, expected) in [
        ("", NameError::Empty("workspace")),
        ("a\nb", NameError::ControlCharacter("workspace")),
        (
            &"x".repeat(65),
            NameError::TooLong {
                what: "workspace",
                chars: 65,
            },
        ),
        (
            key.expose(),
            NameError::ContainsKey {
                what: "workspace",
                masked: key.masked(),
            },
        ),
    ] {
        let err = store.create_workspace(bad).unwrap_err();
        assert!(
            matches!(&err, Error::InvalidName(e) if *e == expected),
            "{bad:?}: {err:?}"
        );
        assert!(!err.to_string().contains(key.expose()));
    }
    assert_eq!(backend.row_counts(), before_bad, "nothing written");
    assert_eq!(before[0], 1);
}

fn the_audit_log_is_the_workspaces_newest_first(backend: &Backend) {
    let mut store = backend.open(1);
    let billing = store
        .create_key("acme", NewKey::new("Billing", Environment::Production))
        .unwrap()
        .record;
    store
        .create_key("other", NewKey::new("Elsewhere", Environment::Staging))
        .unwrap();
    backend.clock.advance(TimeDelta::hours(1));
    store
        .rotate_key("acme", &billing.id, Grace::OneDay)
        .unwrap();
    store.rename_key("acme", &billing.id, "Payments").unwrap();
    store
        .set_daily_limit("acme", &billing.id, Some(5_000))
        .unwrap();
    store.revoke_key("acme", &billing.id).unwrap();
    let log = store.audit_log("acme", &AuditQuery::default()).unwrap();
    assert_eq!(
        actions(&log),
        [
            AuditAction::Revoked,
            AuditAction::LimitChanged,
            AuditAction::Renamed,
            AuditAction::Rotated,
            AuditAction::Created,
        ]
    );
    assert!(log.iter().all(|e| e.key_id == billing.id));
    assert!(log.iter().all(|e| e.key_name == "Payments"), "the name now");
    assert!(log.iter().all(|e| e.event.actor == "alice"));
    assert_eq!(log[2].event.detail.as_deref(), Some("Billing → Payments"));
    let rotation = log[3].event.detail.as_deref().unwrap();
    assert!(rotation.contains("24 hours"), "{rotation}");
    assert!(log.windows(2).all(|w| w[0].seq > w[1].seq));
    // Pages: bounded, and each continues below the last one's oldest.
    let first = AuditQuery {
        limit: Some(2),
        ..AuditQuery::default()
    };
    let page1 = store.audit_log("acme", &first).unwrap();
    let page2 = store
        .audit_log(
            "acme",
            &AuditQuery {
                before: Some(page1[1].seq),
                ..first
            },
        )
        .unwrap();
    assert_eq!(page1, log[..2]);
    assert_eq!(page2, log[2..4]);
    // Since a time: only the last hour's changes.
    let since = AuditQuery {
        since: Some(backend.clock.now() - TimeDelta::minutes(30)),
        ..AuditQuery::default()
    };
    assert_eq!(store.audit_log("acme", &since).unwrap(), log[..4]);
    assert!(
        store
            .audit_log("nobody", &AuditQuery::default())
            .unwrap()
            .is_empty()
    );
}

/// Past 10,000 keys the log is read by walking every event newest first (see
/// `PER_KEY_READ_MAX_KEYS`): the same events, in the same order, page after page, another
/// workspace's interleaved events left out.
fn a_large_workspaces_log_pages_like_a_small_ones(backend: &Backend) {
    let mut store = backend.open(1);
    store.fill_demo("big", 10_001, 3).unwrap();
    let small = store
        .create_key("small", NewKey::new("Small", Environment::Staging))
        .unwrap()
        .record;
    let big_key = store
        .create_key("big", NewKey::new("Late", Environment::Staging))
        .unwrap()
        .record;
    store.revoke_key("small", &small.id).unwrap();
    store.rename_key("big", &big_key.id, "Later").unwrap();
    let page = |before| AuditQuery {
        before,
        limit: Some(1_000),
        ..AuditQuery::default()
    };
    let first = store.audit_log("big", &page(None)).unwrap();
    assert_eq!(first.len(), 1_000);
    assert_eq!(
        (first[0].event.action, first[0].key_name.as_str()),
        (AuditAction::Renamed, "Later")
    );
    assert_eq!(
        first[1].event.action,
        AuditAction::Created,
        "small's revoke skipped"
    );
    let second = store.audit_log("big", &page(Some(first[999].seq))).unwrap();
    assert_eq!(second.len(), 1_000);
    let seqs: Vec<i64> = first.iter().chain(&second).map(|e| e.seq).collect();
    assert!(
        seqs.windows(2).all(|w| w[0] > w[1]),
        "strictly newest first"
    );
    assert!(first.iter().chain(&second).all(|e| e.key_id != small.id));
    let small_log = store.audit_log("small", &page(None)).unwrap();
    assert_eq!(
        actions(&small_log),
        [AuditAction::Revoked, AuditAction::Created]
    );
}

/// The demo writes each key's back-dated history (created, rotated, revoked) at once; the log
/// is read in the order events were logged, so the demo logs them in time order: its log
/// reads newest first, page after page, like a real one.
fn a_demo_workspaces_log_is_newest_first(backend: &Backend) {
    let mut store = backend.open(1);
    let summary = store.fill_demo("demo", 400, 7).unwrap();
    assert!(summary.rotated > 0 && summary.revoked > 0, "{summary:?}");
    let mut log: Vec<LoggedEvent> = Vec::new();
    loop {
        let query = AuditQuery {
            before: log.last().map(|e| e.seq),
            limit: Some(64),
            ..AuditQuery::default()
        };
        let page = store.audit_log("demo", &query).unwrap();
        let full = page.len() == 64;
        log.extend(page);
        if !full {
            break;
        }
    }
    assert_eq!(
        log.len() as u64,
        summary.keys + summary.rotated + summary.revoked,
        "every event, once"
    );
    let times: Vec<_> = log.iter().map(|e| e.event.at).collect();
    if let Some(i) = (1..times.len()).find(|&i| times[i - 1] < times[i]) {
        panic!(
            "event {i} ({}) is newer than the one before it ({})",
            times[i],
            times[i - 1]
        );
    }
    assert!(
        times[0] - times[times.len() - 1] > TimeDelta::days(90),
        "months of history"
    );
    // Each key's oldest event is its creation.
    let mut seen = std::collections::HashSet::new();
    for event in log.iter().rev() {
        if seen.insert(event.key_id.as_str()) {
            assert_eq!(event.event.action, AuditAction::Created, "{event:?}");
        }
    }
    assert_eq!(seen.len() as u64, summary.keys);
}

// ---------------------------------------------------------------------------------------------
// Command line

fn workspaces_command_lists_counts_marks_the_current_and_creates(backend: &Backend) {
    let cli = Cli::new(backend);
    cli.create("Billing", "prod");
    cli.create_with(&[
        "--workspace",
        "ops",
        "create",
        "--name",
        "Gw",
        "--env",
        "stg",
    ]);
    let run = cli.run_ok(&["workspaces", "--json"]);
    run.only_line();
    let Value::Array(rows) = run.json() else {
        panic!("an array: {run:#?}");
    };
    let names: Vec<&str> = rows.iter().map(|w| w["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["default", "ops"]);
    assert_eq!(rows[0]["active_keys"], 1);
    assert_eq!(rows[0]["current"], true);
    assert_eq!(rows[1]["current"], false);
    let mut fields: Vec<&str> = rows[0]
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.as_str())
        .collect();
    fields.sort();
    assert_eq!(fields, ["active_keys", "created_at", "current", "name"]);

    // Another workspace current, one not stored yet: listed, marked, with no creation time.
    let run = cli.run_ok(&["--workspace", "new", "workspaces", "--json"]);
    let rows = run.json();
    assert_eq!(rows[1]["name"], "new");
    assert_eq!(rows[1]["current"], true);
    assert_eq!(rows[1]["created_at"], Value::Null);

    let text = cli.run_ok(&["--workspace", "ops", "workspaces"]).stdout;
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[0].contains("WORKSPACE") && lines[0].contains("ACTIVE KEYS"),
        "{text}"
    );
    assert!(lines[1].starts_with("  default"), "{text}");
    assert!(lines[2].starts_with("* ops"), "{text}");
    assert!(lines[3].starts_with("* current"), "{text}");

    let run = cli.run_ok(&["workspaces", "--create", "Team A"]);
    assert!(
        run.stdout.contains("Created workspace \"Team A\""),
        "{run:#?}"
    );
    let run = cli.run(&["workspaces", "--create", "Team A"]);
    run.one_line_error(1);
    assert!(run.stderr.contains("already exists"), "{run:#?}");
    let run = cli.run(&["workspaces", "--create", ""]);
    run.one_line_error(2);
    let names = cli.run_ok(&["workspaces", "--json"]).json();
    assert_eq!(names.as_array().unwrap().len(), 3);
}

fn log_command_prints_the_workspaces_events_newest_first(backend: &Backend) {
    let cli = Cli::new(backend);
    let key = cli.create("Billing", "prod");
    let id = cli.id_of(&key);
    cli.create_with(&[
        "--workspace",
        "ops",
        "create",
        "--name",
        "Gw",
        "--env",
        "stg",
    ]);
    cli.run_ok(&["rotate", &id, "--grace", "24h", "--yes"]);
    cli.run_ok(&["rename", &id, "--name", "Payments"]);
    let run = cli.run_ok(&["log", "--json"]);
    run.only_line();
    let events = run.json();
    let events = events.as_array().unwrap();
    let actions: Vec<&str> = events
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["renamed", "rotated", "created"]);
    let mut fields: Vec<&str> = events[0]
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.as_str())
        .collect();
    fields.sort();
    assert_eq!(
        fields,
        ["action", "actor", "at", "detail", "key_id", "key_name"]
    );
    assert_eq!(events[0]["detail"], "Billing → Payments");
    assert_eq!(events[0]["key_id"], id.as_str());
    assert_eq!(events[0]["key_name"], "Payments");
    assert_eq!(events[2]["detail"], Value::Null);
    assert!(events[1]["detail"].as_str().unwrap().contains("24 hours"));

    let text = cli.run_ok(&["log"]).stdout;
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(
        lines[0].contains("renamed") && lines[0].contains("(Billing → Payments)"),
        "{text}"
    );
    assert!(
        lines[1].contains("rotated") && lines[1].contains(&id),
        "{text}"
    );
    assert!(
        !text.contains("Gw"),
        "ops's events are not default's: {text}"
    );
    assert!(!text.contains(&key), "no key is ever printed");

    assert_eq!(
        cli.run_ok(&["log", "--since", "1h", "--json"])
            .json()
            .as_array()
            .unwrap()
            .len(),
        3
    );
    let run = cli.run_ok(&["--workspace", "empty", "log"]);
    assert_eq!(run.only_line(), "Workspace \"empty\" has no audit events.");
    assert_eq!(
        cli.run_ok(&["--workspace", "empty", "log", "--json"])
            .stdout,
        "[]\n"
    );
    cli.run(&["log", "--since", "soon"]).clap_error("soon");
}

/// `hivekeys log` after `hivekeys demo`: newest first across the command's pages of 1,000.
fn log_command_after_demo_is_newest_first(backend: &Backend) {
    let cli = Cli::new(backend);
    cli.run_ok(&["demo", "--keys", "1100", "--seed", "3"]);
    let text = cli.run_ok(&["log"]).stdout;
    // Each line starts with its time, "2026-05-14 09:12 UTC": in that format, text order is
    // time order.
    let times: Vec<&str> = text.lines().map(|line| &line[..20]).collect();
    assert!(times.len() > 1_100, "{} lines", times.len());
    if let Some(i) = (1..times.len()).find(|&i| times[i - 1] < times[i]) {
        panic!(
            "line {i} ({}) is newer than the one before it ({})",
            times[i],
            times[i - 1]
        );
    }
    assert!(times[0] > times[times.len() - 1], "months of history");
}

conformance![
    workspaces_are_listed_with_their_active_keys,
    workspaces_are_listed_uncounted_and_counted_apart,
    a_workspace_is_created_once_with_a_valid_name,
    the_audit_log_is_the_workspaces_newest_first,
    a_large_workspaces_log_pages_like_a_small_ones,
    workspaces_command_lists_counts_marks_the_current_and_creates,
    log_command_prints_the_workspaces_events_newest_first,
    a_demo_workspaces_log_is_newest_first,
    log_command_after_demo_is_newest_first,
];
