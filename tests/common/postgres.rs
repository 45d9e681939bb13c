//! A real PostgreSQL server for the tests: never a mock, never a skip.
//!
//! [`database`] gives the URL of a fresh, empty database. The server is the one
//! `HIVEKEYS_TEST_POSTGRES` names (a superuser's URL on a running server), or else one cluster
//! this test process starts for itself on first use: `initdb` into a temporary directory
//! (through `runuser -u postgres` when running as root, which `initdb` refuses), trust on
//! loopback except for one role that logs in with a SCRAM password, `fsync=off`, a free port
//! on 127.0.0.1 and its socket in that directory. A watchdog process stops the cluster and
//! removes the directory when this process ends, however it ends (a panic, `kill -9`).
//!
//! Tests that stop the server ([`stop_server`], [`start_server`]) or need TLS
//! ([`tls_database`]) always use clusters of their own, whatever `HIVEKEYS_TEST_POSTGRES`
//! says: a shared server must not be stopped, and its TLS set-up is not known.
//!
//! Test binaries run in parallel never collide: every cluster has its own directory and a
//! port the kernel picked, and database names carry the process id.
#![allow(dead_code)]

use std::fmt::Write as _;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// A superuser's URL on a running server, to use instead of starting one.
pub const SERVER_VAR: &str = "HIVEKEYS_TEST_POSTGRES";

/// The role of the harness's clusters that logs in with a password (SCRAM) on 127.0.0.1;
/// every other role is trusted there.
pub const PASSWORD_USER: &str = "hk_password_user";

/// [`PASSWORD_USER`]'s password: characters that need percent-encoding in a URL, and one
/// outside ASCII.
pub const PASSWORD: &str = "pw:S3cr3t@/?#%&é";

/// The superuser of the harness's clusters.
const SUPERUSER: &str = "postgres";

const INSTALL_HINT: &str = "PostgreSQL is not installed: install it (Debian: `apt-get install -y postgresql`) or run `.ci/run`, or point HIVEKEYS_TEST_POSTGRES at a superuser's URL on a running server";

/// A cluster this process started, stopped by its watchdog when the process ends.
pub struct Cluster {
    /// The temporary directory holding everything: data, socket, log, certificates.
    pub dir: PathBuf,
    data: PathBuf,
    bin: PathBuf,
    pub port: u16,
    /// `initdb` and `pg_ctl` run as the `postgres` user (this process is root).
    as_postgres: bool,
    /// The certificate authority that signed the server's certificate, when TLS is on.
    pub ca: Option<PathBuf>,
    /// How long `initdb`, configuration and the first start took.
    pub started_in: Duration,
}

/// The URL of a fresh, empty database on the shared test server (`HIVEKEYS_TEST_POSTGRES`, or
/// this process's own cluster), owned by the superuser.
pub fn database() -> String {
    match std::env::var(SERVER_VAR) {
        Ok(url) if !url.is_empty() => {
            let name = new_database(&url, None);
            with_dbname(&url, &name)
        }
        _ => own_database(),
    }
}

/// The URL of a fresh, empty database on this process's own cluster: for tests that stop the
/// server or change its roles.
pub fn own_database() -> String {
    let cluster = own_cluster();
    let name = new_database(&cluster.superuser_url(), None);
    cluster.url(SUPERUSER, &name)
}

/// A fresh database owned by [`PASSWORD_USER`] on this process's own cluster, and its URL
/// without the password (the test decides how to give it).
pub fn password_database() -> String {
    let cluster = own_cluster();
    let name = new_database(&cluster.superuser_url(), Some(PASSWORD_USER));
    cluster.url(PASSWORD_USER, &name)
}

/// A fresh database on a cluster of this process with `ssl=on`, its URL (no `sslmode`) and the
/// certificate authority that signed the server's certificate. The certificate names
/// `localhost` only, so `verify-full` to `127.0.0.1` must fail its host check.
pub fn tls_database() -> (String, PathBuf) {
    let cluster = tls_cluster();
    let name = new_database(&cluster.superuser_url(), None);
    let url = format!("postgres://{SUPERUSER}@localhost:{}/{name}", cluster.port);
    (url, cluster.ca.clone().expect("the TLS cluster has a CA"))
}

/// This process's own cluster, started on first use.
pub fn own_cluster() -> &'static Cluster {
    static OWN: OnceLock<Cluster> = OnceLock::new();
    OWN.get_or_init(|| Cluster::start(false))
}

fn tls_cluster() -> &'static Cluster {
    static TLS: OnceLock<Cluster> = OnceLock::new();
    TLS.get_or_init(|| Cluster::start(true))
}

/// Stops this process's own cluster (fast shutdown: sessions are cut at once), as a server
/// that goes away under load.
pub fn stop_server() {
    own_cluster().stop();
}

/// Starts this process's own cluster again, on the same port, after [`stop_server`].
pub fn start_server() {
    own_cluster().start_again();
}

/// `text` percent-encoded for a URL's user, password or database part.
pub fn encode(text: &str) -> String {
    let mut out = String::new();
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(byte as char);
        } else {
            write!(out, "%{byte:02X}").unwrap();
        }
    }
    out
}

/// The database at `url` as `pg_dump` prints it: everything a copy of the database (a backup,
/// a replica) would give away.
pub fn dump(url: &str) -> String {
    let out = Command::new(bin_dir().join("pg_dump"))
        .arg("--dbname")
        .arg(url)
        .output()
        .expect("run pg_dump");
    assert!(
        out.status.success(),
        "pg_dump failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A port nothing listens on (now): the kernel's pick for a socket closed at once.
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    listener.local_addr().unwrap().port()
}

/// Creates a database with a name no other test (or test process) uses.
fn new_database(superuser_url: &str, owner: Option<&str>) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    // The time's low digits tell apart processes of the same id on other machines sharing a
    // server.
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let name = format!(
        "hk_{}_{}_{}",
        std::process::id(),
        nanos % 1_000_000,
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    let mut client = postgres::Client::connect(superuser_url, postgres::NoTls)
        .unwrap_or_else(|err| panic!("cannot connect to the test server as superuser: {err}"));
    let owner = owner
        .map(|role| format!(" OWNER {role}"))
        .unwrap_or_default();
    client
        .batch_execute(&format!("CREATE DATABASE {name}{owner}"))
        .unwrap_or_else(|err| panic!("cannot create database {name}: {err}"));
    name
}

/// `url` with its database name replaced by `name`.
fn with_dbname(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let after_scheme = base.find("://").map(|at| at + 3).unwrap_or(0);
    let authority_end = base[after_scheme..]
        .find('/')
        .map(|at| after_scheme + at)
        .unwrap_or(base.len());
    let mut out = format!("{}/{name}", &base[..authority_end]);
    if let Some(query) = query {
        write!(out, "?{query}").unwrap();
    }
    out
}

impl Cluster {
    fn start(tls: bool) -> Cluster {
        let began = Instant::now();
        let bin = bin_dir();
        let as_postgres = is_root();
        let dir = tempfile::Builder::new()
            .prefix("hivekeys-pg-")
            .tempdir()
            .expect("create a temporary directory")
            .keep();
        let data = dir.join("data");
        let mut cluster = Cluster {
            dir,
            data,
            bin,
            port: 0,
            as_postgres,
            ca: None,
            started_in: Duration::ZERO,
        };
        // From here on the directory is the watchdog's to remove, whatever happens next.
        cluster.spawn_watchdog();
        if as_postgres {
            checked(
                Command::new("chown")
                    .args(["postgres:postgres"])
                    .arg(&cluster.dir),
                "chown the cluster's directory",
            );
        }
        checked(
            cluster.tool("initdb").arg("-D").arg(&cluster.data).args([
                "-U",
                SUPERUSER,
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
                "--no-instructions",
            ]),
            "initdb",
        );
        cluster.configure(tls);
        cluster.start_on_a_free_port();
        cluster.create_password_role();
        cluster.started_in = began.elapsed();
        cluster
    }

    /// `postgres://postgres@127.0.0.1:PORT/postgres`
    pub fn superuser_url(&self) -> String {
        self.url(SUPERUSER, "postgres")
    }

    pub fn url(&self, user: &str, dbname: &str) -> String {
        format!("postgres://{user}@127.0.0.1:{}/{dbname}", self.port)
    }

    /// A PostgreSQL program, run as the user that owns the cluster.
    fn tool(&self, program: &str) -> Command {
        let path = self.bin.join(program);
        match self.as_postgres {
            true => {
                let mut command = Command::new("runuser");
                command.args(["-u", "postgres", "--"]).arg(path);
                command
            }
            false => Command::new(path),
        }
    }

    fn configure(&mut self, tls: bool) {
        let socket_dir = self.dir.display();
        let mut settings = format!(
            "\n# hivekeys test harness\n\
             listen_addresses = '127.0.0.1'\n\
             unix_socket_directories = '{socket_dir}'\n\
             fsync = off\n\
             synchronous_commit = off\n\
             full_page_writes = off\n\
             shared_buffers = 32MB\n\
             max_connections = 200\n"
        );
        if tls {
            let ca = self.make_certificates();
            let tls_dir = self.dir.join("tls");
            write!(
                settings,
                "ssl = on\nssl_cert_file = '{}'\nssl_key_file = '{}'\n",
                tls_dir.join("server.crt").display(),
                tls_dir.join("server.key").display()
            )
            .unwrap();
            self.ca = Some(ca);
        }
        append(&self.data.join("postgresql.conf"), &settings);
        // The first matching line decides: the password role is checked, everyone else
        // trusted, on loopback only.
        std::fs::write(
            self.data.join("pg_hba.conf"),
            format!(
                "local all all trust\n\
                 host all {PASSWORD_USER} 127.0.0.1/32 scram-sha-256\n\
                 host all {PASSWORD_USER} ::1/128 scram-sha-256\n\
                 host all all 127.0.0.1/32 trust\n\
                 host all all ::1/128 trust\n"
            ),
        )
        .expect("write pg_hba.conf");
    }

    /// A certificate authority and a server certificate it signed, for `localhost` only.
    /// Elliptic-curve keys: generated in milliseconds, where RSA takes a noticeable while.
    fn make_certificates(&self) -> PathBuf {
        let tls = self.dir.join("tls");
        std::fs::create_dir(&tls).expect("create the certificate directory");
        let openssl = |args: &[&str], what: &str| {
            let mut command = Command::new("openssl");
            command.args(args).current_dir(&tls);
            match command.output() {
                Ok(output) if output.status.success() => {}
                Ok(output) => panic!(
                    "openssl could not {what}: {}",
                    String::from_utf8_lossy(&output.stderr)
                ),
                Err(err) => panic!(
                    "the TLS tests need the openssl command ({err}); install it (Debian: `apt-get install -y openssl`) or run `.ci/run`"
                ),
            }
        };
        let curve = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"];
        let mut args = vec!["req", "-x509", "-new", "-nodes", "-days", "2"];
        args.extend(curve);
        args.extend([
            "-keyout",
            "ca.key",
            "-out",
            "ca.crt",
            "-subj",
            "/CN=hivekeys test CA",
        ]);
        openssl(&args, "make the test CA");
        let mut args = vec!["req", "-new", "-nodes"];
        args.extend(curve);
        args.extend([
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=localhost",
        ]);
        openssl(&args, "make the server's key");
        std::fs::write(
            tls.join("server.ext"),
            "subjectAltName = DNS:localhost\n\
             basicConstraints = CA:FALSE\n\
             keyUsage = digitalSignature\n\
             extendedKeyUsage = serverAuth\n",
        )
        .unwrap();
        openssl(
            &[
                "x509",
                "-req",
                "-in",
                "server.csr",
                "-CA",
                "ca.crt",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-days",
                "2",
                "-extfile",
                "server.ext",
                "-out",
                "server.crt",
            ],
            "sign the server's certificate",
        );
        // The server refuses a key others can read, and must own it.
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(
            tls.join("server.key"),
            std::fs::Permissions::from_mode(0o600),
        )
        .unwrap();
        if self.as_postgres {
            checked(
                Command::new("chown")
                    .args(["-R", "postgres:postgres"])
                    .arg(&tls),
                "chown the certificates",
            );
        }
        tls.join("ca.crt")
    }

    /// The kernel's free port may be taken by another process before the server binds it:
    /// then the start fails and another port is tried.
    fn start_on_a_free_port(&mut self) {
        let mut last_log = String::new();
        for _ in 0..10 {
            self.port = free_port();
            if self.pg_ctl_start() {
                return;
            }
            last_log = std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default();
            if !last_log.contains("could not bind") && !last_log.contains("already in use") {
                break;
            }
        }
        panic!("the test PostgreSQL server did not start; its log:\n{last_log}");
    }

    fn pg_ctl_start(&self) -> bool {
        self.tool("pg_ctl")
            .arg("-D")
            .arg(&self.data)
            .arg("-l")
            .arg(self.dir.join("server.log"))
            .args(["-w", "-t", "60", "-o"])
            .arg(format!("-p {}", self.port))
            .arg("start")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success())
    }

    fn stop(&self) {
        checked(
            self.tool("pg_ctl")
                .arg("-D")
                .arg(&self.data)
                .args(["-w", "-m", "fast", "stop"]),
            "stop the test server",
        );
    }

    fn start_again(&self) {
        assert!(
            self.pg_ctl_start(),
            "the test server did not start again on port {}; its log:\n{}",
            self.port,
            std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default()
        );
    }

    fn create_password_role(&self) {
        let mut client = postgres::Client::connect(&self.superuser_url(), postgres::NoTls)
            .unwrap_or_else(|err| panic!("cannot connect to the new test server: {err}"));
        // Hashed by the server with SCRAM (password_encryption's default since 14).
        let quoted = PASSWORD.replace('\'', "''");
        client
            .batch_execute(&format!(
                "CREATE ROLE {PASSWORD_USER} LOGIN PASSWORD '{quoted}'"
            ))
            .expect("create the password role");
    }

    /// A detached `sh` (its own session, so a Ctrl-C to the tests does not reach it) that
    /// waits for this process to end, then stops the cluster and removes its directory.
    fn spawn_watchdog(&self) {
        const SCRIPT: &str = r#"
            while kill -0 "$1" 2>/dev/null; do sleep 0.2; done
            if [ -f "$2/postmaster.pid" ]; then
                if [ "$5" = yes ]; then
                    runuser -u postgres -- "$4" -D "$2" -m immediate stop
                else
                    "$4" -D "$2" -m immediate stop
                fi
            fi
            rm -rf "$3"
        "#;
        // --fork: setsid returns at once, leaving the watchdog to init, not a child to reap.
        let started = Command::new("setsid")
            .args(["--fork", "sh", "-c", SCRIPT, "hivekeys-pg-watchdog"])
            .arg(std::process::id().to_string())
            .arg(&self.data)
            .arg(&self.dir)
            .arg(self.bin.join("pg_ctl"))
            .arg(if self.as_postgres { "yes" } else { "no" })
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success());
        assert!(
            started,
            "cannot start the test server's watchdog (setsid, sh)"
        );
    }
}

/// The newest PostgreSQL's programs: Debian's `/usr/lib/postgresql/N/bin`, else `initdb`'s
/// directory on the `PATH` (other distributions, Homebrew).
fn bin_dir() -> PathBuf {
    let debian = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version: u32 = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .max_by_key(|(version, _)| *version)
        .map(|(_, bin)| bin);
    debian
        .or_else(|| {
            std::env::var_os("PATH")?
                .to_str()?
                .split(':')
                .map(PathBuf::from)
                .find(|dir| dir.join("initdb").exists() && dir.join("pg_ctl").exists())
        })
        .unwrap_or_else(|| panic!("{INSTALL_HINT}."))
}

/// `initdb` refuses to run as root; the owner of `/proc/self` is this process's user.
fn is_root() -> bool {
    std::fs::metadata("/proc/self").is_ok_and(|meta| meta.uid() == 0)
}

fn checked(command: &mut Command, what: &str) -> Output {
    let output = command
        .output()
        .unwrap_or_else(|err| panic!("cannot {what}: {err}"));
    assert!(
        output.status.success(),
        "cannot {what}: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn append(path: &Path, text: &str) {
    use std::io::Write as _;
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(path)
        .unwrap_or_else(|err| panic!("cannot open {}: {err}", path.display()));
    file.write_all(text.as_bytes()).unwrap();
}
