//! The identity headers of a valid key (`X-Hivekeys-Key-Id`, `-Environment`, `-Workspace`),
//! remembered per worker thread for the keys it answered lately. A gateway checks the same
//! few keys over and over; encoding and copying the same three values into new buffers for
//! every request cost more than the verification itself. A remembered value is shared, not
//! copied, into each response.

use std::cell::RefCell;
use std::collections::HashMap;

use hyper::header::{HeaderName, HeaderValue};

use super::http::{ENVIRONMENT, KEY_ID, WORKSPACE, percent_encode};
use crate::store::VerifiedKey;

/// Keys remembered per worker thread; past it, the memory starts again. A few hundred
/// kilobytes at most, and a service that sees more distinct keys than this between two
/// repeats gains nothing from remembering them.
const MAX_REMEMBERED: usize = 4096;

/// The values of one key's headers, and the workspace name they were made from.
struct Remembered {
    workspace: String,
    key_id: HeaderValue,
    workspace_value: HeaderValue,
}

thread_local! {
    /// Per thread, so that remembering takes no lock and no shared counter.
    static REMEMBERED: RefCell<HashMap<String, Remembered>> = RefCell::new(HashMap::new());
}

/// `X-Hivekeys-Key-Id`, `-Environment` (long name) and `-Workspace` for `key`. A workspace name
/// may hold any printable character; header values are bytes a gateway may mangle, so every
/// byte outside printable ASCII (and `%` itself) is percent-encoded.
pub fn identity_headers(key: &VerifiedKey) -> [(HeaderName, HeaderValue); 3] {
    let environment = HeaderValue::from_static(key.environment.as_str());
    REMEMBERED.with_borrow_mut(|remembered| {
        // A key keeps its id when its workspace is renamed: what was remembered counts only
        // if it was made from the same name. (The environment's value is a constant.)
        let known = remembered
            .get(&key.id)
            .filter(|known| known.workspace == key.workspace);
        let (key_id, workspace) = match known {
            Some(known) => (known.key_id.clone(), known.workspace_value.clone()),
            None => {
                let key_id = encoded(&key.id);
                let workspace = encoded(&key.workspace);
                if remembered.len() >= MAX_REMEMBERED {
                    remembered.clear();
                }
                remembered.insert(
                    key.id.clone(),
                    Remembered {
                        workspace: key.workspace.clone(),
                        key_id: key_id.clone(),
                        workspace_value: workspace.clone(),
                    },
                );
                (key_id, workspace)
            }
        };
        [
            (KEY_ID, key_id),
            (ENVIRONMENT, environment),
            (WORKSPACE, workspace),
        ]
    })
}

fn encoded(text: &str) -> HeaderValue {
    HeaderValue::from_str(&percent_encode(text)).expect("percent-encoded text is a valid value")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::environment::Environment;

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
            .map(|(_, value)| value.to_str().unwrap().to_owned())
            .collect()
    }

    #[test]
    fn a_key_seen_again_gets_the_same_values() {
        let first = values(&key("key_a", "東京"));
        assert_eq!(first, ["key_a", "staging", "%E6%9D%B1%E4%BA%AC"]);
        assert_eq!(values(&key("key_a", "東京")), first);
    }

    #[test]
    fn a_key_whose_workspace_changed_gets_the_new_name() {
        assert_eq!(values(&key("key_b", "old"))[2], "old");
        assert_eq!(values(&key("key_b", "new"))[2], "new");
        let mut moved = key("key_b", "new");
        moved.environment = Environment::Production;
        assert_eq!(values(&moved)[1], "production");
    }
}
