//! The accept loop both listeners share, in place of `axum::serve`: it caps open
//! connections and gives every connection a header-read deadline, which axum's own
//! loop does not (so a slow-loris client sending a header a byte at a time could hold
//! a connection, and enough of them every connection, for ever).
//!
//! - At most `max_connections` connections per listener are served at once. The next
//!   one is answered at once with `503 too_many_connections` (and `Retry-After: 1`)
//!   and closed: a client learns the server is busy instead of hanging in the accept
//!   backlog, and the connections already open keep being served.
//! - A connection has `header_read_timeout` to deliver each request's headers, and the
//!   same to start the next request on a kept-alive connection; past it hyper drops the
//!   connection and frees its slot. Slow bodies are bounded by the request timeout.
//! - Shutdown stops accepting, then lets every connection finish its in-flight request.

use crate::api::ClientAddr;
use axum::serve::Listener;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::sync::Semaphore;
use tower::ServiceExt;

/// The IP of a listener's peer address.
pub trait PeerIp {
    fn peer_ip(&self) -> Option<std::net::IpAddr>;
}

impl PeerIp for std::net::SocketAddr {
    fn peer_ip(&self) -> Option<std::net::IpAddr> {
        Some(self.ip())
    }
}

impl PeerIp for tokio::net::unix::SocketAddr {
    fn peer_ip(&self) -> Option<std::net::IpAddr> {
        None
    }
}

/// Per-listener connection limits.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    pub max_connections: usize,
    pub header_read_timeout: Duration,
}

/// Serves `router` on `listener` until `shutdown` resolves, then waits for the open
/// connections to finish their requests.
pub async fn serve<L>(
    mut listener: L,
    router: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()>,
) where
    L: Listener,
    L::Addr: PeerIp,
{
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        // `Listener::accept` retries transient errors (EMFILE...) itself.
        let (io, peer) = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            tokio::spawn(refuse(io));
            continue;
        };
        let client = ClientAddr(peer.peer_ip());
        let service = TowerToHyperService::new(router.clone().map_request(
            move |request: hyper::Request<Incoming>| {
                let mut request = request.map(axum::body::Body::new);
                request.extensions_mut().insert(client);
                request
            },
        ));
        let connection = graceful.watch(http.serve_connection(TokioIo::new(io), service));
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                // Header timeouts, resets and malformed requests end here: the
                // client's problem, not the server's.
                tracing::debug!(%error, "connection closed with an error");
            }
            drop(permit);
        });
    }
    drop(listener);
    graceful.shutdown().await;
}

/// The one answer a connection past the limit gets.
async fn refuse(mut io: impl tokio::io::AsyncWrite + Unpin) {
    const BODY: &str = r#"{"error":{"code":"too_many_connections","message":"the server has as many open connections as it allows (limits.max_connections); retry shortly"}}"#;
    let response = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nretry-after: 1\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{BODY}",
        BODY.len()
    );
    // A client that does not read must not keep this task alive either.
    let _ = tokio::time::timeout(Duration::from_secs(2), async {
        io.write_all(response.as_bytes()).await?;
        io.shutdown().await
    })
    .await;
}
