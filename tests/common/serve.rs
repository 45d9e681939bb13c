//! `hivekeys serve` started for a test, and the CLI run against the same store.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Stdio};

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
        let mut child = hivekeys_on(db, args)
            .stdout(Stdio::null())
            .spawn()
            .expect("start serve");
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
