//! Reading a whole workspace off the caller's thread: the dashboard keeps every key in
//! memory so that a keystroke never waits for the store, and at a million keys reading them
//! takes seconds it must not freeze for.

use std::time::Duration;

use super::Store;
use super::failure::{AtSite, Failure, Site};
use super::key_queries::{default_in, each_in, list_in};
use super::location::Location;
use super::records::{KeyQuery, KeyRecord};
use super::workspaces::{WorkspaceSummary, counted_in};
use crate::error::Result;

/// What [`WorkspaceLoader::load`] read, all from one snapshot of the store.
#[derive(Debug, Clone)]
pub struct WorkspaceKeys {
    /// The active default key, if any.
    pub default_key: Option<KeyRecord>,
    /// Every key of the workspace, newest first (the default among them).
    pub keys: Vec<KeyRecord>,
}

/// Everything needed to read a workspace on another thread: `Send`, holds no connection.
#[derive(Debug, Clone)]
pub struct WorkspaceLoader {
    location: Location,
    busy_timeout: Duration,
    workspace: String,
}

/// Everything needed to count every workspace's active keys on another thread (the
/// dashboard's workspaces overlay): `Send`, holds no connection. The count reads every key
/// once, about a second at a million keys.
#[derive(Debug, Clone)]
pub struct WorkspaceCounter {
    location: Location,
    busy_timeout: Duration,
    /// Keys active at this moment (seconds) are counted: the store's clock when asked.
    now: i64,
}

impl Store {
    /// A [`WorkspaceCounter`] counting the keys active now.
    pub fn counter(&self) -> WorkspaceCounter {
        WorkspaceCounter {
            location: self.location.clone(),
            busy_timeout: self.busy_timeout,
            now: self.now_secs(),
        }
    }

    pub fn loader(&self, workspace: &str) -> WorkspaceLoader {
        WorkspaceLoader {
            location: self.location.clone(),
            busy_timeout: self.busy_timeout,
            workspace: workspace.to_owned(),
        }
    }
}

impl WorkspaceCounter {
    /// What [`Store::workspaces`] returns, read on a connection of its own.
    pub fn count(&self) -> Result<Vec<WorkspaceSummary>> {
        let read = || -> Result<Vec<WorkspaceSummary>, Failure> {
            let mut conn = self.location.reconnect(self.busy_timeout)?;
            conn.read(|db| counted_in(db, self.now))
        };
        read().at(Site {
            path: &self.location.label(),
            busy_timeout: self.busy_timeout,
        })
    }
}

impl WorkspaceLoader {
    /// Reads the default key and every key on a connection of its own, in one read
    /// transaction so the two agree. `now` decides which keys are active.
    pub fn load(&self, now: chrono::DateTime<chrono::Utc>) -> Result<WorkspaceKeys> {
        let read = || -> Result<WorkspaceKeys, Failure> {
            let mut conn = self.location.reconnect(self.busy_timeout)?;
            let now = now.timestamp();
            conn.read(|db| {
                let default_key = default_in(db, &self.workspace, now)?;
                let keys = list_in(db, &self.workspace, &KeyQuery::default(), now)?;
                Ok(WorkspaceKeys { default_key, keys })
            })
        };
        read().at(Site {
            path: &self.location.label(),
            busy_timeout: self.busy_timeout,
        })
    }

    /// As [`WorkspaceLoader::load`], but every key but the active default goes to `each` as
    /// it is read (none kept here), after `expect` is told how many keys the workspace has:
    /// a million keys are never all held as [`KeyRecord`]s at once. Returns the default key.
    pub fn load_each(
        &self,
        now: chrono::DateTime<chrono::Utc>,
        expect: impl FnOnce(usize),
        mut each: impl FnMut(KeyRecord),
    ) -> Result<Option<KeyRecord>> {
        let read = || -> Result<Option<KeyRecord>, Failure> {
            let mut conn = self.location.reconnect(self.busy_timeout)?;
            let now = now.timestamp();
            conn.read(|db| {
                let default_key = default_in(db, &self.workspace, now)?;
                let default_id = default_key.as_ref().map(|k| k.id.clone());
                each_in(
                    db,
                    &self.workspace,
                    &KeyQuery::default(),
                    now,
                    expect,
                    |key| {
                        if Some(&key.id) != default_id.as_ref() {
                            each(key);
                        }
                    },
                )?;
                Ok(default_key)
            })
        };
        read().at(Site {
            path: &self.location.label(),
            busy_timeout: self.busy_timeout,
        })
    }
}
