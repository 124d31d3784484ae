//! Route handlers, one module per area.

pub(crate) mod auth;
pub(crate) mod cart;
pub(crate) mod catalog;
pub(crate) mod ops;
pub(crate) mod orders;
pub(crate) mod reviews;
pub(crate) mod users;

use std::sync::Arc;

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use shop_core::{FieldError, PageLimit};

use crate::error::ApiError;

/// The prefix every route is served under (`HttpConfig::root_path`, without a trailing `/`),
/// for links the API hands out.
#[derive(Debug, Clone)]
pub(crate) struct RootPath(pub(crate) Arc<str>);

/// `201 Created` with `body` and a `Location` of `path` under the root path.
pub(crate) fn created(root: &RootPath, path: &str, body: impl Serialize) -> Response {
    let mut res = (StatusCode::CREATED, Json(body)).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("{}{path}", root.0)) {
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
