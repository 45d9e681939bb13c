//! The store's workspaces: listing them with their active-key counts, and creating one.

use chrono::{DateTime, Utc};

use super::Store;
use super::failure::{AtSite, Failure};
use super::sql::{Db, args};
use crate::error::{Error, Result};
use crate::text::validate_name;

/// One workspace as the workspaces overlay and `hivekeys workspaces` show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkspaceSummary {
    pub name: String,
    pub created_at: DateTime<Utc>,
    /// Keys neither revoked nor expired, the default key included.
    pub active_keys: u64,
}

/// One workspace as stored, its keys not counted: what the workspaces overlay shows at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredWorkspace {
    pub name: String,
    pub created_at: DateTime<Utc>,
}

impl Store {
    /// Every workspace in the store, by name, with its active keys counted: one query, so a
    /// store with many workspaces costs one round trip. It reads every key once: about a
    /// second at a million keys (the dashboard counts on a thread: [`Store::counter`]).
    pub fn workspaces(&self) -> Result<Vec<WorkspaceSummary>> {
        counted_in(self.db(), self.now_secs()).at(self.site())
    }

    /// Every workspace in the store, by name, without counting its keys: a read of the
    /// workspaces table alone, as cheap at a million keys as at none.
    pub fn stored_workspaces(&self) -> Result<Vec<StoredWorkspace>> {
        self.db()
            .query_all("SELECT name, created_at FROM workspaces", args![], |row| {
                Ok(StoredWorkspace {
                    name: row.text(0)?,
                    created_at: row.time(1)?,
                })
            })
            .map(|mut all| {
                all.sort_by(|a, b| listing_order(&a.name, &b.name));
                all
            })
            .at(self.site())
    }

    /// Creates an empty workspace named `name` (trimmed and checked as key names are).
    /// Refuses a name another workspace already has: creating "Billing" twice is a mistake
    /// worth hearing about, not a no-op.
    pub fn create_workspace(&mut self, name: &str) -> Result<WorkspaceSummary> {
        self.create_workspace_unless(name, || false)
    }

    /// [`create_workspace`](Store::create_workspace), unless `withdrawn` says, once the write
    /// lock is held, that nobody waits for it any more (the dashboard's Esc).
    pub fn create_workspace_unless(
        &mut self,
        name: &str,
        withdrawn: impl FnOnce() -> bool,
    ) -> Result<WorkspaceSummary> {
        let name = validate_name(name, "workspace")?;
        self.write(|tx, cx| {
            if withdrawn() {
                return Err(Error::Withdrawn.into());
            }
            refuse_look_alike(tx, &name)?;
            let inserted = tx.execute(
                "INSERT INTO workspaces (name, created_at) VALUES (?1, ?2) \
                 ON CONFLICT (name) DO NOTHING",
                args![name.as_str(), cx.now],
            )?;
            if inserted == 0 {
                return Err(Error::WorkspaceExists { name: name.clone() }.into());
            }
            Ok(WorkspaceSummary {
                created_at: super::sql::timestamp(cx.now)?,
                name: name.clone(),
                active_keys: 0,
            })
        })
    }
}

/// Every workspace with its keys active at `now` counted, in listing order.
pub(super) fn counted_in(db: Db<'_>, now: i64) -> Result<Vec<WorkspaceSummary>, Failure> {
    db.query_all(
        // One pass over the keys, grouped, then joined to the workspaces: going through the
        // workspace index instead fetched each key's row on its own, 7.6 s at a million keys
        // against 1.0 s for the pass. The `+` keeps SQLite from grouping by that index.
        "SELECT w.name, w.created_at, COALESCE(a.active, 0) FROM workspaces w \
         LEFT JOIN (SELECT +workspace_id AS workspace, count(*) AS active FROM keys \
         WHERE revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?1) \
         GROUP BY +workspace_id) AS a ON a.workspace = w.id",
        args![now],
        |row| {
            Ok(WorkspaceSummary {
                name: row.text(0)?,
                created_at: row.time(1)?,
                active_keys: row.u64(2)?,
            })
        },
    )
    .map(|mut all| {
        // Ordered here, not in SQL: PostgreSQL's collation depends on the server's locale,
        // and both backends must list alike.
        all.sort_by(|a, b| listing_order(&a.name, &b.name));
        all
    })
}

/// Refuses `name` for a new workspace when a stored one shows as it does (the same name, or
/// the same but for zero-width characters or compatibility forms: "default" and
/// "default\u{200B}"). It would list as a second "default" that admins could switch to, and
/// create keys in, by mistake.
pub(super) fn refuse_look_alike(tx: Db<'_>, name: &str) -> Result<(), Failure> {
    let stored = tx.query_all("SELECT name FROM workspaces", args![], |row| row.text(0))?;
    let shown = shown_as(name);
    match stored.into_iter().find(|n| shown_as(n) == shown) {
        Some(taken) => Err(Error::WorkspaceExists { name: taken }.into()),
        None => Ok(()),
    }
}

/// How a workspace name looks on screen: compatibility forms folded (NFKC), characters that
/// draw nothing dropped, blank ones that take room made a space. Case is kept: "Ops" and
/// "ops" are told apart at a glance.
fn shown_as(name: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    use unicode_width::UnicodeWidthChar;
    name.nfkc()
        .filter_map(|c| match crate::text::is_invisible(c) {
            false => Some(c),
            true if c.width().unwrap_or(0) == 0 => None,
            true => Some(' '),
        })
        .collect()
}

/// Workspaces by name in any case ("alpha", "Beta", "gamma"), ties by exact name.
fn listing_order(a: &str, b: &str) -> std::cmp::Ordering {
    a.to_lowercase()
        .cmp(&b.to_lowercase())
        .then_with(|| a.cmp(b))
}

/// One line of `hivekeys workspaces` and of the workspaces overlay: a stored workspace, or the current one before it holds
/// anything (a workspace is stored with its first key or by `--create`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedWorkspace {
    pub name: String,
    /// `None` while the keys are being counted (the dashboard counts them on a thread).
    pub active_keys: Option<u64>,
    pub created_at: Option<DateTime<Utc>>,
    pub current: bool,
}

/// The store's workspaces with `current` marked, and listed even when nothing is stored in
/// it yet: the admin asked which workspace this is, and it is that one.
pub fn with_current(stored: Vec<WorkspaceSummary>, current: &str) -> Vec<ListedWorkspace> {
    let listed = stored
        .into_iter()
        .map(|w| ListedWorkspace {
            current: w.name == current,
            name: w.name,
            active_keys: Some(w.active_keys),
            created_at: Some(w.created_at),
        })
        .collect();
    // Nothing stored in it: no active keys.
    listed_with_current(listed, current, Some(0))
}

/// As [`with_current`], the keys not counted yet.
pub fn uncounted_with_current(stored: Vec<StoredWorkspace>, current: &str) -> Vec<ListedWorkspace> {
    let listed = stored
        .into_iter()
        .map(|w| ListedWorkspace {
            current: w.name == current,
            name: w.name,
            active_keys: None,
            created_at: Some(w.created_at),
        })
        .collect();
    listed_with_current(listed, current, None)
}

/// `listed` with `current` put in its place, holding `active_keys`, if it is not there.
fn listed_with_current(
    mut listed: Vec<ListedWorkspace>,
    current: &str,
    active_keys: Option<u64>,
) -> Vec<ListedWorkspace> {
    if !listed.iter().any(|w| w.current) {
        let at = listed.partition_point(|w| listing_order(&w.name, current).is_lt());
        listed.insert(
            at,
            ListedWorkspace {
                name: current.to_owned(),
                active_keys,
                created_at: None,
                current: true,
            },
        );
    }
    listed
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::DateTime;

    fn stored(name: &str, keys: u64) -> WorkspaceSummary {
        WorkspaceSummary {
            name: name.into(),
            created_at: DateTime::from_timestamp(1_800_000_000, 0).unwrap(),
            active_keys: keys,
        }
    }

    #[test]
    fn names_that_show_alike_are_alike() {
        assert_eq!(shown_as("default\u{200B}"), "default");
        assert_eq!(shown_as("de\u{FEFF}fault\u{2060}"), "default");
        assert_eq!(shown_as("ｄｅｆａｕｌｔ"), "default");
        assert_eq!(shown_as("Team\u{3000}A"), shown_as("Team A"));
        assert_ne!(shown_as("Default"), shown_as("default"));
        assert_ne!(shown_as("Team A"), shown_as("TeamA"));
    }

    #[test]
    fn the_current_workspace_is_listed_even_before_it_is_stored() {
        let listed = with_current(vec![stored("alpha", 2), stored("zeta", 0)], "mid");
        let names: Vec<&str> = listed.iter().map(|w| w.name.as_str()).collect();
        assert_eq!(names, ["alpha", "mid", "zeta"]);
        assert!(listed[1].current && listed[1].created_at.is_none());
        let listed = with_current(vec![stored("alpha", 2)], "alpha");
        assert_eq!(listed.len(), 1);
        assert!(listed[0].current);
    }
}
