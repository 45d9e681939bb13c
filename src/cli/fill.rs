//! `hivekeys demo` and `hivekeys copy`: filling a store with sample keys, and copying a whole
//! store into another (a SQLite file into a team's PostgreSQL, or back).

use std::ffi::OsStr;
use std::io::Write;

use super::Failure;
use crate::store::{self, Location, Store, StoreOptions};
use crate::text::{count, echo, printable_path};

pub fn demo(
    out: &mut impl Write,
    store: &mut Store,
    workspace: &str,
    keys: u64,
    seed: Option<u64>,
) -> Result<(), Failure> {
    let seed = seed.unwrap_or_else(store::random_seed);
    let summary = store.fill_demo(workspace, keys, seed)?;
    let counts = store.status_counts(workspace)?;
    writeln!(
        out,
        "Added {} to workspace \"{}\" ({} rotated, {} revoked, {} expired{}); it now has {} active, {} revoked and {} expired keys.",
        count(summary.keys, "demo key", "demo keys"),
        echo(workspace, 64),
        summary.rotated,
        summary.revoked,
        summary.expired,
        if summary.default_key_created {
            ", including the default key"
        } else {
            ""
        },
        counts[0].1,
        counts[1].1,
        counts[2].1,
    )?;
    Ok(())
}

pub fn copy(out: &mut impl Write, store: &mut Store, to: &OsStr) -> Result<(), Failure> {
    let target = Location::parse(to)?;
    let mut target = Store::open_with(target, StoreOptions::from_env()?)?;
    let copied = store.copy_to(&mut target)?;
    writeln!(
        out,
        "Copied {}, {} ({}), {} and {} to {}.",
        count(copied.workspaces, "workspace", "workspaces"),
        count(copied.keys, "key", "keys"),
        count(copied.secrets, "secret digest", "secret digests"),
        count(copied.audit_events, "audit event", "audit events"),
        count(copied.daily_counts, "daily count", "daily counts"),
        printable_path(target.path()),
    )?;
    Ok(())
}
