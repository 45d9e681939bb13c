//! `hivekeys revoke A B C`: several keys, one confirmation, one transaction — what the
//! dashboard's marked rows and `x` do.

use std::io::Write;
use std::process::ExitCode;

use super::{Failure, confirm, describe};
use crate::store::{KeyRecord, Store};
use crate::text::echo;

/// Every key named, resolved (an unknown or ambiguous one stops it all before anything is
/// asked), each key once however often it was named (`revoke A A`, or a name and its id):
/// the confirmation must count keys, not words.
pub(super) fn resolve_all(
    store: &Store,
    workspace: &str,
    keys: &[String],
) -> Result<Vec<KeyRecord>, Failure> {
    let mut records: Vec<KeyRecord> = Vec::with_capacity(keys.len());
    for key in keys {
        let record = store.resolve_key(workspace, key)?;
        if !records.iter().any(|seen| seen.id == record.id) {
            records.push(record);
        }
    }
    Ok(records)
}

/// Asks once, then revokes `records` (resolved by [`resolve_all`]) together. Keys revoked
/// already, before or while this ran, are reported, not an error: revoked is what the admin
/// wants them to be.
pub(super) fn revoke(
    store: &mut Store,
    workspace: &str,
    records: &[KeyRecord],
    yes: bool,
    mut out: impl Write,
) -> Result<ExitCode, Failure> {
    let listed: Vec<String> = records.iter().map(describe).collect();
    confirm(
        &format!(
            "Revoke {} keys: {}? Apps using them stop working at once; this cannot be undone.",
            records.len(),
            listed.join(", ")
        ),
        yes,
        "revoke",
    )?;
    let ids: Vec<&str> = records.iter().map(|record| record.id.as_str()).collect();
    let done = store.revoke_keys(workspace, &ids)?;
    for record in &done.revoked {
        writeln!(out, "Revoked {} \"{}\".", record.id, echo(&record.name, 64))?;
    }
    for record in &done.already_revoked {
        writeln!(
            out,
            "{} \"{}\" was already revoked.",
            record.id,
            echo(&record.name, 64)
        )?;
    }
    super::say(&format!("{}.", done.summary()));
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
