//! The PostgreSQL side of the store: reading a `postgres://` URL.

mod url;

pub use url::{DEFAULT_PORT, PASSWORD_VAR, PgHost, PgUrl, SslMode, USER_VAR, is_database_url};
