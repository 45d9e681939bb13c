//! `hivekeys serve` as a gateway sees it: the real binary on a loopback port, spoken to over
//! plain TCP so that every byte of a request (and every malformed one) is the test's choice.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use common::serve::{Served, cli_ok as cli, keys_in};
use serde_json::Value;
use tempfile::TempDir;

mod common;

/// How long a test waits for the service to start or stop.
const WAIT: Duration = Duration::from_secs(10);

struct Service {
    _dir: TempDir,
    db: PathBuf,
    child: Child,
    address: SocketAddr,
}

impl Service {
    /// A store with the keys `setup` makes, and `serve` on a free loopback port over it.
    fn start(extra: &[&str], setup: impl FnOnce(&Path)) -> Service {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = dir.path().join("store.db");
        cli(&db, &["list"]);
        setup(&db);
        let Served { child, address } = Served::start(&db, extra);
        Service {
            _dir: dir,
            db,
            child,
            address,
        }
    }

    fn connect(&self) -> TcpStream {
        let stream = TcpStream::connect(self.address).expect("connect");
        stream.set_read_timeout(Some(WAIT)).unwrap();
        stream
    }

    /// Sends `raw` (a whole request, which should say `Connection: close`) and reads the
    /// answer to the end.
    fn exchange(&self, raw: &[u8]) -> Answer {
        let mut stream = self.connect();
        stream.write_all(raw).expect("send");
        let mut bytes = Vec::new();
        let _ = stream.read_to_end(&mut bytes);
        Answer::parse(&bytes)
    }

    fn get(&self, path: &str, headers: &[&str]) -> Answer {
        self.request("GET", path, headers, "")
    }

    fn request(&self, method: &str, path: &str, headers: &[&str], body: &str) -> Answer {
        let mut raw = format!("{method} {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n");
        for header in headers {
            raw.push_str(header);
            raw.push_str("\r\n");
        }
        if !body.is_empty() || method == "POST" {
            raw.push_str(&format!("Content-Length: {}\r\n", body.len()));
        }
        raw.push_str("\r\n");
        raw.push_str(body);
        self.exchange(raw.as_bytes())
    }

    fn auth(&self, key: &str) -> Answer {
        self.get("/v1/auth", &[&format!("Authorization: Bearer {key}")])
    }

    fn stop(&mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        let killed = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        assert!(killed.success());
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "serve did not stop after SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[derive(Debug)]
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Answer {
    fn parse(bytes: &[u8]) -> Answer {
        let text = String::from_utf8_lossy(bytes);
        let (head, body) = text
            .split_once("\r\n\r\n")
            .unwrap_or_else(|| panic!("no complete answer: {text:?}"));
        let mut lines = head.split("\r\n");
        let status = lines
            .next()
            .and_then(|line| line.split(' ').nth(1))
            .and_then(|code| code.parse().ok())
            .unwrap_or_else(|| panic!("no status line: {text:?}"));
        let headers = lines
            .filter_map(|line| line.split_once(": "))
            .map(|(name, value)| (name.to_ascii_lowercase(), value.to_owned()))
            .collect();
        Answer {
            status,
            headers,
            body: body.to_owned(),
        }
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|_| panic!("not JSON: {self:?}"))
    }
}

#[track_caller]
fn assert_invalid_access(answer: &Answer, what: &str) {
    assert_eq!(answer.status, 401, "{what}: {answer:?}");
    assert_eq!(answer.body, r#"{"error":"Invalid access."}"#, "{what}");
    assert_eq!(answer.header("www-authenticate"), Some("Bearer"), "{what}");
    assert_eq!(
        answer.header("content-type"),
        Some("application/json"),
        "{what}"
    );
    assert!(answer.header("x-hivekeys-key-id").is_none(), "{what}");
}

#[test]
fn forward_auth_answers_as_the_product_says() {
    let mut keys = None;
    let service = Service::start(&[], |db| keys = Some(keys_in(db)));
    let keys = keys.unwrap();

    let ok = service.auth(&keys.valid);
    assert_eq!(ok.status, 200, "{ok:?}");
    assert_eq!(ok.body, "");
    assert!(ok.header("x-hivekeys-key-id").unwrap().starts_with("key_"));
    assert_eq!(ok.header("x-hivekeys-environment"), Some("production"));
    assert_eq!(ok.header("x-hivekeys-workspace"), Some("default"));

    // Any method, any path below /v1/auth.
    let below = service.request(
        "POST",
        "/v1/auth/api/chat?x=1",
        &[&format!("authorization: bearer {}", keys.tokyo)],
        "",
    );
    assert_eq!(below.status, 200, "{below:?}");
    assert_eq!(below.header("x-hivekeys-environment"), Some("staging"));
    assert_eq!(
        below.header("x-hivekeys-workspace"),
        Some("%E6%9D%B1%E4%BA%AC"),
        "non-ASCII bytes percent-encoded"
    );

    assert_invalid_access(&service.get("/v1/auth", &[]), "no header");
    assert_invalid_access(
        &service.get("/v1/auth", &["Authorization: Bearer"]),
        "no key",
    );
    let basic = format!("Authorization: Basic {}", keys.valid);
    assert_invalid_access(&service.get("/v1/auth", &[&basic]), "another scheme");
    assert_invalid_access(&service.auth("fhk_prod_nope"), "malformed");
    assert_invalid_access(&service.auth(&keys.unknown), "unknown");
    assert_invalid_access(&service.auth(&keys.revoked), "revoked");
    assert_invalid_access(&service.auth(&keys.rotated_out), "rotated out");
    let twice = format!("Authorization: Bearer {}", keys.valid);
    assert_invalid_access(&service.get("/v1/auth", &[&twice, &twice]), "two headers");
    let raw = b"GET /v1/auth HTTP/1.1\r\nHost: t\r\nConnection: close\r\nAuthorization: Bearer \xff\xfe\r\n\r\n";
    assert_invalid_access(&service.exchange(raw), "not UTF-8");
}

#[test]
fn the_json_endpoint_health_metrics_and_unknown_paths() {
    let mut keys = None;
    let service = Service::start(&[], |db| keys = Some(keys_in(db)));
    let keys = keys.unwrap();
    let verify = |key: &str| {
        service.request(
            "POST",
            "/v1/keys/verify",
            &["Content-Type: application/json"],
            &serde_json::json!({ "key": key }).to_string(),
        )
    };
    let valid = verify(&keys.valid);
    assert_eq!(valid.status, 200);
    assert!(
        valid
            .body
            .starts_with(r#"{"valid":true,"code":"VALID","id":"key_"#),
        "{valid:?}"
    );
    let body = valid.json();
    assert_eq!(body["name"], "gateway");
    assert_eq!(body["environment"], "production");
    assert_eq!(body["workspace"], "default");
    for (key, code) in [
        ("fhk_prod_nope", "MALFORMED"),
        (keys.unknown.as_str(), "NOT_FOUND"),
        (keys.revoked.as_str(), "REVOKED"),
        (keys.rotated_out.as_str(), "EXPIRED"),
    ] {
        let answer = verify(key);
        assert_eq!(answer.status, 200);
        assert_eq!(
            answer.body,
            format!(r#"{{"valid":false,"code":"{code}"}}"#),
            "{key}"
        );
    }
    for bad in ["not json", "{}", r#"{"key":42}"#, "[]"] {
        let answer = service.request("POST", "/v1/keys/verify", &[], bad);
        assert_eq!(answer.status, 400, "{bad}: {answer:?}");
        assert!(answer.json()["error"].is_string());
    }
    let huge = format!(r#"{{"key":"{}"}}"#, "a".repeat(5000));
    assert_eq!(
        service
            .request("POST", "/v1/keys/verify", &[], &huge)
            .status,
        413
    );
    let get = service.get("/v1/keys/verify", &[]);
    assert_eq!(get.status, 405);
    assert_eq!(get.header("allow"), Some("POST"));

    let health = service.get("/healthz", &[]);
    assert_eq!(
        (health.status, health.body.as_str()),
        (200, r#"{"status":"ok"}"#)
    );

    let missing = service.get("/v1/nothing", &[]);
    assert_eq!(missing.status, 404);
    assert_eq!(missing.body, r#"{"error":"Not found."}"#);

    let metrics = service.get("/metrics", &[]);
    assert_eq!(metrics.status, 200);
    for line in [
        "hivekeys_requests_total{status=\"200\"}",
        "hivekeys_requests_total{status=\"404\"} 1",
        "hivekeys_requests_total{status=\"413\"} 1",
        "hivekeys_verifications_total{code=\"VALID\"} 1",
        "hivekeys_verifications_total{code=\"NOT_FOUND\"} 1",
        "hivekeys_verify_seconds_count",
    ] {
        assert!(
            metrics.body.contains(line),
            "{line} missing:\n{}",
            metrics.body
        );
    }
    assert!(
        !metrics.body.contains("fhk_") && !metrics.body.contains("key_"),
        "metrics reveal counts only"
    );
}

/// Garbage, HTTP/1.0, pipelining, huge heads: each gets a clear status (or a closed
/// connection), nothing panics, and the service keeps answering.
#[test]
fn hostile_requests_get_a_clear_status_and_the_service_keeps_serving() {
    let mut key = String::new();
    let service = Service::start(&[], |db| {
        key = cli(db, &["create", "--name", "k", "--env", "prod"]);
    });

    let garbage = service.exchange(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03garbage\r\n\r\n");
    assert_eq!(garbage.status, 400, "{garbage:?}");

    let old = service.exchange(
        format!("GET /v1/auth HTTP/1.0\r\nAuthorization: Bearer {key}\r\n\r\n").as_bytes(),
    );
    assert_eq!(old.status, 200, "HTTP/1.0: {old:?}");

    let big = format!("X-Filler: {}", "a".repeat(64 * 1024));
    assert_eq!(service.get("/v1/auth", &[&big]).status, 431);

    // Two requests in one write; both answered, in order, on one connection.
    let mut stream = service.connect();
    let pipelined = format!(
        "GET /v1/auth HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {key}\r\n\r\n\
         GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(pipelined.as_bytes()).unwrap();
    let mut bytes = Vec::new();
    let _ = stream.read_to_end(&mut bytes);
    let text = String::from_utf8_lossy(&bytes);
    let first = text.find("HTTP/1.1 200").expect("the first answer");
    let second = text[first + 1..]
        .find("HTTP/1.1 200")
        .expect("the second answer");
    assert!(
        text[first + 1 + second..].contains(r#"{"status":"ok"}"#),
        "{text}"
    );

    assert_eq!(service.auth(&key).status, 200, "still serving");
}

/// A client that never finishes its headers is disconnected after the header timeout, while
/// others are answered meanwhile.
#[test]
fn a_client_that_does_not_finish_its_headers_is_disconnected() {
    let mut key = String::new();
    let service = Service::start(&[], |db| {
        key = cli(db, &["create", "--name", "k", "--env", "prod"]);
    });
    let mut slow = service.connect();
    slow.set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let started = Instant::now();
    slow.write_all(b"GET /v1/auth HTTP/1.1\r\nHost: t\r\nX-Slow: ")
        .unwrap();
    assert_eq!(
        service.auth(&key).status,
        200,
        "others are served meanwhile"
    );
    let mut rest = Vec::new();
    let _ = slow.read_to_end(&mut rest);
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_secs(9) && waited < Duration::from_secs(25),
        "disconnected after {waited:?}, not about 10 s"
    );
}

/// Only a workspace given explicitly narrows what `serve` accepts.
#[test]
fn an_explicit_workspace_accepts_only_its_keys() {
    let mut keys = None;
    let service = Service::start(&["--workspace", "default"], |db| keys = Some(keys_in(db)));
    let keys = keys.unwrap();
    assert_eq!(service.auth(&keys.valid).status, 200);
    assert_invalid_access(&service.auth(&keys.tokyo), "another workspace's key");
}

/// Every 200 counts one use; SIGTERM stops the service with status 0 and the use counts equal
/// the 200s answered.
#[test]
fn sigterm_writes_every_use_counted() {
    let mut key = String::new();
    let mut service = Service::start(&[], |db| {
        key = cli(db, &["create", "--name", "counted", "--env", "prod"]);
    });
    let mut answered = 0;
    for round in 0..60 {
        let answer = match round % 3 {
            0 => service.request(
                "POST",
                "/v1/keys/verify",
                &[],
                &serde_json::json!({ "key": key }).to_string(),
            ),
            1 => service.auth(&key),
            _ => service.auth("fhk_prod_nope"),
        };
        if answer.status == 200 && !answer.body.contains("false") {
            answered += 1;
        }
    }
    assert_eq!(answered, 40);
    let status = service.stop();
    assert!(status.success(), "exit status {status:?}");
    let list: Value = serde_json::from_str(&cli(&service.db, &["list", "--json"])).unwrap();
    assert_eq!(list[0]["use_count"], answered);
}

/// The store file deleted under the service: every check fails closed (503), never 200; a
/// file moved back into place is followed and served.
#[test]
fn a_store_that_cannot_be_read_fails_closed() {
    let mut key = String::new();
    let service = Service::start(&[], |db| {
        key = cli(db, &["create", "--name", "k", "--env", "prod"]);
        std::fs::copy(db, db.with_file_name("backup.db")).unwrap();
    });
    assert_eq!(service.auth(&key).status, 200);
    let aside = service.db.with_file_name("aside.db");
    std::fs::rename(&service.db, &aside).unwrap();
    let deadline = Instant::now() + WAIT;
    loop {
        let answer = service.auth(&key);
        if answer.status == 503 {
            assert_eq!(answer.body, r#"{"error":"Key store unavailable."}"#);
            break;
        }
        assert_eq!(answer.status, 200, "only 200 or 503: {answer:?}");
        assert!(Instant::now() < deadline, "never failed closed");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(service.get("/healthz", &[]).status, 503);
    std::fs::rename(service.db.with_file_name("backup.db"), &service.db).unwrap();
    let health = service.get("/healthz", &[]);
    assert_eq!(health.status, 200, "{health:?}");
    assert_eq!(service.auth(&key).status, 200);
}

/// 2,000 idle connections and a client sending one header byte a second cost the service no
/// thread each: valid requests are still answered at once meanwhile. The product's goal is
/// 10 ms; the bound here is ten times that, so a loaded test machine does not make it flaky,
/// while a service that served connections one at a time would miss it by seconds.
#[test]
fn idle_connections_and_a_slow_client_do_not_hold_up_others() {
    let mut key = String::new();
    let service = Service::start(&[], |db| {
        key = cli(db, &["create", "--name", "k", "--env", "prod"]);
    });
    let idle: Vec<TcpStream> = (0..2000).map(|_| service.connect()).collect();
    let mut slow = service.connect();
    let dripping = std::thread::spawn(move || {
        for &byte in b"GET /v1/auth HTTP/1.1\r\nHost: t\r\n" {
            if slow.write_all(&[byte]).is_err() {
                break;
            }
            std::thread::sleep(Duration::from_secs(1));
        }
    });
    // One keep-alive connection, as a gateway holds it.
    let mut stream = service.connect();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let request =
        format!("GET /v1/auth HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {key}\r\n\r\n");
    let mut times = Vec::new();
    for _ in 0..50 {
        let started = Instant::now();
        stream.write_all(request.as_bytes()).unwrap();
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        assert!(line.starts_with("HTTP/1.1 200"), "{line}");
        // The rest of the head; the body is empty.
        loop {
            line.clear();
            reader.read_line(&mut line).unwrap();
            if line == "\r\n" {
                break;
            }
        }
        times.push(started.elapsed());
        std::thread::sleep(Duration::from_millis(20));
    }
    times.sort();
    let (median, max) = (times[times.len() / 2], times[times.len() - 1]);
    eprintln!("with 2,000 idle connections and a slow client: median {median:?}, max {max:?}");
    assert!(max < Duration::from_millis(100), "max {max:?}");
    drop(idle);
    drop(dripping);
}

/// A key with a daily limit: each 200 says what is left (`RateLimit`, `RateLimit-Policy`), and
/// past the limit forward auth answers 429 with `Retry-After` until 00:00 UTC, while the JSON
/// endpoint says `RATE_LIMITED`; refusals are not counted as uses.
#[test]
fn a_daily_limit_is_answered_429_with_the_rate_limit_fields() {
    let mut key = String::new();
    let service = Service::start(&[], |db| {
        key = cli(
            db,
            &[
                "create",
                "--name",
                "metered",
                "--env",
                "prod",
                "--daily-limit",
                "3",
            ],
        );
    });
    let seconds_left = |value: &str| -> u64 {
        value
            .rsplit_once(";t=")
            .and_then(|(_, t)| t.parse().ok())
            .unwrap_or_else(|| panic!("no t= in {value}"))
    };
    for remaining in [2, 1] {
        let ok = service.auth(&key);
        assert_eq!(ok.status, 200, "{ok:?}");
        assert_eq!(
            ok.header("ratelimit-policy"),
            Some(r#""daily";q=3;w=86400"#)
        );
        let state = ok.header("ratelimit").expect("RateLimit");
        assert!(
            state.starts_with(&format!(r#""daily";r={remaining};t="#)),
            "{state}"
        );
        assert!((1..=86_400).contains(&seconds_left(state)));
    }
    let body = serde_json::json!({ "key": key }).to_string();
    let last = service
        .request("POST", "/v1/keys/verify", &[], &body)
        .json();
    assert_eq!(last["valid"], true);
    assert_eq!(last["daily_limit"], 3);
    assert_eq!(last["remaining"], 0);
    let reset = last["reset"].as_str().expect("reset");
    assert!(reset.ends_with("T00:00:00Z"), "{reset}");

    let limited = service.auth(&key);
    assert_eq!(limited.status, 429, "{limited:?}");
    assert_eq!(limited.body, r#"{"error":"Daily request limit reached."}"#);
    let retry: u64 = limited.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=86_400).contains(&retry));
    assert_eq!(
        limited.header("ratelimit-policy"),
        Some(r#""daily";q=3;w=86400"#)
    );
    let state = limited.header("ratelimit").unwrap();
    assert!(state.starts_with(r#""daily";r=0;t="#), "{state}");
    assert!(seconds_left(state).abs_diff(retry) <= 1);
    assert!(limited.header("x-hivekeys-key-id").is_none());
    let refused = service.request("POST", "/v1/keys/verify", &[], &body);
    assert_eq!(refused.body, r#"{"valid":false,"code":"RATE_LIMITED"}"#);

    let metrics = service.get("/metrics", &[]).body;
    assert!(
        metrics.contains("hivekeys_requests_total{status=\"429\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("hivekeys_verifications_total{code=\"RATE_LIMITED\"} 2"),
        "{metrics}"
    );
}

/// Hammers `/v1/auth` with `key` from `clients` keep-alive connections until `stop` is set or
/// the service goes away; returns when each 200 was received.
fn hammer(
    address: SocketAddr,
    key: &str,
    clients: usize,
    stop: &std::sync::atomic::AtomicBool,
) -> Vec<Instant> {
    use std::sync::atomic::Ordering;
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..clients)
            .map(|_| {
                scope.spawn(move || {
                    let mut answered = Vec::new();
                    let Ok(stream) = TcpStream::connect(address) else {
                        return answered;
                    };
                    stream.set_read_timeout(Some(WAIT)).unwrap();
                    let mut writer = stream.try_clone().unwrap();
                    let mut reader = BufReader::new(stream);
                    let request = format!(
                        "GET /v1/auth HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {key}\r\n\r\n"
                    );
                    while !stop.load(Ordering::Relaxed) {
                        if writer.write_all(request.as_bytes()).is_err() {
                            break;
                        }
                        let mut line = String::new();
                        if reader.read_line(&mut line).unwrap_or(0) == 0 {
                            break;
                        }
                        let ok = line.starts_with("HTTP/1.1 200");
                        let mut closing = false;
                        loop {
                            line.clear();
                            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                                closing = true;
                                break;
                            }
                            if line.eq_ignore_ascii_case("connection: close\r\n") {
                                closing = true;
                            }
                            if line == "\r\n" {
                                break;
                            }
                        }
                        if ok {
                            answered.push(Instant::now());
                        }
                        if closing {
                            break;
                        }
                    }
                    answered
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|handle| handle.join().unwrap())
            .collect()
    })
}

fn use_count(db: &Path) -> u64 {
    let list: Value = serde_json::from_str(&cli(db, &["list", "--json"])).unwrap();
    list[0]["use_count"].as_u64().unwrap()
}

/// SIGTERM while eight clients keep sending: requests in flight finish, the service exits 0,
/// and the use counts equal exactly the 200s the clients received.
#[test]
fn sigterm_under_load_counts_exactly_the_200s_answered() {
    let mut key = String::new();
    let mut service = Service::start(&[], |db| {
        key = cli(db, &["create", "--name", "loaded", "--env", "prod"]);
    });
    let stop = std::sync::atomic::AtomicBool::new(false);
    let address = service.address;
    let answered = std::thread::scope(|scope| {
        let clients = scope.spawn(|| hammer(address, &key, 8, &stop));
        std::thread::sleep(Duration::from_millis(700));
        let status = service.stop();
        assert!(status.success(), "exit status {status:?}");
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        clients.join().unwrap()
    });
    assert!(answered.len() > 100, "only {} answered", answered.len());
    assert_eq!(use_count(&service.db), answered.len() as u64);
}

/// `kill -9` while eight clients keep sending: the uses answered more than the bookkeeping
/// interval (1 s, plus a write's time) before the kill are all in the store, and nothing is
/// counted that was not answered.
#[test]
fn kill_9_under_load_loses_at_most_the_bookkeeping_interval() {
    let mut key = String::new();
    let mut service = Service::start(&[], |db| {
        key = cli(db, &["create", "--name", "killed", "--env", "prod"]);
    });
    let stop = std::sync::atomic::AtomicBool::new(false);
    let address = service.address;
    let (answered, killed_at) = std::thread::scope(|scope| {
        let clients = scope.spawn(|| hammer(address, &key, 8, &stop));
        std::thread::sleep(Duration::from_millis(2500));
        let killed_at = Instant::now();
        service.child.kill().unwrap(); // SIGKILL
        service.child.wait().unwrap();
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        (clients.join().unwrap(), killed_at)
    });
    let counted = use_count(&service.db);
    let settled = answered
        .iter()
        .filter(|at| killed_at.duration_since(**at) > Duration::from_millis(1500))
        .count() as u64;
    eprintln!(
        "kill -9 after {} answers: {counted} counted, {settled} answered 1.5 s before the kill",
        answered.len()
    );
    assert!(settled > 0, "nothing answered early enough to check");
    assert!(counted >= settled, "{counted} counted < {settled} settled");
    assert!(
        counted <= answered.len() as u64,
        "counted more than answered"
    );
}

/// A revoke by `hivekeys revoke` in another process: the next `/v1/auth` later than the bound
/// gets 401. Measured over 200 revocations, from the CLI's exit to the first 401 (PRODUCT.md:
/// 100 ms); the figures are printed (`--nocapture`).
#[test]
fn a_revoke_by_another_process_reaches_serve_within_the_bound() {
    let mut keys = Vec::new();
    let service = Service::start(&[], |db| {
        for i in 0..200 {
            keys.push(cli(
                db,
                &["create", "--name", &format!("r{i}"), "--env", "prod"],
            ));
        }
    });
    let list: Value = serde_json::from_str(&cli(&service.db, &["list", "--json"])).unwrap();
    let id_of = |name: &str| {
        list.as_array()
            .unwrap()
            .iter()
            .find(|k| k["name"] == name)
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let mut stream = service.connect();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut status_of = |key: &str| -> u16 {
        let request =
            format!("GET /v1/auth HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {key}\r\n\r\n");
        stream.write_all(request.as_bytes()).unwrap();
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        let status = line.split(' ').nth(1).unwrap().parse().unwrap();
        let mut length = 0;
        loop {
            let mut header = String::new();
            reader.read_line(&mut header).unwrap();
            if let Some(value) = header.to_ascii_lowercase().strip_prefix("content-length: ") {
                length = value.trim().parse().unwrap();
            }
            if header == "\r\n" {
                break;
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).unwrap();
        status
    };
    let mut delays = Vec::new();
    for (i, key) in keys.iter().enumerate() {
        assert_eq!(status_of(key), 200);
        cli(&service.db, &["revoke", &id_of(&format!("r{i}")), "--yes"]);
        let revoked = Instant::now();
        while status_of(key) == 200 {
            assert!(revoked.elapsed() < WAIT, "never refused");
        }
        delays.push(revoked.elapsed());
    }
    delays.sort();
    let at = |q: f64| delays[((delays.len() - 1) as f64 * q) as usize];
    eprintln!(
        "revoke → 401 over HTTP, {} revocations: p50 {:?}, p99 {:?}, max {:?}",
        delays.len(),
        at(0.5),
        at(0.99),
        at(1.0)
    );
    assert!(at(1.0) < Duration::from_millis(100), "max {:?}", at(1.0));
}
