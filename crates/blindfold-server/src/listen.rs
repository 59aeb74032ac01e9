//! The accept loop: HTTP/1.1 connections served by hyper with a header
//! read timeout and a connection limit, and a graceful stop (no new
//! connections; those open finish their requests, up to a grace period).

use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tower::Service;

/// Timeouts and limits of the connection layer.
#[derive(Clone, Copy, Debug)]
pub struct ConnLimits {
    /// Time a client has to send a request's headers.
    pub header_timeout: Duration,
    /// Connections served at once; further ones wait in the kernel's backlog.
    pub max_connections: usize,
    /// Time running requests get to finish after the stop signal.
    pub grace: Duration,
}

/// Serve `app` on `listener` until `stop` completes, then stop gracefully.
pub async fn run(
    listener: TcpListener,
    app: Router,
    limits: ConnLimits,
    stop: impl Future<Output = ()>,
) {
    let graceful = GracefulShutdown::new();
    let slots = Arc::new(tokio::sync::Semaphore::new(limits.max_connections));
    let mut stop = std::pin::pin!(stop);
    loop {
        let slot = tokio::select! {
            s = slots.clone().acquire_owned() => s,
            () = &mut stop => break,
        };
        let Ok(slot) = slot else { break };
        let (stream, _) = tokio::select! {
            c = listener.accept() => match c {
                Ok(c) => c,
                Err(_) => {
                    // Out of file descriptors and the like: wait a little.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut stop => break,
        };
        let _ = stream.set_nodelay(true);
        let svc = app.clone();
        let hyper_svc =
            hyper::service::service_fn(move |req: hyper::Request<Incoming>| svc.clone().call(req));
        let conn = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(limits.header_timeout)
            .serve_connection(TokioIo::new(stream), hyper_svc);
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            let _ = conn.await;
            drop(slot);
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(limits.grace) => {}
    }
}
