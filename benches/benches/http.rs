//! The HTTP API in-process: the whole middleware stack of `shop_http::router` through
//! `tower::ServiceExt::oneshot`, over the in-memory store with a 1 000-product catalog.
//! `GET /api/products/{id}`, `GET /api/products?q=…`, and `POST /api/checkout` with a real
//! HS256 bearer token (filling the cart between checkouts is set-up, not timed).

#![allow(clippy::unwrap_used, missing_docs)] // bench code

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use http_body_util::BodyExt;
use shop_auth::{
    AccessTokens, AuthService, KeySet, MemoryThrottle, PasswordParams, Passwords, RegisterInput,
    TokenPolicy,
};
use shop_benches::{commerce, fill_cart, runtime, seed};
use shop_core::{ReviewStore, Role};
use shop_http::{AppState, HttpConfig, router};
use shop_store::MemoryStore;
use tower::ServiceExt;

async fn call(app: &axum::Router, request: Request<Body>) -> StatusCode {
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    // Read the body: serialisation is part of the cost.
    let _ = response.into_body().collect().await.unwrap();
    status
}

fn http(c: &mut Criterion) {
    let rt = runtime();
    let store = Arc::new(MemoryStore::new());
    let products = rt
        .block_on(seed(commerce(store.clone()).as_ref(), 1_000))
        .unwrap();
    let tokens = Arc::new(AccessTokens::new(
        KeySet::hs256("bench", b"a bench secret of thirty-two bytes!").unwrap(),
        TokenPolicy::default(),
    ));
    let auth = AuthService::new(
        store.clone(),
        store.clone(),
        // Cheap parameters: only the bench user's registration uses them.
        Passwords::new(PasswordParams {
            memory_kib: 64,
            iterations: 1,
            parallelism: 1,
        })
        .unwrap(),
        tokens.clone(),
        Arc::new(MemoryThrottle::new(Duration::from_secs(60))),
    );
    let user = rt
        .block_on(auth.register_with_roles(
            &RegisterInput {
                email: "bench@example.com".into(),
                password: "a bench passphrase".into(),
                display_name: "Bench".into(),
            },
            BTreeSet::from([Role::Customer]),
        ))
        .unwrap();
    let (token, _) = tokens.issue(user.id, &user.roles).unwrap();
    let bearer = format!("Bearer {token}");
    let reviews: Arc<dyn ReviewStore> = store.clone();
    let app = router(
        AppState::new(store.clone())
            .with_auth(auth)
            .with_reviews(reviews),
        &HttpConfig::default(),
    );

    let mut group = c.benchmark_group("http_oneshot");
    group.throughput(Throughput::Elements(1));
    let by_id = format!("/api/products/{}", products[500]);
    group.bench_function("get_product_by_id", |b| {
        b.to_async(&rt).iter(|| async {
            let req = Request::get(&by_id).body(Body::empty()).unwrap();
            assert_eq!(call(&app, req).await, StatusCode::OK);
        });
    });
    group.bench_function("search_products", |b| {
        b.to_async(&rt).iter(|| async {
            let req = Request::get("/api/products?q=mug%2042&limit=20")
                .body(Body::empty())
                .unwrap();
            assert_eq!(call(&app, req).await, StatusCode::OK);
        });
    });
    let store_dyn = commerce(store.clone());
    let mut key = 0_u64;
    group.bench_function("checkout_3_lines", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let mut timed = Duration::ZERO;
                for _ in 0..iters {
                    fill_cart(store_dyn.as_ref(), user.id, &products[..3])
                        .await
                        .unwrap();
                    key += 1;
                    let req = Request::builder()
                        .method(Method::POST)
                        .uri("/api/checkout")
                        .header(header::AUTHORIZATION, &bearer)
                        .header("idempotency-key", format!("bench-{key}"))
                        .header(header::CONTENT_TYPE, "application/json")
                        .body(Body::from("{}"))
                        .unwrap();
                    let start = Instant::now();
                    let status = call(&app, req).await;
                    timed += start.elapsed();
                    assert_eq!(status, StatusCode::CREATED);
                }
                timed
            })
        });
    });
    group.finish();
}

criterion_group!(benches, http);
criterion_main!(benches);
