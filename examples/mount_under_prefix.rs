//! Mounting the shop API under `/shop` in an axum app that has its own routes and its own
//! fallback.
//!
//! ```text
//! cargo run -p shop-examples --example mount_under_prefix      # then open http://127.0.0.1:3000/
//! ```
//!
//! What to notice:
//! - [`ShopApi`] gives a `Router` without a fallback, so it merges into an app that has one.
//! - `.prefix("/shop")` puts the routes under `/shop`, and `/shop/openapi.json` then names
//!   `/shop` as its server, so generated clients and Swagger UI call the right paths. (Nesting
//!   with `Router::nest("/shop", …)` instead works the same way; see the tests.)
//! - `.with_stack(..)` brings the shop's hardened middleware for the shop's routes only.
//! - Serve with `into_make_service_with_connect_info::<SocketAddr>()`: the login throttle and
//!   the access log need the client's address.
//! - The outbox fills with events as orders are placed: run an `OutboxRelay` (see
//!   `relay_and_consumer.rs`) or they pile up.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;
use shop_http::{AppState, HttpConfig, RouteGroup, ShopApi};
use shop_store::MemoryStore;

/// The team's app: its own pages and 404, with the shop under `/shop`.
fn app(shop_state: AppState) -> Router {
    let shop = ShopApi::new(shop_state)
        .groups([
            RouteGroup::Catalog,
            RouteGroup::Cart,
            RouteGroup::Orders,
            RouteGroup::Ops,
        ])
        .prefix("/shop")
        .with_stack(&HttpConfig::default())
        .into_router();
    Router::new()
        .route(
            "/",
            get(|| async { "Welcome to our site. The shop is at /shop/api/products." }),
        )
        .route("/about", get(|| async { "About us" }))
        .merge(shop)
        .fallback(|| async { (StatusCode::NOT_FOUND, "Nothing here (our own 404 page)") })
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let state = AppState::new(Arc::new(MemoryStore::new()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
    axum::serve(
        listener,
        app(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // test code

    use axum::body::Body;
    use axum::http::Request;
    use http_body_util::BodyExt;
    use serde_json::Value;
    use tower::ServiceExt;

    use super::*;

    async fn get_text(app: &Router, uri: &str) -> (StatusCode, String) {
        let res = app
            .clone()
            .oneshot(Request::get(uri).body(Body::empty()).unwrap())
            .await
            .unwrap();
        let status = res.status();
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        (status, String::from_utf8(bytes.to_vec()).unwrap())
    }

    fn state() -> AppState {
        AppState::new(Arc::new(MemoryStore::new()))
    }

    #[tokio::test]
    async fn the_apps_own_routes_and_fallback_stay_its_own() {
        let app = app(state());
        assert_eq!(
            get_text(&app, "/about").await,
            (StatusCode::OK, "About us".into())
        );
        let (status, text) = get_text(&app, "/no-such-page").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert!(text.contains("our own 404"));
        // Only the chosen groups: no accounts here.
        let (status, text) = get_text(&app, "/shop/api/auth/login").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert!(text.contains("our own 404"));
    }

    #[tokio::test]
    async fn the_shop_answers_under_shop_and_documents_that() {
        let app = app(state());
        let (status, text) = get_text(&app, "/shop/api/products").await;
        assert_eq!(status, StatusCode::OK, "{text}");
        let (_, text) = get_text(&app, "/shop/openapi.json").await;
        let doc: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(doc["servers"][0]["url"], "/shop");
        assert!(doc["paths"]["/api/cart"].is_object());
        assert!(doc["paths"]["/api/auth/login"].is_null());
    }

    #[tokio::test]
    async fn nesting_instead_of_a_prefix_documents_the_nest_path() {
        let app: Router = Router::new()
            .nest("/store", ShopApi::new(state()).into_router())
            .fallback(|| async { "ours" });
        let (_, text) = get_text(&app, "/store/openapi.json").await;
        let doc: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(doc["servers"][0]["url"], "/store");
        assert_eq!(get_text(&app, "/store/nope").await.1, "ours");
    }
}
