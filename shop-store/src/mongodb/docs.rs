//! Domain values to BSON documents and back. Private to the adapter: no bson type leaves it.
//! IDs are stored as hyphenated UUID strings (their text order is their byte order, so keyset
//! pagination matches the other adapters), money as Int64 minor units plus a currency code,
//! times as BSON dates (milliseconds, like every shop-core timestamp).

use std::collections::BTreeSet;
use std::fmt::Display;

use ::mongodb::bson::{Bson, DateTime as BsonDate, Document, doc};
use shop_core::{
    Cart, CartId, CartLine, Currency, Description, DisplayName, DomainEvent, Email, Error, EventId,
    EventType, ImageUrl, Money, Order, OrderId, OrderLine, OrderStatus, OutboxRecord, PasswordHash,
    Price, Product, ProductId, ProductName, Quantity, Rating, RefreshTokenRecord, Review,
    ReviewBody, ReviewId, ReviewTitle, Role, Sku, Slug, Timestamp, TokenFamilyId, TokenHash, User,
    UserId,
};
use uuid::Uuid;

pub(super) type DocResult<T> = Result<T, Error>;

fn corrupt(what: &str, e: impl Display) -> Error {
    Error::internal(format!("stored {what} is invalid: {e}"))
}

pub(super) fn id(u: Uuid) -> String {
    u.hyphenated().to_string()
}

pub(super) fn date(t: Timestamp) -> BsonDate {
    BsonDate::from_millis(t.timestamp_millis())
}

fn get<'a>(d: &'a Document, key: &str, what: &str) -> DocResult<&'a Bson> {
    d.get(key)
        .ok_or_else(|| corrupt(what, format!("missing field {key}")))
}

pub(super) fn text<'a>(d: &'a Document, key: &str, what: &str) -> DocResult<&'a str> {
    match get(d, key, what)? {
        Bson::String(s) => Ok(s),
        other => Err(corrupt(what, format!("{key} is {other:?}"))),
    }
}

fn opt_text<'a>(d: &'a Document, key: &str, what: &str) -> DocResult<Option<&'a str>> {
    match d.get(key) {
        None | Some(Bson::Null) => Ok(None),
        Some(_) => text(d, key, what).map(Some),
    }
}

pub(super) fn int(d: &Document, key: &str, what: &str) -> DocResult<i64> {
    match get(d, key, what)? {
        Bson::Int64(n) => Ok(*n),
        Bson::Int32(n) => Ok(i64::from(*n)),
        other => Err(corrupt(what, format!("{key} is {other:?}"))),
    }
}

fn uuid(d: &Document, key: &str, what: &str) -> DocResult<Uuid> {
    Uuid::parse_str(text(d, key, what)?).map_err(|e| corrupt(what, e))
}

pub(super) fn time(d: &Document, key: &str, what: &str) -> DocResult<Timestamp> {
    match get(d, key, what)? {
        Bson::DateTime(t) => chrono::DateTime::from_timestamp_millis(t.timestamp_millis())
            .ok_or_else(|| corrupt(what, "date out of range")),
        other => Err(corrupt(what, format!("{key} is {other:?}"))),
    }
}

pub(super) fn opt_time(d: &Document, key: &str, what: &str) -> DocResult<Option<Timestamp>> {
    match d.get(key) {
        None | Some(Bson::Null) => Ok(None),
        Some(_) => time(d, key, what).map(Some),
    }
}

fn money(minor: i64, currency: &str, what: &str) -> DocResult<Money> {
    Currency::parse(currency)
        .map(|c| Money::new(minor, c))
        .map_err(|e| corrupt(what, e))
}

fn u32_of(n: i64, what: &str) -> DocResult<u32> {
    u32::try_from(n).map_err(|e| corrupt(what, e))
}

// ------------------------------------------------------------------ products

/// The fields a patch or create writes (everything but `_id` and `created_at`).
pub(super) fn product_fields(p: &Product) -> Document {
    doc! {
        "sku": p.sku.as_str(),
        "slug": p.slug.as_str(),
        "name": p.name.as_str(),
        // Lower-cased copy for case-insensitive search without a collation.
        "name_lower": p.name.as_str().to_lowercase(),
        "description": p.description.as_str(),
        "image_url": p.image_url.as_ref().map(shop_core::ImageUrl::as_str),
        "price_minor": p.price.money().minor(),
        "currency": p.price.money().currency().code(),
        "stock": i64::from(p.stock),
        "active": p.active,
        "updated_at": date(p.updated_at),
    }
}

pub(super) fn product_doc(p: &Product) -> Document {
    let mut d = doc! { "_id": id(p.id.as_uuid()), "created_at": date(p.created_at) };
    d.extend(product_fields(p));
    d
}

pub(super) fn product(d: &Document) -> DocResult<Product> {
    const W: &str = "product";
    Ok(Product {
        id: ProductId::from_uuid(uuid(d, "_id", W)?),
        sku: Sku::parse(text(d, "sku", W)?).map_err(|e| corrupt(W, e))?,
        slug: Slug::parse(text(d, "slug", W)?).map_err(|e| corrupt(W, e))?,
        name: ProductName::parse(text(d, "name", W)?).map_err(|e| corrupt(W, e))?,
        description: Description::parse(text(d, "description", W)?).map_err(|e| corrupt(W, e))?,
        image_url: opt_text(d, "image_url", W)?
            .map(ImageUrl::parse)
            .transpose()
            .map_err(|e| corrupt(W, e))?,
        price: Price::new(money(
            int(d, "price_minor", W)?,
            text(d, "currency", W)?,
            W,
        )?)
        .map_err(|e| corrupt(W, e))?,
        stock: u32_of(int(d, "stock", W)?, W)?,
        active: d.get_bool("active").map_err(|e| corrupt(W, e))?,
        created_at: time(d, "created_at", W)?,
        updated_at: time(d, "updated_at", W)?,
    })
}

// ------------------------------------------------------------------ carts

pub(super) fn cart_lines(lines: &[CartLine]) -> Vec<Document> {
    lines
        .iter()
        .map(|l| doc! { "product_id": id(l.product_id.as_uuid()), "quantity": i64::from(l.quantity.get()) })
        .collect()
}

pub(super) fn cart(d: &Document, user_id: UserId) -> DocResult<Cart> {
    const W: &str = "cart";
    let lines = d
        .get_array("lines")
        .map_err(|e| corrupt(W, e))?
        .iter()
        .map(|b| match b {
            Bson::Document(l) => Ok(CartLine {
                product_id: ProductId::from_uuid(uuid(l, "product_id", W)?),
                quantity: Quantity::new(int(l, "quantity", W)?).map_err(|e| corrupt(W, e))?,
            }),
            other => Err(corrupt(W, format!("line is {other:?}"))),
        })
        .collect::<DocResult<Vec<_>>>()?;
    Ok(Cart {
        id: CartId::from_uuid(uuid(d, "cart_id", W)?),
        user_id,
        lines,
        version: u64::try_from(int(d, "version", W)?).map_err(|e| corrupt(W, e))?,
        updated_at: time(d, "updated_at", W)?,
    })
}

// ------------------------------------------------------------------ orders

pub(super) fn order_doc(o: &Order) -> Document {
    let lines: Vec<Document> = o
        .lines
        .iter()
        .map(|l| {
            doc! {
                "product_id": id(l.product_id.as_uuid()),
                "sku": l.sku.as_str(),
                "name": l.name.as_str(),
                "unit_price_minor": l.unit_price.minor(),
                "currency": l.unit_price.currency().code(),
                "quantity": i64::from(l.quantity.get()),
                "line_total_minor": l.line_total.minor(),
            }
        })
        .collect();
    doc! {
        "_id": id(o.id.as_uuid()),
        "user_id": id(o.user_id.as_uuid()),
        "status": o.status.as_str(),
        "total_minor": o.total.minor(),
        "currency": o.total.currency().code(),
        "lines": lines,
        "created_at": date(o.created_at),
        "updated_at": date(o.updated_at),
    }
}

pub(super) fn order(d: &Document) -> DocResult<Order> {
    const W: &str = "order";
    let lines = d
        .get_array("lines")
        .map_err(|e| corrupt(W, e))?
        .iter()
        .map(|b| {
            let Bson::Document(l) = b else {
                return Err(corrupt(W, "line is not a document"));
            };
            let currency = text(l, "currency", W)?;
            Ok(OrderLine {
                product_id: ProductId::from_uuid(uuid(l, "product_id", W)?),
                sku: Sku::parse(text(l, "sku", W)?).map_err(|e| corrupt(W, e))?,
                name: ProductName::parse(text(l, "name", W)?).map_err(|e| corrupt(W, e))?,
                unit_price: money(int(l, "unit_price_minor", W)?, currency, W)?,
                quantity: Quantity::new(int(l, "quantity", W)?).map_err(|e| corrupt(W, e))?,
                line_total: money(int(l, "line_total_minor", W)?, currency, W)?,
            })
        })
        .collect::<DocResult<Vec<_>>>()?;
    Ok(Order {
        id: OrderId::from_uuid(uuid(d, "_id", W)?),
        user_id: UserId::from_uuid(uuid(d, "user_id", W)?),
        lines,
        total: money(int(d, "total_minor", W)?, text(d, "currency", W)?, W)?,
        status: OrderStatus::parse(text(d, "status", W)?).map_err(|e| corrupt(W, e))?,
        created_at: time(d, "created_at", W)?,
        updated_at: time(d, "updated_at", W)?,
    })
}

// ------------------------------------------------------------------ outbox

pub(super) fn event_doc(seq: u64, e: &DomainEvent) -> Document {
    doc! {
        "_id": i64::try_from(seq).unwrap_or(i64::MAX),
        "event_id": id(e.id.as_uuid()),
        "event_type": e.event_type.as_str(),
        "aggregate_id": id(e.aggregate_id),
        "occurred_at": date(e.occurred_at),
        // Stored as JSON text: it round-trips exactly, whatever numbers it holds.
        "payload": e.payload.to_string(),
        "traceparent": e.traceparent.as_deref().map_or(Bson::Null, |t| Bson::String(t.to_owned())),
        "published": false,
        "claimed_by": Bson::Null,
        "claim_until": Bson::Null,
    }
}

pub(super) fn outbox_record(d: &Document) -> DocResult<OutboxRecord> {
    const W: &str = "outbox event";
    let type_name = text(d, "event_type", W)?;
    Ok(OutboxRecord {
        seq: u64::try_from(int(d, "_id", W)?).map_err(|e| corrupt(W, e))?,
        event: DomainEvent {
            id: EventId::from_uuid(uuid(d, "event_id", W)?),
            event_type: EventType::parse(type_name).ok_or_else(|| corrupt(W, type_name))?,
            aggregate_id: uuid(d, "aggregate_id", W)?,
            occurred_at: time(d, "occurred_at", W)?,
            payload: serde_json::from_str(text(d, "payload", W)?).map_err(|e| corrupt(W, e))?,
            traceparent: d.get_str("traceparent").ok().map(str::to_owned),
        },
    })
}

// ------------------------------------------------------------------ reviews, users, tokens

pub(super) fn review_doc(r: &Review) -> Document {
    doc! {
        "_id": id(r.id.as_uuid()),
        "product_id": id(r.product_id.as_uuid()),
        "author_id": id(r.author_id.as_uuid()),
        "author_name": r.author_name.as_str(),
        "rating": i32::from(r.rating.get()),
        "title": r.title.as_str(),
        "body": r.body.as_str(),
        "created_at": date(r.created_at),
    }
}

pub(super) fn review(d: &Document) -> DocResult<Review> {
    const W: &str = "review";
    Ok(Review {
        id: ReviewId::from_uuid(uuid(d, "_id", W)?),
        product_id: ProductId::from_uuid(uuid(d, "product_id", W)?),
        author_id: UserId::from_uuid(uuid(d, "author_id", W)?),
        author_name: DisplayName::parse(text(d, "author_name", W)?).map_err(|e| corrupt(W, e))?,
        rating: Rating::new(int(d, "rating", W)?).map_err(|e| corrupt(W, e))?,
        title: ReviewTitle::parse(text(d, "title", W)?).map_err(|e| corrupt(W, e))?,
        body: ReviewBody::parse(text(d, "body", W)?).map_err(|e| corrupt(W, e))?,
        created_at: time(d, "created_at", W)?,
    })
}

pub(super) fn roles(r: &BTreeSet<Role>) -> Vec<&'static str> {
    r.iter().map(|x| x.as_str()).collect()
}

pub(super) fn user_doc(u: &User) -> Document {
    doc! {
        "_id": id(u.id.as_uuid()),
        "email": u.email.as_str(),
        "display_name": u.display_name.as_str(),
        "password_hash": u.password_hash.as_str(),
        "roles": roles(&u.roles),
        "created_at": date(u.created_at),
        "updated_at": date(u.updated_at),
    }
}

pub(super) fn user(d: &Document) -> DocResult<User> {
    const W: &str = "user";
    let roles = d
        .get_array("roles")
        .map_err(|e| corrupt(W, e))?
        .iter()
        .map(|b| match b {
            Bson::String(s) => Role::parse(s).map_err(|e| corrupt(W, e)),
            other => Err(corrupt(W, format!("role is {other:?}"))),
        })
        .collect::<DocResult<BTreeSet<_>>>()?;
    Ok(User {
        id: UserId::from_uuid(uuid(d, "_id", W)?),
        email: Email::parse(text(d, "email", W)?).map_err(|e| corrupt(W, e))?,
        display_name: DisplayName::parse(text(d, "display_name", W)?).map_err(|e| corrupt(W, e))?,
        password_hash: PasswordHash::new(text(d, "password_hash", W)?.to_owned()),
        roles,
        created_at: time(d, "created_at", W)?,
        updated_at: time(d, "updated_at", W)?,
    })
}

/// A token digest as the document ID: lower-case hex.
pub(super) fn token_id(h: &TokenHash) -> String {
    hex::encode(h.0)
}

fn token_hash(text: &str) -> DocResult<TokenHash> {
    let mut out = [0u8; 32];
    hex::decode_to_slice(text, &mut out)
        .map_err(|_| corrupt("refresh token", "hash is not 64 hex digits"))?;
    Ok(TokenHash(out))
}

pub(super) fn token_doc(r: &RefreshTokenRecord) -> Document {
    doc! {
        "_id": token_id(&r.token_hash),
        "family_id": id(r.family_id.as_uuid()),
        "user_id": id(r.user_id.as_uuid()),
        "issued_at": date(r.issued_at),
        "expires_at": date(r.expires_at),
        "used_at": r.used_at.map(date),
        "revoked_at": r.revoked_at.map(date),
    }
}

pub(super) fn token(d: &Document) -> DocResult<RefreshTokenRecord> {
    const W: &str = "refresh token";
    Ok(RefreshTokenRecord {
        token_hash: token_hash(text(d, "_id", W)?)?,
        family_id: TokenFamilyId::from_uuid(uuid(d, "family_id", W)?),
        user_id: UserId::from_uuid(uuid(d, "user_id", W)?),
        issued_at: time(d, "issued_at", W)?,
        expires_at: time(d, "expires_at", W)?,
        used_at: opt_time(d, "used_at", W)?,
        revoked_at: opt_time(d, "revoked_at", W)?,
    })
}

/// A regular expression matching `text` literally: every ASCII character that is not a letter
/// or digit is escaped, so user input can never be a pattern (`.*`, `(`, `\`, `$` …).
pub(super) fn literal_regex(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 2);
    for c in text.chars() {
        if c.is_ascii() && !c.is_ascii_alphanumeric() && c != ' ' {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_ids_round_trip() {
        let h = TokenHash([0xab; 32]);
        assert_eq!(token_hash(&token_id(&h)).unwrap(), h);
        assert!(token_hash("zz").is_err());
    }

    #[test]
    fn regex_input_is_literal() {
        assert_eq!(literal_regex("a.b*(c)"), r"a\.b\*\(c\)");
        assert_eq!(literal_regex(r"\d+ é"), r"\\d\+ é");
    }
}
