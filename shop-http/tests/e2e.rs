//! The whole customer story over real HTTP, against the app served on port 0: register → login
//! → browse and search → review → cart → checkout (with an idempotent replay) → orders →
//! admin ships → the customer sees it → cancel rules. Run over the memory store, MariaDB and
//! the MongoDB-compatible server (those two skip when unreachable, except under CI=true).

#![allow(clippy::unwrap_used)] // test code

mod support;

use std::sync::Arc;

use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};
use shop_core::ShopStore;
use shop_http::{HttpConfig, router, serve};
use tokio::sync::oneshot;

struct Server {
    base: String,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Server {
    async fn start<S: ShopStore + 'static>(store: Arc<S>) -> Self {
        let state = support::state_over(store).await;
        let config = {
            let mut config = HttpConfig::default();
            config.root_path = "/shop".into();
            config
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}/shop", listener.local_addr().unwrap());
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(serve(listener, router(state, &config), &config, async {
            let _ = stopped.await;
        }));
        Self {
            base,
            stop: Some(stop),
            task,
        }
    }

    async fn shut_down(mut self) {
        let _ = self.stop.take().unwrap().send(());
        self.task.await.unwrap().unwrap();
    }
}

struct Api {
    http: Client,
    base: String,
}

impl Api {
    async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
        key: Option<&str>,
    ) -> (StatusCode, Value) {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(k) = key {
            req = req.header("idempotency-key", k);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.unwrap();
        let status = res.status();
        let text = res.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    async fn ok(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Value {
        let (status, v) = self.call(method.clone(), path, token, body, None).await;
        assert!(status.is_success(), "{method} {path}: {status} {v}");
        v
    }

    async fn token(&self, email: &str) -> String {
        let v = self
            .ok(
                Method::POST,
                "/api/auth/login",
                None,
                Some(json!({"email": email, "password": support::PASSWORD})),
            )
            .await;
        v["access_token"].as_str().unwrap().to_owned()
    }
}

async fn story<S: ShopStore + 'static>(store: Arc<S>) {
    let server = Server::start(store).await;
    let api = Api {
        http: Client::new(),
        base: server.base.clone(),
    };
    let (status, _) = api.call(Method::GET, "/ready", None, None, None).await;
    assert_eq!(status, StatusCode::OK);

    // The admin stocks the shop.
    let admin = api.token(support::ADMIN_EMAIL).await;
    let mut ids = Vec::new();
    for (sku, name, price) in [
        ("TEA-1", "Green tea", 450),
        ("MUG-1", "Tea mug", 1200),
        ("POT-1", "Tea pot", 3500),
    ] {
        let p = api
            .ok(
                Method::POST,
                "/api/products",
                Some(&admin),
                Some(json!({"sku": sku, "name": name, "price_minor": price, "currency": "EUR", "stock": 5})),
            )
            .await;
        ids.push(p["id"].as_str().unwrap().to_owned());
    }

    // A customer registers, signs in, browses and searches.
    let (status, _) = api
        .call(
            Method::POST,
            "/api/auth/register",
            None,
            Some(json!({"email": "Kim@Example.com", "password": support::PASSWORD, "display_name": "Kim"})),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let kim = api.token("kim@example.com").await;
    let all = api
        .ok(Method::GET, "/api/products?sort=price_asc", None, None)
        .await;
    let names: Vec<&str> = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Green tea", "Tea mug", "Tea pot"]);
    let found = api.ok(Method::GET, "/api/products?q=MUG", None, None).await;
    assert_eq!(found["items"][0]["id"], ids[1].as_str());
    let by_slug = api
        .ok(Method::GET, "/api/products/tea-pot", None, None)
        .await;
    assert_eq!(by_slug["id"], ids[2].as_str());

    // Review.
    let reviews = format!("/api/products/{}/reviews", ids[0]);
    api.ok(
        Method::POST,
        &reviews,
        Some(&kim),
        Some(json!({"rating": 4, "title": "Fresh"})),
    )
    .await;
    let listed = api.ok(Method::GET, &reviews, None, None).await;
    assert_eq!(listed["average_rating"], 4.0);

    // Cart and checkout, retried with the same key.
    api.ok(
        Method::POST,
        "/api/cart/items",
        Some(&kim),
        Some(json!({"product_id": ids[0], "quantity": 2})),
    )
    .await;
    let cart = api
        .ok(
            Method::POST,
            "/api/cart/items",
            Some(&kim),
            Some(json!({"product_id": ids[1], "quantity": 1})),
        )
        .await;
    assert_eq!(cart["total"], json!({"minor": 2100, "currency": "EUR"}));
    let body = json!({"cart_version": cart["cart"]["version"]});
    let (status, order) = api
        .call(
            Method::POST,
            "/api/checkout",
            Some(&kim),
            Some(body.clone()),
            Some("order-1"),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{order}");
    let (status, replay) = api
        .call(
            Method::POST,
            "/api/checkout",
            Some(&kim),
            Some(body),
            Some("order-1"),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(replay["id"], order["id"]);
    let order_id = order["id"].as_str().unwrap();
    let tea = api
        .ok(
            Method::GET,
            &format!("/api/products/{}", ids[0]),
            None,
            None,
        )
        .await;
    assert_eq!(tea["stock"], 3, "stock taken exactly once");

    let mine = api.ok(Method::GET, "/api/orders", Some(&kim), None).await;
    assert_eq!(mine["items"].as_array().unwrap().len(), 1);

    // The admin ships; the customer sees it and can no longer cancel.
    for status in ["paid", "shipped"] {
        api.ok(
            Method::PUT,
            &format!("/api/orders/{order_id}/status"),
            Some(&admin),
            Some(json!({"status": status})),
        )
        .await;
    }
    let seen = api
        .ok(
            Method::GET,
            &format!("/api/orders/{order_id}"),
            Some(&kim),
            None,
        )
        .await;
    assert_eq!(seen["status"], "shipped");
    let (status, problem) = api
        .call(
            Method::POST,
            &format!("/api/orders/{order_id}/cancel"),
            Some(&kim),
            None,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(problem["code"], "invalid_transition");

    // A second order is cancelled before shipping and its stock returns.
    api.ok(
        Method::POST,
        "/api/cart/items",
        Some(&kim),
        Some(json!({"product_id": ids[2], "quantity": 5})),
    )
    .await;
    let (status, second) = api
        .call(
            Method::POST,
            "/api/checkout",
            Some(&kim),
            None,
            Some("order-2"),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{second}");
    let pot = api
        .ok(
            Method::GET,
            &format!("/api/products/{}", ids[2]),
            None,
            None,
        )
        .await;
    assert_eq!(pot["stock"], 0);
    let cancelled = api
        .ok(
            Method::POST,
            &format!("/api/orders/{}/cancel", second["id"].as_str().unwrap()),
            Some(&kim),
            None,
        )
        .await;
    assert_eq!(cancelled["status"], "cancelled");
    let pot = api
        .ok(
            Method::GET,
            &format!("/api/products/{}", ids[2]),
            None,
            None,
        )
        .await;
    assert_eq!(pot["stock"], 5);

    let shipped = api
        .ok(
            Method::GET,
            "/api/orders?status=shipped",
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(shipped["items"].as_array().unwrap().len(), 1);
    server.shut_down().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn story_over_memory() {
    story(Arc::new(shop_store::MemoryStore::new())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn story_over_mysql() {
    let Some(scratch) = shop_store::scratch::mysql(8).await else {
        return;
    };
    story(Arc::new(scratch.store.clone())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn story_over_mongodb() {
    let Some(scratch) = shop_store::scratch::mongodb().await else {
        return;
    };
    story(Arc::new(scratch.store.clone())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn story_over_postgres() {
    let Some(scratch) = shop_store::scratch::postgres(8).await else {
        return;
    };
    story(Arc::new(scratch.store.clone())).await;
}
