//! Safe retries for handlers that create something: the `Idempotency-Key` header and the
//! fingerprint of what a request asked for.
//!
//! A store remembers, per key, the fingerprint of the request that first used it. A retry with
//! the same key and the same fingerprint gets the first result; the same key with another
//! fingerprint is refused (`409 idempotency_key_reused`) — the protection the shop's checkout
//! gives, for a checkout handler of your own:
//!
//! ```
//! use axum::{Json, Router, routing::post};
//! use serde::{Deserialize, Serialize};
//! use shop_http::extract::{ApiJson, SignedIn};
//! use shop_http::idempotency::{IdempotencyKeyHeader, fingerprint};
//! use shop_http::ApiError;
//!
//! #[derive(Serialize, Deserialize)]
//! struct GiftCheckout { message: String }
//!
//! async fn gift_checkout(
//!     user: SignedIn,
//!     IdempotencyKeyHeader(key): IdempotencyKeyHeader,
//!     ApiJson(body): ApiJson<GiftCheckout>,
//! ) -> Result<Json<String>, ApiError> {
//!     let print = fingerprint(&body)?;
//!     // Hand `key` and `print` to `CheckoutService::checkout` (or your own store).
//!     Ok(Json(format!("{} {} {}", user.user_id(), key.as_str(), print.as_str())))
//! }
//! let app: Router = Router::new().route("/gift-checkout", post(gift_checkout));
//! ```

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use serde::Serialize;
use sha2::{Digest, Sha256};
use shop_core::{FieldError, IdempotencyKey, RequestFingerprint};

use crate::error::ApiError;

/// The request header that names an attempt.
pub const IDEMPOTENCY_KEY_HEADER: &str = "idempotency-key";

/// The request's `Idempotency-Key` header, 1–255 visible ASCII characters. Missing:
/// `400 idempotency_key_required`; malformed: `400 invalid_field` naming the header.
#[derive(Debug, Clone)]
pub struct IdempotencyKeyHeader(pub IdempotencyKey);

impl<S: Send + Sync> FromRequestParts<S> for IdempotencyKeyHeader {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        key_in(&parts.headers).map(Self)
    }
}

/// The key of `headers`, refused as [`IdempotencyKeyHeader`] refuses.
pub(crate) fn key_in(headers: &HeaderMap) -> Result<IdempotencyKey, ApiError> {
    let raw = headers.get(IDEMPOTENCY_KEY_HEADER).ok_or_else(|| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "idempotency_key_required",
            "send an Idempotency-Key header (1-255 visible ASCII characters) so retries are safe",
        )
    })?;
    let text = raw.to_str().map_err(|_| {
        ApiError::bad_field(FieldError::new(
            "Idempotency-Key",
            "invalid_characters",
            "must be visible ASCII",
        ))
    })?;
    IdempotencyKey::parse(text).map_err(|e| ApiError::bad_field(e.at("Idempotency-Key")))
}

/// The fingerprint of a request body: the SHA-256 of its canonical JSON — the parsed value
/// serialised again, so whitespace and the order of fields in what the client sent do not
/// change it, while any difference in a value does.
///
/// # Errors
/// A `500` problem if `body` cannot be serialised (a derived `Serialize` always can).
pub fn fingerprint<T: Serialize>(body: &T) -> Result<RequestFingerprint, ApiError> {
    let canonical = serde_json::to_vec(body)
        .map_err(|e| ApiError::from(shop_core::Error::internal(e.to_string())))?;
    RequestFingerprint::parse(format!("{:x}", Sha256::digest(&canonical)))
        .map_err(|e| ApiError::from(shop_core::Error::from(e)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize)]
    struct Body {
        a: u32,
        b: &'static str,
    }

    #[test]
    fn equal_values_share_a_fingerprint_and_any_change_shows() {
        let one = fingerprint(&Body { a: 1, b: "x" }).unwrap();
        assert_eq!(one, fingerprint(&Body { a: 1, b: "x" }).unwrap());
        assert_ne!(one, fingerprint(&Body { a: 2, b: "x" }).unwrap());
        assert_ne!(one, fingerprint(&Body { a: 1, b: "y" }).unwrap());
        assert_eq!(one.as_str().len(), 64);
        assert!(one.as_str().bytes().all(|c| c.is_ascii_hexdigit()));
    }
}
