//! # shop-auth
//!
//! Authentication for the shop crates: Argon2id [`password`]s, JWT access tokens with a
//! rotating key set ([`jwt`]), rotating refresh tokens with reuse detection and the
//! [`AuthService`] that ties them to a [`UserStore`](shop_core::UserStore), login
//! [`throttle`]s, and a Tower [`layer`] that authenticates any `http` service.
//!
//! Tokens signed with an asymmetric key can be checked by other services that hold only the
//! public keys, published as a JWK Set:
//!
//! ```
//! use shop_auth::{AccessTokens, KeySet, TokenPolicy};
//! use shop_core::{Role, UserId};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let private_pem = include_bytes!("../tests/keys/ed25519-a.pem");
//! # let public_pem = include_bytes!("../tests/keys/ed25519-a.pub.pem");
//! let issuer = AccessTokens::new(
//!     KeySet::ed25519_pem("2026-12", private_pem, public_pem)?,
//!     TokenPolicy::default(),
//! );
//! let (token, _claims) = issuer.issue(UserId::generate(), &[Role::Customer].into())?;
//!
//! // Elsewhere, with what `GET /.well-known/jwks.json` serves:
//! let published = serde_json::to_vec(&issuer.jwks())?;
//! let verifier = AccessTokens::new(KeySet::from_jwks_json(&published)?, TokenPolicy::default());
//! assert!(verifier.verify(&token)?.has_role(Role::Customer));
//! assert!(verifier.issue(UserId::generate(), &[].into()).is_err()); // it cannot sign
//! # Ok(()) }
//! ```

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
