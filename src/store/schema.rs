//! The schema, created and upgraded by numbered migrations tracked in `PRAGMA user_version`.
//! Migration N (1-based) brings a store from version N-1 to N; never edit a released one.

use rusqlite::{Connection, TransactionBehavior};

/// `PRAGMA application_id` of a hivekeys store ("hkey"): tells our files from other SQLite
/// databases before anything is written.
pub const APPLICATION_ID: i64 = 0x686b_6579;

const MIGRATIONS: &[&str] = &[
    // 1: workspaces, keys, secret hashes, audit trail, daily usage.
    r#"
    CREATE TABLE workspaces (
        id         INTEGER PRIMARY KEY,
        name       TEXT NOT NULL UNIQUE,
        created_at INTEGER NOT NULL
    );

    CREATE TABLE keys (
        id           INTEGER PRIMARY KEY,
        public_id    TEXT NOT NULL UNIQUE,
        workspace_id INTEGER NOT NULL REFERENCES workspaces(id),
        name         TEXT NOT NULL,
        environment  TEXT NOT NULL CHECK (environment IN ('production', 'staging', 'development')),
        is_default   INTEGER NOT NULL DEFAULT 0 CHECK (is_default IN (0, 1)),
        masked_key   TEXT NOT NULL,
        -- lower-cased name, masked key and id, so search needs no per-row function calls
        search_text  TEXT NOT NULL,
        created_at   INTEGER NOT NULL,
        rotated_at   INTEGER,
        revoked_at   INTEGER,
        expires_at   INTEGER,
        last_used_at INTEGER,
        use_count    INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX keys_by_workspace ON keys (workspace_id, created_at DESC, id DESC);
    CREATE INDEX keys_default ON keys (workspace_id, is_default) WHERE is_default = 1;

    -- Only SHA-256 digests of full keys. A key has one current secret (expires_at NULL) and,
    -- after a rotation with a grace period, older ones that stop at expires_at.
    CREATE TABLE secrets (
        hash       BLOB PRIMARY KEY CHECK (length(hash) = 32),
        key_id     INTEGER NOT NULL REFERENCES keys(id),
        created_at INTEGER NOT NULL,
        expires_at INTEGER
    ) WITHOUT ROWID;
    CREATE INDEX secrets_by_key ON secrets (key_id);

    CREATE TABLE audit_events (
        id     INTEGER PRIMARY KEY,
        key_id INTEGER NOT NULL REFERENCES keys(id),
        at     INTEGER NOT NULL,
        action TEXT NOT NULL CHECK (action IN ('created', 'rotated', 'revoked')),
        actor  TEXT NOT NULL,
        detail TEXT
    );
    CREATE INDEX audit_by_key ON audit_events (key_id, id);

    -- Verifications per key per UTC day (days since 1970-01-01).
    CREATE TABLE key_usage (
        key_id INTEGER NOT NULL REFERENCES keys(id),
        day    INTEGER NOT NULL,
        count  INTEGER NOT NULL,
        PRIMARY KEY (key_id, day)
    ) WITHOUT ROWID;
    "#,
    // 2: a counter of changes to what verification reads, so a verifier can tell a change of
    // keys (drop what it remembers) from mere use-count bookkeeping (keep it) with one read.
    r#"
    CREATE TABLE key_changes (
        only    INTEGER PRIMARY KEY CHECK (only = 1),
        version INTEGER NOT NULL
    );
    INSERT INTO key_changes (only, version) VALUES (1, 0);
    CREATE TRIGGER key_added AFTER INSERT ON keys
        BEGIN UPDATE key_changes SET version = version + 1; END;
    CREATE TRIGGER key_changed AFTER UPDATE OF public_id, workspace_id, name, environment,
        is_default, masked_key, revoked_at, expires_at ON keys
        BEGIN UPDATE key_changes SET version = version + 1; END;
    CREATE TRIGGER key_removed AFTER DELETE ON keys
        BEGIN UPDATE key_changes SET version = version + 1; END;
    CREATE TRIGGER secret_added AFTER INSERT ON secrets
        BEGIN UPDATE key_changes SET version = version + 1; END;
    CREATE TRIGGER secret_changed AFTER UPDATE ON secrets
        BEGIN UPDATE key_changes SET version = version + 1; END;
    CREATE TRIGGER secret_removed AFTER DELETE ON secrets
        BEGIN UPDATE key_changes SET version = version + 1; END;
    CREATE TRIGGER workspace_renamed AFTER UPDATE OF name ON workspaces
        BEGIN UPDATE key_changes SET version = version + 1; END;
    "#,
    // 3: daily limits, and audit actions beyond the first three. SQLite cannot change a
    // CHECK constraint in place, so the audit table is copied into one with the wider list.
    r#"
    ALTER TABLE keys ADD COLUMN daily_limit INTEGER
        CHECK (daily_limit IS NULL OR daily_limit BETWEEN 1 AND 1000000000);
    DROP TRIGGER key_changed;
    CREATE TRIGGER key_changed AFTER UPDATE OF public_id, workspace_id, name, environment,
        is_default, masked_key, revoked_at, expires_at, daily_limit ON keys
        BEGIN UPDATE key_changes SET version = version + 1; END;
    CREATE TABLE audit_events_3 (
        id     INTEGER PRIMARY KEY,
        key_id INTEGER NOT NULL REFERENCES keys(id),
        at     INTEGER NOT NULL,
        action TEXT NOT NULL CHECK (action IN
            ('created', 'rotated', 'revoked', 'limit_changed', 'renamed')),
        actor  TEXT NOT NULL,
        detail TEXT
    );
    INSERT INTO audit_events_3 (id, key_id, at, action, actor, detail)
        SELECT id, key_id, at, action, actor, detail FROM audit_events;
    DROP TABLE audit_events;
    ALTER TABLE audit_events_3 RENAME TO audit_events;
    CREATE INDEX audit_by_key ON audit_events (key_id, id);
    "#,
    // 4: search_text folded to one Unicode form (NFKC, lower case), so that a name stored
    // decomposed is found by a query typed composed. The rewrite needs Rust, not SQL: see
    // `refold_search_text`, which `migrate` runs when it passes this version.
    "-- search_text rewritten by refold_search_text",
    // 5: the key-change counter also moves when a workspace row is added, removed or changed
    // in any way, and when a key's row id changes: a program writing raw SQL (a workspace
    // deleted and inserted again under another name) must not leave a verifier trusting
    // what it remembered.
    r#"
    DROP TRIGGER IF EXISTS workspace_renamed;
    DROP TRIGGER IF EXISTS workspace_added;
    DROP TRIGGER IF EXISTS workspace_changed;
    DROP TRIGGER IF EXISTS workspace_removed;
    CREATE TRIGGER workspace_added AFTER INSERT ON workspaces
        BEGIN UPDATE key_changes SET version = version + 1; END;
    CREATE TRIGGER workspace_changed AFTER UPDATE ON workspaces
        BEGIN UPDATE key_changes SET version = version + 1; END;
    CREATE TRIGGER workspace_removed AFTER DELETE ON workspaces
        BEGIN UPDATE key_changes SET version = version + 1; END;
    DROP TRIGGER IF EXISTS key_changed;
    CREATE TRIGGER key_changed AFTER UPDATE OF id, public_id, workspace_id, name, environment,
        is_default, masked_key, revoked_at, expires_at, daily_limit ON keys
        BEGIN UPDATE key_changes SET version = version + 1; END;
    "#,
    // 6: where a scan (`hivekeys scan`) saw a live key's secret, per secret digest and place,
    // with when it was first seen there. A new row moves the key-change counter: the
    // dashboard marks the key `leaked`, and a running one must see the mark arrive. Written
    // to run again harmlessly, as 5 is, over a store whose version was set back by hand.
    // `keys.leaked_until` (what lists read) is added by `add_leaked_until`, which can look
    // before it adds.
    r#"
    CREATE TABLE IF NOT EXISTS leaks (
        hash     BLOB NOT NULL CHECK (length(hash) = 32),
        key_id   INTEGER NOT NULL REFERENCES keys(id),
        location TEXT NOT NULL,
        found_at INTEGER NOT NULL,
        PRIMARY KEY (hash, location)
    ) WITHOUT ROWID;
    CREATE INDEX IF NOT EXISTS leaks_by_key ON leaks (key_id);
    DROP TRIGGER IF EXISTS leak_recorded;
    DROP TRIGGER IF EXISTS leak_removed;
    CREATE TRIGGER leak_recorded AFTER INSERT ON leaks
        BEGIN UPDATE key_changes SET version = version + 1; END;
    CREATE TRIGGER leak_removed AFTER DELETE ON leaks
        BEGIN UPDATE key_changes SET version = version + 1; END;
    "#,
];

/// The migration after which every key's `search_text` is folded by
/// [`super::key_queries::fold_for_search`].
const FOLDED_SEARCH_TEXT: i64 = 4;

/// The migration after which keys have a `leaked_until` column.
const LEAKED_UNTIL: i64 = 6;

/// Adds `keys.leaked_until`: when the last secret of the key that a scan found stops
/// (`i64::MAX` while one is current), NULL for a key never found. Kept beside the key so that
/// reading a million keys costs no lookup per key; `store::leaks::refresh_leak_mark` keeps it.
/// No trigger watches it: the writes that change it (a leak recorded, a rotation) move the
/// key-change counter already.
fn add_leaked_until(conn: &Connection) -> rusqlite::Result<()> {
    let has_it: bool = conn.query_row(
        "SELECT count(*) > 0 FROM pragma_table_info('keys') WHERE name = 'leaked_until'",
        [],
        |row| row.get(0),
    )?;
    if !has_it {
        conn.execute_batch("ALTER TABLE keys ADD COLUMN leaked_until INTEGER")?;
    }
    Ok(())
}

/// The schema version this build writes.
pub const LATEST_VERSION: i64 = MIGRATIONS.len() as i64;

fn user_version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.pragma_query_value(None, "user_version", |row| row.get(0))
}

/// Writes every key's `search_text` again, folded as this build folds it. No trigger watches
/// the column, so the keys' change counter does not move: nothing a verifier reads changes.
fn refold_search_text(conn: &Connection) -> rusqlite::Result<()> {
    let mut read = conn.prepare("SELECT id, name, masked_key, public_id FROM keys")?;
    let mut write = conn.prepare("UPDATE keys SET search_text = ?1 WHERE id = ?2")?;
    let rows = read
        .query_map([], |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
                row.get::<_, String>(3)?,
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    for (id, name, masked_key, public_id) in rows {
        let folded = super::key_queries::search_text(&name, &masked_key, &public_id);
        write.execute(rusqlite::params![folded, id])?;
    }
    Ok(())
}

/// Brings the schema up to [`LATEST_VERSION`] in one transaction. Returns the version found
/// if it is newer than this build knows, without touching anything.
pub(crate) fn migrate(conn: &mut Connection) -> rusqlite::Result<Result<(), i64>> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    // Read again under the write lock: another process may have migrated meanwhile.
    let found = user_version(&tx)?;
    if found > LATEST_VERSION {
        return Ok(Err(found));
    }
    for migration in &MIGRATIONS[found as usize..] {
        tx.execute_batch(migration)?;
    }
    if found < LEAKED_UNTIL {
        add_leaked_until(&tx)?;
    }
    if found < FOLDED_SEARCH_TEXT {
        refold_search_text(&tx)?;
    }
    tx.pragma_update(None, "user_version", LATEST_VERSION)?;
    tx.pragma_update(None, "application_id", APPLICATION_ID)?;
    tx.commit()?;
    Ok(Ok(()))
}
