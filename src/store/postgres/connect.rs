//! Opening a connection to the server a [`PgUrl`] names.

use std::sync::mpsc;
use std::time::Duration;

use postgres::Client;
use postgres::config::SslMode as WireSslMode;

use super::failure::connect_error;
use super::tls;
use super::url::{PgHost, PgUrl, SslMode};
use crate::error::{Error, Result};

/// How long a connection may take, from the first packet to a session ready for queries,
/// unless the URL's `connect_timeout` says otherwise.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The schema every hivekeys table lives in, first on the search path of every connection so
/// that SQL names tables unqualified.
pub const SCHEMA: &str = "hivekeys";

/// A silent peer (a host gone, a cable cut) is found within about this long on an idle
/// connection, such as one waiting for notifications, instead of the system's two hours.
const KEEPALIVE_IDLE: Duration = Duration::from_secs(15);
const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(5);
const KEEPALIVE_RETRIES: u32 = 3;

/// Data the server has not acknowledged for this long means it is gone: the query fails
/// instead of hanging.
const UNACKNOWLEDGED_LIMIT: Duration = Duration::from_secs(30);

/// Connects to `url` as `application_name=hivekeys`, with the `hivekeys` schema on the search
/// path, TLS as its `sslmode` asks, and the whole handshake bounded by
/// [`CONNECT_TIMEOUT`]. Every failure is one sentence naming the redacted URL.
pub fn connect(url: &PgUrl) -> Result<Client> {
    connect_within(url, url.connect_timeout().unwrap_or(CONNECT_TIMEOUT))
}

/// [`connect`], giving up after `timeout`: for connecting again on a caller's path, which
/// must not wait as long as a first connection may.
pub fn connect_within(url: &PgUrl, timeout: Duration) -> Result<Client> {
    let connector = tls::connector(url)?;
    let config = config_for(url, timeout);
    // The crate bounds only the socket's connect; a server that accepts and then says nothing
    // (stopped, overloaded) would hold the caller forever. The attempt runs on its own thread
    // and is abandoned at the deadline: that thread ends when the server answers or the
    // socket's keepalive gives up on it.
    let (sender, receiver) = mpsc::channel();
    let attempt = std::thread::Builder::new()
        .name("hivekeys-pg-connect".into())
        .spawn(move || {
            // The caller may have given up already; the client is then dropped here.
            let _ = sender.send(config.connect(connector));
        });
    if let Err(err) = attempt {
        return Err(Error::StoreFailed {
            store: url.redacted(),
            reason: format!("no thread could be started to connect ({err})"),
        });
    }
    match receiver.recv_timeout(timeout) {
        Ok(Ok(client)) => Ok(client),
        Ok(Err(err)) => Err(connect_error(url, &err, timeout)),
        Err(mpsc::RecvTimeoutError::Timeout) => Err(Error::StoreUnreachable {
            store: url.redacted(),
            reason: format!("no answer within {} s", timeout.as_secs_f64()),
        }),
        Err(mpsc::RecvTimeoutError::Disconnected) => Err(Error::StoreFailed {
            store: url.redacted(),
            reason: "the connecting thread stopped without an answer".to_owned(),
        }),
    }
}

fn config_for(url: &PgUrl, timeout: Duration) -> postgres::Config {
    let mut config = postgres::Config::new();
    config
        .user(url.user())
        .dbname(url.dbname())
        .port(url.port())
        .application_name("hivekeys")
        .options(&format!("-c search_path={SCHEMA}"))
        .connect_timeout(timeout)
        .keepalives(true)
        .keepalives_idle(KEEPALIVE_IDLE)
        .keepalives_interval(KEEPALIVE_INTERVAL)
        .keepalives_retries(KEEPALIVE_RETRIES)
        .tcp_user_timeout(UNACKNOWLEDGED_LIMIT);
    if let Some(password) = url.password() {
        config.password(password);
    }
    match url.host() {
        PgHost::Tcp(name) => {
            config.host(name);
            config.ssl_mode(match url.sslmode() {
                SslMode::Disable => WireSslMode::Disable,
                SslMode::Prefer => WireSslMode::Prefer,
                SslMode::Require | SslMode::VerifyFull => WireSslMode::Require,
            });
        }
        PgHost::Socket(dir) => {
            config.host_path(dir);
            // A local socket has nothing to encrypt, and the server never offers TLS on one;
            // libpq ignores sslmode there too.
            config.ssl_mode(WireSslMode::Disable);
        }
    }
    config
}
