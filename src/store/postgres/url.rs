//! The address of a PostgreSQL store, as `--db` / `HIVEKEYS_DB` give it:
//! `postgres://USER[:PASSWORD]@HOST[:PORT]/DBNAME[?sslmode=…]`.
//!
//! The URL is split the way libpq splits it, so that a URL that works with `psql` works here:
//! the user name and password end at the first `@` before any `/`, and every part is
//! percent-decoded. The password lives in a [`Zeroizing`] string and never leaves this type
//! except towards the server: errors name no part of the URL they could not read (a part
//! misread might be the password), and `Display`/`Debug` print the [redacted](PgUrl::redacted)
//! form.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use zeroize::Zeroizing;

use crate::error::{Error, Result};

/// The port a URL without one means, as for libpq.
pub const DEFAULT_PORT: u16 = 5432;

/// Where the password comes from when the URL holds none, as for libpq.
pub const PASSWORD_VAR: &str = "PGPASSWORD";

/// Where the user name comes from when the URL names none, as for libpq.
pub const USER_VAR: &str = "PGUSER";

/// How hard the connection insists on TLS. An absent `sslmode` means [`SslMode::Prefer`],
/// libpq's default, so that a URL copied from `psql` behaves the same: encrypted when the
/// server offers TLS (a managed server usually requires it), plain on a local server without
/// it. Like libpq's, `prefer` and `require` do not check the certificate; only
/// `verify-full` protects against an impostor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    Disable,
    Prefer,
    Require,
    VerifyFull,
}

impl SslMode {
    pub fn as_str(self) -> &'static str {
        match self {
            SslMode::Disable => "disable",
            SslMode::Prefer => "prefer",
            SslMode::Require => "require",
            SslMode::VerifyFull => "verify-full",
        }
    }
}

/// Where the server listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PgHost {
    /// A host name or an IP address (an IPv6 one without its brackets).
    Tcp(String),
    /// The directory of a Unix-domain socket (a host that is a percent-encoded absolute path,
    /// or `?host=/run/postgresql`).
    Socket(PathBuf),
}

/// A parsed PostgreSQL URL. Its `Display` and `Debug` never show the password.
#[derive(Clone)]
pub struct PgUrl {
    user: String,
    password: Option<Zeroizing<String>>,
    host: PgHost,
    port: u16,
    dbname: String,
    sslmode: SslMode,
    sslrootcert: Option<PathBuf>,
    connect_timeout: Option<Duration>,
}

/// True when `text` starts like a URL (`scheme://`), of any kind: such a value is never taken
/// for a file path (it would be created as directories, its password a folder's name).
pub fn is_database_url(text: &str) -> bool {
    text.split_once("://")
        .is_some_and(|(scheme, _)| is_scheme(scheme))
}

/// RFC 3986: a letter, then letters, digits, `+`, `-` or `.`.
fn is_scheme(text: &str) -> bool {
    let mut chars = text.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

fn invalid(problem: impl Into<String>) -> Error {
    Error::InvalidDatabaseUrl {
        problem: problem.into(),
    }
}

impl PgUrl {
    /// Parses `text`, taking the password from `PGPASSWORD` and the user from `PGUSER` (or the
    /// logged-in user) when the URL has none.
    pub fn parse(text: &str) -> Result<PgUrl> {
        PgUrl::parse_with(text, |name| std::env::var(name).ok())
    }

    /// [`parse`](PgUrl::parse), reading the environment through `env`: tests cannot set
    /// variables in a process whose other threads read them.
    pub fn parse_with(text: &str, env: impl Fn(&str) -> Option<String>) -> Result<PgUrl> {
        let Some((scheme, rest)) = text.split_once("://").filter(|(s, _)| is_scheme(s)) else {
            return Err(invalid("it does not start with postgres://"));
        };
        let scheme = scheme.to_ascii_lowercase();
        if scheme != "postgres" && scheme != "postgresql" {
            return Err(Error::UnsupportedDatabaseUrl {
                scheme: scheme.chars().take(20).collect(),
            });
        }

        // libpq: the credentials end at the first `@` that comes before any `/`.
        let (userinfo, rest) = match rest.find(['@', '/']) {
            Some(at) if rest.as_bytes()[at] == b'@' => (Some(&rest[..at]), &rest[at + 1..]),
            _ => (None, rest),
        };
        let (authority, after) = rest.split_at(rest.find(['/', '?']).unwrap_or(rest.len()));
        let (path, query) = match after.split_once('?') {
            Some((path, query)) => (path, Some(query)),
            None => (after, None),
        };

        let mut user = None;
        let mut password = None;
        if let Some(userinfo) = userinfo {
            let (name, secret) = match userinfo.split_once(':') {
                Some((name, secret)) => (name, Some(secret)),
                None => (userinfo, None),
            };
            user = Some(decode(name).ok_or_else(|| invalid(BAD_CREDENTIALS))?);
            if let Some(secret) = secret {
                password = Some(decode_secret(secret).ok_or_else(|| invalid(BAD_CREDENTIALS))?);
            }
        }
        let (mut host, mut port) = parse_authority(authority)?;
        let mut dbname = decode(path.strip_prefix('/').unwrap_or(path))
            .ok_or_else(|| invalid("the database name is not valid percent-encoded UTF-8"))?;
        let mut sslmode = SslMode::Prefer;
        let mut sslrootcert = None;
        let mut connect_timeout = None;

        for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let key = decode(key).unwrap_or_default();
            if key == "password" {
                password = Some(decode_secret(value).ok_or_else(|| invalid(BAD_CREDENTIALS))?);
                continue;
            }
            let value = decode(value).ok_or_else(|| {
                invalid(format!(
                    "the value of {} is not valid percent-encoded UTF-8",
                    parameter_name(&key)
                ))
            })?;
            match key.as_str() {
                "sslmode" => sslmode = parse_sslmode(&value)?,
                "sslrootcert" if !value.is_empty() => sslrootcert = Some(PathBuf::from(value)),
                "host" => host = Some(host_from(value)?),
                "port" => port = parse_port(&value)?,
                "user" => user = Some(value),
                "dbname" => dbname = value,
                "connect_timeout" => {
                    let seconds = value
                        .trim()
                        .parse::<u64>()
                        .map_err(|_| invalid("connect_timeout is not a whole number of seconds"))?;
                    // libpq: zero means no timeout; hivekeys keeps its own then.
                    connect_timeout = (seconds > 0).then(|| Duration::from_secs(seconds));
                }
                // Set by hivekeys itself, so that the server's activity view names it.
                "application_name" => {}
                _ => {
                    return Err(invalid(format!(
                        "{} is not a parameter hivekeys understands (it knows sslmode, sslrootcert, host, port, user, password, dbname and connect_timeout)",
                        parameter_name(&key)
                    )));
                }
            }
        }

        let host = host.ok_or_else(|| invalid("it names no host"))?;
        if dbname.is_empty() {
            return Err(invalid("it names no database (add /DBNAME after the host)"));
        }
        let user = user
            .filter(|name| !name.is_empty())
            .or_else(|| env(USER_VAR).filter(|name| !name.is_empty()))
            .unwrap_or_else(crate::store::os_user);
        // An empty password is no password: PGPASSWORD may supply one.
        let password = password
            .filter(|secret| !secret.is_empty())
            .or_else(|| env(PASSWORD_VAR).map(Zeroizing::new))
            .filter(|secret| !secret.is_empty());

        Ok(PgUrl {
            user,
            password,
            host,
            port,
            dbname,
            sslmode,
            sslrootcert,
            connect_timeout,
        })
    }

    /// `postgres://user@host:port/dbname`: what messages, logs and the dashboard show. It never
    /// holds the password, and every unusual character is percent-encoded, so it is one line
    /// of plain ASCII whatever the names hold.
    pub fn redacted(&self) -> String {
        let host = match &self.host {
            PgHost::Tcp(name) if name.contains(':') => format!("[{name}]"),
            PgHost::Tcp(name) => encode(name),
            PgHost::Socket(dir) => encode(&dir.to_string_lossy()),
        };
        format!(
            "postgres://{}@{host}:{}/{}",
            encode(&self.user),
            self.port,
            encode(&self.dbname)
        )
    }

    pub fn user(&self) -> &str {
        &self.user
    }

    pub fn host(&self) -> &PgHost {
        &self.host
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn dbname(&self) -> &str {
        &self.dbname
    }

    pub fn sslmode(&self) -> SslMode {
        self.sslmode
    }

    /// The certificate authorities to trust for `verify-full` instead of the system's.
    pub fn sslrootcert(&self) -> Option<&Path> {
        self.sslrootcert.as_deref()
    }

    /// The URL's own `connect_timeout`, if it has one.
    pub fn connect_timeout(&self) -> Option<Duration> {
        self.connect_timeout
    }

    pub fn has_password(&self) -> bool {
        self.password.is_some()
    }

    /// Only for the login itself.
    pub(super) fn password(&self) -> Option<&str> {
        self.password.as_ref().map(|secret| secret.as_str())
    }

    /// `text` with every occurrence of the password replaced: the last guard before words
    /// from elsewhere (the server, the TLS library) go into a message.
    /// Control characters are escaped too: the words end up inside a one-line message.
    pub(super) fn scrub(&self, text: &str) -> String {
        let text = match self.password() {
            Some(secret) => text.replace(secret, "[redacted]"),
            None => text.to_owned(),
        };
        crate::text::echo(&text, 300)
    }
}

impl fmt::Display for PgUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl fmt::Debug for PgUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgUrl")
            .field("url", &self.redacted())
            .field(
                "password",
                &if self.has_password() {
                    "[redacted]"
                } else {
                    "none"
                },
            )
            .field("sslmode", &self.sslmode)
            .field("sslrootcert", &self.sslrootcert)
            .finish()
    }
}

const BAD_CREDENTIALS: &str = "the user name or password is not valid percent-encoded UTF-8 (characters such as @ / : must be written %40 %2F %3A)";

/// `HOST[:PORT]`, `[IPV6][:PORT]`, or nothing (a host may come from `?host=`).
fn parse_authority(authority: &str) -> Result<(Option<PgHost>, u16)> {
    let (host, port) = if let Some(bracketed) = authority.strip_prefix('[') {
        let (address, after) = bracketed
            .split_once(']')
            .ok_or_else(|| invalid("an IPv6 address opened with [ is not closed with ]"))?;
        let port = match after {
            "" => None,
            _ => Some(
                after
                    .strip_prefix(':')
                    .ok_or_else(|| invalid("only :PORT may follow an IPv6 address in brackets"))?,
            ),
        };
        (Some(address.to_owned()), port)
    } else {
        let (host, port) = match authority.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        };
        let host =
            decode(host).ok_or_else(|| invalid("the host is not valid percent-encoded UTF-8"))?;
        (Some(host).filter(|h| !h.is_empty()), port)
    };
    let port = match port {
        None | Some("") => DEFAULT_PORT,
        Some(port) => parse_port(port)?,
    };
    let host = host.map(host_from).transpose()?;
    Ok((host, port))
}

fn host_from(name: String) -> Result<PgHost> {
    if name.contains(',') {
        return Err(invalid(
            "it names several hosts, and hivekeys connects to one",
        ));
    }
    if name.is_empty() {
        return Err(invalid("it names no host"));
    }
    Ok(match name.starts_with('/') {
        true => PgHost::Socket(PathBuf::from(name)),
        false => PgHost::Tcp(name),
    })
}

fn parse_port(text: &str) -> Result<u16> {
    text.parse::<u16>()
        .ok()
        .filter(|port| *port != 0)
        .ok_or_else(|| invalid("the port is not a number from 1 to 65535"))
}

fn parse_sslmode(value: &str) -> Result<SslMode> {
    match value {
        "disable" => Ok(SslMode::Disable),
        "prefer" => Ok(SslMode::Prefer),
        "require" => Ok(SslMode::Require),
        "verify-full" => Ok(SslMode::VerifyFull),
        "allow" | "verify-ca" => Err(invalid(format!(
            "sslmode={value} is not supported (use disable, prefer, require or verify-full)"
        ))),
        _ => Err(invalid(
            "sslmode is not one of disable, prefer, require or verify-full",
        )),
    }
}

/// A query parameter's name for a message, if it looks like one: anything else might be a
/// misplaced password.
fn parameter_name(key: &str) -> String {
    let plausible = !key.is_empty()
        && key.len() <= 32
        && key.chars().all(|c| c.is_ascii_lowercase() || c == '_');
    match plausible {
        true => format!("the parameter {key}"),
        false => "a parameter".to_owned(),
    }
}

/// Percent-decoding into UTF-8; `None` for a malformed escape or invalid UTF-8. `+` stays a
/// plus, as in libpq.
fn decode(text: &str) -> Option<String> {
    String::from_utf8(decode_bytes(text)?).ok()
}

/// [`decode`] for a password: the intermediate bytes are wiped too.
fn decode_secret(text: &str) -> Option<Zeroizing<String>> {
    let bytes = Zeroizing::new(decode_bytes(text)?);
    let text = std::str::from_utf8(&bytes).ok()?;
    Some(Zeroizing::new(text.to_owned()))
}

fn decode_bytes(text: &str) -> Option<Vec<u8>> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            let hex = std::str::from_utf8(hex).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Some(out)
}

/// Everything but RFC 3986's unreserved characters percent-encoded: the result is plain ASCII
/// with no control character, and reads back as the same URL.
fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    fn parse(text: &str) -> PgUrl {
        PgUrl::parse_with(text, no_env).unwrap_or_else(|err| panic!("{text}: {err}"))
    }

    fn problem(text: &str) -> String {
        PgUrl::parse_with(text, no_env).expect_err(text).to_string()
    }

    #[test]
    fn database_urls_are_told_from_paths() {
        for url in [
            "postgres://u@h/d",
            "postgresql://h/d",
            "mysql://u:p@h/d",
            "sqlite://x",
            "redis+tls://h",
        ] {
            assert!(is_database_url(url), "{url}");
        }
        for path in [
            "keys.db",
            "/var/lib/hivekeys/keys.db",
            "./a://b",
            "://x",
            "1http://x",
            "",
        ] {
            assert!(!is_database_url(path), "{path}");
        }
    }

    #[test]
    fn every_part_is_read() {
        let url = parse("postgres://alice:s3cret@db.example.com:6543/keys?sslmode=verify-full");
        assert_eq!(url.user(), "alice");
        assert_eq!(url.password(), Some("s3cret"));
        assert_eq!(url.host(), &PgHost::Tcp("db.example.com".into()));
        assert_eq!(url.port(), 6543);
        assert_eq!(url.dbname(), "keys");
        assert_eq!(url.sslmode(), SslMode::VerifyFull);
        assert_eq!(url.redacted(), "postgres://alice@db.example.com:6543/keys");
    }

    #[test]
    fn defaults_are_libpqs() {
        let url = parse("postgresql://bob@localhost/keys");
        assert_eq!(url.port(), DEFAULT_PORT);
        assert_eq!(url.sslmode(), SslMode::Prefer);
        assert!(!url.has_password());
        assert_eq!(url.sslrootcert(), None);
        // The scheme's case does not matter, nor does an empty port.
        assert_eq!(parse("POSTGRES://bob@localhost:/keys").port(), DEFAULT_PORT);
    }

    #[test]
    fn percent_encoded_parts_are_decoded() {
        let url = parse("postgres://al%40ice:p%2Fa%3As%40s%25@h/my%20db");
        assert_eq!(url.user(), "al@ice");
        assert_eq!(url.password(), Some("p/a:s@s%"));
        assert_eq!(url.dbname(), "my db");
        // Shown again encoded, so the redacted form is a URL that reads back the same.
        assert_eq!(url.redacted(), "postgres://al%40ice@h:5432/my%20db");
        let again = parse(&url.redacted());
        assert_eq!((again.user(), again.dbname()), ("al@ice", "my db"));
    }

    #[test]
    fn a_password_may_hold_what_libpq_allows_unencoded() {
        // libpq ends the credentials at the first @ before any /, so : ? # stay in it.
        let url = parse("postgres://u:pa:ss?w#rd@h/db");
        assert_eq!(url.password(), Some("pa:ss?w#rd"));
        assert_eq!(url.host(), &PgHost::Tcp("h".into()));
    }

    #[test]
    fn ipv6_hosts_are_bracketed() {
        let url = parse("postgres://u@[::1]:5433/db");
        assert_eq!(url.host(), &PgHost::Tcp("::1".into()));
        assert_eq!(url.port(), 5433);
        assert_eq!(url.redacted(), "postgres://u@[::1]:5433/db");
        assert_eq!(parse("postgres://u@[fe80::1]/db").port(), DEFAULT_PORT);
        assert!(problem("postgres://u@[::1/db").contains("not closed"));
        assert!(problem("postgres://u@[::1]x/db").contains(":PORT"));
    }

    #[test]
    fn a_socket_directory_is_a_host() {
        let url = parse("postgres://u@%2Frun%2Fpostgresql/db");
        assert_eq!(url.host(), &PgHost::Socket("/run/postgresql".into()));
        assert_eq!(url.redacted(), "postgres://u@%2Frun%2Fpostgresql:5432/db");
        let url = parse("postgres://u@/db?host=/tmp/pg&port=5444");
        assert_eq!(url.host(), &PgHost::Socket("/tmp/pg".into()));
        assert_eq!(url.port(), 5444);
    }

    #[test]
    fn query_parameters_are_read() {
        let url = parse(
            "postgres://u@h/db?sslmode=require&sslrootcert=%2Fetc%2Fca.pem&connect_timeout=3&application_name=x",
        );
        assert_eq!(url.sslmode(), SslMode::Require);
        assert_eq!(url.sslrootcert(), Some(Path::new("/etc/ca.pem")));
        assert_eq!(url.connect_timeout(), Some(Duration::from_secs(3)));
        assert_eq!(
            parse("postgres://u@h/db?sslmode=disable").sslmode(),
            SslMode::Disable
        );
        let url = parse("postgres://h/db?user=carol&password=pw");
        assert_eq!((url.user(), url.password()), ("carol", Some("pw")));
    }

    #[test]
    fn the_password_comes_from_pgpassword_when_the_url_has_none() {
        let env = |name: &str| match name {
            PASSWORD_VAR => Some("from-env".to_owned()),
            USER_VAR => Some("env-user".to_owned()),
            _ => None,
        };
        let url = PgUrl::parse_with("postgres://h/db", env).unwrap();
        assert_eq!(url.password(), Some("from-env"));
        assert_eq!(url.user(), "env-user");
        let url = PgUrl::parse_with("postgres://u:inline@h/db", env).unwrap();
        assert_eq!((url.user(), url.password()), ("u", Some("inline")));
        // An empty password in the URL is none.
        let url = PgUrl::parse_with("postgres://u:@h/db", env).unwrap();
        assert_eq!(url.password(), Some("from-env"));
        // Without PGUSER the logged-in user, as for libpq.
        assert_eq!(parse("postgres://h/db").user(), crate::store::os_user());
    }

    #[test]
    fn other_schemes_get_their_own_sentence() {
        let message = problem("mysql://root:hunter2@h/db");
        assert!(message.contains("mysql://"), "{message}");
        assert!(message.contains("SQLite"), "{message}");
        assert!(!message.contains("hunter2"), "{message}");
    }

    #[test]
    fn bad_urls_are_refused_without_echoing_them() {
        let secret = "Tr0ub4dor";
        for (url, expected) in [
            ("postgres://u:Tr0ub4dor@h:99999/db", "port"),
            ("postgres://u:Tr0ub4dor@h:x/db", "port"),
            ("postgres://u:Tr0ub4dor@h:0/db", "port"),
            ("postgres://u:Tr0ub4dor@/db", "no host"),
            ("postgres://u:Tr0ub4dor@h", "no database"),
            ("postgres://u:Tr0ub4dor@h/", "no database"),
            ("postgres://u:Tr0ub4dor%zz@h/db", "percent"),
            ("postgres://u:Tr0ub4dor%ff@h/db", "percent"),
            ("postgres://u:Tr0ub4dor@h1,h2/db", "several hosts"),
            ("postgres://u:Tr0ub4dor@h/db?sslmode=verify-ca", "verify-ca"),
            ("postgres://u:Tr0ub4dor@h/db?sslmode=always", "sslmode"),
            ("postgres://u:Tr0ub4dor@h/db?sslcert=x", "sslcert"),
            ("postgres://u@h/db?Tr0ub4dor=1", "a parameter"),
            ("postgres://u@h/db?password=Tr0ub4dor%", "percent"),
            // A password holding a / ends the credentials early, as in libpq.
            ("postgres://u:Tr0/ub4dor@h/db", "port"),
            ("Tr0ub4dor", "postgres://"),
        ] {
            let message = problem(url);
            assert!(message.contains(expected), "{url}: {message}");
            assert!(!message.contains(secret), "{url}: {message}");
            assert!(message.ends_with('.'), "{message}");
        }
    }

    #[test]
    fn display_and_debug_never_show_the_password() {
        let url = parse("postgres://u:hunter2@h/db?sslmode=require");
        for text in [url.to_string(), format!("{url:?}"), format!("{url:#?}")] {
            assert!(!text.contains("hunter2"), "{text}");
            assert!(text.contains("postgres://u@h:5432/db"), "{text}");
        }
        assert!(format!("{url:?}").contains("[redacted]"));
        assert!(format!("{:?}", parse("postgres://u@h/db")).contains("none"));
    }

    #[test]
    fn the_redacted_form_is_plain_ascii() {
        let url = parse("postgres://%1B%5B31m@h/d%C3%A9j%C3%A0");
        assert_eq!(url.user(), "\u{1b}[31m");
        assert_eq!(url.dbname(), "déjà");
        assert_eq!(url.redacted(), "postgres://%1B%5B31m@h:5432/d%C3%A9j%C3%A0");
    }

    #[test]
    fn scrub_removes_the_password_from_foreign_words() {
        let url = parse("postgres://u:hunter2@h/db");
        assert_eq!(
            url.scrub("role u said hunter2 twice: hunter2"),
            "role u said [redacted] twice: [redacted]"
        );
        assert_eq!(parse("postgres://u@h/db").scrub("as is"), "as is");
        assert!(!url.scrub("two\nlines").contains('\n'));
    }
}
