//! Bulk revoke on both backends: the store's one-transaction rule, and the dashboard's marks
//! through the real keymap while another process revokes a marked key.

use chrono::TimeDelta;
use hivekeys::store::{AuditAction, IssuedKey, Verification};
use hivekeys::{Environment, Error, NewKey, Status, Store};

use crate::{Backend, t0};

const WS: &str = "acme";

fn create(store: &mut Store, name: &str) -> IssuedKey {
    store
        .create_key(WS, NewKey::new(name, Environment::Production))
        .unwrap()
}

fn revoked_events(store: &Store, id: &str) -> usize {
    store
        .audit_trail(WS, id)
        .unwrap()
        .iter()
        .filter(|e| e.action == AuditAction::Revoked)
        .count()
}

fn an_unknown_id_among_them_revokes_none(backend: &Backend) {
    let mut store = backend.open(1);
    let a = create(&mut store, "Billing");
    let b = create(&mut store, "Payments");
    let before = backend.row_counts();
    let err = store
        .revoke_keys(WS, &[&a.record.id, "key_ffffffff", &b.record.id])
        .unwrap_err();
    assert!(matches!(err, Error::KeyNotFound { .. }), "{err:?}");
    assert_eq!(backend.row_counts(), before, "no audit event, nothing");
    for id in [&a.record.id, &b.record.id] {
        assert_eq!(store.get_key(WS, id).unwrap().revoked_at, None, "{id}");
    }
    // A key of another workspace is not one of this workspace's either.
    let elsewhere = store
        .create_key("other", NewKey::new("Billing", Environment::Production))
        .unwrap();
    let err = store
        .revoke_keys(WS, &[&a.record.id, &elsewhere.record.id])
        .unwrap_err();
    assert!(matches!(err, Error::KeyNotFound { .. }), "{err:?}");
    assert_eq!(store.get_key(WS, &a.record.id).unwrap().revoked_at, None);
}

fn keys_revoked_meanwhile_are_reported_and_the_rest_revoked(backend: &Backend) {
    let mut store = backend.open(1);
    let mut other = backend.open(2);
    let keys: Vec<IssuedKey> = ["Billing", "Payments", "CI", "Search"]
        .iter()
        .map(|name| create(&mut store, name))
        .collect();
    let bystander = create(&mut store, "Bystander");
    backend.clock.advance(TimeDelta::minutes(1));
    other.revoke_key(WS, &keys[2].record.id).unwrap();
    backend.clock.advance(TimeDelta::minutes(1));

    let ids: Vec<&str> = keys.iter().map(|k| k.record.id.as_str()).collect();
    // A repeated id is revoked once.
    let asked = [ids[0], ids[1], ids[2], ids[0], ids[3]];
    let done = store.revoke_keys(WS, &asked).unwrap();
    let revoked: Vec<&str> = done.revoked.iter().map(|k| k.id.as_str()).collect();
    assert_eq!(revoked, [ids[0], ids[1], ids[3]], "in the order asked");
    assert_eq!(done.already_revoked.len(), 1);
    assert_eq!(done.already_revoked[0].id, ids[2]);
    assert_eq!(done.summary(), "3 keys revoked; 1 was already revoked");
    for record in &done.revoked {
        assert_eq!(record.revoked_at, Some(t0() + TimeDelta::minutes(2)));
        assert_eq!(record.status_at(store.now()), Status::Revoked);
        assert_eq!(revoked_events(&store, &record.id), 1, "one event per key");
    }
    // The one revoked meanwhile keeps its own time and its one event.
    assert_eq!(
        store.get_key(WS, ids[2]).unwrap().revoked_at,
        Some(t0() + TimeDelta::minutes(1))
    );
    assert_eq!(revoked_events(&store, ids[2]), 1);
    // Every secret stops; the bystander still verifies.
    for key in &keys {
        let verification = store.verify(key.secret.expose()).unwrap();
        assert!(
            !matches!(verification, Verification::Valid(_)),
            "{}",
            key.record.id
        );
    }
    assert!(matches!(
        store.verify(bystander.secret.expose()).unwrap(),
        Verification::Valid(_)
    ));
    // Another process sees them all revoked at once.
    for id in ids {
        assert!(other.get_key(WS, id).unwrap().revoked_at.is_some(), "{id}");
    }
}

fn a_withdrawn_bulk_revoke_changes_nothing(backend: &Backend) {
    let mut store = backend.open(1);
    let a = create(&mut store, "Billing");
    let b = create(&mut store, "Payments");
    let before = backend.row_counts();
    let err = store
        .revoke_keys_unless(WS, &[&a.record.id, &b.record.id], || true)
        .unwrap_err();
    assert!(matches!(err, Error::Withdrawn), "{err:?}");
    assert_eq!(backend.row_counts(), before);
    assert_eq!(store.get_key(WS, &b.record.id).unwrap().revoked_at, None);
    let nothing = store.revoke_keys(WS, &[]).unwrap();
    assert!(nothing.revoked.is_empty() && nothing.already_revoked.is_empty());
}

/// `hivekeys revoke A B C`: one confirmation, one transaction, the already revoked reported.
fn the_cli_revokes_several_keys_at_once(backend: &Backend) {
    let f = crate::cli::Cli::new(backend);
    let keys: Vec<String> = ["Billing", "Payments", "CI", "Search"]
        .iter()
        .map(|name| f.create(name, "prod"))
        .collect();
    let ids: Vec<String> = keys.iter().map(|key| f.id_of(key)).collect();
    f.run_ok(&["revoke", &ids[2], "--yes"]);

    // Without a terminal and without --yes: refused, nothing changes.
    let before = f.snapshot();
    f.run(&["revoke", &ids[0], &ids[1]]).one_line_error(2);
    // An unknown key among them: refused before anything is revoked.
    f.run(&["revoke", &ids[0], "key_ffffffff", "--yes"])
        .one_line_error(1);
    assert_eq!(f.snapshot(), before);

    // By id and by name, with one already revoked.
    let run = f.run_ok(&["revoke", &ids[0], "Payments", &ids[2], "--yes"]);
    assert_eq!(
        run.stdout,
        format!(
            "Revoked {} \"Billing\".\nRevoked {} \"Payments\".\n{} \"CI\" was already revoked.\n",
            ids[0], ids[1], ids[2]
        )
    );
    assert_eq!(run.stderr, "2 keys revoked; 1 was already revoked.\n");
    for (i, id) in ids.iter().enumerate() {
        let expected = if i == 3 { "active" } else { "revoked" };
        assert_eq!(f.listed(id)["status"], expected, "{id}");
    }
}

conformance! {
    the_cli_revokes_several_keys_at_once,
    an_unknown_id_among_them_revokes_none,
    keys_revoked_meanwhile_are_reported_and_the_rest_revoked,
    a_withdrawn_bulk_revoke_changes_nothing,
}
