//! `POST /api/auth/{register,login,refresh,logout}`.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::{Extensions, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use shop_auth::{AuthService, RegisterInput, Session};
use shop_core::{Role, Timestamp, User, UserId};
use utoipa::ToSchema;

use crate::client_addr::ClientAddr;
use crate::error::{ApiError, ProblemDetails};
use crate::extract::ApiJson;
use crate::metrics::LoginOutcome;
use crate::state::AppState;

/// A user as the API shows it (never the password hash).
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct UserView {
    id: UserId,
    /// Sign-in address (lower-cased).
    #[schema(format = Email)]
    email: String,
    /// Name shown on reviews.
    display_name: String,
    roles: Vec<Role>,
    #[schema(value_type = String, format = DateTime)]
    created_at: Timestamp,
}

impl From<&User> for UserView {
    fn from(u: &User) -> Self {
        Self {
            id: u.id,
            email: u.email.as_str().to_owned(),
            display_name: u.display_name.as_str().to_owned(),
            roles: u.roles.iter().copied().collect(),
            created_at: u.created_at,
        }
    }
}

/// Tokens for a signed-in user.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct SessionView {
    /// JWT to send as `Authorization: Bearer …`.
    access_token: String,
    /// Always `Bearer`.
    token_type: &'static str,
    /// Seconds the access token stays valid.
    expires_in: u64,
    /// Single-use token for `POST /api/auth/refresh`.
    refresh_token: String,
    user: UserView,
}

/// What a client sends to register (the wire form of `shop_auth::RegisterInput`).
#[derive(ToSchema)]
#[allow(dead_code)] // documents the body; `RegisterInput` deserializes it
pub(crate) struct RegisterBody {
    /// Sign-in address.
    #[schema(format = Email)]
    email: String,
    /// 8–128 characters, not the email.
    #[schema(format = Password)]
    password: String,
    /// Name shown on reviews, 1–80 characters.
    display_name: String,
}

impl From<Session> for SessionView {
    fn from(s: Session) -> Self {
        Self {
            user: UserView::from(&s.user),
            access_token: s.access_token,
            token_type: "Bearer",
            expires_in: s.expires_in,
            refresh_token: s.refresh_token,
        }
    }
}

/// Credentials.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct LoginInput {
    /// Sign-in address.
    email: String,
    /// Password.
    #[schema(format = Password)]
    password: String,
}

/// A refresh token from a session.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RefreshInput {
    /// The session's `refresh_token`.
    refresh_token: String,
}

pub(crate) fn auth(state: &AppState) -> Result<&Arc<AuthService>, ApiError> {
    state.auth.as_ref().ok_or_else(ApiError::no_route)
}

/// Create a customer account.
#[utoipa::path(
    post, path = "/api/auth/register", tag = "auth",
    request_body = RegisterBody,
    responses(
        (status = 201, description = "The new user", body = UserView),
        (status = 409, description = "Email taken", body = ProblemDetails, content_type = "application/problem+json"),
    ),
)]
pub(crate) async fn register(
    State(state): State<AppState>,
    ApiJson(input): ApiJson<RegisterInput>,
) -> Result<(StatusCode, Json<UserView>), ApiError> {
    let user = auth(&state)?.register(&input).await?;
    Ok((StatusCode::CREATED, Json(UserView::from(&user))))
}

/// Sign in. Failures are throttled per email and per client address.
#[utoipa::path(
    post, path = "/api/auth/login", tag = "auth",
    request_body = LoginInput,
    responses(
        (status = 200, description = "A session", body = SessionView),
        (status = 401, description = "Wrong email or password", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 429, description = "Too many failures; see Retry-After", body = ProblemDetails,
            content_type = "application/problem+json"),
    ),
)]
pub(crate) async fn login(
    State(state): State<AppState>,
    ext: Extensions,
    ApiJson(input): ApiJson<LoginInput>,
) -> Result<Json<SessionView>, ApiError> {
    // The client's address: the socket peer, or what a trusted proxy says it saw.
    let client = ext.get::<ClientAddr>().map(|c| c.0.to_string());
    let result = auth(&state)?
        .login(&input.email, &input.password, client.as_deref())
        .await;
    let outcome = match &result {
        Ok(_) => Some(LoginOutcome::Succeeded),
        Err(shop_auth::AuthError::InvalidCredentials) => Some(LoginOutcome::Failed),
        Err(shop_auth::AuthError::Throttled { .. }) => Some(LoginOutcome::Throttled),
        // A store outage says nothing about the person signing in.
        Err(_) => None,
    };
    if let Some(outcome) = outcome {
        state.metrics.observe_login(outcome);
    }
    Ok(Json(result?.into()))
}

/// Trade a refresh token for the next session; the token is used up (reusing it ends the
/// whole login).
#[utoipa::path(
    post, path = "/api/auth/refresh", tag = "auth",
    request_body = RefreshInput,
    responses(
        (status = 200, description = "The next session", body = SessionView),
        (status = 401, description = "Unknown, used, expired or revoked refresh token",
            body = ProblemDetails, content_type = "application/problem+json"),
    ),
)]
pub(crate) async fn refresh(
    State(state): State<AppState>,
    ApiJson(input): ApiJson<RefreshInput>,
) -> Result<Json<SessionView>, ApiError> {
    Ok(Json(
        auth(&state)?.refresh(&input.refresh_token).await?.into(),
    ))
}

/// End the login the refresh token belongs to.
#[utoipa::path(
    post, path = "/api/auth/logout", tag = "auth",
    request_body = RefreshInput,
    responses((status = 204, description = "Signed out")),
)]
pub(crate) async fn logout(
    State(state): State<AppState>,
    ApiJson(input): ApiJson<RefreshInput>,
) -> Result<StatusCode, ApiError> {
    auth(&state)?.logout(&input.refresh_token).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The public keys that verify this API's access tokens, as a JWK Set (RFC 7517): EdDSA and
/// RS256 keys, current and rotated-out alike. A shared HS256 secret is never published, so
/// with one the set is empty. Another service verifies tokens with it and no secret
/// (`shop_auth::KeySet::from_jwks`).
#[utoipa::path(
    get, path = "/.well-known/jwks.json", tag = "auth",
    responses(
        (status = 200, description = "The JWK Set", body = Object),
        (status = 404, description = "This deployment has no accounts", body = ProblemDetails,
            content_type = "application/problem+json"),
    ),
)]
pub(crate) async fn jwks(State(state): State<AppState>) -> Result<Response, ApiError> {
    let auth = state.auth.as_ref().ok_or_else(ApiError::no_route)?;
    let mut res = Json(auth.access_tokens().jwks()).into_response();
    // Verifiers may cache it; one that meets a `kid` it does not know fetches it again.
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    Ok(res)
}
