//! Reading a row of either backend in the schema's few types.

use std::str::FromStr;

use chrono::{DateTime, Utc};

use crate::store::failure::Failure;

/// One row of a result, from either backend.
pub(in crate::store) enum Row<'r> {
    Sqlite(&'r rusqlite::Row<'r>),
    Postgres(&'r postgres::Row),
}

impl Row<'_> {
    pub(in crate::store) fn opt_i64(&self, column: usize) -> Result<Option<i64>, Failure> {
        Ok(match self {
            Row::Sqlite(row) => row.get(column)?,
            Row::Postgres(row) => row.try_get(column)?,
        })
    }

    pub(in crate::store) fn i64(&self, column: usize) -> Result<i64, Failure> {
        self.opt_i64(column)?
            .ok_or_else(|| Failure::Decode(format!("column {column} is NULL")))
    }

    /// A count or limit: never negative, whatever a damaged store holds.
    pub(in crate::store) fn u64(&self, column: usize) -> Result<u64, Failure> {
        Ok(self.i64(column)?.max(0) as u64)
    }

    pub(in crate::store) fn opt_u64(&self, column: usize) -> Result<Option<u64>, Failure> {
        Ok(self.opt_i64(column)?.map(|n| n.max(0) as u64))
    }

    /// A 0/1 flag.
    pub(in crate::store) fn flag(&self, column: usize) -> Result<bool, Failure> {
        Ok(self.i64(column)? != 0)
    }

    pub(in crate::store) fn opt_text(&self, column: usize) -> Result<Option<String>, Failure> {
        Ok(match self {
            Row::Sqlite(row) => row.get(column)?,
            Row::Postgres(row) => row.try_get(column)?,
        })
    }

    pub(in crate::store) fn text(&self, column: usize) -> Result<String, Failure> {
        self.opt_text(column)?
            .ok_or_else(|| Failure::Decode(format!("column {column} is NULL")))
    }

    pub(in crate::store) fn bytes(&self, column: usize) -> Result<Vec<u8>, Failure> {
        Ok(match self {
            Row::Sqlite(row) => row.get(column)?,
            Row::Postgres(row) => row.try_get(column)?,
        })
    }

    /// Text parsed by `T`'s own parser (an environment, an audit action); a value this build
    /// does not know is a [`Failure::Decode`] naming it.
    pub(in crate::store) fn parsed<T>(&self, column: usize) -> Result<T, Failure>
    where
        T: FromStr,
        T::Err: std::fmt::Display,
    {
        self.text(column)?
            .parse()
            .map_err(|err: T::Err| Failure::Decode(err.to_string()))
    }

    /// A time stored as Unix seconds.
    pub(in crate::store) fn time(&self, column: usize) -> Result<DateTime<Utc>, Failure> {
        timestamp(self.i64(column)?)
    }

    pub(in crate::store) fn opt_time(
        &self,
        column: usize,
    ) -> Result<Option<DateTime<Utc>>, Failure> {
        self.opt_i64(column)?.map(timestamp).transpose()
    }
}

/// Unix seconds as a time; a value outside chrono's range is a damaged store.
pub(in crate::store) fn timestamp(secs: i64) -> Result<DateTime<Utc>, Failure> {
    DateTime::from_timestamp(secs, 0)
        .ok_or_else(|| Failure::Decode(format!("time {secs} is out of range")))
}
