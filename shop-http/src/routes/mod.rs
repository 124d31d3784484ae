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
