//! Reading keys: one by id or name, the filtered and paged lists, counts, the default key,
//! and the search text those lists match against.

use chrono::{DateTime, Utc};
use rusqlite::types::Value;
use rusqlite::{OptionalExtension, Row, ToSql};
use unicode_normalization::UnicodeNormalization;

use super::Store;
use super::failure::AtSite;
use super::records::{KeyQuery, KeyRecord, LiveSecret};
use crate::environment::Status;
use crate::error::{Error, Result};
use crate::text::validate_name;

/// The columns [`key_from_row`] reads, in order.
pub(super) const KEY_COLUMNS: &str = "k.public_id, k.name, k.environment, k.is_default, \
     k.masked_key, k.created_at, k.rotated_at, k.revoked_at, k.expires_at, k.last_used_at, \
     k.use_count, k.daily_limit";

pub(super) fn key_from_row(row: &Row<'_>) -> rusqlite::Result<KeyRecord> {
    Ok(KeyRecord {
        id: row.get(0)?,
        name: row.get(1)?,
        environment: row.get(2)?,
        is_default: row.get(3)?,
        masked_key: row.get(4)?,
        created_at: timestamp(row.get(5)?)?,
        rotated_at: row.get::<_, Option<i64>>(6)?.map(timestamp).transpose()?,
        revoked_at: row.get::<_, Option<i64>>(7)?.map(timestamp).transpose()?,
        expires_at: row.get::<_, Option<i64>>(8)?.map(timestamp).transpose()?,
        last_used_at: row.get::<_, Option<i64>>(9)?.map(timestamp).transpose()?,
        use_count: row.get::<_, i64>(10)?.max(0) as u64,
        daily_limit: row.get::<_, Option<i64>>(11)?.map(|n| n.max(0) as u64),
    })
}

pub(super) fn timestamp(secs: i64) -> rusqlite::Result<DateTime<Utc>> {
    DateTime::from_timestamp(secs, 0).ok_or(rusqlite::Error::IntegralValueOutOfRange(0, secs))
}

/// The text that search matches against, folded as [`fold_for_search`] folds a query. The
/// unit separator keeps a query from matching across the end of one field and the start of
/// the next.
pub fn search_text(name: &str, masked_key: &str, public_id: &str) -> String {
    format!(
        "{}\u{1f}{}\u{1f}{}",
        fold_for_search(name),
        fold_for_search(masked_key),
        fold_for_search(public_id)
    )
}

/// Text in the one form search compares: compatibility-composed (NFKC), lower-cased, then
/// composed again (lower-casing can leave a decomposed sequence). "Café" typed with a
/// composed "é" then finds "Café" stored as `e` and a combining accent, and a full-width
/// "ＡＰＩ" finds "api".
pub fn fold_for_search(text: &str) -> String {
    text.nfkc()
        .collect::<String>()
        .to_lowercase()
        .nfc()
        .collect()
}

/// SQL that is true for keys with `status` at time `?now` (bound by the caller).
fn status_condition(status: Status) -> &'static str {
    match status {
        Status::Active => "k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > :now)",
        Status::Revoked => "k.revoked_at IS NOT NULL",
        Status::Expired => "k.revoked_at IS NULL AND k.expires_at <= :now",
    }
}

/// The key with public id `id` in workspace `workspace`; a free function so that writes can
/// read back what they wrote inside their own transaction.
pub(super) fn fetch_key(
    conn: &rusqlite::Connection,
    workspace: &str,
    id: &str,
) -> rusqlite::Result<Option<KeyRecord>> {
    conn.prepare_cached(&format!(
        "SELECT {KEY_COLUMNS} FROM keys k JOIN workspaces w ON w.id = k.workspace_id \
         WHERE w.name = ?1 AND k.public_id = ?2"
    ))?
    .query_row([workspace, id], key_from_row)
    .optional()
}

impl Store {
    /// The key with public id `id` in `workspace`.
    pub fn get_key(&self, workspace: &str, id: &str) -> Result<KeyRecord> {
        fetch_key(&self.conn, workspace, id)
            .at(self.site())?
            .ok_or_else(|| not_found(id, workspace))
    }

    /// The key a person means by `query`: its public id, or a name that exactly one key of
    /// the workspace has.
    pub fn resolve_key(&self, workspace: &str, query: &str) -> Result<KeyRecord> {
        let workspace = validate_name(workspace, "workspace")?;
        match self.get_key(&workspace, query) {
            Err(Error::KeyNotFound { .. }) => {}
            found => return found,
        }
        let mut matches = self
            .conn
            .prepare_cached(&format!(
                "SELECT {KEY_COLUMNS} FROM keys k JOIN workspaces w ON w.id = k.workspace_id \
                 WHERE w.name = ?1 AND k.name = ?2 ORDER BY k.created_at DESC, k.id DESC LIMIT 21"
            ))
            .and_then(|mut st| {
                st.query_map([workspace.as_str(), query], key_from_row)?
                    .collect::<rusqlite::Result<Vec<_>>>()
            })
            .at(self.site())?;
        match matches.len() {
            0 => Err(not_found(query, &workspace)),
            1 => Ok(matches.remove(0)),
            _ => {
                let now = self.now();
                let candidates: Vec<String> = matches
                    .iter()
                    .take(20)
                    .map(|k| format!("{} ({}, {})", k.id, k.environment, k.status_at(now)))
                    .collect();
                Err(Error::AmbiguousKey {
                    query: crate::text::echo(query, 64),
                    workspace,
                    candidates,
                    more: matches.len() > 20,
                })
            }
        }
    }

    /// Keys of `workspace` matching `query`, newest first.
    pub fn list_keys(&self, workspace: &str, query: &KeyQuery) -> Result<Vec<KeyRecord>> {
        list_in(&self.conn, workspace, query, self.now_secs()).at(self.site())
    }

    /// How many keys of `workspace` match `query` (limit and offset ignored).
    pub fn count_keys(&self, workspace: &str, query: &KeyQuery) -> Result<u64> {
        let unpaged = KeyQuery {
            limit: None,
            offset: 0,
            ..query.clone()
        };
        let (sql, values) = list_sql(false, workspace, &unpaged, self.now_secs());
        self.conn
            .prepare_cached(&sql)
            .and_then(|mut st| st.query_row(&*named(&values), |row| row.get::<_, i64>(0)))
            .map(|n| n as u64)
            .at(self.site())
    }

    /// The key of `workspace` that a full key `full_key` belongs to: its current secret, or
    /// an older one a rotation left in place (in its grace period, or past it while the store
    /// still holds its digest). Looked up by SHA-256, as verification does; `None` for text
    /// that is not a well-formed key (shape and checksum) or a key this workspace never
    /// issued. Nothing is recorded: this answers "which key is this?", it is not a use.
    pub fn find_by_secret(&self, workspace: &str, full_key: &str) -> Result<Option<KeyRecord>> {
        if crate::key::check_format(full_key).is_err() {
            return Ok(None);
        }
        let hash = crate::key::KeyHash::of(full_key);
        self.conn
            .prepare_cached(&format!(
                "SELECT {KEY_COLUMNS} FROM secrets s JOIN keys k ON k.id = s.key_id \
                 JOIN workspaces w ON w.id = k.workspace_id WHERE s.hash = ?1 AND w.name = ?2"
            ))
            .and_then(|mut st| {
                st.query_row(rusqlite::params![&hash.0[..], workspace], key_from_row)
                    .optional()
            })
            .at(self.site())
    }

    /// The secrets of key `id` that verify now, newest first: after rotations with a grace
    /// period, the current one and those still in their grace. None for a revoked or expired
    /// key, which no secret opens.
    pub fn live_secrets(&self, workspace: &str, id: &str) -> Result<Vec<LiveSecret>> {
        let key = self.get_key(workspace, id)?;
        let now = self.now_secs();
        if key.status_at(self.now()) != Status::Active {
            return Ok(Vec::new());
        }
        self.conn
            .prepare_cached(
                "SELECT s.created_at, s.expires_at FROM secrets s JOIN keys k ON k.id = s.key_id \
                 JOIN workspaces w ON w.id = k.workspace_id WHERE w.name = ?1 \
                 AND k.public_id = ?2 AND (s.expires_at IS NULL OR s.expires_at > ?3) \
                 ORDER BY s.created_at DESC, s.expires_at IS NULL DESC",
            )
            .and_then(|mut st| {
                st.query_map(rusqlite::params![workspace, id, now], |row| {
                    Ok(LiveSecret {
                        created_at: timestamp(row.get(0)?)?,
                        expires_at: row.get::<_, Option<i64>>(1)?.map(timestamp).transpose()?,
                    })
                })?
                .collect()
            })
            .at(self.site())
    }

    /// The workspace's active default key, if it has one.
    pub fn default_key(&self, workspace: &str) -> Result<Option<KeyRecord>> {
        default_in(&self.conn, workspace, self.now_secs()).at(self.site())
    }
}

/// Keys of `workspace` matching `query` at time `now`, newest first.
pub(super) fn list_in(
    conn: &rusqlite::Connection,
    workspace: &str,
    query: &KeyQuery,
    now: i64,
) -> rusqlite::Result<Vec<KeyRecord>> {
    let (sql, values) = list_sql(true, workspace, query, now);
    conn.prepare_cached(&sql)?
        .query_map(&*named(&values), key_from_row)?
        .collect()
}

/// The workspace's active default key at time `now`.
pub(super) fn default_in(
    conn: &rusqlite::Connection,
    workspace: &str,
    now: i64,
) -> rusqlite::Result<Option<KeyRecord>> {
    // The partial index holds a workspace's few default keys. Left to itself SQLite prefers
    // walking the date index for the ORDER BY … LIMIT 1, reading keys newest first until it
    // meets the default: 110 ms at 100,000 keys, 2 s at a million. `is_default = 1` is
    // written out, not bound, because a partial index only matches a literal.
    conn.prepare_cached(&format!(
        "SELECT {KEY_COLUMNS} FROM keys k INDEXED BY keys_default WHERE k.workspace_id = \
         (SELECT id FROM workspaces WHERE name = :ws) AND k.is_default = 1 AND {} \
         ORDER BY k.created_at DESC, k.id DESC LIMIT 1",
        status_condition(Status::Active)
    ))?
    .query_row(
        rusqlite::named_params! {":ws": workspace, ":now": now},
        key_from_row,
    )
    .optional()
}

pub(super) fn not_found(query: &str, workspace: &str) -> Error {
    Error::KeyNotFound {
        query: crate::text::echo(query, 64),
        workspace: crate::text::echo(workspace, 64),
    }
}

/// Builds the filtered query over one workspace. Named parameters keep the optional parts
/// independent of each other.
/// `rows`: select the key columns in list order; otherwise count the matches.
fn list_sql(
    rows: bool,
    workspace: &str,
    query: &KeyQuery,
    now: i64,
) -> (String, Vec<(String, Value)>) {
    let select = if rows {
        format!("SELECT {KEY_COLUMNS}")
    } else {
        "SELECT count(*)".to_owned()
    };
    // Walking the workspace index in date order pays a random row read per key: worth it to
    // stop early at a page, but a sequential scan and a sort are ~6x faster when every row
    // must be looked at anyway (measured at 100,000 keys: 150 ms against 25 ms for a search).
    // A unary `+` keeps SQLite from using the index for that term.
    // Counting every key of a workspace needs no row at all: the index alone answers it.
    let count_all = !rows
        && query.search.is_none()
        && query.environment.is_none()
        && query.status.is_none()
        && query.is_default.is_none();
    let walk_index = (query.limit.is_some() && query.search.is_none()) || count_all;
    let unindexed = if walk_index { "" } else { "+" };
    let mut sql = format!(
        "{select} FROM keys k WHERE {unindexed}k.workspace_id = \
         (SELECT id FROM workspaces WHERE name = :ws)"
    );
    let mut values: Vec<(String, Value)> = vec![(":ws".into(), Value::Text(workspace.to_owned()))];
    if let Some(environment) = query.environment {
        sql.push_str(" AND k.environment = :env");
        values.push((":env".into(), Value::Text(environment.to_string())));
    }
    if let Some(status) = query.status {
        sql.push_str(" AND ");
        let condition = status_condition(status);
        sql.push_str(condition);
        if condition.contains(":now") {
            values.push((":now".into(), Value::Integer(now)));
        }
    }
    if let Some(is_default) = query.is_default {
        sql.push_str(" AND k.is_default = :default");
        values.push((":default".into(), Value::Integer(is_default.into())));
    }
    if let Some(search) = query
        .search
        .as_deref()
        .map(normalize_search)
        .filter(|s| !s.is_empty())
    {
        sql.push_str(" AND instr(k.search_text, :search) > 0");
        values.push((":search".into(), Value::Text(search)));
    }
    if !rows {
        return (sql, values);
    }
    sql.push_str(&format!(
        " ORDER BY {unindexed}k.created_at DESC, k.id DESC"
    ));
    if query.limit.is_some() || query.offset > 0 {
        sql.push_str(" LIMIT :limit OFFSET :offset");
        let limit = query.limit.map_or(-1, |n| n.min(i64::MAX as usize) as i64);
        values.push((":limit".into(), Value::Integer(limit)));
        values.push((
            ":offset".into(),
            Value::Integer(query.offset.min(i64::MAX as usize) as i64),
        ));
    }
    (sql, values)
}

fn named(values: &[(String, Value)]) -> Vec<(&str, &dyn ToSql)> {
    values
        .iter()
        .map(|(name, value)| (name.as_str(), value as &dyn ToSql))
        .collect()
}

/// Search text as it is matched: folded as the stored text is ([`fold_for_search`]),
/// without control characters (which no stored field contains, and which would otherwise
/// match the field separator).
pub fn normalize_search(input: &str) -> String {
    fold_for_search(
        &input
            .chars()
            .filter(|c| !c.is_control())
            .collect::<String>(),
    )
}
