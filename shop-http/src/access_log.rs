//! The access log: one `info` event per request under the target [`ACCESS_LOG_TARGET`] —
//! method, route template, status, latency, response bytes, request ID, client address (as
//! [`ClientAddrLayer`](crate::ClientAddrLayer) decided it) and the signed-in user's ID.
//!
//! The line is written when the response body is finished, so the latency and the byte count
//! are those of the whole response (`complete = false` when the client went away first). It
//! sits beside the metrics middleware, outside the load shedding, the timeout and the body
//! limit, so responses those layers make are logged too. Silence it alone with
//! `RUST_LOG=info,shop_http::access=off`. Never logged: headers (tokens, cookies) and bodies.

use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll, ready};
use std::time::Instant;

use axum::body::{Body, Bytes};
use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use http_body::{Body as HttpBody, Frame, SizeHint};
use shop_auth::Principal;
use shop_core::UserId;

use crate::ClientAddr;

/// The `tracing` target of the access log's events.
pub const ACCESS_LOG_TARGET: &str = "shop_http::access";

/// Where the auth layer's verdict reaches the access log: the log middleware runs outside the
/// auth layer, so it leaves this slot in the request and [`note_signed_in`] fills it.
#[derive(Clone, Default)]
pub(crate) struct SignedInSlot(Arc<OnceLock<UserId>>);

/// Middleware placed just inside the auth layer: records who the request is from.
pub(crate) async fn note_signed_in(req: Request, next: Next) -> Response {
    if let (Some(principal), Some(slot)) = (
        req.extensions().get::<Principal>(),
        req.extensions().get::<SignedInSlot>(),
    ) {
        let _ = slot.0.set(principal.user_id);
    }
    next.run(req).await
}

/// What one line says, gathered while the request runs.
struct Line {
    method: Method,
    route: Option<MatchedPath>,
    status: StatusCode,
    request_id: Option<HeaderValue>,
    client: Option<ClientAddr>,
    user: SignedInSlot,
    started: Instant,
    bytes: u64,
}

impl Line {
    fn write(&self, complete: bool) {
        let latency_ms = self.started.elapsed().as_secs_f64() * 1000.0;
        tracing::info!(
            target: ACCESS_LOG_TARGET,
            method = %self.method,
            route = self.route.as_ref().map_or("unmatched", MatchedPath::as_str),
            status = self.status.as_u16(),
            latency_ms,
            bytes = self.bytes,
            request_id = self.request_id.as_ref().and_then(|v| v.to_str().ok()),
            client = self.client.map(|c| tracing::field::display(c.0)),
            user_id = self.user.0.get().map(tracing::field::display),
            complete,
            "request"
        );
    }
}

/// Middleware writing the access log line of every request.
pub(crate) async fn log(mut req: Request, next: Next) -> Response {
    let started = Instant::now();
    let user = SignedInSlot::default();
    req.extensions_mut().insert(user.clone());
    let method = req.method().clone();
    let route = req.extensions().get::<MatchedPath>().cloned();
    let request_id = req.headers().get("x-request-id").cloned();
    let client = req.extensions().get::<ClientAddr>().copied();
    let res = next.run(req).await;
    let line = Line {
        method,
        route,
        status: res.status(),
        request_id,
        client,
        user,
        started,
        bytes: 0,
    };
    res.map(|body| {
        Body::new(Logged {
            inner: body,
            line: Some(line),
        })
    })
}

/// A response body that counts what it yields and writes the line at its end (or when it is
/// dropped unfinished).
struct Logged {
    inner: Body,
    line: Option<Line>,
}

impl HttpBody for Logged {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let polled = ready!(Pin::new(&mut self.inner).poll_frame(cx));
        match &polled {
            Some(Ok(frame)) => {
                let n = frame.data_ref().map_or(0, |d| d.len() as u64);
                if let Some(line) = self.line.as_mut() {
                    line.bytes += n;
                }
                if self.inner.is_end_stream()
                    && let Some(line) = self.line.take()
                {
                    line.write(true);
                }
            }
            None => {
                if let Some(line) = self.line.take() {
                    line.write(true);
                }
            }
            Some(Err(_)) => {}
        }
        Poll::Ready(polled)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for Logged {
    fn drop(&mut self) {
        if let Some(line) = self.line.take() {
            // An empty body is never polled; anything else dropped here was cut short.
            let complete = self.inner.is_end_stream();
            line.write(complete);
        }
    }
}
