//! Liveness, readiness, metrics and the OpenAPI document.

use std::sync::Arc;

use axum::Extension;
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use parking_lot::Mutex;
use serde::Serialize;
use utoipa::ToSchema;

use crate::routes::MountPath;
use crate::state::{AppState, BuildInfo};

/// Liveness or readiness.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Status {
    /// `ok`, `ready`, `unavailable` or `draining` (shutting down).
    status: &'static str,
    /// Dependencies that did not answer (readiness only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    down: Vec<&'static str>,
    /// Why it is not ready, in words (readiness only). On the operations listener
    /// ([`crate::ops_router`]) each dependency's error with its causes; on the public one
    /// only which dependency, since the causes name hosts and accounts.
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
    /// The build answering (liveness only, when the application names it).
    #[serde(skip_serializing_if = "Option::is_none")]
    build: Option<BuildInfo>,
}

/// The process is up (no dependency is checked); which build it runs, when known.
#[utoipa::path(
    get, path = "/health", tag = "ops",
    responses((status = 200, description = "Alive", body = Status)),
)]
pub(crate) async fn health(State(state): State<AppState>) -> Json<Status> {
    Json(Status {
        status: "ok",
        down: Vec::new(),
        reason: None,
        build: state.build.clone(),
    })
}

/// Every store answers and the process is not shutting down. The broker is deliberately left
/// out: the outbox keeps events while it is away, so a broker outage must not take the API
/// out of service (watch the outbox lag).
#[utoipa::path(
    get, path = "/ready", tag = "ops",
    responses(
        (status = 200, description = "Ready", body = Status),
        (status = 503, description = "Some dependency is down, or the process is shutting down", body = Status),
    ),
)]
pub(crate) async fn ready(
    State(state): State<AppState>,
    private: Option<Extension<OpsListener>>,
) -> (StatusCode, Json<Status>) {
    if state.draining.is_draining() {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(Status {
                status: "draining",
                down: Vec::new(),
                reason: Some("shutting down: finishing requests in flight".into()),
                build: None,
            }),
        );
    }
    let failures = stores_down(&state).await;
    if failures.is_empty() {
        return (
            StatusCode::OK,
            Json(Status {
                status: "ready",
                down: Vec::new(),
                reason: None,
                build: None,
            }),
        );
    }
    let reason = if private.is_some() {
        failures
            .iter()
            .map(|(name, e)| format!("{name}: {}", shop_core::error::causes(e)))
            .collect::<Vec<_>>()
            .join("; ")
    } else {
        let names: Vec<&str> = failures.iter().map(|(name, _)| *name).collect();
        format!(
            "{} did not answer (the operations listener's /ready and the log say why)",
            names.join(", ")
        )
    };
    (
        StatusCode::SERVICE_UNAVAILABLE,
        Json(Status {
            status: "unavailable",
            down: failures.iter().map(|(name, _)| *name).collect(),
            reason: Some(reason),
            build: None,
        }),
    )
}

/// Marks the requests of the operations listener ([`crate::ops_router`]), which may be told
/// more than the public.
#[derive(Debug, Clone, Copy)]
pub(crate) struct OpsListener;

/// The readiness dependencies that do not answer, with their errors.
async fn stores_down(state: &AppState) -> Vec<(&'static str, shop_core::Error)> {
    let mut down = Vec::new();
    for (name, dep) in state.readiness.iter() {
        if let Err(e) = dep.ping().await {
            down.push((*name, e));
        }
    }
    down
}

/// Prometheus metrics (OpenMetrics text).
#[utoipa::path(
    get, path = "/metrics", tag = "ops",
    responses((status = 200, description = "Metrics: OpenMetrics when the client accepts it (as \
        Prometheus does), else the Prometheus text format 0.0.4",
        content(
            (String = "application/openmetrics-text"),
            (String = "text/plain"),
        ))),
)]
pub(crate) async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> Response {
    // A store that cannot answer leaves the outbox gauges as they were; the scrape succeeds.
    let outbox = state.commerce.outbox_stats().await.ok();
    // What `/ready` would answer now, for alerting on replicas out of service.
    let ready = !state.draining.is_draining() && stores_down(&state).await.is_empty();
    state.metrics.set_ready(ready);
    if let Some(relay) = &state.relay {
        state.metrics.set_relay_counts(relay);
    }
    if let Some(auth) = &state.auth {
        state
            .metrics
            .set_login_throttle_failovers(auth.throttle_failovers());
    }
    let text = state.metrics.render(outbox);
    let openmetrics = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.contains("application/openmetrics-text"));
    if openmetrics {
        return (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static(
                    "application/openmetrics-text; version=1.0.0; charset=utf-8",
                ),
            )],
            text,
        )
            .into_response();
    }
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        crate::metrics::openmetrics_to_text(&text),
    )
        .into_response()
}

/// The OpenAPI document of the mounted routes, rendered for the mount path it was last asked
/// from (a router is almost always mounted in one place, so that is once).
#[derive(Clone)]
pub(crate) struct OpenApiDoc {
    doc: Arc<utoipa::openapi::OpenApi>,
    rendered: Arc<Mutex<(String, Bytes)>>,
}

impl std::fmt::Debug for OpenApiDoc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenApiDoc").finish_non_exhaustive()
    }
}

impl OpenApiDoc {
    pub(crate) fn new(doc: utoipa::openapi::OpenApi) -> Self {
        let rendered = render(&doc, "");
        Self {
            doc: Arc::new(doc),
            rendered: Arc::new(Mutex::new((String::new(), rendered))),
        }
    }

    fn for_mount(&self, mount: &str) -> Bytes {
        let mut rendered = self.rendered.lock();
        if rendered.0 != mount {
            *rendered = (mount.to_owned(), render(&self.doc, mount));
        }
        rendered.1.clone()
    }
}

/// The document as JSON, with a `servers` entry naming `mount` when there is one, so clients
/// (and `/docs`) call the paths where they are served.
fn render(doc: &utoipa::openapi::OpenApi, mount: &str) -> Bytes {
    let mut doc = doc.clone();
    if !mount.is_empty() {
        doc.servers = Some(vec![utoipa::openapi::Server::new(mount)]);
    }
    // Serialising a derived document cannot fail.
    serde_json::to_vec(&doc).unwrap_or_default().into()
}

/// This API's OpenAPI 3.1 document.
#[utoipa::path(
    get, path = "/openapi.json", tag = "ops",
    responses((status = 200, description = "The OpenAPI document", body = Object)),
)]
pub(crate) async fn openapi(Extension(doc): Extension<OpenApiDoc>, mount: MountPath) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        doc.for_mount(&mount.0),
    )
        .into_response()
}
