//! Copying a whole store (leak marks too) into an empty one, of either kind: how a team moves from a file to
//! PostgreSQL (or back, or to a backup). Rows keep their ids, so that everything that points
//! at them (secrets, audit events, daily counts) needs no translation.

use super::Store;
use super::failure::{AtSite, Failure};
use super::sql::{Arg, Db, Row};
use crate::error::{Error, Result};

/// How a column is read and written.
#[derive(Clone, Copy)]
enum Kind {
    Int,
    Text,
    Bytes,
}

use Kind::{Bytes, Int, Text};

/// Every table of the store with its columns, parents before children.
const TABLES: &[(&str, &[(&str, Kind)])] = &[
    (
        "workspaces",
        &[("id", Int), ("name", Text), ("created_at", Int)],
    ),
    (
        "keys",
        &[
            ("id", Int),
            ("public_id", Text),
            ("workspace_id", Int),
            ("name", Text),
            ("environment", Text),
            ("is_default", Int),
            ("masked_key", Text),
            ("search_text", Text),
            ("created_at", Int),
            ("rotated_at", Int),
            ("revoked_at", Int),
            ("expires_at", Int),
            ("last_used_at", Int),
            ("use_count", Int),
            ("daily_limit", Int),
            ("leaked_until", Int),
        ],
    ),
    (
        "secrets",
        &[
            ("hash", Bytes),
            ("key_id", Int),
            ("created_at", Int),
            ("expires_at", Int),
        ],
    ),
    (
        "audit_events",
        &[
            ("id", Int),
            ("key_id", Int),
            ("at", Int),
            ("action", Text),
            ("actor", Text),
            ("detail", Text),
        ],
    ),
    (
        "key_usage",
        &[("key_id", Int), ("day", Int), ("count", Int)],
    ),
    (
        "leaks",
        &[
            ("hash", Bytes),
            ("key_id", Int),
            ("location", Text),
            ("found_at", Int),
        ],
    ),
];

/// The tables whose ids PostgreSQL hands out from a sequence, which must move past the
/// copied ids.
const IDENTITIES: [&str; 3] = ["workspaces", "keys", "audit_events"];

/// One value of a copied row.
enum Cell {
    Int(Option<i64>),
    Text(Option<String>),
    Bytes(Vec<u8>),
}

impl Cell {
    fn read(row: &Row<'_>, column: usize, kind: Kind) -> Result<Cell, Failure> {
        Ok(match kind {
            Int => Cell::Int(row.opt_i64(column)?),
            Text => Cell::Text(row.opt_text(column)?),
            Bytes => Cell::Bytes(row.bytes(column)?),
        })
    }

    fn arg(&self) -> Arg<'_> {
        match self {
            Cell::Int(n) => Arg::from(*n),
            Cell::Text(text) => Arg::from(text.as_deref()),
            Cell::Bytes(bytes) => Arg::from(bytes.as_slice()),
        }
    }
}

/// What [`Store::copy_to`] copied: rows per table, in [`TABLES`] order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopySummary {
    pub workspaces: u64,
    pub keys: u64,
    pub secrets: u64,
    pub audit_events: u64,
    pub daily_counts: u64,
}

impl Store {
    /// Copies everything this store holds (every workspace, key, digest, audit event and
    /// daily count) into `target`, which must be empty. One transaction on the target: all
    /// of it arrives, or nothing. Use counts this store still buffers are written first.
    pub fn copy_to(&mut self, target: &mut Store) -> Result<CopySummary> {
        self.flush_usage()?;
        let read = self
            .conn
            .read(|db| TABLES.iter().map(|table| read_table(db, table)).collect());
        let tables: Vec<Vec<Vec<Cell>>> = read.at(self.site())?;
        let target_path = target.path.clone();
        let written = target.write(|tx, _| {
            let holds: i64 = tx
                .query_i64(
                    "SELECT (SELECT count(*) FROM workspaces) + (SELECT count(*) FROM keys)",
                    &[],
                )?
                .unwrap_or_default();
            if holds > 0 {
                return Err(Error::CopyTargetNotEmpty { path: target_path }.into());
            }
            for (table, rows) in TABLES.iter().zip(&tables) {
                write_table(tx, table, rows)?;
            }
            if let Db::Postgres(_) = tx {
                for table in IDENTITIES {
                    tx.execute(
                        &format!(
                            "SELECT setval(pg_get_serial_sequence('hivekeys.{table}', 'id'), \
                             (SELECT max(id) FROM {table}))"
                        ),
                        &[],
                    )?;
                }
            }
            Ok(())
        });
        written?;
        let count = |n: usize| tables[n].len() as u64;
        Ok(CopySummary {
            workspaces: count(0),
            keys: count(1),
            secrets: count(2),
            audit_events: count(3),
            daily_counts: count(4),
        })
    }
}

fn read_table(
    db: Db<'_>,
    (table, columns): &(&str, &[(&str, Kind)]),
) -> Result<Vec<Vec<Cell>>, Failure> {
    let names: Vec<&str> = columns.iter().map(|(name, _)| *name).collect();
    db.query_all(
        &format!("SELECT {} FROM {table}", names.join(", ")),
        &[],
        |row| {
            columns
                .iter()
                .enumerate()
                .map(|(n, (_, kind))| Cell::read(row, n, *kind))
                .collect()
        },
    )
}

fn write_table(
    tx: Db<'_>,
    (table, columns): &(&str, &[(&str, Kind)]),
    rows: &[Vec<Cell>],
) -> Result<(), Failure> {
    let names: Vec<&str> = columns.iter().map(|(name, _)| *name).collect();
    let places: Vec<String> = (1..=columns.len()).map(|n| format!("?{n}")).collect();
    let sql = format!(
        "INSERT INTO {table} ({}) VALUES ({})",
        names.join(", "),
        places.join(", ")
    );
    for row in rows {
        let args: Vec<Arg<'_>> = row.iter().map(Cell::arg).collect();
        tx.execute(&sql, &args)?;
    }
    Ok(())
}
