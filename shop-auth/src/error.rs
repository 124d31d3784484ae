//! The error type of authentication.

use std::time::Duration;

/// Why an authentication step failed. Messages are safe to show; details go to logs.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// Unknown email or wrong password (deliberately indistinguishable).
    #[error("invalid email or password")]
    InvalidCredentials,
    /// The access token is missing parts, forged, expired, not yet valid or for someone else.
    #[error("invalid access token")]
    InvalidToken(&'static str),
    /// The refresh token is unknown, expired or revoked.
    #[error("invalid refresh token")]
    InvalidRefreshToken,
    /// A refresh token was presented a second time: its whole family is now revoked.
    #[error("refresh token reused; every session of this login was revoked")]
    RefreshTokenReused,
    /// Too many failed logins; try again later.
    #[error("too many failed attempts; retry in {} s", .retry_after.as_secs())]
    Throttled {
        /// How long until the next attempt is accepted.
        retry_after: Duration,
    },
    /// Key or parameter setup is wrong (at start-up).
    #[error("auth configuration: {0}")]
    Config(String),
    /// A store or validation error.
    #[error(transparent)]
    Domain(#[from] shop_core::Error),
}

impl From<shop_core::FieldError> for AuthError {
    fn from(e: shop_core::FieldError) -> Self {
        AuthError::Domain(e.into())
    }
}
