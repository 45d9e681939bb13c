//! Revoking the live keys a scan found (`hivekeys scan --revoke`): one transaction, each key
//! once, audited with where it leaked. A key someone revoked meanwhile is what the admin
//! wanted anyway: reported, not an error.

use std::collections::HashSet;

use super::Store;
use super::key_writes::record_event;
use super::leaks::{FoundKey, LeakSighting, LeakState, look_up, stored_location};
use super::records::AuditAction;
use super::sql::args;
use crate::error::Result;
use crate::key::KeyHash;

/// One key [`Store::revoke_leaked`] dealt with, and the first place it was seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevokedLeak {
    /// The key as it is now (its state `Revoked`).
    pub key: FoundKey,
    pub location: String,
}

/// What one revocation of leaked keys did, each list in the order of the keys' first
/// sightings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RevokedLeaks {
    /// Keys this revocation revoked, each audited `revoked` with detail "leaked in PLACE".
    pub revoked: Vec<RevokedLeak>,
    /// Keys found revoked already (by someone else, meanwhile): left untouched, no event.
    pub already_revoked: Vec<RevokedLeak>,
}

impl Store {
    /// Revokes, in one transaction, every key whose secret one of `sightings` holds and that
    /// is live now: each key once (however many sightings), audited `revoked` with the detail
    /// `leaked in PLACE` of its first sighting. Keys revoked already are reported in
    /// [`RevokedLeaks::already_revoked`]; secrets that no longer open anything (expired,
    /// rotated away) and digests the store does not hold are left alone.
    pub fn revoke_leaked(&mut self, sightings: &[LeakSighting]) -> Result<RevokedLeaks> {
        let hashes: Vec<KeyHash> = sightings.iter().map(|s| s.hash).collect();
        self.write(|tx, cx| {
            // Read under the write lock: what is live now, not when the scan looked.
            let found = look_up(tx, &hashes, cx.now)?;
            let mut seen = HashSet::new();
            let mut done = RevokedLeaks::default();
            for sighting in sightings {
                let Some(looked) = found.get(&sighting.hash.0) else {
                    continue;
                };
                if looked.key.state == LeakState::Expired || !seen.insert(looked.key_id) {
                    continue;
                }
                let location = stored_location(&sighting.location);
                let mut key = looked.key.clone();
                if key.state == LeakState::Revoked {
                    done.already_revoked.push(RevokedLeak { key, location });
                    continue;
                }
                tx.execute(
                    "UPDATE keys SET revoked_at = ?1 WHERE id = ?2",
                    args![cx.now, looked.key_id],
                )?;
                let detail = format!("leaked in {location}");
                record_event(
                    tx,
                    looked.key_id,
                    cx.now,
                    AuditAction::Revoked,
                    cx.actor,
                    Some(&detail),
                )?;
                key.state = LeakState::Revoked;
                done.revoked.push(RevokedLeak { key, location });
            }
            Ok(done)
        })
    }
}
