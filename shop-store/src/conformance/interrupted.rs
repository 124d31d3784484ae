//! A checkout cut off by a fault — a killed connection, a terminated backend — for an
//! adapter's own fault test. How to cut it off is the backend's business (the test holds a
//! lock the checkout will wait on, finds the store's session and kills it); what must hold
//! afterwards is the same everywhere, and written once here.

use std::time::Duration;

use shop_core::{
    Cart, CheckoutOutcome, CheckoutRequest, CheckoutService, Error, EventType, Product, UserId,
};
use tokio::task::JoinHandle;

use super::Store;
use super::fixtures::{add, all_orders, checkout_service, events_of, request, seeded, stock};

/// A product with 10 units, a user with 2 of them in the cart, and the checkout about to be
/// interrupted (idempotency key `kill-key`).
pub struct InterruptedCheckout {
    /// The store under test.
    pub store: Store,
    /// The product in the cart (SKU `KILL-1`).
    pub product: Product,
    /// The customer.
    pub user: UserId,
    /// The cart as it was before the checkout.
    pub cart_before: Cart,
    /// The service to run the checkout with.
    pub checkout: CheckoutService,
    /// The checkout to interrupt.
    pub request: CheckoutRequest,
}

impl std::fmt::Debug for InterruptedCheckout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InterruptedCheckout")
            .field("product", &self.product.id)
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

impl InterruptedCheckout {
    /// Seeds the product and the cart.
    pub async fn prepare(store: Store) -> Self {
        let product = seeded(&store, "KILL-1", 100, 10).await;
        let user = UserId::generate();
        let cart_before = add(&store, user, product.id, 2).await;
        Self {
            checkout: checkout_service(&store),
            request: request(user, "kill-key"),
            store,
            product,
            user,
            cart_before,
        }
    }

    /// Starts the checkout in its own task, for the test to cut it off.
    #[must_use]
    pub fn start(&self) -> JoinHandle<Result<CheckoutOutcome, Error>> {
        let (checkout, request) = (self.checkout.clone(), self.request.clone());
        tokio::spawn(async move { checkout.checkout(&request).await })
    }

    /// The started checkout's outcome, which must be [`Error::Unavailable`] (within 30 s).
    pub async fn assert_unavailable(task: JoinHandle<Result<CheckoutOutcome, Error>>) {
        let result = tokio::time::timeout(Duration::from_secs(30), task)
            .await
            .unwrap()
            .unwrap();
        assert!(matches!(result, Err(Error::Unavailable(_))), "{result:?}");
    }

    /// After the interrupted checkout failed: nothing of it stayed — stock, cart, orders, key,
    /// events — and the store serves the same checkout again (its pool dropped the dead
    /// connection).
    pub async fn assert_nothing_written_and_the_store_recovers(&self) {
        let store = &self.store;
        assert_eq!(stock(store, self.product.id).await, 10);
        assert_eq!(
            store.get_cart(self.user).await.unwrap().as_ref(),
            Some(&self.cart_before)
        );
        assert!(
            store
                .list_orders(&all_orders())
                .await
                .unwrap()
                .items
                .is_empty()
        );
        assert!(
            store
                .find_order_by_idempotency_key(self.user, &self.request.idempotency_key)
                .await
                .unwrap()
                .is_none()
        );
        assert!(events_of(store, EventType::OrderPlaced).await.is_empty());

        let placed = self.checkout.checkout(&self.request).await.unwrap();
        assert!(!placed.replayed);
        assert_eq!(stock(store, self.product.id).await, 8);
    }
}
