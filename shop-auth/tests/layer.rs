//! The auth layers on a dummy inner service, through `tower::ServiceExt::oneshot`.

#![allow(clippy::unwrap_used)] // test code

use std::collections::BTreeSet;
use std::convert::Infallible;
use std::sync::Arc;

use http::{Request, Response, StatusCode};
use shop_auth::layer::{AuthLayer, require_role};
use shop_auth::{AccessTokens, KeySet, Principal, TokenPolicy};
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
async fn require_role_answers_401_then_403_then_passes() {
    let t = tokens();
    let svc = ServiceBuilder::new()
        .layer(AuthLayer::new(t.clone()))
        .layer(require_role(Role::Admin))
        .service(echo());
    let res = svc.clone().oneshot(get(None)).await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(res.headers()["www-authenticate"], "Bearer");
    let (customer, _) = t
        .issue(UserId::generate(), &BTreeSet::from([Role::Customer]))
        .unwrap();
    let res = svc
        .clone()
        .oneshot(get(Some(&format!("Bearer {customer}"))))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let (admin, _) = t
        .issue(UserId::generate(), &BTreeSet::from([Role::Admin]))
        .unwrap();
    let res = svc
        .oneshot(get(Some(&format!("Bearer {admin}"))))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}
