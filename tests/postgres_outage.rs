//! The PostgreSQL server going away under a running `serve` and coming back: the service
//! fails closed (503, never a 200 it cannot vouch for) while the server is gone, and answers
//! again without a restart once it is back. The only test of its binary, because it stops the
//! cluster this process owns.

mod common;

use std::time::{Duration, Instant};

use common::postgres::{own_database, start_server, stop_server};
use common::serve::{Served, auth_status, status_of};

#[test]
fn serve_fails_closed_while_the_server_is_gone_and_recovers_without_a_restart() {
    let url = own_database();
    let sandbox = tempfile::tempdir().unwrap();
    let cli = |args: &[&str]| {
        let mut command = common::hivekeys(sandbox.path());
        command.arg("--db").arg(&url).args(args);
        command.output().unwrap()
    };
    let created = cli(&["create", "--name", "app", "--env", "prod"]);
    assert!(created.status.success());
    let key = String::from_utf8(created.stdout).unwrap().trim().to_owned();
    let mut command = common::hivekeys(sandbox.path());
    command
        .arg("--db")
        .arg(&url)
        .args(["serve", "--listen", "127.0.0.1:0"]);
    let mut served = Served::start_command(command);
    let address = served.address;
    // Remembered by the verifier before the server goes.
    for _ in 0..3 {
        assert_eq!(auth_status(address, &key), Some(200));
    }
    assert_eq!(status_of(address, "/healthz", &[]), Some(200));

    stop_server();
    let stopped = Instant::now();
    // The first answers may still be in flight as the server stops; within a moment every
    // answer is a 503, and none a 200 from memory.
    let mut first_503 = None;
    while stopped.elapsed() < Duration::from_secs(2) {
        match auth_status(address, &key) {
            Some(503) => {
                first_503.get_or_insert(stopped.elapsed());
            }
            Some(200) => assert!(first_503.is_none(), "a 200 after a 503: failing open"),
            other => panic!("answered {other:?} while the server was gone"),
        }
    }
    let first_503 = first_503.expect("never answered 503 while the server was gone");
    eprintln!("server stopped → 503 after {first_503:?}");
    assert!(first_503 < Duration::from_secs(1), "{first_503:?}");
    assert_eq!(status_of(address, "/healthz", &[]), Some(503));
    // The CLI says so in one sentence.
    let listed = cli(&["list"]);
    assert_eq!(listed.status.code(), Some(1));
    let said = String::from_utf8_lossy(&listed.stderr);
    assert!(
        said.contains("Cannot reach the PostgreSQL server"),
        "{said}"
    );
    assert_eq!(said.trim().lines().count(), 1, "{said}");

    start_server();
    let started = Instant::now();
    while auth_status(address, &key) != Some(200) {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "serve did not recover after the server came back"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    eprintln!("server back → 200 after {:?}", started.elapsed());
    assert_eq!(status_of(address, "/healthz", &[]), Some(200));
    let _ = served.child.kill();
    let _ = served.child.wait();
}
