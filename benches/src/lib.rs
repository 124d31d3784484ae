//! # shop-benches
//!
//! Criterion benchmarks of the checkout paths (`cargo bench -p shop-benches`) and a load
//! harness (`benches/load.sh`) that drives the reference app and a bare hyper server with the
//! same generator. This library holds what they share: catalog and cart fixtures, and the
//! load generator itself. See `benches/README.md` for how to run them and the latest figures.

pub mod load;

use std::sync::Arc;

use shop_core::catalog::MAX_STOCK;
use shop_core::{
    CartCommand, CheckoutRequest, CommerceStore, Currency, Description, IdempotencyKey, Money,
    NewProduct, Price, Product, ProductId, ProductName, Quantity, RequestFingerprint, Result, Sku,
    Slug, UserId,
};

/// A multi-threaded runtime with two workers (this project's benchmark machine has two cores).
///
/// # Panics
/// If the runtime cannot be built.
#[must_use]
pub fn runtime() -> tokio::runtime::Runtime {
    #[allow(clippy::expect_used)] // a bench without a runtime cannot report anything
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// Product number `n` of a bench catalog: active, 9.99 EUR, `stock` units.
///
/// # Panics
/// Never for the fixed values used here.
#[must_use]
#[allow(clippy::unwrap_used)] // fixed, valid literals
pub fn product(n: usize, stock: u32) -> Product {
    Product::create(NewProduct {
        sku: Sku::parse(format!("BENCH-{n}")).unwrap(),
        slug: Slug::parse(format!("bench-{n}")).unwrap(),
        name: ProductName::parse(format!("Bench mug {n}")).unwrap(),
        description: Description::parse("A mug that is only ever bought by benchmarks.").unwrap(),
        image_url: None,
        price: Price::new(Money::new(999, Currency::EUR)).unwrap(),
        stock,
        active: true,
    })
}

/// Creates `n` products with the largest allowed stock and returns their IDs.
///
/// # Errors
/// What the store reports.
pub async fn seed(store: &dyn CommerceStore, n: usize) -> Result<Vec<ProductId>> {
    let mut ids = Vec::with_capacity(n);
    for i in 0..n {
        let p = product(i, MAX_STOCK);
        store.create_product(&p).await?;
        ids.push(p.id);
    }
    Ok(ids)
}

/// Puts one unit of each product in `user`'s cart.
///
/// # Errors
/// What the store reports.
///
/// # Panics
/// Never: 1 is a valid quantity.
#[allow(clippy::unwrap_used)]
pub async fn fill_cart(
    store: &dyn CommerceStore,
    user: UserId,
    products: &[ProductId],
) -> Result<()> {
    for &product_id in products {
        let add = CartCommand::Add {
            product_id,
            quantity: Quantity::new(1).unwrap(),
        };
        store.modify_cart(user, &add).await?;
    }
    Ok(())
}

/// A checkout request for `user` under idempotency key number `key`.
///
/// # Panics
/// Never: the key is a short decimal.
#[must_use]
#[allow(clippy::unwrap_used)] // a decimal number is a valid key
pub fn checkout_request(user: UserId, key: u64) -> CheckoutRequest {
    CheckoutRequest {
        expected_cart_version: None,
        user_id: user,
        idempotency_key: IdempotencyKey::parse(format!("bench-{key}")).unwrap(),
        fingerprint: RequestFingerprint::default(),
    }
}

/// Upcast for the helpers above.
#[must_use]
pub fn commerce<S: CommerceStore + 'static>(store: Arc<S>) -> Arc<dyn CommerceStore> {
    store
}
