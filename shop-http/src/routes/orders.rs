//! Checkout and orders.
//!
//! `POST /api/checkout` needs an `Idempotency-Key` header: the same key with the same body
//! returns the first order (`200`) however often the client retries; the same key with another
//! body is refused (`409 idempotency_key_reused`). The body is compared by the SHA-256 of its
//! canonical JSON form, so whitespace and field order do not matter.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use shop_core::{CheckoutRequest, Order, OrderCursor, OrderId, OrderQuery, OrderStatus, UserId};
use utoipa::{IntoParams, ToSchema};

use crate::error::{ApiError, ProblemDetails};
use crate::extract::{Admin, ApiJson, ApiPath, ApiQuery, SignedIn, is_json, json_object};
use crate::idempotency::fingerprint;
use crate::routes::{MountPath, created, page_limit};
use crate::state::AppState;

/// An order as the API shows it: the order and the statuses it may move to next.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct OrderView {
    #[serde(flatten)]
    order: Order,
    /// The statuses the order's lifecycle allows next (whether the caller may move it there is
    /// another matter: customers may only cancel).
    next_statuses: Vec<OrderStatus>,
}

impl From<Order> for OrderView {
    fn from(order: Order) -> Self {
        Self {
            next_statuses: order.status.next().collect(),
            order,
        }
    }
}

/// What a client may confirm at checkout. An empty body is the same as `{}`.
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CheckoutBody {
    /// The cart `version` the client showed its user; when given, checkout refuses with
    /// `409 cart_changed` if the cart has changed since.
    #[serde(default)]
    cart_version: Option<u64>,
}

/// The body is optional; when there is one, it is refused as every JSON body is (see
/// `ApiJson`).
fn parse_checkout_body(headers: &HeaderMap, body: &[u8]) -> Result<CheckoutBody, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(CheckoutBody::default());
    }
    if !is_json(headers) {
        return Err(ApiError::unsupported_media_type());
    }
    json_object(body)
}

/// Place an order from the caller's cart.
#[utoipa::path(
    post, path = "/api/checkout", tag = "checkout",
    params(("Idempotency-Key" = String, Header,
        description = "Client-chosen key, 1-255 visible ASCII characters, unique per order attempt")),
    request_body(content = Option<CheckoutBody>, content_type = "application/json"),
    responses(
        (status = 201, description = "Order placed", body = OrderView),
        (status = 200, description = "Replay: the order this key already placed", body = OrderView),
        (status = 409, description = "Key reused with another body, stock or cart changed",
            body = ProblemDetails, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
)]
pub(crate) async fn checkout(
    State(state): State<AppState>,
    root: MountPath,
    user: SignedIn,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let result = place(&state, &user, &headers, body).await;
    let outcome = match &result {
        Ok((_, true)) => "replayed",
        Ok((_, false)) => "placed",
        Err(e) => e.code,
    };
    state.metrics.observe_checkout(outcome);
    let (order, replayed) = result?;
    if !replayed {
        state.metrics.observe_order_placed(order.total);
    }
    let location = format!("/api/orders/{}", order.id);
    let view = OrderView::from(order);
    if replayed {
        return Ok(Json(view).into_response());
    }
    Ok(created(&root, &location, view))
}

async fn place(
    state: &AppState,
    user: &SignedIn,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<(Order, bool), ApiError> {
    let key = crate::idempotency::key_in(headers)?;
    let body = body?;
    let parsed = parse_checkout_body(headers, &body)?;
    let request = CheckoutRequest {
        user_id: user.user_id(),
        idempotency_key: key,
        fingerprint: fingerprint(&parsed)?,
        expected_cart_version: parsed.cart_version,
    };
    let outcome = state.checkout.checkout(&request).await?;
    Ok((outcome.order, outcome.replayed))
}

/// Query parameters of `GET /api/orders`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct OrderParams {
    /// Only orders in this status.
    status: Option<OrderStatus>,
    /// Admins only: only this user's orders (customers always see their own).
    #[param(format = Uuid)]
    user_id: Option<String>,
    /// Page size, 1–100 (larger values are capped; default 20).
    #[param(minimum = 1)]
    limit: Option<i64>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// A page of orders, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct OrderPage {
    items: Vec<OrderView>,
    /// Pass as `cursor` for the next page; absent on the last page.
    next_cursor: Option<String>,
}

/// The caller's orders; admins see everyone's and may filter by user.
#[utoipa::path(
    get, path = "/api/orders", tag = "orders", operation_id = "list_orders",
    params(OrderParams),
    responses(
        (status = 200, description = "A page of orders", body = OrderPage),
        (status = 403, description = "A customer asked for another user's orders",
            body = ProblemDetails, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    user: SignedIn,
    ApiQuery(p): ApiQuery<OrderParams>,
) -> Result<Json<OrderPage>, ApiError> {
    let filter = p
        .user_id
        .as_deref()
        .map(UserId::parse)
        .transpose()
        .map_err(|e| ApiError::bad_field(e.at("user_id")))?;
    let user_id = if user.is_admin() {
        filter
    } else {
        match filter {
            Some(other) if other != user.user_id() => {
                return Err(ApiError::forbidden("customers see only their own orders"));
            }
            _ => Some(user.user_id()),
        }
    };
    let after = p
        .cursor
        .as_deref()
        .map(OrderCursor::decode)
        .transpose()
        .map_err(ApiError::bad_field)?;
    let query = OrderQuery {
        user_id,
        status: p.status,
        limit: page_limit(p.limit)?,
        after,
    };
    let page = state.commerce.list_orders(&query).await?;
    Ok(Json(OrderPage {
        items: page.items.into_iter().map(OrderView::from).collect(),
        next_cursor: page.next.map(|c| c.encode()),
    }))
}

/// Path parameter naming an order by ID.
fn order_id(raw: &str) -> Result<OrderId, ApiError> {
    OrderId::parse(raw).map_err(|e| ApiError::bad_field(e.at("id")))
}

/// The order, when the caller owns it or is an admin; another user's order is "not found"
/// so its existence never leaks.
async fn visible_order(state: &AppState, user: &SignedIn, raw: &str) -> Result<Order, ApiError> {
    let id = order_id(raw)?;
    state
        .commerce
        .get_order(id)
        .await?
        .filter(|o| o.user_id == user.user_id() || user.is_admin())
        .ok_or_else(|| ApiError::not_found("order"))
}

/// One order (own, or any for admins).
#[utoipa::path(
    get, path = "/api/orders/{id}", tag = "orders", operation_id = "get_order",
    params(("id" = String, Path, format = Uuid, description = "Order ID")),
    responses(
        (status = 200, description = "The order", body = OrderView),
        (status = 404, description = "No such order (or another user's)", body = ProblemDetails,
            content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
)]
pub(crate) async fn get(
    State(state): State<AppState>,
    user: SignedIn,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<OrderView>, ApiError> {
    Ok(Json(visible_order(&state, &user, &id).await?.into()))
}

/// Cancel an order that has not shipped; its stock is released.
#[utoipa::path(
    post, path = "/api/orders/{id}/cancel", tag = "orders", operation_id = "cancel_order",
    params(("id" = String, Path, format = Uuid, description = "Order ID")),
    responses(
        (status = 200, description = "The cancelled order", body = OrderView),
        (status = 404, description = "No such order (or another user's)", body = ProblemDetails,
            content_type = "application/problem+json"),
        (status = 409, description = "Already shipped, delivered or cancelled",
            body = ProblemDetails, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
)]
pub(crate) async fn cancel(
    State(state): State<AppState>,
    user: SignedIn,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<OrderView>, ApiError> {
    let order = visible_order(&state, &user, &id).await?;
    let cancelled = state.orders.cancel(order.id).await?;
    state.metrics.observe_order_cancelled();
    Ok(Json(cancelled.into()))
}

/// A status to move an order to.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct StatusChange {
    /// The new status; it must follow from the current one.
    status: OrderStatus,
}

/// Move an order along its lifecycle (admin): pending → paid → shipped → delivered, or
/// cancelled before shipping.
#[utoipa::path(
    put, path = "/api/orders/{id}/status", tag = "orders", operation_id = "set_order_status",
    params(("id" = String, Path, format = Uuid, description = "Order ID")),
    request_body = StatusChange,
    responses(
        (status = 200, description = "The order in its new status", body = OrderView),
        (status = 403, description = "Not an admin", body = ProblemDetails,
            content_type = "application/problem+json"),
        (status = 404, description = "No such order", body = ProblemDetails,
            content_type = "application/problem+json"),
        (status = 409, description = "Not allowed from the current status",
            body = ProblemDetails, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
)]
pub(crate) async fn set_status(
    State(state): State<AppState>,
    _admin: Admin,
    ApiPath(id): ApiPath<String>,
    ApiJson(input): ApiJson<StatusChange>,
) -> Result<Json<OrderView>, ApiError> {
    let id = order_id(&id)?;
    let changed = state.orders.change_status(id, input.status).await?;
    if input.status == OrderStatus::Cancelled {
        state.metrics.observe_order_cancelled();
    }
    Ok(Json(changed.into()))
}
