//! Deployment environments a key is issued for, and the lifecycle status of a key.

use std::fmt;
use std::str::FromStr;

use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSql, ToSqlOutput, ValueRef};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Environment {
    Production,
    Staging,
    Development,
}

impl Environment {
    pub const ALL: [Environment; 3] = [
        Environment::Production,
        Environment::Staging,
        Environment::Development,
    ];

    /// The short code used inside keys: `prod`, `stg`, `dev`.
    pub fn code(self) -> &'static str {
        match self {
            Environment::Production => "prod",
            Environment::Staging => "stg",
            Environment::Development => "dev",
        }
    }

    /// The long name used in the store and in JSON: `production`, …
    pub fn as_str(self) -> &'static str {
        match self {
            Environment::Production => "production",
            Environment::Staging => "staging",
            Environment::Development => "development",
        }
    }

    /// The name shown to people: `Production`, …
    pub fn label(self) -> &'static str {
        match self {
            Environment::Production => "Production",
            Environment::Staging => "Staging",
            Environment::Development => "Development",
        }
    }

    pub fn from_code(code: &str) -> Option<Environment> {
        Environment::ALL.into_iter().find(|e| e.code() == code)
    }
}

impl fmt::Display for Environment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown environment \"{0}\": use production, staging or development (or prod, stg, dev)")]
pub struct UnknownEnvironment(pub String);

impl FromStr for Environment {
    type Err = UnknownEnvironment;

    /// Accepts the long names and the short codes, in any case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.trim().to_ascii_lowercase();
        Environment::ALL
            .into_iter()
            .find(|e| e.as_str() == lower || e.code() == lower)
            .ok_or_else(|| UnknownEnvironment(crate::text::echo(s, 40)))
    }
}

/// Stored by its long name (the one the schema's `CHECK` allows) and read back through the
/// same parser as the command line's, so the spellings live in one table. A value this build
/// does not know is a conversion failure naming it.
impl ToSql for Environment {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(self.as_str().into())
    }
}

impl FromSql for Environment {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        value
            .as_str()?
            .parse()
            .map_err(|err| FromSqlError::Other(Box::new(err)))
    }
}

/// Where a key is in its life. Revoked wins over expired: a revocation is final.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    Active,
    Revoked,
    Expired,
}

impl Status {
    pub const ALL: [Status; 3] = [Status::Active, Status::Revoked, Status::Expired];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Active => "active",
            Status::Revoked => "revoked",
            Status::Expired => "expired",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Status::Active => "Active",
            Status::Revoked => "Revoked",
            Status::Expired => "Expired",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown status \"{0}\": use active, revoked or expired")]
pub struct UnknownStatus(pub String);

impl FromStr for Status {
    type Err = UnknownStatus;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.trim().to_ascii_lowercase();
        Status::ALL
            .into_iter()
            .find(|st| st.as_str() == lower)
            .ok_or_else(|| UnknownStatus(crate::text::echo(s, 40)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environments_parse_from_long_names_and_codes() {
        for (input, expected) in [
            ("production", Environment::Production),
            ("prod", Environment::Production),
            ("PROD", Environment::Production),
            ("staging", Environment::Staging),
            ("stg", Environment::Staging),
            ("development", Environment::Development),
            ("dev", Environment::Development),
        ] {
            assert_eq!(input.parse::<Environment>().unwrap(), expected, "{input}");
        }
        for bad in ["banana", "", "pro", "prod_", "live"] {
            assert!(bad.parse::<Environment>().is_err(), "{bad}");
        }
        assert!(
            "banana"
                .parse::<Environment>()
                .unwrap_err()
                .to_string()
                .contains("production, staging or development")
        );
    }

    #[test]
    fn environments_go_into_sqlite_by_long_name_and_come_back() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        for environment in Environment::ALL {
            let (text, back): (String, Environment) = conn
                .query_row("SELECT ?1, ?1", [environment], |row| {
                    Ok((row.get(0)?, row.get(1)?))
                })
                .unwrap();
            assert_eq!((text.as_str(), back), (environment.as_str(), environment));
        }
        let unknown = conn
            .query_row("SELECT 'live'", [], |row| row.get::<_, Environment>(0))
            .unwrap_err();
        assert!(
            matches!(unknown, rusqlite::Error::FromSqlConversionFailure(..)),
            "{unknown:?}"
        );
        assert!(unknown.to_string().contains("unknown environment \"live\""));
    }

    #[test]
    fn statuses_parse() {
        assert_eq!("Revoked".parse::<Status>().unwrap(), Status::Revoked);
        assert!("gone".parse::<Status>().is_err());
    }
}
