//! The PostgreSQL side of the store: reading a `postgres://` URL, and connecting (TLS as
//! `sslmode` asks, bounded in time, errors as sentences that never hold the password).

mod connect;
mod failure;
mod tls;
mod url;

pub use connect::{CONNECT_TIMEOUT, SCHEMA, connect};
pub use failure::query_error;
pub use url::{DEFAULT_PORT, PASSWORD_VAR, PgHost, PgUrl, SslMode, USER_VAR, is_database_url};
