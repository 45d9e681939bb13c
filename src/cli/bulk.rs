//! `hivekeys revoke A B C`: several keys, one confirmation, one transaction — what the
//! dashboard's marked rows and `x` do.

use std::io::Write;

use super::{Failure, confirm, describe};
use crate::store::Store;
use crate::text::echo;

/// Resolves every key first (an unknown or ambiguous one stops it all before anything is
/// asked), asks once, then revokes them together. Keys revoked already, before or while
/// this ran, are reported, not an error: revoked is what the admin wants them to be.
pub(super) fn revoke(
    store: &mut Store,
    workspace: &str,
    keys: &[String],
    yes: bool,
    out: &mut impl Write,
) -> Result<(), Failure> {
    let records = keys
        .iter()
        .map(|key| store.resolve_key(workspace, key))
        .collect::<Result<Vec<_>, _>>()?;
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
    Ok(())
}
