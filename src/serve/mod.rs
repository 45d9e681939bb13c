//! `hivekeys serve`: the verification service gateways call on every request. An edge, like
//! the CLI: it parses HTTP, asks the library's verifier, and writes the answers PRODUCT.md's
//! table gives. HTTP/1.1 with keep-alive on hyper; every connection is a task, so an idle
//! one costs a few kilobytes and no thread.
//!
//! It fails closed: when the store cannot answer, every check is 503, never a 200.

pub mod http;
pub mod metrics;

use std::convert::Infallible;
use std::io::{self, Write};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::Semaphore;

use crate::store::{Store, Verification};
use http::{BadBody, Body, Route};
use metrics::Metrics;

/// The address `serve` listens on unless told otherwise: loopback only.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8484";
/// A client must send a whole request head within this time, or it is disconnected.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// How long requests in flight get to finish after SIGTERM before the service stops anyway.
const DRAIN: Duration = Duration::from_secs(10);

pub struct ServeOptions {
    pub listen: SocketAddr,
    /// Connections served at once; past it, new ones wait in the listen backlog.
    pub max_connections: usize,
    /// With `Some`, only that workspace's keys are accepted (as `verify --workspace`).
    pub workspace: Option<String>,
}

/// Serves until SIGTERM, SIGINT or SIGHUP, then stops accepting, lets requests in flight
/// finish, writes the buffered use counts and returns.
pub fn run(store: Store, options: ServeOptions) -> io::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let service = Arc::new(Service::new(store, options.workspace.clone()));
    runtime.block_on(serve(Arc::clone(&service), &options))?;
    // Every connection task is done or abandoned: the store is ours alone again.
    drop(runtime);
    service.close()
}

async fn serve(service: Arc<Service>, options: &ServeOptions) -> io::Result<()> {
    let listener = TcpListener::bind(options.listen).await.map_err(|err| {
        io::Error::new(
            err.kind(),
            format!("cannot listen on {}: {err}", options.listen),
        )
    })?;
    let address = listener.local_addr()?;
    let _ = writeln!(io::stderr(), "listening on http://{address}");

    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT)
        .max_header_size(http::MAX_HEAD);
    let connections = Arc::new(Semaphore::new(options.max_connections.max(1)));
    let graceful = GracefulShutdown::new();
    let stop = stop_signal()?;
    tokio::pin!(stop);

    loop {
        let permit = tokio::select! {
            permit = Arc::clone(&connections).acquire_owned() => {
                permit.expect("the semaphore is never closed")
            }
            () = &mut stop => break,
        };
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(err) => {
                    // Out of descriptors or a connection reset before it was taken: not
                    // the service's end. Wait a moment instead of spinning on the error.
                    let _ = writeln!(io::stderr(), "serve: cannot accept a connection: {err}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut stop => break,
        };
        let _ = stream.set_nodelay(true);
        let service = Arc::clone(&service);
        let connection = builder.serve_connection(
            TokioIo::new(stream),
            service_fn(move |request| {
                let service = Arc::clone(&service);
                async move { Ok::<_, Infallible>(service.answer(request).await) }
            }),
        );
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            // A client that goes away mid-request is its own business.
            let _ = connection.await;
            drop(permit);
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(DRAIN) => {
            let _ = writeln!(io::stderr(), "serve: requests still open after {DRAIN:?} were cut off");
        }
    }
    Ok(())
}

/// Resolves at the first SIGTERM, SIGINT or SIGHUP. `serve` reads no terminal, but a
/// hang-up of the one it was started from must still end it cleanly.
fn stop_signal() -> io::Result<impl Future<Output = ()>> {
    let mut terminate = signal(SignalKind::terminate())?;
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut hangup = signal(SignalKind::hangup())?;
    Ok(async move {
        tokio::select! {
            _ = terminate.recv() => {}
            _ = interrupt.recv() => {}
            _ = hangup.recv() => {}
        }
    })
}

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
