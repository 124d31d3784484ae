//! The rules of checkout, decided once for every store.
//!
//! A store's [`CheckoutStore::place_order`] is one unit of work: it locks the user's cart and
//! the products the cart names, asks [`decide`] what to do with what it read, and writes the
//! [`CheckoutDecision`] (or writes nothing and returns the refusal). Adapters lock, read and
//! write; whether a cart may become an order, at what price, and which events that raises is
//! decided here, in plain code with unit tests.
//!
//! ```
//! use shop_core::checkout::{decide, CheckoutConfig, PlaceOrder};
//! use shop_core::{Cart, CartCommand, Currency, Money, NewProduct, Price, Product, ProductInput};
//! use shop_core::{IdempotencyKey, Quantity, RequestFingerprint, UserId, time::now};
//!
//! let input: ProductInput = serde_json::from_value(serde_json::json!({
//!     "sku": "MUG-1", "name": "Mug", "price_minor": 1250, "currency": "EUR", "stock": 6,
//! })).unwrap();
//! let product = Product::create(NewProduct::try_from(input).unwrap());
//! let user = UserId::generate();
//! let mut cart = Cart::empty(user);
//! cart.apply(&CartCommand::Add { product_id: product.id, quantity: Quantity::new(2).unwrap() }, now()).unwrap();
//!
//! let request = PlaceOrder::new(
//!     user,
//!     IdempotencyKey::parse("k-1").unwrap(),
//!     RequestFingerprint::parse("fp").unwrap(),
//!     CheckoutConfig::default(),
//! );
//! let decision = decide(&request, Some(&cart), |id| (id == product.id).then_some(&product)).unwrap();
//! assert_eq!(decision.order.total, Money::new(2500, Currency::EUR));
//! assert_eq!(decision.stock[0].remaining, 4);
//! // OrderPlaced, then StockLow: 6 → 4 crosses the default threshold of 5.
//! assert_eq!(decision.events.len(), 2);
//! ```
//!
//! [`CheckoutStore::place_order`]: crate::store::CheckoutStore::place_order

use std::collections::BTreeMap;

use crate::cart::Cart;
use crate::catalog::Product;
use crate::error::{Conflict, Error, Result};
use crate::event::DomainEvent;
use crate::id::{OrderId, ProductId, UserId};
use crate::money::{Currency, Money, MoneyError};
use crate::order::{IdempotencyKey, Order, OrderLine, OrderStatus, RequestFingerprint};
use crate::time::{Timestamp, now};
use crate::validate::FieldError;

/// Checkout settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct CheckoutConfig {
    /// A sale that takes a product's stock from at or above this to below it raises
    /// `StockLow`.
    pub low_stock_threshold: u32,
}

impl CheckoutConfig {
    /// Settings with the given low-stock threshold.
    #[must_use]
    pub fn with_low_stock_threshold(low_stock_threshold: u32) -> Self {
        Self {
            low_stock_threshold,
        }
    }
}

impl Default for CheckoutConfig {
    fn default() -> Self {
        Self {
            low_stock_threshold: 5,
        }
    }
}

/// The input of the one atomic checkout operation ([`CheckoutStore::place_order`]).
///
/// All or nothing, a store must: if the user already used `idempotency_key`, change nothing
/// and return the order it names with the fingerprint recorded then; otherwise lock the user's
/// cart and the products it names (in product ID order), call [`decide`] with what it read,
/// and either return its refusal having changed nothing, or write its decision — set each
/// product's stock to [`StockTake::remaining`], insert the order, record the key with
/// `fingerprint`, clear the cart and append the decision's events to the outbox.
///
/// [`CheckoutStore::place_order`]: crate::store::CheckoutStore::place_order
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PlaceOrder {
    /// Whose cart.
    pub user_id: UserId,
    /// The ID the order gets if one is placed.
    pub order_id: OrderId,
    /// The client's retry key (scoped to the user).
    pub idempotency_key: IdempotencyKey,
    /// Digest of the client's request, recorded with the key.
    pub fingerprint: RequestFingerprint,
    /// The cart version the client confirmed, if it sent one.
    pub expected_cart_version: Option<u64>,
    /// The rules' settings.
    pub config: CheckoutConfig,
    /// When the order is placed.
    pub at: Timestamp,
}

impl PlaceOrder {
    /// A checkout of `user_id`'s cart now, under a fresh order ID, with no expected version.
    #[must_use]
    pub fn new(
        user_id: UserId,
        idempotency_key: IdempotencyKey,
        fingerprint: RequestFingerprint,
        config: CheckoutConfig,
    ) -> Self {
        Self {
            user_id,
            order_id: OrderId::generate(),
            idempotency_key,
            fingerprint,
            expected_cart_version: None,
            config,
            at: now(),
        }
    }

    /// The same checkout, refused unless the cart still has `version`.
    #[must_use]
    pub fn expecting_cart_version(mut self, version: Option<u64>) -> Self {
        self.expected_cart_version = version;
        self
    }
}

/// What the atomic checkout did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlaceOrderOutcome {
    /// The order was placed.
    Placed(Order),
    /// The key was used before; nothing changed. Here is the order it placed then, and the
    /// fingerprint of that request.
    Replayed {
        /// The first order.
        order: Order,
        /// Fingerprint recorded with the key.
        fingerprint: RequestFingerprint,
    },
}

/// Units taken from one product.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StockTake {
    /// The product.
    pub product_id: ProductId,
    /// Units sold (every line of the product together).
    pub quantity: u32,
    /// The stock before the sale, as the store read it under lock.
    pub before: u32,
    /// The stock to write.
    pub remaining: u32,
}

/// What a store writes for an accepted checkout.
#[derive(Debug, Clone)]
pub struct CheckoutDecision {
    /// The order to insert, priced at the products' current prices.
    pub order: Order,
    /// One entry per product, in product ID order (the order stores lock in).
    pub stock: Vec<StockTake>,
    /// The events to append, in order: `OrderPlaced`, then a `StockLow` per product whose
    /// stock falls below the threshold.
    pub events: Vec<DomainEvent>,
}

/// Decides a checkout from the cart and products as the store read them under lock.
///
/// `product` answers for every product the cart names (`None` when it no longer exists).
/// Refusals, checked before anything is built so the caller can write nothing:
/// - no cart or an empty one: a validation error on `cart` (`empty_cart`);
/// - `expected_cart_version` given and not the cart's: [`Conflict::CartChanged`];
/// - a product missing or inactive: [`Conflict::ProductUnavailable`];
/// - prices in more than one currency: a validation error on `cart` (`currency_mismatch`);
/// - not enough stock for a product: [`Error::InsufficientStock`] (the first by product ID).
///
/// # Errors
/// The refusals above, or an overflow of the total.
pub fn decide<'p>(
    request: &PlaceOrder,
    cart: Option<&Cart>,
    product: impl Fn(ProductId) -> Option<&'p Product>,
) -> Result<CheckoutDecision> {
    let cart = cart.filter(|c| !c.is_empty()).ok_or_else(empty_cart)?;
    if let Some(expected) = request.expected_cart_version
        && expected != cart.version
    {
        return Err(Conflict::CartChanged { expected }.into());
    }

    let mut lines = Vec::with_capacity(cart.lines.len());
    let mut wanted: BTreeMap<ProductId, (u32, &Product)> = BTreeMap::new();
    let mut currency: Option<Currency> = None;
    for line in &cart.lines {
        let p = product(line.product_id)
            .filter(|p| p.active)
            .ok_or(Conflict::ProductUnavailable(line.product_id))?;
        let unit_price = p.price.money();
        let expected = *currency.get_or_insert(unit_price.currency());
        if expected != unit_price.currency() {
            return Err(FieldError::from(MoneyError::CurrencyMismatch {
                left: expected,
                right: unit_price.currency(),
            })
            .at("cart")
            .into());
        }
        let quantity = line.quantity.get();
        wanted.entry(p.id).or_insert((0, p)).0 += quantity;
        lines.push(OrderLine {
            product_id: p.id,
            sku: p.sku.clone(),
            name: p.name.clone(),
            unit_price,
            quantity: line.quantity,
            line_total: unit_price.checked_mul(i64::from(quantity))?,
        });
    }

    let mut stock = Vec::with_capacity(wanted.len());
    for (&product_id, &(quantity, p)) in &wanted {
        let remaining = p
            .stock
            .checked_sub(quantity)
            .ok_or(Error::InsufficientStock {
                product_id,
                requested: quantity,
                available: p.stock,
            })?;
        stock.push(StockTake {
            product_id,
            quantity,
            before: p.stock,
            remaining,
        });
    }

    let currency = currency.ok_or_else(empty_cart)?;
    let order = Order {
        id: request.order_id,
        user_id: request.user_id,
        total: Money::sum(currency, lines.iter().map(|l| l.line_total))?,
        lines,
        status: OrderStatus::Pending,
        created_at: request.at,
        updated_at: request.at,
    };

    let threshold = request.config.low_stock_threshold;
    let mut events = Vec::with_capacity(1 + stock.len());
    events.push(DomainEvent::order_placed(&order));
    for take in &stock {
        if take.before >= threshold && take.remaining < threshold {
            let (_, p) = wanted[&take.product_id];
            events.push(DomainEvent::stock_low(p, take.remaining, threshold));
        }
    }
    Ok(CheckoutDecision {
        order,
        stock,
        events,
    })
}

fn empty_cart() -> Error {
    FieldError::new("cart", "empty_cart", "the cart is empty").into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cart::{CartCommand, Quantity};
    use crate::catalog::{NewProduct, ProductInput};
    use crate::event::EventType;

    fn product(sku: &str, price: i64, currency: &str, stock: u32) -> Product {
        let input = ProductInput {
            sku: sku.into(),
            slug: None,
            name: format!("Product {sku}"),
            description: None,
            image_url: None,
            price_minor: price,
            currency: currency.into(),
            stock: i64::from(stock),
            active: true,
        };
        Product::create(NewProduct::try_from(input).unwrap())
    }

    fn cart_of(user: UserId, lines: &[(&Product, i64)]) -> Cart {
        let mut cart = Cart::empty(user);
        for (p, n) in lines {
            let add = CartCommand::Add {
                product_id: p.id,
                quantity: Quantity::new(*n).unwrap(),
            };
            cart.apply(&add, now()).unwrap();
        }
        cart
    }

    fn request(user: UserId) -> PlaceOrder {
        PlaceOrder::new(
            user,
            IdempotencyKey::parse("k").unwrap(),
            RequestFingerprint::parse("fp").unwrap(),
            CheckoutConfig::default(),
        )
    }

    fn run(
        request: &PlaceOrder,
        cart: Option<&Cart>,
        catalog: &[Product],
    ) -> Result<CheckoutDecision> {
        decide(request, cart, |id| catalog.iter().find(|p| p.id == id))
    }

    #[test]
    fn prices_the_cart_at_current_prices_and_takes_the_stock() {
        let (a, b) = (product("A", 1250, "EUR", 10), product("B", 199, "EUR", 3));
        let user = UserId::generate();
        let cart = cart_of(user, &[(&b, 3), (&a, 2)]);
        let req = request(user);
        let d = run(&req, Some(&cart), &[a.clone(), b.clone()]).unwrap();
        assert_eq!(d.order.id, req.order_id);
        assert_eq!(d.order.user_id, user);
        assert_eq!(d.order.status, OrderStatus::Pending);
        assert_eq!((d.order.created_at, d.order.updated_at), (req.at, req.at));
        // Lines keep the cart's order; stock is in product ID order.
        assert_eq!(d.order.lines[0].sku, b.sku);
        assert_eq!(d.order.lines[0].line_total, Money::new(597, Currency::EUR));
        assert_eq!(d.order.lines[1].name, a.name);
        assert_eq!(d.order.total, Money::new(2500 + 597, Currency::EUR));
        let mut ids = [a.id, b.id];
        ids.sort();
        assert_eq!(
            d.stock.iter().map(|t| t.product_id).collect::<Vec<_>>(),
            ids
        );
        let take_b = d.stock.iter().find(|t| t.product_id == b.id).unwrap();
        assert_eq!(
            (take_b.quantity, take_b.before, take_b.remaining),
            (3, 3, 0)
        );
    }

    #[test]
    fn order_placed_comes_first_then_stock_low_only_when_the_threshold_is_crossed() {
        let user = UserId::generate();
        let crosses = product("X", 100, "USD", 6); // 6 → 4
        let already_low = product("Y", 100, "USD", 3); // 3 → 2: was below already
        let plenty = product("Z", 100, "USD", 100);
        let exact = product("W", 100, "USD", 7); // 7 → 5: not below 5
        let catalog = [
            crosses.clone(),
            already_low.clone(),
            plenty.clone(),
            exact.clone(),
        ];
        let cart = cart_of(
            user,
            &[(&crosses, 2), (&already_low, 1), (&plenty, 2), (&exact, 2)],
        );
        let d = run(&request(user), Some(&cart), &catalog).unwrap();
        let types: Vec<_> = d.events.iter().map(|e| e.event_type).collect();
        assert_eq!(types, [EventType::OrderPlaced, EventType::StockLow]);
        assert_eq!(d.events[0].aggregate_id, d.order.id.as_uuid());
        assert_eq!(d.events[1].aggregate_id, crosses.id.as_uuid());
        let payload = d.events[1].payload_value();
        assert_eq!(payload["stock"], 4);
        assert_eq!(payload["threshold"], 5);
        assert_eq!(payload["sku"], "X");

        // The threshold is a setting.
        let mut req = request(user);
        req.config = CheckoutConfig::with_low_stock_threshold(0);
        let d = run(&req, Some(&cart), &catalog).unwrap();
        assert_eq!(d.events.len(), 1);
    }

    #[test]
    fn selling_out_raises_stock_low() {
        let user = UserId::generate();
        let p = product("S", 100, "USD", 5);
        let cart = cart_of(user, &[(&p, 5)]);
        let d = run(&request(user), Some(&cart), std::slice::from_ref(&p)).unwrap();
        assert_eq!(d.stock[0].remaining, 0);
        assert_eq!(d.events.len(), 2);
    }

    #[test]
    fn refuses_an_empty_or_missing_cart() {
        let user = UserId::generate();
        for cart in [None, Some(Cart::empty(user))] {
            let err = run(&request(user), cart.as_ref(), &[]).unwrap_err();
            assert!(
                matches!(err, Error::Validation(ref v) if v.has("cart")),
                "{err:?}"
            );
        }
    }

    #[test]
    fn refuses_a_cart_that_changed_since_the_client_saw_it() {
        let user = UserId::generate();
        let p = product("V", 100, "USD", 5);
        let cart = cart_of(user, &[(&p, 1)]);
        let req = request(user).expecting_cart_version(Some(cart.version + 1));
        let err = run(&req, Some(&cart), std::slice::from_ref(&p)).unwrap_err();
        let expected = cart.version + 1;
        assert!(
            matches!(err, Error::Conflict(Conflict::CartChanged { expected: e }) if e == expected),
            "{err:?}"
        );
        let req = request(user).expecting_cart_version(Some(cart.version));
        assert!(run(&req, Some(&cart), &[p]).is_ok());
    }

    #[test]
    fn refuses_missing_and_inactive_products() {
        let user = UserId::generate();
        let (live, mut off) = (product("L", 100, "USD", 5), product("O", 100, "USD", 5));
        off.active = false;
        let cart = cart_of(user, &[(&live, 1), (&off, 1)]);
        let unavailable = |err: Error| {
            assert!(
                matches!(err, Error::Conflict(Conflict::ProductUnavailable(id)) if id == off.id),
                "{err:?}"
            );
        };
        unavailable(run(&request(user), Some(&cart), &[live.clone(), off.clone()]).unwrap_err());
        unavailable(run(&request(user), Some(&cart), &[live]).unwrap_err());
    }

    #[test]
    fn refuses_insufficient_stock_naming_the_product() {
        let user = UserId::generate();
        let (a, b) = (product("A", 100, "USD", 10), product("B", 100, "USD", 1));
        let cart = cart_of(user, &[(&a, 2), (&b, 2)]);
        let err = run(&request(user), Some(&cart), &[a, b.clone()]).unwrap_err();
        assert!(
            matches!(err, Error::InsufficientStock { product_id, requested: 2, available: 1 } if product_id == b.id),
            "{err:?}"
        );
    }

    #[test]
    fn refuses_mixed_currencies() {
        let user = UserId::generate();
        let (a, b) = (product("A", 100, "USD", 10), product("B", 100, "EUR", 10));
        let cart = cart_of(user, &[(&a, 1), (&b, 1)]);
        let err = run(&request(user), Some(&cart), &[a, b]).unwrap_err();
        assert!(
            matches!(err, Error::Validation(ref v) if v.has("cart")),
            "{err:?}"
        );
    }
}
