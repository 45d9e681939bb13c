//! The state every connection shares and the answer to one request: the store (behind a
//! lock), the metrics, and the routing from a request to [`super::http`]'s answers.

use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};

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

impl Opened {
    /// Follows the store's path: a file moved over it (a restored backup) is opened; a
    /// deleted one is an error, so every check fails closed until a file is back. Looks at
    /// most every [`FILE_CHECK`] unless `now`.
    fn follow_file(&mut self, now: bool) -> crate::Result<()> {
        if !now && self.file_checked.elapsed() < FILE_CHECK {
            return Ok(());
        }
        // Reopening waits for the disk, maybe for another process's lock: other tasks move
        // to another worker meanwhile instead of stalling behind this one.
        tokio::task::block_in_place(|| self.check_and_follow())
    }

    fn check_and_follow(&mut self) -> crate::Result<()> {
        match self.store.check_file() {
            Err(crate::Error::StoreReplaced { .. }) => self.store.reopen()?,
            other => other?,
        }
        self.file_checked = Instant::now();
        Ok(())
    }
}

/// The state every connection shares.
pub struct Service {
    /// An async mutex: a task that waits for it yields its worker, so accepting, timeouts and
    /// other connections go on while one request reopens the store.
    store: tokio::sync::Mutex<Opened>,
    workspace: Option<String>,
    metrics: Metrics,
    /// Whether the last store call succeeded: a failure is said once when it starts, not
    /// once per request.
    healthy: AtomicBool,
}

impl Service {
    pub fn new(store: Store, workspace: Option<String>) -> Service {
        Service {
            store: tokio::sync::Mutex::new(Opened {
                store,
                file_checked: Instant::now(),
            }),
            workspace,
            metrics: Metrics::new(),
            healthy: AtomicBool::new(true),
        }
    }

    /// Answers one request and counts it.
    pub async fn answer(&self, request: Request<Incoming>) -> Response<Body> {
        let response = self.route(request).await;
        self.metrics.answered(response.status().as_u16());
        response
    }

    async fn route(&self, request: Request<Incoming>) -> Response<Body> {
        // hyper enforces the head limit while it parses; this catches a head that reached
        // it in pieces past that check (hyper#4081).
        let head: usize = request
            .headers()
            .iter()
            .map(|(name, value)| name.as_str().len() + value.len() + 4)
            .sum();
        if head > http::MAX_HEAD {
            return http::error(
                StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
                "Request headers too large.",
            );
        }
        match http::route(request.uri().path()) {
            Route::Auth => {
                let verdict = match http::bearer_key(request.headers()) {
                    Some(key) => self.verify(key).await,
                    None => Ok((http::malformed(), self.now().await)),
                };
                match verdict {
                    Ok((verdict, now)) => http::auth_answer(&verdict, now),
                    Err(()) => http::unavailable(),
                }
            }
            Route::Verify if !http::is_post(request.method()) => http::method_not_allowed("POST"),
            Route::Verify => {
                let key = match read_body(request.into_body()).await {
                    Ok(body) => http::key_in_body(&body).map(zeroize::Zeroizing::new),
                    Err(refused) => Err(refused),
                };
                let key = match key {
                    Ok(key) => key,
                    Err(refused) => return refused.response(),
                };
                match self.verify(&key).await {
                    Ok((verdict, now)) => http::verify_answer(&verdict, now),
                    Err(()) => http::unavailable(),
                }
            }
            Route::Health => match self.store_answers().await {
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
        }
    }

    /// The library's verdict on `key` and the store's time it was given at, or `Err` when the
    /// store cannot answer (fail closed).
    async fn verify(&self, key: &str) -> Result<(Verification, DateTime<Utc>), ()> {
        let started = Instant::now();
        let verdict = {
            let mut opened = self.store.lock().await;
            let now = opened.store.now();
            opened
                .follow_file(false)
                .and_then(|()| opened.store.verify_in(self.workspace.as_deref(), key))
                .map(|verdict| (verdict, now))
        };
        match verdict {
            Ok((verdict, now)) => {
                self.metrics
                    .verified(http::code(&verdict), started.elapsed().as_secs_f64());
                self.now_healthy(None);
                Ok((verdict, now))
            }
            Err(err) => {
                self.now_healthy(Some(&err));
                Err(())
            }
        }
    }

    /// Whether the store answers now: its file is still the one opened, and readable.
    async fn store_answers(&self) -> bool {
        let checked = {
            let mut opened = self.store.lock().await;
            opened
                .follow_file(true)
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

    async fn now(&self) -> DateTime<Utc> {
        self.store.lock().await.store.now()
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
        self.store
            .blocking_lock()
            .store
            .flush_usage()
            .map(drop)
            .map_err(|err| io::Error::other(err.to_string()))
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
