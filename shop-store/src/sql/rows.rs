//! Rows to domain values, for both SQL adapters. Stored values go back through the domain
//! parsers, so a row that was corrupted outside the adapter surfaces as an internal error,
//! never as an invalid value. Each dialect says, through [`Columns`], how its columns are
//! typed; what the values mean is decided here once.

use std::collections::BTreeSet;
use std::fmt::Display;

use shop_core::{
    Cart, CartId, CartLine, Currency, Description, DisplayName, DomainEvent, Email, Error, EventId,
    EventType, ImageUrl, Money, Order, OrderId, OrderLine, OrderStatus, OutboxRecord, PasswordHash,
    Price, Product, ProductId, ProductName, Quantity, Rating, RefreshTokenRecord, Review,
    ReviewBody, ReviewId, ReviewTitle, Role, Sku, Slug, Timestamp, TokenFamilyId, TokenHash, User,
    UserId,
};
use uuid::Uuid;

pub(crate) const PRODUCT_COLUMNS: &str = "id, sku, slug, name, description, image_url, \
     price_minor, currency, stock, active, created_at, updated_at";
pub(crate) const ORDER_COLUMNS: &str =
    "id, user_id, status, total_minor, currency, created_at, updated_at";
pub(crate) const LINE_COLUMNS: &str = "order_id, product_id, sku, name, unit_price_minor, \
     currency, quantity, line_total_minor";
pub(crate) const REVIEW_COLUMNS: &str =
    "id, product_id, author_id, author_name, rating, title, body, created_at";
pub(crate) const USER_COLUMNS: &str =
    "id, email, display_name, password_hash, roles, created_at, updated_at";
pub(crate) const TOKEN_COLUMNS: &str =
    "token_hash, family_id, user_id, issued_at, expires_at, used_at, revoked_at";
pub(crate) const OUTBOX_COLUMNS: &str =
    "seq, event_id, event_type, aggregate_id, occurred_at, payload, traceparent";

/// How one dialect reads the shop's columns (the schemas type some of them differently:
/// MySQL has unsigned integers, PostgreSQL does not).
pub(crate) trait Columns {
    /// A text column.
    fn text(&self, column: &str) -> Result<&str, Error>;
    /// A nullable text column.
    fn text_opt(&self, column: &str) -> Result<Option<&str>, Error>;
    /// A UUID column.
    fn uuid(&self, column: &str) -> Result<Uuid, Error>;
    /// A signed 64-bit column (money in minor units).
    fn int(&self, column: &str) -> Result<i64, Error>;
    /// A small count: a quantity or a rating.
    fn small(&self, column: &str) -> Result<i64, Error>;
    /// Units of stock.
    fn stock(&self, column: &str) -> Result<u32, Error>;
    /// A version or a position: never negative.
    fn counter(&self, column: &str) -> Result<u64, Error>;
    /// A boolean column.
    fn flag(&self, column: &str) -> Result<bool, Error>;
    /// A timestamp column.
    fn time(&self, column: &str) -> Result<Timestamp, Error>;
    /// A nullable timestamp column.
    fn time_opt(&self, column: &str) -> Result<Option<Timestamp>, Error>;
    /// A binary column.
    fn bytes(&self, column: &str) -> Result<&[u8], Error>;
}

/// A column that could not be read as the schema says: an internal error.
pub(crate) fn column(e: sqlx::Error) -> Error {
    Error::internal(e)
}

pub(crate) fn corrupt(what: &str, e: impl Display) -> Error {
    Error::internal(format!("stored {what} is invalid: {e}"))
}

/// A column the schema keeps as a signed integer for a value the domain holds unsigned (the
/// schema's checks keep it in range, so a failure means a corrupted row). PostgreSQL's case:
/// it has no unsigned types.
#[cfg_attr(not(feature = "postgres"), allow(dead_code))]
pub(crate) fn unsigned<T: TryFrom<i64>>(value: i64, what: &str) -> Result<T, Error> {
    T::try_from(value).map_err(|_| corrupt(what, format!("{value} is out of range")))
}

fn money(minor: i64, currency: &str, what: &str) -> Result<Money, Error> {
    Currency::parse(currency)
        .map(|c| Money::new(minor, c))
        .map_err(|e| corrupt(what, e))
}

pub(crate) fn product(row: &impl Columns) -> Result<Product, Error> {
    let c = |e| corrupt("product", e);
    let image = row.text_opt("image_url")?;
    let price = money(row.int("price_minor")?, row.text("currency")?, "product")?;
    Ok(Product {
        id: ProductId::from_uuid(row.uuid("id")?),
        sku: Sku::parse(row.text("sku")?).map_err(c)?,
        slug: Slug::parse(row.text("slug")?).map_err(c)?,
        name: ProductName::parse(row.text("name")?).map_err(c)?,
        description: Description::parse(row.text("description")?).map_err(c)?,
        image_url: image.map(ImageUrl::parse).transpose().map_err(c)?,
        price: Price::new(price).map_err(c)?,
        stock: row.stock("stock")?,
        active: row.flag("active")?,
        created_at: row.time("created_at")?,
        updated_at: row.time("updated_at")?,
    })
}

pub(crate) fn cart(
    row: &impl Columns,
    user_id: UserId,
    lines: Vec<CartLine>,
) -> Result<Cart, Error> {
    Ok(Cart {
        id: CartId::from_uuid(row.uuid("id")?),
        user_id,
        lines,
        version: row.counter("version")?,
        updated_at: row.time("updated_at")?,
    })
}

pub(crate) fn cart_line(row: &impl Columns) -> Result<CartLine, Error> {
    Ok(CartLine {
        product_id: ProductId::from_uuid(row.uuid("product_id")?),
        quantity: Quantity::new(row.small("quantity")?).map_err(|e| corrupt("cart line", e))?,
    })
}

/// An order without its lines (filled in by the caller).
pub(crate) fn order_head(row: &impl Columns) -> Result<Order, Error> {
    Ok(Order {
        id: OrderId::from_uuid(row.uuid("id")?),
        user_id: UserId::from_uuid(row.uuid("user_id")?),
        lines: Vec::new(),
        total: money(row.int("total_minor")?, row.text("currency")?, "order")?,
        status: OrderStatus::parse(row.text("status")?).map_err(|e| corrupt("order", e))?,
        created_at: row.time("created_at")?,
        updated_at: row.time("updated_at")?,
    })
}

/// An order line and the order it belongs to.
pub(crate) fn order_line(row: &impl Columns) -> Result<(OrderId, OrderLine), Error> {
    let c = |e| corrupt("order line", e);
    let currency = row.text("currency")?;
    Ok((
        OrderId::from_uuid(row.uuid("order_id")?),
        OrderLine {
            product_id: ProductId::from_uuid(row.uuid("product_id")?),
            sku: Sku::parse(row.text("sku")?).map_err(c)?,
            name: ProductName::parse(row.text("name")?).map_err(c)?,
            unit_price: money(row.int("unit_price_minor")?, currency, "order line")?,
            quantity: Quantity::new(row.small("quantity")?).map_err(c)?,
            line_total: money(row.int("line_total_minor")?, currency, "order line")?,
        },
    ))
}

pub(crate) fn review(row: &impl Columns) -> Result<Review, Error> {
    let c = |e| corrupt("review", e);
    Ok(Review {
        id: ReviewId::from_uuid(row.uuid("id")?),
        product_id: ProductId::from_uuid(row.uuid("product_id")?),
        author_id: UserId::from_uuid(row.uuid("author_id")?),
        author_name: DisplayName::parse(row.text("author_name")?).map_err(c)?,
        rating: Rating::new(row.small("rating")?).map_err(c)?,
        title: ReviewTitle::parse(row.text("title")?).map_err(c)?,
        body: ReviewBody::parse(row.text("body")?).map_err(c)?,
        created_at: row.time("created_at")?,
    })
}

/// Roles as stored: comma-separated names.
pub(crate) fn roles_text(roles: &BTreeSet<Role>) -> String {
    roles
        .iter()
        .map(|r| r.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

pub(crate) fn user(row: &impl Columns) -> Result<User, Error> {
    let c = |e| corrupt("user", e);
    let roles = row
        .text("roles")?
        .split(',')
        .filter(|s| !s.is_empty())
        .map(Role::parse)
        .collect::<Result<BTreeSet<_>, _>>()
        .map_err(c)?;
    Ok(User {
        id: UserId::from_uuid(row.uuid("id")?),
        email: Email::parse(row.text("email")?).map_err(c)?,
        display_name: DisplayName::parse(row.text("display_name")?).map_err(c)?,
        password_hash: PasswordHash::new(row.text("password_hash")?.to_owned()),
        roles,
        created_at: row.time("created_at")?,
        updated_at: row.time("updated_at")?,
    })
}

pub(crate) fn token_hash(bytes: &[u8]) -> Result<TokenHash, Error> {
    <[u8; 32]>::try_from(bytes)
        .map(TokenHash)
        .map_err(|_| corrupt("refresh token", "hash is not 32 bytes"))
}

pub(crate) fn refresh_token(row: &impl Columns) -> Result<RefreshTokenRecord, Error> {
    Ok(RefreshTokenRecord {
        token_hash: token_hash(row.bytes("token_hash")?)?,
        family_id: TokenFamilyId::from_uuid(row.uuid("family_id")?),
        user_id: UserId::from_uuid(row.uuid("user_id")?),
        issued_at: row.time("issued_at")?,
        expires_at: row.time("expires_at")?,
        used_at: row.time_opt("used_at")?,
        revoked_at: row.time_opt("revoked_at")?,
    })
}

pub(crate) fn outbox_record(row: &impl Columns) -> Result<OutboxRecord, Error> {
    let c = |e: &dyn Display| corrupt("outbox event", e.to_string());
    let type_name = row.text("event_type")?;
    let payload = row.text("payload")?;
    Ok(OutboxRecord {
        seq: row.counter("seq")?,
        event: DomainEvent {
            id: EventId::from_uuid(row.uuid("event_id")?),
            event_type: EventType::parse(type_name).ok_or_else(|| c(&type_name))?,
            aggregate_id: row.uuid("aggregate_id")?,
            occurred_at: row.time("occurred_at")?,
            payload: serde_json::from_str(payload).map_err(|e| c(&e))?,
            traceparent: row.text_opt("traceparent")?.map(str::to_owned),
        },
    })
}
