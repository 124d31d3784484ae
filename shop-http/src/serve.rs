//! Serving the router on hyper (HTTP/1.1); see [`serve`].

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes, HttpBody};
use axum::extract::ConnectInfo;
use axum::http::Request;
use hyper::body::{Frame, Incoming, SizeHint};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tower::ServiceExt;
use tracing::{debug, warn};

use crate::state::HttpConfig;

/// Serves `app` on `listener` (HTTP/1.1) until `shutdown` completes, bounded against clients
/// that hold connections:
///
/// - A connection has [`HttpConfig::header_read_timeout`] to deliver a request head: a socket
///   that connects and sends nothing, one that sends half a request line, and a keep-alive
///   connection idle between requests are all closed when it runs out.
/// - At most [`HttpConfig::max_connections`] connections are open at once; beyond that, new
///   ones wait in the listen backlog until one closes.
/// - A body that trickles in is bounded by the request timeout, like the rest of the request.
/// - Requests carry the peer address (`ConnectInfo<SocketAddr>`), from which
///   [`ClientAddrLayer`](crate::ClientAddrLayer) finds the client.
///
/// When `shutdown` completes the listener closes, every connection without a request in
/// flight (silent, half a head, idle between requests) closes at once, and requests in flight
/// finish; the returned future completes when the last connection closed. Bound that wait
/// yourself if it must end.
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
    accept_loop(listener, app, http, config.max_connections.max(1), shutdown)
}

async fn accept_loop(
    listener: TcpListener,
    app: Router,
    http: hyper::server::conn::http1::Builder,
    max_connections: usize,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // Each connection holds a permit; taking them all back means every connection closed.
    let open = Arc::new(Semaphore::new(max_connections));
    let (stopping, stop_signal) = watch::channel(false);
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            permit = open.clone().acquire_owned() => match permit {
                Ok(p) => p,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // EMFILE and friends: pause rather than spin.
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
        let in_flight = Arc::new(AtomicUsize::new(0));
        let counted = InFlight(in_flight.clone());
        let service = app
            .clone()
            .map_request(move |mut req: Request<Incoming>| {
                req.extensions_mut().insert(ConnectInfo(peer));
                req
            })
            .map_future(move |response| {
                // Counted from the call until the response body is sent (or dropped).
                let guard = counted.enter();
                async move {
                    response.await.map(|res| {
                        res.map(|body| {
                            Body::new(Guarded {
                                body,
                                _guard: guard,
                            })
                        })
                    })
                }
            });
        let connection =
            http.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
        let mut stop_signal = stop_signal.clone();
        tokio::spawn(async move {
            tokio::pin!(connection);
            let ended = tokio::select! {
                ended = connection.as_mut() => Some(ended),
                _ = stop_signal.wait_for(|stop| *stop) => None,
            };
            let ended = match ended {
                Some(ended) => ended,
                // Shutting down: a connection with no request in flight (silent, half a head,
                // idle between requests) has nothing the server accepted; close it now. One
                // with a request finishes it, answering `Connection: close`.
                None if in_flight.load(Ordering::SeqCst) == 0 => Ok(()),
                None => {
                    connection.as_mut().graceful_shutdown();
                    connection.await
                }
            };
            if let Err(e) = ended {
                debug!(error = %e, %peer, "connection ended with an error");
            }
            drop(permit);
        });
    }
    drop(listener);
    let _ = stopping.send(true);
    let all = u32::try_from(max_connections).unwrap_or(u32::MAX);
    let _ = open.acquire_many(all).await;
    Ok(())
}

/// Counts a connection's requests in flight.
#[derive(Clone)]
struct InFlight(Arc<AtomicUsize>);

impl InFlight {
    fn enter(&self) -> InFlightGuard {
        self.0.fetch_add(1, Ordering::SeqCst);
        InFlightGuard(self.0.clone())
    }
}

struct InFlightGuard(Arc<AtomicUsize>);

/// A response body that keeps its request counted as in flight until it is done.
struct Guarded {
    body: Body,
    _guard: InFlightGuard,
}

impl HttpBody for Guarded {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

impl Drop for InFlightGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}
