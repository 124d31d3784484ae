//! The auth routes in-process: status codes, problem bodies, throttling with Retry-After,
//! refresh rotation and reuse, and malformed requests.

#![allow(clippy::unwrap_used)] // test code

mod support;

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use shop_http::{AppState, HttpConfig, router};
use shop_store::MemoryStore;
use tower::ServiceExt;

fn app() -> axum::Router {
    app_and_ops().0
}

/// The public router and the operations one (`/metrics`) over the same state.
fn app_and_ops() -> (axum::Router, axum::Router) {
    let store = Arc::new(MemoryStore::new());
    let auth = support::auth_service(store.clone(), store.clone(), 3);
    let state = AppState::new(store).with_auth(auth);
    (
        router(state.clone(), &HttpConfig::default()),
        shop_http::ops_router(state),
    )
}

async fn post(
    app: &axum::Router,
    uri: &str,
    body: &Value,
) -> (StatusCode, axum::http::HeaderMap, Value) {
    raw(app, uri, "application/json", body.to_string()).await
}

async fn raw(
    app: &axum::Router,
    uri: &str,
    content_type: &str,
    body: String,
) -> (StatusCode, axum::http::HeaderMap, Value) {
    let req = Request::post(uri)
        .header("content-type", content_type)
        .body(Body::from(body))
        .unwrap();
    let res = app.clone().oneshot(req).await.unwrap();
    let (parts, body) = res.into_parts();
    let bytes = body.collect().await.unwrap().to_bytes();
    (
        parts.status,
        parts.headers,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

fn ada() -> Value {
    json!({ "email": "ada@example.com", "password": "a long passphrase", "display_name": "Ada" })
}

#[tokio::test]
async fn register_login_refresh_logout() {
    let app = app();
    let (status, _, user) = post(&app, "/api/auth/register", &ada()).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(user["email"], "ada@example.com");
    assert!(user.get("password_hash").is_none() && !user.to_string().contains("argon2"));

    let (status, _, session) = post(
        &app,
        "/api/auth/login",
        &json!({ "email": "ADA@example.com", "password": "a long passphrase" }),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(session["token_type"], "Bearer");
    assert_eq!(session["expires_in"], 900);
    let first = session["refresh_token"].as_str().unwrap().to_owned();

    let (status, _, next) = post(
        &app,
        "/api/auth/refresh",
        &json!({ "refresh_token": first }),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let second = next["refresh_token"].as_str().unwrap().to_owned();
    let (status, _, problem) = post(
        &app,
        "/api/auth/refresh",
        &json!({ "refresh_token": first }),
    )
    .await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("refresh_token_reused"))
    );
    let (status, _, problem) = post(
        &app,
        "/api/auth/refresh",
        &json!({ "refresh_token": second }),
    )
    .await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("invalid_refresh_token"))
    );

    let (_, _, again) = post(
        &app,
        "/api/auth/login",
        &json!({ "email": "ada@example.com", "password": "a long passphrase" }),
    )
    .await;
    let token = again["refresh_token"].as_str().unwrap().to_owned();
    let (status, _, _) = post(&app, "/api/auth/logout", &json!({ "refresh_token": token })).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _, _) = post(
        &app,
        "/api/auth/refresh",
        &json!({ "refresh_token": token }),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn registration_errors_are_problems() {
    let app = app();
    post(&app, "/api/auth/register", &ada()).await;
    let (status, headers, p) = post(&app, "/api/auth/register", &ada()).await;
    assert_eq!(
        (status, p["code"].as_str()),
        (StatusCode::CONFLICT, Some("email_taken"))
    );
    assert_eq!(headers["content-type"], "application/problem+json");
    let bad = json!({ "email": "nope", "password": "short", "display_name": "" });
    let (status, _, p) = post(&app, "/api/auth/register", &bad).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<&str> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert!(
        fields.contains(&"email") && fields.contains(&"display_name"),
        "{p}"
    );
}

#[tokio::test]
async fn wrong_credentials_then_throttling_with_retry_after() {
    let (app, ops) = app_and_ops();
    post(&app, "/api/auth/register", &ada()).await;
    for _ in 0..3 {
        let (status, _, p) = post(
            &app,
            "/api/auth/login",
            &json!({ "email": "ada@example.com", "password": "wrong one" }),
        )
        .await;
        assert_eq!(
            (status, p["code"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("invalid_credentials"))
        );
    }
    let (status, headers, p) = post(
        &app,
        "/api/auth/login",
        &json!({ "email": "ada@example.com", "password": "a long passphrase" }),
    )
    .await;
    assert_eq!(
        (status, p["code"].as_str()),
        (StatusCode::TOO_MANY_REQUESTS, Some("throttled"))
    );
    let secs: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=600).contains(&secs), "{secs}");
    // Each outcome is counted for the operator's dashboards and alerts.
    let res = ops
        .oneshot(Request::get("/metrics").body(Body::empty()).unwrap())
        .await
        .unwrap();
    let text =
        String::from_utf8(res.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap();
    for line in [
        r#"shop_logins_total{outcome="failed"} 3"#,
        r#"shop_logins_total{outcome="throttled"} 1"#,
        r#"shop_logins_total{outcome="succeeded"} 0"#,
    ] {
        assert!(text.contains(line), "{line} in\n{text}");
    }
}

#[tokio::test]
async fn malformed_requests_are_4xx_never_5xx() {
    let app = app();
    let cases = [
        (
            "application/json",
            "{not json".to_owned(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "text/plain",
            ada().to_string(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ),
        (
            "application/json",
            json!({ "email": "a@b.co", "password": "x", "display_name": "A", "admin": true })
                .to_string(),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "application/json",
            json!({ "email": 5 }).to_string(),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "application/json",
            format!("{{\"email\":\"{}\"}}", "a".repeat(70 * 1024)),
            StatusCode::PAYLOAD_TOO_LARGE,
        ),
    ];
    for (content_type, body, want) in cases {
        let (status, headers, _) = raw(&app, "/api/auth/register", content_type, body).await;
        assert_eq!(status, want, "{content_type}");
        assert_eq!(headers["content-type"], "application/problem+json");
    }
}
