//! The shop-core services over the memory store: rules that need more than one store call.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use std::collections::BTreeSet;
use std::sync::Arc;

use shop_core::{
    CartCommand, CartService, CartStore, CatalogStore, CheckoutConfig, CheckoutRequest,
    CheckoutService, CommerceStore, Conflict, Currency, Description, DisplayName, Email, Error,
    EventType, IdempotencyKey, Money, NewProduct, OutboxClaim, OutboxStore, PasswordHash, Price,
    Product, ProductId, ProductName, ProductPatch, Quantity, RequestFingerprint, ReviewInput,
    ReviewService, ReviewStore, Role, Sku, Slug, User, UserId,
};
use shop_store::MemoryStore;

fn product(sku: &str, minor: i64, currency: Currency) -> Product {
    Product::create(NewProduct {
        sku: Sku::parse(sku).unwrap(),
        slug: Slug::from_name(sku).unwrap(),
        name: ProductName::parse(sku).unwrap(),
        description: Description::parse("").unwrap(),
        image_url: None,
        price: Price::new(Money::new(minor, currency)).unwrap(),
        stock: 10,
        active: true,
    })
}

async fn store_with(products: &[&Product]) -> Arc<MemoryStore> {
    let store = Arc::new(MemoryStore::new());
    for p in products {
        store.create_product(p).await.unwrap();
    }
    store
}

fn q(n: i64) -> Quantity {
    Quantity::new(n).unwrap()
}

#[tokio::test]
async fn cart_view_prices_lines_at_current_prices() {
    let a = product("A", 250, Currency::EUR);
    let b = product("B", 100, Currency::EUR);
    let store = store_with(&[&a, &b]).await;
    let carts = CartService::new(store.clone());
    let u = UserId::generate();
    carts.add_item(u, a.id, q(2)).await.unwrap();
    let view = carts.add_item(u, b.id, q(3)).await.unwrap();
    assert_eq!(view.total, Some(Money::new(800, Currency::EUR)));
    let patch = ProductPatch {
        price: Some(Price::new(Money::new(300, Currency::EUR)).unwrap()),
        ..ProductPatch::default()
    };
    store.update_product(a.id, &patch).await.unwrap();
    let view = carts.view(u).await.unwrap();
    assert_eq!(view.total, Some(Money::new(900, Currency::EUR)));
    assert_eq!(view.lines[0].line_total, Money::new(600, Currency::EUR));

    let off = ProductPatch {
        active: Some(false),
        ..ProductPatch::default()
    };
    store.update_product(b.id, &off).await.unwrap();
    let view = carts.view(u).await.unwrap();
    assert_eq!(view.unavailable.len(), 1);
    assert_eq!(view.total, Some(Money::new(600, Currency::EUR)));
    let empty = carts.view(UserId::generate()).await.unwrap();
    assert!(empty.lines.is_empty() && empty.total.is_none());
}

#[tokio::test]
async fn cart_refuses_unknown_inactive_and_foreign_currency_products() {
    let eur = product("EUR-1", 100, Currency::EUR);
    let usd = product("USD-1", 100, Currency::USD);
    let mut off = product("OFF-1", 100, Currency::EUR);
    off.active = false;
    let store = store_with(&[&eur, &usd, &off]).await;
    let carts = CartService::new(store.clone());
    let u = UserId::generate();
    carts.add_item(u, eur.id, q(1)).await.unwrap();

    let err = carts.add_item(u, usd.id, q(1)).await.unwrap_err();
    assert!(
        matches!(&err, Error::Validation(v) if v.fields()[0].code == "currency_mismatch"),
        "{err:?}"
    );
    let err = carts.add_item(u, off.id, q(1)).await.unwrap_err();
    assert!(matches!(
        err,
        Error::Conflict(Conflict::ProductUnavailable(_))
    ));
    let err = carts
        .add_item(u, ProductId::generate(), q(1))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotFound("product")));
    assert_eq!(store.get_cart(u).await.unwrap().unwrap().lines.len(), 1);
}

#[tokio::test]
async fn checkout_refuses_a_cart_that_mixes_currencies() {
    let eur = product("EUR-2", 100, Currency::EUR);
    let usd = product("USD-2", 100, Currency::USD);
    let store = store_with(&[&eur, &usd]).await;
    let u = UserId::generate();
    // Straight through the store, past CartService's currency rule.
    for p in [&eur, &usd] {
        let cmd = CartCommand::Add {
            product_id: p.id,
            quantity: q(1),
        };
        store.modify_cart(u, &cmd).await.unwrap();
    }
    let commerce: Arc<dyn CommerceStore> = store.clone();
    let err = CheckoutService::new(commerce, CheckoutConfig::default())
        .checkout(&CheckoutRequest {
            expected_cart_version: None,
            user_id: u,
            idempotency_key: IdempotencyKey::parse("k").unwrap(),
            fingerprint: RequestFingerprint::default(),
        })
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Validation(_)), "{err:?}");
    assert_eq!(store.get_product(eur.id).await.unwrap().unwrap().stock, 10);
}

#[tokio::test]
async fn checkout_holds_the_client_to_the_cart_version_it_confirmed() {
    let p = product("V-1", 100, Currency::EUR);
    let store = store_with(&[&p]).await;
    let carts = CartService::new(store.clone());
    let u = UserId::generate();
    let seen = carts.add_item(u, p.id, q(1)).await.unwrap().cart.version;
    carts.set_quantity(u, p.id, q(3)).await.unwrap();
    let checkout = CheckoutService::new(store.clone(), CheckoutConfig::default());
    let request = |version| CheckoutRequest {
        expected_cart_version: Some(version),
        user_id: u,
        idempotency_key: IdempotencyKey::parse("v").unwrap(),
        fingerprint: RequestFingerprint::default(),
    };
    let err = checkout.checkout(&request(seen)).await.unwrap_err();
    assert!(
        matches!(err, Error::Conflict(Conflict::CartChanged { expected }) if expected == seen),
        "{err:?}"
    );
    assert_eq!(store.get_product(p.id).await.unwrap().unwrap().stock, 10);
    let current = carts.view(u).await.unwrap().cart.version;
    let placed = checkout.checkout(&request(current)).await.unwrap();
    assert_eq!(placed.order.lines[0].quantity, q(3));
}

#[tokio::test]
async fn review_service_checks_the_product_and_announces_the_review() {
    let p = product("R-1", 100, Currency::EUR);
    let store = store_with(&[&p]).await;
    let svc = ReviewService::new(store.clone(), store.clone(), store.clone());
    let author = User::create(
        Email::parse("rev@example.com").unwrap(),
        DisplayName::parse("Rev").unwrap(),
        PasswordHash::new("x".into()),
        BTreeSet::from([Role::Customer]),
    );
    let input = ReviewInput {
        rating: 4,
        title: "Good".into(),
        body: String::new(),
    };
    let r = svc.add_review(p.id, &author, &input).await.unwrap();
    assert_eq!(r.author_name.as_str(), "Rev");
    let missing = svc.add_review(ProductId::generate(), &author, &input).await;
    assert!(matches!(missing, Err(Error::NotFound("product"))));
    let bad = ReviewInput {
        rating: 6,
        ..input.clone()
    };
    assert!(matches!(
        svc.add_review(p.id, &author, &bad).await,
        Err(Error::Validation(_))
    ));
    assert_eq!(store.rating_summary(p.id).await.unwrap().count, 1);
    let now = shop_core::time::now();
    let events = store
        .claim_events(&OutboxClaim {
            claimant: "t".into(),
            limit: 100,
            now,
            lease_until: now,
        })
        .await
        .unwrap();
    assert_eq!(
        events
            .iter()
            .filter(|e| e.event.event_type == EventType::ReviewAdded)
            .count(),
        1
    );
}
