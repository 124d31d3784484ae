//! The API in-process, through `tower::ServiceExt::oneshot`: ops routes, catalog reads, the
//! problem+json error model and the middleware stack.

#![allow(clippy::unwrap_used)] // test code

mod support;

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use shop_auth::{AccessTokens, AuthLayer, KeySet, TokenPolicy};
use shop_core::{
    CatalogStore, Currency, Description, Money, NewProduct, Price, Product, ProductName, Role, Sku,
    Slug, UserId,
};
use shop_http::{AppState, HttpConfig, router};
use shop_store::MemoryStore;
use tower::ServiceExt;

async fn seeded(n: usize, inactive: usize) -> Arc<MemoryStore> {
    let store = Arc::new(MemoryStore::new());
    for i in 0..n + inactive {
        let p = Product::create(NewProduct {
            sku: Sku::parse(format!("SKU-{i}")).unwrap(),
            slug: Slug::parse(format!("product-{i}")).unwrap(),
            name: ProductName::parse(format!("Product {i}")).unwrap(),
            description: Description::parse("").unwrap(),
            image_url: None,
            price: Price::new(Money::new(100 + i64::try_from(i).unwrap(), Currency::EUR)).unwrap(),
            stock: 5,
            active: i < n,
        });
        store.create_product(&p).await.unwrap();
    }
    store
}

fn app(store: Arc<MemoryStore>, config: &HttpConfig) -> axum::Router {
    router(AppState::new(store), config)
}

async fn call(
    app: axum::Router,
    req: Request<Body>,
) -> (StatusCode, axum::http::HeaderMap, serde_json::Value) {
    let res = app.oneshot(req).await.unwrap();
    let (parts, body) = res.into_parts();
    let bytes = body.collect().await.unwrap().to_bytes();
    let json = serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
    (parts.status, parts.headers, json)
}

fn get(uri: &str) -> Request<Body> {
    Request::get(uri).body(Body::empty()).unwrap()
}

#[tokio::test]
async fn ready_turns_503_once_draining_while_requests_are_still_served() {
    let state = AppState::new(seeded(1, 0).await);
    let draining = state.draining.clone();
    let app = router(state, &HttpConfig::default());
    let (status, _, body) = call(app.clone(), get("/ready")).await;
    assert_eq!(
        (status, body["status"].as_str()),
        (StatusCode::OK, Some("ready"))
    );
    draining.start();
    let (status, _, body) = call(app.clone(), get("/ready")).await;
    assert_eq!(
        (status, body["status"].as_str()),
        (StatusCode::SERVICE_UNAVAILABLE, Some("draining"))
    );
    let (status, _, _) = call(app.clone(), get("/health")).await;
    assert_eq!(status, StatusCode::OK, "still alive");
    let (status, _, body) = call(app, get("/api/products")).await;
    assert_eq!(status, StatusCode::OK, "still serving");
    assert_eq!(body["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn health_and_ready_with_request_ids_and_security_headers() {
    let app = app(seeded(0, 0).await, &HttpConfig::default());
    let (status, headers, body) = call(app.clone(), get("/health")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["status"], "ok");
    assert!(
        headers.contains_key("x-request-id"),
        "a request ID is generated"
    );
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["x-frame-options"], "DENY");
    let req = Request::get("/ready")
        .header("x-request-id", "abc-123")
        .body(Body::empty())
        .unwrap();
    let (status, headers, _) = call(app, req).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["x-request-id"], "abc-123", "and echoed when given");
}

#[tokio::test]
async fn products_page_through_with_cursors() {
    let app = app(seeded(25, 3).await, &HttpConfig::default());
    let mut uri = "/api/products?sort=price_asc&limit=10".to_owned();
    let mut prices = Vec::new();
    loop {
        let (status, _, body) = call(app.clone(), get(&uri)).await;
        assert_eq!(status, StatusCode::OK);
        for p in body["items"].as_array().unwrap() {
            prices.push(p["price"]["minor"].as_i64().unwrap());
        }
        match body["next_cursor"].as_str() {
            Some(c) => uri = format!("/api/products?sort=price_asc&limit=10&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(
        prices,
        (100..125).collect::<Vec<_>>(),
        "active products only, in order"
    );
}

#[tokio::test]
async fn search_and_limits() {
    let app = app(seeded(30, 0).await, &HttpConfig::default());
    let (_, _, body) = call(app.clone(), get("/api/products?q=product%202&sort=name")).await;
    let names: Vec<&str> = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.first(), Some(&"Product 2"));
    assert!(names.iter().all(|n| n.contains("Product 2")));
    let (status, _, body) = call(app, get("/api/products?limit=100000")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body["items"].as_array().unwrap().len(),
        30,
        "limit capped, not refused"
    );
}

#[tokio::test]
async fn bad_parameters_are_400_problems() {
    let app = app(seeded(1, 0).await, &HttpConfig::default());
    for uri in [
        "/api/products?sort=sideways",
        "/api/products?limit=-1",
        "/api/products?min_price=abc",
        "/api/products?min_price=10&max_price=5",
        "/api/products?cursor=not-a-cursor",
        "/api/products?q=%00",
    ] {
        let (status, headers, body) = call(app.clone(), get(uri)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}: {body}");
        assert_eq!(headers["content-type"], "application/problem+json", "{uri}");
        assert!(
            body["code"].is_string() && body["detail"].is_string(),
            "{uri}: {body}"
        );
    }
}

#[tokio::test]
async fn product_by_id_or_slug_and_404s() {
    let store = seeded(1, 1).await;
    let app = app(store.clone(), &HttpConfig::default());
    let (_, _, page) = call(app.clone(), get("/api/products")).await;
    let id = page["items"][0]["id"].as_str().unwrap().to_owned();
    let (status, _, by_id) = call(app.clone(), get(&format!("/api/products/{id}"))).await;
    assert_eq!(status, StatusCode::OK);
    let (_, _, by_slug) = call(app.clone(), get("/api/products/product-0")).await;
    assert_eq!(by_id, by_slug);
    for uri in [
        "/api/products/product-1".to_owned(), // inactive: hidden from the public
        format!("/api/products/{}", UserId::generate()),
        "/api/products/Not%20A%20Slug!".to_owned(),
        "/api/nothing-here".to_owned(),
    ] {
        let (status, headers, body) = call(app.clone(), get(&uri)).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{uri}");
        assert_eq!(headers["content-type"], "application/problem+json");
        assert_eq!(body["code"], "not_found");
    }
}

#[tokio::test]
async fn admins_see_inactive_products() {
    let store = seeded(1, 1).await;
    let tokens = Arc::new(AccessTokens::new(
        KeySet::hs256("k", b"test secret, thirty-two bytes long!").unwrap(),
        TokenPolicy::default(),
    ));
    let app =
        router(AppState::new(store), &HttpConfig::default()).layer(AuthLayer::new(tokens.clone()));
    let (admin, _) = tokens
        .issue(UserId::generate(), &BTreeSet::from([Role::Admin]))
        .unwrap();
    let (customer, _) = tokens
        .issue(UserId::generate(), &BTreeSet::from([Role::Customer]))
        .unwrap();
    let as_ = |token: &str, uri: &str| {
        Request::get(uri)
            .header("authorization", format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap()
    };
    let (status, _, _) = call(app.clone(), as_(&admin, "/api/products/product-1")).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, _) = call(app.clone(), as_(&customer, "/api/products/product-1")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, _, body) = call(app.clone(), as_(&admin, "/api/products?active=false")).await;
    assert_eq!(body["items"].as_array().unwrap().len(), 1);
    let (_, _, body) = call(app, as_(&customer, "/api/products?active=false")).await;
    assert!(
        body["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["active"] == true)
    );
}

#[tokio::test]
async fn served_under_a_root_path() {
    let config = {
        let mut config = HttpConfig::default();
        config.root_path = "/shop".into();
        config
    };
    let app = app(seeded(1, 0).await, &config);
    assert_eq!(
        call(app.clone(), get("/shop/health")).await.0,
        StatusCode::OK
    );
    assert_eq!(
        call(app.clone(), get("/shop/api/products")).await.0,
        StatusCode::OK
    );
    assert_eq!(
        call(app.clone(), get("/health")).await.0,
        StatusCode::NOT_FOUND
    );
    // `/shop/` leads to `/shop`, keeping the query (a bookmarked search survives).
    let (status, headers, _) = call(app.clone(), get("/shop/?q=mug&sort=price")).await;
    assert_eq!(status, StatusCode::PERMANENT_REDIRECT);
    assert_eq!(headers["location"], "/shop?q=mug&sort=price");
    let (_, headers, _) = call(app, get("/shop/")).await;
    assert_eq!(headers["location"], "/shop");
}

/// Links the API hands out stay under the root path it is served under.
#[tokio::test]
async fn locations_are_under_the_root_path() {
    let config = {
        let mut config = HttpConfig::default();
        config.root_path = "/shop".into();
        config
    };
    let store = Arc::new(MemoryStore::new());
    let app = router(support::state_over(store).await, &config);
    let admin = support::sign_in_under(&app, support::ADMIN_EMAIL, "/shop").await;
    let product = support::send(
        &app,
        axum::http::Method::POST,
        "/shop/api/products",
        Some(&admin),
        Some(&serde_json::json!({
            "sku": "ROOT-1", "name": "Rooted", "price_minor": 100, "currency": "EUR", "stock": 5
        })),
    )
    .await
    .expect(StatusCode::CREATED);
    let id = product.body["id"].as_str().unwrap();
    assert_eq!(
        product.headers["location"],
        format!("/shop/api/products/{id}")
    );
    support::send(
        &app,
        axum::http::Method::POST,
        "/shop/api/cart/items",
        Some(&admin),
        Some(&serde_json::json!({ "product_id": id, "quantity": 1 })),
    )
    .await
    .expect(StatusCode::OK);
    let order = support::send_with(
        &app,
        axum::http::Method::POST,
        "/shop/api/checkout",
        Some(&admin),
        None,
        &[("idempotency-key", "root-1")],
    )
    .await
    .expect(StatusCode::CREATED);
    let location = order.headers["location"].to_str().unwrap();
    assert_eq!(
        location,
        format!("/shop/api/orders/{}", order.body["id"].as_str().unwrap())
    );
    // And the link works.
    support::send(&app, axum::http::Method::GET, location, Some(&admin), None)
        .await
        .expect(StatusCode::OK);
}

#[tokio::test]
async fn cors_allows_only_configured_origins() {
    let config = {
        let mut config = HttpConfig::default();
        config.cors_origins = vec!["https://shop.example".into()];
        config
    };
    let app = app(seeded(0, 0).await, &config);
    let req = |origin: &str| {
        Request::get("/health")
            .header("origin", origin)
            .body(Body::empty())
            .unwrap()
    };
    let (_, headers, _) = call(app.clone(), req("https://shop.example")).await;
    assert_eq!(
        headers["access-control-allow-origin"],
        "https://shop.example"
    );
    let (_, headers, _) = call(app, req("https://evil.example")).await;
    assert!(!headers.contains_key("access-control-allow-origin"));
}

/// The relay's and a consumer's counters reach `/metrics`, and only ever go up.
#[tokio::test]
async fn relay_counters_are_served() {
    use std::sync::atomic::Ordering;

    let relay = Arc::new(shop_events::RelayMetrics::default());
    relay.confirmed.store(12, Ordering::Relaxed);
    relay.unroutable.store(3, Ordering::Relaxed);
    relay.refused.store(1, Ordering::Relaxed);
    let state = AppState::new(seeded(0, 0).await).with_relay_metrics(relay.clone());
    // An embedder's consumer, served beside the relay.
    let consumer = Arc::new(shop_events::ConsumerMetrics::default());
    consumer.handled.store(7, Ordering::Relaxed);
    consumer.dead_lettered.store(1, Ordering::Relaxed);
    state
        .metrics
        .watch_consumer("order-mails", consumer.clone());
    let app = shop_http::ops_router(state);
    let text = |app: axum::Router| async move {
        let res = app.oneshot(get("/metrics")).await.unwrap();
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        String::from_utf8(bytes.to_vec()).unwrap()
    };
    let first = text(app.clone()).await;
    for line in [
        "shop_outbox_events_published_total 12",
        "shop_outbox_events_unroutable_total 3",
        "shop_outbox_events_refused_total 1",
        "shop_outbox_relay_failures_total 0",
        r#"shop_events_consumed_total{queue="order-mails",outcome="handled"} 7"#,
        r#"shop_events_consumed_total{queue="order-mails",outcome="dead_lettered"} 1"#,
        r#"shop_events_consumed_total{queue="order-mails",outcome="retried"} 0"#,
        // Every store answers and nothing is draining.
        "shop_ready 1",
    ] {
        assert!(first.contains(line), "{line} in\n{first}");
    }
    relay.unroutable.store(5, Ordering::Relaxed);
    assert!(
        text(app)
            .await
            .contains("shop_outbox_events_unroutable_total 5")
    );
}

/// Query numbers are held to the documented types: `max_stock` is an `int32` of at least 0,
/// so a value past `int32` or a negative one is refused (Schemathesis found `2147483648`
/// accepted as a `u32`).
#[tokio::test]
async fn max_stock_is_an_int32_of_at_least_zero() {
    let app = app(seeded(3, 0).await, &HttpConfig::default());
    for (query, status) in [
        ("max_stock=5", StatusCode::OK),
        ("max_stock=2147483647", StatusCode::OK),
        ("max_stock=2147483648", StatusCode::BAD_REQUEST),
        ("max_stock=-1", StatusCode::BAD_REQUEST),
    ] {
        let (got, headers, _) = call(app.clone(), get(&format!("/api/products?{query}"))).await;
        assert_eq!(got, status, "{query}");
        if status != StatusCode::OK {
            assert_eq!(headers["content-type"], "application/problem+json");
        }
    }
}

/// A dependency that never answers, with a cause that names a host (as a driver's would).
struct Unreachable;

#[async_trait::async_trait]
impl shop_core::StoreHealth for Unreachable {
    async fn ping(&self) -> shop_core::Result<()> {
        Err(shop_core::Error::unavailable(std::io::Error::other(
            "connect to db.internal:5432 refused",
        )))
    }
}

/// `/metrics` (revenue, login counters) is not on the public router, only on the operations
/// one; a failing `/ready` says why — in full on the operations router, by name only in public.
#[tokio::test]
async fn metrics_and_readiness_causes_stay_on_the_operations_router() {
    let state = AppState::new(seeded(1, 0).await).with_readiness("reviews", Arc::new(Unreachable));
    let public = router(state.clone(), &HttpConfig::default());
    let ops = shop_http::ops_router(state);

    let (status, _, body) = call(public.clone(), get("/metrics")).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(body["code"], "not_found");
    let doc = shop_http::openapi();
    assert!(
        !doc.paths.paths.contains_key("/metrics"),
        "not documented as public"
    );

    let res = ops.clone().oneshot(get("/metrics")).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let text =
        String::from_utf8(res.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap();
    assert!(
        text.contains("shop_http_requests_total") || text.contains("shop_ready"),
        "{text}"
    );

    let (status, _, body) = call(public, get("/ready")).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["down"], serde_json::json!(["reviews"]));
    let reason = body["reason"].as_str().unwrap();
    assert!(reason.contains("reviews"), "{reason}");
    assert!(
        !reason.contains("db.internal"),
        "no host names in public: {reason}"
    );

    let (status, _, body) = call(ops, get("/ready")).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    let reason = body["reason"].as_str().unwrap();
    assert!(
        reason.contains("reviews: storage unavailable: connect to db.internal:5432 refused"),
        "{reason}"
    );
}
