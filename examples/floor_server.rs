//! The floor `benches/serve.rs` measures `hivekeys serve` against: the same server with the
//! work taken out. Same runtime (tokio multi-thread, every driver enabled), same hyper
//! HTTP/1.1 builder options, same accept loop (connection limit, `TCP_NODELAY`, graceful
//! shutdown), and a service that answers every request 200 with an empty body without
//! looking at it.
//!
//! ```text
//! cargo run --release --example floor_server -- 127.0.0.1:0
//! ```
//!
//! Prints `listening on http://ADDR:PORT` on stderr when ready, as `hivekeys serve` does;
//! stops on SIGTERM or SIGINT.

use std::convert::Infallible;
use std::io::Write;
use std::net::SocketAddr;
use std::sync::Arc;

use hivekeys::serve::http::Body;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::Semaphore;

fn main() -> std::io::Result<()> {
    let listen: SocketAddr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:0".into())
        .parse()
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(serve(listen))
}

async fn serve(listen: SocketAddr) -> std::io::Result<()> {
    let listener = TcpListener::bind(listen).await?;
    let _ = writeln!(
        std::io::stderr(),
        "listening on http://{}",
        listener.local_addr()?
    );
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(hivekeys::serve::HEADER_TIMEOUT)
        .max_header_size(hivekeys::serve::http::MAX_HEAD);
    // `hivekeys serve`'s default --max-connections.
    let connections = Arc::new(Semaphore::new(4096));
    let graceful = GracefulShutdown::new();
    let mut terminate = signal(SignalKind::terminate())?;
    let mut interrupt = signal(SignalKind::interrupt())?;
    loop {
        let permit = tokio::select! {
            permit = Arc::clone(&connections).acquire_owned() => permit.expect("never closed"),
            _ = terminate.recv() => break,
            _ = interrupt.recv() => break,
        };
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(_) => continue,
            },
            _ = terminate.recv() => break,
            _ = interrupt.recv() => break,
        };
        let _ = stream.set_nodelay(true);
        let connection = builder.serve_connection(
            TokioIo::new(stream),
            service_fn(|_request| async {
                let mut response = Response::new(Body::default());
                *response.status_mut() = StatusCode::OK;
                Ok::<_, Infallible>(response)
            }),
        );
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            let _ = connection.await;
            drop(permit);
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}
