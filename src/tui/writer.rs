//! The dashboard's store writes, on a thread of their own. A write waits for another
//! process's lock for up to the busy timeout (5 s by default); made on the UI thread, that
//! froze the screen: no redraw on resize, no sign of what it waited for. Here the thread holds
//! its own [`Store`] on the same file, opened with the same options (tests inject their clock
//! and entropy that way), takes one job at a time and hands back what the store answered.
//!
//! A job can be withdrawn while it waits (Esc, or the dashboard ending): once the write lock
//! is held, a withdrawn job rolls back instead of committing, so a key nobody will see is never
//! created and a key nobody confirmed is never rotated or revoked.
//!
//! The new key of a create or rotate crosses from this thread to the dashboard by move, in
//! its [`Secret`](crate::key::Secret), which wipes itself on drop: it is never copied, logged or
//! formatted on the way (`Done` has no `Debug`).

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::time::Duration;

use crate::environment::Environment;
use crate::error::{Error, Result};
use crate::store::{
    BulkRevoked, Grace, IssuedKey, KeyRecord, Location, NewKey, Renamed, Store, StoreOptions,
    WorkspaceSummary,
};

/// Shown in a dialog whose write waits for another process's lock. No spinner: the text
/// says all there is to know, and nothing moves that could be mistaken for progress.
pub const WAITING: &str = "Waiting for another process to release the store…";

/// A write the dashboard asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Job {
    Create {
        name: String,
        environment: Environment,
        /// How long after its creation the key expires; `None` for never.
        lifetime: Option<chrono::TimeDelta>,
    },
    CreateDefault(Environment),
    Rotate {
        key: KeyRecord,
        grace: Grace,
    },
    Revoke(KeyRecord),
    /// The marked keys, by id: revoked in one transaction.
    RevokeKeys(Vec<String>),
    SetLimit {
        key: KeyRecord,
        limit: Option<u64>,
    },
    Rename {
        key: KeyRecord,
        name: String,
    },
    /// A new, empty workspace (the workspaces overlay's `a`).
    CreateWorkspace(String),
}

/// What the store answered to a [`Job`].
pub enum Done {
    Issued {
        issued: Result<IssuedKey>,
        rotated: bool,
    },
    Revoked(Result<KeyRecord>),
    BulkRevoked(Result<BulkRevoked>),
    LimitSet(Result<KeyRecord>),
    /// The key as renamed, and the name the rename replaced (read under the store's lock).
    Renamed(Result<Renamed>),
    WorkspaceCreated(Result<WorkspaceSummary>),
}

/// A finished job: its answer, and whether the dashboard was still waiting for it (rather than
/// having withdrawn it).
pub struct Finished {
    pub done: Done,
    pub awaited: bool,
}

struct Request {
    id: u64,
    workspace: String,
    job: Job,
    fate: Arc<Fate>,
}

pub struct Writer {
    /// `None` once dropping: closing the channel is what ends the thread.
    requests: Option<Sender<Request>>,
    thread: Option<std::thread::JoinHandle<()>>,
    answers: Receiver<(u64, Done)>,
    next_id: u64,
    /// The job the open dialog waits for, and the flag that withdraws it.
    waiting: Option<(u64, Arc<Fate>)>,
    /// Jobs sent whose answer has not been taken yet (the awaited one included).
    outstanding: usize,
    /// Answers received by [`Writer::settle`] and not taken yet.
    ready: VecDeque<(u64, Done)>,
}

impl Writer {
    /// Opens a second store on `path` with `options`, on a new thread.
    pub fn start(location: impl Into<Location>, options: StoreOptions) -> Result<Writer> {
        let (requests, jobs) = mpsc::channel::<Request>();
        let (answer, answers) = mpsc::channel();
        let (opened_send, opened) = mpsc::sync_channel(1);
        let location = location.into();
        let failed_path = location.label();
        let thread = std::thread::Builder::new()
            .name("hivekeys-write".into())
            .spawn(move || {
                let mut store = match Store::open_existing(&location, options) {
                    Ok(store) => {
                        let _ = opened_send.send(Ok(()));
                        store
                    }
                    Err(err) => {
                        let _ = opened_send.send(Err(err));
                        return;
                    }
                };
                // Ends when the dashboard drops its sender.
                for request in jobs {
                    let done = perform(&mut store, request.job, &request.workspace, &request.fate);
                    if answer.send((request.id, done)).is_err() {
                        break;
                    }
                }
            })
            .map_err(|err| Error::Database {
                path: failed_path.clone(),
                message: format!("cannot start the writer thread: {err}").into(),
            })?;
        opened.recv().map_err(|_| Error::Database {
            path: failed_path,
            message: "the writer thread stopped".into(),
        })??;
        Ok(Writer {
            requests: Some(requests),
            thread: Some(thread),
            answers,
            next_id: 0,
            waiting: None,
            outstanding: 0,
            ready: VecDeque::new(),
        })
    }

    /// Sends `job`; the dialog now waits for it. Fails only if the thread is gone.
    pub fn submit(&mut self, workspace: &str, job: Job) -> bool {
        self.next_id += 1;
        let fate = Arc::new(Fate::default());
        let request = Request {
            id: self.next_id,
            workspace: workspace.to_owned(),
            job,
            fate: Arc::clone(&fate),
        };
        let sent = self
            .requests
            .as_ref()
            .is_some_and(|requests| requests.send(request).is_ok());
        if !sent {
            return false;
        }
        self.waiting = Some((self.next_id, fate));
        self.outstanding += 1;
        true
    }

    /// A dialog waits for a job's answer.
    pub fn is_waiting(&self) -> bool {
        self.waiting.is_some()
    }

    /// Some job's answer has not been taken yet.
    pub fn has_outstanding(&self) -> bool {
        self.outstanding > 0
    }

    /// Withdraws the awaited job, if it is still only waiting: it then rolls back once it gets
    /// the lock, and nothing waits for it any more. Returns whether it was withdrawn. A job
    /// already committing cannot be: it stays awaited, and its answer (a key to show) arrives
    /// in a moment.
    pub fn withdraw(&mut self) -> bool {
        let withdrawn = self
            .waiting
            .as_ref()
            .is_some_and(|(_, fate)| fate.withdraw());
        if withdrawn {
            self.waiting = None;
        }
        withdrawn
    }

    /// Waits up to `timeout` for an answer, which [`Writer::take`] then returns. A write that
    /// gets its lock at once answers within microseconds: waiting this long spares the screen
    /// a one-frame flash of "Waiting…".
    pub fn settle(&mut self, timeout: Duration) {
        if self.ready.is_empty() && self.outstanding > 0 {
            match self.answers.recv_timeout(timeout) {
                Ok(answer) => self.ready.push_back(answer),
                Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => {}
            }
        }
    }

    /// An answer, if one has arrived.
    pub fn take(&mut self) -> Option<Finished> {
        let (id, done) = self
            .ready
            .pop_front()
            .or_else(|| self.answers.try_recv().ok())?;
        self.outstanding = self.outstanding.saturating_sub(1);
        let awaited = self.waiting.as_ref().is_some_and(|(w, _)| *w == id);
        if awaited {
            self.waiting = None;
        }
        Some(Finished { done, awaited })
    }
}

impl Drop for Writer {
    /// The dashboard is ending: whatever still waits for the lock is withdrawn, so it cannot
    /// commit in the moment before the process exits. An idle thread is joined, so that its
    /// store closes cleanly (the last connection to leave removes the WAL file); one stuck in
    /// a wait is left behind, since waiting for it is what this thread exists to avoid.
    fn drop(&mut self) {
        self.withdraw();
        self.requests = None;
        if self.outstanding == 0
            && let Some(thread) = self.thread.take()
        {
            let _ = thread.join();
        }
    }
}

/// What becomes of a job, decided once by whichever side gets there first: the dialog
/// withdrawing it, or the writer, holding the lock, going ahead with the commit. Without one
/// decision, a commit could land just after the dashboard said "not made" and left.
#[derive(Debug, Default)]
pub struct Fate(AtomicU8);

const PENDING: u8 = 0;
const COMMITTING: u8 = 1;
const WITHDRAWN: u8 = 2;

impl Fate {
    /// The writer, holding the lock: true if the job goes ahead (and can no longer be
    /// withdrawn), false if it was withdrawn.
    pub fn go_ahead(&self) -> bool {
        self.0
            .compare_exchange(PENDING, COMMITTING, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
    }

    /// The dialog: true if the job was still pending and is now withdrawn.
    pub fn withdraw(&self) -> bool {
        self.0
            .compare_exchange(PENDING, WITHDRAWN, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
    }

    fn is_withdrawn(&self) -> bool {
        self.0.load(Ordering::SeqCst) == WITHDRAWN
    }
}

/// Runs `job` on `store`; once the write lock is held it asks `fate` whether to go ahead.
pub fn perform(store: &mut Store, job: Job, workspace: &str, fate: &Fate) -> Done {
    // The file may have been replaced under the dashboard (a restored backup): write to the
    // one the path names now, as the dashboard's own reads do.
    if let Err(Error::StoreReplaced { .. }) = store.check_file() {
        let _ = store.reopen();
    }
    let still_wanted = |_: &IssuedKey| match !fate.go_ahead() {
        true => Err(std::io::Error::other("withdrawn")),
        false => Ok(()),
    };
    let issued = |issued: Result<IssuedKey>, rotated| Done::Issued {
        issued: issued.map_err(|err| match err {
            Error::NotDelivered { .. } if fate.is_withdrawn() => Error::Withdrawn,
            err => err,
        }),
        rotated,
    };
    match job {
        Job::Create {
            name,
            environment,
            lifetime,
        } => {
            // Counted from the store's clock, as `create --expires-in` is.
            let new = NewKey {
                expires_at: lifetime.map(|lifetime| store.now() + lifetime),
                ..NewKey::new(&name, environment)
            };
            issued(store.create_key_and(workspace, new, still_wanted), false)
        }
        Job::CreateDefault(environment) => issued(
            store.create_key_and(workspace, NewKey::default_key(environment), still_wanted),
            false,
        ),
        Job::Rotate { key, grace } => issued(
            store.rotate_key_as_seen(workspace, &key, grace, still_wanted),
            true,
        ),
        Job::Revoke(key) => {
            Done::Revoked(store.revoke_key_unless(workspace, &key.id, || !fate.go_ahead()))
        }
        Job::RevokeKeys(ids) => {
            let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
            Done::BulkRevoked(store.revoke_keys_unless(workspace, &ids, || !fate.go_ahead()))
        }
        Job::SetLimit { key, limit } => {
            Done::LimitSet(
                store.set_daily_limit_unless(workspace, &key.id, limit, || !fate.go_ahead()),
            )
        }
        Job::Rename { key, name } => {
            Done::Renamed(store.rename_key_unless(workspace, &key.id, &name, || !fate.go_ahead()))
        }
        Job::CreateWorkspace(name) => {
            Done::WorkspaceCreated(store.create_workspace_unless(&name, || !fate.go_ahead()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_job_is_either_withdrawn_or_committed_never_both() {
        let fate = Fate::default();
        assert!(fate.withdraw());
        assert!(!fate.go_ahead(), "withdrawn first: the writer rolls back");
        let fate = Fate::default();
        assert!(fate.go_ahead());
        assert!(!fate.withdraw(), "committing first: too late to withdraw");
        assert!(!fate.is_withdrawn());
    }
}
