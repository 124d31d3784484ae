//! Every route in-process: success and failure cases, the authorization matrix, validation
//! of writes, checkout idempotency, metrics and the OpenAPI document.

#![allow(clippy::unwrap_used)] // test code

mod support;

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use support::{Reply, admin_token, app, create_product, send, send_with, sign_in};

const GET: Method = Method::GET;
const POST: Method = Method::POST;
const PATCH: Method = Method::PATCH;
const PUT: Method = Method::PUT;
const DELETE: Method = Method::DELETE;

async fn checkout(app: &axum::Router, token: &str, key: &str, body: Option<&Value>) -> Reply {
    send_with(
        app,
        POST,
        "/api/checkout",
        Some(token),
        body,
        &[("idempotency-key", key)],
    )
    .await
}

#[tokio::test]
async fn profile_read_update_and_password_change() {
    let t = app().await;
    let r = &t.router;
    let token = sign_in(r, "pat@example.com").await;
    let me = send(r, GET, "/api/users/me", Some(&token), None)
        .await
        .expect(StatusCode::OK);
    assert_eq!(me.body["email"], "pat@example.com");
    assert_eq!(me.body["roles"], json!(["customer"]));
    assert!(!me.text.contains("argon2"), "never the hash");

    let me = send(
        r,
        PATCH,
        "/api/users/me",
        Some(&token),
        Some(&json!({"display_name": "Patricia"})),
    )
    .await
    .expect(StatusCode::OK);
    assert_eq!(me.body["display_name"], "Patricia");
    send(
        r,
        PATCH,
        "/api/users/me",
        Some(&token),
        Some(&json!({"display_name": "x".repeat(500)})),
    )
    .await
    .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    send(
        r,
        PATCH,
        "/api/users/me",
        Some(&token),
        Some(&json!({"display_name": "P", "roles": ["admin"]})),
    )
    .await
    .problem(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");

    let wrong = json!({"current_password": "not it at all", "new_password": "another long one"});
    let r2 = send(
        r,
        POST,
        "/api/users/me/password",
        Some(&token),
        Some(&wrong),
    )
    .await
    .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(r2.body["errors"][0]["field"], "current_password");
    let weak = json!({"current_password": support::PASSWORD, "new_password": "short"});
    send(r, POST, "/api/users/me/password", Some(&token), Some(&weak))
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    let good = json!({"current_password": support::PASSWORD, "new_password": "another long one"});
    send(r, POST, "/api/users/me/password", Some(&token), Some(&good))
        .await
        .expect(StatusCode::NO_CONTENT);
    send(
        r,
        POST,
        "/api/auth/login",
        None,
        Some(&json!({"email": "pat@example.com", "password": "another long one"})),
    )
    .await
    .expect(StatusCode::OK);
    send(r, GET, "/api/users/me", None, None)
        .await
        .problem(StatusCode::UNAUTHORIZED, "unauthenticated");
    let bad = send(r, GET, "/api/users/me", Some("not.a.jwt"), None)
        .await
        .problem(StatusCode::UNAUTHORIZED, "invalid_token");
    assert_eq!(
        bad.headers["www-authenticate"],
        r#"Bearer error="invalid_token""#
    );
}

#[tokio::test]
async fn admin_catalog_writes() {
    let t = app().await;
    let r = &t.router;
    let admin = admin_token(r).await;
    let p = create_product(r, &admin, "mug-1", 1250, 3).await;
    let id = p["id"].as_str().unwrap().to_owned();
    assert_eq!(p["price"], json!({"minor": 1250, "currency": "EUR"}));
    assert_eq!(p["slug"], "product-mug-1");
    assert_eq!(p["sku"], "MUG-1");

    let dup = json!({"sku": "MUG-1", "name": "Other", "price_minor": 1, "currency": "EUR"});
    send(r, POST, "/api/products", Some(&admin), Some(&dup))
        .await
        .problem(StatusCode::CONFLICT, "sku_taken");
    // Every bad field is reported at once; unknown fields and out-of-range numbers are 422.
    let bad = json!({"sku": "bad sku!", "name": "", "price_minor": -5, "currency": "euro", "stock": 1_000_000_000_000_i64});
    let reply = send(r, POST, "/api/products", Some(&admin), Some(&bad))
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    let fields: Vec<&str> = reply.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    for f in ["sku", "name", "currency", "stock"] {
        assert!(fields.contains(&f), "{f} in {fields:?}");
    }
    send(
        r,
        POST,
        "/api/products",
        Some(&admin),
        Some(
            &json!({"sku": "X", "name": "X", "price_minor": 1, "currency": "EUR", "colour": "red"}),
        ),
    )
    .await
    .problem(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");
    send(
        r,
        POST,
        "/api/products",
        Some(&admin),
        Some(&json!({"sku": "X", "name": "X", "price_minor": 1e40, "currency": "EUR"})),
    )
    .await
    .problem(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");
    send(
        r,
        POST,
        "/api/products",
        Some(&admin),
        Some(&json!({"sku": "X", "name": "n".repeat(10_000), "price_minor": 1, "currency": "EUR"})),
    )
    .await
    .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");

    let patched = send(
        r,
        PATCH,
        &format!("/api/products/{id}"),
        Some(&admin),
        Some(
            &json!({"name": "Big mug", "image_url": null, "price_minor": 1500, "currency": "EUR"}),
        ),
    )
    .await
    .expect(StatusCode::OK);
    assert_eq!(patched.body["name"], "Big mug");
    assert_eq!(patched.body["image_url"], Value::Null);
    assert_eq!(patched.body["price"]["minor"], 1500);

    let stocked = send(
        r,
        POST,
        &format!("/api/products/{id}/stock"),
        Some(&admin),
        Some(&json!({"delta": 7, "reason": "delivery from the workshop"})),
    )
    .await
    .expect(StatusCode::OK);
    assert_eq!(stocked.body["stock"], 10);
    send(
        r,
        POST,
        &format!("/api/products/{id}/stock"),
        Some(&admin),
        Some(&json!({"delta": 1, "reason": "x".repeat(201)})),
    )
    .await
    .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    send(
        r,
        POST,
        &format!("/api/products/{id}/stock"),
        Some(&admin),
        Some(&json!({"delta": -11})),
    )
    .await
    .problem(StatusCode::CONFLICT, "insufficient_stock");

    send(
        r,
        PATCH,
        "/api/products/not-a-uuid",
        Some(&admin),
        Some(&json!({"name": "x"})),
    )
    .await
    .problem(StatusCode::BAD_REQUEST, "invalid_parameter");
    send(
        r,
        DELETE,
        &format!("/api/products/{id}"),
        Some(&admin),
        None,
    )
    .await
    .expect(StatusCode::NO_CONTENT);
    send(r, GET, &format!("/api/products/{id}"), None, None)
        .await
        .problem(StatusCode::NOT_FOUND, "not_found");
    send(
        r,
        DELETE,
        &format!("/api/products/{id}"),
        Some(&admin),
        None,
    )
    .await
    .problem(StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn reviews_one_per_user_with_average() {
    let t = app().await;
    let r = &t.router;
    let admin = admin_token(r).await;
    let p = create_product(r, &admin, "rev-1", 100, 3).await;
    let uri = format!("/api/products/{}/reviews", p["id"].as_str().unwrap());
    let empty = send(r, GET, &uri, None, None).await.expect(StatusCode::OK);
    assert_eq!(empty.body["count"], 0);
    assert_eq!(empty.body["average_rating"], Value::Null);

    let a = sign_in(r, "a@example.com").await;
    let b = sign_in(r, "b@example.com").await;
    send(
        r,
        POST,
        &uri,
        None,
        Some(&json!({"rating": 5, "title": "Great"})),
    )
    .await
    .problem(StatusCode::UNAUTHORIZED, "unauthenticated");
    let made = send(
        r,
        POST,
        &uri,
        Some(&a),
        Some(&json!({"rating": 5, "title": "Great", "body": "Love it"})),
    )
    .await
    .expect(StatusCode::CREATED);
    assert_eq!(made.body["author_name"], "a");
    send(
        r,
        POST,
        &uri,
        Some(&a),
        Some(&json!({"rating": 1, "title": "Changed my mind"})),
    )
    .await
    .problem(StatusCode::CONFLICT, "review_exists");
    send(
        r,
        POST,
        &uri,
        Some(&b),
        Some(&json!({"rating": 9, "title": ""})),
    )
    .await
    .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    send(
        r,
        POST,
        &uri,
        Some(&b),
        Some(&json!({"rating": 4, "title": "Good"})),
    )
    .await
    .expect(StatusCode::CREATED);
    let listed = send(r, GET, &format!("{uri}?limit=1"), None, None)
        .await
        .expect(StatusCode::OK);
    assert_eq!(listed.body["count"], 2);
    assert_eq!(listed.body["average_rating"], 4.5);
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 1);
    let cursor = listed.body["next_cursor"].as_str().unwrap();
    let next = send(
        r,
        GET,
        &format!("{uri}?limit=1&cursor={cursor}"),
        None,
        None,
    )
    .await
    .expect(StatusCode::OK);
    assert_eq!(next.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(next.body["next_cursor"], Value::Null);
    send(
        r,
        GET,
        "/api/products/00000000-0000-7000-8000-000000000000/reviews",
        None,
        None,
    )
    .await
    .problem(StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn cart_lines_are_priced_and_validated() {
    let t = app().await;
    let r = &t.router;
    let admin = admin_token(r).await;
    let p = create_product(r, &admin, "cart-1", 250, 5).await;
    let id = p["id"].as_str().unwrap();
    let u = sign_in(r, "c@example.com").await;
    let cart = send(r, GET, "/api/cart", Some(&u), None)
        .await
        .expect(StatusCode::OK);
    assert_eq!(cart.body["lines"], json!([]));
    let cart = send(
        r,
        POST,
        "/api/cart/items",
        Some(&u),
        Some(&json!({"product_id": id, "quantity": 2})),
    )
    .await
    .expect(StatusCode::OK);
    assert_eq!(cart.body["total"], json!({"minor": 500, "currency": "EUR"}));
    let cart = send(
        r,
        PATCH,
        &format!("/api/cart/items/{id}"),
        Some(&u),
        Some(&json!({"quantity": 3})),
    )
    .await
    .expect(StatusCode::OK);
    assert_eq!(cart.body["lines"][0]["quantity"], 3);
    send(
        r,
        PATCH,
        &format!("/api/cart/items/{id}"),
        Some(&u),
        Some(&json!({"quantity": 0})),
    )
    .await
    .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    send(
        r,
        POST,
        "/api/cart/items",
        Some(&u),
        Some(&json!({"product_id": "nope", "quantity": 1})),
    )
    .await
    .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    send(
        r,
        POST,
        "/api/cart/items",
        Some(&u),
        Some(&json!({"product_id": "00000000-0000-7000-8000-000000000000", "quantity": 1})),
    )
    .await
    .problem(StatusCode::NOT_FOUND, "not_found");
    send(
        r,
        POST,
        "/api/cart/items",
        Some(&u),
        Some(&json!({"product_id": id, "quantity": 99_999_999_999_i64})),
    )
    .await
    .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    send(r, DELETE, &format!("/api/cart/items/{id}"), Some(&u), None)
        .await
        .expect(StatusCode::OK);
    send(r, DELETE, &format!("/api/cart/items/{id}"), Some(&u), None)
        .await
        .problem(StatusCode::NOT_FOUND, "not_found");
    send(
        r,
        POST,
        "/api/cart/items",
        Some(&u),
        Some(&json!({"product_id": id, "quantity": 1})),
    )
    .await
    .expect(StatusCode::OK);
    let cleared = send(r, DELETE, "/api/cart", Some(&u), None)
        .await
        .expect(StatusCode::OK);
    assert_eq!(cleared.body["lines"], json!([]));
    send(r, GET, "/api/cart", None, None)
        .await
        .problem(StatusCode::UNAUTHORIZED, "unauthenticated");
}

#[tokio::test]
async fn checkout_is_idempotent_and_orders_are_private() {
    let t = app().await;
    let r = &t.router;
    let admin = admin_token(r).await;
    let p = create_product(r, &admin, "co-1", 400, 5).await;
    let id = p["id"].as_str().unwrap();
    let u = sign_in(r, "u@example.com").await;
    let other = sign_in(r, "o@example.com").await;

    checkout(r, &u, "k1", None)
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    let cart = send(
        r,
        POST,
        "/api/cart/items",
        Some(&u),
        Some(&json!({"product_id": id, "quantity": 2})),
    )
    .await
    .expect(StatusCode::OK);
    let version = cart.body["cart"]["version"].as_u64().unwrap();
    send(r, POST, "/api/checkout", Some(&u), None)
        .await
        .problem(StatusCode::BAD_REQUEST, "idempotency_key_required");
    checkout(r, &u, "k2", Some(&json!({"cart_version": version + 1})))
        .await
        .problem(StatusCode::CONFLICT, "cart_changed");
    checkout(r, &u, "k2", Some(&json!({"cart_version": "x"})))
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");

    let body = json!({"cart_version": version});
    let placed = checkout(r, &u, "k3", Some(&body))
        .await
        .expect(StatusCode::CREATED);
    let order_id = placed.body["id"].as_str().unwrap().to_owned();
    assert_eq!(
        placed.headers["location"],
        format!("/api/orders/{order_id}")
    );
    assert_eq!(placed.body["total"]["minor"], 800);
    assert_eq!(placed.body["status"], "pending");
    assert_eq!(
        placed.body["next_statuses"],
        json!(["paid", "cancelled"]),
        "the lifecycle's next steps, from shop-core"
    );
    // A retry (even with the same JSON spelled differently) returns the same order.
    let again = send_with(
        r,
        POST,
        "/api/checkout",
        Some(&u),
        None,
        &[
            ("idempotency-key", "k3"),
            ("content-type", "application/json"),
        ],
    )
    .await;
    assert_eq!(
        again.status,
        StatusCode::CONFLICT,
        "an empty body is a different request: {}",
        again.text
    );
    let replay = checkout(r, &u, "k3", Some(&body))
        .await
        .expect(StatusCode::OK);
    assert_eq!(replay.body["id"], order_id.as_str());
    checkout(r, &u, "k3", Some(&json!({"cart_version": version + 5})))
        .await
        .problem(StatusCode::CONFLICT, "idempotency_key_reused");
    let stock = send(r, GET, &format!("/api/products/{id}"), None, None)
        .await
        .body["stock"]
        .clone();
    assert_eq!(stock, 3, "stock taken once");

    // Orders: own list, another user's order is 404, admins see and filter everything.
    let mine = send(r, GET, "/api/orders", Some(&u), None)
        .await
        .expect(StatusCode::OK);
    assert_eq!(mine.body["items"].as_array().unwrap().len(), 1);
    let theirs = send(r, GET, "/api/orders", Some(&other), None)
        .await
        .expect(StatusCode::OK);
    assert_eq!(theirs.body["items"], json!([]));
    let uid = send(r, GET, "/api/users/me", Some(&u), None).await.body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    send(
        r,
        GET,
        &format!("/api/orders?user_id={uid}"),
        Some(&other),
        None,
    )
    .await
    .problem(StatusCode::FORBIDDEN, "forbidden");
    let order_uri = format!("/api/orders/{order_id}");
    send(r, GET, &order_uri, Some(&other), None)
        .await
        .problem(StatusCode::NOT_FOUND, "not_found");
    send(r, POST, &format!("{order_uri}/cancel"), Some(&other), None)
        .await
        .problem(StatusCode::NOT_FOUND, "not_found");
    send(r, GET, &order_uri, Some(&u), None)
        .await
        .expect(StatusCode::OK);
    let all = send(
        r,
        GET,
        &format!("/api/orders?user_id={uid}&status=pending"),
        Some(&admin),
        None,
    )
    .await
    .expect(StatusCode::OK);
    assert_eq!(all.body["items"].as_array().unwrap().len(), 1);
    let none = send(r, GET, "/api/orders?status=shipped", Some(&admin), None)
        .await
        .expect(StatusCode::OK);
    assert_eq!(none.body["items"], json!([]));
    send(r, GET, "/api/orders?status=lost", Some(&admin), None)
        .await
        .problem(StatusCode::BAD_REQUEST, "invalid_query");

    // Lifecycle: customers cannot set status; admins move it; shipped orders cannot be cancelled.
    let status_uri = format!("{order_uri}/status");
    send(
        r,
        PUT,
        &status_uri,
        Some(&u),
        Some(&json!({"status": "paid"})),
    )
    .await
    .problem(StatusCode::FORBIDDEN, "forbidden");
    send(
        r,
        PUT,
        &status_uri,
        Some(&admin),
        Some(&json!({"status": "delivered"})),
    )
    .await
    .problem(StatusCode::CONFLICT, "invalid_transition");
    send(
        r,
        PUT,
        &status_uri,
        Some(&admin),
        Some(&json!({"status": "paid"})),
    )
    .await
    .expect(StatusCode::OK);
    let shipped = send(
        r,
        PUT,
        &status_uri,
        Some(&admin),
        Some(&json!({"status": "shipped"})),
    )
    .await
    .expect(StatusCode::OK);
    assert_eq!(shipped.body["status"], "shipped");
    send(r, POST, &format!("{order_uri}/cancel"), Some(&u), None)
        .await
        .problem(StatusCode::CONFLICT, "invalid_transition");

    // A second order is cancelled by its owner and its stock comes back.
    send(
        r,
        POST,
        "/api/cart/items",
        Some(&u),
        Some(&json!({"product_id": id, "quantity": 3})),
    )
    .await
    .expect(StatusCode::OK);
    let second = checkout(r, &u, "k4", None)
        .await
        .expect(StatusCode::CREATED);
    send(
        r,
        POST,
        "/api/cart/items",
        Some(&u),
        Some(&json!({"product_id": id, "quantity": 1})),
    )
    .await
    .expect(StatusCode::OK);
    checkout(r, &u, "k5", None)
        .await
        .problem(StatusCode::CONFLICT, "insufficient_stock");
    let cancelled = send(
        r,
        POST,
        &format!("/api/orders/{}/cancel", second.body["id"].as_str().unwrap()),
        Some(&u),
        None,
    )
    .await
    .expect(StatusCode::OK);
    assert_eq!(cancelled.body["status"], "cancelled");
    assert_eq!(
        send(r, GET, &format!("/api/products/{id}"), None, None)
            .await
            .body["stock"],
        3
    );

    let metrics = send(&t.ops, GET, "/metrics", None, None)
        .await
        .expect(StatusCode::OK);
    for needle in [
        r#"shop_checkouts_total{outcome="placed"} 2"#,
        r#"shop_checkouts_total{outcome="replayed"} 1"#,
        r#"shop_checkouts_total{outcome="insufficient_stock"} 1"#,
        r#"route="/api/orders/{id}""#,
        "shop_http_request_duration_seconds_bucket",
        "shop_outbox_pending_events",
        // The business: a replay is not a second order; revenue is the placed totals.
        "shop_orders_placed_total 2",
        "shop_orders_cancelled_total 1",
        r#"shop_order_revenue_minor_units_total{currency="EUR"} 2000"#,
        "shop_cart_additions_total 3",
        r#"shop_logins_total{outcome="failed"} 0"#,
        "shop_outbox_relay_retries_total",
        // The process, under the standard names.
        "process_resident_memory_bytes ",
        "process_cpu_seconds_total ",
        "process_open_fds ",
        "process_start_time_seconds ",
    ] {
        assert!(
            metrics.text.contains(needle),
            "{needle} missing from:\n{}",
            metrics.text
        );
    }
}

/// Anonymous, customer, another customer and admin against every protected route.
#[tokio::test]
async fn authorization_matrix() {
    let t = app().await;
    let r = &t.router;
    let admin = admin_token(r).await;
    let owner = sign_in(r, "owner@example.com").await;
    let stranger = sign_in(r, "stranger@example.com").await;
    let p = create_product(r, &admin, "auth-1", 100, 50).await;
    let pid = p["id"].as_str().unwrap().to_owned();
    send(
        r,
        POST,
        "/api/cart/items",
        Some(&owner),
        Some(&json!({"product_id": pid, "quantity": 1})),
    )
    .await
    .expect(StatusCode::OK);
    let order = checkout(r, &owner, "m1", None)
        .await
        .expect(StatusCode::CREATED);
    let oid = order.body["id"].as_str().unwrap().to_owned();

    let s = |c: u16| StatusCode::from_u16(c).unwrap();
    // (method, uri, body, anonymous, owner, stranger, admin)
    let product_body = json!({"sku": "NEW", "name": "New", "price_minor": 1, "currency": "EUR"});
    let cases: Vec<(Method, String, Option<Value>, [u16; 4])> = vec![
        (GET, "/api/users/me".into(), None, [401, 200, 200, 200]),
        (GET, "/api/products".into(), None, [200, 200, 200, 200]),
        (
            GET,
            format!("/api/products/{pid}"),
            None,
            [200, 200, 200, 200],
        ),
        (
            PATCH,
            format!("/api/products/{pid}"),
            Some(json!({"name": "Renamed"})),
            [401, 403, 403, 200],
        ),
        (
            POST,
            format!("/api/products/{pid}/stock"),
            Some(json!({"delta": 1})),
            [401, 403, 403, 200],
        ),
        (
            GET,
            format!("/api/products/{pid}/reviews"),
            None,
            [200, 200, 200, 200],
        ),
        (GET, "/api/cart".into(), None, [401, 200, 200, 200]),
        (GET, "/api/orders".into(), None, [401, 200, 200, 200]),
        (
            GET,
            format!("/api/orders/{oid}"),
            None,
            [401, 200, 404, 200],
        ),
        (
            PUT,
            format!("/api/orders/{oid}/status"),
            Some(json!({"status": "paid"})),
            [401, 403, 403, 200],
        ),
        (
            POST,
            format!("/api/orders/{oid}/cancel"),
            None,
            [401, 200, 404, 409],
        ),
        (
            POST,
            "/api/products".into(),
            Some(product_body),
            [401, 403, 403, 201],
        ),
        (
            DELETE,
            format!("/api/products/{pid}"),
            None,
            [401, 403, 403, 204],
        ),
    ];
    for (method, uri, body, expected) in cases {
        for (who, token, want) in [
            ("anonymous", None, expected[0]),
            ("owner", Some(owner.as_str()), expected[1]),
            ("stranger", Some(stranger.as_str()), expected[2]),
            ("admin", Some(admin.as_str()), expected[3]),
        ] {
            let reply = send(r, method.clone(), &uri, token, body.as_ref()).await;
            assert_eq!(
                reply.status,
                s(want),
                "{who} {method} {uri}: {}",
                reply.text
            );
            if reply.status.is_client_error() {
                assert_eq!(reply.headers["content-type"], "application/problem+json");
            }
        }
    }
}

#[tokio::test]
async fn openapi_document_describes_every_served_route() {
    let t = app().await;
    let r = &t.router;
    let doc = send(r, GET, "/openapi.json", None, None)
        .await
        .expect(StatusCode::OK)
        .body;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    let paths = doc["paths"].as_object().unwrap();
    let expected = [
        ("/api/auth/register", "post"),
        ("/api/auth/login", "post"),
        ("/api/auth/refresh", "post"),
        ("/api/auth/logout", "post"),
        ("/api/users/me", "get"),
        ("/api/users/me", "patch"),
        ("/api/users/me/password", "post"),
        ("/.well-known/jwks.json", "get"),
        ("/api/products", "get"),
        ("/api/products", "post"),
        ("/api/products/{id}", "get"),
        ("/api/products/{id}", "patch"),
        ("/api/products/{id}", "delete"),
        ("/api/products/{id}/stock", "post"),
        ("/api/products/{id}/reviews", "get"),
        ("/api/products/{id}/reviews", "post"),
        ("/api/cart", "get"),
        ("/api/cart", "delete"),
        ("/api/cart/items", "post"),
        ("/api/cart/items/{product_id}", "patch"),
        ("/api/cart/items/{product_id}", "delete"),
        ("/api/checkout", "post"),
        ("/api/orders", "get"),
        ("/api/orders/{id}", "get"),
        ("/api/orders/{id}/cancel", "post"),
        ("/api/orders/{id}/status", "put"),
        ("/health", "get"),
        ("/ready", "get"),
        ("/openapi.json", "get"),
    ];
    let mut documented = 0;
    let mut operation_ids = std::collections::HashSet::new();
    for (path, ops) in paths {
        for (method, op) in ops.as_object().unwrap() {
            documented += 1;
            // OpenAPI requires them unique; Swagger UI's "try it out" mixes up operations
            // that share one (it ran `GET /api/orders` for the catalog's `list`).
            let id = op["operationId"].as_str().unwrap();
            assert!(operation_ids.insert(id), "operationId {id} is used twice");
            assert!(
                expected.contains(&(path.as_str(), method.as_str())),
                "unexpected {method} {path}"
            );
            assert!(
                op["responses"]["500"].is_object(),
                "{method} {path} documents 500"
            );
            // Every documented operation is served: a request never meets the router's 404/405.
            let uri = path
                .replace("{id}", "00000000-0000-7000-8000-000000000000")
                .replace("{product_id}", "00000000-0000-7000-8000-000000000000");
            let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let reply = send(r, m, &uri, None, None).await;
            assert_ne!(
                reply.status,
                StatusCode::METHOD_NOT_ALLOWED,
                "{method} {path}"
            );
            assert!(
                reply.body["detail"] != "no such route",
                "{method} {path} is not served"
            );
        }
    }
    assert_eq!(documented, expected.len());
    // The committed copy (for readers and client generators) matches the code.
    let committed: Value = serde_json::from_str(include_str!("../openapi.json")).unwrap();
    assert_eq!(
        committed,
        serde_json::to_value(shop_http::openapi()).unwrap(),
        "shop-http/openapi.json is stale: regenerate it with \
         `cargo run -p shop-http --example openapi > shop-http/openapi.json`"
    );
}
