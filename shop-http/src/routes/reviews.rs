//! Reviews: anyone reads a product's reviews with its average; signed-in users write one
//! review per product.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use shop_core::{ProductId, Review, ReviewCursor, ReviewInput, ReviewQuery};
use utoipa::{IntoParams, ToSchema};

use crate::error::{ApiError, ProblemDetails};
use crate::extract::{ApiJson, ApiPath, ApiQuery, Caller, SignedIn};
use crate::routes::catalog::product_id;
use crate::routes::page_limit;
use crate::state::AppState;

/// Query parameters of `GET /api/products/{id}/reviews`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ReviewParams {
    /// Page size, 1–100 (larger values are capped; default 20).
    #[param(minimum = 1)]
    limit: Option<i64>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// A page of a product's reviews, newest first, with the rating summary of all of them.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ReviewPage {
    items: Vec<Review>,
    /// Pass as `cursor` for the next page; absent on the last page.
    next_cursor: Option<String>,
    /// How many reviews the product has.
    count: u64,
    /// Mean rating rounded to two decimals; absent without reviews.
    average_rating: Option<f64>,
}

/// The product, if the caller may see it (inactive products are admin-only).
async fn visible_product(
    state: &AppState,
    caller: &Caller,
    raw_id: &str,
) -> Result<ProductId, ApiError> {
    let id = product_id(raw_id)?;
    match state.commerce.get_product(id).await? {
        Some(p) if p.active || caller.is_admin() => Ok(id),
        _ => Err(ApiError::not_found("product")),
    }
}

/// A product's reviews.
#[utoipa::path(
    get, path = "/api/products/{id}/reviews", tag = "reviews", operation_id = "list_reviews",
    params(("id" = String, Path, format = Uuid, description = "Product ID"), ReviewParams),
    responses(
        (status = 200, description = "A page of reviews", body = ReviewPage),
        (status = 404, description = "No such (visible) product", body = ProblemDetails,
            content_type = "application/problem+json"),
    ),
    security((), ("bearer" = [])),
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiQuery(p): ApiQuery<ReviewParams>,
) -> Result<Json<ReviewPage>, ApiError> {
    let reviews = state.reviews.as_ref().ok_or_else(ApiError::no_route)?;
    let product_id = visible_product(&state, &caller, &id).await?;
    let after = p
        .cursor
        .as_deref()
        .map(ReviewCursor::decode)
        .transpose()
        .map_err(ApiError::bad_field)?;
    let query = ReviewQuery {
        product_id,
        limit: page_limit(p.limit)?,
        after,
    };
    let page = reviews.list_reviews(&query).await?;
    let summary = reviews.rating_summary(product_id).await?;
    Ok(Json(ReviewPage {
        items: page.items,
        next_cursor: page.next.map(|c| c.encode()),
        count: summary.count,
        average_rating: summary.average(),
    }))
}

/// Review a product (signed in; one review per user per product).
#[utoipa::path(
    post, path = "/api/products/{id}/reviews", tag = "reviews", operation_id = "create_review",
    params(("id" = String, Path, format = Uuid, description = "Product ID")),
    request_body = ReviewInput,
    responses(
        (status = 201, description = "The review", body = Review),
        (status = 404, description = "No such (visible) product", body = ProblemDetails,
            content_type = "application/problem+json"),
        (status = 409, description = "Already reviewed by this user", body = ProblemDetails,
            content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
)]
pub(crate) async fn create(
    State(state): State<AppState>,
    user: SignedIn,
    ApiPath(id): ApiPath<String>,
    ApiJson(input): ApiJson<ReviewInput>,
) -> Result<(StatusCode, Json<Review>), ApiError> {
    let (service, _) = state.review_service().ok_or_else(ApiError::no_route)?;
    let auth = state.auth.as_ref().ok_or_else(ApiError::unauthenticated)?;
    let caller = Caller(Some(user.0.clone()));
    let product_id = visible_product(&state, &caller, &id).await?;
    let author = auth.profile(user.user_id()).await?;
    let review = service.add_review(product_id, &author, &input).await?;
    Ok((StatusCode::CREATED, Json(review)))
}
