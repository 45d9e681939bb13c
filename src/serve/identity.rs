//! The identity headers of a valid key (`X-Hivekeys-Key-Id`, `-Environment`, `-Workspace`),
//! remembered per worker thread for the keys it answered lately. A gateway checks the same
//! few keys over and over; encoding and copying the same three values into new buffers for
//! every request cost more than the verification itself. A response gets a clone of the
//! remembered map: two small allocations, the values shared rather than copied.

use std::cell::RefCell;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use hyper::header::{HeaderMap, HeaderValue};

use super::http::{ENVIRONMENT, KEY_ID, WORKSPACE, percent_encode};
use crate::environment::Environment;
use crate::store::VerifiedKey;

/// Keys remembered per worker thread; past it, the memory starts again. A few hundred
/// kilobytes at most, and a service that sees more distinct keys than this between two
/// repeats gains nothing from remembering them.
const MAX_REMEMBERED: usize = 4096;

/// One key's headers, and the facts they were made from.
struct Remembered {
    environment: Environment,
    workspace: String,
    headers: HeaderMap,
}

thread_local! {
    /// Per thread, so that remembering takes no lock and no shared counter.
    static REMEMBERED: RefCell<HashMap<String, Remembered, BuildHasherDefault<IdHasher>>> =
        RefCell::new(HashMap::default());
}

/// FNV-1a. Key ids come from the store, for keys that verified, never from a client: nobody
/// can choose ids that collide, so SipHash's defence is not needed, and SipHash took more
/// instructions than the rest of the lookup.
struct IdHasher(u64);

impl Default for IdHasher {
    fn default() -> Self {
        IdHasher(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = (self.0 ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
        }
    }
}

/// `X-Hivekeys-Key-Id`, `-Environment` (long name) and `-Workspace` for `key`. A workspace name
/// may hold any printable character; header values are bytes a gateway may mangle, so every
/// byte outside printable ASCII (and `%` itself) is percent-encoded.
pub fn identity_headers(key: &VerifiedKey) -> HeaderMap {
    REMEMBERED.with_borrow_mut(|remembered| {
        // A key keeps its id when its workspace is renamed: what was remembered counts only
        // if it was made from the same facts.
        if let Some(known) = remembered.get(&key.id).filter(|known| {
            known.environment == key.environment && known.workspace == key.workspace
        }) {
            return known.headers.clone();
        }
        let mut headers = HeaderMap::with_capacity(5);
        headers.insert(KEY_ID, encoded(&key.id));
        headers.insert(
            ENVIRONMENT,
            HeaderValue::from_static(key.environment.as_str()),
        );
        headers.insert(WORKSPACE, encoded(&key.workspace));
        if remembered.len() >= MAX_REMEMBERED {
            remembered.clear();
        }
        remembered.insert(
            key.id.clone(),
            Remembered {
                environment: key.environment,
                workspace: key.workspace.clone(),
                headers: headers.clone(),
            },
        );
        headers
    })
}

fn encoded(text: &str) -> HeaderValue {
    HeaderValue::from_str(&percent_encode(text)).expect("percent-encoded text is a valid value")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(id: &str, workspace: &str) -> VerifiedKey {
        VerifiedKey {
            id: id.into(),
            name: "n".into(),
            environment: Environment::Staging,
            workspace: workspace.into(),
            allowance: None,
        }
    }

    fn values(key: &VerifiedKey) -> Vec<String> {
        identity_headers(key)
            .iter()
            .map(|(name, value)| format!("{name}: {}", value.to_str().unwrap()))
            .collect()
    }

    #[test]
    fn a_key_seen_again_gets_the_same_values() {
        let first = values(&key("key_a", "東京"));
        assert_eq!(
            first,
            [
                "x-hivekeys-key-id: key_a",
                "x-hivekeys-environment: staging",
                "x-hivekeys-workspace: %E6%9D%B1%E4%BA%AC"
            ]
        );
        assert_eq!(values(&key("key_a", "東京")), first);
    }

    #[test]
    fn a_key_whose_workspace_or_environment_changed_gets_the_new_values() {
        assert_eq!(values(&key("key_b", "old"))[2], "x-hivekeys-workspace: old");
        assert_eq!(values(&key("key_b", "new"))[2], "x-hivekeys-workspace: new");
        let mut moved = key("key_b", "new");
        moved.environment = Environment::Production;
        assert_eq!(values(&moved)[1], "x-hivekeys-environment: production");
    }
}
