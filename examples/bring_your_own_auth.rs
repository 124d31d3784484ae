//! Bring your own authentication: the team already has API keys (or sessions, or an identity
//! provider). Its own middleware finds the caller and inserts a [`Principal`]; the shop's
//! handlers read that, never a token of their own.
//!
//! ```text
//! cargo run -p shop-examples --example bring_your_own_auth
//! curl -H 'x-api-key: customer-key' http://127.0.0.1:3000/api/cart
//! ```
//!
//! What to notice:
//! - The state has no `AuthService`, so [`ShopApi`] installs no token layer and serves no
//!   `/api/auth` routes; whatever inserts a `Principal` is the authentication.
//! - Authorization stays the shop's: `401` problem when nobody is signed in, `403` when a
//!   customer tries an admin route, orders visible to their owner only.
//! - Refuse bad credentials with [`ApiError`] so every refusal is the same problem document.

use std::collections::{BTreeSet, HashMap};
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use shop_auth::Principal;
use shop_core::{Role, UserId};
use shop_http::{ApiError, AppState, ShopApi};
use shop_store::MemoryStore;

/// The team's own credentials: API key → user and roles (in real life, its database).
#[derive(Debug, Default)]
struct ApiKeys(HashMap<String, (UserId, BTreeSet<Role>)>);

/// Finds the caller by `x-api-key` and hands the shop a [`Principal`]. No key: anonymous (the
/// shop decides what anonymous callers may do). An unknown key: refused here.
async fn api_key_auth(State(keys): State<Arc<ApiKeys>>, mut req: Request, next: Next) -> Response {
    let Some(key) = req.headers().get("x-api-key") else {
        return next.run(req).await;
    };
    let found = key.to_str().ok().and_then(|k| keys.0.get(k));
    let Some((user_id, roles)) = found else {
        return ApiError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_api_key",
            "the API key is unknown or revoked",
        )
        .into_response();
    };
    req.extensions_mut().insert(Principal {
        user_id: *user_id,
        roles: roles.clone(),
        token_id: String::new(),
    });
    next.run(req).await
}

fn app(shop_state: AppState, keys: Arc<ApiKeys>) -> Router {
    ShopApi::new(shop_state)
        .into_router()
        .layer(from_fn_with_state(keys, api_key_auth))
}

fn demo_keys() -> Arc<ApiKeys> {
    Arc::new(ApiKeys(HashMap::from([
        (
            "admin-key".to_owned(),
            (UserId::generate(), BTreeSet::from([Role::Admin])),
        ),
        (
            "customer-key".to_owned(),
            (UserId::generate(), BTreeSet::from([Role::Customer])),
        ),
    ])))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let state = AppState::new(Arc::new(MemoryStore::new()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
    axum::serve(
        listener,
        app(state, demo_keys()).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // test code

    use axum::body::Body;
    use axum::http::{Method, header};
    use http_body_util::BodyExt;
    use serde_json::{Value, json};
    use tower::ServiceExt;

    use super::*;

    async fn call(
        app: &Router,
        method: Method,
        uri: &str,
        key: Option<&str>,
        body: Option<Value>,
        idempotency_key: Option<&str>,
    ) -> (StatusCode, Value) {
        let mut req = Request::builder().method(method).uri(uri);
        if let Some(k) = key {
            req = req.header("x-api-key", k);
        }
        if let Some(k) = idempotency_key {
            req = req.header("idempotency-key", k);
        }
        let req = match body {
            Some(b) => req
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(b.to_string())),
            None => req.body(Body::empty()),
        }
        .unwrap();
        let res = app.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    #[tokio::test]
    async fn the_teams_keys_sign_in_and_the_shop_authorizes() {
        let app = app(AppState::new(Arc::new(MemoryStore::new())), demo_keys());
        let product = json!({"sku": "BYO-1", "name": "Mug", "price_minor": 1200, "currency": "EUR", "stock": 5});
        // A customer may not write the catalog; an admin may.
        let (status, body) = call(
            &app,
            Method::POST,
            "/api/products",
            Some("customer-key"),
            Some(product.clone()),
            None,
        )
        .await;
        assert_eq!(
            (status, body["code"].as_str()),
            (StatusCode::FORBIDDEN, Some("forbidden"))
        );
        let (status, created) = call(
            &app,
            Method::POST,
            "/api/products",
            Some("admin-key"),
            Some(product),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{created}");

        // A customer shops and checks out, safely retried.
        let item = json!({"product_id": created["id"], "quantity": 2});
        let (status, _) = call(
            &app,
            Method::POST,
            "/api/cart/items",
            Some("customer-key"),
            Some(item),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        let (status, order) = call(
            &app,
            Method::POST,
            "/api/checkout",
            Some("customer-key"),
            None,
            Some("try-1"),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{order}");
        assert_eq!(order["total"]["minor"], 2400);
        let (status, again) = call(
            &app,
            Method::POST,
            "/api/checkout",
            Some("customer-key"),
            None,
            Some("try-1"),
        )
        .await;
        assert_eq!((status, &again["id"]), (StatusCode::OK, &order["id"]));

        // The order is its owner's alone.
        let uri = format!("/api/orders/{}", order["id"].as_str().unwrap());
        let (status, _) = call(&app, Method::GET, &uri, Some("customer-key"), None, None).await;
        assert_eq!(status, StatusCode::OK);
    }

    #[tokio::test]
    async fn no_key_is_anonymous_and_a_bad_key_is_refused_as_a_problem() {
        let app = app(AppState::new(Arc::new(MemoryStore::new())), demo_keys());
        let (status, body) = call(&app, Method::GET, "/api/cart", None, None, None).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("unauthenticated"))
        );
        let (status, body) = call(&app, Method::GET, "/api/cart", Some("stolen"), None, None).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("invalid_api_key"))
        );
        // Browsing needs no one.
        let (status, _) = call(&app, Method::GET, "/api/products", None, None, None).await;
        assert_eq!(status, StatusCode::OK);
        // Without an AuthService there are no shop accounts.
        let (status, _) = call(
            &app,
            Method::POST,
            "/api/auth/login",
            None,
            Some(json!({"email": "a@b.c", "password": "x"})),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
}
