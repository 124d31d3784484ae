//! The API as a building block of someone else's axum app: merged under a prefix, nested, a
//! choice of route groups, its own fallback kept, the OpenAPI `servers` entry and `Location`
//! headers following the mount, the caller-chosen token rejection, and the JWKS that lets
//! another service verify tokens without a secret.

#![allow(clippy::unwrap_used)] // test code

mod support;

use std::sync::Arc;

use axum::Router;
use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use shop_auth::{
    AccessTokens, AuthService, KeySet, MemoryThrottle, PasswordParams, Passwords, TokenPolicy,
};
use shop_http::{HttpConfig, RouteGroup, ShopApi};
use shop_store::MemoryStore;
use support::{ADMIN_EMAIL, send, send_with, sign_in_under};

/// An app of the embedder's: its own home page and its own (plain text) fallback.
fn host_app(shop: Router) -> Router {
    Router::new()
        .route("/", axum::routing::get(|| async { "host home" }))
        .merge(shop)
        .fallback(|| async { (StatusCode::NOT_FOUND, "host 404") })
}

async fn state() -> shop_http::AppState {
    support::state_over(Arc::new(MemoryStore::new())).await
}

fn server_urls(doc: &Value) -> Vec<String> {
    doc["servers"]
        .as_array()
        .map(|s| {
            s.iter()
                .map(|s| s["url"].as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn merged_under_a_prefix_beside_the_hosts_routes_and_fallback() {
    let app = host_app(ShopApi::new(state().await).prefix("/shop").into_router());
    assert_eq!(
        send(&app, Method::GET, "/", None, None).await.text,
        "host home"
    );
    let missing = send(&app, Method::GET, "/nowhere", None, None).await;
    assert_eq!(
        (missing.status, missing.text.as_str()),
        (StatusCode::NOT_FOUND, "host 404")
    );
    send(&app, Method::GET, "/shop/api/products", None, None)
        .await
        .expect(StatusCode::OK);
    send(&app, Method::GET, "/api/products", None, None)
        .await
        .expect(StatusCode::NOT_FOUND);
    let doc = send(&app, Method::GET, "/shop/openapi.json", None, None)
        .await
        .expect(StatusCode::OK);
    assert_eq!(server_urls(&doc.body), ["/shop"]);
    assert!(doc.body["paths"]["/api/products"].is_object());

    // The bearer token is read for the shop's routes, and a bad one is the shop's problem.
    let admin = sign_in_under(&app, ADMIN_EMAIL, "/shop").await;
    send(&app, Method::GET, "/shop/api/users/me", Some(&admin), None)
        .await
        .expect(StatusCode::OK);
    let refused = send(&app, Method::GET, "/shop/api/cart", Some("forged"), None)
        .await
        .problem(StatusCode::UNAUTHORIZED, "invalid_token");
    assert_eq!(refused.headers["content-type"], "application/problem+json");
    assert_eq!(
        refused.headers["www-authenticate"],
        r#"Bearer error="invalid_token""#
    );
}

#[tokio::test]
async fn nested_the_document_and_links_follow_the_nest_path() {
    let shop = ShopApi::new(state().await).into_router();
    let app = Router::new()
        .nest("/store", shop)
        .fallback(|| async { (StatusCode::NOT_FOUND, "host 404") });
    let doc = send(&app, Method::GET, "/store/openapi.json", None, None)
        .await
        .expect(StatusCode::OK);
    assert_eq!(server_urls(&doc.body), ["/store"]);
    let admin = sign_in_under(&app, ADMIN_EMAIL, "/store").await;
    let created = send(
        &app,
        Method::POST,
        "/store/api/products",
        Some(&admin),
        Some(&json!({"sku": "NEST-1", "name": "Nested", "price_minor": 100, "currency": "EUR", "stock": 3})),
    )
    .await
    .expect(StatusCode::CREATED);
    let id = created.body["id"].as_str().unwrap();
    assert_eq!(
        created.headers["location"],
        format!("/store/api/products/{id}")
    );
    let missing = send(&app, Method::GET, "/store/nowhere", None, None).await;
    assert_eq!(
        (missing.status, missing.text.as_str()),
        (StatusCode::NOT_FOUND, "host 404")
    );

    // A prefix inside a nest: both parts are in the document's server.
    let app = Router::new().nest(
        "/outer",
        ShopApi::new(state().await).prefix("/shop").into_router(),
    );
    let doc = send(&app, Method::GET, "/outer/shop/openapi.json", None, None)
        .await
        .expect(StatusCode::OK);
    assert_eq!(server_urls(&doc.body), ["/outer/shop"]);
    // Served at the root, the document names no server.
    let app = host_app(ShopApi::new(state().await).into_router());
    let doc = send(&app, Method::GET, "/openapi.json", None, None)
        .await
        .expect(StatusCode::OK);
    assert!(server_urls(&doc.body).is_empty());
}

#[tokio::test]
async fn only_the_chosen_groups_are_served_and_documented() {
    let api = ShopApi::new(state().await).groups([RouteGroup::Catalog, RouteGroup::Ops]);
    let doc = api.openapi();
    let paths: Vec<&String> = doc.paths.paths.keys().collect();
    assert!(paths.iter().any(|p| p.starts_with("/api/products")));
    assert!(paths.iter().all(|p| !p.starts_with("/api/cart")
        && !p.starts_with("/api/orders")
        && !p.starts_with("/api/auth")
        && *p != "/api/checkout"));
    let app = host_app(api.into_router());
    send(&app, Method::GET, "/api/products", None, None)
        .await
        .expect(StatusCode::OK);
    for path in ["/api/cart", "/api/orders", "/.well-known/jwks.json"] {
        let r = send(&app, Method::GET, path, None, None).await;
        assert_eq!(
            (r.status, r.text.as_str()),
            (StatusCode::NOT_FOUND, "host 404"),
            "{path}"
        );
    }
    let served = send(&app, Method::GET, "/openapi.json", None, None).await;
    assert!(served.body["paths"]["/api/cart"].is_null());
}

#[tokio::test]
async fn with_the_stack_the_routes_get_request_ids_and_security_headers() {
    let bare = host_app(ShopApi::new(state().await).into_router());
    let r = send(&bare, Method::GET, "/health", None, None).await;
    assert!(!r.headers.contains_key("x-request-id"));
    let full = host_app(
        ShopApi::new(state().await)
            .with_stack(&HttpConfig::default())
            .into_router(),
    );
    let r = send_with(
        &full,
        Method::GET,
        "/health",
        None,
        None,
        &[("x-request-id", "abc")],
    )
    .await;
    assert_eq!(r.headers["x-request-id"], "abc");
    assert_eq!(r.headers["x-content-type-options"], "nosniff");
    // The host's own routes are not wrapped.
    let home = send(&full, Method::GET, "/", None, None).await;
    assert!(!home.headers.contains_key("x-content-type-options"));
}

#[tokio::test]
async fn another_service_verifies_tokens_with_the_published_jwks_alone() {
    const ED: &[u8] = include_bytes!("../../shop-auth/tests/keys/ed25519-a.pem");
    const ED_PUB: &[u8] = include_bytes!("../../shop-auth/tests/keys/ed25519-a.pub.pem");
    let store = Arc::new(MemoryStore::new());
    let tokens = Arc::new(AccessTokens::new(
        KeySet::ed25519_pem("2026-12", ED, ED_PUB).unwrap(),
        TokenPolicy::default(),
    ));
    let passwords = Passwords::new(PasswordParams {
        memory_kib: 64,
        iterations: 1,
        parallelism: 1,
    })
    .unwrap();
    let throttle = Arc::new(MemoryThrottle::default());
    let auth = AuthService::new(store.clone(), store.clone(), passwords, tokens, throttle);
    let state = shop_http::AppState::new(store).with_auth(auth);
    let app = host_app(ShopApi::new(state).into_router());
    let jwks = send(&app, Method::GET, "/.well-known/jwks.json", None, None)
        .await
        .expect(StatusCode::OK);
    assert_eq!(jwks.body["keys"][0]["kid"], "2026-12");
    assert_eq!(jwks.body["keys"][0]["alg"], "EdDSA");
    assert!(jwks.body["keys"][0]["d"].is_null(), "no private part");
    assert_eq!(jwks.headers["cache-control"], "public, max-age=300");

    let verifier = AccessTokens::new(
        KeySet::from_jwks_json(jwks.text.as_bytes()).unwrap(),
        TokenPolicy::default(),
    );
    let token = sign_in_under(&app, "pat@example.com", "").await;
    let me = send(&app, Method::GET, "/api/users/me", Some(&token), None)
        .await
        .expect(StatusCode::OK);
    let principal = verifier.verify(&token).unwrap();
    assert_eq!(
        principal.user_id.to_string(),
        me.body["id"].as_str().unwrap()
    );
}
