//! Route handlers, one module per area.

pub(crate) mod auth;
pub(crate) mod cart;
pub(crate) mod catalog;
pub(crate) mod ops;
pub(crate) mod orders;
pub(crate) mod reviews;
pub(crate) mod users;

use axum::Json;
use axum::extract::{FromRequestParts, OriginalUri};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use shop_core::{FieldError, PageLimit};

use crate::error::ApiError;

/// Where the API is mounted, for the links it hands out: the part of the request's original
/// path before the path the API matched (empty, the root path, the prefix of an embedding
/// app's `Router::nest`, or several of them). Worked out per request, so a document or a link
/// is right however the API was mounted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct MountPath(pub(crate) String);

impl<S: Send + Sync> FromRequestParts<S> for MountPath {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let here = parts.uri.path();
        let original = parts
            .extensions
            .get::<OriginalUri>()
            .map_or(here, |o| o.path());
        let mount = original.strip_suffix(here).unwrap_or_default();
        Ok(Self(mount.trim_end_matches('/').to_owned()))
    }
}

/// `201 Created` with `body` and a `Location` of `path` under the mount path.
pub(crate) fn created(mount: &MountPath, path: &str, body: impl Serialize) -> Response {
    let mut res = (StatusCode::CREATED, Json(body)).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("{}{path}", mount.0)) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    res
}

/// The `limit` query parameter: 1 or more (above the maximum page size it is capped, as
/// documented); absent, the default. Values outside `int64` never get here (the query is
/// refused as a whole), so every number the OpenAPI document allows is accepted and every
/// other one refused.
pub(crate) fn page_limit(limit: Option<i64>) -> Result<PageLimit, ApiError> {
    match limit {
        None => Ok(PageLimit::DEFAULT),
        Some(n) => u64::try_from(n)
            .ok()
            .filter(|n| *n >= 1)
            .map(PageLimit::capped)
            .ok_or_else(|| {
                ApiError::bad_field(FieldError::new(
                    "limit",
                    "out_of_range",
                    "must be 1 or more",
                ))
            }),
    }
}
