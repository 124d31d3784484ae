//! # shop-http
//!
//! The shop REST API as a Tower service: [`router`] returns an axum [`Router`] over any
//! shop-core stores, which tests call in-process (`tower::ServiceExt::oneshot`) and a binary
//! serves with hyper.
//!
//! Every response passes through one middleware stack: request ID (`x-request-id`, generated
//! when absent, echoed), a tracing span per request, a concurrency limit that sheds load with
//! an immediate `503` instead of queueing, a request timeout (`503`), a body size limit (`413`),
//! gzip compression, CORS for configured origins, and security headers. Every error is
//! `application/problem+json` ([`ApiError`]).
//!
//! Status of this crate: ops (`/health`, `/ready`), auth (`/api/auth/register|login|refresh|
//! logout`) and catalog reads are served; the rest of the API (profile, catalog writes,
//! reviews, cart, checkout, orders, metrics, OpenAPI) is still to be added.

pub mod error;
mod routes;
pub mod state;

use std::time::Duration;

use axum::Router;
use axum::error_handling::HandleErrorLayer;
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::routing::{get, post};
use shop_auth::AuthLayer;
use tower::ServiceBuilder;
use tower::load_shed::error::Overloaded;
use tower::timeout::error::Elapsed;
use tower_http::compression::CompressionLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

pub use error::ApiError;
pub use state::{AppState, HttpConfig};

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
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such route")
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

/// The whole API with its middleware, under `config.root_path`.
pub fn router(state: AppState, config: &HttpConfig) -> Router {
    let auth_layer = state
        .auth
        .as_ref()
        .map(|a| AuthLayer::new(a.access_tokens().clone()));
    let api = Router::new()
        .route("/health", get(routes::ops::health))
        .route("/ready", get(routes::ops::ready))
        .route("/api/auth/register", post(routes::auth::register))
        .route("/api/auth/login", post(routes::auth::login))
        .route("/api/auth/refresh", post(routes::auth::refresh))
        .route("/api/auth/logout", post(routes::auth::logout))
        .route("/api/products", get(routes::catalog::list))
        .route("/api/products/{key}", get(routes::catalog::get))
        .with_state(state);
    // Bearer tokens are verified once, for every route; handlers read the `Principal`.
    let api = match auth_layer {
        Some(layer) => api.layer(layer),
        None => api,
    };
    let root = config.root_path.trim_end_matches('/');
    let app = if root.is_empty() {
        api
    } else {
        Router::new().nest(root, api)
    };
    let security = ServiceBuilder::new()
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ));
    app.fallback(no_route).layer(
        ServiceBuilder::new()
            .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
            .layer(TraceLayer::new_for_http())
            .layer(PropagateRequestIdLayer::x_request_id())
            .layer(security)
            .layer(cors(&config.cors_origins))
            .layer(HandleErrorLayer::new(middleware_error))
            .load_shed()
            .concurrency_limit(config.concurrency_limit.max(1))
            .timeout(config.request_timeout)
            .layer(RequestBodyLimitLayer::new(config.body_limit))
            .layer(CompressionLayer::new()),
    )
}
