//! How an error of the `postgres` crate becomes the one sentence a user reads, naming the
//! store by its redacted URL. Words taken from the server or the TLS library pass through
//! [`PgUrl::scrub`] first: none of them should ever hold the password, and this makes sure.
//!
//! The crate does not expose what kind of failure a non-server error is, only its words (the
//! kind alone, without the cause) and its chain of sources, so the kind is read from those.

use std::error::Error as _;
use std::time::Duration;

use postgres::error::SqlState;

use super::url::{PgUrl, SslMode};
use crate::error::Error;

/// A failure while connecting (the socket, TLS, the login, the startup).
pub(super) fn connect_error(url: &PgUrl, err: &postgres::Error, timeout: Duration) -> Error {
    let store = url.redacted();
    if let Some(db) = err.as_db_error() {
        let reason = url.scrub(db.message());
        return match *db.code() {
            SqlState::INVALID_PASSWORD | SqlState::INVALID_AUTHORIZATION_SPECIFICATION => {
                Error::StoreLoginRefused { store, reason }
            }
            SqlState::INVALID_CATALOG_NAME => Error::StoreDatabaseMissing { store },
            _ => server_error(url, db.code(), reason),
        };
    }
    let words = err.to_string();
    if words.starts_with("error performing TLS handshake") {
        return tls_error(url, err);
    }
    // The crate reports this one as a configuration error, not an authentication one.
    if source_words(err) == "password missing" {
        return Error::StoreLoginRefused {
            store,
            reason: "the server asks for a password, and neither the URL nor PGPASSWORD holds one"
                .to_owned(),
        };
    }
    if words.starts_with("authentication error") {
        return Error::StoreLoginRefused {
            store,
            reason: url.scrub(&source_words(err)),
        };
    }
    if words.starts_with("timeout waiting for server") {
        return Error::StoreUnreachable {
            store,
            reason: no_answer(timeout),
        };
    }
    use std::io::ErrorKind::*;
    let words = source_words(err);
    let reason = match io_kind(err) {
        Some(ConnectionRefused) => "connection refused".to_owned(),
        Some(TimedOut) => no_answer(timeout),
        Some(UnexpectedEof | ConnectionReset | ConnectionAborted | BrokenPipe) => {
            "the connection was closed during the handshake".to_owned()
        }
        // The crate's own "connection closed", which has no source.
        None if err.is_closed() => "the connection was closed during the handshake".to_owned(),
        // The resolver's error has no kind of its own, only these words.
        _ if words.starts_with("failed to lookup address") => {
            "its host name could not be resolved".to_owned()
        }
        _ => url.scrub(&words),
    };
    Error::StoreUnreachable { store, reason }
}

/// A failure of a query on an open connection.
pub fn query_error(url: &PgUrl, err: &postgres::Error) -> Error {
    match err.as_db_error() {
        Some(db) => server_error(url, db.code(), url.scrub(db.message())),
        None if err.is_closed() || io_kind(err).is_some() => Error::StoreUnreachable {
            store: url.redacted(),
            reason: "the connection to the server was lost".to_owned(),
        },
        None => Error::StoreFailed {
            store: url.redacted(),
            reason: url.scrub(&source_words(err)),
        },
    }
}

/// A server going down or full is unreachable (worth retrying); the rest is an error.
fn server_error(url: &PgUrl, code: &SqlState, reason: String) -> Error {
    let store = url.redacted();
    match *code {
        SqlState::CANNOT_CONNECT_NOW
        | SqlState::TOO_MANY_CONNECTIONS
        | SqlState::ADMIN_SHUTDOWN
        | SqlState::CRASH_SHUTDOWN => Error::StoreUnreachable { store, reason },
        _ => Error::StoreFailed { store, reason },
    }
}

fn tls_error(url: &PgUrl, err: &postgres::Error) -> Error {
    let store = url.redacted();
    let words = source_words(err);
    if words.contains("server does not support TLS") {
        return Error::StoreTlsRefused {
            store,
            sslmode: url.sslmode().as_str(),
        };
    }
    let (reason, remedy) = match rustls_error(err) {
        Some(rustls::Error::InvalidCertificate(certificate)) => {
            use rustls::CertificateError::*;
            match certificate {
                UnknownIssuer | BadSignature | UnhandledCriticalExtension => (
                    "the server's certificate is not trusted (no known certificate authority issued it)"
                        .to_owned(),
                    "give the authority's certificate with ?sslrootcert=PATH, or add it to the system's trust store",
                ),
                NotValidForName | NotValidForNameContext { .. } => (
                    format!("the server's certificate is not valid for the host {}", host_of(url)),
                    "connect by a host name that the certificate holds",
                ),
                Expired | ExpiredContext { .. } => (
                    "the server's certificate has expired".to_owned(),
                    "renew the server's certificate",
                ),
                other => (
                    format!("the server's certificate was refused ({other:?})"),
                    "check the server's certificate",
                ),
            }
        }
        Some(other) => (
            url.scrub(&other.to_string()),
            "check the server's TLS settings",
        ),
        None => (url.scrub(&words), "check the server's TLS settings"),
    };
    // `prefer` and `require` accept any certificate, so only a broken handshake lands here.
    let remedy = match url.sslmode() {
        SslMode::VerifyFull => remedy,
        _ => "check the server's TLS settings",
    };
    Error::StoreTlsFailed {
        store,
        reason,
        remedy,
    }
}

fn host_of(url: &PgUrl) -> String {
    match url.host() {
        super::url::PgHost::Tcp(name) => crate::text::echo(name, 80),
        super::url::PgHost::Socket(dir) => crate::text::printable_path(dir),
    }
}

fn no_answer(timeout: Duration) -> String {
    format!("no answer within {} s", timeout.as_secs_f64())
}

/// Every error below the crate's own in the chain, and the I/O errors' inner ones (which
/// `io::Error::source` skips).
fn chain<'a>(err: &'a postgres::Error) -> Vec<&'a (dyn std::error::Error + 'static)> {
    let mut found = Vec::new();
    let mut next = err.source();
    while let Some(current) = next {
        found.push(current);
        if let Some(inner) = current
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            found.push(inner);
        }
        next = current.source();
    }
    found
}

fn rustls_error(err: &postgres::Error) -> Option<&rustls::Error> {
    chain(err)
        .into_iter()
        .find_map(|inner| inner.downcast_ref::<rustls::Error>())
}

fn io_kind(err: &postgres::Error) -> Option<std::io::ErrorKind> {
    chain(err)
        .into_iter()
        .find_map(|inner| inner.downcast_ref::<std::io::Error>())
        .map(|io| io.kind())
}

/// The innermost words that say something, without the operating system's error number.
fn source_words(err: &postgres::Error) -> String {
    let words = match err.source() {
        Some(source) => source.to_string(),
        None => err.to_string(),
    };
    match words.find(" (os error") {
        Some(at) => words[..at].to_owned(),
        None => words,
    }
}
