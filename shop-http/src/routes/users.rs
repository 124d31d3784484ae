//! The signed-in user's own profile and password.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use shop_auth::AuthError;
use shop_core::FieldError;
use utoipa::ToSchema;

use crate::error::{ApiError, ProblemDetails};
use crate::extract::{ApiJson, SignedIn};
use crate::routes::auth::{UserView, auth};
use crate::state::AppState;

/// Profile fields a user may change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ProfileUpdate {
    /// Name shown on reviews, 1–80 characters.
    display_name: String,
}

/// A password change.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PasswordChange {
    /// The password in use now.
    #[schema(format = Password)]
    current_password: String,
    /// The new one: 8–128 characters, not the email.
    #[schema(format = Password)]
    new_password: String,
}

/// The caller's profile.
#[utoipa::path(
    get, path = "/api/users/me", tag = "users",
    responses((status = 200, description = "The caller", body = UserView)),
    security(("bearer" = [])),
)]
pub(crate) async fn me(
    State(state): State<AppState>,
    user: SignedIn,
) -> Result<Json<UserView>, ApiError> {
    let found = auth(&state)?.profile(user.user_id()).await?;
    Ok(Json(UserView::from(&found)))
}

/// Change the caller's display name.
#[utoipa::path(
    patch, path = "/api/users/me", tag = "users",
    request_body = ProfileUpdate,
    responses((status = 200, description = "The changed profile", body = UserView)),
    security(("bearer" = [])),
)]
pub(crate) async fn update_me(
    State(state): State<AppState>,
    user: SignedIn,
    ApiJson(input): ApiJson<ProfileUpdate>,
) -> Result<Json<UserView>, ApiError> {
    let updated = auth(&state)?
        .update_profile(user.user_id(), &input.display_name)
        .await?;
    Ok(Json(UserView::from(&updated)))
}

/// Change the caller's password. Every refresh token of the user is revoked, so other
/// sessions end when their access tokens expire.
#[utoipa::path(
    post, path = "/api/users/me/password", tag = "users",
    request_body = PasswordChange,
    responses(
        (status = 204, description = "Changed"),
        (status = 422, description = "Wrong current password or a weak new one",
            body = ProblemDetails, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
)]
pub(crate) async fn change_password(
    State(state): State<AppState>,
    user: SignedIn,
    ApiJson(input): ApiJson<PasswordChange>,
) -> Result<StatusCode, ApiError> {
    match auth(&state)?
        .change_password(user.user_id(), &input.current_password, &input.new_password)
        .await
    {
        Ok(()) => Ok(StatusCode::NO_CONTENT),
        // Not a 401: the access token is fine, the field is wrong.
        Err(AuthError::InvalidCredentials) => Err(ApiError::invalid_field(FieldError::new(
            "current_password",
            "incorrect",
            "is not the current password",
        ))),
        Err(e) => Err(e.into()),
    }
}
