//! Rows to domain values. Stored values go back through the domain parsers, so a row that was
//! corrupted outside the adapter surfaces as an internal error, never as an invalid value.

use std::collections::BTreeSet;
use std::fmt::Display;

use shop_core::{
    Cart, CartId, CartLine, Currency, Description, DisplayName, DomainEvent, Email, Error, EventId,
    EventType, ImageUrl, Money, Order, OrderId, OrderLine, OrderStatus, OutboxRecord, PasswordHash,
    Price, Product, ProductId, ProductName, Quantity, Rating, RefreshTokenRecord, Review,
    ReviewBody, ReviewId, ReviewTitle, Role, Sku, Slug, Timestamp, TokenFamilyId, TokenHash, User,
    UserId,
};
use sqlx::Row;
use sqlx::postgres::PgRow;
use uuid::Uuid;

use super::error::TxResult;

pub(super) const PRODUCT_COLUMNS: &str = "id, sku, slug, name, description, image_url, \
     price_minor, currency, stock, active, created_at, updated_at";
pub(super) const ORDER_COLUMNS: &str =
    "id, user_id, status, total_minor, currency, created_at, updated_at";
pub(super) const LINE_COLUMNS: &str = "order_id, product_id, sku, name, unit_price_minor, \
     currency, quantity, line_total_minor";
pub(super) const REVIEW_COLUMNS: &str =
    "id, product_id, author_id, author_name, rating, title, body, created_at";
pub(super) const USER_COLUMNS: &str =
    "id, email, display_name, password_hash, roles, created_at, updated_at";
pub(super) const TOKEN_COLUMNS: &str =
    "token_hash, family_id, user_id, issued_at, expires_at, used_at, revoked_at";
pub(super) const OUTBOX_COLUMNS: &str =
    "seq, event_id, event_type, aggregate_id, occurred_at, payload, traceparent";

/// A text column.
pub(super) fn text<'r>(row: &'r PgRow, column: &str) -> Result<&'r str, sqlx::Error> {
    row.try_get(column)
}

/// A nullable text column.
fn text_opt<'r>(row: &'r PgRow, column: &str) -> Result<Option<&'r str>, sqlx::Error> {
    row.try_get(column)
}

/// A column the schema keeps as a signed integer for a value the domain holds unsigned
/// (the schema's checks keep it in range, so a failure means a corrupted row).
fn unsigned<T: TryFrom<i64>>(value: i64, what: &str) -> Result<T, Error> {
    T::try_from(value).map_err(|_| corrupt(what, format!("{value} is out of range")))
}

fn corrupt(what: &str, e: impl Display) -> Error {
    Error::internal(format!("stored {what} is invalid: {e}"))
}

fn money(minor: i64, currency: &str, what: &str) -> Result<Money, Error> {
    Currency::parse(currency)
        .map(|c| Money::new(minor, c))
        .map_err(|e| corrupt(what, e))
}

pub(super) fn product(row: &PgRow) -> TxResult<Product> {
    let c = |e| corrupt("product", e);
    let image = text_opt(row, "image_url")?;
    let price = money(
        row.try_get("price_minor")?,
        text(row, "currency")?,
        "product",
    )?;
    Ok(Product {
        id: ProductId::from_uuid(row.try_get("id")?),
        sku: Sku::parse(text(row, "sku")?).map_err(c)?,
        slug: Slug::parse(text(row, "slug")?).map_err(c)?,
        name: ProductName::parse(text(row, "name")?).map_err(c)?,
        description: Description::parse(text(row, "description")?).map_err(c)?,
        image_url: image.map(ImageUrl::parse).transpose().map_err(c)?,
        price: Price::new(price).map_err(c)?,
        stock: unsigned(i64::from(row.try_get::<i32, _>("stock")?), "product stock")?,
        active: row.try_get("active")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

pub(super) fn cart(row: &PgRow, user_id: UserId, lines: Vec<CartLine>) -> TxResult<Cart> {
    Ok(Cart {
        id: CartId::from_uuid(row.try_get("id")?),
        user_id,
        lines,
        version: unsigned(row.try_get::<i64, _>("version")?, "cart version")?,
        updated_at: row.try_get("updated_at")?,
    })
}

pub(super) fn cart_line(row: &PgRow) -> TxResult<CartLine> {
    Ok(CartLine {
        product_id: ProductId::from_uuid(row.try_get("product_id")?),
        quantity: Quantity::new(i64::from(row.try_get::<i16, _>("quantity")?))
            .map_err(|e| corrupt("cart line", e))?,
    })
}

/// An order without its lines (filled in by the caller).
pub(super) fn order_head(row: &PgRow) -> TxResult<Order> {
    Ok(Order {
        id: OrderId::from_uuid(row.try_get("id")?),
        user_id: UserId::from_uuid(row.try_get("user_id")?),
        lines: Vec::new(),
        total: money(row.try_get("total_minor")?, text(row, "currency")?, "order")?,
        status: OrderStatus::parse(text(row, "status")?).map_err(|e| corrupt("order", e))?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

/// An order line and the order it belongs to.
pub(super) fn order_line(row: &PgRow) -> TxResult<(OrderId, OrderLine)> {
    let c = |e| corrupt("order line", e);
    let currency = text(row, "currency")?;
    Ok((
        OrderId::from_uuid(row.try_get("order_id")?),
        OrderLine {
            product_id: ProductId::from_uuid(row.try_get("product_id")?),
            sku: Sku::parse(text(row, "sku")?).map_err(c)?,
            name: ProductName::parse(text(row, "name")?).map_err(c)?,
            unit_price: money(row.try_get("unit_price_minor")?, currency, "order line")?,
            quantity: Quantity::new(i64::from(row.try_get::<i16, _>("quantity")?)).map_err(c)?,
            line_total: money(row.try_get("line_total_minor")?, currency, "order line")?,
        },
    ))
}

pub(super) fn review(row: &PgRow) -> TxResult<Review> {
    let c = |e| corrupt("review", e);
    Ok(Review {
        id: ReviewId::from_uuid(row.try_get("id")?),
        product_id: ProductId::from_uuid(row.try_get("product_id")?),
        author_id: UserId::from_uuid(row.try_get("author_id")?),
        author_name: DisplayName::parse(text(row, "author_name")?).map_err(c)?,
        rating: Rating::new(i64::from(row.try_get::<i16, _>("rating")?)).map_err(c)?,
        title: ReviewTitle::parse(text(row, "title")?).map_err(c)?,
        body: ReviewBody::parse(text(row, "body")?).map_err(c)?,
        created_at: row.try_get("created_at")?,
    })
}

/// Roles as stored: comma-separated names.
pub(super) fn roles_text(roles: &BTreeSet<Role>) -> String {
    roles
        .iter()
        .map(|r| r.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

pub(super) fn user(row: &PgRow) -> TxResult<User> {
    let c = |e| corrupt("user", e);
    let roles = row
        .try_get::<&str, _>("roles")?
        .split(',')
        .filter(|s| !s.is_empty())
        .map(Role::parse)
        .collect::<Result<BTreeSet<_>, _>>()
        .map_err(c)?;
    Ok(User {
        id: UserId::from_uuid(row.try_get("id")?),
        email: Email::parse(text(row, "email")?).map_err(c)?,
        display_name: DisplayName::parse(text(row, "display_name")?).map_err(c)?,
        password_hash: PasswordHash::new(text(row, "password_hash")?.to_owned()),
        roles,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

pub(super) fn token_hash(bytes: &[u8]) -> Result<TokenHash, Error> {
    <[u8; 32]>::try_from(bytes)
        .map(TokenHash)
        .map_err(|_| corrupt("refresh token", "hash is not 32 bytes"))
}

pub(super) fn refresh_token(row: &PgRow) -> TxResult<RefreshTokenRecord> {
    Ok(RefreshTokenRecord {
        token_hash: token_hash(row.try_get::<&[u8], _>("token_hash")?)?,
        family_id: TokenFamilyId::from_uuid(row.try_get("family_id")?),
        user_id: UserId::from_uuid(row.try_get("user_id")?),
        issued_at: row.try_get("issued_at")?,
        expires_at: row.try_get("expires_at")?,
        used_at: row.try_get::<Option<Timestamp>, _>("used_at")?,
        revoked_at: row.try_get::<Option<Timestamp>, _>("revoked_at")?,
    })
}

pub(super) fn outbox_record(row: &PgRow) -> TxResult<OutboxRecord> {
    let c = |e: &dyn Display| corrupt("outbox event", e.to_string());
    let type_name = text(row, "event_type")?;
    let payload = text(row, "payload")?;
    Ok(OutboxRecord {
        seq: unsigned(row.try_get::<i64, _>("seq")?, "outbox position")?,
        event: DomainEvent {
            id: EventId::from_uuid(row.try_get("event_id")?),
            event_type: EventType::parse(type_name).ok_or_else(|| c(&type_name))?,
            aggregate_id: row.try_get::<Uuid, _>("aggregate_id")?,
            occurred_at: row.try_get("occurred_at")?,
            payload: serde_json::from_str(payload).map_err(|e| c(&e))?,
            traceparent: text_opt(row, "traceparent")?.map(str::to_owned),
        },
    })
}
