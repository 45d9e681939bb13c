//! The server going away and coming back, with this test binary's own cluster: the only test
//! here, because every other test on the cluster would fail while it is stopped.

#[path = "common/postgres.rs"]
mod pg;

use hivekeys::Error;
use hivekeys::store::postgres::{PgUrl, connect, migrate, query_error};

#[test]
fn a_stopped_server_is_unreachable_and_a_restarted_one_answers_again() {
    let url = PgUrl::parse_with(&pg::own_database(), |_| None).unwrap();
    let mut client = connect(&url).unwrap();
    migrate(&mut client, &url).unwrap();
    client
        .batch_execute("INSERT INTO workspaces (name, created_at) VALUES ('kept', 1)")
        .unwrap();

    pg::stop_server();
    // The open session was cut: its next query fails, as a sentence worth retrying.
    let err = client
        .query_one("SELECT count(*) FROM workspaces", &[])
        .map(|_| ())
        .map_err(|err| query_error(&url, &err))
        .unwrap_err();
    assert!(matches!(err, Error::StoreUnreachable { .. }), "{err:?}");
    assert!(client.is_closed());
    // A new connection is refused at once.
    let err = connect(&url).map(|_| ()).unwrap_err();
    assert!(matches!(err, Error::StoreUnreachable { .. }), "{err:?}");
    assert!(err.to_string().contains("connection refused"), "{err}");

    pg::start_server();
    let mut client = connect(&url).unwrap_or_else(|err| panic!("{err}"));
    migrate(&mut client, &url).unwrap();
    let count: i64 = client
        .query_one("SELECT count(*) FROM workspaces", &[])
        .unwrap()
        .get(0);
    assert_eq!(count, 1);
}
