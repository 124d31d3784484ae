//! A second service that accepts the shop's access tokens without holding any secret: it
//! fetches the shop's public keys from `/.well-known/jwks.json` and verifies with them.
//!
//! ```text
//! SHOP_URL=http://127.0.0.1:8080 cargo run -p shop-examples --example jwks_verifier
//! curl -H "authorization: Bearer $TOKEN" http://127.0.0.1:3001/api/points
//! ```
//!
//! What to notice:
//! - The shop must sign with an asymmetric key (`JWT_PRIVATE_KEY_FILE`/`JWT_PUBLIC_KEY_FILE`,
//!   Ed25519 or RSA); an HS256 secret is never published, so its JWK Set is empty and
//!   [`KeySet::from_jwks_json`] refuses it.
//! - [`KeySet::from_jwks_json`] makes a verify-only key set: this service cannot mint tokens.
//! - [`AuthLayer::with_rejection`] answers a bad token in this service's own error format.
//! - Keys rotate: fetch the set again when a token names a `kid` you do not know (here, at
//!   start; a long-running service would refresh on a miss or every few minutes).

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderValue, Response, StatusCode, header};
use axum::routing::get;
use shop_auth::{AccessTokens, AuthError, AuthLayer, KeySet, TokenPolicy};
use shop_http::extract::SignedIn;

/// The verifier's own answer to a token it refuses.
fn refuse(_: &AuthError) -> Response<Body> {
    let mut res = Response::new(Body::from(r#"{"error":"invalid_token"}"#));
    *res.status_mut() = StatusCode::UNAUTHORIZED;
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    res
}

/// The loyalty service: `GET /api/points` for a signed-in shop customer.
async fn points(user: SignedIn) -> String {
    format!("{{\"user_id\":\"{}\",\"points\":120}}", user.user_id())
}

/// Fetches the shop's JWK Set and builds the service that trusts it.
async fn loyalty_service(shop_url: &str) -> Result<Router, Box<dyn std::error::Error>> {
    let jwks = reqwest::get(format!("{shop_url}/.well-known/jwks.json"))
        .await?
        .error_for_status()?
        .bytes()
        .await?;
    // Same issuer and audience as the shop's policy: tokens for other audiences are refused.
    let tokens = Arc::new(AccessTokens::new(
        KeySet::from_jwks_json(&jwks)?,
        TokenPolicy::default(),
    ));
    Ok(Router::new()
        .route("/api/points", get(points))
        .layer(AuthLayer::new(tokens).with_rejection(refuse)))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let shop_url = std::env::var("SHOP_URL").unwrap_or_else(|_| "http://127.0.0.1:8080".into());
    let app = loyalty_service(&shop_url).await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:3001").await?;
    axum::serve(listener, app).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // test code

    use axum::http::Request;
    use http_body_util::BodyExt;
    use serde_json::{Value, json};
    use shop_auth::{AuthService, MemoryThrottle, PasswordParams, Passwords};
    use shop_http::{AppState, ShopApi};
    use shop_store::MemoryStore;
    use tower::ServiceExt;

    use super::*;

    const ED: &[u8] = include_bytes!("../shop-auth/tests/keys/ed25519-a.pem");
    const ED_PUB: &[u8] = include_bytes!("../shop-auth/tests/keys/ed25519-a.pub.pem");

    /// The shop, signing with Ed25519, served on a loopback port; returns its base URL.
    async fn shop(signing: KeySet) -> String {
        let store = Arc::new(MemoryStore::new());
        let cheap = PasswordParams {
            memory_kib: 64,
            iterations: 1,
            parallelism: 1,
        };
        let auth = AuthService::new(
            store.clone(),
            store.clone(),
            Passwords::new(cheap).unwrap(),
            Arc::new(AccessTokens::new(signing, TokenPolicy::default())),
            Arc::new(MemoryThrottle::default()),
        );
        let app = ShopApi::new(AppState::new(store).with_auth(auth)).into_router();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        url
    }

    async fn token_from(shop_url: &str) -> String {
        let http = reqwest::Client::new();
        let account = json!({"email": "pat@example.com", "password": "a long passphrase", "display_name": "Pat"});
        http.post(format!("{shop_url}/api/auth/register"))
            .json(&account)
            .send()
            .await
            .unwrap();
        let session: Value = http
            .post(format!("{shop_url}/api/auth/login"))
            .json(&json!({"email": "pat@example.com", "password": "a long passphrase"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        session["access_token"].as_str().unwrap().to_owned()
    }

    async fn points_with(app: &Router, token: Option<&str>) -> (StatusCode, Value) {
        let mut req = Request::get("/api/points");
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        let res = app
            .clone()
            .oneshot(req.body(Body::empty()).unwrap())
            .await
            .unwrap();
        let status = res.status();
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    #[tokio::test]
    async fn shop_tokens_verify_with_the_published_keys_alone() {
        let shop_url = shop(KeySet::ed25519_pem("2026-12", ED, ED_PUB).unwrap()).await;
        let loyalty = loyalty_service(&shop_url).await.unwrap();
        let token = token_from(&shop_url).await;
        let (status, body) = points_with(&loyalty, Some(&token)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["points"], 120);

        // Anonymous: the shop's extractor refuses; a bad token: this service's own rejection.
        let (status, body) = points_with(&loyalty, None).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("unauthenticated"))
        );
        // A signature character changed well inside the signature (not its padding bits).
        let at = token.len() - 10;
        let flipped = if &token[at..=at] == "A" { "B" } else { "A" };
        let forged = format!("{}{flipped}{}", &token[..at], &token[at + 1..]);
        let (status, body) = points_with(&loyalty, Some(&forged)).await;
        assert_eq!(
            (status, body),
            (StatusCode::UNAUTHORIZED, json!({"error": "invalid_token"}))
        );
    }

    #[tokio::test]
    async fn a_shop_signing_with_a_shared_secret_publishes_nothing_to_trust() {
        let secret = KeySet::hs256("k", b"a secret of at least thirty-two bytes!").unwrap();
        let shop_url = shop(secret).await;
        let refused = loyalty_service(&shop_url).await.unwrap_err();
        assert!(
            refused.to_string().contains("no EdDSA or RS256"),
            "{refused}"
        );
    }
}
