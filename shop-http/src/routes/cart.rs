//! The signed-in user's cart, priced at current prices.

use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use shop_core::{CartView, Quantity};
use utoipa::ToSchema;

use crate::error::{ApiError, ProblemDetails};
use crate::extract::{ApiJson, ApiPath, SignedIn};
use crate::routes::catalog::product_id;
use crate::state::AppState;

/// A product to put in the cart.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AddItem {
    /// The product's ID.
    #[schema(format = Uuid)]
    product_id: String,
    /// Units to add, 1–999 (merged with a line already in the cart).
    #[schema(minimum = 1, maximum = 999)]
    quantity: i64,
}

/// A line's new quantity.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SetQuantity {
    /// Units, 1–999.
    #[schema(minimum = 1, maximum = 999)]
    quantity: i64,
}

fn quantity(n: i64) -> Result<Quantity, ApiError> {
    Quantity::new(n).map_err(|e| ApiError::invalid_field(e.at("quantity")))
}

/// The caller's cart.
#[utoipa::path(
    get, path = "/api/cart", tag = "cart", operation_id = "get_cart",
    responses((status = 200, description = "The cart, priced", body = CartView)),
    security(("bearer" = [])),
)]
pub(crate) async fn get(
    State(state): State<AppState>,
    user: SignedIn,
) -> Result<Json<CartView>, ApiError> {
    Ok(Json(state.carts.view(user.user_id()).await?))
}

/// Add units of a product.
#[utoipa::path(
    post, path = "/api/cart/items", tag = "cart", operation_id = "add_cart_item",
    request_body = AddItem,
    responses(
        (status = 200, description = "The cart, priced", body = CartView),
        (status = 404, description = "No such product", body = ProblemDetails,
            content_type = "application/problem+json"),
        (status = 409, description = "The product is not for sale", body = ProblemDetails,
            content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
)]
pub(crate) async fn add_item(
    State(state): State<AppState>,
    user: SignedIn,
    ApiJson(input): ApiJson<AddItem>,
) -> Result<Json<CartView>, ApiError> {
    let id = shop_core::ProductId::parse(&input.product_id)
        .map_err(|e| ApiError::invalid_field(e.at("product_id")))?;
    let quantity = quantity(input.quantity)?;
    let cart = state.carts.add_item(user.user_id(), id, quantity).await?;
    state.metrics.observe_cart_addition();
    Ok(Json(cart))
}

/// Set a line's quantity.
#[utoipa::path(
    patch, path = "/api/cart/items/{product_id}", tag = "cart", operation_id = "set_cart_item_quantity",
    params(("product_id" = String, Path, format = Uuid, description = "Product ID")),
    request_body = SetQuantity,
    responses(
        (status = 200, description = "The cart, priced", body = CartView),
        (status = 404, description = "The product is not in the cart", body = ProblemDetails,
            content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
)]
pub(crate) async fn set_quantity(
    State(state): State<AppState>,
    user: SignedIn,
    ApiPath(raw): ApiPath<String>,
    ApiJson(input): ApiJson<SetQuantity>,
) -> Result<Json<CartView>, ApiError> {
    let id = product_id(&raw)?;
    let quantity = quantity(input.quantity)?;
    Ok(Json(
        state
            .carts
            .set_quantity(user.user_id(), id, quantity)
            .await?,
    ))
}

/// Remove a line.
#[utoipa::path(
    delete, path = "/api/cart/items/{product_id}", tag = "cart", operation_id = "remove_cart_item",
    params(("product_id" = String, Path, format = Uuid, description = "Product ID")),
    responses(
        (status = 200, description = "The cart, priced", body = CartView),
        (status = 404, description = "The product is not in the cart", body = ProblemDetails,
            content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
)]
pub(crate) async fn remove_item(
    State(state): State<AppState>,
    user: SignedIn,
    ApiPath(raw): ApiPath<String>,
) -> Result<Json<CartView>, ApiError> {
    let id = product_id(&raw)?;
    Ok(Json(state.carts.remove_item(user.user_id(), id).await?))
}

/// Empty the cart.
#[utoipa::path(
    delete, path = "/api/cart", tag = "cart", operation_id = "clear_cart",
    responses((status = 200, description = "The (empty) cart", body = CartView)),
    security(("bearer" = [])),
)]
pub(crate) async fn clear(
    State(state): State<AppState>,
    user: SignedIn,
) -> Result<Json<CartView>, ApiError> {
    Ok(Json(state.carts.clear(user.user_id()).await?))
}
