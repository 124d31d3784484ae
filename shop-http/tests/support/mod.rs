//! Shared test harness: an app over the memory store with auth and reviews, an admin, and a
//! request helper that returns status, headers and JSON.

#![allow(dead_code, unreachable_pub, clippy::unwrap_used)] // each test file uses part of it

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use shop_auth::{
    AccessTokens, AuthService, KeySet, LoginLimits, MemoryThrottle, PasswordParams, Passwords,
    TokenPolicy,
};
use shop_core::{RefreshTokenStore, ReviewStore, Role, ShopStore, UserStore};
use shop_http::{AppState, HttpConfig, router};
use shop_store::MemoryStore;
use tower::ServiceExt;

pub const ADMIN_EMAIL: &str = "admin@example.com";
pub const PASSWORD: &str = "a long passphrase";

/// Cheap Argon2 parameters: tests exercise the flow, not the cost.
pub fn auth_service(
    users: Arc<dyn UserStore>,
    tokens: Arc<dyn RefreshTokenStore>,
    max_login_failures: usize,
) -> AuthService {
    AuthService::new(
        users,
        tokens,
        Passwords::new(PasswordParams {
            memory_kib: 64,
            iterations: 1,
            parallelism: 1,
        })
        .unwrap(),
        Arc::new(AccessTokens::new(
            KeySet::hs256("k", b"test secret, thirty-two bytes long!").unwrap(),
            TokenPolicy::default(),
        )),
        Arc::new(MemoryThrottle::new(Duration::from_secs(600))),
    )
    .with_login_limits({
        let mut config = LoginLimits::default();
        config.per_email = max_login_failures;
        config.per_client = max_login_failures;
        config
    })
}

/// Full state over one store that holds everything; an admin account exists.
pub async fn state_over<S: ShopStore + 'static>(store: Arc<S>) -> AppState {
    let auth = auth_service(store.clone(), store.clone(), 5);
    auth.register_with_roles(
        &shop_auth::RegisterInput {
            email: ADMIN_EMAIL.into(),
            password: PASSWORD.into(),
            display_name: "Admin".into(),
        },
        BTreeSet::from([Role::Admin]),
    )
    .await
    .unwrap();
    let reviews: Arc<dyn ReviewStore> = store.clone();
    AppState::new(store).with_auth(auth).with_reviews(reviews)
}

pub struct TestApp {
    pub router: axum::Router,
    /// The operations listener's routes (`/metrics`) over the same state.
    pub ops: axum::Router,
    pub store: Arc<MemoryStore>,
}

pub async fn app() -> TestApp {
    let store = Arc::new(MemoryStore::new());
    let state = state_over(store.clone()).await;
    TestApp {
        ops: shop_http::ops_router(state.clone()),
        router: router(state, &HttpConfig::default()),
        store,
    }
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Reply {
    /// Asserts the status, printing the body when it differs.
    #[track_caller]
    pub fn expect(self, status: StatusCode) -> Self {
        assert_eq!(self.status, status, "body: {}", self.text);
        self
    }

    /// Asserts a problem document with this status and code.
    #[track_caller]
    pub fn problem(self, status: StatusCode, code: &str) -> Self {
        assert_eq!(self.status, status, "body: {}", self.text);
        assert_eq!(
            self.headers["content-type"], "application/problem+json",
            "{}",
            self.text
        );
        assert_eq!(self.body["code"], code, "body: {}", self.text);
        assert_eq!(self.body["status"], status.as_u16());
        self
    }
}

pub async fn send(
    app: &axum::Router,
    method: Method,
    uri: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> Reply {
    send_with(app, method, uri, token, body, &[]).await
}

pub async fn send_with(
    app: &axum::Router,
    method: Method,
    uri: &str,
    token: Option<&str>,
    body: Option<&Value>,
    headers: &[(&str, &str)],
) -> Reply {
    let mut req = Request::builder().method(method).uri(uri);
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let req = match body {
        Some(b) => req
            .header("content-type", "application/json")
            .body(Body::from(b.to_string())),
        None => req.body(Body::empty()),
    }
    .unwrap();
    let res = app.clone().oneshot(req).await.unwrap();
    let (parts, body) = res.into_parts();
    let bytes = body.collect().await.unwrap().to_bytes();
    let text = String::from_utf8_lossy(&bytes).into_owned();
    Reply {
        status: parts.status,
        headers: parts.headers,
        body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        text,
    }
}

/// Registers (unless the account exists) and signs in; returns the access token.
pub async fn sign_in(app: &axum::Router, email: &str) -> String {
    sign_in_under(app, email, "").await
}

/// [`sign_in`] to an app served under `root` (e.g. `/shop`).
pub async fn sign_in_under(app: &axum::Router, email: &str, root: &str) -> String {
    let _ = send(
        app,
        Method::POST,
        &format!("{root}/api/auth/register"),
        None,
        Some(&json!({ "email": email, "password": PASSWORD, "display_name": email.split('@').next().unwrap() })),
    )
    .await;
    let r = send(
        app,
        Method::POST,
        &format!("{root}/api/auth/login"),
        None,
        Some(&json!({ "email": email, "password": PASSWORD })),
    )
    .await
    .expect(StatusCode::OK);
    r.body["access_token"].as_str().unwrap().to_owned()
}

pub async fn admin_token(app: &axum::Router) -> String {
    sign_in(app, ADMIN_EMAIL).await
}

/// Creates a product through the API (as admin) and returns it.
pub async fn create_product(
    app: &axum::Router,
    admin: &str,
    sku: &str,
    price: i64,
    stock: i64,
) -> Value {
    send(
        app,
        Method::POST,
        "/api/products",
        Some(admin),
        Some(&json!({
            "sku": sku, "name": format!("Product {sku}"), "price_minor": price,
            "currency": "EUR", "stock": stock, "description": "A thing",
            "image_url": "https://img.example/p.png"
        })),
    )
    .await
    .expect(StatusCode::CREATED)
    .body
}
