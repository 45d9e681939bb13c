//! The values a statement takes, in the few types the schema uses: whole numbers (times,
//! counts, flags and row ids are all 64-bit integers on both backends), text and bytes.

use rusqlite::types::{ToSqlOutput, ValueRef};

/// One argument of a statement. PostgreSQL checks each argument's type against the column
/// it meets, so a missing value keeps its type (`Int(None)`, not a bare NULL).
#[derive(Debug, Clone, Copy)]
pub(in crate::store) enum Arg<'a> {
    Int(Option<i64>),
    Text(Option<&'a str>),
    Bytes(&'a [u8]),
}

impl Arg<'_> {
    /// The argument as the `postgres` crate takes it.
    pub(super) fn as_postgres(&self) -> &(dyn postgres::types::ToSql + Sync) {
        match self {
            Arg::Int(value) => value,
            Arg::Text(value) => value,
            Arg::Bytes(value) => value,
        }
    }
}

impl rusqlite::ToSql for Arg<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(match *self {
            Arg::Int(Some(n)) => ValueRef::Integer(n),
            Arg::Text(Some(text)) => ValueRef::Text(text.as_bytes()),
            Arg::Bytes(bytes) => ValueRef::Blob(bytes),
            Arg::Int(None) | Arg::Text(None) => ValueRef::Null,
        }))
    }
}

impl From<i64> for Arg<'_> {
    fn from(n: i64) -> Self {
        Arg::Int(Some(n))
    }
}

impl From<Option<i64>> for Arg<'_> {
    fn from(n: Option<i64>) -> Self {
        Arg::Int(n)
    }
}

impl From<bool> for Arg<'_> {
    fn from(flag: bool) -> Self {
        Arg::Int(Some(flag.into()))
    }
}

impl<'a> From<&'a str> for Arg<'a> {
    fn from(text: &'a str) -> Self {
        Arg::Text(Some(text))
    }
}

impl<'a> From<&'a String> for Arg<'a> {
    fn from(text: &'a String) -> Self {
        Arg::Text(Some(text))
    }
}

impl<'a> From<Option<&'a str>> for Arg<'a> {
    fn from(text: Option<&'a str>) -> Self {
        Arg::Text(text)
    }
}

impl<'a> From<&'a [u8]> for Arg<'a> {
    fn from(bytes: &'a [u8]) -> Self {
        Arg::Bytes(bytes)
    }
}
