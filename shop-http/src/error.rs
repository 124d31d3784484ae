//! Every error the API returns is `application/problem+json` (RFC 9457) with a stable machine
//! `code` and, for validation failures, one entry per bad field. Internal and storage errors
//! say nothing internal: their details go to the log, keyed by the request.

use axum::Json;
use axum::extract::rejection::{BytesRejection, PathRejection, QueryRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use shop_core::{Error, FieldError};
use tracing::error;

/// An API error, rendered as a problem document. Only what varies is stored; `type` and
/// `title` derive from `code` and `status`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable machine-readable code, e.g. `validation_failed`, `insufficient_stock`.
    pub code: &'static str,
    /// Human explanation of this occurrence (safe to show).
    pub detail: String,
    /// Per-field problems of a validation failure.
    pub errors: Vec<FieldError>,
    /// Seconds to wait before retrying (sent as `Retry-After`).
    pub retry_after: Option<u64>,
}

/// The wire form of every error (RFC 9457 problem details), as documented in the OpenAPI
/// document.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ProblemDetails {
    /// Always `about:blank` (RFC 9457 §4.2.1): the problem is what the status says, its
    /// `title` the status's reason phrase, and `code` tells the kinds apart — a URI of a
    /// placeholder domain would invite clients to dereference what nobody serves.
    #[serde(rename = "type")]
    pub kind: String,
    /// The HTTP status's reason phrase.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong in this occurrence; safe to show.
    pub detail: String,
    /// Stable machine-readable code, e.g. `validation_failed`, `insufficient_stock`.
    pub code: String,
    /// One entry per bad field, for validation failures.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

impl Serialize for ApiError {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        ProblemDetails {
            kind: "about:blank".to_owned(),
            title: self.status.canonical_reason().unwrap_or("Error").to_owned(),
            status: self.status.as_u16(),
            detail: self.detail.clone(),
            code: self.code.to_owned(),
            errors: self.errors.clone(),
        }
        .serialize(s)
    }
}

impl ApiError {
    /// A problem with `status`, `code` and a detail message.
    #[must_use]
    pub fn new(status: StatusCode, code: &'static str, detail: impl Into<String>) -> Self {
        Self {
            status,
            code,
            detail: detail.into(),
            errors: Vec::new(),
            retry_after: None,
        }
    }

    /// 404 for `what`.
    #[must_use]
    pub fn not_found(what: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("{what} not found"),
        )
    }

    /// 404 for a route that is not served (also for optional features not configured).
    #[must_use]
    pub fn no_route() -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", "no such route")
    }

    /// 401: the request needs a signed-in user.
    #[must_use]
    pub fn unauthenticated() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "sign in and send the access token as `Authorization: Bearer …`",
        )
    }

    /// 403: signed in, but not allowed.
    #[must_use]
    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", detail)
    }

    /// 422 for one bad field of a request body.
    #[must_use]
    pub fn invalid_field(e: FieldError) -> Self {
        Error::from(e).into()
    }

    /// 415: the body is not JSON.
    #[must_use]
    pub fn unsupported_media_type() -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the body as `Content-Type: application/json`",
        )
    }

    /// 400: the body is not JSON at all.
    #[must_use]
    pub fn malformed_json(e: &serde_json::Error) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "malformed_json",
            format!("the body is not valid JSON: {e}"),
        )
    }

    /// 422: JSON, but not the shape the route takes (not an object, wrong types, unknown
    /// fields).
    #[must_use]
    pub fn invalid_body(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body", detail)
    }

    /// 413: the body is larger than `limit` bytes.
    #[must_use]
    pub fn body_too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            format!("the body is larger than {limit} bytes"),
        )
    }

    /// 405: the route does not serve this method (the response's `Allow` lists those it does).
    #[must_use]
    pub fn method_not_allowed() -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "this route does not serve that method; see the Allow header",
        )
    }

    /// 400 for one bad parameter.
    #[must_use]
    pub fn bad_field(e: FieldError) -> Self {
        let mut p = Self::new(StatusCode::BAD_REQUEST, "invalid_parameter", e.to_string());
        p.errors.push(e);
        p
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        match &e {
            Error::Validation(v) => {
                let mut p = Self::new(StatusCode::UNPROCESSABLE_ENTITY, e.code(), v.to_string());
                p.errors = v.fields().to_vec();
                p
            }
            Error::NotFound(what) => Self::not_found(what),
            Error::Conflict(c) => Self::new(StatusCode::CONFLICT, c.code(), c.to_string()),
            Error::InsufficientStock { .. } | Error::InvalidTransition { .. } => {
                Self::new(StatusCode::CONFLICT, e.code(), e.to_string())
            }
            Error::Unavailable(_) => {
                error!(error = ?e, "storage unavailable");
                Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    e.code(),
                    "the service is temporarily unavailable; retry later",
                )
            }
            _ => {
                error!(error = ?e, "internal error");
                Self::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "internal error",
                )
            }
        }
    }
}

impl From<shop_auth::AuthError> for ApiError {
    fn from(e: shop_auth::AuthError) -> Self {
        use shop_auth::AuthError as A;
        let unauthorized =
            |code: &'static str| Self::new(StatusCode::UNAUTHORIZED, code, e.to_string());
        match e {
            A::InvalidCredentials => unauthorized("invalid_credentials"),
            A::InvalidToken(_) => unauthorized("invalid_token"),
            A::InvalidRefreshToken => unauthorized("invalid_refresh_token"),
            A::RefreshTokenReused => unauthorized("refresh_token_reused"),
            A::Throttled { retry_after } => {
                let mut p = Self::new(StatusCode::TOO_MANY_REQUESTS, "throttled", e.to_string());
                p.retry_after = Some(retry_after.as_secs().max(1));
                p
            }
            A::Domain(inner) => inner.into(),
            _ => {
                error!(error = ?e, "auth failure");
                Self::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "internal error",
                )
            }
        }
    }
}

impl From<BytesRejection> for ApiError {
    fn from(r: BytesRejection) -> Self {
        if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            Self::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body_too_large",
                r.body_text(),
            )
        } else {
            Self::new(StatusCode::BAD_REQUEST, "unreadable_body", r.body_text())
        }
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_query", r.body_text())
    }
}

impl From<PathRejection> for ApiError {
    fn from(r: PathRejection) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_path", r.body_text())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status;
        let retry_after = self.retry_after;
        let code = self.code;
        let mut res = (status, Json(self)).into_response();
        if let Some(secs) = retry_after {
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        if status == StatusCode::UNAUTHORIZED {
            // RFC 6750: tell the client which scheme, and whether its token was the problem.
            let challenge = if code == "invalid_token" {
                r#"Bearer error="invalid_token""#
            } else {
                "Bearer"
            };
            res.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(challenge),
            );
        }
        res.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        res
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_errors_say_nothing_internal() {
        let p = ApiError::from(Error::internal("SELECT secret FROM users"));
        assert_eq!(p.status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!p.detail.contains("SELECT"));
        let p = ApiError::from(Error::unavailable("connection refused to db:3306"));
        assert_eq!(p.status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(!p.detail.contains("3306"));
    }

    #[test]
    fn problem_json_shape() {
        let p = ApiError::from(Error::from(FieldError::new(
            "rating",
            "out_of_range",
            "must be 1-5",
        )));
        let v = serde_json::to_value(&p).unwrap();
        assert_eq!(v["status"], 422);
        assert_eq!(v["code"], "validation_failed");
        assert_eq!(v["errors"][0]["field"], "rating");
        assert_eq!(v["type"], "about:blank");
    }
}
