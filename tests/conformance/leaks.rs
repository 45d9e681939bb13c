//! Leaked secrets, on both backends: what the store says of a batch of digests a scan found
//! (live, revoked, expired, unknown), in input order, across workspaces.

use chrono::TimeDelta;
use hivekeys::key::KeyHash;
use hivekeys::store::{FoundKey, Grace, LeakState};
use hivekeys::{Environment, NewKey};

use crate::{Backend, t0};

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

conformance!(
    find_keys_by_hash_answers_each_state_in_input_order,
    find_keys_by_hash_answers_batches_larger_than_a_statement,
    find_keys_by_hash_writes_nothing,
);
