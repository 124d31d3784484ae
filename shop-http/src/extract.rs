//! Extractors whose rejections are problem documents, and the caller's identity.
//!
//! The router's [`AuthLayer`](shop_auth::AuthLayer) has already verified any bearer token
//! and left a [`Principal`] in the request; these extractors only read it.

use axum::Json;
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use shop_auth::Principal;
use shop_core::{Role, UserId};

use crate::error::ApiError;

/// A JSON body; malformed JSON, a wrong content type, unknown fields and wrong types are
/// problem documents (400/415/422), never panics.
#[derive(Debug)]
pub(crate) struct ApiJson<T>(pub(crate) T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let Json(v) = Json::<T>::from_request(req, state).await?;
        Ok(Self(v))
    }
}

/// Query parameters; bad ones are a `400` problem.
#[derive(Debug)]
pub(crate) struct ApiQuery<T>(pub(crate) T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Query(v) = Query::<T>::from_request_parts(parts, state).await?;
        Ok(Self(v))
    }
}

/// Path parameters; bad ones are a `400` problem.
#[derive(Debug)]
pub(crate) struct ApiPath<T>(pub(crate) T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Path(v) = Path::<T>::from_request_parts(parts, state).await?;
        Ok(Self(v))
    }
}

/// Whoever calls, signed in or not.
#[derive(Debug, Clone)]
pub(crate) struct Caller(pub(crate) Option<Principal>);

impl Caller {
    /// Whether the caller is a signed-in admin.
    pub(crate) fn is_admin(&self) -> bool {
        self.0.as_ref().is_some_and(|p| p.has_role(Role::Admin))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(parts.extensions.get::<Principal>().cloned()))
    }
}

/// A signed-in caller; `401` otherwise.
#[derive(Debug, Clone)]
pub(crate) struct SignedIn(pub(crate) Principal);

impl SignedIn {
    /// The caller's user ID.
    pub(crate) fn user_id(&self) -> UserId {
        self.0.user_id
    }

    /// Whether the caller is an admin.
    pub(crate) fn is_admin(&self) -> bool {
        self.0.has_role(Role::Admin)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for SignedIn {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        parts
            .extensions
            .get::<Principal>()
            .cloned()
            .map(Self)
            .ok_or_else(ApiError::unauthenticated)
    }
}

/// A signed-in admin; `401` when anonymous, `403` for other roles.
#[derive(Debug, Clone)]
pub(crate) struct Admin(#[allow(dead_code)] pub(crate) Principal);

impl<S: Send + Sync> FromRequestParts<S> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let SignedIn(p) = SignedIn::from_request_parts(parts, state).await?;
        if p.has_role(Role::Admin) {
            Ok(Self(p))
        } else {
            Err(ApiError::forbidden("this operation needs the admin role"))
        }
    }
}
