//! A checkout cut off by a fault — a killed connection, a terminated backend — for an
//! adapter's own fault test. How to cut it off is the backend's business (the test holds a
//! lock the checkout will wait on, finds the store's session and kills it); what must hold
//! afterwards is the same everywhere, and written once here.

use std::sync::Arc;

use shop_core::time::now;
use shop_core::{
    Cart, CartCommand, CheckoutConfig, CheckoutRequest, CheckoutService, CommerceStore, EventType,
    IdempotencyKey, OrderQuery, OutboxClaim, PageLimit, Product, Quantity, RequestFingerprint,
    UserId,
};

use super::fixtures::product;

/// A product with 10 units, a user with 2 of them in the cart, and the checkout about to be
/// interrupted (idempotency key `kill-key`).
pub struct InterruptedCheckout {
    /// The store under test.
    pub store: Arc<dyn CommerceStore>,
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
    pub async fn prepare(store: Arc<dyn CommerceStore>) -> Self {
        let product = product("KILL-1", "Interrupted", 100, 10);
        store.create_product(&product).await.unwrap();
        let user = UserId::generate();
        let add = CartCommand::Add {
            product_id: product.id,
            quantity: Quantity::new(2).unwrap(),
        };
        let cart_before = store.modify_cart(user, &add).await.unwrap();
        Self {
            checkout: CheckoutService::new(store.clone(), CheckoutConfig::default()),
            request: CheckoutRequest {
                expected_cart_version: None,
                user_id: user,
                idempotency_key: IdempotencyKey::parse("kill-key").unwrap(),
                fingerprint: RequestFingerprint::default(),
            },
            store,
            product,
            user,
            cart_before,
        }
    }

    /// After the interrupted checkout failed: nothing of it stayed — stock, cart, orders, key,
    /// events — and the store serves the same checkout again (its pool dropped the dead
    /// connection).
    pub async fn assert_nothing_written_and_the_store_recovers(&self) {
        let store = &self.store;
        let stock = |p: Option<Product>| p.unwrap().stock;
        assert_eq!(stock(store.get_product(self.product.id).await.unwrap()), 10);
        assert_eq!(
            store.get_cart(self.user).await.unwrap().as_ref(),
            Some(&self.cart_before)
        );
        let orders = OrderQuery {
            limit: PageLimit::new(10).unwrap(),
            ..OrderQuery::default()
        };
        assert!(store.list_orders(&orders).await.unwrap().items.is_empty());
        assert!(
            store
                .find_order_by_idempotency_key(self.user, &self.request.idempotency_key)
                .await
                .unwrap()
                .is_none()
        );
        let now = now();
        let pending = store
            .claim_events(&OutboxClaim {
                claimant: "t".into(),
                limit: 100,
                now,
                lease_until: now,
            })
            .await
            .unwrap();
        assert!(
            pending
                .iter()
                .all(|r| r.event.event_type != EventType::OrderPlaced)
        );

        let placed = self.checkout.checkout(&self.request).await.unwrap();
        assert!(!placed.replayed);
        assert_eq!(stock(store.get_product(self.product.id).await.unwrap()), 8);
    }
}
