//! # shop-auth
//!
//! Authentication for the shop crates: Argon2id [`password`]s, JWT access tokens with a
//! rotating key set ([`jwt`]), rotating refresh tokens with reuse detection and the
//! [`AuthService`] that ties them to a [`UserStore`](shop_core::UserStore), login
//! [`throttle`]s, and a Tower [`layer`] that authenticates any `http` service.

pub mod error;
pub mod jwt;
pub mod layer;
pub mod password;
pub mod service;
pub mod throttle;

pub use error::AuthError;
/// The JWK Set type of [`KeySet::jwks`] and [`KeySet::from_jwks`] (jsonwebtoken's).
pub use jsonwebtoken::jwk::JwkSet;
pub use jwt::{AccessTokens, Claims, KeySet, Principal, TokenPolicy};
pub use layer::{AuthLayer, BareUnauthorized, RejectToken};
pub use password::{PasswordParams, Passwords, Verification, check_password_policy};
pub use service::LoginLimits;
pub use service::{AuthService, RegisterInput, Session, refresh_token_hash};
pub use throttle::{
    Admission, AttemptId, LoginThrottle, MemoryThrottle, ThrottleKey, ThrottleUnavailable,
};
#[cfg(feature = "redis")]
pub use throttle::{RedisThrottle, RedisThrottleConfig};
