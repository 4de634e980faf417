//! Serving the router over HTTP/1.1 with the limits that keep slow and heavy clients from
//! tying the server up, and a graceful shutdown.
//!
//! - **Header-read timeout**: a connection must deliver a request's whole header within it,
//!   counted from when the server starts waiting for one (so it also ends idle keep-alive
//!   connections); otherwise it is closed.
//! - **Request timeout**: a request (reading its body, and answering) must be done within it;
//!   otherwise it answers `408 request_timeout` in the error shape and the connection closes.
//! - **Connection cap**: at most this many connections at once; one more is answered at once
//!   with `503 server_busy` (`Retry-After: 1`) and closed, rather than left waiting unseen.
//! - **Shutdown**: when the signal future completes, the listener closes (no new connection
//!   is accepted), every open connection finishes the request it is serving (idle ones
//!   close), and [`serve`] returns once all are done, or after the request timeout at most:
//!   no request may take longer, so a connection still open then is one that would never end
//!   by itself, and is dropped. A server behind a load balancer first drains (see
//!   `Torii::drain`): the signal future given here completes only after its drain delay.
//!
//! Each request carries its peer's address as `ConnectInfo<SocketAddr>`, as
//! `into_make_service_with_connect_info` gives it.

use crate::error::ApiError;
use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderValue, Request, StatusCode, header};
use axum::response::{IntoResponse as _, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use std::convert::Infallible;
use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, mpsc, watch};
use torii_shared::ErrorCode;
use tower::ServiceExt as _;

/// The limits of [`serve`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServeSettings {
    /// Time allowed for a request's header (default 10 s).
    pub header_read_timeout: Duration,
    /// Time allowed for a whole request, body and answer (default 30 s).
    pub request_timeout: Duration,
    /// Connections open at once (default 1024).
    pub max_connections: usize,
}

impl Default for ServeSettings {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            max_connections: 1024,
        }
    }
}

/// Beyond the request timeout, what a shutdown waits for the last answers to be written.
const SHUTDOWN_SLACK: Duration = Duration::from_secs(1);

/// How long a refused connection is drained before it closes, so that the client reads the
/// refusal instead of a reset.
const REFUSAL_LINGER: Duration = Duration::from_secs(1);

/// Serves `app` on `listener` until `shutdown` completes, then lets open connections finish.
///
/// # Errors
/// Never for a client's fault; an I/O error of the listener itself that is not transient.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    settings: ServeSettings,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let permits = Arc::new(Semaphore::new(settings.max_connections.max(1)));
    // Dropping `stop` tells every connection to finish; each connection holds a `done`
    // sender, so `finished` ends when the last one is gone.
    let (stop, stopped) = watch::channel(());
    let (done, mut finished) = mpsc::channel::<()>(1);
    let mut shutdown = pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) if is_transient(&error) => continue,
                Err(error) => {
                    // Out of file descriptors and the like: wait for connections to close.
                    tracing::error!(%error, "accepting a connection failed");
                    tokio::select! {
                        () = tokio::time::sleep(Duration::from_secs(1)) => continue,
                        () = &mut shutdown => break,
                    }
                }
            },
            () = &mut shutdown => break,
        };
        let Ok(permit) = Arc::clone(&permits).try_acquire_owned() else {
            tokio::spawn(refuse(stream));
            continue;
        };
        let app = app.clone();
        let mut stopped = stopped.clone();
        let done = done.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request: Request<_>| {
                let mut request = request.map(Body::new);
                request.extensions_mut().insert(ConnectInfo(peer));
                answer(app.clone(), request, settings.request_timeout)
            });
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(settings.header_read_timeout);
            let mut connection = pin!(builder.serve_connection(TokioIo::new(stream), service));
            let mut stopping = false;
            loop {
                tokio::select! {
                    _ = connection.as_mut() => break,
                    _ = stopped.changed(), if !stopping => {
                        stopping = true;
                        connection.as_mut().graceful_shutdown();
                    }
                }
            }
            drop((permit, done));
        });
    }
    drop((listener, stop, done));
    let bound = settings.request_timeout + SHUTDOWN_SLACK;
    if tokio::time::timeout(bound, finished.recv()).await.is_err() {
        tracing::warn!(
            waited_secs = bound.as_secs(),
            "connections still open after the request timeout: dropped"
        );
    }
    Ok(())
}

/// One request under the request timeout.
async fn answer(
    app: Router,
    request: Request<Body>,
    timeout: Duration,
) -> Result<Response, Infallible> {
    match tokio::time::timeout(timeout, app.oneshot(request)).await {
        Ok(response) => response,
        Err(_) => {
            let mut response = ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                ErrorCode::RequestTimeout,
                "The request took too long. Try again.",
            )
            .into_response();
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
            Ok(response)
        }
    }
}

/// Answers a connection over the cap with `503 server_busy` and closes it.
async fn refuse(mut stream: TcpStream) {
    let body = serde_json::to_string(&torii_shared::ErrorBody::new(
        ErrorCode::ServerBusy,
        "The server is at capacity. Try again shortly.",
    ))
    .unwrap_or_default();
    let head = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n\
         retry-after: 1\r\ncache-control: no-store\r\nconnection: close\r\n\
         content-length: {}\r\n\r\n",
        body.len()
    );
    let _ = tokio::time::timeout(REFUSAL_LINGER, async {
        stream.write_all(head.as_bytes()).await?;
        stream.write_all(body.as_bytes()).await?;
        stream.shutdown().await?;
        // Read what the client sent, so closing does not reset the connection before the
        // answer is read.
        let mut sink = [0_u8; 4096];
        let mut drained = 0_usize;
        while drained < 64 * 1024 {
            let n = stream.read(&mut sink).await?;
            if n == 0 {
                break;
            }
            drained += n;
        }
        Ok::<(), std::io::Error>(())
    })
    .await;
}

/// Errors of one connection that is gone before it was accepted: try the next.
fn is_transient(error: &std::io::Error) -> bool {
    matches!(
        error.kind(),
        std::io::ErrorKind::ConnectionRefused
            | std::io::ErrorKind::ConnectionAborted
            | std::io::ErrorKind::ConnectionReset
    )
}
