//! Domain events and the outbox records that carry them to a broker.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::cart::Quantity;
use crate::catalog::{Product, Sku};
use crate::id::{EventId, OrderId, ProductId, UserId};
use crate::money::Money;
use crate::order::{Order, OrderStatus};
use crate::review::Review;
use crate::time::{Timestamp, now};
use crate::user::User;

/// The kinds of domain event. [`EventType::as_str`] is also the broker routing key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[non_exhaustive]
pub enum EventType {
    /// `order.placed`
    #[serde(rename = "order.placed")]
    OrderPlaced,
    /// `order.status_changed`
    #[serde(rename = "order.status_changed")]
    OrderStatusChanged,
    /// `order.cancelled`
    #[serde(rename = "order.cancelled")]
    OrderCancelled,
    /// `product.created`
    #[serde(rename = "product.created")]
    ProductCreated,
    /// `product.updated`
    #[serde(rename = "product.updated")]
    ProductUpdated,
    /// `product.stock_low`
    #[serde(rename = "product.stock_low")]
    StockLow,
    /// `user.registered`
    #[serde(rename = "user.registered")]
    UserRegistered,
    /// `review.added`
    #[serde(rename = "review.added")]
    ReviewAdded,
}

impl EventType {
    /// Every event type.
    pub const ALL: [Self; 8] = [
        Self::OrderPlaced,
        Self::OrderStatusChanged,
        Self::OrderCancelled,
        Self::ProductCreated,
        Self::ProductUpdated,
        Self::StockLow,
        Self::UserRegistered,
        Self::ReviewAdded,
    ];

    /// The dotted name, e.g. `order.placed`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::OrderPlaced => "order.placed",
            Self::OrderStatusChanged => "order.status_changed",
            Self::OrderCancelled => "order.cancelled",
            Self::ProductCreated => "product.created",
            Self::ProductUpdated => "product.updated",
            Self::StockLow => "product.stock_low",
            Self::UserRegistered => "user.registered",
            Self::ReviewAdded => "review.added",
        }
    }

    /// Parses [`EventType::as_str`]'s output.
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The envelope every event travels in.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DomainEvent {
    /// Unique; consumers deduplicate by it.
    pub id: EventId,
    /// What happened.
    #[serde(rename = "type")]
    pub event_type: EventType,
    /// The ID of the order, product, user or review it concerns.
    pub aggregate_id: Uuid,
    /// When it happened.
    pub occurred_at: Timestamp,
    /// Event-specific data (a JSON object), serialized once when the event is made: storing,
    /// relaying and publishing then copy text instead of re-encoding a tree of values.
    pub payload: Box<RawValue>,
    /// The W3C `traceparent` of the operation that made the event (see [`crate::trace`]):
    /// kept by the outbox, sent in the message headers rather than the body.
    #[serde(skip)]
    pub traceparent: Option<String>,
}

impl PartialEq for DomainEvent {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
            && self.event_type == other.event_type
            && self.aggregate_id == other.aggregate_id
            && self.occurred_at == other.occurred_at
            && self.payload.get() == other.payload.get()
            && self.traceparent == other.traceparent
    }
}

impl DomainEvent {
    /// An event with a fresh ID, stamped now. A payload that cannot be serialized (only a
    /// map with non-string keys or a failing `Serialize` impl can fail) becomes `null`.
    #[must_use]
    pub fn new(event_type: EventType, aggregate_id: Uuid, payload: impl Serialize) -> Self {
        Self {
            id: EventId::generate(),
            event_type,
            aggregate_id,
            occurred_at: now(),
            payload: serde_json::value::to_raw_value(&payload)
                .unwrap_or_else(|_| RawValue::NULL.to_owned()),
            traceparent: crate::trace::current_traceparent(),
        }
    }

    /// The payload parsed into a [`Value`] (for consumers that inspect it; `Value::Null` if
    /// it is not valid JSON, which a payload made by [`DomainEvent::new`] always is).
    #[must_use]
    pub fn payload_value(&self) -> Value {
        serde_json::from_str(self.payload.get()).unwrap_or(Value::Null)
    }

    /// `order.placed`: the whole order.
    #[must_use]
    pub fn order_placed(order: &Order) -> Self {
        // Typed and borrowed rather than `json!`: checkout makes one of these every time, and
        // serializing straight to text allocates once instead of once per field.
        #[derive(Serialize)]
        struct Line<'a> {
            product_id: ProductId,
            sku: &'a Sku,
            quantity: Quantity,
            unit_price: Money,
        }
        #[derive(Serialize)]
        struct Placed<'a> {
            order_id: OrderId,
            user_id: UserId,
            total: Money,
            lines: Vec<Line<'a>>,
        }
        Self::new(
            EventType::OrderPlaced,
            order.id.as_uuid(),
            Placed {
                order_id: order.id,
                user_id: order.user_id,
                total: order.total,
                lines: order
                    .lines
                    .iter()
                    .map(|l| Line {
                        product_id: l.product_id,
                        sku: &l.sku,
                        quantity: l.quantity,
                        unit_price: l.unit_price,
                    })
                    .collect(),
            },
        )
    }

    /// `order.status_changed`.
    #[must_use]
    pub fn order_status_changed(order: &Order, from: OrderStatus, to: OrderStatus) -> Self {
        Self::new(
            EventType::OrderStatusChanged,
            order.id.as_uuid(),
            json!({ "order_id": order.id, "user_id": order.user_id, "from": from, "to": to }),
        )
    }

    /// `order.cancelled`.
    #[must_use]
    pub fn order_cancelled(order: &Order, from: OrderStatus) -> Self {
        Self::new(
            EventType::OrderCancelled,
            order.id.as_uuid(),
            json!({ "order_id": order.id, "user_id": order.user_id, "from": from }),
        )
    }

    /// `product.created`.
    #[must_use]
    pub fn product_created(p: &Product) -> Self {
        Self::new(
            EventType::ProductCreated,
            p.id.as_uuid(),
            json!({ "product_id": p.id, "sku": p.sku, "name": p.name, "price": p.price, "stock": p.stock }),
        )
    }

    /// `product.updated`: the product as it is now.
    #[must_use]
    pub fn product_updated(p: &Product) -> Self {
        Self::new(
            EventType::ProductUpdated,
            p.id.as_uuid(),
            json!({
                "product_id": p.id, "sku": p.sku, "name": p.name, "price": p.price,
                "stock": p.stock, "active": p.active,
            }),
        )
    }

    /// `product.stock_low`.
    #[must_use]
    pub fn stock_low(p: &Product, stock: u32, threshold: u32) -> Self {
        Self::new(
            EventType::StockLow,
            p.id.as_uuid(),
            json!({ "product_id": p.id, "sku": p.sku, "stock": stock, "threshold": threshold }),
        )
    }

    /// `user.registered` (never carries the password hash).
    #[must_use]
    pub fn user_registered(u: &User) -> Self {
        Self::new(
            EventType::UserRegistered,
            u.id.as_uuid(),
            json!({ "user_id": u.id, "email": u.email, "display_name": u.display_name }),
        )
    }

    /// `review.added`.
    #[must_use]
    pub fn review_added(r: &Review) -> Self {
        Self::new(
            EventType::ReviewAdded,
            r.id.as_uuid(),
            json!({
                "review_id": r.id, "product_id": r.product_id,
                "author_id": r.author_id, "rating": r.rating,
            }),
        )
    }
}

/// An event in the outbox, with its position. Positions rise in append order; events appended
/// in one unit of work get consecutive positions.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxRecord {
    /// Position in the outbox.
    pub seq: u64,
    /// The event.
    pub event: DomainEvent,
}

/// A relay's request for a batch of unpublished events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxClaim {
    /// Who claims (a relay instance ID). Claimed events are hidden from other claimants until
    /// `lease_until`, so two relays do not publish the same event in normal operation.
    pub claimant: String,
    /// The most events to claim.
    pub limit: usize,
    /// Now: claims whose lease ended before this are free again.
    pub now: Timestamp,
    /// When this claim's lease ends if the events are not marked published by then.
    pub lease_until: Timestamp,
}

/// How far behind the relay is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutboxStats {
    /// Unpublished events.
    pub pending: u64,
    /// When the oldest unpublished event occurred.
    pub oldest_pending_at: Option<Timestamp>,
}
