//! A Tower layer that authenticates `http` requests, on any tower stack (axum, hyper, tonic):
//! it needs only `http::Request`/`http::Response`.
//!
//! [`AuthLayer`] reads `Authorization: Bearer <jwt>`. No header: the request passes on
//! anonymous. A valid token: the [`Principal`](crate::Principal) goes into the request extensions. A header that
//! is present but bad: the layer's [rejection](RejectToken). By default ([`BareUnauthorized`])
//! that is an empty `401` with `WWW-Authenticate: Bearer error="invalid_token"`; give
//! [`AuthLayer::with_rejection`] a closure to answer in your API's own error format, as
//! shop-http does with a problem document.
//!
//! Authorization (who may do what) is the handlers' business: shop-http's `SignedIn` and
//! `Admin` extractors read the principal and refuse with `401`/`403`.
//!
//! ```
//! use std::sync::Arc;
//! use http::{Request, Response, StatusCode};
//! use shop_auth::{AccessTokens, AuthError, AuthLayer, KeySet, Principal, TokenPolicy};
//! use shop_core::{Role, UserId};
//! use tower::{ServiceBuilder, ServiceExt, service_fn};
//!
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let tokens = Arc::new(AccessTokens::new(
//!     KeySet::hs256("k1", b"a secret of at least thirty-two bytes!")?,
//!     TokenPolicy::default(),
//! ));
//! let refuse = |_: &AuthError| {
//!     let mut res = Response::new("{\"error\":\"invalid_token\"}".to_owned());
//!     *res.status_mut() = StatusCode::UNAUTHORIZED;
//!     res
//! };
//! let whoami = ServiceBuilder::new()
//!     .layer(AuthLayer::new(tokens.clone()).with_rejection(refuse))
//!     .service(service_fn(|req: Request<()>| async move {
//!         let who = req.extensions().get::<Principal>().map(|p| p.user_id.to_string());
//!         Ok::<_, std::convert::Infallible>(Response::new(who.unwrap_or_default()))
//!     }));
//!
//! let (token, _) = tokens.issue(UserId::generate(), &[Role::Admin].into())?;
//! let req = Request::get("/me").header("authorization", format!("Bearer {token}")).body(())?;
//! assert_eq!(whoami.clone().oneshot(req).await?.status(), StatusCode::OK);
//! let forged = Request::get("/me").header("authorization", "Bearer forged").body(())?;
//! let res = whoami.oneshot(forged).await?;
//! assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
//! assert!(res.body().contains("invalid_token"));
//! # Ok::<(), Box<dyn std::error::Error>>(()) }).unwrap();
//! ```

use std::future::{Ready, ready};
use std::sync::Arc;
use std::task::{Context, Poll};

use futures::future::Either;
use http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use http::{HeaderValue, Request, Response, StatusCode};
use tower::{Layer, Service};
use tracing::debug;

use crate::AuthError;
use crate::jwt::AccessTokens;

/// The bearer token of an `Authorization` header value, if it has that form.
fn bearer(value: &HeaderValue) -> Option<&str> {
    let s = value.to_str().ok()?;
    let (scheme, token) = s.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// What [`AuthLayer`] answers for a request whose bearer token is refused.
///
/// Implemented by [`BareUnauthorized`] and by every `Fn(&AuthError) -> Response<B> + Clone`.
/// The error says why (for logs); do not echo it to the caller.
pub trait RejectToken<B> {
    /// The response for a request whose token was refused with `error`.
    fn reject(&self, error: &AuthError) -> Response<B>;
}

/// The default rejection: `401`, an empty body and
/// `WWW-Authenticate: Bearer error="invalid_token"` (RFC 6750).
#[derive(Debug, Clone, Copy, Default)]
pub struct BareUnauthorized;

impl<B: Default> RejectToken<B> for BareUnauthorized {
    fn reject(&self, _: &AuthError) -> Response<B> {
        let mut res = Response::new(B::default());
        *res.status_mut() = StatusCode::UNAUTHORIZED;
        res.headers_mut().insert(
            WWW_AUTHENTICATE,
            HeaderValue::from_static(r#"Bearer error="invalid_token""#),
        );
        res
    }
}

impl<B, F> RejectToken<B> for F
where
    F: Fn(&AuthError) -> Response<B>,
{
    fn reject(&self, error: &AuthError) -> Response<B> {
        self(error)
    }
}

/// Authenticates requests; see the [module docs](self).
#[derive(Debug, Clone)]
pub struct AuthLayer<R = BareUnauthorized> {
    tokens: Arc<AccessTokens>,
    reject: R,
}

impl AuthLayer {
    /// A layer verifying with `tokens` and answering a bad token with [`BareUnauthorized`].
    #[must_use]
    pub fn new(tokens: Arc<AccessTokens>) -> Self {
        Self {
            tokens,
            reject: BareUnauthorized,
        }
    }
}

impl<R> AuthLayer<R> {
    /// The same layer, answering a bad token with `reject` instead.
    #[must_use]
    pub fn with_rejection<R2>(self, reject: R2) -> AuthLayer<R2> {
        AuthLayer {
            tokens: self.tokens,
            reject,
        }
    }
}

impl<S, R: Clone> Layer<S> for AuthLayer<R> {
    type Service = Authenticate<S, R>;

    fn layer(&self, inner: S) -> Self::Service {
        Authenticate {
            inner,
            tokens: self.tokens.clone(),
            reject: self.reject.clone(),
        }
    }
}

/// The service [`AuthLayer`] makes.
#[derive(Debug, Clone)]
pub struct Authenticate<S, R = BareUnauthorized> {
    inner: S,
    tokens: Arc<AccessTokens>,
    reject: R,
}

impl<S, R, B, RB> Service<Request<B>> for Authenticate<S, R>
where
    S: Service<Request<B>, Response = Response<RB>>,
    R: RejectToken<RB>,
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
            .ok_or(AuthError::InvalidToken("not a bearer token"))
            .and_then(|t| self.tokens.verify(t));
        match verified {
            Ok(principal) => {
                req.extensions_mut().insert(principal);
                Either::Right(self.inner.call(req))
            }
            Err(e) => {
                debug!(error = ?e, "rejected access token");
                Either::Left(ready(Ok(self.reject.reject(&e))))
            }
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
