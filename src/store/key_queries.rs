//! Reading keys: one by id or name, the filtered and paged lists, counts, the default key,
//! and the search text those lists match against.

use unicode_normalization::UnicodeNormalization;

use super::Store;
use super::failure::{AtSite, Failure};
use super::records::{KeyQuery, KeyRecord, LeakMark, LiveSecret};
use super::sql::{Arg, Db, Row, args};
use crate::environment::Status;
use crate::error::{Error, Result};
use crate::text::validate_name;

/// The columns [`key_from_row`] reads, in order. The last is when the last secret a scan
/// found stops opening the key (a rotation's grace end; [`LEAKED_FOR_GOOD`] for a current
/// secret), kept in the key's row: a lookup in `leaks` per key cost ~0.3–0.6 s of CPU over a
/// million keys.
pub(super) const KEY_COLUMNS: &str = "k.public_id, k.name, k.environment, k.is_default, \
     k.masked_key, k.created_at, k.rotated_at, k.revoked_at, k.expires_at, k.last_used_at, \
     k.use_count, k.daily_limit, k.leaked_until";

/// What [`KEY_COLUMNS`]' leak column says of a found secret that has no end yet.
pub(super) const LEAKED_FOR_GOOD: i64 = i64::MAX;

pub(super) fn key_from_row(row: &Row<'_>) -> Result<KeyRecord, Failure> {
    Ok(KeyRecord {
        id: row.text(0)?,
        name: row.text(1)?,
        environment: row.parsed(2)?,
        is_default: row.flag(3)?,
        masked_key: row.text(4)?,
        created_at: row.time(5)?,
        rotated_at: row.opt_time(6)?,
        revoked_at: row.opt_time(7)?,
        expires_at: row.opt_time(8)?,
        last_used_at: row.opt_time(9)?,
        use_count: row.u64(10)?,
        daily_limit: row.opt_u64(11)?,
        leak: match row.opt_i64(12)? {
            None => None,
            Some(LEAKED_FOR_GOOD) => Some(LeakMark { until: None }),
            Some(until) => Some(LeakMark {
                until: Some(super::sql::timestamp(until)?),
            }),
        },
    })
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

/// SQL that is true for keys with `status` at the time `now` names (a parameter bound by the
/// caller).
fn status_condition(status: Status, now: &str) -> String {
    match status {
        Status::Active => {
            format!("k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > {now})")
        }
        Status::Revoked => "k.revoked_at IS NOT NULL".to_owned(),
        Status::Expired => format!("k.revoked_at IS NULL AND k.expires_at <= {now}"),
    }
}

/// The key with public id `id` in workspace `workspace`; a free function so that writes can
/// read back what they wrote inside their own transaction.
pub(super) fn fetch_key(
    db: Db<'_>,
    workspace: &str,
    id: &str,
) -> Result<Option<KeyRecord>, Failure> {
    db.query_row(
        &format!(
            "SELECT {KEY_COLUMNS} FROM keys k JOIN workspaces w ON w.id = k.workspace_id \
             WHERE w.name = ?1 AND k.public_id = ?2"
        ),
        args![workspace, id],
        key_from_row,
    )
}

impl Store {
    /// The key with public id `id` in `workspace`.
    pub fn get_key(&self, workspace: &str, id: &str) -> Result<KeyRecord> {
        fetch_key(self.db(), workspace, id)
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
            .db()
            .query_all(
                &format!(
                    "SELECT {KEY_COLUMNS} FROM keys k JOIN workspaces w \
                     ON w.id = k.workspace_id WHERE w.name = ?1 AND k.name = ?2 \
                     ORDER BY k.created_at DESC, k.id DESC LIMIT 21"
                ),
                args![workspace.as_str(), query],
                key_from_row,
            )
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
        list_in(self.db(), workspace, query, self.now_secs()).at(self.site())
    }

    /// How many keys of `workspace` match `query` (limit and offset ignored).
    pub fn count_keys(&self, workspace: &str, query: &KeyQuery) -> Result<u64> {
        let unpaged = KeyQuery {
            limit: None,
            offset: 0,
            ..query.clone()
        };
        let (sql, values) = list_sql(self.db(), false, workspace, &unpaged, self.now_secs());
        self.db()
            .query_i64(&sql, &args_of(&values))
            .map(|n| n.unwrap_or(0).max(0) as u64)
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
        self.db()
            .query_row(
                &format!(
                    "SELECT {KEY_COLUMNS} FROM secrets s JOIN keys k ON k.id = s.key_id \
                     JOIN workspaces w ON w.id = k.workspace_id \
                     WHERE s.hash = ?1 AND w.name = ?2"
                ),
                args![&hash.0[..], workspace],
                key_from_row,
            )
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
        self.db()
            .query_all(
                "SELECT s.created_at, s.expires_at FROM secrets s JOIN keys k ON k.id = s.key_id \
                 JOIN workspaces w ON w.id = k.workspace_id WHERE w.name = ?1 \
                 AND k.public_id = ?2 AND (s.expires_at IS NULL OR s.expires_at > ?3) \
                 ORDER BY s.created_at DESC, s.expires_at IS NULL DESC",
                args![workspace, id, now],
                |row| {
                    Ok(LiveSecret {
                        created_at: row.time(0)?,
                        expires_at: row.opt_time(1)?,
                    })
                },
            )
            .at(self.site())
    }

    /// The workspace's active default key, if it has one.
    pub fn default_key(&self, workspace: &str) -> Result<Option<KeyRecord>> {
        default_in(self.db(), workspace, self.now_secs()).at(self.site())
    }
}

/// Keys of `workspace` matching `query` at time `now`, newest first.
pub(super) fn list_in(
    db: Db<'_>,
    workspace: &str,
    query: &KeyQuery,
    now: i64,
) -> Result<Vec<KeyRecord>, Failure> {
    let (sql, values) = list_sql(db, true, workspace, query, now);
    db.query_all(&sql, &args_of(&values), key_from_row)
}

/// As [`list_in`], but each key goes to `each` as it is read, none kept; first `expect` is
/// told how many there will be (read in the same transaction, so the two agree).
pub(super) fn each_in(
    db: Db<'_>,
    workspace: &str,
    query: &KeyQuery,
    now: i64,
    expect: impl FnOnce(usize),
    mut each: impl FnMut(KeyRecord),
) -> Result<(), Failure> {
    let (sql, values) = list_sql(db, false, workspace, query, now);
    expect(db.query_i64(&sql, &args_of(&values))?.unwrap_or(0).max(0) as usize);
    let (sql, values) = list_sql(db, true, workspace, query, now);
    db.query_all(&sql, &args_of(&values), |row| {
        each(key_from_row(row)?);
        Ok(())
    })?;
    Ok(())
}

/// The workspace's active default key at time `now`.
pub(super) fn default_in(
    db: Db<'_>,
    workspace: &str,
    now: i64,
) -> Result<Option<KeyRecord>, Failure> {
    // The partial index holds a workspace's few default keys. Left to itself SQLite prefers
    // walking the date index for the ORDER BY … LIMIT 1, reading keys newest first until it
    // meets the default: 110 ms at 100,000 keys, 2 s at a million. `is_default = 1` is
    // written out, not bound, because a partial index only matches a literal (on both).
    let hint = match db {
        Db::Sqlite(_) => "INDEXED BY keys_default",
        Db::Postgres(_) => "",
    };
    db.query_row(
        &format!(
            "SELECT {KEY_COLUMNS} FROM keys k {hint} WHERE k.workspace_id = \
             (SELECT id FROM workspaces WHERE name = ?1) AND k.is_default = 1 AND {} \
             ORDER BY k.created_at DESC, k.id DESC LIMIT 1",
            status_condition(Status::Active, "?2")
        ),
        args![workspace, now],
        key_from_row,
    )
}

pub(super) fn not_found(query: &str, workspace: &str) -> Error {
    Error::KeyNotFound {
        query: crate::text::echo(query, 64),
        workspace: crate::text::echo(workspace, 64),
    }
}

/// A value bound to a statement that [`list_sql`] builds.
enum Value {
    Int(i64),
    Text(String),
}

fn args_of(values: &[Value]) -> Vec<Arg<'_>> {
    values
        .iter()
        .map(|value| match value {
            Value::Int(n) => Arg::from(*n),
            Value::Text(text) => Arg::from(text),
        })
        .collect()
}

/// Builds the filtered query over one workspace, numbering its parameters in the order the
/// optional parts add them.
/// `rows`: select the key columns in list order; otherwise count the matches.
fn list_sql(
    db: Db<'_>,
    rows: bool,
    workspace: &str,
    query: &KeyQuery,
    now: i64,
) -> (String, Vec<Value>) {
    let mut values = Vec::new();
    let mut bind = |value: Value| {
        values.push(value);
        format!("?{}", values.len())
    };
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
        && query.is_default.is_none()
        && query.unused_for.is_none()
        && query.expiring_within.is_none();
    let walk_index = (query.limit.is_some() && query.search.is_none()) || count_all;
    // PostgreSQL plans for itself, and its unary `+` would cost a conversion per row.
    let unindexed = match (walk_index, db) {
        (false, Db::Sqlite(_)) => "+",
        _ => "",
    };
    let mut sql = format!(
        "{select} FROM keys k WHERE {unindexed}k.workspace_id = \
         (SELECT id FROM workspaces WHERE name = {})",
        bind(Value::Text(workspace.to_owned()))
    );
    if let Some(environment) = query.environment {
        let env = bind(Value::Text(environment.to_string()));
        sql.push_str(&format!(" AND k.environment = {env}"));
    }
    if let Some(status) = query.status {
        let now = match status {
            Status::Revoked => String::new(),
            _ => bind(Value::Int(now)),
        };
        sql.push_str(" AND ");
        sql.push_str(&status_condition(status, &now));
    }
    if let Some(is_default) = query.is_default {
        let flag = bind(Value::Int(is_default.into()));
        sql.push_str(&format!(" AND k.is_default = {flag}"));
    }
    if let Some(period) = query.unused_for {
        let cutoff = bind(Value::Int(now.saturating_sub(period.num_seconds())));
        sql.push_str(&format!(
            " AND (k.last_used_at IS NULL OR k.last_used_at <= {cutoff})"
        ));
    }
    if let Some(window) = query.expiring_within {
        let from = bind(Value::Int(now));
        let until = bind(Value::Int(now.saturating_add(window.num_seconds())));
        sql.push_str(&format!(
            " AND k.revoked_at IS NULL AND k.expires_at > {from} AND k.expires_at <= {until}"
        ));
    }
    if let Some(search) = query
        .search
        .as_deref()
        .map(normalize_search)
        .filter(|s| !s.is_empty())
    {
        let search = bind(Value::Text(search));
        sql.push_str(&format!(" AND instr(k.search_text, {search}) > 0"));
    }
    if !rows {
        return (sql, values);
    }
    sql.push_str(&format!(
        " ORDER BY {unindexed}k.created_at DESC, k.id DESC"
    ));
    if query.limit.is_some() || query.offset > 0 {
        // No limit is the largest one: both databases take it, where only SQLite takes -1.
        let limit = query
            .limit
            .map_or(i64::MAX, |n| n.min(i64::MAX as usize) as i64);
        let limit = bind(Value::Int(limit));
        let offset = bind(Value::Int(query.offset.min(i64::MAX as usize) as i64));
        sql.push_str(&format!(" LIMIT {limit} OFFSET {offset}"));
    }
    (sql, values)
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
