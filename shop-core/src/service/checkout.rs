use std::sync::Arc;

use tracing::instrument;

use crate::checkout::{CheckoutConfig, PlaceOrder, PlaceOrderOutcome};
use crate::error::{Conflict, Result};
use crate::id::UserId;
use crate::order::{IdempotencyKey, Order, RequestFingerprint};
use crate::store::CommerceStore;

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
/// One atomic store call ([`CheckoutStore::place_order`]) does everything: inside its unit of
/// work the store locks the cart and its products, lets [`decide`] price the cart and check
/// it, and writes the order, stock, key, cleared cart and events — or finds that the key
/// already placed an order. The service only compares the request's fingerprint with the one
/// recorded with that key.
///
/// [`CheckoutStore::place_order`]: crate::store::CheckoutStore::place_order
/// [`decide`]: crate::checkout::decide
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
    /// - the refusals of [`decide`](crate::checkout::decide): an empty cart, a cart that
    ///   changed since the client saw it, an unavailable product, mixed currencies,
    ///   insufficient stock (nothing changes);
    /// - [`Conflict::IdempotencyKeyReused`] for the same key with another fingerprint;
    /// - store errors, as they are: a failure is never taken for a replay.
    #[instrument(skip_all, fields(user_id = %request.user_id), err(level = "debug"))]
    pub async fn checkout(&self, request: &CheckoutRequest) -> Result<CheckoutOutcome> {
        let place = PlaceOrder::new(
            request.user_id,
            request.idempotency_key.clone(),
            request.fingerprint.clone(),
            self.config,
        )
        .expecting_cart_version(request.expected_cart_version);
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
