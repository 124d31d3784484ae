//! Every refusal the app makes is a problem document with a stable code, and the same kind of
//! mistake gets the same status on every route: an oversized body (declared or chunked), a
//! method the route does not serve, a body that is not JSON, a JSON value that is not an
//! object, a field of the wrong type, malformed JSON.

#![allow(clippy::unwrap_used)] // test code

mod support;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

/// (method, path, a body whose fields have the wrong JSON types)
const BODY_ROUTES: &[(&str, &str, &str)] = &[
    (
        "POST",
        "/api/auth/register",
        r#"{"email": 5, "password": [], "display_name": {}}"#,
    ),
    (
        "POST",
        "/api/auth/login",
        r#"{"email": true, "password": 1}"#,
    ),
    ("POST", "/api/auth/refresh", r#"{"refresh_token": 7}"#),
    ("POST", "/api/auth/logout", r#"{"refresh_token": false}"#),
    ("PATCH", "/api/users/me", r#"{"display_name": 12}"#),
    (
        "POST",
        "/api/users/me/password",
        r#"{"current_password": 1, "new_password": 2}"#,
    ),
    (
        "POST",
        "/api/products",
        r#"{"sku": 1, "name": 2, "price_minor": "x", "currency": 3}"#,
    ),
    ("PATCH", "/api/products/{id}", r#"{"price_minor": "cheap"}"#),
    ("POST", "/api/products/{id}/stock", r#"{"delta": "many"}"#),
    (
        "POST",
        "/api/products/{id}/reviews",
        r#"{"rating": "five", "title": 1}"#,
    ),
    (
        "POST",
        "/api/cart/items",
        r#"{"product_id": 1, "quantity": "two"}"#,
    ),
    ("PATCH", "/api/cart/items/{id}", r#"{"quantity": "two"}"#),
    ("POST", "/api/checkout", r#"{"cart_version": "v1"}"#),
    ("PUT", "/api/orders/{id}/status", r#"{"status": 5}"#),
];

const SOME_ID: &str = "01a20000-0000-7000-8000-000000000001";

struct Refusal {
    status: StatusCode,
    content_type: String,
    allow: Option<String>,
    body: Value,
}

async fn call(
    app: &axum::Router,
    token: &str,
    method: &str,
    path: &str,
    content_type: Option<&str>,
    body: Body,
    declared_length: Option<usize>,
) -> Refusal {
    let mut req = Request::builder()
        .method(method)
        .uri(path.replace("{id}", SOME_ID))
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header("idempotency-key", "refusals-1");
    if let Some(ct) = content_type {
        req = req.header(header::CONTENT_TYPE, ct);
    }
    if let Some(n) = declared_length {
        req = req.header(header::CONTENT_LENGTH, n);
    }
    let res = app.clone().oneshot(req.body(body).unwrap()).await.unwrap();
    let (parts, body) = res.into_parts();
    let bytes = body.collect().await.unwrap().to_bytes();
    Refusal {
        status: parts.status,
        content_type: parts
            .headers
            .get(header::CONTENT_TYPE)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default(),
        allow: parts
            .headers
            .get(header::ALLOW)
            .map(|v| v.to_str().unwrap().to_owned()),
        body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    }
}

#[track_caller]
fn assert_problem(r: &Refusal, status: StatusCode, code: &str, what: &str) {
    assert_eq!(
        (r.status, r.content_type.as_str(), r.body["code"].as_str()),
        (status, "application/problem+json", Some(code)),
        "{what}: {}",
        r.body
    );
    assert_eq!(r.body["status"], status.as_u16(), "{what}");
}

#[tokio::test]
async fn every_body_route_refuses_bad_bodies_the_same_way() {
    let app = support::app().await.router;
    let token = support::admin_token(&app).await;
    let big = vec![b' '; 70 * 1024];
    for (method, path, wrong_types) in BODY_ROUTES {
        let what = |case: &str| format!("{method} {path}: {case}");
        let json = Some("application/json");

        let r = call(
            &app,
            &token,
            method,
            path,
            json,
            Body::from(big.clone()),
            Some(big.len()),
        )
        .await;
        assert_problem(
            &r,
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            &what("declared 70 KiB"),
        );

        let chunks = futures::stream::iter(
            (0..70).map(|_| Ok::<_, std::io::Error>(bytes::Bytes::from(vec![b' '; 1024]))),
        );
        let r = call(
            &app,
            &token,
            method,
            path,
            json,
            Body::from_stream(chunks),
            None,
        )
        .await;
        assert_problem(
            &r,
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            &what("chunked 70 KiB"),
        );

        let r = call(
            &app,
            &token,
            method,
            path,
            Some("text/plain"),
            Body::from("{}"),
            None,
        )
        .await;
        assert_problem(
            &r,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            &what("text/plain"),
        );

        for not_an_object in ["[]", "[null, null]", "5", "\"text\"", "null"] {
            let r = call(
                &app,
                &token,
                method,
                path,
                json,
                Body::from(not_an_object),
                None,
            )
            .await;
            assert_problem(
                &r,
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_body",
                &what(&format!("body {not_an_object}")),
            );
        }

        let r = call(
            &app,
            &token,
            method,
            path,
            json,
            Body::from(*wrong_types),
            None,
        )
        .await;
        assert_problem(
            &r,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
            &what("fields of the wrong type"),
        );

        for malformed in ["{not json", "{\"a\": 1} trailing", "{\"a\": "] {
            let r = call(
                &app,
                &token,
                method,
                path,
                json,
                Body::from(malformed),
                None,
            )
            .await;
            assert_problem(
                &r,
                StatusCode::BAD_REQUEST,
                "malformed_json",
                &what(&format!("body {malformed}")),
            );
        }
    }
}

/// (path, a method it does not serve, the methods it does)
const METHOD_ROUTES: &[(&str, &str, &str)] = &[
    ("/health", "POST", "GET,HEAD"),
    ("/api/auth/login", "GET", "POST"),
    ("/api/users/me", "DELETE", "GET,HEAD,PATCH"),
    ("/api/products", "PUT", "GET,HEAD,POST"),
    ("/api/products/{id}", "POST", "DELETE,GET,HEAD,PATCH"),
    ("/api/products/{id}/reviews", "DELETE", "GET,HEAD,POST"),
    ("/api/cart", "POST", "DELETE,GET,HEAD"),
    ("/api/cart/items", "GET", "POST"),
    ("/api/checkout", "GET", "POST"),
    ("/api/orders/{id}", "DELETE", "GET,HEAD"),
    ("/api/orders/{id}/status", "POST", "PUT"),
];

fn sorted(list: &str) -> Vec<String> {
    let mut v: Vec<String> = list.split(',').map(|m| m.trim().to_owned()).collect();
    v.sort();
    v
}

#[tokio::test]
async fn a_method_a_route_does_not_serve_is_405_with_allow() {
    let app = support::app().await.router;
    let token = support::admin_token(&app).await;
    for (path, method, allowed) in METHOD_ROUTES {
        let r = call(&app, &token, method, path, None, Body::empty(), None).await;
        assert_problem(
            &r,
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            &format!("{method} {path}"),
        );
        assert_eq!(
            r.allow.as_deref().map(sorted),
            Some(sorted(allowed)),
            "{method} {path}: Allow"
        );
    }
}

#[tokio::test]
async fn checkout_refuses_a_body_that_is_not_json_and_places_nothing() {
    let app = support::app().await;
    let token = support::admin_token(&app.router).await;
    let product = support::create_product(&app.router, &token, "REFUSE-1", 100, 5).await;
    support::send(
        &app.router,
        Method::POST,
        "/api/cart/items",
        Some(&token),
        Some(&serde_json::json!({ "product_id": product["id"], "quantity": 1 })),
    )
    .await
    .expect(StatusCode::OK);
    let r = call(
        &app.router,
        &token,
        "POST",
        "/api/checkout",
        Some("text/plain"),
        Body::from("{}"),
        None,
    )
    .await;
    assert_problem(
        &r,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
        "checkout with text/plain",
    );
    let orders = support::send(&app.router, Method::GET, "/api/orders", Some(&token), None).await;
    assert_eq!(
        orders.body["items"],
        serde_json::json!([]),
        "no order was placed"
    );
    // An empty body needs no content type: the body is optional.
    let r = call(
        &app.router,
        &token,
        "POST",
        "/api/checkout",
        None,
        Body::empty(),
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
}

/// A body that never arrives: the request holds its place until the request timeout.
fn stalled_body() -> Body {
    Body::from_stream(futures::stream::pending::<
        Result<bytes::Bytes, std::io::Error>,
    >())
}

/// The concurrency limit bounds the whole process: with every slot held by requests stalled
/// on one route, another route is shed at once (503 overloaded); the stalled ones end with
/// 503 timeout when the request timeout runs out; and the metrics count both.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_shedding_bounds_the_whole_process() {
    use std::time::{Duration, Instant};

    let store = std::sync::Arc::new(shop_store::MemoryStore::new());
    let state = support::state_over(store).await;
    let config = {
        let mut config = shop_http::HttpConfig::default();
        config.concurrency_limit = 4;
        config.request_timeout = Duration::from_secs(2);
        config
    };
    let ops = shop_http::ops_router(state.clone());
    let app = shop_http::router(state, &config);
    let started = Instant::now();
    let stalled: Vec<_> = (0..4)
        .map(|_| {
            let app = app.clone();
            tokio::spawn(async move {
                let req = Request::post("/api/auth/register")
                    .header(header::CONTENT_TYPE, "application/json")
                    .body(stalled_body())
                    .unwrap();
                let res = app.oneshot(req).await.unwrap();
                let (parts, body) = res.into_parts();
                let bytes = body.collect().await.unwrap().to_bytes();
                (
                    parts.status,
                    serde_json::from_slice::<Value>(&bytes).unwrap(),
                    started.elapsed(),
                )
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let shed = support::send(&app, Method::GET, "/api/products", None, None).await;
    shed.problem(StatusCode::SERVICE_UNAVAILABLE, "overloaded");
    for s in stalled {
        let (status, body, took) = s.await.unwrap();
        assert_eq!(
            (status, body["code"].as_str()),
            (StatusCode::SERVICE_UNAVAILABLE, Some("timeout"))
        );
        assert!(
            took < Duration::from_secs(4),
            "ended by the request timeout: {took:?}"
        );
    }
    support::send(&app, Method::GET, "/api/products", None, None)
        .await
        .expect(StatusCode::OK);
    let metrics = support::send(&ops, Method::GET, "/metrics", None, None)
        .await
        .text;
    for line in [
        r#"shop_http_requests_total{method="GET",route="/api/products",status="503"} 1"#,
        r#"shop_http_requests_total{method="POST",route="/api/auth/register",status="503"} 4"#,
    ] {
        assert!(metrics.contains(line), "{line} in\n{metrics}");
    }
}
