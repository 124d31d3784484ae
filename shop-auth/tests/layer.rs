//! The auth layers on a dummy inner service, through `tower::ServiceExt::oneshot`.

#![allow(clippy::unwrap_used)] // test code

use std::collections::BTreeSet;
use std::convert::Infallible;
use std::sync::Arc;

use http::{Request, Response, StatusCode};
use shop_auth::{AccessTokens, AuthError, AuthLayer, KeySet, Principal, TokenPolicy};
use shop_core::{Role, UserId};
use tower::{Service, ServiceBuilder, ServiceExt, service_fn};

fn tokens() -> Arc<AccessTokens> {
    Arc::new(AccessTokens::new(
        KeySet::hs256("k1", b"test secret, thirty-two bytes long!").unwrap(),
        TokenPolicy::default(),
    ))
}

/// Answers 200 with the principal's user ID (or "anonymous").
fn echo() -> impl Service<Request<()>, Response = Response<String>, Error = Infallible> + Clone {
    service_fn(|req: Request<()>| async move {
        let who = req
            .extensions()
            .get::<Principal>()
            .map_or_else(|| "anonymous".to_owned(), |p| p.user_id.to_string());
        Ok::<_, Infallible>(Response::new(who))
    })
}

fn get(auth: Option<&str>) -> Request<()> {
    let mut b = Request::get("/x");
    if let Some(a) = auth {
        b = b.header("authorization", a);
    }
    b.body(()).unwrap()
}

#[tokio::test]
async fn anonymous_requests_pass_without_a_principal() {
    let svc = ServiceBuilder::new()
        .layer(AuthLayer::new(tokens()))
        .service(echo());
    let res = svc.oneshot(get(None)).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.body(), "anonymous");
}

#[tokio::test]
async fn valid_tokens_put_the_principal_in_extensions() {
    let t = tokens();
    let user = UserId::generate();
    let (token, _) = t.issue(user, &BTreeSet::from([Role::Customer])).unwrap();
    let svc = ServiceBuilder::new()
        .layer(AuthLayer::new(t))
        .service(echo());
    let res = svc
        .oneshot(get(Some(&format!("Bearer {token}"))))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.body(), &user.to_string());
}

#[tokio::test]
async fn bad_tokens_get_401_with_a_challenge() {
    let other = AccessTokens::new(
        KeySet::hs256("k1", b"some other secret, also 32 bytes!!").unwrap(),
        TokenPolicy::default(),
    );
    let (foreign, _) = other.issue(UserId::generate(), &BTreeSet::new()).unwrap();
    for auth in [
        "Bearer garbage",
        "Basic dXNlcjpwYXNz",
        "Bearer ",
        &format!("Bearer {foreign}"),
    ] {
        let svc = ServiceBuilder::new()
            .layer(AuthLayer::new(tokens()))
            .service(echo());
        let res = svc.oneshot(get(Some(auth))).await.unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{auth}");
        assert_eq!(
            res.headers()["www-authenticate"],
            r#"Bearer error="invalid_token""#,
            "{auth}"
        );
        assert!(res.body().is_empty());
    }
}

#[tokio::test]
async fn the_callers_rejection_answers_bad_tokens_and_learns_why() {
    let seen = Arc::new(parking_lot::Mutex::new(Vec::new()));
    let log = seen.clone();
    let reject = move |e: &AuthError| {
        log.lock().push(e.to_string());
        let mut res = Response::new("problem".to_owned());
        *res.status_mut() = StatusCode::UNAUTHORIZED;
        res
    };
    let svc = ServiceBuilder::new()
        .layer(AuthLayer::new(tokens()).with_rejection(reject))
        .service(echo());
    let res = svc
        .clone()
        .oneshot(get(Some("Bearer garbage")))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(res.body(), "problem");
    assert!(!res.headers().contains_key("www-authenticate"));
    assert_eq!(seen.lock().len(), 1);
    // Anonymous and valid requests never see the rejection.
    assert_eq!(svc.oneshot(get(None)).await.unwrap().body(), "anonymous");
    assert_eq!(seen.lock().len(), 1);
}
