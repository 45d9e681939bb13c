//! `hivekeys serve` started for a test, and the CLI run against the same store.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Stdio};

use serde_json::Value;

use super::hivekeys_on;

/// Runs a CLI command on `db` and returns its stdout, trimmed; it must succeed.
pub fn cli_ok(db: &Path, args: &[&str]) -> String {
    let out = hivekeys_on(db, args).output().expect("run hivekeys");
    assert!(
        out.status.success(),
        "hivekeys {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .expect("UTF-8")
        .trim()
        .to_owned()
}

/// `hivekeys serve --listen 127.0.0.1:0` (plus `extra`) over `db`, once it said it is ready.
pub struct Served {
    pub child: Child,
    pub address: SocketAddr,
}

impl Served {
    pub fn start(db: &Path, extra: &[&str]) -> Served {
        let mut args = vec!["serve", "--listen", "127.0.0.1:0"];
        args.extend_from_slice(extra);
        Served::start_command(hivekeys_on(db, args))
    }

    /// `serve` run by `command` (which names the store and the listening address).
    pub fn start_command(mut command: std::process::Command) -> Served {
        let mut child = command.stdout(Stdio::null()).spawn().expect("start serve");
        let mut stderr = BufReader::new(child.stderr.take().expect("stderr"));
        let mut line = String::new();
        stderr.read_line(&mut line).expect("the readiness line");
        let address = line
            .trim()
            .strip_prefix("listening on http://")
            .unwrap_or_else(|| panic!("not a readiness line: {line:?}"))
            .parse()
            .expect("an address");
        // Keep draining stderr so the service never blocks on a full pipe.
        std::thread::spawn(move || std::io::copy(&mut stderr, &mut std::io::sink()));
        Served { child, address }
    }
}

/// Keys of every kind in one store: valid (one in a workspace with a non-ASCII name),
/// revoked, rotated out, and one well-formed key the store has never seen.
pub struct Keys {
    pub valid: String,
    pub valid_id: String,
    pub tokyo: String,
    pub tokyo_id: String,
    pub revoked: String,
    pub rotated_out: String,
    pub unknown: String,
}

/// Makes [`Keys`] in the store at `db` (and the unknown one in a store beside it).
pub fn keys_in(db: &Path) -> Keys {
    let valid = cli_ok(db, &["create", "--name", "gateway", "--env", "prod"]);
    let tokyo = cli_ok(
        db,
        &[
            "--workspace",
            "東京",
            "create",
            "--name",
            "tk",
            "--env",
            "stg",
        ],
    );
    let revoked = cli_ok(db, &["create", "--name", "gone", "--env", "dev"]);
    cli_ok(db, &["revoke", "gone", "--yes"]);
    let rotated_out = cli_ok(db, &["create", "--name", "old", "--env", "prod"]);
    cli_ok(db, &["rotate", "old", "--yes"]);
    let elsewhere = db.with_file_name("elsewhere.db");
    let unknown = cli_ok(&elsewhere, &["create", "--name", "x", "--env", "prod"]);
    let id_of = |workspace: &str, name: &str| {
        let list: Value =
            serde_json::from_str(&cli_ok(db, &["--workspace", workspace, "list", "--json"]))
                .expect("list --json");
        list.as_array()
            .expect("an array")
            .iter()
            .find(|key| key["name"] == name)
            .and_then(|key| key["id"].as_str())
            .unwrap_or_else(|| panic!("no key {name} in {list}"))
            .to_owned()
    };
    Keys {
        valid_id: id_of("default", "gateway"),
        tokyo_id: id_of("東京", "tk"),
        valid,
        tokyo,
        revoked,
        rotated_out,
        unknown,
    }
}

/// The status of one request to `address` (`GET path`, with `headers`), on a connection of
/// its own; `None` when the service could not be reached or did not answer.
pub fn status_of(address: SocketAddr, path: &str, headers: &[String]) -> Option<u16> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(address).ok()?;
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .ok()?;
    let mut request = format!("GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n");
    for header in headers {
        request.push_str(header);
        request.push_str("\r\n");
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).ok()?;
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    String::from_utf8_lossy(&answer)
        .split(' ')
        .nth(1)?
        .parse()
        .ok()
}

/// The status `GET /v1/auth` answers for `key` at `address`.
pub fn auth_status(address: SocketAddr, key: &str) -> Option<u16> {
    status_of(
        address,
        "/v1/auth",
        &[format!("Authorization: Bearer {key}")],
    )
}
