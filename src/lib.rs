//! hivekeys: issue, store, list, rotate, revoke and verify workspace API keys in a local
//! SQLite store. The dashboard and the command line are both clients of this library.

#![forbid(unsafe_code)]

pub mod audit_log;
pub mod cli;
pub mod clock;
pub mod details;
pub mod entropy;
pub mod environment;
pub mod error;
pub mod expiry;
pub mod key;
pub mod scan;
pub mod serve;
pub mod store;
pub mod text;
pub mod timefmt;
pub mod tui;
pub mod usage_filter;

pub use environment::{Environment, Status};
pub use error::{Error, Result};
pub use key::Secret;
pub use store::{KeyQuery, KeyRecord, NewKey, Store, StoreOptions};
