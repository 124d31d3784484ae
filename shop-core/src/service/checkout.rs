use std::collections::HashMap;
use std::sync::Arc;

use tracing::instrument;

use crate::cart::Cart;
use crate::error::{Conflict, Error, Result};
use crate::event::DomainEvent;
use crate::id::{OrderId, ProductId, UserId};
use crate::money::{Money, MoneyError};
use crate::order::{
    IdempotencyKey, Order, OrderLine, OrderStatus, PlaceOrder, PlaceOrderOutcome,
    RequestFingerprint,
};
use crate::store::CommerceStore;
use crate::time::now;
use crate::validate::FieldError;

/// Checkout settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckoutConfig {
    /// A sale that takes a product's stock below this raises `StockLow`.
    pub low_stock_threshold: u32,
}

impl Default for CheckoutConfig {
    fn default() -> Self {
        Self {
            low_stock_threshold: 5,
        }
    }
}

/// One checkout attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckoutRequest {
    /// Whose cart.
    pub user_id: UserId,
    /// The client's retry key (scoped to the user).
    pub idempotency_key: IdempotencyKey,
    /// Digest of the request, to tell a retry from a different request with the same key.
    pub fingerprint: RequestFingerprint,
    /// The cart version the client confirmed, if it sent one: checkout then refuses with
    /// [`Conflict::CartChanged`] when the cart has changed since (the store's version check
    /// makes that exact).
    pub expected_cart_version: Option<u64>,
}

/// What checkout produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckoutOutcome {
    /// The order.
    pub order: Order,
    /// `true` when the key had been used already and this is that first order.
    pub replayed: bool,
}

/// Turns a user's cart into an order.
///
/// Validates the cart (not empty, every product active, one currency), snapshots current
/// prices, then makes ONE atomic store call ([`CheckoutStore::place_order`]) that takes the
/// stock, writes the order, clears the cart, records the idempotency key and appends
/// `OrderPlaced` — all or nothing. The store re-checks price and stock inside its unit of work,
/// so a concurrent price change or sale can never slip between the read and the write.
///
/// [`CheckoutStore::place_order`]: crate::store::CheckoutStore::place_order
#[derive(Clone)]
pub struct CheckoutService {
    store: Arc<dyn CommerceStore>,
    config: CheckoutConfig,
}

impl std::fmt::Debug for CheckoutService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CheckoutService")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl CheckoutService {
    /// A service over `store`.
    #[must_use]
    pub fn new(store: Arc<dyn CommerceStore>, config: CheckoutConfig) -> Self {
        Self { store, config }
    }

    /// Checks the user's cart out; replaying the same key returns the first order.
    ///
    /// # Errors
    /// - validation (`empty_cart`, `currency_mismatch`) for a cart that cannot be ordered;
    /// - [`Conflict::ProductUnavailable`] / [`Conflict::ProductChanged`] when the catalog
    ///   moved under the cart;
    /// - [`Error::InsufficientStock`] when a line cannot be filled (nothing changes);
    /// - [`Conflict::IdempotencyKeyReused`] for the same key with another fingerprint;
    /// - [`Conflict::ConcurrentModification`] when the cart changed during checkout;
    /// - store errors.
    #[instrument(skip_all, fields(user_id = %request.user_id), err(level = "debug"))]
    pub async fn checkout(&self, request: &CheckoutRequest) -> Result<CheckoutOutcome> {
        // No look-up of the key first: the store checks it inside its transaction, and a
        // replay whose cart is gone fails on the way there and is found below. That saves a
        // round trip on every first attempt, which is nearly every checkout.
        match self.place(request).await {
            Ok(outcome) => Ok(outcome),
            // A retry of a placed order (its cart now empty), or a racing request with the same
            // key that won and emptied the cart or took the last units: either way this request
            // is a replay of that order, whatever error it met on the way.
            Err(e) => match self.find(request).await {
                Ok(Some((order, fingerprint))) => replay(order, &fingerprint, request),
                _ => Err(e),
            },
        }
    }

    async fn find(&self, request: &CheckoutRequest) -> Result<Option<(Order, RequestFingerprint)>> {
        self.store
            .find_order_by_idempotency_key(request.user_id, &request.idempotency_key)
            .await
    }

    async fn place(&self, request: &CheckoutRequest) -> Result<CheckoutOutcome> {
        let cart = self
            .store
            .get_cart(request.user_id)
            .await?
            .filter(|c| !c.is_empty())
            .ok_or_else(|| {
                Error::from(FieldError::new("cart", "empty_cart", "the cart is empty"))
            })?;
        if let Some(expected) = request.expected_cart_version
            && expected != cart.version
        {
            return Err(Conflict::CartChanged { expected }.into());
        }
        let order = self.price_order(&cart).await?;
        let place = PlaceOrder {
            events: vec![DomainEvent::order_placed(&order)],
            order,
            cart_version: cart.version,
            idempotency_key: request.idempotency_key.clone(),
            fingerprint: request.fingerprint.clone(),
            low_stock_threshold: self.config.low_stock_threshold,
        };
        match self.store.place_order(&place).await? {
            PlaceOrderOutcome::Placed(order) => Ok(CheckoutOutcome {
                order,
                replayed: false,
            }),
            PlaceOrderOutcome::Replayed { order, fingerprint } => {
                replay(order, &fingerprint, request)
            }
        }
    }

    /// Builds the order a cart would become at current prices, without placing it.
    async fn price_order(&self, cart: &Cart) -> Result<Order> {
        let ids: Vec<ProductId> = cart.lines.iter().map(|l| l.product_id).collect();
        let products: HashMap<ProductId, _> = self
            .store
            .get_products(&ids)
            .await?
            .into_iter()
            .map(|p| (p.id, p))
            .collect();
        let mut lines = Vec::with_capacity(cart.lines.len());
        let mut currency = None;
        for line in &cart.lines {
            let product = products
                .get(&line.product_id)
                .filter(|p| p.active)
                .ok_or(Conflict::ProductUnavailable(line.product_id))?;
            if product.stock < line.quantity.get() {
                // Early, cheap refusal; the store checks again atomically.
                return Err(Error::InsufficientStock {
                    product_id: product.id,
                    requested: line.quantity.get(),
                    available: product.stock,
                });
            }
            let unit_price = product.price.money();
            let expected = *currency.get_or_insert(unit_price.currency());
            if expected != unit_price.currency() {
                return Err(FieldError::from(MoneyError::CurrencyMismatch {
                    left: expected,
                    right: unit_price.currency(),
                })
                .at("cart")
                .into());
            }
            lines.push(OrderLine {
                product_id: product.id,
                sku: product.sku.clone(),
                name: product.name.clone(),
                unit_price,
                quantity: line.quantity,
                line_total: unit_price.checked_mul(i64::from(line.quantity.get()))?,
            });
        }
        let currency = currency.ok_or_else(|| {
            Error::from(FieldError::new("cart", "empty_cart", "the cart is empty"))
        })?;
        let total = Money::sum(currency, lines.iter().map(|l| l.line_total))?;
        let at = now();
        Ok(Order {
            id: OrderId::generate(),
            user_id: cart.user_id,
            lines,
            total,
            status: OrderStatus::Pending,
            created_at: at,
            updated_at: at,
        })
    }
}

fn replay(
    order: Order,
    fingerprint: &RequestFingerprint,
    request: &CheckoutRequest,
) -> Result<CheckoutOutcome> {
    if *fingerprint == request.fingerprint {
        Ok(CheckoutOutcome {
            order,
            replayed: true,
        })
    } else {
        Err(Conflict::IdempotencyKeyReused.into())
    }
}
