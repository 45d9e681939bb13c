//! The PostgreSQL side of the store: reading a `postgres://` URL, connecting (TLS as
//! `sslmode` asks, bounded in time, errors as sentences that never hold the password), and
//! the versioned schema in the `hivekeys` schema, whose triggers announce key changes with
//! `NOTIFY hivekeys_keys` and use-count changes with `NOTIFY hivekeys_usage`.

mod connect;
mod failure;
mod schema;
mod tls;
mod url;

pub use connect::{CONNECT_TIMEOUT, SCHEMA, connect, connect_within};
pub use failure::query_error;
pub use schema::{LATEST_PG_VERSION, migrate};
pub use url::{DEFAULT_PORT, PASSWORD_VAR, PgHost, PgUrl, SslMode, USER_VAR, is_database_url};

/// The channel that carries the new key-change version after every change to keys, secrets
/// or workspaces.
pub const KEYS_CHANNEL: &str = "hivekeys_keys";

/// The channel that says use counts were written.
pub const USAGE_CHANNEL: &str = "hivekeys_usage";
