//! Catalog: product search and product by ID or slug for everyone; creating, changing,
//! deleting and restocking products for admins.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use shop_core::{
    FieldError, NewProduct, Product, ProductCursor, ProductId, ProductInput, ProductPatch,
    ProductPatchInput, ProductQuery, ProductSort, SearchText,
};
use utoipa::{IntoParams, ToSchema};

use crate::error::{ApiError, ProblemDetails};
use crate::extract::{Admin, ApiJson, ApiPath, ApiQuery, Caller};
use crate::routes::{MountPath, created, page_limit};
use crate::state::AppState;

/// Query parameters of `GET /api/products`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListParams {
    /// Text to find in product names (case-insensitive), 1–100 characters.
    q: Option<String>,
    /// Lowest price, in minor units.
    min_price: Option<i64>,
    /// Highest price, in minor units.
    max_price: Option<i64>,
    /// Admins only: `false` lists inactive products (others always see active ones).
    active: Option<bool>,
    /// Only products with at most this many units in stock. Signed, as documented (`int32`,
    /// minimum 0): a value past `int32` is refused, not quietly taken as a `u32`.
    #[param(minimum = 0)]
    max_stock: Option<i32>,
    /// Order of the list (default `newest`).
    sort: Option<ProductSort>,
    /// Page size, 1–100 (larger values are capped; default 20).
    #[param(minimum = 1)]
    limit: Option<i64>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// A page of products.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ProductPage {
    items: Vec<Product>,
    /// Pass as `cursor` for the next page; absent on the last page.
    next_cursor: Option<String>,
}

/// Path parameter naming a product by ID.
pub(crate) fn product_id(raw: &str) -> Result<ProductId, ApiError> {
    ProductId::parse(raw).map_err(|e| ApiError::bad_field(e.at("id")))
}

/// Search the catalog.
#[utoipa::path(
    get, path = "/api/products", tag = "catalog", operation_id = "list_products",
    params(ListParams),
    responses((status = 200, description = "A page of products", body = ProductPage)),
    security((), ("bearer" = [])),
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(p): ApiQuery<ListParams>,
) -> Result<Json<ProductPage>, ApiError> {
    let sort = p.sort.unwrap_or_default();
    let text =
        p.q.as_deref()
            .filter(|q| !q.trim().is_empty())
            .map(SearchText::parse)
            .transpose()
            .map_err(ApiError::bad_field)?;
    if let (Some(lo), Some(hi)) = (p.min_price, p.max_price)
        && lo > hi
    {
        return Err(ApiError::bad_field(FieldError::new(
            "min_price",
            "out_of_range",
            "must not exceed max_price",
        )));
    }
    let after = p
        .cursor
        .as_deref()
        .map(|c| ProductCursor::decode(c, sort))
        .transpose()
        .map_err(ApiError::bad_field)?;
    let query = ProductQuery {
        text,
        min_price: p.min_price,
        max_price: p.max_price,
        active: if caller.is_admin() {
            p.active
        } else {
            Some(true)
        },
        max_stock: p
            .max_stock
            .map(|n| {
                u32::try_from(n).map_err(|_| {
                    ApiError::bad_field(FieldError::new(
                        "max_stock",
                        "out_of_range",
                        "must be at least 0",
                    ))
                })
            })
            .transpose()?,
        sort,
        limit: page_limit(p.limit)?,
        after,
    };
    let page = state.commerce.query_products(&query).await?;
    Ok(Json(ProductPage {
        items: page.items,
        next_cursor: page.next.map(|c| c.encode()),
    }))
}

/// A product by ID or slug. Inactive products are visible to admins only.
#[utoipa::path(
    get, path = "/api/products/{id}", tag = "catalog", operation_id = "get_product",
    params(("id" = String, Path, description = "Product ID (UUID) or slug")),
    responses(
        (status = 200, description = "The product", body = Product),
        (status = 404, description = "No such (visible) product", body = ProblemDetails,
            content_type = "application/problem+json"),
    ),
    security((), ("bearer" = [])),
)]
pub(crate) async fn get(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(key): ApiPath<String>,
) -> Result<Json<Product>, ApiError> {
    state
        .commerce
        .find_product(&key)
        .await?
        .filter(|p| p.active || caller.is_admin())
        .map(Json)
        .ok_or_else(|| ApiError::not_found("product"))
}

/// Create a product (admin).
#[utoipa::path(
    post, path = "/api/products", tag = "catalog", operation_id = "create_product",
    request_body = ProductInput,
    responses(
        (status = 201, description = "Created", body = Product),
        (status = 403, description = "Not an admin", body = ProblemDetails,
            content_type = "application/problem+json"),
        (status = 409, description = "SKU or slug taken", body = ProblemDetails,
            content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
)]
pub(crate) async fn create(
    State(state): State<AppState>,
    root: MountPath,
    _admin: Admin,
    ApiJson(input): ApiJson<ProductInput>,
) -> Result<Response, ApiError> {
    let product = Product::create(NewProduct::try_from(input).map_err(shop_core::Error::from)?);
    state.commerce.create_product(&product).await?;
    Ok(created(
        &root,
        &format!("/api/products/{}", product.id),
        product,
    ))
}

/// Change some fields of a product (admin). `"image_url": null` removes the image.
#[utoipa::path(
    patch, path = "/api/products/{id}", tag = "catalog", operation_id = "update_product",
    params(("id" = String, Path, format = Uuid, description = "Product ID")),
    request_body = ProductPatchInput,
    responses(
        (status = 200, description = "The changed product", body = Product),
        (status = 403, description = "Not an admin", body = ProblemDetails,
            content_type = "application/problem+json"),
        (status = 404, description = "No such product", body = ProblemDetails,
            content_type = "application/problem+json"),
        (status = 409, description = "SKU or slug taken", body = ProblemDetails,
            content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
)]
pub(crate) async fn update(
    State(state): State<AppState>,
    _admin: Admin,
    ApiPath(id): ApiPath<String>,
    ApiJson(input): ApiJson<ProductPatchInput>,
) -> Result<Json<Product>, ApiError> {
    let id = product_id(&id)?;
    let patch = ProductPatch::try_from(input).map_err(shop_core::Error::from)?;
    Ok(Json(state.commerce.update_product(id, &patch).await?))
}

/// Delete a product (admin). Orders keep their own copy of its name and price.
#[utoipa::path(
    delete, path = "/api/products/{id}", tag = "catalog", operation_id = "delete_product",
    params(("id" = String, Path, format = Uuid, description = "Product ID")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "Not an admin", body = ProblemDetails,
            content_type = "application/problem+json"),
        (status = 404, description = "No such product", body = ProblemDetails,
            content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
)]
pub(crate) async fn delete(
    State(state): State<AppState>,
    _admin: Admin,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    state.commerce.delete_product(product_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A change of stock on hand.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct StockAdjustment {
    /// Units to add (positive) or remove (negative); stock never goes below zero.
    delta: i64,
    /// Why (a delivery, a count, breakage): written to the audit log with who and how much;
    /// up to 200 characters.
    #[serde(default)]
    #[schema(max_length = 200)]
    reason: Option<String>,
}

/// Add or remove stock (admin).
#[utoipa::path(
    post, path = "/api/products/{id}/stock", tag = "catalog",
    params(("id" = String, Path, format = Uuid, description = "Product ID")),
    request_body = StockAdjustment,
    responses(
        (status = 200, description = "The product with its new stock", body = Product),
        (status = 409, description = "Would take stock below zero", body = ProblemDetails,
            content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = ProblemDetails,
            content_type = "application/problem+json"),
        (status = 404, description = "No such product", body = ProblemDetails,
            content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
)]
pub(crate) async fn adjust_stock(
    State(state): State<AppState>,
    Admin(admin): Admin,
    ApiPath(id): ApiPath<String>,
    ApiJson(input): ApiJson<StockAdjustment>,
) -> Result<Json<Product>, ApiError> {
    let id = product_id(&id)?;
    let reason = input.reason.as_deref().map(str::trim).unwrap_or_default();
    if reason.chars().count() > 200 {
        return Err(ApiError::invalid_field(FieldError::new(
            "reason",
            "too_long",
            "must be at most 200 characters",
        )));
    }
    let product = state.commerce.adjust_stock(id, input.delta).await?;
    tracing::info!(
        target: "audit",
        admin_id = %admin.user_id,
        product_id = %product.id,
        delta = input.delta,
        stock = product.stock,
        reason,
        "stock adjusted"
    );
    Ok(Json(product))
}
