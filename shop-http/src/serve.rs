//! Serving the router on hyper (HTTP/1.1), bounded against clients that hold connections.
//!
//! - A connection has [`HttpConfig::header_read_timeout`] to deliver a request head: a socket
//!   that connects and sends nothing, one that sends half a request line, and a keep-alive
//!   connection that stays idle between requests are all closed when it runs out.
//! - At most [`HttpConfig::max_connections`] connections are open at once; beyond that, new
//!   ones wait in the listen backlog until one closes.
//! - A body that trickles in is bounded by the request timeout, like the rest of the request.
//! - Requests carry the peer address (`ConnectInfo<SocketAddr>`), from which
//!   [`ClientAddrLayer`](crate::ClientAddrLayer) finds the client.
//!
//! On shutdown the listener closes, idle connections (including half-sent heads) close at
//! once, and requests in flight finish; the returned future completes when the last
//! connection closed.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use axum::http::Request;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt;
use tracing::{debug, warn};

use crate::state::HttpConfig;

/// Serves `app` on `listener` until `shutdown` completes; then stops accepting, closes idle
/// connections, and returns once requests in flight have finished (see the
/// [module docs](self) for the limits applied). Bound the wait yourself if it must end.
///
/// # Errors
/// None today: errors accepting a connection (out of file descriptors, say) are logged and
/// retried after a pause, as every server must.
pub fn serve(
    listener: TcpListener,
    app: Router,
    config: &HttpConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> impl Future<Output = std::io::Result<()>> + Send + 'static {
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(config.header_read_timeout)
        .keep_alive(true);
    let open = Arc::new(Semaphore::new(config.max_connections.max(1)));
    accept_loop(listener, app, http, open, shutdown)
}

async fn accept_loop(
    listener: TcpListener,
    app: Router,
    http: hyper::server::conn::http1::Builder,
    open: Arc<Semaphore>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            permit = open.clone().acquire_owned() => match permit {
                Ok(p) => p,
                Err(_) => break, // never closed; nothing to serve without permits
            },
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // EMFILE and friends: pause rather than spin, as hyper's examples do.
                    warn!(error = %e, "accept failed; retrying in a second");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        if let Err(e) = stream.set_nodelay(true) {
            debug!(error = %e, "TCP_NODELAY not set");
        }
        let service = app.clone().map_request(move |mut req: Request<Incoming>| {
            req.extensions_mut().insert(ConnectInfo(peer));
            req
        });
        let connection =
            http.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                debug!(error = %e, %peer, "connection ended with an error");
            }
            drop(permit);
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}
