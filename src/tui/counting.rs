//! Counting every workspace's active keys on a thread of its own, for the workspaces overlay:
//! the count reads every key once (about a second at a million keys), which the screen must
//! not freeze for. The overlay lists the names at once; the counts follow.

use std::path::Path;
use std::sync::mpsc::{self, Receiver, TryRecvError};

use crate::store::{WorkspaceCounter, WorkspaceSummary};

/// A count under way.
pub struct Counting {
    result: Receiver<crate::Result<Vec<WorkspaceSummary>>>,
}

impl Counting {
    pub fn start(counter: WorkspaceCounter) -> Counting {
        let (send, result) = mpsc::channel();
        let spawned = std::thread::Builder::new()
            .name("hivekeys-count".into())
            .spawn(move || {
                // The overlay may be gone meanwhile: nobody to tell, and nothing lost.
                let _ = send.send(counter.count());
            });
        // Without a thread the receiver reports a disconnect, which shows as an error.
        drop(spawned);
        Counting { result }
    }

    /// The count's answer, once it has come (`None` until then).
    pub fn take(&self, store_path: &Path) -> Option<crate::Result<Vec<WorkspaceSummary>>> {
        match self.result.try_recv() {
            Ok(result) => Some(result),
            Err(TryRecvError::Empty) => None,
            Err(TryRecvError::Disconnected) => Some(Err(crate::Error::Database {
                path: store_path.to_path_buf(),
                message: "the background counter stopped".into(),
            })),
        }
    }
}
