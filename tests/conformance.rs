//! One suite, both backends: every test here runs once on an SQLite file and once on a
//! fresh database of a real PostgreSQL server (`tests/common/postgres.rs` starts a throw-away
//! cluster), so that the two backends cannot drift apart. A rule of the store is written
//! here once, as a function of the backend; the macro at the bottom makes a test per
//! backend of each.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use common::store_options;
use hivekeys::clock::{Clock, ManualClock};
use hivekeys::store::{AuditAction, Grace, InvalidReason, Location, Verification};
use hivekeys::{Environment, Error, KeyQuery, NewKey, Status, Store, StoreOptions};
use tempfile::TempDir;

const WS: &str = "acme";

/// Where a test's store lives, and how long a change by one process may take to reach
/// another's verifier there (PRODUCT.md: 100 ms on SQLite, 1 s on PostgreSQL).
struct Backend {
    location: Location,
    propagation: Duration,
    clock: Arc<ManualClock>,
    _dir: Option<TempDir>,
}

impl Backend {
    fn sqlite() -> Backend {
        let dir = tempfile::tempdir().unwrap();
        Backend {
            location: Location::File(dir.path().join("hivekeys.db")),
            propagation: Duration::from_millis(100),
            clock: Arc::new(ManualClock::new(t0())),
            _dir: Some(dir),
        }
    }

    fn postgres() -> Backend {
        let url = common::postgres::database();
        Backend {
            location: Location::parse(url.as_ref()).unwrap(),
            propagation: Duration::from_secs(1),
            clock: Arc::new(ManualClock::new(t0())),
            _dir: None,
        }
    }

    /// A store on this backend; each `seed` gives its own secrets, as two processes have.
    fn open(&self, seed: u64) -> Store {
        Store::open_with(&self.location, self.options(seed)).unwrap()
    }

    fn options(&self, seed: u64) -> StoreOptions {
        StoreOptions {
            // Batches are written when a test says so (flush, drop).
            usage_flush_interval: Duration::from_secs(3600),
            ..store_options(&self.clock, seed)
        }
    }
}

/// 2026-03-01 12:00:00 UTC.
fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap()
}

fn valid_id(verification: &Verification) -> &str {
    match verification {
        Verification::Valid(key) => &key.id,
        other => panic!("expected a valid key, got {other:?}"),
    }
}

fn invalid(verification: Verification) -> InvalidReason {
    match verification {
        Verification::Invalid(reason) => reason,
        other => panic!("expected an invalid key, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// Keys: create, find, list

fn keys_are_listed_newest_first_and_found_by_id_name_and_search(backend: &Backend) {
    let mut store = backend.open(1);
    let mut ids = Vec::new();
    for (name, environment) in [
        ("billing", Environment::Production),
        ("Café ünïcode", Environment::Staging),
        ("ci runner", Environment::Development),
    ] {
        ids.push(
            store
                .create_key(WS, NewKey::new(name, environment))
                .unwrap()
                .record
                .id,
        );
        backend.clock.advance(TimeDelta::seconds(10));
    }
    let listed: Vec<String> = store
        .list_keys(WS, &KeyQuery::default())
        .unwrap()
        .into_iter()
        .map(|key| key.id)
        .collect();
    assert_eq!(listed, ids.iter().rev().cloned().collect::<Vec<_>>());
    assert_eq!(store.count_keys(WS, &KeyQuery::default()).unwrap(), 3);
    assert_eq!(store.get_key(WS, &ids[0]).unwrap().name, "billing");
    assert_eq!(store.resolve_key(WS, "ci runner").unwrap().id, ids[2]);

    // Search is folded (NFKC, lower case) on both backends: a full-width, upper-case query.
    let search = |text: &str| KeyQuery {
        search: Some(text.into()),
        ..KeyQuery::default()
    };
    let found = store.list_keys(WS, &search("ＣＡＦÉ")).unwrap();
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].id, ids[1]);
    assert_eq!(store.count_keys(WS, &search("CI RUN")).unwrap(), 1);
    assert_eq!(store.count_keys(WS, &search("no such text")).unwrap(), 0);

    let staging = KeyQuery {
        environment: Some(Environment::Staging),
        ..KeyQuery::default()
    };
    assert_eq!(store.list_keys(WS, &staging).unwrap()[0].id, ids[1]);

    // Pages: limit and offset.
    let page = KeyQuery {
        limit: Some(1),
        offset: 1,
        ..KeyQuery::default()
    };
    assert_eq!(store.list_keys(WS, &page).unwrap()[0].id, ids[1]);
    let rest = KeyQuery {
        offset: 2,
        ..KeyQuery::default()
    };
    assert_eq!(store.list_keys(WS, &rest).unwrap()[0].id, ids[0]);

    // Another workspace sees none of them.
    assert_eq!(store.count_keys("other", &KeyQuery::default()).unwrap(), 0);
    assert!(matches!(
        store.get_key("other", &ids[0]),
        Err(Error::KeyNotFound { .. })
    ));
}

fn a_workspace_has_one_active_default_key(backend: &Backend) {
    let mut store = backend.open(1);
    let first = store
        .create_default_key(WS, Environment::Production)
        .unwrap();
    let err = store
        .create_default_key(WS, Environment::Production)
        .unwrap_err();
    assert!(
        matches!(&err, Error::DefaultKeyExists { id, .. } if *id == first.record.id),
        "{err:?}"
    );
    assert_eq!(
        store.default_key(WS).unwrap().map(|key| key.id),
        Some(first.record.id.clone())
    );
    store.revoke_key(WS, &first.record.id).unwrap();
    assert_eq!(store.default_key(WS).unwrap(), None);
    store
        .create_default_key(WS, Environment::Production)
        .unwrap();
}

fn names_that_several_keys_share_are_ambiguous(backend: &Backend) {
    let mut store = backend.open(1);
    for _ in 0..2 {
        store
            .create_key(WS, NewKey::new("twin", Environment::Production))
            .unwrap();
    }
    assert!(matches!(
        store.resolve_key(WS, "twin"),
        Err(Error::AmbiguousKey { .. })
    ));
}

// ---------------------------------------------------------------------------------------------
// Verification

fn verification_tells_every_state_apart(backend: &Backend) {
    let mut store = backend.open(1);
    let issued = store
        .create_key(WS, NewKey::new("app", Environment::Production))
        .unwrap();
    let full = issued.secret.expose().to_owned();
    assert_eq!(
        valid_id(&store.verify(&full).unwrap()),
        issued.record.id.as_str()
    );
    assert_eq!(
        invalid(store.verify("fhk_not_a_key").unwrap()),
        InvalidReason::Malformed
    );
    // A well-formed key this store never issued.
    let other_store = Backend::sqlite();
    let mut elsewhere = other_store.open(77);
    let stranger = elsewhere
        .create_key(WS, NewKey::new("x", Environment::Production))
        .unwrap();
    assert_eq!(
        invalid(store.verify(stranger.secret.expose()).unwrap()),
        InvalidReason::NotFound
    );
    // Another workspace's verifier does not even confirm it exists.
    assert_eq!(
        invalid(store.verify_in(Some("other"), &full).unwrap()),
        InvalidReason::NotFound
    );
    store.revoke_key(WS, &issued.record.id).unwrap();
    assert_eq!(
        invalid(store.verify(&full).unwrap()),
        InvalidReason::Revoked
    );

    let mut expiring = NewKey::new("short", Environment::Staging);
    expiring.expires_at = Some(backend.clock.now() + TimeDelta::hours(1));
    let short = store.create_key(WS, expiring).unwrap();
    backend.clock.advance(TimeDelta::hours(2));
    assert_eq!(
        invalid(store.verify(short.secret.expose()).unwrap()),
        InvalidReason::Expired
    );
}

fn a_rotation_keeps_the_old_secret_for_its_grace_only(backend: &Backend) {
    let mut store = backend.open(1);
    let issued = store
        .create_key(WS, NewKey::new("app", Environment::Production))
        .unwrap();
    let rotated = store
        .rotate_key(WS, &issued.record.id, Grace::OneHour)
        .unwrap();
    assert_ne!(rotated.record.masked_key, issued.record.masked_key);
    for secret in [&issued.secret, &rotated.secret] {
        assert_eq!(
            valid_id(&store.verify(secret.expose()).unwrap()),
            issued.record.id
        );
    }
    assert_eq!(store.live_secrets(WS, &issued.record.id).unwrap().len(), 2);
    backend.clock.advance(TimeDelta::minutes(61));
    assert_eq!(
        invalid(store.verify(issued.secret.expose()).unwrap()),
        InvalidReason::Expired
    );
    assert_eq!(
        valid_id(&store.verify(rotated.secret.expose()).unwrap()),
        issued.record.id
    );
    assert_eq!(
        store
            .find_by_secret(WS, issued.secret.expose())
            .unwrap()
            .map(|key| key.id),
        Some(issued.record.id.clone())
    );
    let actions: Vec<AuditAction> = store
        .audit_trail(WS, &issued.record.id)
        .unwrap()
        .into_iter()
        .map(|event| event.action)
        .collect();
    assert_eq!(actions, [AuditAction::Created, AuditAction::Rotated]);
}

fn a_rotation_its_admin_never_saw_is_refused(backend: &Backend) {
    let mut alice = backend.open(1);
    let mut bob = backend.open(2);
    let issued = alice
        .create_key(WS, NewKey::new("app", Environment::Production))
        .unwrap();
    let seen_by_bob = bob.get_key(WS, &issued.record.id).unwrap();
    alice
        .rotate_key(WS, &issued.record.id, Grace::None)
        .unwrap();
    let err = bob
        .rotate_key_as_seen(WS, &seen_by_bob, Grace::None, |_| Ok(()))
        .unwrap_err();
    assert!(matches!(err, Error::RotatedMeanwhile { .. }), "{err:?}");
    // Revoked by one, refused to the other.
    alice.revoke_key(WS, &issued.record.id).unwrap();
    assert!(matches!(
        bob.revoke_key(WS, &issued.record.id),
        Err(Error::KeyRevoked { .. })
    ));
}

fn a_key_nobody_saw_is_not_stored(backend: &Backend) {
    let mut store = backend.open(1);
    let err = store
        .create_key_and(WS, NewKey::new("lost", Environment::Production), |_| {
            Err(std::io::Error::from(std::io::ErrorKind::BrokenPipe))
        })
        .unwrap_err();
    assert!(matches!(err, Error::NotDelivered { .. }), "{err:?}");
    assert_eq!(store.count_keys(WS, &KeyQuery::default()).unwrap(), 0);
}

fn two_processes_creating_at_once_lose_nothing(backend: &Backend) {
    let threads: Vec<_> = (0..4u64)
        .map(|n| {
            let options = backend.options(10 + n);
            let location = backend.location.clone();
            std::thread::spawn(move || {
                let mut store = Store::open_with(&location, options).unwrap();
                for i in 0..10 {
                    store
                        .create_key(WS, NewKey::new(format!("k{n}-{i}"), Environment::Staging))
                        .unwrap();
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    let store = backend.open(1);
    assert_eq!(store.count_keys(WS, &KeyQuery::default()).unwrap(), 40);
}

// ---------------------------------------------------------------------------------------------
// Daily limits and use counts

fn a_daily_limit_refuses_the_use_past_it_and_resets_at_midnight(backend: &Backend) {
    let mut store = backend.open(1);
    let mut limited = NewKey::new("metered", Environment::Production);
    limited.daily_limit = Some(3);
    let issued = store.create_key(WS, limited).unwrap();
    let full = issued.secret.expose().to_owned();
    for remaining in [2, 1, 0] {
        match store.verify(&full).unwrap() {
            Verification::Valid(key) => {
                assert_eq!(key.allowance.map(|a| a.remaining), Some(remaining))
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(
        invalid(store.verify(&full).unwrap()),
        InvalidReason::RateLimited { daily_limit: 3 }
    );
    // Written or buffered, the count is the same.
    store.flush_usage().unwrap();
    assert_eq!(
        invalid(store.verify(&full).unwrap()),
        InvalidReason::RateLimited { daily_limit: 3 }
    );
    let record = store
        .set_daily_limit(WS, &issued.record.id, Some(4))
        .unwrap();
    assert_eq!(record.daily_limit, Some(4));
    valid_id(&store.verify(&full).unwrap());
    backend
        .clock
        .set(Utc.with_ymd_and_hms(2026, 3, 2, 0, 0, 1).unwrap());
    valid_id(&store.verify(&full).unwrap());
    let actions: Vec<AuditAction> = store
        .audit_trail(WS, &issued.record.id)
        .unwrap()
        .into_iter()
        .map(|event| event.action)
        .collect();
    assert_eq!(actions, [AuditAction::Created, AuditAction::LimitChanged]);
}

fn use_counts_are_written_in_batches_and_last_used_never_goes_back(backend: &Backend) {
    let mut early = backend.open(1);
    let issued = early
        .create_key(WS, NewKey::new("app", Environment::Production))
        .unwrap();
    let full = issued.secret.expose().to_owned();
    let mut late = backend.open(2);
    for _ in 0..5 {
        valid_id(&early.verify(&full).unwrap());
    }
    backend.clock.advance(TimeDelta::minutes(5));
    let later = backend.clock.now();
    for _ in 0..2 {
        valid_id(&late.verify(&full).unwrap());
    }
    // The later batch lands first; the earlier one must not move "last used" back.
    assert_eq!(late.flush_usage().unwrap(), 2);
    assert_eq!(early.flush_usage().unwrap(), 5);
    let usage = early
        .usage_of(WS, &[issued.record.id.as_str(), "key_nope"])
        .unwrap();
    let first = usage[0].as_ref().expect("the key's usage");
    assert_eq!(first.use_count, 7);
    assert_eq!(first.last_used_at, Some(later));
    assert!(usage[1].is_none());
    let record = early.get_key(WS, &issued.record.id).unwrap();
    assert_eq!(early.uses_today(WS, &[record]).unwrap(), [7]);
    let days = early.daily_usage(WS, &issued.record.id, 3).unwrap();
    assert_eq!(
        days.iter().map(|day| day.count).collect::<Vec<_>>(),
        [0, 0, 7]
    );
}

// ---------------------------------------------------------------------------------------------
// Changes seen by other processes

fn a_revoke_elsewhere_reaches_a_verifier_within_the_bound(backend: &Backend) {
    let mut gateway = backend.open(1);
    let mut admin = backend.open(2);
    let issued = admin
        .create_key(WS, NewKey::new("app", Environment::Production))
        .unwrap();
    let full = issued.secret.expose().to_owned();
    // Remembered by the gateway's verifier.
    valid_id(&gateway.verify(&full).unwrap());
    valid_id(&gateway.verify(&full).unwrap());
    admin.revoke_key(WS, &issued.record.id).unwrap();
    let revoked = Instant::now();
    loop {
        match gateway.verify(&full).unwrap() {
            Verification::Invalid(InvalidReason::Revoked) => break,
            Verification::Valid(_) => {}
            other => panic!("{other:?}"),
        }
        assert!(
            revoked.elapsed() < backend.propagation * 3,
            "the revoke was not seen within {:?}",
            revoked.elapsed()
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    eprintln!("revoke seen after {:?}", revoked.elapsed());
}

fn the_keys_version_moves_for_keys_and_not_for_use_counts(backend: &Backend) {
    let mut store = backend.open(1);
    let before = store.keys_version().unwrap();
    let issued = store
        .create_key(WS, NewKey::new("app", Environment::Production))
        .unwrap();
    let created = store.keys_version().unwrap();
    assert_ne!(created, before);
    valid_id(&store.verify(issued.secret.expose()).unwrap());
    store.flush_usage().unwrap();
    assert_eq!(store.keys_version().unwrap(), created);
    store
        .set_daily_limit(WS, &issued.record.id, Some(10))
        .unwrap();
    assert_ne!(store.keys_version().unwrap(), created);
}

fn a_background_read_sees_every_key_and_the_default(backend: &Backend) {
    let mut store = backend.open(1);
    let default = store
        .create_default_key(WS, Environment::Production)
        .unwrap();
    store
        .create_key(WS, NewKey::new("other", Environment::Staging))
        .unwrap();
    let loaded = std::thread::spawn({
        let loader = store.loader(WS);
        let now = backend.clock.now();
        move || loader.load(now).unwrap()
    })
    .join()
    .unwrap();
    assert_eq!(loaded.keys.len(), 2);
    assert_eq!(
        loaded.default_key.map(|key| key.id),
        Some(default.record.id)
    );
}

fn the_demo_fills_a_workspace_in_one_transaction(backend: &Backend) {
    let mut store = backend.open(1);
    let summary = store.fill_demo(WS, 40, 7).unwrap();
    assert_eq!(summary.keys, 40);
    let counts = store.status_counts(WS).unwrap();
    assert_eq!(counts.iter().map(|(_, n)| n).sum::<u64>(), 40);
    assert_eq!(
        counts[0].1,
        store
            .count_keys(
                WS,
                &KeyQuery {
                    status: Some(Status::Active),
                    ..KeyQuery::default()
                }
            )
            .unwrap()
    );
}

macro_rules! conformance {
    ($($test:ident),* $(,)?) => {
        mod sqlite {
            $(#[test] fn $test() { super::$test(&super::Backend::sqlite()); })*
        }
        mod postgres {
            $(#[test] fn $test() { super::$test(&super::Backend::postgres()); })*
        }
    };
}

conformance![
    keys_are_listed_newest_first_and_found_by_id_name_and_search,
    a_workspace_has_one_active_default_key,
    names_that_several_keys_share_are_ambiguous,
    verification_tells_every_state_apart,
    a_rotation_keeps_the_old_secret_for_its_grace_only,
    a_rotation_its_admin_never_saw_is_refused,
    a_key_nobody_saw_is_not_stored,
    two_processes_creating_at_once_lose_nothing,
    a_daily_limit_refuses_the_use_past_it_and_resets_at_midnight,
    use_counts_are_written_in_batches_and_last_used_never_goes_back,
    a_revoke_elsewhere_reaches_a_verifier_within_the_bound,
    the_keys_version_moves_for_keys_and_not_for_use_counts,
    a_background_read_sees_every_key_and_the_default,
    the_demo_fills_a_workspace_in_one_transaction,
];
