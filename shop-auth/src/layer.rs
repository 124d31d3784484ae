//! Tower layers that authenticate and authorize `http` requests, on any tower stack (axum,
//! hyper, tonic): they need only `http::Request`/`http::Response` and a response body with a
//! `Default` (empty) value.
//!
//! - [`AuthLayer`] reads `Authorization: Bearer <jwt>`. No header: the request passes on
//!   anonymous. A valid token: the [`Principal`] goes into the request extensions. A header
//!   that is present but bad: `401` with `WWW-Authenticate: Bearer error="invalid_token"`.
//! - [`RequireRoleLayer`] (from [`require_role`]) answers `401` without a principal and `403`
//!   without the role.
//!
//! ```
//! use std::sync::Arc;
//! use http::{Request, Response, StatusCode};
//! use shop_auth::layer::{AuthLayer, require_role};
//! use shop_auth::{AccessTokens, KeySet, Principal, TokenPolicy};
//! use shop_core::{Role, UserId};
//! use tower::{ServiceBuilder, ServiceExt, service_fn};
//!
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let tokens = Arc::new(AccessTokens::new(
//!     KeySet::hs256("k1", b"a secret of at least thirty-two bytes!")?,
//!     TokenPolicy::default(),
//! ));
//! let admin_only = ServiceBuilder::new()
//!     .layer(AuthLayer::new(tokens.clone()))
//!     .layer(require_role(Role::Admin))
//!     .service(service_fn(|req: Request<()>| async move {
//!         let who = req.extensions().get::<Principal>().map(|p| p.user_id.to_string());
//!         Ok::<_, std::convert::Infallible>(Response::new(who.unwrap_or_default()))
//!     }));
//!
//! let (token, _) = tokens.issue(UserId::generate(), &[Role::Admin].into())?;
//! let req = Request::get("/admin").header("authorization", format!("Bearer {token}")).body(())?;
//! assert_eq!(admin_only.clone().oneshot(req).await?.status(), StatusCode::OK);
//! let anonymous = Request::get("/admin").body(())?;
//! assert_eq!(admin_only.oneshot(anonymous).await?.status(), StatusCode::UNAUTHORIZED);
//! # Ok::<(), Box<dyn std::error::Error>>(()) }).unwrap();
//! ```

use std::future::{Ready, ready};
use std::sync::Arc;
use std::task::{Context, Poll};

use futures::future::Either;
use http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use http::{HeaderValue, Request, Response, StatusCode};
use shop_core::Role;
use tower::{Layer, Service};
use tracing::debug;

use crate::jwt::{AccessTokens, Principal};

fn reject<B: Default>(status: StatusCode, challenge: Option<&'static str>) -> Response<B> {
    let mut res = Response::new(B::default());
    *res.status_mut() = status;
    if let Some(c) = challenge {
        res.headers_mut()
            .insert(WWW_AUTHENTICATE, HeaderValue::from_static(c));
    }
    res
}

/// The bearer token of an `Authorization` header value, if it has that form.
fn bearer(value: &HeaderValue) -> Option<&str> {
    let s = value.to_str().ok()?;
    let (scheme, token) = s.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// Authenticates requests; see the [module docs](self).
#[derive(Debug, Clone)]
pub struct AuthLayer {
    tokens: Arc<AccessTokens>,
}

impl AuthLayer {
    /// A layer verifying with `tokens`.
    #[must_use]
    pub fn new(tokens: Arc<AccessTokens>) -> Self {
        Self { tokens }
    }
}

impl<S> Layer<S> for AuthLayer {
    type Service = Authenticate<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Authenticate {
            inner,
            tokens: self.tokens.clone(),
        }
    }
}

/// The service [`AuthLayer`] makes.
#[derive(Debug, Clone)]
pub struct Authenticate<S> {
    inner: S,
    tokens: Arc<AccessTokens>,
}

impl<S, B, RB> Service<Request<B>> for Authenticate<S>
where
    S: Service<Request<B>, Response = Response<RB>>,
    RB: Default,
{
    type Response = Response<RB>;
    type Error = S::Error;
    type Future = Either<Ready<Result<Response<RB>, S::Error>>, S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<B>) -> Self::Future {
        let Some(value) = req.headers().get(AUTHORIZATION) else {
            return Either::Right(self.inner.call(req));
        };
        let verified = bearer(value)
            .ok_or(crate::AuthError::InvalidToken("not a bearer token"))
            .and_then(|t| self.tokens.verify(t));
        match verified {
            Ok(principal) => {
                req.extensions_mut().insert(principal);
                Either::Right(self.inner.call(req))
            }
            Err(e) => {
                debug!(error = ?e, "rejected access token");
                Either::Left(ready(Ok(reject(
                    StatusCode::UNAUTHORIZED,
                    Some(r#"Bearer error="invalid_token""#),
                ))))
            }
        }
    }
}

/// A layer admitting only principals with `role`; see the [module docs](self).
#[must_use]
pub fn require_role(role: Role) -> RequireRoleLayer {
    RequireRoleLayer { role }
}

/// Authorizes requests by role; made by [`require_role`].
#[derive(Debug, Clone, Copy)]
pub struct RequireRoleLayer {
    role: Role,
}

impl<S> Layer<S> for RequireRoleLayer {
    type Service = RequireRole<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RequireRole {
            inner,
            role: self.role,
        }
    }
}

/// The service [`RequireRoleLayer`] makes.
#[derive(Debug, Clone)]
pub struct RequireRole<S> {
    inner: S,
    role: Role,
}

impl<S, B, RB> Service<Request<B>> for RequireRole<S>
where
    S: Service<Request<B>, Response = Response<RB>>,
    RB: Default,
{
    type Response = Response<RB>;
    type Error = S::Error;
    type Future = Either<Ready<Result<Response<RB>, S::Error>>, S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        match req.extensions().get::<Principal>() {
            None => Either::Left(ready(Ok(reject(StatusCode::UNAUTHORIZED, Some("Bearer"))))),
            Some(p) if !p.has_role(self.role) => {
                Either::Left(ready(Ok(reject(StatusCode::FORBIDDEN, None))))
            }
            Some(_) => Either::Right(self.inner.call(req)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_parsing() {
        let v = |s: &'static str| HeaderValue::from_static(s);
        assert_eq!(bearer(&v("Bearer abc")), Some("abc"));
        assert_eq!(bearer(&v("bearer  abc ")), Some("abc"));
        assert_eq!(bearer(&v("Basic abc")), None);
        assert_eq!(bearer(&v("Bearer ")), None);
        assert_eq!(bearer(&v("Bearer")), None);
    }
}
