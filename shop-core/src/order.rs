//! Orders: price snapshots, the status machine, queries, and the inputs of the atomic store
//! operations that place and move orders.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::cart::Quantity;
use crate::catalog::{ProductName, Sku};
use crate::error::{Conflict, Error, Result};
use crate::event::DomainEvent;
use crate::id::{OrderId, ProductId, UserId};
use crate::money::Money;
use crate::page::{PageLimit, decode_cursor, encode_cursor};
use crate::time::Timestamp;
use crate::validate::{FieldError, check_len};

/// Where an order is in its life.
///
/// ```text
/// pending → paid → shipped → delivered
///    └───────┴──→ cancelled
/// ```
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum OrderStatus {
    /// Placed, awaiting payment.
    Pending,
    /// Paid, awaiting shipment.
    Paid,
    /// Handed to the carrier.
    Shipped,
    /// Received by the customer. Final.
    Delivered,
    /// Cancelled; its stock was released. Final.
    Cancelled,
}

impl OrderStatus {
    /// Every status.
    pub const ALL: [Self; 5] = [
        Self::Pending,
        Self::Paid,
        Self::Shipped,
        Self::Delivered,
        Self::Cancelled,
    ];

    /// Whether the machine allows moving from `self` to `to`.
    #[must_use]
    pub fn can_become(self, to: Self) -> bool {
        use OrderStatus::{Cancelled, Delivered, Paid, Pending, Shipped};
        matches!(
            (self, to),
            (Pending, Paid) | (Paid, Shipped) | (Shipped, Delivered) | (Pending | Paid, Cancelled)
        )
    }

    /// The statuses the machine allows moving to from `self`, in lifecycle order.
    pub fn next(self) -> impl Iterator<Item = Self> {
        Self::ALL.into_iter().filter(move |to| self.can_become(*to))
    }

    /// The snake-case name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Paid => "paid",
            Self::Shipped => "shipped",
            Self::Delivered => "delivered",
            Self::Cancelled => "cancelled",
        }
    }

    /// Parses [`OrderStatus::as_str`]'s output.
    ///
    /// # Errors
    /// A [`FieldError`] on `status`.
    pub fn parse(s: &str) -> Result<Self, FieldError> {
        Self::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| {
                FieldError::new(
                    "status",
                    "invalid_choice",
                    "must be one of pending, paid, shipped, delivered, cancelled",
                )
            })
    }
}

impl fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One line of an order, with the product as it was when the order was placed.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderLine {
    /// The product.
    pub product_id: ProductId,
    /// SKU at order time.
    pub sku: Sku,
    /// Name at order time.
    pub name: ProductName,
    /// Unit price at order time.
    pub unit_price: Money,
    /// Units ordered.
    pub quantity: Quantity,
    /// `unit_price × quantity`.
    pub line_total: Money,
}

/// A placed order.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    /// Identity.
    pub id: OrderId,
    /// Who placed it.
    pub user_id: UserId,
    /// What was ordered, never empty.
    pub lines: Vec<OrderLine>,
    /// Sum of the line totals.
    pub total: Money,
    /// Current status.
    pub status: OrderStatus,
    /// When it was placed.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: Timestamp,
    /// When its status last changed.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub updated_at: Timestamp,
}

impl Order {
    /// Units ordered per product, in product-ID order. Stores lock and update products in this
    /// order, so two transactions over the same products never wait on each other in a cycle.
    #[must_use]
    pub fn quantities_by_product(&self) -> BTreeMap<ProductId, u32> {
        let mut wanted = BTreeMap::new();
        for l in &self.lines {
            *wanted.entry(l.product_id).or_default() += l.quantity.get();
        }
        wanted
    }
}

/// A client-chosen key that makes checkout safe to retry: 1–255 visible ASCII characters,
/// unique per user.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// Checks `s`.
    ///
    /// # Errors
    /// A [`FieldError`] on `idempotency_key`.
    pub fn parse(s: impl AsRef<str>) -> Result<Self, FieldError> {
        let s = s.as_ref();
        check_len("idempotency_key", s, 1, 255)?;
        if !s.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(FieldError::new(
                "idempotency_key",
                "invalid_characters",
                "must be visible ASCII without spaces",
            ));
        }
        Ok(Self(s.to_owned()))
    }

    /// The key.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A digest of the request that used an idempotency key, so a replay with a different request
/// is told apart from a true retry. Opaque; at most 128 characters.
#[derive(Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RequestFingerprint(String);

impl RequestFingerprint {
    /// Wraps a digest (e.g. the hex SHA-256 of a request body).
    ///
    /// # Errors
    /// A [`FieldError`] when longer than 128 characters.
    pub fn parse(s: impl AsRef<str>) -> Result<Self, FieldError> {
        check_len("fingerprint", s.as_ref(), 0, 128)?;
        Ok(Self(s.as_ref().to_owned()))
    }

    /// The digest text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

crate::catalog::string_newtype_impls!(IdempotencyKey, RequestFingerprint);

/// Where an order page ends (orders are listed newest first).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderCursor {
    /// Last item's creation time.
    pub created_at: Timestamp,
    /// Last item's ID.
    pub id: OrderId,
}

impl OrderCursor {
    /// The cursor naming `o` as the last item of a page.
    #[must_use]
    pub fn after(o: &Order) -> Self {
        Self {
            created_at: o.created_at,
            id: o.id,
        }
    }

    /// The opaque text form.
    #[must_use]
    pub fn encode(&self) -> String {
        encode_cursor(self)
    }

    /// Parses the text form.
    ///
    /// # Errors
    /// A [`FieldError`] on `cursor`.
    pub fn decode(s: &str) -> Result<Self, FieldError> {
        decode_cursor(s)
    }
}

/// An order listing, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrderQuery {
    /// Only this user's orders.
    pub user_id: Option<UserId>,
    /// Only orders in this status.
    pub status: Option<OrderStatus>,
    /// Page size.
    pub limit: PageLimit,
    /// Continue after this item.
    pub after: Option<OrderCursor>,
}

impl OrderQuery {
    /// Whether `o` passes the filters and comes after the cursor.
    #[must_use]
    pub fn matches(&self, o: &Order) -> bool {
        self.user_id.is_none_or(|u| o.user_id == u)
            && self.status.is_none_or(|s| o.status == s)
            && self
                .after
                .as_ref()
                .is_none_or(|c| (o.created_at, o.id) < (c.created_at, c.id))
    }
}

/// The input of the atomic status change.
///
/// All or nothing, a store must: move the order from `from` to `to` only if its status is still
/// `from` (else [`Conflict::ConcurrentModification`](crate::error::Conflict)); when `to` is
/// `Cancelled`, give every line's quantity back to its product's stock; and append `events`
/// to the outbox.
#[derive(Debug, Clone)]
pub struct OrderTransition {
    /// The order.
    pub order_id: OrderId,
    /// The status it must still have.
    pub from: OrderStatus,
    /// The status to move to.
    pub to: OrderStatus,
    /// When.
    pub at: Timestamp,
    /// Events to append in the same unit of work.
    pub events: Vec<DomainEvent>,
}

impl OrderTransition {
    /// Whether it may happen to `current`, the order as the store read it under lock:
    /// [`Conflict::ConcurrentModification`] when its status is no longer `from`,
    /// [`Error::InvalidTransition`] when the status machine forbids `from → to`. Every store
    /// asks this, so the rule is written once.
    ///
    /// # Errors
    /// The two refusals above.
    pub fn check(&self, current: &Order) -> Result<()> {
        if current.status != self.from {
            return Err(Conflict::ConcurrentModification.into());
        }
        if !self.from.can_become(self.to) {
            return Err(Error::InvalidTransition {
                from: self.from,
                to: self.to,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_machine_allows_exactly_the_documented_moves() {
        use OrderStatus::*;
        let allowed = [
            (Pending, Paid),
            (Paid, Shipped),
            (Shipped, Delivered),
            (Pending, Cancelled),
            (Paid, Cancelled),
        ];
        for from in OrderStatus::ALL {
            for to in OrderStatus::ALL {
                assert_eq!(
                    from.can_become(to),
                    allowed.contains(&(from, to)),
                    "{from} -> {to}"
                );
            }
        }
    }

    #[test]
    fn quantities_are_summed_per_product_in_id_order() {
        use crate::money::{Currency, Money};
        let (a, b) = (ProductId::generate(), ProductId::generate());
        let line = |product_id, n| OrderLine {
            product_id,
            sku: Sku::parse("S").unwrap(),
            name: ProductName::parse("N").unwrap(),
            unit_price: Money::new(1, Currency::EUR),
            quantity: Quantity::new(n).unwrap(),
            line_total: Money::new(n, Currency::EUR),
        };
        let at = crate::time::now();
        let order = Order {
            id: OrderId::generate(),
            user_id: UserId::generate(),
            lines: vec![line(b, 2), line(a, 1), line(b, 3)],
            total: Money::new(6, Currency::EUR),
            status: OrderStatus::Pending,
            created_at: at,
            updated_at: at,
        };
        let got: Vec<_> = order.quantities_by_product().into_iter().collect();
        assert_eq!(got, vec![(a, 1), (b, 5)]);
    }

    #[test]
    fn a_transition_needs_the_expected_status_and_a_legal_move() {
        use crate::money::{Currency, Money};
        let at = crate::time::now();
        let order = Order {
            id: OrderId::generate(),
            user_id: UserId::generate(),
            lines: Vec::new(),
            total: Money::new(0, Currency::EUR),
            status: OrderStatus::Paid,
            created_at: at,
            updated_at: at,
        };
        let move_to = |from, to| OrderTransition {
            order_id: order.id,
            from,
            to,
            at,
            events: Vec::new(),
        };
        assert!(
            move_to(OrderStatus::Paid, OrderStatus::Shipped)
                .check(&order)
                .is_ok()
        );
        assert!(matches!(
            move_to(OrderStatus::Pending, OrderStatus::Paid).check(&order),
            Err(Error::Conflict(Conflict::ConcurrentModification))
        ));
        assert!(matches!(
            move_to(OrderStatus::Paid, OrderStatus::Pending).check(&order),
            Err(Error::InvalidTransition { .. })
        ));
    }

    #[test]
    fn status_names_round_trip() {
        for s in OrderStatus::ALL {
            assert_eq!(OrderStatus::parse(s.as_str()).unwrap(), s);
            assert_eq!(serde_json::to_string(&s).unwrap(), format!("\"{s}\""));
        }
        assert!(OrderStatus::parse("lost").is_err());
    }

    #[test]
    fn idempotency_keys() {
        assert!(IdempotencyKey::parse("abc-123_X").is_ok());
        assert!(IdempotencyKey::parse("").is_err());
        assert!(IdempotencyKey::parse("has space").is_err());
        assert!(IdempotencyKey::parse("k".repeat(256)).is_err());
    }
}
