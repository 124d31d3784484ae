//! Extractors whose rejections are problem documents, and the caller's identity — the same
//! ones the shop's handlers use, for handlers of your own beside them.
//!
//! An [`AuthLayer`](shop_auth::AuthLayer) (the one [`ShopApi`](crate::ShopApi) installs, or
//! your own layer that inserts a [`Principal`]) has already verified any bearer token and left
//! the principal in the request; these extractors only read it.
//!
//! ```
//! use axum::{Json, Router, routing::post};
//! use serde::Deserialize;
//! use shop_http::extract::{ApiJson, SignedIn};
//!
//! #[derive(Deserialize)]
//! struct Wish { product: String }
//!
//! /// `401` problem when anonymous; `415`/`400`/`422` problems for a bad body.
//! async fn wish(user: SignedIn, ApiJson(wish): ApiJson<Wish>) -> Json<String> {
//!     Json(format!("{} wishes for {}", user.user_id(), wish.product))
//! }
//! let app: Router = Router::new().route("/wishes", post(wish));
//! ```

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use serde::de::DeserializeOwned;
use shop_auth::Principal;
use shop_core::{Role, UserId};

use crate::error::ApiError;

/// A JSON object body, refused the same way on every route: a content type other than JSON
/// is `415 unsupported_media_type`; a body over the limit `413 body_too_large`; text that is
/// not JSON `400 malformed_json`; JSON that is not an object, or whose fields have the wrong
/// types or names, `422 invalid_body`. (serde would read an array into a struct; every body
/// here is an object.)
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        if !is_json(req.headers()) {
            return Err(ApiError::unsupported_media_type());
        }
        let bytes = Bytes::from_request(req, state).await?;
        json_object(&bytes).map(Self)
    }
}

/// Whether the request says its body is JSON (`application/json`, `application/*+json`).
pub(crate) fn is_json(headers: &HeaderMap) -> bool {
    let Some(mime) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|m| m.trim().to_ascii_lowercase())
    else {
        return false;
    };
    mime == "application/json" || (mime.starts_with("application/") && mime.ends_with("+json"))
}

/// Reads `bytes` as one JSON object of type `T`; see [`ApiJson`] for how it refuses.
/// Syntax is judged first (a second, cheap pass over at most the body limit), so a body that
/// is both garbled and of the wrong shape is always `400`.
pub(crate) fn json_object<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice::<serde::de::IgnoredAny>(bytes)
        .map_err(|e| ApiError::malformed_json(&e))?;
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(ApiError::invalid_body("the body must be a JSON object"));
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        ApiError::invalid_body(format!("{path}: {}", e.into_inner()))
    })
}

/// Query parameters; bad ones are a `400` problem.
#[derive(Debug)]
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Query(v) = Query::<T>::from_request_parts(parts, state).await?;
        Ok(Self(v))
    }
}

/// Path parameters; bad ones are a `400` problem.
#[derive(Debug)]
pub struct ApiPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Path(v) = Path::<T>::from_request_parts(parts, state).await?;
        Ok(Self(v))
    }
}

/// Whoever calls, signed in or not.
#[derive(Debug, Clone)]
pub struct Caller(pub Option<Principal>);

impl Caller {
    /// Whether the caller is a signed-in admin.
    pub fn is_admin(&self) -> bool {
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
pub struct SignedIn(pub Principal);

impl SignedIn {
    /// The caller's user ID.
    pub fn user_id(&self) -> UserId {
        self.0.user_id
    }

    /// Whether the caller is an admin.
    pub fn is_admin(&self) -> bool {
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
pub struct Admin(pub Principal);

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
