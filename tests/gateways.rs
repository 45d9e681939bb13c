//! hivekeys behind real gateways: nginx (`auth_request`) and Caddy (`forward_auth`) run the
//! configurations shipped in `assets/gateway/`, with only their ports and temporary paths
//! changed, in front of the real `hivekeys serve` and a small API that echoes the headers it
//! receives. Everything listens on loopback ports of its own.
//!
//! nginx and Caddy are required: a missing binary fails the test (run `.ci/run`, or
//! `apt-get install nginx-light caddy`).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use common::serve::{Keys, Served, cli_ok as cli, keys_in};
use serde_json::{Value, json};
use tempfile::TempDir;

mod common;

/// How long a test waits for a server to start or stop, or for an answer.
const WAIT: Duration = Duration::from_secs(15);
const INVALID_ACCESS: &str = r#"{"error":"Invalid access."}"#;
const LIMIT_REACHED: &str = r#"{"error":"Daily request limit reached."}"#;

// ---------------------------------------------------------------------------------------------
// hivekeys itself

/// `hivekeys serve` on a free loopback port over a store holding [`Keys`].
struct Serve {
    _dir: TempDir,
    child: Child,
    address: SocketAddr,
    keys: Keys,
}

impl Serve {
    fn start() -> Serve {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = dir.path().join("store.db");
        cli(&db, &["list"]);
        let keys = keys_in(&db);
        let Served { child, address } = Served::start(&db, &[]);
        Serve {
            _dir: dir,
            child,
            address,
            keys,
        }
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        stop(&mut self.child);
    }
}

/// SIGTERM (nginx's master then stops its workers too), then SIGKILL if it lingers; always
/// reaped.
fn stop(child: &mut Child) {
    if let Ok(Some(_)) = child.try_wait() {
        return;
    }
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let deadline = Instant::now() + WAIT;
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let _ = child.kill();
    let _ = child.wait();
}

// ---------------------------------------------------------------------------------------------
// Small HTTP servers in threads: the echoing API and a stub auth server

#[derive(Debug)]
struct Request {
    method: String,
    target: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Reads one request (head, then a Content-Length or chunked body).
fn read_request(stream: &mut TcpStream) -> Option<Request> {
    let mut bytes = Vec::new();
    let mut buffer = [0u8; 4096];
    let head_end = loop {
        if let Some(at) = find(&bytes, b"\r\n\r\n") {
            break at;
        }
        let read = stream.read(&mut buffer).ok()?;
        if read == 0 {
            return None;
        }
        bytes.extend_from_slice(&buffer[..read]);
    };
    let head = String::from_utf8_lossy(&bytes[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next()?.split(' ');
    let method = request_line.next()?.to_owned();
    let target = request_line.next()?.to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.to_ascii_lowercase(), value.trim().to_owned()))
        .collect();
    let mut body = bytes[head_end + 4..].to_vec();
    let mut request = Request {
        method,
        target,
        headers,
        body: Vec::new(),
    };
    if let Some(length) = request.header("content-length") {
        let length: usize = length.parse().ok()?;
        while body.len() < length {
            let read = stream.read(&mut buffer).ok()?;
            if read == 0 {
                return None;
            }
            body.extend_from_slice(&buffer[..read]);
        }
        request.body = body;
    } else if request
        .header("transfer-encoding")
        .is_some_and(|value| value.eq_ignore_ascii_case("chunked"))
    {
        while !body.ends_with(b"0\r\n\r\n") {
            let read = stream.read(&mut buffer).ok()?;
            if read == 0 {
                return None;
            }
            body.extend_from_slice(&buffer[..read]);
        }
        request.body = dechunk(&body);
    }
    Some(request)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

fn dechunk(mut bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(line_end) = find(bytes, b"\r\n") {
        let size = std::str::from_utf8(&bytes[..line_end])
            .ok()
            .and_then(|line| usize::from_str_radix(line.split(';').next()?.trim(), 16).ok())
            .unwrap_or(0);
        if size == 0 {
            break;
        }
        let start = line_end + 2;
        out.extend_from_slice(&bytes[start..(start + size).min(bytes.len())]);
        bytes = &bytes[(start + size + 2).min(bytes.len())..];
    }
    out
}

fn response(status: &str, headers: &[(&str, &str)], body: &str) -> Vec<u8> {
    let mut raw = format!("HTTP/1.1 {status}\r\n");
    for (name, value) in headers {
        raw.push_str(&format!("{name}: {value}\r\n"));
    }
    raw.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    ));
    raw.into_bytes()
}

/// A loopback HTTP server in a thread: one request per connection, answered by `respond`.
/// It counts the requests it answered; dropping it stops the thread.
struct ThreadServer {
    address: SocketAddr,
    answered: Arc<AtomicUsize>,
    stopping: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl ThreadServer {
    fn start(respond: fn(&Request) -> Vec<u8>) -> ThreadServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let address = listener.local_addr().unwrap();
        let answered = Arc::new(AtomicUsize::new(0));
        let stopping = Arc::new(AtomicBool::new(false));
        let thread = {
            let answered = answered.clone();
            let stopping = stopping.clone();
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    if stopping.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(mut stream) = stream else { continue };
                    let answered = answered.clone();
                    std::thread::spawn(move || {
                        stream.set_read_timeout(Some(WAIT)).unwrap();
                        if let Some(request) = read_request(&mut stream) {
                            let answer = respond(&request);
                            answered.fetch_add(1, Ordering::SeqCst);
                            let _ = stream.write_all(&answer);
                        }
                    });
                }
            })
        };
        ThreadServer {
            address,
            answered,
            stopping,
            thread: Some(thread),
        }
    }

    fn answered(&self) -> usize {
        self.answered.load(Ordering::SeqCst)
    }
}

impl Drop for ThreadServer {
    fn drop(&mut self) {
        self.stopping.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.address);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The API behind the gateway: answers every request with a JSON echo of what it received.
fn echo(request: &Request) -> Vec<u8> {
    let headers: Vec<Value> = request
        .headers
        .iter()
        .map(|(name, value)| json!([name, value]))
        .collect();
    let body = json!({
        "echo": true,
        "method": request.method,
        "target": request.target,
        "headers": headers,
        "body": String::from_utf8_lossy(&request.body),
    });
    response(
        "200 OK",
        &[("Content-Type", "application/json")],
        &body.to_string(),
    )
}

/// Where `hivekeys serve` would be, answering as it will for a key over its daily limit
/// (`Bearer limited`) or when its store is gone (`Bearer down`).
fn refusing_auth(request: &Request) -> Vec<u8> {
    if request.header("authorization") == Some("Bearer down") {
        return response(
            "503 Service Unavailable",
            &[("Content-Type", "application/json")],
            r#"{"error":"Key store unavailable."}"#,
        );
    }
    response(
        "429 Too Many Requests",
        &[
            ("Content-Type", "application/json"),
            ("Retry-After", "60"),
            ("RateLimit-Policy", "\"daily\";q=5;w=86400"),
            ("RateLimit", "\"daily\";r=0;t=60"),
        ],
        LIMIT_REACHED,
    )
}

// ---------------------------------------------------------------------------------------------
// The gateways

/// The installed binary, or a failure that says how to install it (never a skip).
fn installed(name: &str, package: &str) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/usr/bin")])
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
        .unwrap_or_else(|| {
            panic!(
                "{name} is not installed, and the gateway tests need it: run `.ci/run` \
                 (it installs it) or `apt-get install -y {package}`"
            )
        })
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port()
}

fn asset(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("assets/gateway")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `text` with `from` replaced by `to`; `from` must occur exactly once, so an edit of the
/// shipped configuration that this test no longer understands fails loudly.
#[track_caller]
fn replace_once(text: &str, from: &str, to: &str) -> String {
    assert_eq!(
        text.matches(from).count(),
        1,
        "expected `{from}` exactly once in the shipped configuration"
    );
    text.replacen(from, to, 1)
}

struct Gateway {
    name: &'static str,
    dir: TempDir,
    child: Child,
    address: SocketAddr,
}

impl Gateway {
    /// nginx running `assets/gateway/nginx.conf`, its ports and temporary paths changed.
    fn nginx(auth: SocketAddr, api: SocketAddr) -> Gateway {
        let nginx = installed("nginx", "nginx-light");
        let dir = tempfile::tempdir().expect("tempdir");
        let base = dir.path().display().to_string();
        let port = free_port();
        let mut config = asset("nginx.conf");
        config = replace_once(
            &config,
            "server 127.0.0.1:8484;",
            &format!("server {auth};"),
        );
        config = replace_once(&config, "server 127.0.0.1:8080;", &format!("server {api};"));
        config = replace_once(
            &config,
            "listen 8000;",
            &format!("listen 127.0.0.1:{port};"),
        );
        // Debian's build keeps its temporary files and access log under /var; here they
        // live in the test's directory. As root, the workers would run as `nobody`, who
        // cannot enter that directory (0700), so they run as root.
        let mut main = String::from("worker_processes 1;");
        let owner = std::fs::metadata(dir.path()).map(|m| std::os::unix::fs::MetadataExt::uid(&m));
        if owner.ok() == Some(0) {
            main.push_str("\nuser root;");
        }
        config = replace_once(&config, "worker_processes auto;", &main);
        let mut paths = String::from("http {\n");
        for temp in ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"] {
            paths.push_str(&format!("    {temp}_temp_path {base}/{temp}_temp;\n"));
        }
        paths.push_str(&format!("    access_log {base}/access.log;\n"));
        config = replace_once(&config, "\nhttp {\n", &format!("\n{paths}"));
        let config_path = dir.path().join("nginx.conf");
        std::fs::write(&config_path, config).unwrap();
        let globals = format!("daemon off; pid {base}/nginx.pid; error_log {base}/error.log;");
        let child = Command::new(nginx)
            .arg("-p")
            .arg(dir.path())
            .arg("-c")
            .arg(&config_path)
            .arg("-g")
            .arg(globals)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.path().join("stderr.log")).unwrap())
            .spawn()
            .expect("start nginx");
        Gateway::ready("nginx", dir, child, port)
    }

    /// Caddy running `assets/gateway/Caddyfile`, its ports changed, no admin endpoint, its
    /// data and configuration in the test's directory.
    fn caddy(auth: SocketAddr, api: SocketAddr) -> Gateway {
        let caddy = installed("caddy", "caddy");
        let dir = tempfile::tempdir().expect("tempdir");
        let port = free_port();
        let mut config = asset("Caddyfile");
        config = replace_once(
            &config,
            "\tauto_https off\n",
            "\tauto_https off\n\tadmin off\n",
        );
        config = replace_once(
            &config,
            "\n:8000 {\n",
            &format!("\n:{port} {{\n\tbind 127.0.0.1\n"),
        );
        config = replace_once(
            &config,
            "forward_auth 127.0.0.1:8484 {",
            &format!("forward_auth {auth} {{"),
        );
        config = replace_once(
            &config,
            "reverse_proxy 127.0.0.1:8080",
            &format!("reverse_proxy {api}"),
        );
        let config_path = dir.path().join("Caddyfile");
        std::fs::write(&config_path, config).unwrap();
        let child = Command::new(caddy)
            .arg("run")
            .arg("--config")
            .arg(&config_path)
            .arg("--adapter")
            .arg("caddyfile")
            .env("HOME", dir.path())
            .env("XDG_DATA_HOME", dir.path().join("data"))
            .env("XDG_CONFIG_HOME", dir.path().join("config"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.path().join("caddy.log")).unwrap())
            .spawn()
            .expect("start caddy");
        Gateway::ready("caddy", dir, child, port)
    }

    /// Waits until the gateway accepts connections; fails with its log if it exits first.
    fn ready(name: &'static str, dir: TempDir, child: Child, port: u16) -> Gateway {
        let mut gateway = Gateway {
            name,
            dir,
            child,
            address: SocketAddr::from(([127, 0, 0, 1], port)),
        };
        let deadline = Instant::now() + WAIT;
        loop {
            if TcpStream::connect(gateway.address).is_ok() {
                return gateway;
            }
            if let Ok(Some(status)) = gateway.child.try_wait() {
                panic!(
                    "{name} exited ({status}) before answering:\n{}",
                    gateway.logs()
                );
            }
            assert!(
                Instant::now() < deadline,
                "{name} did not listen on {} within {WAIT:?}:\n{}",
                gateway.address,
                gateway.logs()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn logs(&self) -> String {
        let mut text = String::new();
        for name in ["stderr.log", "error.log", "caddy.log"] {
            if let Ok(content) = std::fs::read_to_string(self.dir.path().join(name)) {
                text.push_str(&format!("--- {name}\n{content}"));
            }
        }
        text
    }

    fn request(&self, method: &str, target: &str, headers: &[&str], body: &str) -> Answer {
        let mut raw =
            format!("{method} {target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n");
        for header in headers {
            raw.push_str(header);
            raw.push_str("\r\n");
        }
        if !body.is_empty() || method == "POST" {
            raw.push_str(&format!("Content-Length: {}\r\n", body.len()));
        }
        raw.push_str("\r\n");
        raw.push_str(body);
        let mut stream = TcpStream::connect(self.address).expect("connect to the gateway");
        stream.set_read_timeout(Some(WAIT)).unwrap();
        stream.write_all(raw.as_bytes()).expect("send");
        let mut bytes = Vec::new();
        let _ = stream.read_to_end(&mut bytes);
        Answer::parse(self.name, &bytes)
    }

    fn get(&self, target: &str, headers: &[&str]) -> Answer {
        self.request("GET", target, headers, "")
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        stop(&mut self.child);
    }
}

#[derive(Debug)]
struct Answer {
    gateway: &'static str,
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Answer {
    fn parse(gateway: &'static str, bytes: &[u8]) -> Answer {
        let split = find(bytes, b"\r\n\r\n")
            .unwrap_or_else(|| panic!("{gateway}: no complete answer: {bytes:?}"));
        let head = String::from_utf8_lossy(&bytes[..split]);
        let mut lines = head.split("\r\n");
        let status = lines
            .next()
            .and_then(|line| line.split(' ').nth(1))
            .and_then(|code| code.parse().ok())
            .unwrap_or_else(|| panic!("{gateway}: no status line: {head:?}"));
        let headers: Vec<(String, String)> = lines
            .filter_map(|line| line.split_once(':'))
            .map(|(name, value)| (name.to_ascii_lowercase(), value.trim().to_owned()))
            .collect();
        let chunked = headers
            .iter()
            .any(|(name, value)| name == "transfer-encoding" && value.contains("chunked"));
        let body = &bytes[split + 4..];
        let body = if chunked {
            dechunk(body)
        } else {
            body.to_vec()
        };
        Answer {
            gateway,
            status,
            headers,
            body: String::from_utf8_lossy(&body).into_owned(),
        }
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn header_count(&self, name: &str) -> usize {
        self.headers.iter().filter(|(n, _)| n == name).count()
    }

    /// The API's echo of the request that reached it.
    fn echo(&self) -> Value {
        let echo: Value = serde_json::from_str(&self.body)
            .unwrap_or_else(|_| panic!("{}: not the API's echo: {self:?}", self.gateway));
        assert_eq!(
            echo["echo"], true,
            "{}: not the API's echo: {self:?}",
            self.gateway
        );
        echo
    }
}

/// Every value the API received for header `name` (lowercase).
fn received(echo: &Value, name: &str) -> Vec<String> {
    echo["headers"]
        .as_array()
        .expect("headers")
        .iter()
        .filter(|pair| pair[0] == name)
        .map(|pair| pair[1].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[track_caller]
fn assert_invalid_access(answer: &Answer, what: &str) {
    let gateway = answer.gateway;
    assert_eq!(answer.status, 401, "{gateway}, {what}: {answer:?}");
    assert_eq!(answer.body, INVALID_ACCESS, "{gateway}, {what}");
    assert_eq!(
        answer.header("content-type"),
        Some("application/json"),
        "{gateway}, {what}: {answer:?}"
    );
    assert_eq!(
        answer.header("www-authenticate"),
        Some("Bearer"),
        "{gateway}, {what}: {answer:?}"
    );
    assert_eq!(
        answer.header_count("www-authenticate"),
        1,
        "{gateway}, {what}: {answer:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// The checks, the same through every gateway

/// Identity headers a client might send, in the spellings an API framework may read as
/// `X-Hivekeys-*` (several map `_` to `-`).
const FORGED: [&str; 6] = [
    "X-Hivekeys-Key-Id: forged",
    "x-hivekeys-environment: forged",
    "X-HIVEKEYS-WORKSPACE: forged",
    "X_Hivekeys_Key_Id: forged",
    "x_hivekeys_workspace: forged",
    "X_HIVEKEYS_ENVIRONMENT: forged",
];

fn bearer(key: &str) -> String {
    format!("Authorization: Bearer {key}")
}

/// A valid key reaches the API with the identity headers the gateway took from `serve`,
/// whatever the client sent; everything else is refused before the API.
fn check_gateway(gateway: &Gateway, api: &ThreadServer, keys: &Keys) {
    let name = gateway.name;
    let valid = bearer(&keys.valid);

    let ok = gateway.get("/api/hello?x=1", &[&valid]);
    assert_eq!(ok.status, 200, "{name}: {ok:?}");
    let echo = ok.echo();
    assert_eq!(echo["method"], "GET");
    assert_eq!(echo["target"], "/api/hello?x=1", "{name}");
    assert_eq!(
        received(&echo, "x-hivekeys-key-id"),
        [keys.valid_id.as_str()],
        "{name}"
    );
    assert_eq!(
        received(&echo, "x-hivekeys-environment"),
        ["production"],
        "{name}"
    );
    assert_eq!(
        received(&echo, "x-hivekeys-workspace"),
        ["default"],
        "{name}"
    );
    assert!(
        received(&echo, "authorization").is_empty() && !ok.body.contains(&keys.valid),
        "{name}: the key itself stops at the gateway: {echo}"
    );

    let tokyo = gateway.request(
        "POST",
        "/api/chat",
        &[&bearer(&keys.tokyo), "Content-Type: application/json"],
        r#"{"q":"hi"}"#,
    );
    assert_eq!(tokyo.status, 200, "{name}: {tokyo:?}");
    let echo = tokyo.echo();
    assert_eq!(echo["method"], "POST", "{name}");
    assert_eq!(
        echo["body"], r#"{"q":"hi"}"#,
        "{name}: the body reaches the API"
    );
    assert_eq!(
        received(&echo, "x-hivekeys-key-id"),
        [keys.tokyo_id.as_str()],
        "{name}"
    );
    assert_eq!(
        received(&echo, "x-hivekeys-environment"),
        ["staging"],
        "{name}"
    );
    assert_eq!(
        received(&echo, "x-hivekeys-workspace"),
        ["%E6%9D%B1%E4%BA%AC"],
        "{name}"
    );

    // Identity headers sent by the client are replaced by the gateway's, in any spelling.
    let mut forged = vec![valid.as_str()];
    forged.extend(FORGED);
    let answer = gateway.get("/api/hello", &forged);
    assert_eq!(answer.status, 200, "{name}: {answer:?}");
    let echo = answer.echo();
    assert_eq!(
        received(&echo, "x-hivekeys-key-id"),
        [keys.valid_id.as_str()],
        "{name}"
    );
    assert_eq!(
        received(&echo, "x-hivekeys-environment"),
        ["production"],
        "{name}"
    );
    assert_eq!(
        received(&echo, "x-hivekeys-workspace"),
        ["default"],
        "{name}"
    );
    assert!(
        !answer.body.contains("forged"),
        "{name}: a client-sent identity header reached the API: {echo}"
    );

    // With a valid key, serve's own paths are the API's paths: /healthz is not a way past
    // the gateway to `hivekeys serve`.
    let health = gateway.get("/healthz", &[&valid]);
    assert_eq!(health.status, 200, "{name}: {health:?}");
    assert_eq!(health.echo()["target"], "/healthz", "{name}");

    let before = api.answered();
    let unknown = bearer(&keys.unknown);
    let revoked = bearer(&keys.revoked);
    let basic = format!("Authorization: Basic {}", keys.valid);
    let mut unknown_forged = vec![unknown.as_str()];
    unknown_forged.extend(FORGED);
    let refused: [(&str, Vec<&str>); 8] = [
        ("no key", vec![]),
        ("no key, forged identity", FORGED.to_vec()),
        ("empty bearer", vec!["Authorization: Bearer"]),
        ("malformed", vec!["Authorization: Bearer fhk_prod_nope"]),
        ("unknown", vec![unknown.as_str()]),
        ("revoked", vec![revoked.as_str()]),
        ("another scheme", vec![basic.as_str()]),
        ("unknown key, forged identity", unknown_forged),
    ];
    for (what, headers) in &refused {
        assert_invalid_access(&gateway.get("/api/hello", headers), what);
    }
    assert_invalid_access(
        &gateway.request("POST", "/api/chat", &[&revoked], r#"{"q":"hi"}"#),
        "POST with a revoked key",
    );
    // Without a key, no path reaches `serve`'s other endpoints or the API.
    for path in [
        "/healthz",
        "/metrics",
        "/v1/auth",
        "/v1/keys/verify",
        "/%68ealthz",
        "/api/../healthz",
    ] {
        assert_invalid_access(&gateway.get(path, &[]), path);
    }
    let internal = gateway.get("/_hivekeys/auth", &[]);
    assert!(
        internal.status == 401 || internal.status == 404,
        "{name}: the auth location is not for clients: {internal:?}"
    );
    assert!(!internal.body.contains("status"), "{name}: {internal:?}");
    assert_eq!(
        api.answered(),
        before,
        "{name}: a refused request reached the API"
    );
}

/// A refusal of the auth server other than 401 reaches the client with its status, body
/// and rate-limit headers, and the API never sees the request.
fn check_refusals_pass_through(gateway: &Gateway, api: &ThreadServer) {
    let name = gateway.name;
    let limited = gateway.get("/api/hello", &["Authorization: Bearer limited"]);
    assert_eq!(limited.status, 429, "{name}: {limited:?}");
    assert_eq!(limited.body, LIMIT_REACHED, "{name}");
    assert_eq!(
        limited.header("content-type"),
        Some("application/json"),
        "{name}"
    );
    assert_eq!(limited.header("retry-after"), Some("60"), "{name}");
    assert_eq!(
        limited.header("ratelimit-policy"),
        Some("\"daily\";q=5;w=86400"),
        "{name}"
    );
    assert_eq!(
        limited.header("ratelimit"),
        Some("\"daily\";r=0;t=60"),
        "{name}"
    );

    let down = gateway.get("/api/hello", &["Authorization: Bearer down"]);
    assert_eq!(down.status, 503, "{name}: {down:?}");
    assert_eq!(down.body, r#"{"error":"Key store unavailable."}"#, "{name}");
    assert_eq!(down.header("retry-after"), None, "{name}: {down:?}");

    assert_eq!(
        api.answered(),
        0,
        "{name}: a refused request reached the API"
    );
}

// ---------------------------------------------------------------------------------------------

#[test]
fn nginx_lets_valid_keys_through_with_its_own_identity_headers_and_refuses_the_rest() {
    let serve = Serve::start();
    let api = ThreadServer::start(echo);
    let nginx = Gateway::nginx(serve.address, api.address);
    check_gateway(&nginx, &api, &serve.keys);
}

#[test]
fn caddy_lets_valid_keys_through_with_its_own_identity_headers_and_refuses_the_rest() {
    let serve = Serve::start();
    let api = ThreadServer::start(echo);
    let caddy = Gateway::caddy(serve.address, api.address);
    check_gateway(&caddy, &api, &serve.keys);
}

#[test]
fn nginx_keeps_429_and_503_of_the_auth_server() {
    let auth = ThreadServer::start(refusing_auth);
    let api = ThreadServer::start(echo);
    let nginx = Gateway::nginx(auth.address, api.address);
    check_refusals_pass_through(&nginx, &api);
}

#[test]
fn caddy_keeps_429_and_503_of_the_auth_server() {
    let auth = ThreadServer::start(refusing_auth);
    let api = ThreadServer::start(echo);
    let caddy = Gateway::caddy(auth.address, api.address);
    check_refusals_pass_through(&caddy, &api);
}

/// With `hivekeys serve` gone, nginx fails closed with a JSON answer, not its HTML page.
#[test]
fn nginx_fails_closed_when_serve_is_unreachable() {
    let api = ThreadServer::start(echo);
    let nowhere = SocketAddr::from(([127, 0, 0, 1], free_port()));
    let nginx = Gateway::nginx(nowhere, api.address);
    let answer = nginx.get("/api/hello", &["Authorization: Bearer anything"]);
    assert_eq!(answer.status, 502, "{answer:?}");
    assert_eq!(answer.body, r#"{"error":"Key service unreachable."}"#);
    assert_eq!(answer.header("content-type"), Some("application/json"));
    assert_eq!(api.answered(), 0);
}
