//! The values the store hands out and takes in.

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSql, ToSqlOutput, ValueRef};

use crate::environment::{Environment, Status};

/// One key as the store knows it: everything but the secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRecord {
    /// The public id, e.g. `key_4f9c2a1b`.
    pub id: String,
    pub name: String,
    pub environment: Environment,
    pub is_default: bool,
    pub masked_key: String,
    pub created_at: DateTime<Utc>,
    pub rotated_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub use_count: u64,
    /// Uses allowed per UTC day; `None` for no limit.
    pub daily_limit: Option<u64>,
    /// A scan found a secret of this key ([`Store::record_leaks`]); `None` when none that
    /// was found still opens it, or when none was ever found.
    ///
    /// [`Store::record_leaks`]: crate::Store::record_leaks
    pub leak: Option<LeakMark>,
}

/// That a scan found a secret of a key, and how long that secret keeps working.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeakMark {
    /// When the last found secret stops (the end of a rotation's grace); `None` while one of
    /// them is the key's current secret.
    pub until: Option<DateTime<Utc>>,
}

impl KeyRecord {
    /// Whether a secret of this key that a scan found still opens it at `now`: the key is
    /// active and the secret is its current one or within its rotation grace. Rotating the
    /// key (once the grace ends) or revoking it clears the mark; a later scan that does not
    /// see the secret again does not (it is out).
    pub fn is_leaked_at(&self, now: DateTime<Utc>) -> bool {
        self.status_at(now) == Status::Active
            && self
                .leak
                .is_some_and(|mark| mark.until.is_none_or(|until| until > now))
    }

    pub fn status_at(&self, now: DateTime<Utc>) -> Status {
        if self.revoked_at.is_some() {
            Status::Revoked
        } else if self.expires_at.is_some_and(|at| at <= now) {
            Status::Expired
        } else {
            Status::Active
        }
    }
}

#[cfg(test)]
impl KeyRecord {
    /// An active key as unit tests need one: never used, rotated or limited, not the default.
    pub(crate) fn example(
        id: &str,
        name: &str,
        environment: Environment,
        created_at: DateTime<Utc>,
    ) -> KeyRecord {
        KeyRecord {
            id: id.into(),
            name: name.into(),
            masked_key: format!("fhk_{}_abcd…wxyz", environment.code()),
            environment,
            is_default: false,
            created_at,
            rotated_at: None,
            revoked_at: None,
            expires_at: None,
            last_used_at: None,
            use_count: 0,
            daily_limit: None,
            leak: None,
        }
    }
}

/// What to create: see [`crate::Store::create_key`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewKey {
    pub name: String,
    pub environment: Environment,
    pub is_default: bool,
    pub expires_at: Option<DateTime<Utc>>,
    /// Uses allowed per UTC day (1 to [`MAX_DAILY_LIMIT`]); `None` for no limit.
    pub daily_limit: Option<u64>,
}

/// The largest daily limit a key may have.
pub const MAX_DAILY_LIMIT: u64 = 1_000_000_000;

impl NewKey {
    pub fn new(name: impl Into<String>, environment: Environment) -> NewKey {
        NewKey {
            name: name.into(),
            environment,
            is_default: false,
            expires_at: None,
            daily_limit: None,
        }
    }

    /// The workspace's default key; named "Default API Key" like the page's panel.
    pub fn default_key(environment: Environment) -> NewKey {
        NewKey {
            is_default: true,
            ..NewKey::new(DEFAULT_KEY_NAME, environment)
        }
    }
}

pub const DEFAULT_KEY_NAME: &str = "Default API Key";

/// Which keys to list. Every field narrows the result; the default lists everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyQuery {
    /// Case-insensitive substring of the name, masked key or id.
    pub search: Option<String>,
    pub environment: Option<Environment>,
    pub status: Option<Status>,
    pub is_default: Option<bool>,
    /// Only keys never used, or last used this long ago or longer
    /// ([`crate::usage_filter::unused_for`]).
    pub unused_for: Option<TimeDelta>,
    /// Only active keys that expire within this long.
    pub expiring_within: Option<TimeDelta>,
    pub limit: Option<usize>,
    pub offset: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditAction {
    Created,
    Rotated,
    Revoked,
    LimitChanged,
    /// The detail says "OLD → NEW".
    Renamed,
}

impl AuditAction {
    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::Created => "created",
            AuditAction::Rotated => "rotated",
            AuditAction::Revoked => "revoked",
            AuditAction::LimitChanged => "limit_changed",
            AuditAction::Renamed => "renamed",
        }
    }
}

/// Stored by [`AuditAction::as_str`]; a value this build does not know is a conversion
/// failure naming it.
impl ToSql for AuditAction {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(self.as_str().into())
    }
}

impl FromSql for AuditAction {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        value
            .as_str()?
            .parse()
            .map_err(|err: String| FromSqlError::Other(err.into()))
    }
}

impl std::str::FromStr for AuditAction {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        [
            AuditAction::Created,
            AuditAction::Rotated,
            AuditAction::Revoked,
            AuditAction::LimitChanged,
            AuditAction::Renamed,
        ]
        .into_iter()
        .find(|action| action.as_str() == text)
        .ok_or_else(|| format!("unknown audit action \"{}\"", crate::text::echo(text, 40)))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    pub at: DateTime<Utc>,
    pub action: AuditAction,
    /// The operating-system user who made the change.
    pub actor: String,
    /// E.g. the grace period of a rotation.
    pub detail: Option<String>,
}

/// A key's bookkeeping alone: what changes with every verification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyUsage {
    pub last_used_at: Option<DateTime<Utc>>,
    pub use_count: u64,
}

/// One secret of a key that still verifies. Only its digest is stored, so a secret is known
/// by when it was issued; `expires_at` is `None` for the current secret, which lasts until
/// the next rotation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LiveSecret {
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
}

impl LiveSecret {
    /// "issued 2026-11-26 12:00 UTC · current" or "… · until 2026-11-27 12:00 UTC (in 23
    /// hours)": how the detail view and `hivekeys show` list a key's secrets.
    pub fn describe(&self, now: DateTime<Utc>) -> String {
        let until = match self.expires_at {
            None => "current".to_owned(),
            Some(at) => format!(
                "until {}",
                crate::timefmt::short_and_relative(Some(at), now)
            ),
        };
        format!(
            "issued {} · {until}",
            crate::timefmt::short(self.created_at)
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DailyUse {
    pub date: NaiveDate,
    pub count: u64,
}

/// How long a rotated-out secret keeps working.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Grace {
    #[default]
    None,
    OneHour,
    OneDay,
    SevenDays,
}

impl Grace {
    pub const ALL: [Grace; 4] = [Grace::None, Grace::OneHour, Grace::OneDay, Grace::SevenDays];

    pub fn seconds(self) -> i64 {
        match self {
            Grace::None => 0,
            Grace::OneHour => 3_600,
            Grace::OneDay => 86_400,
            Grace::SevenDays => 7 * 86_400,
        }
    }

    /// The CLI spelling: `none`, `1h`, `24h`, `7d`.
    pub fn code(self) -> &'static str {
        match self {
            Grace::None => "none",
            Grace::OneHour => "1h",
            Grace::OneDay => "24h",
            Grace::SevenDays => "7d",
        }
    }

    /// How long the old secret lives on: "for 1 hour", …
    pub fn span(self) -> &'static str {
        match self {
            Grace::None => "for no time",
            Grace::OneHour => "for 1 hour",
            Grace::OneDay => "for 24 hours",
            Grace::SevenDays => "for 7 days",
        }
    }

    /// When the old secret stops: "immediately", "after 1 hour", …
    pub fn label(self) -> &'static str {
        match self {
            Grace::None => "immediately",
            Grace::OneHour => "after 1 hour",
            Grace::OneDay => "after 24 hours",
            Grace::SevenDays => "after 7 days",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown grace period \"{0}\": use 1h, 24h or 7d (or none)")]
pub struct UnknownGrace(pub String);

impl std::str::FromStr for Grace {
    type Err = UnknownGrace;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "none" | "0" | "0h" => Ok(Grace::None),
            "1h" => Ok(Grace::OneHour),
            "24h" | "1d" => Ok(Grace::OneDay),
            "7d" | "168h" => Ok(Grace::SevenDays),
            _ => Err(UnknownGrace(crate::text::echo(s, 40))),
        }
    }
}

/// A key just created or rotated: its record and, this once, the full key.
#[derive(Debug)]
pub struct IssuedKey {
    pub record: KeyRecord,
    pub secret: crate::key::Secret,
}
