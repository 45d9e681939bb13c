//! The PostgreSQL server going away under a running `serve` and an open dashboard, and
//! coming back: the service fails closed (503, never a 200 it cannot vouch for) while the
//! server is gone, the dashboard says so and keeps its screen, and both carry on without a
//! restart once it is back. The only test of its binary, because it stops the cluster this
//! process owns.

mod common;

use std::time::{Duration, Instant};

use common::dashboard::Dashboard;
use common::postgres::{own_database, start_server, stop_server};
use common::serve::{Served, auth_status, status_of};

#[test]
fn serve_fails_closed_and_the_dashboard_keeps_its_screen_while_the_server_is_gone() {
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
    let mut dashboard = Dashboard::open(&url);
    assert!(dashboard.screen_after_tick().contains("app"));
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
    // The dashboard says so, and keeps what it showed.
    let screen = dashboard.screen_after_tick();
    assert!(
        screen.contains("Cannot reach the PostgreSQL server"),
        "{screen}"
    );
    assert!(screen.contains("app"), "{screen}");

    start_server();
    let started = Instant::now();
    // Checks and health come back on their own (each connection with its own back-off).
    while auth_status(address, &key) != Some(200)
        || status_of(address, "/healthz", &[]) != Some(200)
    {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "serve did not recover after the server came back"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    eprintln!("server back → 200 after {:?}", started.elapsed());
    // Another admin's key reaches the dashboard within 2 s of the server being back.
    let added = cli(&["create", "--name", "after the outage", "--env", "dev"]);
    assert!(added.status.success());
    let created = Instant::now();
    while !dashboard.screen_after_tick().contains("after the outage") {
        assert!(
            created.elapsed() < Duration::from_secs(2),
            "the dashboard did not show a key created after the outage"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = served.child.kill();
    let _ = served.child.wait();
}
