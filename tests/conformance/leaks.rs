//! Leaked secrets, on both backends: what the store says of a batch of digests a scan found
//! (live, revoked, expired, unknown), in input order, across workspaces.

use chrono::TimeDelta;
use hivekeys::key::KeyHash;
use hivekeys::store::{
    AuditAction, FoundKey, Grace, InvalidReason, KeyLeak, LeakSighting, LeakState, Verification,
};
use hivekeys::{Environment, NewKey, Secret, Store};

use crate::cli::Cli;
use crate::{Backend, t0};

fn seen(secret: &Secret, location: &str) -> LeakSighting {
    LeakSighting {
        hash: secret.hash(),
        location: location.to_owned(),
    }
}

fn leaked(store: &Store, workspace: &str, id: &str) -> bool {
    store
        .get_key(workspace, id)
        .unwrap()
        .is_leaked_at(store.now())
}

fn places(leaks: &[KeyLeak]) -> Vec<&str> {
    leaks.iter().map(|leak| leak.location.as_str()).collect()
}

/// Every state a found secret can be in, each once, and in input order whatever the store's
/// order: live (current secret), live (rotated away, within its grace), revoked, expired
/// (key past its expiry), expired (rotated away without grace), unknown, another workspace's
/// live key, and a repeat.
pub fn find_keys_by_hash_answers_each_state_in_input_order(backend: &Backend) {
    let mut store = backend.open(1);
    let live = store
        .create_key("acme", NewKey::new("live", Environment::Production))
        .unwrap();
    let graced = store
        .create_key("acme", NewKey::new("graced", Environment::Staging))
        .unwrap();
    let graced_new = store
        .rotate_key("acme", &graced.record.id, Grace::OneHour)
        .unwrap();
    let revoked = store
        .create_key("acme", NewKey::new("revoked", Environment::Production))
        .unwrap();
    store.revoke_key("acme", &revoked.record.id).unwrap();
    let expiring = store
        .create_key(
            "acme",
            NewKey {
                expires_at: Some(t0() + TimeDelta::minutes(10)),
                ..NewKey::new("expiring", Environment::Development)
            },
        )
        .unwrap();
    let rotated = store
        .create_key("acme", NewKey::new("rotated", Environment::Production))
        .unwrap();
    store
        .rotate_key("acme", &rotated.record.id, Grace::None)
        .unwrap();
    let elsewhere = store
        .create_key("beta", NewKey::new("elsewhere", Environment::Production))
        .unwrap();
    backend.clock.advance(TimeDelta::minutes(30));

    let unknown = KeyHash::of("fhk_not_a_key_this_store_ever_issued");
    let hashes = [
        unknown,
        elsewhere.secret.hash(),
        live.secret.hash(),
        graced.secret.hash(),
        graced_new.secret.hash(),
        revoked.secret.hash(),
        expiring.secret.hash(),
        rotated.secret.hash(),
        live.secret.hash(),
    ];
    let found = store.find_keys_by_hash(&hashes).unwrap();
    let summary: Vec<Option<(&str, &str, LeakState)>> = found
        .iter()
        .map(|key| {
            key.as_ref()
                .map(|k| (k.name.as_str(), k.workspace.as_str(), k.state))
        })
        .collect();
    assert_eq!(
        summary,
        [
            None,
            Some(("elsewhere", "beta", LeakState::Live)),
            Some(("live", "acme", LeakState::Live)),
            Some(("graced", "acme", LeakState::Live)),
            Some(("graced", "acme", LeakState::Live)),
            Some(("revoked", "acme", LeakState::Revoked)),
            Some(("expiring", "acme", LeakState::Expired)),
            Some(("rotated", "acme", LeakState::Expired)),
            Some(("live", "acme", LeakState::Live)),
        ]
    );
    let first_live: &FoundKey = found[2].as_ref().unwrap();
    assert_eq!(first_live.public_id, live.record.id);
    assert_eq!(first_live.masked, live.record.masked_key);

    // The grace ends: the old secret of the graced key is expired, its new one still live.
    backend.clock.advance(TimeDelta::hours(1));
    let found = store
        .find_keys_by_hash(&[graced.secret.hash(), graced_new.secret.hash()])
        .unwrap();
    let states: Vec<_> = found.iter().map(|k| k.as_ref().unwrap().state).collect();
    assert_eq!(states, [LeakState::Expired, LeakState::Live]);

    // Agrees with verify on every one of them: live exactly when verify accepts.
    for (hash, key) in [
        (live.secret.hash(), &live.secret),
        (revoked.secret.hash(), &revoked.secret),
        (rotated.secret.hash(), &rotated.secret),
    ] {
        let state = store.find_keys_by_hash(&[hash]).unwrap()[0]
            .as_ref()
            .unwrap()
            .state;
        let accepted = matches!(
            store.verify(key.expose()).unwrap(),
            hivekeys::store::Verification::Valid(_)
        );
        assert_eq!(state == LeakState::Live, accepted, "{state:?}");
    }
}

/// More digests than one statement takes (SQLite's parameter limit is 32,766, a chunk 512):
/// every one answered, in order, the known ones among thousands of unknown ones.
pub fn find_keys_by_hash_answers_batches_larger_than_a_statement(backend: &Backend) {
    let mut store = backend.open(2);
    let keys: Vec<_> = (0..3)
        .map(|i| {
            store
                .create_key("acme", NewKey::new(format!("k{i}"), Environment::Staging))
                .unwrap()
        })
        .collect();
    let mut hashes: Vec<KeyHash> = (0..40_000)
        .map(|i| KeyHash::of(&format!("unknown-{i}")))
        .collect();
    hashes[0] = keys[0].secret.hash();
    hashes[20_001] = keys[1].secret.hash();
    hashes[39_999] = keys[2].secret.hash();
    let found = store.find_keys_by_hash(&hashes).unwrap();
    assert_eq!(found.len(), hashes.len());
    let known: Vec<(usize, String)> = found
        .iter()
        .enumerate()
        .filter_map(|(i, key)| key.as_ref().map(|k| (i, k.name.clone())))
        .collect();
    assert_eq!(
        known,
        [
            (0, "k0".to_owned()),
            (20_001, "k1".to_owned()),
            (39_999, "k2".to_owned())
        ]
    );
    assert!(store.find_keys_by_hash(&[]).unwrap().is_empty());
}

/// Looking up leaks is a read: no use counted, no audit event, the keys' version unmoved.
pub fn find_keys_by_hash_writes_nothing(backend: &Backend) {
    let mut store = backend.open(3);
    let key = store
        .create_key("acme", NewKey::new("k", Environment::Production))
        .unwrap();
    store.flush_usage().unwrap();
    let before = (backend.row_counts(), store.keys_version().unwrap());
    store.find_keys_by_hash(&[key.secret.hash()]).unwrap();
    store.flush_usage().unwrap();
    assert_eq!(
        (backend.row_counts(), store.keys_version().unwrap()),
        before
    );
    assert_eq!(store.get_key("acme", &key.record.id).unwrap().use_count, 0);
}

/// A scan's live findings mark their keys leaked (any workspace's), seen by another process
/// through the key-change counter; revoked and unknown secrets are not recorded; a place seen
/// again keeps its first time and writes nothing; the mark lasts through a rotation's grace
/// and ends with it, or with a revocation; a later scan that does not see the secret again
/// clears nothing.
pub fn record_leaks_marks_live_keys_until_rotated_or_revoked(backend: &Backend) {
    let mut store = backend.open(4);
    let watcher = backend.open(5);
    let a = store
        .create_key("acme", NewKey::new("a", Environment::Production))
        .unwrap();
    let quiet = store
        .create_key("acme", NewKey::new("quiet", Environment::Production))
        .unwrap();
    let c = store
        .create_key("beta", NewKey::new("c", Environment::Staging))
        .unwrap();
    let r = store
        .create_key("acme", NewKey::new("r", Environment::Staging))
        .unwrap();
    store.revoke_key("acme", &r.record.id).unwrap();
    let version = watcher.keys_version().unwrap();

    store
        .record_leaks(&[
            seen(&a.secret, "src/config.py:12"),
            seen(&r.secret, "src/old.py:1"),
            LeakSighting {
                hash: KeyHash::of("fhk_unknown"),
                location: "x:1".into(),
            },
            seen(&c.secret, "notebooks/try.ipynb:40"),
        ])
        .unwrap();
    assert_ne!(
        watcher.keys_version().unwrap(),
        version,
        "another process must see it"
    );
    assert_eq!(backend.raw().count("SELECT count(*) FROM leaks"), 2);
    assert!(leaked(&watcher, "acme", &a.record.id));
    assert!(leaked(&watcher, "beta", &c.record.id));
    assert!(!leaked(&watcher, "acme", &quiet.record.id));
    assert!(!leaked(&watcher, "acme", &r.record.id));
    let listed: Vec<(String, bool)> = watcher
        .list_keys("acme", &Default::default())
        .unwrap()
        .into_iter()
        .map(|k| (k.name.clone(), k.is_leaked_at(watcher.now())))
        .collect();
    assert!(listed.contains(&("a".into(), true)), "{listed:?}");
    assert!(listed.contains(&("quiet".into(), false)), "{listed:?}");
    assert!(listed.contains(&("r".into(), false)), "{listed:?}");

    // Seen again later, and somewhere new: the old place keeps its first time; nothing is
    // written for a place already known.
    backend.clock.advance(TimeDelta::days(2));
    let version = watcher.keys_version().unwrap();
    store
        .record_leaks(&[seen(&a.secret, "src/config.py:12")])
        .unwrap();
    assert_eq!(watcher.keys_version().unwrap(), version);
    store
        .record_leaks(&[seen(&a.secret, "abc1234:deploy/.env:3")])
        .unwrap();
    let leaks = watcher.key_leaks("acme", &a.record.id).unwrap();
    assert_eq!(
        places(&leaks),
        ["src/config.py:12", "abc1234:deploy/.env:3"]
    );
    assert_eq!(leaks[0].found_at, t0());
    assert_eq!(leaks[1].found_at, t0() + TimeDelta::days(2));
    assert!(
        watcher
            .key_leaks("acme", &quiet.record.id)
            .unwrap()
            .is_empty()
    );

    // A scan that finds nothing clears nothing: the secret is out.
    store.record_leaks(&[]).unwrap();
    assert!(leaked(&watcher, "acme", &a.record.id));

    // Rotated with grace: the leaked secret still opens the key until the grace ends.
    let rotated = store
        .rotate_key("acme", &a.record.id, Grace::OneHour)
        .unwrap();
    assert!(leaked(&watcher, "acme", &a.record.id));
    assert_eq!(watcher.key_leaks("acme", &a.record.id).unwrap().len(), 2);
    backend.clock.advance(TimeDelta::minutes(61));
    assert!(!leaked(&watcher, "acme", &a.record.id));
    assert!(watcher.key_leaks("acme", &a.record.id).unwrap().is_empty());
    // Its new secret found: marked again, only where that one was seen.
    store
        .record_leaks(&[seen(&rotated.secret, "src/config.py:12")])
        .unwrap();
    assert!(leaked(&watcher, "acme", &a.record.id));
    assert_eq!(watcher.key_leaks("acme", &a.record.id).unwrap().len(), 1);

    // Revoked: no longer marked.
    store.revoke_key("beta", &c.record.id).unwrap();
    assert!(!leaked(&watcher, "beta", &c.record.id));
    assert!(watcher.key_leaks("beta", &c.record.id).unwrap().is_empty());
}

/// A location is kept printable and bounded: a path with escape sequences cannot drive the
/// terminal of whoever reads it later.
pub fn record_leaks_keeps_locations_printable(backend: &Backend) {
    let mut store = backend.open(6);
    let a = store
        .create_key("acme", NewKey::new("a", Environment::Production))
        .unwrap();
    let long = format!("{}:1", "d/".repeat(3000));
    store
        .record_leaks(&[
            seen(&a.secret, "evil\x1b[2J\x07.py:3"),
            seen(&a.secret, &long),
        ])
        .unwrap();
    let leaks = store.key_leaks("acme", &a.record.id).unwrap();
    assert_eq!(leaks.len(), 2);
    for leak in &leaks {
        assert!(
            !leak.location.chars().any(char::is_control),
            "{:?}",
            leak.location
        );
        assert!(
            leak.location.chars().count() <= 1025,
            "{}",
            leak.location.len()
        );
    }
}

/// `--revoke`: one transaction, each live key once whatever its sightings, audited with the
/// first place it leaked; a key revoked meanwhile by another process is reported, not an
/// error, and gets no second event; expired and unknown secrets are left alone.
pub fn revoke_leaked_revokes_each_live_key_once_with_where_it_leaked(backend: &Backend) {
    let mut store = backend.open(7);
    let a = store
        .create_key("acme", NewKey::new("a", Environment::Production))
        .unwrap();
    let b = store
        .create_key("acme", NewKey::new("b", Environment::Production))
        .unwrap();
    let c = store
        .create_key("beta", NewKey::new("c", Environment::Development))
        .unwrap();
    let old = store
        .create_key("acme", NewKey::new("old", Environment::Staging))
        .unwrap();
    store
        .rotate_key("acme", &old.record.id, Grace::None)
        .unwrap();
    let sightings = [
        seen(&a.secret, "src/a.py:1"),
        seen(&b.secret, "src/b.py:2"),
        seen(&a.secret, "src/a_again.py:9"),
        seen(&old.secret, "src/old.py:4"),
        seen(&c.secret, "deadbeef:c.env:7"),
        LeakSighting {
            hash: KeyHash::of("fhk_unknown"),
            location: "x:1".into(),
        },
    ];
    store.record_leaks(&sightings).unwrap();
    // Meanwhile another process revokes b.
    backend.open(8).revoke_key("acme", &b.record.id).unwrap();

    let done = store.revoke_leaked(&sightings).unwrap();
    let summary = |list: &[hivekeys::store::RevokedLeak]| -> Vec<(String, String)> {
        list.iter()
            .map(|r| (r.key.name.clone(), r.location.clone()))
            .collect()
    };
    assert_eq!(
        summary(&done.revoked),
        [
            ("a".to_owned(), "src/a.py:1".to_owned()),
            ("c".to_owned(), "deadbeef:c.env:7".to_owned())
        ]
    );
    assert_eq!(
        summary(&done.already_revoked),
        [("b".to_owned(), "src/b.py:2".to_owned())]
    );
    assert!(
        done.revoked
            .iter()
            .all(|r| r.key.state == LeakState::Revoked)
    );
    for (workspace, key, place) in [("acme", &a, "src/a.py:1"), ("beta", &c, "deadbeef:c.env:7")] {
        assert_eq!(
            store.verify(key.secret.expose()).unwrap(),
            Verification::Invalid(InvalidReason::Revoked)
        );
        let trail = store.audit_trail(workspace, &key.record.id).unwrap();
        let revocations: Vec<_> = trail
            .iter()
            .filter(|e| e.action == AuditAction::Revoked)
            .collect();
        assert_eq!(revocations.len(), 1, "{trail:?}");
        assert_eq!(
            revocations[0].detail.as_deref(),
            Some(format!("leaked in {place}").as_str())
        );
        assert!(!leaked(&store, workspace, &key.record.id));
    }
    let b_trail = store.audit_trail("acme", &b.record.id).unwrap();
    let b_revocations: Vec<_> = b_trail
        .iter()
        .filter(|e| e.action == AuditAction::Revoked)
        .collect();
    assert_eq!(b_revocations.len(), 1);
    assert_eq!(
        b_revocations[0].detail, None,
        "b keeps the other process's event"
    );
    // The rotated-away secret's key stays as it was: its current secret never leaked.
    assert_eq!(
        store.get_key("acme", &old.record.id).unwrap().revoked_at,
        None
    );

    // Again: nothing left to revoke, everything already revoked.
    let again = store.revoke_leaked(&sightings).unwrap();
    assert!(again.revoked.is_empty());
    assert_eq!(again.already_revoked.len(), 3);
}

/// Copying a store carries its leak marks.
pub fn a_copied_store_keeps_its_leak_marks(backend: &Backend) {
    let mut store = backend.open(9);
    let a = store
        .create_key("acme", NewKey::new("a", Environment::Production))
        .unwrap();
    store
        .record_leaks(&[seen(&a.secret, "src/a.py:1")])
        .unwrap();
    let target_backend = backend.fresh();
    let mut target = target_backend.open(10);
    store.copy_to(&mut target).unwrap();
    assert!(leaked(&target, "acme", &a.record.id));
    assert_eq!(
        places(&target.key_leaks("acme", &a.record.id).unwrap()),
        ["src/a.py:1"]
    );
}

/// `list` and `show`, text and JSON, say a key leaked and where; the others say nothing.
pub fn list_and_show_say_a_key_leaked_and_where(backend: &Backend) {
    let cli = Cli::new(backend);
    let full = cli.create("Billing", "prod");
    let other = cli.create("Search", "stg");
    let id = cli.id_of(&full);
    let other_id = cli.id_of(&other);
    let mut store = backend.open(11);
    let secret = Secret::parse(&full).unwrap();
    store
        .record_leaks(&[
            seen(&secret, "src/config.py:12"),
            seen(&secret, "abc1234:old/config.py:12"),
        ])
        .unwrap();
    drop(store);

    let listed = cli.listed(&id);
    assert_eq!(listed["leaked"], true, "{listed}");
    // First seen first; places seen at once in the order of their names.
    assert_eq!(
        listed["leaked_in"][0]["location"],
        "abc1234:old/config.py:12"
    );
    assert_eq!(listed["leaked_in"][1]["location"], "src/config.py:12");
    assert!(
        listed["leaked_in"][0]["found_at"]
            .as_str()
            .unwrap()
            .ends_with('Z')
    );
    let quiet = cli.listed(&other_id);
    assert_eq!(quiet["leaked"], false);
    assert_eq!(quiet["leaked_in"], serde_json::json!([]));
    let shown = cli.show(&id);
    assert_eq!(shown["leaked"], true);
    assert_eq!(shown["leaked_in"].as_array().unwrap().len(), 2);

    let table = cli.run_ok(&["list"]).stdout;
    let billing = table.lines().find(|l| l.contains("Billing")).unwrap();
    assert!(billing.contains("active · leaked"), "{table}");
    let search = table.lines().find(|l| l.contains("Search")).unwrap();
    assert!(!search.contains("leaked"), "{table}");
    let text = cli.run_ok(&["show", &id]).stdout;
    assert!(text.contains("Active · leaked"), "{text}");
    assert!(
        text.contains("Leaked       abc1234:old/config.py:12 (found 2026-03-01) and 1 more place"),
        "{text}"
    );
    assert!(!cli.run_ok(&["show", &other_id]).stdout.contains("Leaked"));
}

/// The page of text on a TestBackend screen, its frame and quotes gone, so that a line that
/// wraps still reads as one.
fn words(screen: &str) -> String {
    screen
        .split(['│', '"', '\n', ' '])
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// A running dashboard sees a leak another process records (the key-change counter moves):
/// the row's status says `leaked` in words, the details say where and how many more places,
/// following further sightings; a revocation elsewhere takes the mark away.
pub fn a_running_dashboard_marks_a_key_leaked_in_words_and_says_where(backend: &Backend) {
    use hivekeys::tui::app::Modal;
    use ratatui::crossterm::event::KeyCode;

    use crate::common::dashboard::{Drive, OnStore};

    let clock = std::sync::Arc::new(hivekeys::clock::ManualClock::new(t0()));
    let mut billing = None;
    let mut fx = OnStore::open(&backend.location, clock, |store, clock| {
        billing = Some(
            store
                .create_key("default", NewKey::new("Billing", Environment::Staging))
                .unwrap(),
        );
        clock.advance(TimeDelta::minutes(1));
        store
            .create_key("default", NewKey::new("Search", Environment::Staging))
            .unwrap();
    });
    let billing = billing.unwrap();
    let row = |screen: &str, name: &str| -> String {
        screen
            .lines()
            .find(|line| line.contains(name))
            .unwrap_or_else(|| panic!("no {name} row: {screen}"))
            .to_owned()
    };
    assert!(!fx.screen(120, 30).contains("leaked"));

    let mut other = fx.other_process(99);
    other
        .record_leaks(&[seen(&billing.secret, "src/config.py:12")])
        .unwrap();
    fx.tick_after_change();
    let screen = fx.screen(120, 30);
    assert!(
        row(&screen, "Billing").contains("Active · leaked"),
        "{screen}"
    );
    assert!(!row(&screen, "Search").contains("leaked"), "{screen}");

    // Newest first: Search, then Billing.
    fx.press(KeyCode::Down);
    assert_eq!(fx.app.focused_key().unwrap().name, "Billing");
    fx.press(KeyCode::Enter);
    let screen = words(&fx.screen(120, 40));
    assert!(
        screen.contains("Leaked src/config.py:12 (found 2026-03-01)"),
        "{screen}"
    );
    other
        .record_leaks(&[seen(&billing.secret, "src/settings.py:3")])
        .unwrap();
    fx.tick_after_change();
    let screen = words(&fx.screen(120, 40));
    assert!(
        screen.contains("(found 2026-03-01) and 1 more place"),
        "{screen}"
    );

    other.revoke_key("default", &billing.record.id).unwrap();
    fx.tick_after_change();
    match &fx.app.modal {
        Some(Modal::Details(details)) => assert!(details.leaks.is_empty()),
        _ => panic!("the details closed"),
    }
    assert!(!fx.screen(120, 40).contains("Leaked"));
    fx.press(KeyCode::Esc);
    assert!(!fx.screen(120, 30).contains("leaked"));
}

conformance!(
    a_running_dashboard_marks_a_key_leaked_in_words_and_says_where,
    find_keys_by_hash_answers_each_state_in_input_order,
    find_keys_by_hash_answers_batches_larger_than_a_statement,
    find_keys_by_hash_writes_nothing,
    record_leaks_marks_live_keys_until_rotated_or_revoked,
    record_leaks_keeps_locations_printable,
    revoke_leaked_revokes_each_live_key_once_with_where_it_leaked,
    a_copied_store_keeps_its_leak_marks,
    list_and_show_say_a_key_leaked_and_where,
);
