//! `POST /api/auth/{register,login,refresh,logout}`.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{ConnectInfo, State};
use axum::http::{Extensions, StatusCode};
use serde::{Deserialize, Serialize};
use shop_auth::{AuthService, RegisterInput, Session};
use shop_core::{Role, Timestamp, User, UserId};

use crate::error::ApiError;
use crate::state::AppState;

/// A user as the API shows it (never the password hash).
#[derive(Debug, Serialize)]
pub(crate) struct UserView {
    id: UserId,
    email: String,
    display_name: String,
    roles: Vec<Role>,
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
#[derive(Debug, Serialize)]
pub(crate) struct SessionView {
    access_token: String,
    token_type: &'static str,
    expires_in: u64,
    refresh_token: String,
    user: UserView,
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LoginInput {
    email: String,
    password: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RefreshInput {
    refresh_token: String,
}

fn auth(state: &AppState) -> Result<&Arc<AuthService>, ApiError> {
    state
        .auth
        .as_ref()
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such route"))
}

/// `POST /api/auth/register` → 201 with the new user.
pub(crate) async fn register(
    State(state): State<AppState>,
    body: Result<Json<RegisterInput>, JsonRejection>,
) -> Result<(StatusCode, Json<UserView>), ApiError> {
    let Json(input) = body?;
    let user = auth(&state)?.register(&input).await?;
    Ok((StatusCode::CREATED, Json(UserView::from(&user))))
}

/// `POST /api/auth/login` → a session. Failures are throttled per email and per client address.
pub(crate) async fn login(
    State(state): State<AppState>,
    ext: Extensions,
    body: Result<Json<LoginInput>, JsonRejection>,
) -> Result<Json<SessionView>, ApiError> {
    let Json(input) = body?;
    // The socket's peer address; behind a proxy, deploy with one that sets it correctly.
    let client = ext
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string());
    let session = auth(&state)?
        .login(&input.email, &input.password, client.as_deref())
        .await?;
    Ok(Json(session.into()))
}

/// `POST /api/auth/refresh` → the next session; the refresh token is used up.
pub(crate) async fn refresh(
    State(state): State<AppState>,
    body: Result<Json<RefreshInput>, JsonRejection>,
) -> Result<Json<SessionView>, ApiError> {
    let Json(input) = body?;
    Ok(Json(
        auth(&state)?.refresh(&input.refresh_token).await?.into(),
    ))
}

/// `POST /api/auth/logout` → 204; ends the login the refresh token belongs to.
pub(crate) async fn logout(
    State(state): State<AppState>,
    body: Result<Json<RefreshInput>, JsonRejection>,
) -> Result<StatusCode, ApiError> {
    let Json(input) = body?;
    auth(&state)?.logout(&input.refresh_token).await?;
    Ok(StatusCode::NO_CONTENT)
}
