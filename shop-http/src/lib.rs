//! # shop-http
//!
//! The shop REST API as a Tower service: [`router`] returns an axum [`Router`] over any
//! shop-core stores, which tests call in-process (`tower::ServiceExt::oneshot`) and [`serve`]
//! serves on hyper with a header-read timeout and a connection cap.
//!
//! Every response passes through one middleware stack: request ID (`x-request-id`, generated
//! when absent, echoed), the client's address ([`ClientAddrLayer`]), a tracing span per
//! request, the [access log](access_log) (one `info` line per request), metrics, security
//! headers, CORS for configured origins, a concurrency limit for
//! the whole process that sheds load with an immediate `503` instead of queueing, a request
//! timeout (`503`), a body size limit (`413`), gzip compression. Every error the app produces
//! is `application/problem+json` ([`ApiError`]) with a stable `code`, the same for the same
//! mistake on every route.
//!
//! Routes (under [`HttpConfig::root_path`]); the whole contract is in the OpenAPI 3.1
//! document served at `/openapi.json` (also [`openapi`]):
//!
//! | area | routes |
//! |---|---|
//! | auth | `POST /api/auth/register`, `/login`, `/refresh`, `/logout`; `GET /.well-known/jwks.json` |
//! | profile | `GET`/`PATCH /api/users/me`, `POST /api/users/me/password` |
//! | catalog | `GET /api/products`, `GET /api/products/{id-or-slug}`; admin: `POST /api/products`, `PATCH`/`DELETE /api/products/{id}`, `POST /api/products/{id}/stock` |
//! | reviews | `GET`/`POST /api/products/{id}/reviews` |
//! | cart | `GET`/`DELETE /api/cart`, `POST /api/cart/items`, `PATCH`/`DELETE /api/cart/items/{product_id}` |
//! | checkout | `POST /api/checkout` with an `Idempotency-Key` header |
//! | orders | `GET /api/orders`, `GET /api/orders/{id}`, `POST /api/orders/{id}/cancel`; admin: `PUT /api/orders/{id}/status` |
//! | ops | `GET /health`, `/ready`, `/openapi.json` |
//!
//! `GET /metrics` (revenue, login counters: for operators only) is not among them: serve
//! [`ops_router`] on a listener of its own that only the monitoring can reach.
//!
//! To mount some of these routes in an app of your own, see [`ShopApi`]; for handlers of your
//! own beside them, [`extract`] and [`idempotency`].
//!
//! ```
//! use std::sync::Arc;
//! use axum::body::Body;
//! use axum::http::{Request, StatusCode};
//! use shop_http::{AppState, HttpConfig, router};
//! use shop_store::MemoryStore;
//! use tower::ServiceExt;
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let app = router(AppState::new(Arc::new(MemoryStore::new())), &HttpConfig::default());
//! let res = app.clone().oneshot(Request::get("/api/products").body(Body::empty())?).await?;
//! assert_eq!(res.status(), StatusCode::OK);
//! let res = app.oneshot(Request::get("/nowhere").body(Body::empty())?).await?;
//! assert_eq!(res.status(), StatusCode::NOT_FOUND);
//! assert_eq!(res.headers()["content-type"], "application/problem+json");
//! // Serve it: `shop_http::serve(listener, app, &config, shutdown)`.
//! # Ok::<(), Box<dyn std::error::Error>>(()) }).unwrap();
//! ```

pub mod access_log;
mod api;
pub mod client_addr;
pub mod error;
pub mod extract;
pub mod idempotency;
pub mod metrics;
mod openapi;
mod routes;
mod serve;
pub mod state;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::error_handling::HandleErrorLayer;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tower::ServiceBuilder;
use tower::limit::GlobalConcurrencyLimitLayer;
use tower::load_shed::error::Overloaded;
use tower::timeout::error::Elapsed;
use tower_http::compression::CompressionLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

pub use access_log::ACCESS_LOG_TARGET;
pub use api::{RouteGroup, ShopApi};
pub use client_addr::{ClientAddr, ClientAddrLayer, TrustedProxies};
pub use error::{ApiError, ProblemDetails};
pub use metrics::{LoginOutcome, Metrics};
pub use serve::serve;
pub use state::{AppState, BuildInfo, Draining, HttpConfig, SharedState};

/// Maps middleware failures (load shedding, timeout) to problem responses.
async fn middleware_error(err: tower::BoxError) -> ApiError {
    if err.is::<Overloaded>() {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "overloaded",
            "the server is at capacity; retry shortly",
        )
    } else if err.is::<Elapsed>() {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "timeout",
            "the request took too long",
        )
    } else {
        tracing::error!(error = %err, "middleware failure");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error",
        )
    }
}

async fn no_route() -> ApiError {
    ApiError::no_route()
}

async fn method_not_allowed() -> ApiError {
    ApiError::method_not_allowed()
}

/// Refuses a body whose declared length is over the limit before reading any of it; bodies
/// without a declared length (chunked) are cut off at the limit by the extractors
/// (`DefaultBodyLimit`), with the same problem.
async fn refuse_declared_oversize(
    axum::extract::State(limit): axum::extract::State<usize>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    match declared {
        Some(n) if n > limit as u64 => ApiError::body_too_large(limit).into_response(),
        _ => next.run(req).await,
    }
}

fn cors(origins: &[String]) -> CorsLayer {
    let allowed: Vec<HeaderValue> = origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o).ok())
        .collect();
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(allowed))
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
        ])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            HeaderName::from_static("idempotency-key"),
        ])
        .max_age(Duration::from_secs(600))
}

/// The OpenAPI 3.1 document of every route [`router`] serves (paths without a root path).
#[must_use]
pub fn openapi() -> utoipa::openapi::OpenApi {
    api::routes_of(&RouteGroup::PUBLIC).1
}

/// The API's answer to a refused bearer token, given to the [`AuthLayer`]: a problem
/// document (with the RFC 6750 challenge). The reason stays in the layer's debug log.
fn refuse_token(_: &shop_auth::AuthError) -> Response {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "invalid_token",
        "the access token is invalid or expired",
    )
    .into_response()
}

/// The security headers every response gets. One function rather than a layer per header:
/// `Router::layer` clones a route's whole stack for every request, so each layer costs.
fn security_headers<B>(mut res: axum::http::Response<B>) -> axum::http::Response<B> {
    let headers = res.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    // A response may set its own (the storefront's pages do).
    headers
        .entry(header::CONTENT_SECURITY_POLICY)
        .or_insert(HeaderValue::from_static(
            "default-src 'none'; frame-ancestors 'none'",
        ));
    headers
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    res
}

/// One span per request: method, path, the request ID and the client's address.
fn request_span<B>(req: &axum::http::Request<B>) -> tracing::Span {
    let request_id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let client = req
        .extensions()
        .get::<ClientAddr>()
        .map(|c| tracing::field::display(c.0));
    let span = tracing::info_span!(
        "request",
        otel.kind = "server",
        method = %req.method(),
        uri = %req.uri(),
        request_id,
        client,
    );
    #[cfg(feature = "otel")]
    continue_incoming_trace(&span, req.headers());
    span
}

/// Makes `span` a child of the caller's span when the request carries a W3C `traceparent`.
#[cfg(feature = "otel")]
fn continue_incoming_trace(span: &tracing::Span, headers: &axum::http::HeaderMap) {
    use tracing_opentelemetry::OpenTelemetrySpanExt;

    struct Headers<'a>(&'a axum::http::HeaderMap);
    impl opentelemetry::propagation::Extractor for Headers<'_> {
        fn get(&self, key: &str) -> Option<&str> {
            self.0.get(key).and_then(|v| v.to_str().ok())
        }
        fn keys(&self) -> Vec<&str> {
            self.0.keys().map(axum::http::HeaderName::as_str).collect()
        }
    }
    if headers.contains_key("traceparent") {
        let parent =
            opentelemetry::global::get_text_map_propagator(|p| p.extract(&Headers(headers)));
        // Fails only for a span already started, which this one, just made, is not.
        let _ = span.set_parent(parent);
    }
}

/// The whole API with its middleware, under `config.root_path`, with problem documents for
/// unknown routes and methods. To mount only some routes, or inside an app of your own, see
/// [`ShopApi`].
pub fn router(state: AppState, config: &HttpConfig) -> Router {
    router_with(state, config, Router::new())
}

/// [`router`], with `extra` routes served beside the API: under the same root path and the
/// same outer middleware (request IDs, client address, tracing, metrics, load shedding,
/// timeout, body limit, compression, security headers — set your own
/// `Content-Security-Policy` and `Cache-Control` on a response to replace the API's). Bearer
/// tokens are not read for them. The reference app serves its storefront this way.
///
/// # Panics
/// When a route of `extra` collides with one of the API's.
pub fn router_with(state: AppState, config: &HttpConfig, extra: Router) -> Router {
    let metrics = state.metrics.clone();
    let api = ShopApi::new(state).into_routes().merge(extra);
    let root = config.root_path.trim_end_matches('/');
    let app = if root.is_empty() {
        api
    } else {
        // `/shop/` is where a person expects `/shop` to be: send them there, query and all
        // (`/shop/?q=mug` is a search a person may bookmark).
        let bare = root.to_owned();
        Router::new()
            .route(
                &format!("{root}/"),
                axum::routing::get(move |uri: axum::http::Uri| async move {
                    let target = match uri.query() {
                        Some(query) => format!("{bare}?{query}"),
                        None => bare,
                    };
                    axum::response::Redirect::permanent(&target)
                }),
            )
            .nest(root, api)
    };
    wrap_in_stack(
        app.fallback(no_route)
            .method_not_allowed_fallback(method_not_allowed),
        &metrics,
        config,
    )
}

/// The operations endpoints for a private listener (a port the balancer and the Ingress do
/// not route to, that the monitoring scrapes): `GET /metrics`, and `/health` and `/ready` so
/// that probes may use it too. Nothing else, and no middleware: no access-log line per
/// scrape, no request counted in the metrics it serves.
///
/// ```
/// # use std::sync::Arc;
/// # use shop_http::{AppState, ops_router};
/// # use shop_store::MemoryStore;
/// let state = AppState::new(Arc::new(MemoryStore::new()));
/// let ops = ops_router(state);
/// // axum::serve(tokio::net::TcpListener::bind("0.0.0.0:9090").await?, ops)
/// ```
pub fn ops_router(state: AppState) -> Router {
    use axum::routing::get;
    Router::new()
        .route("/metrics", get(routes::ops::metrics))
        .route("/health", get(routes::ops::health))
        .route("/ready", get(routes::ops::ready))
        .with_state(state)
        .fallback(no_route)
        .layer(axum::Extension(routes::ops::OpsListener))
}

/// `router` inside the shop's middleware stack (see the crate docs).
fn wrap_in_stack(router: Router, metrics: &Arc<Metrics>, config: &HttpConfig) -> Router {
    // `Router::layer` wraps every route (and the fallbacks) on its own, which lets these
    // layers see the matched route; what must be shared by all of them — the concurrency
    // limit — is one semaphore for the whole router (`GlobalConcurrencyLimitLayer`).
    router.layer(
        ServiceBuilder::new()
            .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
            .layer(ClientAddrLayer::new(config.trusted_proxies.clone()))
            .layer(TraceLayer::new_for_http().make_span_with(request_span))
            .layer(axum::middleware::from_fn(access_log::log))
            // Outside the error handler: shed, timed-out and oversized requests count.
            .layer(axum::middleware::from_fn_with_state(
                metrics.clone(),
                metrics::track,
            ))
            .layer(PropagateRequestIdLayer::x_request_id())
            .map_response(security_headers)
            .layer(cors(&config.cors_origins))
            .layer(HandleErrorLayer::new(middleware_error))
            .load_shed()
            .layer(GlobalConcurrencyLimitLayer::new(
                config.concurrency_limit.max(1),
            ))
            .timeout(config.request_timeout)
            .layer(axum::middleware::from_fn_with_state(
                config.body_limit,
                refuse_declared_oversize,
            ))
            .layer(DefaultBodyLimit::max(config.body_limit))
            .layer(CompressionLayer::new()),
    )
}
