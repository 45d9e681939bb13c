//! The state every connection shares and the answer to one request: the store (behind a
//! lock), the metrics, and the routing from a request to [`super::http`]'s answers.

use std::convert::Infallible;
use std::io::{self, Write};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use tokio::sync::Notify;

use super::http::{self, BadBody, Body, Route};
use super::metrics::Metrics;
use crate::store::{Store, Verification};

/// How often the service makes sure the store's path still names the file it has open: the
/// propagation bound PRODUCT.md gives verifiers on SQLite.
const FILE_CHECK: Duration = Duration::from_millis(100);

/// The store, and when its file was last checked.
struct Opened {
    store: Store,
    file_checked: Instant,
}

/// The state every connection shares.
pub struct Service {
    /// A plain mutex, held for one verification (a microsecond or two): an async one cost
    /// more than the work it guards, and every wait for it put a task back on the scheduler.
    /// The one long wait, reopening the file, goes through `reopening` instead.
    store: Mutex<Opened>,
    /// Set while a task reopens the store, which waits for the disk and maybe for another
    /// process's lock: other tasks await `reopened` rather than block their worker on the
    /// mutex, so accepting, timeouts and `/metrics` go on meanwhile. (A task that looked just
    /// before it was set does wait on the mutex: at most one per worker, once per reopening.)
    reopening: AtomicBool,
    reopened: Notify,
    workspace: Option<String>,
    metrics: Metrics,
    /// Whether the last store call succeeded: a failure is said once when it starts, not
    /// once per request.
    healthy: AtomicBool,
}

impl Service {
    pub fn new(store: Store, workspace: Option<String>) -> Service {
        Service {
            store: Mutex::new(Opened {
                store,
                file_checked: Instant::now(),
            }),
            reopening: AtomicBool::new(false),
            reopened: Notify::new(),
            workspace,
            metrics: Metrics::new(),
            healthy: AtomicBool::new(true),
        }
    }

    /// Answers what can be answered without waiting: every request but a
    /// `/v1/keys/verify` (whose body is still to come) and those that arrive while the store
    /// is being reopened. Those come back, for [`Service::answer_later`].
    fn answer_now(&self, request: Request<Incoming>) -> Now {
        // hyper enforces the head limit while it parses; this catches a head that reached
        // it in pieces past that check (hyper#4081).
        let head: usize = request
            .headers()
            .iter()
            .map(|(name, value)| name.as_str().len() + value.len() + 4)
            .sum();
        if head > http::MAX_HEAD {
            return Now::Answered(http::error(
                StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
                "Request headers too large.",
            ));
        }
        let route = http::route(request.uri().path());
        let needs_store = matches!(route, Route::Auth | Route::Verify | Route::Health);
        if needs_store && self.reopening.load(Ordering::Acquire) {
            return Now::Deferred(request);
        }
        Now::Answered(match route {
            Route::Auth => {
                let verdict = match http::bearer_key(request.headers()) {
                    Some(key) => self.verify(key),
                    None => Ok(http::malformed()),
                };
                match verdict {
                    Ok(verdict) => http::auth_answer(&verdict, || self.now()),
                    Err(()) => http::unavailable(),
                }
            }
            Route::Verify if !http::is_post(request.method()) => http::method_not_allowed("POST"),
            Route::Verify => return Now::Deferred(request),
            Route::Health => match self.store_answers() {
                true => http::json(StatusCode::OK, &serde_json::json!({ "status": "ok" })),
                false => http::unavailable(),
            },
            Route::Metrics => {
                let mut response = Response::new(Body::from(self.metrics.render()));
                response.headers_mut().insert(
                    hyper::header::CONTENT_TYPE,
                    hyper::header::HeaderValue::from_static(
                        "application/openmetrics-text; version=1.0.0; charset=utf-8",
                    ),
                );
                response
            }
            Route::NotFound => http::not_found(),
        })
    }

    /// Answers what [`Service::answer_now`] gave back: reads a `/v1/keys/verify` body, waits
    /// for a reopening to end.
    async fn answer_later(&self, mut request: Request<Incoming>) -> Response<Body> {
        if http::route(request.uri().path()) == Route::Verify {
            let key = match read_body(request.into_body()).await {
                Ok(body) => http::key_in_body(&body).map(zeroize::Zeroizing::new),
                Err(refused) => Err(refused),
            };
            let key = match key {
                Ok(key) => key,
                Err(refused) => return refused.response(),
            };
            self.not_reopening().await;
            return match self.verify(&key) {
                Ok(verdict) => http::verify_answer(&verdict, || self.now()),
                Err(()) => http::unavailable(),
            };
        }
        loop {
            self.not_reopening().await;
            match self.answer_now(request) {
                Now::Answered(response) => return response,
                Now::Deferred(again) => request = again,
            }
        }
    }

    /// The library's verdict on `key`, or `Err` when the store cannot answer (fail closed).
    fn verify(&self, key: &str) -> Result<Verification, ()> {
        let started = Instant::now();
        let verdict = {
            let mut opened = self.lock();
            self.follow_file(&mut opened, Some(started))
                .and_then(|()| opened.store.verify_in(self.workspace.as_deref(), key))
        };
        match verdict {
            Ok(verdict) => {
                self.metrics
                    .verified(http::code(&verdict), started.elapsed().as_secs_f64());
                self.now_healthy(None);
                Ok(verdict)
            }
            Err(err) => {
                self.now_healthy(Some(&err));
                Err(())
            }
        }
    }

    /// Whether the store answers now: its file is still the one opened, and readable.
    fn store_answers(&self) -> bool {
        let checked = {
            let mut opened = self.lock();
            self.follow_file(&mut opened, None)
                .and_then(|()| opened.store.data_version())
        };
        match checked {
            Ok(_) => {
                self.now_healthy(None);
                true
            }
            Err(err) => {
                self.now_healthy(Some(&err));
                false
            }
        }
    }

    /// The store's time: a verdict's, read a moment after it was given.
    fn now(&self) -> DateTime<Utc> {
        self.lock().store.now()
    }

    fn lock(&self) -> MutexGuard<'_, Opened> {
        // A panic while it was held left nothing half-done that a verification relies on:
        // the store's own state is kept consistent by SQLite and the store's own locks.
        self.store.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Returns at once unless a task is reopening the store; then when it is done.
    async fn not_reopening(&self) {
        while self.reopening.load(Ordering::Acquire) {
            // Registered before the second look, so a reopening that ends in between still
            // wakes this task.
            let reopened = self.reopened.notified();
            if !self.reopening.load(Ordering::Acquire) {
                break;
            }
            reopened.await;
        }
    }

    /// Follows the store's path: a file moved over it (a restored backup) is opened; a
    /// deleted one is an error, so every check fails closed until a file is back. Looks at
    /// most every [`FILE_CHECK`] when given the time it is (`None`: look now). The look is
    /// one `stat`, done in place.
    fn follow_file(&self, opened: &mut Opened, at: Option<Instant>) -> crate::Result<()> {
        // The caller's clock read, not one more: at 100,000 requests a second each costs.
        if at.is_some_and(|at| at.saturating_duration_since(opened.file_checked) < FILE_CHECK) {
            return Ok(());
        }
        match opened.store.check_file() {
            Err(crate::Error::StoreReplaced { .. }) => {
                let _reopening = Reopening::start(self);
                // This worker's other tasks move to another thread meanwhile.
                tokio::task::block_in_place(|| opened.store.reopen())?;
            }
            other => other?,
        }
        opened.file_checked = Instant::now();
        Ok(())
    }

    fn now_healthy(&self, failure: Option<&crate::Error>) {
        let was = self.healthy.swap(failure.is_none(), Ordering::Relaxed);
        match failure {
            Some(err) if was => {
                let _ = writeln!(io::stderr(), "serve: answering 503: {err}");
            }
            None if !was => {
                let _ = writeln!(io::stderr(), "serve: the store answers again");
            }
            _ => {}
        }
    }

    /// Writes the use counts still buffered. Called once the runtime is gone.
    pub fn close(&self) -> io::Result<()> {
        self.lock()
            .store
            .flush_usage()
            .map(drop)
            .map_err(|err| io::Error::other(err.to_string()))
    }
}

/// Says that the store is being reopened for as long as it lives, and wakes the waiting
/// tasks when dropped: even if reopening panics, nobody waits for good.
struct Reopening<'a>(&'a Service);

impl Reopening<'_> {
    fn start(service: &Service) -> Reopening<'_> {
        service.reopening.store(true, Ordering::Release);
        Reopening(service)
    }
}

impl Drop for Reopening<'_> {
    fn drop(&mut self) {
        self.0.reopening.store(false, Ordering::Release);
        self.0.reopened.notify_waiters();
    }
}

/// A `/v1/keys/verify` body of at most [`http::MAX_BODY`] bytes. Wiped when dropped: it
/// holds a key.
async fn read_body(body: Incoming) -> Result<zeroize::Zeroizing<Vec<u8>>, BadBody> {
    match Limited::new(body, http::MAX_BODY).collect().await {
        Ok(collected) => Ok(zeroize::Zeroizing::new(collected.to_bytes().to_vec())),
        Err(err) if err.is::<http_body_util::LengthLimitError>() => Err(BadBody::TooLarge),
        Err(_) => Err(BadBody::NoKey),
    }
}

/// What [`Service::answer_now`] did with a request.
enum Now {
    Answered(Response<Body>),
    /// Given back: it needs a wait (for its body, or for the store to be reopened).
    Deferred(Request<Incoming>),
}

/// What hyper calls for each request of a connection.
#[derive(Clone)]
pub struct Connection(pub Arc<Service>);

impl hyper::service::Service<Request<Incoming>> for Connection {
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = Answer;

    fn call(&self, request: Request<Incoming>) -> Answer {
        match self.0.answer_now(request) {
            Now::Answered(response) => {
                self.0.metrics.answered(response.status().as_u16());
                Answer::Ready(Some(response))
            }
            Now::Deferred(request) => {
                let service = Arc::clone(&self.0);
                Answer::Later(Box::pin(async move {
                    let response = service.answer_later(request).await;
                    service.metrics.answered(response.status().as_u16());
                    response
                }))
            }
        }
    }
}

/// The answer to one request: already there (a forward-auth check is answered within the
/// call, with no future to allocate), or still to come.
pub enum Answer {
    Ready(Option<Response<Body>>),
    Later(Pin<Box<dyn Future<Output = Response<Body>> + Send>>),
}

impl Future for Answer {
    type Output = Result<Response<Body>, Infallible>;

    fn poll(self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<Self::Output> {
        match self.get_mut() {
            Answer::Ready(response) => {
                Poll::Ready(Ok(response.take().expect("an answer is taken once")))
            }
            Answer::Later(answer) => answer.as_mut().poll(context).map(Ok),
        }
    }
}
