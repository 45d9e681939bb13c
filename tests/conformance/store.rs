//! The store's rules, on both backends: keys, defaults, names, rotation and grace, revocation,
//! expiry, verification, use counts and daily limits, several connections at once.

use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use hivekeys::clock::{Clock, ManualClock};
use hivekeys::entropy::SeededEntropy;
use hivekeys::store::{
    AuditAction, DEFAULT_KEY_NAME, Grace, InvalidReason, IssuedKey, Verification, VerifiedKey,
};
use hivekeys::text::NameError;
use hivekeys::{
    Environment, Error, KeyQuery, KeyRecord, NewKey, Secret, Status, Store, StoreOptions,
};

use crate::common::store_options;
use crate::{Backend, t0};

const WS: &str = "acme";

// ---------------------------------------------------------------------------------------------
// Helpers

fn minutes(n: i64) -> TimeDelta {
    TimeDelta::minutes(n)
}

/// A store on the backend, and the clock it runs on.
struct Fixture {
    store: Store,
    clock: Arc<ManualClock>,
}

impl Fixture {
    fn new(backend: &Backend) -> Fixture {
        Fixture {
            store: backend.open(1),
            clock: backend.clock.clone(),
        }
    }

    fn create(&mut self, name: &str, environment: Environment) -> IssuedKey {
        self.store
            .create_key(WS, NewKey::new(name, environment))
            .unwrap()
    }

    fn count(&self) -> u64 {
        self.store.count_keys(WS, &KeyQuery::default()).unwrap()
    }

    fn get(&self, id: &str) -> KeyRecord {
        self.store.get_key(WS, id).unwrap()
    }

    fn clock_now(&self) -> DateTime<Utc> {
        self.store.now()
    }
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

fn verified(store: &mut Store, key: &str) -> VerifiedKey {
    match store.verify(key).unwrap() {
        Verification::Valid(v) => v,
        other => panic!("expected a valid key, got {other:?}"),
    }
}

fn rejected(store: &mut Store, key: &str) -> InvalidReason {
    match store.verify(key).unwrap() {
        Verification::Invalid(reason) => reason,
        Verification::Valid(v) => panic!("expected an invalid key, got Valid({})", v.id),
    }
}

fn full(issued: &IssuedKey) -> String {
    issued.secret.expose().to_owned()
}

fn ids(records: &[KeyRecord]) -> Vec<String> {
    records.iter().map(|r| r.id.clone()).collect()
}

pub fn assert_one_sentence(err: &Error) {
    let text = err.to_string();
    assert!(
        !text.contains('\n') && !text.contains('\r'),
        "error message spans several lines: {text:?}"
    );
    assert!(
        text.ends_with('.'),
        "error message does not end with '.': {text:?}"
    );
    assert!(
        !text.chars().any(char::is_control),
        "error message holds a control character: {text:?}"
    );
}

fn assert_id_format(id: &str) {
    let hex = id
        .strip_prefix("key_")
        .unwrap_or_else(|| panic!("{id} lacks key_"));
    assert_eq!(hex.len(), 8, "{id}");
    assert!(
        hex.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
        "{id}"
    );
}

fn query() -> KeyQuery {
    KeyQuery::default()
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

// ---------------------------------------------------------------------------------------------
// From the SQLite-only store suite (tests/store.rs), now on both backends

fn create_key_records_every_field_and_the_key_verifies(backend: &Backend) {
    let mut f = Fixture::new(backend);
    let issued = f.create("Billing worker", Environment::Production);
    let key = full(&issued);
    let r = &issued.record;

    assert_id_format(&r.id);
    assert!(key.starts_with("fhk_prod_"), "{}", issued.record.masked_key);
    assert_eq!(key.len(), "fhk_prod_".len() + 32 + 6);
    assert!(Secret::parse(&key).is_ok());
    assert_eq!(issued.secret.environment(), Environment::Production);
    assert_eq!(
        r.masked_key,
        format!("{}…{}", &key[..13], &key[key.len() - 4..])
    );
    assert_eq!(r.name, "Billing worker");
    assert_eq!(r.environment, Environment::Production);
    assert!(!r.is_default);
    assert_eq!(r.created_at, t0());
    assert_eq!(r.rotated_at, None);
    assert_eq!(r.revoked_at, None);
    assert_eq!(r.expires_at, None);
    assert_eq!(r.last_used_at, None);
    assert_eq!(r.use_count, 0);
    assert_eq!(r.status_at(t0()), Status::Active);

    // The record handed back is what the store holds.
    assert_eq!(&f.get(&r.id), r);
    assert_eq!(f.store.list_keys(WS, &query()).unwrap(), vec![r.clone()]);

    assert_eq!(
        verified(&mut f.store, &key),
        VerifiedKey {
            id: r.id.clone(),
            name: "Billing worker".into(),
            environment: Environment::Production,
            workspace: WS.into(),
            allowance: None,
        }
    );

    let trail = f.store.audit_trail(WS, &r.id).unwrap();
    assert_eq!(trail.len(), 1);
    assert_eq!(trail[0].action, AuditAction::Created);
    assert_eq!(trail[0].at, t0());
    assert_eq!(trail[0].actor, "alice");

    // The other environments: their own prefix, masked as prefix + 4 … last 4.
    for (env, prefix) in [
        (Environment::Staging, "fhk_stg_"),
        (Environment::Development, "fhk_dev_"),
    ] {
        let issued = f.create("Other env", env);
        let key = full(&issued);
        assert!(key.starts_with(prefix), "{prefix}");
        assert_eq!(
            issued.record.masked_key,
            format!("{}…{}", &key[..prefix.len() + 4], &key[key.len() - 4..])
        );
        assert_eq!(issued.record.environment, env);
        assert_eq!(verified(&mut f.store, &key).environment, env);
    }

    // Every key gets its own id and secret.
    let all = f.store.list_keys(WS, &query()).unwrap();
    let mut distinct = ids(&all);
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), 3);
}

fn default_key_is_unique_per_workspace_while_active(backend: &Backend) {
    let mut f = Fixture::new(backend);
    assert_eq!(f.store.default_key(WS).unwrap(), None);
    let first = f
        .store
        .create_default_key(WS, Environment::Production)
        .unwrap();
    assert!(first.record.is_default);
    assert_eq!(first.record.name, DEFAULT_KEY_NAME);
    assert_eq!(first.record.environment, Environment::Production);
    assert!(full(&first).starts_with("fhk_prod_"));
    assert_eq!(
        f.store.default_key(WS).unwrap().as_ref(),
        Some(&first.record)
    );
    let v = verified(&mut f.store, &full(&first));
    assert_eq!(v.id, first.record.id);
    assert_eq!(v.name, DEFAULT_KEY_NAME);

    let plain = f.create("Additional", Environment::Staging);
    assert!(!plain.record.is_default);

    let before = backend.row_counts();
    for attempt in [
        f.store.create_default_key(WS, Environment::Staging),
        f.store
            .create_key(WS, NewKey::default_key(Environment::Production)),
        f.store.create_key(
            WS,
            NewKey {
                is_default: true,
                ..NewKey::new("Another default", Environment::Development)
            },
        ),
    ] {
        let err = attempt.unwrap_err();
        match &err {
            Error::DefaultKeyExists { workspace, id } => {
                assert_eq!(workspace, WS);
                assert_eq!(id, &first.record.id);
            }
            other => panic!("expected DefaultKeyExists, got {other:?}"),
        }
        assert_one_sentence(&err);
    }
    assert_eq!(
        backend.row_counts(),
        before,
        "a refused default wrote something"
    );
    assert_eq!(f.count(), 2);

    // Defaults are per workspace.
    let other = f
        .store
        .create_default_key("globex", Environment::Development)
        .unwrap();
    assert!(other.record.is_default);
    assert_eq!(
        f.store.default_key("globex").unwrap().map(|r| r.id),
        Some(other.record.id.clone())
    );
    assert_eq!(
        f.store.default_key(WS).unwrap().map(|r| r.id),
        Some(first.record.id.clone())
    );

    // Once revoked, the workspace may have a new default.
    f.clock.advance(minutes(1));
    f.store.revoke_key(WS, &first.record.id).unwrap();
    assert_eq!(f.store.default_key(WS).unwrap(), None);
    let second = f
        .store
        .create_default_key(WS, Environment::Staging)
        .unwrap();
    assert!(second.record.is_default);
    assert_eq!(second.record.environment, Environment::Staging);
    assert_ne!(second.record.id, first.record.id);
    assert_eq!(
        f.store.default_key(WS).unwrap().map(|r| r.id),
        Some(second.record.id.clone())
    );
    // The revoked default stays listed as a default.
    let defaults = f
        .store
        .list_keys(
            WS,
            &KeyQuery {
                is_default: Some(true),
                ..query()
            },
        )
        .unwrap();
    assert_eq!(
        ids(&defaults),
        vec![second.record.id.clone(), first.record.id.clone()]
    );
    assert_eq!(
        rejected(&mut f.store, &full(&first)),
        InvalidReason::Revoked
    );
    assert_eq!(verified(&mut f.store, &full(&second)).id, second.record.id);
}

fn an_expired_default_makes_room_for_a_new_one(backend: &Backend) {
    let mut f = Fixture::new(backend);
    let old = f
        .store
        .create_key(
            WS,
            NewKey {
                expires_at: Some(t0() + minutes(30)),
                ..NewKey::default_key(Environment::Production)
            },
        )
        .unwrap();
    assert!(matches!(
        f.store.create_default_key(WS, Environment::Production),
        Err(Error::DefaultKeyExists { .. })
    ));
    f.clock.advance(minutes(30));
    let new = f
        .store
        .create_default_key(WS, Environment::Production)
        .unwrap();
    assert_ne!(new.record.id, old.record.id);
    assert_eq!(
        f.store.default_key(WS).unwrap().map(|r| r.id),
        Some(new.record.id)
    );
}

fn bad_names_are_rejected_and_nothing_is_written(backend: &Backend) {
    let mut f = Fixture::new(backend);
    let too_long = "a".repeat(65);
    let too_long_wide = "東".repeat(65);
    let bad = [
        "",
        "   ",
        "\t \n",
        too_long.as_str(),
        too_long_wide.as_str(),
        "esc\u{1b}[31mred",
        "two\nlines",
        "nul\0byte",
        "bidi\u{202E}txt",
        "c1\u{9b}2J",
        "line\u{2028}sep",
    ];
    for name in bad {
        for default in [false, true] {
            let new = NewKey {
                is_default: default,
                ..NewKey::new(name, Environment::Production)
            };
            let err = f.store.create_key(WS, new).unwrap_err();
            assert!(
                matches!(err, Error::InvalidName(_)),
                "{name:?}: expected InvalidName, got {err:?}"
            );
            assert_one_sentence(&err);
        }
    }
    // A bad workspace name is refused the same way.
    for workspace in ["", "  ", "ws\u{1b}]0;title\u{7}", "ws\nx"] {
        let err = f
            .store
            .create_key(workspace, NewKey::new("fine", Environment::Staging))
            .unwrap_err();
        assert!(
            matches!(err, Error::InvalidName(_)),
            "{workspace:?}: {err:?}"
        );
        assert_one_sentence(&err);
    }
    assert_eq!(
        backend.row_counts(),
        [0; 5],
        "a refused name wrote something"
    );
    assert_eq!(f.count(), 0);

    // The precise reasons.
    assert!(matches!(
        f.store
            .create_key(WS, NewKey::new(" ", Environment::Production)),
        Err(Error::InvalidName(NameError::Empty(_)))
    ));
    assert!(matches!(
        f.store
            .create_key(WS, NewKey::new(too_long.clone(), Environment::Production)),
        Err(Error::InvalidName(NameError::TooLong { chars: 65, .. }))
    ));
    assert!(matches!(
        f.store
            .create_key(WS, NewKey::new("a\u{202E}b", Environment::Production)),
        Err(Error::InvalidName(NameError::ControlCharacter(_)))
    ));
}

fn wide_emoji_and_padded_names_round_trip(backend: &Backend) {
    let mut f = Fixture::new(backend);
    let wide = "東".repeat(64);
    let sixty_four = "b".repeat(64);
    let padded_64 = format!("  {sixty_four}\t ");
    let cases: Vec<(String, String)> = vec![
        (wide.clone(), wide.clone()),
        (
            "👨\u{200D}👩\u{200D}👧 team".into(),
            "👨\u{200D}👩\u{200D}👧 team".into(),
        ),
        ("🚀 launch ✨".into(), "🚀 launch ✨".into()),
        ("équipe".into(), "équipe".into()),
        ("  Billing worker  ".into(), "Billing worker".into()),
        (padded_64, sixty_four),
        ("x".into(), "x".into()),
    ];
    let mut created = Vec::new();
    for (input, expected) in &cases {
        let issued = f.create(input, Environment::Development);
        assert_eq!(&issued.record.name, expected, "{input:?}");
        assert_eq!(&f.get(&issued.record.id).name, expected);
        assert_eq!(&verified(&mut f.store, &full(&issued)).name, expected);
        created.push((issued.record.id.clone(), expected.clone()));
    }

    // And after reopening the file.
    drop(f.store);
    let store = backend.open(2);
    for (id, expected) in &created {
        assert_eq!(&store.get_key(WS, id).unwrap().name, expected);
        assert_eq!(&store.resolve_key(WS, expected).unwrap().id, id);
    }
}

fn rotate_without_grace_stops_the_old_secret_at_once(backend: &Backend) {
    let mut f = Fixture::new(backend);
    let original = f.create("Rotator", Environment::Staging);
    let old = full(&original);
    let id = original.record.id.clone();

    f.clock.advance(minutes(5));
    let rotated = f.store.rotate_key(WS, &id, Grace::None).unwrap();
    let new = full(&rotated);
    let r = &rotated.record;
    assert_eq!(r.id, id);
    assert_eq!(r.name, "Rotator");
    assert_eq!(r.environment, Environment::Staging);
    assert_eq!(r.is_default, original.record.is_default);
    assert_eq!(r.created_at, t0());
    assert_eq!(r.rotated_at, Some(t0() + minutes(5)));
    assert_eq!(r.revoked_at, None);
    assert_ne!(new, old);
    assert!(new.starts_with("fhk_stg_"));
    assert_ne!(r.masked_key, original.record.masked_key);
    assert_eq!(
        r.masked_key,
        format!("{}…{}", &new[..12], &new[new.len() - 4..])
    );
    assert_eq!(&f.get(&id), r);

    assert_eq!(rejected(&mut f.store, &old), InvalidReason::Expired);
    let v = verified(&mut f.store, &new);
    assert_eq!(v.id, id);
    assert_eq!(v.name, "Rotator");
    assert_eq!(v.environment, Environment::Staging);
    assert_eq!(f.count(), 1, "rotation must not create a key");

    let trail = f.store.audit_trail(WS, &id).unwrap();
    let actions: Vec<_> = trail
        .iter()
        .map(|e| (e.action, e.at, e.actor.as_str()))
        .collect();
    assert_eq!(
        actions,
        vec![
            (AuditAction::Created, t0(), "alice"),
            (AuditAction::Rotated, t0() + minutes(5), "alice"),
        ]
    );
    assert!(trail[1].detail.is_some());
}

fn rotate_with_one_hour_grace_keeps_the_old_secret_for_exactly_an_hour(backend: &Backend) {
    let mut f = Fixture::new(backend);
    let original = f.create("Graceful", Environment::Production);
    let old = full(&original);
    let id = original.record.id.clone();

    let rotated = f.store.rotate_key(WS, &id, Grace::OneHour).unwrap();
    let new = full(&rotated);
    assert_eq!(verified(&mut f.store, &old).id, id);
    assert_eq!(verified(&mut f.store, &new).id, id);

    f.clock.advance(minutes(59) + TimeDelta::seconds(59));
    assert_eq!(verified(&mut f.store, &old).id, id);
    assert_eq!(f.get(&id).status_at(f.clock_now()), Status::Active);

    f.clock.advance(TimeDelta::seconds(1));
    assert_eq!(rejected(&mut f.store, &old), InvalidReason::Expired);
    assert_eq!(verified(&mut f.store, &new).id, id);

    // Uses of both secrets count for the one key.
    assert_eq!(f.store.flush_usage().unwrap(), 4);
    assert_eq!(f.get(&id).use_count, 4);
}

/// A grace period once given is a promise to the apps on the old secret: a later rotation
/// with a shorter grace (or none) does not cut it short. Revoking still ends it at once.
fn a_later_rotation_never_shortens_an_earlier_grace(backend: &Backend) {
    let mut f = Fixture::new(backend);
    let k = f.create("Promised a week", Environment::Production);
    let id = k.record.id.clone();
    let s0 = full(&k);
    let start = f.clock_now();
    let s1 = full(&f.store.rotate_key(WS, &id, Grace::SevenDays).unwrap());
    let s2 = full(&f.store.rotate_key(WS, &id, Grace::OneHour).unwrap());
    let s3 = full(&f.store.rotate_key(WS, &id, Grace::None).unwrap());
    f.clock.set(start + TimeDelta::hours(2));
    assert_eq!(
        verified(&mut f.store, &s0).id,
        id,
        "s0 keeps its seven days"
    );
    assert_eq!(
        rejected(&mut f.store, &s1),
        InvalidReason::Expired,
        "s1 had an hour"
    );
    assert_eq!(
        rejected(&mut f.store, &s2),
        InvalidReason::Expired,
        "s2 had none"
    );
    assert_eq!(verified(&mut f.store, &s3).id, id);
    f.clock
        .set(start + TimeDelta::days(7) - TimeDelta::seconds(1));
    assert_eq!(verified(&mut f.store, &s0).id, id);
    f.clock.set(start + TimeDelta::days(7));
    assert_eq!(rejected(&mut f.store, &s0), InvalidReason::Expired);
    f.store.revoke_key(WS, &id).unwrap();
    assert_eq!(rejected(&mut f.store, &s3), InvalidReason::Revoked);
}

/// Two admins rotate one key at once: the one whose view is out of date is refused instead of
/// printing a secret that the other rotation already killed.
fn a_rotation_of_a_key_rotated_meanwhile_is_refused(backend: &Backend) {
    let mut f = Fixture::new(backend);
    let k = f.create("Contended", Environment::Production);
    let seen = f.get(&k.record.id);
    let mut other = backend.open(99);
    let theirs = full(&other.rotate_key(WS, &seen.id, Grace::None).unwrap());
    let mut delivered = false;
    let err = f
        .store
        .rotate_key_as_seen(WS, &seen, Grace::None, |_| {
            delivered = true;
            Ok(())
        })
        .unwrap_err();
    assert!(matches!(err, Error::RotatedMeanwhile { .. }), "{err}");
    assert!(err.to_string().contains("rotated meanwhile"), "{err}");
    assert!(!delivered, "no key may be handed out");
    assert_eq!(
        verified(&mut f.store, &theirs).id,
        seen.id,
        "theirs still works"
    );
    // Looked at again, the rotation goes ahead.
    let fresh = f.get(&seen.id);
    let ours = f
        .store
        .rotate_key_as_seen(WS, &fresh, Grace::None, |_| Ok(()))
        .unwrap();
    assert_eq!(verified(&mut f.store, &full(&ours)).id, seen.id);
}

/// A key that cannot be handed over is not stored: create and rotate commit only after their
/// delivery succeeded, and a failed one changes nothing (the old secret keeps working).
fn a_key_that_cannot_be_delivered_is_never_stored(backend: &Backend) {
    let mut f = Fixture::new(backend);
    let before = backend.row_counts();
    let full_disk = || Err(std::io::Error::from_raw_os_error(28));
    let err = f
        .store
        .create_key_and(WS, NewKey::new("Unseen", Environment::Production), |_| {
            full_disk()
        })
        .unwrap_err();
    assert!(matches!(err, Error::NotDelivered { .. }), "{err}");
    assert!(err.to_string().contains("no key was created"), "{err}");
    assert_eq!(backend.row_counts(), before, "nothing written");

    let k = f.create("Kept", Environment::Production);
    let seen = f.get(&k.record.id);
    let err = f
        .store
        .rotate_key_as_seen(WS, &seen, Grace::None, |_| full_disk())
        .unwrap_err();
    assert!(
        err.to_string().contains("current secret keeps working"),
        "{err}"
    );
    assert_eq!(verified(&mut f.store, &full(&k)).id, seen.id);
    assert_eq!(f.get(&seen.id).masked_key, seen.masked_key);
    let actions: Vec<_> = f
        .store
        .audit_trail(WS, &seen.id)
        .unwrap()
        .iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(actions, vec![AuditAction::Created]);
}

fn rotating_twice_in_a_row(backend: &Backend) {
    let mut f = Fixture::new(backend);
    let k = f.create("Twice", Environment::Production);
    let id = k.record.id.clone();
    let s0 = full(&k);

    // Both immediate: only the newest secret works.
    let r1 = f.store.rotate_key(WS, &id, Grace::None).unwrap();
    let r2 = f.store.rotate_key(WS, &id, Grace::None).unwrap();
    assert_ne!(full(&r1), full(&r2));
    assert_ne!(r1.record.masked_key, r2.record.masked_key);
    assert_eq!(rejected(&mut f.store, &s0), InvalidReason::Expired);
    assert_eq!(rejected(&mut f.store, &full(&r1)), InvalidReason::Expired);
    assert_eq!(verified(&mut f.store, &full(&r2)).id, id);

    // Both with a grace period: each older secret keeps its own end.
    let k = f.create("Twice with grace", Environment::Development);
    let id = k.record.id.clone();
    let s0 = full(&k);
    let start = f.clock_now();
    let s1 = full(&f.store.rotate_key(WS, &id, Grace::OneHour).unwrap());
    f.clock.advance(minutes(10));
    let s2 = full(&f.store.rotate_key(WS, &id, Grace::OneHour).unwrap());
    for s in [&s0, &s1, &s2] {
        assert_eq!(verified(&mut f.store, s).id, id);
    }
    f.clock.set(start + minutes(60));
    assert_eq!(rejected(&mut f.store, &s0), InvalidReason::Expired);
    assert_eq!(verified(&mut f.store, &s1).id, id);
    assert_eq!(verified(&mut f.store, &s2).id, id);
    f.clock.set(start + minutes(70));
    assert_eq!(rejected(&mut f.store, &s0), InvalidReason::Expired);
    assert_eq!(rejected(&mut f.store, &s1), InvalidReason::Expired);
    assert_eq!(verified(&mut f.store, &s2).id, id);

    let actions: Vec<_> = f
        .store
        .audit_trail(WS, &id)
        .unwrap()
        .iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(
        actions,
        vec![
            AuditAction::Created,
            AuditAction::Rotated,
            AuditAction::Rotated
        ]
    );
}

fn rotating_a_default_key_keeps_it_the_default(backend: &Backend) {
    let mut f = Fixture::new(backend);
    let d = f
        .store
        .create_default_key(WS, Environment::Production)
        .unwrap();
    let r = f.store.rotate_key(WS, &d.record.id, Grace::OneDay).unwrap();
    assert!(r.record.is_default);
    assert_eq!(r.record.name, DEFAULT_KEY_NAME);
    assert_eq!(
        f.store.default_key(WS).unwrap().map(|k| k.id),
        Some(d.record.id.clone())
    );
}

fn rotate_refuses_revoked_expired_and_unknown_keys(backend: &Backend) {
    let mut f = Fixture::new(backend);
    let k = f.create("Soon revoked", Environment::Production);
    let id = k.record.id.clone();
    f.store.revoke_key(WS, &id).unwrap();
    let before = backend.row_counts();
    let err = f.store.rotate_key(WS, &id, Grace::None).unwrap_err();
    assert!(
        matches!(&err, Error::KeyRevoked { id: got } if got == &id),
        "{err:?}"
    );
    assert_one_sentence(&err);
    assert_eq!(backend.row_counts(), before);
    assert_eq!(f.get(&id).rotated_at, None);
    assert_eq!(f.get(&id).masked_key, k.record.masked_key);

    let expiring = f
        .store
        .create_key(
            WS,
            NewKey {
                expires_at: Some(t0() + minutes(1)),
                ..NewKey::new("Short-lived", Environment::Staging)
            },
        )
        .unwrap();
    f.clock.advance(minutes(2));
    let err = f
        .store
        .rotate_key(WS, &expiring.record.id, Grace::None)
        .unwrap_err();
    assert!(matches!(err, Error::KeyExpired { .. }), "{err:?}");
    assert_one_sentence(&err);

    let err = f
        .store
        .rotate_key(WS, "key_00000000", Grace::None)
        .unwrap_err();
    assert!(matches!(err, Error::KeyNotFound { .. }), "{err:?}");
    assert_one_sentence(&err);
}

fn revoke_stops_every_secret_of_the_key_for_good(backend: &Backend) {
    let mut f = Fixture::new(backend);
    let k = f.create("Compromised", Environment::Production);
    let id = k.record.id.clone();
    let s0 = full(&k);
    let bystander = f.create("Bystander", Environment::Production);

    f.clock.advance(minutes(1));
    let s1 = full(&f.store.rotate_key(WS, &id, Grace::SevenDays).unwrap());
    assert_eq!(
        verified(&mut f.store, &s0).id,
        id,
        "s0 is in its grace period"
    );
    assert_eq!(verified(&mut f.store, &s1).id, id);

    f.clock.advance(minutes(1));
    let revoked = f.store.revoke_key(WS, &id).unwrap();
    assert_eq!(revoked.revoked_at, Some(t0() + minutes(2)));
    assert_eq!(revoked.status_at(f.clock_now()), Status::Revoked);
    assert_eq!(revoked.id, id);
    assert_eq!(rejected(&mut f.store, &s0), InvalidReason::Revoked);
    assert_eq!(rejected(&mut f.store, &s1), InvalidReason::Revoked);
    // Revoked is final: still revoked a week later, and not "expired".
    f.clock.advance(TimeDelta::days(8));
    assert_eq!(rejected(&mut f.store, &s1), InvalidReason::Revoked);
    assert_eq!(f.get(&id).status_at(f.clock_now()), Status::Revoked);
    // Other keys are untouched.
    assert_eq!(
        verified(&mut f.store, &full(&bystander)).id,
        bystander.record.id
    );

    let before = backend.row_counts();
    let err = f.store.revoke_key(WS, &id).unwrap_err();
    assert!(
        matches!(&err, Error::KeyRevoked { id: got } if got == &id),
        "{err:?}"
    );
    assert_one_sentence(&err);
    assert_eq!(backend.row_counts(), before);
    assert_eq!(f.get(&id).revoked_at, Some(t0() + minutes(2)));

    let trail: Vec<_> = f
        .store
        .audit_trail(WS, &id)
        .unwrap()
        .into_iter()
        .map(|e| (e.action, e.at, e.actor))
        .collect();
    assert_eq!(
        trail,
        vec![
            (AuditAction::Created, t0(), "alice".to_owned()),
            (AuditAction::Rotated, t0() + minutes(1), "alice".to_owned()),
            (AuditAction::Revoked, t0() + minutes(2), "alice".to_owned()),
        ]
    );

    // Revoked keys stay listed.
    assert_eq!(f.count(), 2);
    let revoked_only = f
        .store
        .list_keys(
            WS,
            &KeyQuery {
                status: Some(Status::Revoked),
                ..query()
            },
        )
        .unwrap();
    assert_eq!(ids(&revoked_only), vec![id.clone()]);

    let err = f.store.revoke_key(WS, "key_ffffffff").unwrap_err();
    assert!(matches!(err, Error::KeyNotFound { .. }), "{err:?}");
}

fn keys_expire_at_their_expiry_time(backend: &Backend) {
    let mut f = Fixture::new(backend);
    let expires = t0() + TimeDelta::hours(1);
    let k = f
        .store
        .create_key(
            WS,
            NewKey {
                expires_at: Some(expires),
                ..NewKey::new("Temporary", Environment::Staging)
            },
        )
        .unwrap();
    let id = k.record.id.clone();
    let key = full(&k);
    let forever = f.create("Forever", Environment::Staging);
    assert_eq!(k.record.expires_at, Some(expires));
    assert_eq!(k.record.status_at(t0()), Status::Active);
    assert_eq!(verified(&mut f.store, &key).id, id);

    let by_status = |store: &Store, status| {
        ids(&store
            .list_keys(
                WS,
                &KeyQuery {
                    status: Some(status),
                    ..query()
                },
            )
            .unwrap())
    };

    f.clock.set(expires - TimeDelta::seconds(1));
    assert_eq!(verified(&mut f.store, &key).id, id);
    assert_eq!(
        by_status(&f.store, Status::Active),
        vec![forever.record.id.clone(), id.clone()]
    );
    assert!(by_status(&f.store, Status::Expired).is_empty());

    f.clock.set(expires);
    let record = f.get(&id);
    assert_eq!(record.status_at(f.clock_now()), Status::Expired);
    assert_eq!(by_status(&f.store, Status::Expired), vec![id.clone()]);
    assert_eq!(
        by_status(&f.store, Status::Active),
        vec![forever.record.id.clone()]
    );
    assert_eq!(
        f.store
            .count_keys(
                WS,
                &KeyQuery {
                    status: Some(Status::Expired),
                    ..query()
                }
            )
            .unwrap(),
        1
    );
    assert_eq!(rejected(&mut f.store, &key), InvalidReason::Expired);
    assert_eq!(
        verified(&mut f.store, &full(&forever)).id,
        forever.record.id
    );

    // Revoking an expired key is allowed, and revoked wins over expired.
    let revoked = f.store.revoke_key(WS, &id).unwrap();
    assert_eq!(revoked.status_at(f.clock_now()), Status::Revoked);
    assert_eq!(rejected(&mut f.store, &key), InvalidReason::Revoked);
    assert!(by_status(&f.store, Status::Expired).is_empty());
    assert_eq!(by_status(&f.store, Status::Revoked), vec![id]);
}

fn an_expiry_in_the_past_is_refused(backend: &Backend) {
    let mut f = Fixture::new(backend);
    let before = backend.row_counts();
    for at in [
        t0() - TimeDelta::seconds(1),
        t0(),
        t0() - TimeDelta::days(400),
    ] {
        let err = f
            .store
            .create_key(
                WS,
                NewKey {
                    expires_at: Some(at),
                    ..NewKey::new("Past", Environment::Production)
                },
            )
            .unwrap_err();
        assert!(matches!(err, Error::ExpiryInPast), "{at}: {err:?}");
        assert_one_sentence(&err);
    }
    assert_eq!(backend.row_counts(), before);
    assert_eq!(f.count(), 0);
}

fn malformed_and_unknown_keys_are_rejected(backend: &Backend) {
    let mut f = Fixture::new(backend);
    let k = f.create("Real", Environment::Production);
    let key = full(&k);

    let mut wrong_checksum = key.clone().into_bytes();
    let last = wrong_checksum.len() - 1;
    wrong_checksum[last] = if wrong_checksum[last] == b'A' {
        b'B'
    } else {
        b'A'
    };
    let wrong_checksum = String::from_utf8(wrong_checksum).unwrap();
    let mut wrong_secret_char = key.clone().into_bytes();
    wrong_secret_char[15] = if wrong_secret_char[15] == b'z' {
        b'y'
    } else {
        b'z'
    };
    let wrong_secret_char = String::from_utf8(wrong_secret_char).unwrap();
    let huge = format!("fhk_prod_{}", "A".repeat(10 * 1024 * 1024));
    let huge_repeats = key.repeat(10 * 1024 * 1024 / key.len());
    let non_ascii = format!("{}é{}", &key[..20], &key[22..]);

    let malformed: Vec<String> = vec![
        String::new(),
        "fhk_".into(),
        "fhk_prod_".into(),
        format!("fhx{}", &key[3..]),
        key.replacen("fhk_", "FHK_", 1),
        key.replacen("_prod_", "_live_", 1),
        key.replacen("_prod_", "_stg_", 1),
        wrong_checksum,
        wrong_secret_char,
        key[..key.len() - 1].to_owned(),
        format!("{key}\n"),
        format!("{key}\r\n"),
        format!(" {key}"),
        format!("{key} "),
        format!("{key}{key}"),
        non_ascii,
        huge,
        huge_repeats,
    ];
    for input in &malformed {
        let shown: String = input.chars().take(60).collect();
        assert_eq!(
            f.store.verify(input).unwrap(),
            Verification::Invalid(InvalidReason::Malformed),
            "{shown:?} (len {})",
            input.len()
        );
    }

    // Well formed, never issued.
    for (env, seed) in [
        (Environment::Production, 999),
        (Environment::Staging, 1000),
        (Environment::Development, 1001),
    ] {
        let stranger = Secret::generate(env, &mut SeededEntropy::new(seed)).unwrap();
        assert_eq!(
            rejected(&mut f.store, stranger.expose()),
            InvalidReason::NotFound
        );
    }

    // None of that counted as a use.
    assert_eq!(f.store.pending_usage(), 0);
    assert_eq!(f.store.flush_usage().unwrap(), 0);
    assert_eq!(f.get(&k.record.id).use_count, 0);
    assert_eq!(f.get(&k.record.id).last_used_at, None);
    assert_eq!(verified(&mut f.store, &key).id, k.record.id);
}

fn usage_is_recorded_on_flush_and_on_drop(backend: &Backend) {
    let mut f = Fixture::new(backend);
    let k = f.create("Busy key", Environment::Production);
    let other = f.create("Idle key", Environment::Production);
    let id = k.record.id.clone();
    let key = full(&k);

    f.clock
        .set(t0() + minutes(1) + TimeDelta::milliseconds(750));
    for _ in 0..3 {
        verified(&mut f.store, &key);
    }
    rejected(&mut f.store, &key.replacen("_prod_", "_dev_", 1));
    assert_eq!(f.store.pending_usage(), 3);
    // Buffered: not in the store yet.
    assert_eq!(f.get(&id).use_count, 0);
    assert_eq!(f.get(&id).last_used_at, None);

    assert_eq!(f.store.flush_usage().unwrap(), 3);
    assert_eq!(f.store.pending_usage(), 0);
    assert_eq!(f.store.flush_usage().unwrap(), 0);
    let r = f.get(&id);
    assert_eq!(r.use_count, 3);
    assert_eq!(
        r.last_used_at,
        Some(t0() + minutes(1)),
        "last used is kept to the second"
    );
    assert_eq!(f.get(&other.record.id).use_count, 0);
    assert_eq!(f.get(&other.record.id).last_used_at, None);

    let days = f.store.daily_usage(WS, &id, 30).unwrap();
    assert_eq!(days.len(), 30);
    assert_eq!(days.last().unwrap().date, t0().date_naive());
    assert_eq!(days.last().unwrap().count, 3);
    assert_eq!(days.iter().map(|d| d.count).sum::<u64>(), 3);
    assert!(days.windows(2).all(|w| w[0].date < w[1].date));

    // Around midnight one batch covers two days.
    let midnight = Utc.with_ymd_and_hms(2026, 3, 2, 0, 0, 0).unwrap();
    f.clock.set(midnight - TimeDelta::seconds(1));
    verified(&mut f.store, &key);
    f.clock.set(midnight + TimeDelta::seconds(1));
    verified(&mut f.store, &key);
    verified(&mut f.store, &key);
    assert_eq!(f.store.flush_usage().unwrap(), 3);
    let days = f.store.daily_usage(WS, &id, 2).unwrap();
    let counts: Vec<_> = days.iter().map(|d| (d.date, d.count)).collect();
    assert_eq!(
        counts,
        vec![(t0().date_naive(), 4), (midnight.date_naive(), 2)]
    );
    let r = f.get(&id);
    assert_eq!(r.use_count, 6);
    assert_eq!(r.last_used_at, Some(midnight + TimeDelta::seconds(1)));

    // Unflushed verifications are written when the store is dropped.
    f.clock.set(midnight + minutes(10));
    for _ in 0..4 {
        verified(&mut f.store, &key);
    }
    verified(&mut f.store, &full(&other));
    assert_eq!(f.store.pending_usage(), 5);
    drop(f.store);
    let second = backend.open(2);
    assert_eq!(second.pending_usage(), 0);
    let r = second.get_key(WS, &id).unwrap();
    assert_eq!(r.use_count, 10);
    assert_eq!(r.last_used_at, Some(midnight + minutes(10)));
    let o = second.get_key(WS, &other.record.id).unwrap();
    assert_eq!(o.use_count, 1);
    assert_eq!(o.last_used_at, Some(midnight + minutes(10)));
    assert_eq!(
        second
            .daily_usage(WS, &id, 1)
            .unwrap()
            .iter()
            .map(|d| d.count)
            .collect::<Vec<_>>(),
        vec![6]
    );
}

fn last_used_never_moves_backwards(backend: &Backend) {
    let mut f = Fixture::new(backend);
    let k = f.create("Shared", Environment::Production);
    let id = k.record.id.clone();
    let key = full(&k);
    let t1 = t0() + TimeDelta::hours(1);
    let t2 = t0() + TimeDelta::hours(2);

    f.clock.set(t2);
    verified(&mut f.store, &key);
    assert_eq!(f.store.flush_usage().unwrap(), 1);
    assert_eq!(f.get(&id).last_used_at, Some(t2));

    // Another process whose clock is behind (or whose batch lands late).
    let late_clock = Arc::new(ManualClock::new(t1));
    let mut late = Store::open_with(
        &backend.location,
        StoreOptions {
            usage_flush_interval: Duration::from_secs(3600),
            ..store_options(&late_clock, 7)
        },
    )
    .unwrap();
    assert_eq!(verified(&mut late, &key).id, id);
    assert_eq!(late.flush_usage().unwrap(), 1);
    let r = late.get_key(WS, &id).unwrap();
    assert_eq!(r.last_used_at, Some(t2), "last used moved backwards");
    assert_eq!(r.use_count, 2, "the late use still counts");
    assert_eq!(f.get(&id).last_used_at, Some(t2));

    // A later use does move it forward.
    let t3 = t0() + TimeDelta::hours(3);
    late_clock.set(t3);
    verified(&mut late, &key);
    drop(late);
    assert_eq!(f.get(&id).last_used_at, Some(t3));
    assert_eq!(f.get(&id).use_count, 3);
}

fn search(store: &Store, workspace: &str, text: &str) -> Vec<String> {
    let q = KeyQuery {
        search: Some(text.to_owned()),
        ..query()
    };
    let found = store.list_keys(workspace, &q).unwrap();
    assert_eq!(
        store.count_keys(workspace, &q).unwrap(),
        found.len() as u64,
        "count and list disagree for {text:?}"
    );
    ids(&found)
}

fn search_is_case_insensitive_over_name_masked_key_and_id(backend: &Backend) {
    let mut f = Fixture::new(backend);
    let equipe = f.create("équipe alpha", Environment::Production);
    f.clock.advance(minutes(1));
    let equipe2 = f.create("ÉQUIPE Beta", Environment::Staging);
    f.clock.advance(minutes(1));
    let gamma = f.create("Gamma", Environment::Development);
    f.clock.advance(minutes(1));
    let tokyo = f.create("東京 worker", Environment::Production);
    let (e1, e2, g, t) = (
        equipe.record.id.clone(),
        equipe2.record.id.clone(),
        gamma.record.id.clone(),
        tokyo.record.id.clone(),
    );

    // Names, in either case, including non-ASCII letters.
    assert_eq!(search(&f.store, WS, "ÉQUIPE"), vec![e2.clone(), e1.clone()]);
    assert_eq!(search(&f.store, WS, "équipe"), vec![e2.clone(), e1.clone()]);
    assert_eq!(search(&f.store, WS, "Équipe ALPHA"), vec![e1.clone()]);
    assert_eq!(search(&f.store, WS, "beta"), vec![e2.clone()]);
    assert_eq!(search(&f.store, WS, "gAmMa"), vec![g.clone()]);
    assert_eq!(search(&f.store, WS, "東京"), vec![t.clone()]);
    assert_eq!(search(&f.store, WS, "WORKER"), vec![t.clone()]);

    // Masked keys, as shown and in another case.
    let masked = &gamma.record.masked_key;
    assert_eq!(search(&f.store, WS, masked), vec![g.clone()]);
    assert_eq!(
        search(&f.store, WS, &masked.to_uppercase()),
        vec![g.clone()]
    );
    assert_eq!(
        search(&f.store, WS, &masked.to_lowercase()),
        vec![g.clone()]
    );
    let tail = &masked[masked.len() - 4..];
    assert!(search(&f.store, WS, tail).contains(&g));
    assert_eq!(
        search(&f.store, WS, "fhk_dev_"),
        vec![g.clone()],
        "only Gamma is a development key"
    );
    assert_eq!(
        search(&f.store, WS, "FHK_PROD_"),
        vec![t.clone(), e1.clone()]
    );

    // Ids, whole, partial and upper-cased.
    assert_eq!(search(&f.store, WS, &g), vec![g.clone()]);
    assert_eq!(search(&f.store, WS, &g.to_uppercase()), vec![g.clone()]);
    assert!(search(&f.store, WS, &g[..8]).contains(&g));
    assert_eq!(search(&f.store, WS, "key_").len(), 4);

    // No match across field boundaries, no wildcards, no match in other workspaces.
    assert!(search(&f.store, WS, "gammafhk_").is_empty());
    assert!(search(&f.store, WS, "%").is_empty());
    assert!(search(&f.store, WS, "no such key").is_empty());
    assert!(search(&f.store, "globex", "équipe").is_empty());

    // An empty search lists everything.
    assert_eq!(search(&f.store, WS, "").len(), 4);
}

fn filters_combine_and_results_are_newest_first(backend: &Backend) {
    let mut f = Fixture::new(backend);
    let a = f.create("A prod", Environment::Production);
    f.clock.advance(minutes(1));
    let b = f.create("B staging", Environment::Staging);
    f.clock.advance(minutes(1));
    let c = f.create("C dev", Environment::Development);
    f.clock.advance(minutes(1));
    let d = f.create("D prod revoked", Environment::Production);
    f.store.revoke_key(WS, &d.record.id).unwrap();
    f.clock.advance(minutes(1));
    let e = f
        .store
        .create_key(
            WS,
            NewKey {
                expires_at: Some(f.clock_now() + TimeDelta::hours(1)),
                ..NewKey::new("E staging expiring", Environment::Staging)
            },
        )
        .unwrap();
    f.clock.advance(TimeDelta::hours(2));
    let [a, b, c, d, e] = [a, b, c, d, e].map(|k| k.record.id);

    let list = |env: Option<Environment>, status: Option<Status>, search: Option<&str>| {
        let q = KeyQuery {
            environment: env,
            status,
            search: search.map(str::to_owned),
            ..query()
        };
        let found = f.store.list_keys(WS, &q).unwrap();
        assert_eq!(f.store.count_keys(WS, &q).unwrap(), found.len() as u64);
        // Newest first.
        assert!(found.windows(2).all(|w| w[0].created_at >= w[1].created_at));
        // Every record matches the filters.
        for r in &found {
            if let Some(env) = env {
                assert_eq!(r.environment, env);
            }
            if let Some(status) = status {
                assert_eq!(r.status_at(f.clock_now()), status);
            }
        }
        ids(&found)
    };

    use Environment::*;
    assert_eq!(
        list(None, None, None),
        vec![e.clone(), d.clone(), c.clone(), b.clone(), a.clone()]
    );
    assert_eq!(
        list(Some(Production), None, None),
        vec![d.clone(), a.clone()]
    );
    assert_eq!(list(Some(Staging), None, None), vec![e.clone(), b.clone()]);
    assert_eq!(list(Some(Development), None, None), vec![c.clone()]);
    assert_eq!(
        list(None, Some(Status::Active), None),
        vec![c.clone(), b.clone(), a.clone()]
    );
    assert_eq!(list(None, Some(Status::Revoked), None), vec![d.clone()]);
    assert_eq!(list(None, Some(Status::Expired), None), vec![e.clone()]);
    assert_eq!(
        list(Some(Staging), Some(Status::Active), None),
        vec![b.clone()]
    );
    assert_eq!(
        list(Some(Staging), Some(Status::Expired), None),
        vec![e.clone()]
    );
    assert_eq!(
        list(Some(Production), Some(Status::Revoked), None),
        vec![d.clone()]
    );
    assert!(list(Some(Production), Some(Status::Expired), None).is_empty());
    assert!(list(Some(Development), Some(Status::Revoked), None).is_empty());
    assert_eq!(
        list(Some(Production), Some(Status::Active), Some("PROD")),
        vec![a.clone()]
    );
    assert_eq!(
        list(None, None, Some("staging")),
        vec![e.clone(), b.clone()]
    );
    assert_eq!(
        list(None, Some(Status::Active), Some("staging")),
        vec![b.clone()]
    );
    assert!(list(Some(Development), None, Some("prod")).is_empty());

    // Unknown workspaces are empty, not errors.
    for ws in ["globex", "ACME", "acme "] {
        assert!(
            f.store.list_keys(ws, &query()).unwrap().is_empty(),
            "{ws:?}"
        );
        assert_eq!(f.store.count_keys(ws, &query()).unwrap(), 0, "{ws:?}");
    }
}

fn paging_with_limit_and_offset(backend: &Backend) {
    let mut f = Fixture::new(backend);
    let mut created = Vec::new();
    for i in 0..25 {
        created.push(
            f.create(&format!("k{i:02}"), Environment::Development)
                .record
                .id,
        );
        f.clock.advance(TimeDelta::seconds(1));
    }
    // Three more created in the same second: newest (last inserted) still comes first.
    for i in 25..28 {
        created.push(
            f.create(&format!("k{i:02}"), Environment::Development)
                .record
                .id,
        );
    }
    created.reverse();
    let all = f.store.list_keys(WS, &query()).unwrap();
    assert_eq!(ids(&all), created);

    let page = |limit: Option<usize>, offset: usize| {
        let q = KeyQuery {
            limit,
            offset,
            ..query()
        };
        assert_eq!(
            f.store.count_keys(WS, &q).unwrap(),
            28,
            "count ignores paging"
        );
        ids(&f.store.list_keys(WS, &q).unwrap())
    };
    assert_eq!(page(Some(10), 0), created[..10]);
    assert_eq!(page(Some(10), 10), created[10..20]);
    assert_eq!(page(Some(10), 20), created[20..]);
    assert!(page(Some(10), 30).is_empty());
    assert!(page(Some(0), 0).is_empty());
    assert_eq!(page(None, 5), created[5..]);
    assert_eq!(page(Some(1), 27), created[27..]);
    assert_eq!(page(Some(usize::MAX), 0), created);
    assert!(page(None, usize::MAX).is_empty());

    let mut stitched = Vec::new();
    let mut offset = 0;
    loop {
        let p = page(Some(7), offset);
        if p.is_empty() {
            break;
        }
        offset += p.len();
        stitched.extend(p);
    }
    assert_eq!(stitched, created);
}

fn resolve_by_id_or_unique_exact_name(backend: &Backend) {
    let mut f = Fixture::new(backend);
    let a = f.create("Shared name", Environment::Production);
    let b = f.create("Shared name", Environment::Staging);
    let c = f.create("Unique", Environment::Development);
    let foreign = f
        .store
        .create_key("globex", NewKey::new("Elsewhere", Environment::Production))
        .unwrap();

    assert_eq!(
        f.store.resolve_key(WS, &a.record.id).unwrap(),
        f.get(&a.record.id)
    );
    assert_eq!(
        f.store.resolve_key(WS, &b.record.id).unwrap().id,
        b.record.id
    );
    assert_eq!(f.store.resolve_key(WS, "Unique").unwrap().id, c.record.id);

    let err = f.store.resolve_key(WS, "Shared name").unwrap_err();
    match &err {
        Error::AmbiguousKey {
            workspace,
            candidates,
            ..
        } => {
            assert_eq!(workspace, WS);
            assert_eq!(candidates.len(), 2, "{candidates:?}");
            assert!(
                candidates.iter().any(|c| c.contains(&a.record.id)),
                "{candidates:?}"
            );
            assert!(
                candidates.iter().any(|c| c.contains(&b.record.id)),
                "{candidates:?}"
            );
        }
        other => panic!("expected AmbiguousKey, got {other:?}"),
    }
    let message = err.to_string();
    assert!(
        message.contains(&a.record.id) && message.contains(&b.record.id),
        "{message}"
    );
    assert_one_sentence(&err);

    for unknown in ["nope", "key_00000000", "unique", "Shared", ""] {
        let err = f.store.resolve_key(WS, unknown).unwrap_err();
        assert!(
            matches!(err, Error::KeyNotFound { .. }),
            "{unknown:?}: {err:?}"
        );
        assert_one_sentence(&err);
    }
    // A query full of escapes is not echoed raw.
    let err = f
        .store
        .resolve_key(WS, "\u{1b}]52;c;ZXZpbA==\u{7}\nnext line")
        .unwrap_err();
    assert!(matches!(err, Error::KeyNotFound { .. }), "{err:?}");
    assert_one_sentence(&err);

    // Keys of other workspaces are invisible, by id and by name.
    for q in [foreign.record.id.as_str(), "Elsewhere"] {
        assert!(
            matches!(f.store.resolve_key(WS, q), Err(Error::KeyNotFound { .. })),
            "{q}"
        );
    }
    assert!(matches!(
        f.store.get_key(WS, &foreign.record.id),
        Err(Error::KeyNotFound { .. })
    ));
    assert!(matches!(
        f.store.resolve_key("globex", &a.record.id),
        Err(Error::KeyNotFound { .. })
    ));
    assert!(matches!(
        f.store.revoke_key(WS, &foreign.record.id),
        Err(Error::KeyNotFound { .. })
    ));
    assert!(matches!(
        f.store.rotate_key(WS, &foreign.record.id, Grace::None),
        Err(Error::KeyNotFound { .. })
    ));
    assert!(
        f.store
            .audit_trail(WS, &foreign.record.id)
            .unwrap()
            .is_empty()
    );
    let still = f.store.get_key("globex", &foreign.record.id).unwrap();
    assert_eq!(still.revoked_at, None);
    assert_eq!(still.rotated_at, None);
    assert_eq!(
        f.store.resolve_key("globex", "Elsewhere").unwrap().id,
        foreign.record.id
    );
}

/// Creates `count` keys named `prefix0`, `prefix1`, … once every thread is at the barrier.
fn create_many(
    store: &mut Store,
    prefix: &str,
    count: usize,
    barrier: &Barrier,
) -> Vec<(String, String)> {
    barrier.wait();
    (0..count)
        .map(|i| {
            let issued = store
                .create_key(
                    WS,
                    NewKey::new(format!("{prefix}{i}"), Environment::Production),
                )
                .unwrap_or_else(|e| panic!("{prefix}{i}: {e}"));
            (issued.record.id.clone(), full(&issued))
        })
        .collect()
}

fn two_connections_write_at_once_and_see_each_other(backend: &Backend) {
    let mut a = backend.open(11);
    let mut b = backend.open(22);
    let version_before = a.data_version().unwrap();
    assert_eq!(
        a.data_version().unwrap(),
        version_before,
        "nothing changed yet"
    );

    const EACH: usize = 200;
    let barrier = Barrier::new(2);
    let (from_a, from_b) = std::thread::scope(|s| {
        let ta = s.spawn(|| create_many(&mut a, "a", EACH, &barrier));
        let tb = s.spawn(|| create_many(&mut b, "b", EACH, &barrier));
        (ta.join().unwrap(), tb.join().unwrap())
    });

    for store in [&a, &b] {
        assert_eq!(store.count_keys(WS, &query()).unwrap(), 2 * EACH as u64);
        let mut all = ids(&store.list_keys(WS, &query()).unwrap());
        all.sort();
        all.dedup();
        assert_eq!(all.len(), 2 * EACH, "ids are unique");
    }
    assert_ne!(a.data_version().unwrap(), version_before);
    assert_eq!(backend.row_counts()[3], 2 * EACH as i64, "audit events");

    // A revoke through one connection is seen by verify through the other.
    let (victim_id, victim_key) = &from_a[17];
    let (_, b_key) = &from_b[42];
    assert_eq!(&verified(&mut b, victim_key).id, victim_id);
    assert_eq!(&verified(&mut a, b_key).id, &from_b[42].0);
    let seen_by_b = b.data_version().unwrap();
    let seen_by_a = a.data_version().unwrap();
    a.revoke_key(WS, victim_id).unwrap();
    // At the commit on SQLite; on PostgreSQL when its NOTIFY arrives, moments later.
    let committed = Instant::now();
    while b.data_version().unwrap() == seen_by_b {
        assert!(
            committed.elapsed() < backend.propagation,
            "b must notice a's commit"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
    // Another connection's change reaches a verifier within its check interval.
    std::thread::sleep(backend.propagation);
    assert_eq!(rejected(&mut b, victim_key), InvalidReason::Revoked);
    assert_eq!(
        b.get_key(WS, victim_id).unwrap().status_at(t0()),
        Status::Revoked
    );
    // And the other way round.
    b.rotate_key(WS, &from_b[42].0, Grace::None).unwrap();
    assert_ne!(
        a.data_version().unwrap(),
        seen_by_a,
        "a must notice b's commit"
    );
    std::thread::sleep(backend.propagation);
    assert_eq!(rejected(&mut a, b_key), InvalidReason::Expired);

    // Usage flushed by one is visible to the other.
    a.flush_usage().unwrap();
    b.flush_usage().unwrap();
    assert_eq!(a.get_key(WS, victim_id).unwrap().use_count, 1);
    assert_eq!(b.get_key(WS, &from_b[42].0).unwrap().use_count, 1);
}

/// Two admins (or a gateway's `hivekeys verify` calls) may open a store that does not exist
/// yet at the same moment: every one of them must get a working store, not "busy" and not
/// "a database of another program".
fn many_processes_opening_a_new_store_at_once_all_succeed(backend: &Backend) {
    for round in 0..20 {
        // Each round a store nobody has opened yet: a new file, or a new empty database.
        let fresh = backend.fresh();
        const THREADS: usize = 8;
        let barrier = Barrier::new(THREADS);
        let results: Vec<Result<String, String>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..THREADS)
                .map(|i| {
                    let (fresh, barrier) = (&fresh, &barrier);
                    s.spawn(move || {
                        barrier.wait();
                        let mut store = Store::open_with(
                            &fresh.location,
                            fresh.options((round * 100 + i) as u64),
                        )
                        .map_err(|e| format!("open: {e:?}"))?;
                        store
                            .create_key(WS, NewKey::new(format!("t{i}"), Environment::Staging))
                            .map(|k| k.record.id)
                            .map_err(|e| format!("create: {e:?}"))
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let failures: Vec<_> = results.iter().filter_map(|r| r.as_ref().err()).collect();
        assert!(failures.is_empty(), "round {round}: {failures:?}");
        let store = fresh.open(9999);
        assert_eq!(store.count_keys(WS, &query()).unwrap(), THREADS as u64);
    }
}

fn verification_sees_every_change_another_connection_has_committed(backend: &Backend) {
    // `verify` remembers what it read while the keys do not change; each of these changes,
    // made through a second store on the same file, must show once the verifier's check
    // interval has passed (PRODUCT.md allows 100 ms), and one made through the verifying
    // store itself at once.
    let mut f = Fixture::new(backend);
    let a = f.create("Gateway key", Environment::Production);
    let b = f.create("Batch key", Environment::Staging);
    let (key_a, key_b) = (full(&a), full(&b));
    for _ in 0..3 {
        assert_eq!(verified(&mut f.store, &key_a).id, a.record.id);
    }
    let settle = || std::thread::sleep(backend.propagation);

    let mut admin = backend.open(9);
    admin.revoke_key(WS, &a.record.id).unwrap();
    settle();
    assert_eq!(rejected(&mut f.store, &key_a), InvalidReason::Revoked);

    let rotated = admin.rotate_key(WS, &b.record.id, Grace::None).unwrap();
    settle();
    assert_eq!(rejected(&mut f.store, &key_b), InvalidReason::Expired);
    assert_eq!(verified(&mut f.store, &full(&rotated)).id, b.record.id);

    let fresh = admin
        .create_key(WS, NewKey::new("Created later", Environment::Development))
        .unwrap();
    settle();
    assert_eq!(verified(&mut f.store, &full(&fresh)).id, fresh.record.id);

    // Changes by the verifying store's own write connection count at once.
    f.store.revoke_key(WS, &fresh.record.id).unwrap();
    assert_eq!(
        rejected(&mut f.store, &full(&fresh)),
        InvalidReason::Revoked
    );

    // And a raw connection (any other program) is seen as well: the schema's triggers count
    // its change too.
    let c = admin
        .create_key(WS, NewKey::new("Raw", Environment::Production))
        .unwrap();
    settle();
    assert_eq!(verified(&mut f.store, &full(&c)).id, c.record.id);
    backend.raw().execute(
        "UPDATE keys SET revoked_at = 1 WHERE public_id = $1",
        &[&c.record.id],
    );
    settle();
    assert_eq!(rejected(&mut f.store, &full(&c)), InvalidReason::Revoked);

    // Use-count bookkeeping alone leaves what the verifier remembers in place.
    f.store.flush_usage().unwrap();
    admin.flush_usage().unwrap();
    let before = f.store.keys_version().unwrap();
    verified(&mut admin, &full(&rotated));
    admin.flush_usage().unwrap();
    assert_eq!(f.store.keys_version().unwrap(), before);
}

/// A daily limit refuses the uses past it (not counting them) and starts again at 00:00 UTC;
/// counts written and counts still buffered both count, never twice.
fn a_daily_limit_refuses_past_it_and_resets_at_midnight_utc(backend: &Backend) {
    let mut f = Fixture::new(backend);
    let midnight = Utc.with_ymd_and_hms(2026, 3, 2, 0, 0, 0).unwrap();
    f.clock.set(midnight - TimeDelta::seconds(10));
    let issued = f
        .store
        .create_key(
            WS,
            NewKey {
                daily_limit: Some(3),
                ..NewKey::new("Metered", Environment::Production)
            },
        )
        .unwrap();
    let key = full(&issued);
    let remaining = |store: &mut Store| verified(store, &key).allowance.map(|a| a.remaining);
    assert_eq!(remaining(&mut f.store), Some(2));
    f.store.flush_usage().unwrap(); // one written…
    assert_eq!(remaining(&mut f.store), Some(1)); // …one buffered
    assert_eq!(remaining(&mut f.store), Some(0));
    for _ in 0..3 {
        assert_eq!(
            rejected(&mut f.store, &key),
            InvalidReason::RateLimited { daily_limit: 3 }
        );
    }
    f.store.flush_usage().unwrap();
    assert_eq!(
        rejected(&mut f.store, &key),
        InvalidReason::RateLimited { daily_limit: 3 }
    );
    assert_eq!(
        f.get(&issued.record.id).use_count,
        3,
        "refusals are not uses"
    );

    f.clock.set(midnight);
    assert_eq!(remaining(&mut f.store), Some(2), "a new UTC day");

    // Raised, lowered, removed: each change counts at once and is audited.
    f.store
        .set_daily_limit(WS, &issued.record.id, Some(1))
        .unwrap();
    assert_eq!(
        rejected(&mut f.store, &key),
        InvalidReason::RateLimited { daily_limit: 1 }
    );
    let record = f
        .store
        .set_daily_limit(WS, &issued.record.id, None)
        .unwrap();
    assert_eq!(record.daily_limit, None);
    assert_eq!(verified(&mut f.store, &key).allowance, None);
    let actions: Vec<_> = f
        .store
        .audit_trail(WS, &issued.record.id)
        .unwrap()
        .into_iter()
        .map(|e| (e.action, e.detail))
        .collect();
    assert_eq!(
        actions[1..],
        [
            (AuditAction::LimitChanged, Some("1 uses a day".to_owned())),
            (AuditAction::LimitChanged, Some("no limit".to_owned())),
        ]
    );
    for bad in [Some(0), Some(1_000_000_001)] {
        let err = f
            .store
            .set_daily_limit(WS, &issued.record.id, bad)
            .unwrap_err();
        assert!(matches!(err, Error::InvalidDailyLimit), "{err}");
    }
}

/// Issue 12: a rename changes the name (and what search finds) and is audited "OLD → NEW";
/// the same name writes nothing; a name is judged as at creation (a full key in it refused,
/// masked in the message); a revoked key keeps its name; a verifier on another connection
/// answers with the new name within the propagation bound.
fn a_rename_is_audited_searchable_and_judged_as_a_new_name(backend: &Backend) {
    let mut f = Fixture::new(backend);
    let issued = f.create("Billing", Environment::Production);
    let id = issued.record.id.clone();
    let key = full(&issued);
    let mut gateway = backend.open(2);
    assert_eq!(verified(&mut gateway, &key).name, "Billing");

    f.clock.advance(minutes(5));
    let renamed = f.store.rename_key(WS, &id, "  Payments  ").unwrap();
    assert_eq!(renamed.name, "Payments", "trimmed as at creation");
    assert_eq!(
        (renamed.masked_key.as_str(), renamed.created_at),
        (issued.record.masked_key.as_str(), issued.record.created_at),
        "only the name changes"
    );
    assert_eq!(f.get(&id).name, "Payments");
    let trail = f.store.audit_trail(WS, &id).unwrap();
    let last = trail.last().unwrap();
    assert_eq!(
        (last.action, last.detail.as_deref(), last.at),
        (
            AuditAction::Renamed,
            Some("Billing → Payments"),
            t0() + minutes(5)
        )
    );
    assert_eq!(last.actor, "alice");
    let found = |store: &Store, text: &str| {
        let query = KeyQuery {
            search: Some(text.into()),
            ..KeyQuery::default()
        };
        ids(&store.list_keys(WS, &query).unwrap())
    };
    assert_eq!(
        found(&f.store, "PAYM"),
        [id.as_str()],
        "search finds the new name"
    );
    assert!(found(&f.store, "billing").is_empty(), "and not the old one");
    assert_eq!(f.store.resolve_key(WS, "Payments").unwrap().id, id);

    // Another process's verifier answers with the new name within the bound.
    let deadline = Instant::now() + backend.propagation * 3;
    while verified(&mut gateway, &key).name != "Payments" {
        assert!(
            Instant::now() < deadline,
            "the rename never reached the verifier"
        );
        std::thread::sleep(Duration::from_millis(5));
    }

    // The same name (after trimming) is no change: nothing is written.
    let before = backend.row_counts();
    let version = f.store.keys_version().unwrap();
    assert_eq!(
        f.store.rename_key(WS, &id, "Payments ").unwrap().name,
        "Payments"
    );
    assert_eq!(backend.row_counts(), before);
    assert_eq!(f.store.keys_version().unwrap(), version, "no key changed");

    // Names are judged as at creation, with the same errors; nothing is written.
    let masked = hivekeys::key::mask(&key);
    for bad in [
        String::new(),
        "   ".to_owned(),
        "tab	here".to_owned(),
        "x".repeat(65),
        format!("leaked {key}"),
    ] {
        let refused = f.store.rename_key(WS, &id, &bad).unwrap_err();
        let at_creation = f
            .store
            .create_key(WS, NewKey::new(bad.clone(), Environment::Production))
            .unwrap_err();
        assert_eq!(refused.to_string(), at_creation.to_string(), "{bad:?}");
        assert!(matches!(refused, Error::InvalidName(_)), "{refused:?}");
        assert!(!refused.to_string().contains(&key[9..41]), "{refused}");
    }
    let leaked = f
        .store
        .rename_key(WS, &id, &format!("leaked {key}"))
        .unwrap_err();
    assert!(leaked.to_string().contains(&masked), "{leaked}");
    assert_eq!(
        backend.row_counts(),
        before,
        "a refused name wrote something"
    );
    assert_eq!(f.get(&id).name, "Payments");

    // A revoked key keeps its name, as rotate and revoke refuse it; an unknown id is named.
    f.store.revoke_key(WS, &id).unwrap();
    let err = f.store.rename_key(WS, &id, "Ghost").unwrap_err();
    assert!(
        matches!(&err, Error::KeyRevoked { id: i } if *i == id),
        "{err:?}"
    );
    assert_eq!(f.get(&id).name, "Payments");
    let err = f.store.rename_key(WS, "key_00000000", "Ghost").unwrap_err();
    assert!(matches!(err, Error::KeyNotFound { .. }), "{err:?}");

    // Withdrawn under the lock: nothing changes.
    let other = f.create("Search", Environment::Staging).record.id;
    let err = f
        .store
        .rename_key_unless(WS, &other, "Finder", || true)
        .unwrap_err();
    assert!(matches!(err, Error::Withdrawn), "{err:?}");
    assert_eq!(f.get(&other).name, "Search");
}

/// Two processes verifying one limited key overshoot it by at most what the other has not
/// written yet (its bookkeeping interval's worth), and not at all once it has.
fn processes_sharing_a_limit_overshoot_by_at_most_the_unwritten_uses(backend: &Backend) {
    let mut f = Fixture::new(backend);
    let issued = f
        .store
        .create_key(
            WS,
            NewKey {
                daily_limit: Some(5),
                ..NewKey::new("Shared limit", Environment::Production)
            },
        )
        .unwrap();
    let key = full(&issued);
    let mut other = backend.open(12);
    for _ in 0..3 {
        verified(&mut other, &key);
    }
    // `other`'s three uses are still in its memory: this store cannot see them.
    let mut allowed = 0;
    while matches!(f.store.verify(&key).unwrap(), Verification::Valid(_)) {
        allowed += 1;
    }
    assert_eq!(allowed, 5, "overshoot of 3: exactly other's unwritten uses");
    // Once written, they count everywhere.
    other.flush_usage().unwrap();
    f.store.flush_usage().unwrap();
    std::thread::sleep(backend.propagation);
    assert!(matches!(
        rejected(&mut other, &key),
        InvalidReason::RateLimited { .. }
    ));
    assert_eq!(f.get(&issued.record.id).use_count, 8);
}

/// What a screen needs when only use counts changed: the bookkeeping of a few keys, without
/// the key list changing version.
fn usage_of_a_few_keys_follows_bookkeeping_without_a_key_change(backend: &Backend) {
    let mut f = Fixture::new(backend);
    let a = f.create("Used", Environment::Production);
    let b = f.create("Unused", Environment::Production);
    let version = f.store.keys_version().unwrap();
    f.clock.advance(minutes(3));
    verified(&mut f.store, &full(&a));
    verified(&mut f.store, &full(&a));
    f.store.flush_usage().unwrap();
    assert_eq!(
        f.store.keys_version().unwrap(),
        version,
        "bookkeeping is no key change"
    );
    let usage = f
        .store
        .usage_of(WS, &[&a.record.id, &b.record.id, "key_00000000"])
        .unwrap();
    let usage: Vec<_> = usage
        .into_iter()
        .map(|u| u.map(|u| (u.last_used_at, u.use_count)))
        .collect();
    assert_eq!(usage[0], Some((Some(t0() + minutes(3)), 2)));
    assert_eq!(usage[1], Some((None, 0)));
    assert_eq!(usage[2], None);
    f.store.revoke_key(WS, &b.record.id).unwrap();
    assert_ne!(f.store.keys_version().unwrap(), version, "a revocation is");
}

/// One process verifying a limited key while its bookkeeping thread writes batches every
/// 10 ms: exactly the limit is let through — a batch committing in the middle of a count is
/// counted once, neither twice (a refusal too early) nor not at all (an overshoot).
fn a_limit_is_exact_in_one_process_while_batches_are_written(backend: &Backend) {
    let mut store = Store::open_with(
        &backend.location,
        StoreOptions {
            usage_flush_interval: Duration::from_millis(10),
            ..backend.options(3)
        },
    )
    .unwrap();
    let issued = store
        .create_key(
            WS,
            NewKey {
                daily_limit: Some(20_000),
                ..NewKey::new("Busy", Environment::Production)
            },
        )
        .unwrap();
    let key = full(&issued);
    let mut allowed = 0u64;
    loop {
        match store.verify(&key).unwrap() {
            Verification::Valid(_) => allowed += 1,
            Verification::Invalid(InvalidReason::RateLimited { .. }) => break,
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(allowed, 20_000);
    store.flush_usage().unwrap();
    assert_eq!(
        store.get_key(WS, &issued.record.id).unwrap().use_count,
        20_000
    );
}

fn buffered_usage_is_written_by_the_background_timer(backend: &Backend) {
    let mut store = Store::open_with(
        &backend.location,
        StoreOptions {
            usage_flush_interval: Duration::from_millis(50),
            ..backend.options(1)
        },
    )
    .unwrap();
    let k = store
        .create_key(WS, NewKey::new("Timed", Environment::Production))
        .unwrap();
    for _ in 0..5 {
        verified(&mut store, &full(&k));
    }
    // Nobody calls flush: the batch must reach the file on its own, seen by another reader.
    let reader = backend.open(2);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let r = reader.get_key(WS, &k.record.id).unwrap();
        if r.use_count == 5 {
            assert_eq!(r.last_used_at, Some(t0()));
            break;
        }
        assert!(
            r.use_count == 0,
            "a partial batch was written: {}",
            r.use_count
        );
        assert!(Instant::now() < deadline, "the timer never wrote the batch");
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(store.pending_usage(), 0);
    assert_eq!(
        store.flush_usage().unwrap(),
        0,
        "nothing may be written twice"
    );
    drop(store);
    assert_eq!(reader.get_key(WS, &k.record.id).unwrap().use_count, 5);
}

fn a_full_batch_is_written_without_waiting_for_the_timer(backend: &Backend) {
    let mut f = Fixture::new(backend);
    let k = f.create("Hot", Environment::Production);
    let key = full(&k);
    for _ in 0..hivekeys::store::FLUSH_AT_COUNT {
        verified(&mut f.store, &key);
    }
    // The fixture's timer is an hour: only the size of the batch can have started this write.
    let deadline = Instant::now() + Duration::from_secs(20);
    while f.get(&k.record.id).use_count == 0 {
        assert!(
            Instant::now() < deadline,
            "the full batch was never written"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(
        f.get(&k.record.id).use_count,
        hivekeys::store::FLUSH_AT_COUNT as u64
    );
    verified(&mut f.store, &key);
    assert_eq!(f.store.flush_usage().unwrap(), 1);
    assert_eq!(
        f.get(&k.record.id).use_count,
        hivekeys::store::FLUSH_AT_COUNT as u64 + 1
    );
}

fn a_name_shared_by_more_than_twenty_keys_says_so(backend: &Backend) {
    let mut f = Fixture::new(backend);
    for _ in 0..22 {
        f.create("Worker", Environment::Development);
    }
    let err = f.store.resolve_key(WS, "Worker").unwrap_err();
    match &err {
        Error::AmbiguousKey {
            candidates, more, ..
        } => {
            assert_eq!(candidates.len(), 20);
            assert!(*more);
        }
        other => panic!("expected AmbiguousKey, got {other:?}"),
    }
    assert!(
        err.to_string().contains("matches more than 20 keys"),
        "{err}"
    );
}

fn a_name_or_workspace_holding_a_key_is_refused_and_nothing_is_written(backend: &Backend) {
    let mut f = Fixture::new(backend);
    let issued = f.create("real", Environment::Production);
    let key = full(&issued);
    let masked = hivekeys::key::mask(&key);
    let before = backend.row_counts();
    for name in [
        key.clone(),
        format!("my key is {key}"),
        format!("  {key}  "),
        format!("x{key}y"),
    ] {
        for is_default in [false, true] {
            let new = NewKey {
                is_default,
                ..NewKey::new(name.clone(), Environment::Production)
            };
            let err = f.store.create_key(WS, new).unwrap_err();
            assert_eq!(
                err.to_string(),
                format!(
                    "Invalid name: the key name contains the API key {masked}, and names are stored and shown in plain text."
                )
            );
            assert_one_sentence(&err);
        }
        let err = f
            .store
            .create_key(&name, NewKey::new("fine", Environment::Staging))
            .unwrap_err();
        assert!(
            matches!(&err, Error::InvalidName(NameError::ContainsKey { what: "workspace", masked: m }) if *m == masked),
            "{err:?}"
        );
        assert!(!err.to_string().contains(&key[9..41]), "{err}");
        assert!(f.store.fill_demo(&name, 3, 1).is_err());
        assert!(f.store.resolve_key(&name, "real").is_err());
    }
    assert_eq!(
        backend.row_counts(),
        before,
        "a refused name wrote something"
    );
    if let Some(file) = backend.file() {
        let bytes = std::fs::read(file).unwrap();
        assert!(!crate::common::contains(&bytes, key.as_bytes()));
    }
}

fn verify_in_a_workspace_accepts_only_that_workspaces_keys(backend: &Backend) {
    let mut f = Fixture::new(backend);
    let ours = full(&f.create("ours", Environment::Production));
    let theirs = f
        .store
        .create_key("other", NewKey::new("theirs", Environment::Staging))
        .unwrap();
    let theirs_id = theirs.record.id.clone();
    let theirs = full(&theirs);
    let revoked = f
        .store
        .create_key("other", NewKey::new("revoked", Environment::Staging))
        .unwrap();
    f.store.revoke_key("other", &revoked.record.id).unwrap();
    let revoked = full(&revoked);

    let in_ws = |store: &mut Store, ws: Option<&str>, key: &str| store.verify_in(ws, key).unwrap();
    assert!(
        matches!(in_ws(&mut f.store, Some(WS), &ours), Verification::Valid(v) if v.workspace == WS)
    );
    // Surrounding spaces name the same workspace, as everywhere else.
    assert!(matches!(
        in_ws(&mut f.store, Some(" acme "), &ours),
        Verification::Valid(_)
    ));
    for (ws, key) in [
        (Some(WS), &theirs),
        (Some("nowhere"), &theirs),
        (Some("nowhere"), &ours),
        (Some("other"), &ours),
        // Another workspace's revoked key is not even confirmed to exist.
        (Some(WS), &revoked),
    ] {
        assert_eq!(
            in_ws(&mut f.store, ws, key),
            Verification::Invalid(InvalidReason::NotFound),
            "{ws:?}"
        );
    }
    assert_eq!(
        in_ws(&mut f.store, Some("other"), &revoked),
        Verification::Invalid(InvalidReason::Revoked)
    );
    assert_eq!(
        in_ws(&mut f.store, Some(WS), "fhk_prod_short"),
        Verification::Invalid(InvalidReason::Malformed)
    );
    // Without a workspace, any workspace's key, as before.
    assert!(
        matches!(in_ws(&mut f.store, None, &theirs), Verification::Valid(v) if v.workspace == "other")
    );
    assert!(matches!(
        f.store.verify_in(Some("bad\nname"), &ours),
        Err(Error::InvalidName(_))
    ));

    // Refusals are not uses: only the one accepted verification of "theirs" counts.
    f.store.flush_usage().unwrap();
    assert_eq!(f.store.get_key("other", &theirs_id).unwrap().use_count, 1);
}

fn demo_counts_the_default_key_among_its_keys(backend: &Backend) {
    let mut f = Fixture::new(backend);
    assert_eq!(f.store.fill_demo(WS, 0, 1).unwrap().keys, 0);
    assert_eq!(f.count(), 0, "zero keys adds nothing, not even the default");
    let one = f.store.fill_demo(WS, 1, 1).unwrap();
    assert_eq!((one.keys, one.default_key_created), (1, true));
    assert_eq!(f.count(), 1);
    assert!(f.store.default_key(WS).unwrap().is_some());
    let more = f.store.fill_demo(WS, 5, 2).unwrap();
    assert_eq!((more.keys, more.default_key_created), (5, false));
    assert_eq!(f.count(), 6);
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
    create_key_records_every_field_and_the_key_verifies,
    default_key_is_unique_per_workspace_while_active,
    an_expired_default_makes_room_for_a_new_one,
    bad_names_are_rejected_and_nothing_is_written,
    wide_emoji_and_padded_names_round_trip,
    rotate_without_grace_stops_the_old_secret_at_once,
    rotate_with_one_hour_grace_keeps_the_old_secret_for_exactly_an_hour,
    a_later_rotation_never_shortens_an_earlier_grace,
    a_rotation_of_a_key_rotated_meanwhile_is_refused,
    a_key_that_cannot_be_delivered_is_never_stored,
    rotating_twice_in_a_row,
    rotating_a_default_key_keeps_it_the_default,
    rotate_refuses_revoked_expired_and_unknown_keys,
    revoke_stops_every_secret_of_the_key_for_good,
    keys_expire_at_their_expiry_time,
    an_expiry_in_the_past_is_refused,
    malformed_and_unknown_keys_are_rejected,
    usage_is_recorded_on_flush_and_on_drop,
    last_used_never_moves_backwards,
    search_is_case_insensitive_over_name_masked_key_and_id,
    filters_combine_and_results_are_newest_first,
    paging_with_limit_and_offset,
    resolve_by_id_or_unique_exact_name,
    two_connections_write_at_once_and_see_each_other,
    many_processes_opening_a_new_store_at_once_all_succeed,
    verification_sees_every_change_another_connection_has_committed,
    a_daily_limit_refuses_past_it_and_resets_at_midnight_utc,
    a_rename_is_audited_searchable_and_judged_as_a_new_name,
    processes_sharing_a_limit_overshoot_by_at_most_the_unwritten_uses,
    usage_of_a_few_keys_follows_bookkeeping_without_a_key_change,
    a_limit_is_exact_in_one_process_while_batches_are_written,
    buffered_usage_is_written_by_the_background_timer,
    a_full_batch_is_written_without_waiting_for_the_timer,
    a_name_shared_by_more_than_twenty_keys_says_so,
    a_name_or_workspace_holding_a_key_is_refused_and_nothing_is_written,
    verify_in_a_workspace_accepts_only_that_workspaces_keys,
    demo_counts_the_default_key_among_its_keys,
];
