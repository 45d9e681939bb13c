//! `hivekeys serve`: the verification service gateways call on every request. An edge, like
//! the CLI: it parses HTTP, asks the library's verifier, and writes the answers PRODUCT.md's
//! table gives. HTTP/1.1 with keep-alive on hyper; every connection is a task, so an idle
//! one costs a few kilobytes and no thread.
//!
//! It fails closed: when the store cannot answer, every check is 503, never a 200.

pub mod http;
mod identity;
pub mod metrics;
mod service;

use std::io::{self, Write};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::Semaphore;

use crate::store::Store;
pub use service::Service;

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
        let connection = builder.serve_connection(
            TokioIo::new(stream),
            service::Connection(Arc::clone(&service)),
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
