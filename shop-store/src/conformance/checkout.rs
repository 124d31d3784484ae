//! Checkout: atomicity, idempotent replay, refusals, stock-low events, races.

use std::collections::{BTreeSet, HashMap};

use shop_core::{
    CartCommand, CheckoutConfig, Conflict, Currency, Error, EventType, IdempotencyKey, Money,
    OrderService, OrderStatus, PlaceOrder, PlaceOrderOutcome, Price, ProductId, ProductPatch,
    RequestFingerprint, UserId,
};

use super::Store;
use super::fixtures::*;

/// Checkout takes the stock, writes the order with price snapshots, clears the cart and
/// appends `OrderPlaced`.
pub async fn checkout_places_order(store: Store) {
    let u = user("k1");
    let a = seeded(&store, "K-1A", 1250, 10).await;
    let b = seeded(&store, "K-1B", 199, 10).await;
    add(&store, u.id, a.id, 2).await;
    add(&store, u.id, b.id, 3).await;
    let out = checkout(&store, u.id, "key-1").await.unwrap();
    assert!(!out.replayed);
    let order = out.order;
    assert_eq!(order.status, OrderStatus::Pending);
    assert_eq!(order.total, Money::new(2 * 1250 + 3 * 199, Currency::USD));
    assert_eq!(order.lines.len(), 2);
    assert_eq!(order.lines[0].sku, a.sku);
    assert_eq!(order.lines[0].name, a.name);
    assert_eq!(order.lines[0].unit_price, a.price.money());
    assert_eq!(order.lines[1].line_total, Money::new(597, Currency::USD));
    assert_eq!(stock(&store, a.id).await, 8);
    assert_eq!(stock(&store, b.id).await, 7);
    assert!(store.get_cart(u.id).await.unwrap().unwrap().is_empty());
    assert_eq!(
        store.get_order(order.id).await.unwrap(),
        Some(order.clone())
    );
    let placed = events_of(&store, EventType::OrderPlaced).await;
    assert_eq!(placed.len(), 1);
    assert_eq!(placed[0].aggregate_id, order.id.as_uuid());
    // The payload survives the store as the JSON the domain made.
    let payload = placed[0].payload_value();
    assert_eq!(payload["order_id"], serde_json::json!(order.id));
    assert_eq!(payload["total"], serde_json::json!(order.total));
    assert_eq!(
        payload["lines"].as_array().map(Vec::len),
        Some(order.lines.len())
    );
    assert_eq!(
        payload["lines"][0]["sku"],
        serde_json::json!(order.lines[0].sku)
    );
    assert_eq!(
        payload["lines"][0]["quantity"],
        serde_json::json!(order.lines[0].quantity)
    );
    // The snapshot survives later price changes.
    let patch = ProductPatch {
        price: Some(Price::new(Money::new(1, Currency::USD)).unwrap()),
        ..ProductPatch::default()
    };
    store.update_product(a.id, &patch).await.unwrap();
    let again = store.get_order(order.id).await.unwrap().unwrap();
    assert_eq!(again.lines[0].unit_price.minor(), 1250);
}

/// A cart whose second line lacks stock changes nothing at all.
pub async fn checkout_is_all_or_nothing(store: Store) {
    let u = user("k2");
    let a = seeded(&store, "K-2A", 100, 10).await;
    let b = seeded(&store, "K-2B", 100, 1).await;
    add(&store, u.id, a.id, 2).await;
    let cart = add(&store, u.id, b.id, 2).await;
    let before_events = outbox(&store).await.len();
    let err = checkout(&store, u.id, "key-2").await;
    assert!(
        matches!(err, Err(Error::InsufficientStock { product_id, requested: 2, available: 1 }) if product_id == b.id),
        "{err:?}"
    );
    // Also straight through the store.
    let placed = store.place_order(&place(u.id, "key-2b")).await;
    assert!(
        matches!(placed, Err(Error::InsufficientStock { .. })),
        "{placed:?}"
    );

    assert_eq!(stock(&store, a.id).await, 10);
    assert_eq!(stock(&store, b.id).await, 1);
    assert_eq!(store.get_cart(u.id).await.unwrap(), Some(cart));
    assert_eq!(outbox(&store).await.len(), before_events);
    let orders = store.list_orders(&all_orders()).await.unwrap();
    assert!(orders.items.is_empty());
    assert!(
        store
            .find_order_by_idempotency_key(u.id, &IdempotencyKey::parse("key-2").unwrap())
            .await
            .unwrap()
            .is_none()
    );
}

/// A checkout of `user`'s cart straight through the store (fingerprint `fp-1`).
fn place(user: UserId, key: &str) -> PlaceOrder {
    PlaceOrder::new(
        user,
        IdempotencyKey::parse(key).unwrap(),
        RequestFingerprint::parse("fp-1").unwrap(),
        CheckoutConfig::default(),
    )
}

/// An empty (or never created) cart cannot be checked out.
pub async fn checkout_refuses_empty_cart(store: Store) {
    let u = user("k3");
    let err = checkout(&store, u.id, "k").await;
    assert!(
        matches!(err, Err(Error::Validation(ref v)) if v.has("cart")),
        "{err:?}"
    );
    let p = seeded(&store, "K-3", 100, 1).await;
    add(&store, u.id, p.id, 1).await;
    store.modify_cart(u.id, &CartCommand::Clear).await.unwrap();
    let err = checkout(&store, u.id, "k").await;
    assert!(matches!(err, Err(Error::Validation(_))), "{err:?}");
}

/// The same key replays the first order without a second sale; the same key with another
/// request is refused; another key places a new order.
pub async fn checkout_idempotent_replay(store: Store) {
    let u = user("k4");
    let p = seeded(&store, "K-4", 100, 10).await;
    add(&store, u.id, p.id, 2).await;
    let first = checkout(&store, u.id, "same").await.unwrap();
    let again = checkout(&store, u.id, "same").await.unwrap();
    assert!(again.replayed);
    assert_eq!(again.order, first.order);
    assert_eq!(stock(&store, p.id).await, 8);

    let mut other = request(u.id, "same");
    other.fingerprint = RequestFingerprint::parse("fp-2").unwrap();
    assert_conflict(
        checkout_service(&store).checkout(&other).await,
        &Conflict::IdempotencyKeyReused,
    );
    let (found, fp) = store
        .find_order_by_idempotency_key(u.id, &IdempotencyKey::parse("same").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!((found, fp.as_str()), (first.order.clone(), "fp-1"));

    // The store itself answers a reused key with the first order and changes nothing, even
    // with a full cart to check out.
    add(&store, u.id, p.id, 1).await;
    match store.place_order(&place(u.id, "same")).await.unwrap() {
        PlaceOrderOutcome::Replayed { order, fingerprint } => {
            assert_eq!(order, first.order);
            assert_eq!(fingerprint.as_str(), "fp-1");
        }
        PlaceOrderOutcome::Placed(o) => panic!("placed a second order {o:?}"),
    }
    assert_eq!(stock(&store, p.id).await, 8);
    store.modify_cart(u.id, &CartCommand::Clear).await.unwrap();

    add(&store, u.id, p.id, 1).await;
    let second = checkout(&store, u.id, "other").await.unwrap();
    assert_ne!(second.order.id, first.order.id);
    assert_eq!(stock(&store, p.id).await, 7);
    assert_eq!(events_of(&store, EventType::OrderPlaced).await.len(), 2);
}

/// Idempotency keys belong to a user: another user's identical key is a different checkout.
pub async fn checkout_keys_are_per_user(store: Store) {
    let (a, b) = (user("k5a"), user("k5b"));
    let p = seeded(&store, "K-5", 100, 10).await;
    add(&store, a.id, p.id, 1).await;
    add(&store, b.id, p.id, 1).await;
    let oa = checkout(&store, a.id, "shared-key").await.unwrap();
    let ob = checkout(&store, b.id, "shared-key").await.unwrap();
    assert!(!ob.replayed);
    assert_ne!(oa.order.id, ob.order.id);
    assert_eq!(ob.order.user_id, b.id);
}

/// Inactive or deleted products make checkout refuse with `ProductUnavailable`.
pub async fn checkout_refuses_unavailable_products(store: Store) {
    let u = user("k6");
    let p = seeded(&store, "K-6", 100, 10).await;
    add(&store, u.id, p.id, 1).await;
    let patch = ProductPatch {
        active: Some(false),
        ..ProductPatch::default()
    };
    store.update_product(p.id, &patch).await.unwrap();
    assert_conflict(
        checkout(&store, u.id, "k").await,
        &Conflict::ProductUnavailable(p.id),
    );
    assert_eq!(stock(&store, p.id).await, 10);
}

/// The order is priced at the price current when the store locks the product, not the price
/// when the line was added.
pub async fn checkout_charges_the_current_price(store: Store) {
    let u = user("k7");
    let p = seeded(&store, "K-7", 100, 10).await;
    add(&store, u.id, p.id, 2).await;
    let patch = ProductPatch {
        price: Some(Price::new(Money::new(150, Currency::USD)).unwrap()),
        ..ProductPatch::default()
    };
    store.update_product(p.id, &patch).await.unwrap();
    let order = checkout(&store, u.id, "k7").await.unwrap().order;
    assert_eq!(order.lines[0].unit_price, Money::new(150, Currency::USD));
    assert_eq!(order.total, Money::new(300, Currency::USD));
}

/// A checkout that names the cart version the client saw is refused once the cart has moved
/// on, and changes nothing (the key stays free).
pub async fn checkout_refuses_a_cart_changed_since_seen(store: Store) {
    let u = user("k8");
    let p = seeded(&store, "K-8", 100, 10).await;
    let q2 = seeded(&store, "K-8B", 100, 10).await;
    let seen = add(&store, u.id, p.id, 1).await;
    let now_cart = add(&store, u.id, q2.id, 1).await;
    let mut stale = request(u.id, "k8");
    stale.expected_cart_version = Some(seen.version);
    assert_conflict(
        checkout_service(&store).checkout(&stale).await,
        &Conflict::CartChanged {
            expected: seen.version,
        },
    );
    assert_eq!(stock(&store, p.id).await, 10);
    assert_eq!(store.get_cart(u.id).await.unwrap(), Some(now_cart.clone()));
    let key = IdempotencyKey::parse("k8").unwrap();
    assert!(
        store
            .find_order_by_idempotency_key(u.id, &key)
            .await
            .unwrap()
            .is_none()
    );
    // With the version it has now, the same key places the order.
    let mut fresh = request(u.id, "k8");
    fresh.expected_cart_version = Some(now_cart.version);
    let out = checkout_service(&store).checkout(&fresh).await.unwrap();
    assert_eq!(out.order.lines.len(), 2);
}

/// A sale that takes stock below the threshold appends `StockLow` after `OrderPlaced`.
pub async fn checkout_emits_stock_low(store: Store) {
    let u = user("k9");
    let p = seeded(&store, "K-9", 100, 6).await;
    let plenty = seeded(&store, "K-9B", 100, 100).await;
    add(&store, u.id, p.id, 2).await;
    add(&store, u.id, plenty.id, 2).await;
    checkout(&store, u.id, "k9").await.unwrap();
    let events = outbox(&store).await;
    let tail: Vec<EventType> = events
        .iter()
        .rev()
        .take(2)
        .rev()
        .map(|e| e.event_type)
        .collect();
    assert_eq!(tail, vec![EventType::OrderPlaced, EventType::StockLow]);
    let low = events_of(&store, EventType::StockLow).await;
    assert_eq!(low.len(), 1);
    assert_eq!(low[0].aggregate_id, p.id.as_uuid());
    assert_eq!(low[0].payload_value()["stock"], serde_json::json!(4));
}

/// 64 tasks check out the last units at once: exactly that many units are sold, stock never
/// goes negative, and every failed checkout leaves no trace.
pub async fn concurrent_checkouts_never_oversell(store: Store) {
    const TASKS: usize = 64;
    const UNITS: u32 = 10;
    let p = seeded(&store, "RACE", 500, UNITS).await;
    let mut users = Vec::new();
    for i in 0..TASKS {
        let u = user(&format!("r{i}"));
        add(&store, u.id, p.id, 1).await;
        users.push(u.id);
    }
    let handles: Vec<_> = users
        .iter()
        .map(|&u| {
            let store = store.clone();
            tokio::spawn(async move { (u, checkout(&store, u, "race").await) })
        })
        .collect();
    let mut sold = 0;
    for h in handles {
        let (u, result) = h.await.unwrap();
        match result {
            Ok(out) => {
                sold += 1;
                assert_eq!(out.order.user_id, u);
            }
            Err(Error::InsufficientStock { .. }) => {
                let cart = store.get_cart(u).await.unwrap().unwrap();
                assert_eq!(cart.lines.len(), 1, "a failed checkout keeps the cart");
                let key = IdempotencyKey::parse("race").unwrap();
                assert!(
                    store
                        .find_order_by_idempotency_key(u, &key)
                        .await
                        .unwrap()
                        .is_none()
                );
            }
            Err(other) => panic!("unexpected checkout error: {other:?}"),
        }
    }
    assert_eq!(sold, UNITS);
    assert_eq!(stock(&store, p.id).await, 0);
    assert_eq!(
        store.list_orders(&all_orders()).await.unwrap().items.len(),
        UNITS as usize
    );
    assert_eq!(
        events_of(&store, EventType::OrderPlaced).await.len(),
        UNITS as usize
    );
}

/// Eight checkouts of `user`'s cart at once, racer `i` under idempotency key `key(i)`.
async fn race_checkouts(
    store: &Store,
    user: UserId,
    key: impl Fn(usize) -> String,
) -> Vec<Result<shop_core::CheckoutOutcome, Error>> {
    let handles: Vec<_> = (0..8)
        .map(|i| {
            let (store, key) = (store.clone(), key(i));
            tokio::spawn(async move { checkout(&store, user, &key).await })
        })
        .collect();
    let mut results = Vec::with_capacity(handles.len());
    for h in handles {
        results.push(h.await.unwrap());
    }
    results
}

/// Racing requests with the same key all get the one order it placed.
pub async fn concurrent_same_key_checkouts_place_one_order(store: Store) {
    let u = user("same-key");
    let p = seeded(&store, "SAME", 100, 100).await;
    add(&store, u.id, p.id, 3).await;
    let mut ids = BTreeSet::new();
    for result in race_checkouts(&store, u.id, |_| "one-key".to_owned()).await {
        ids.insert(result.expect("every racer gets the order").order.id);
    }
    assert_eq!(ids.len(), 1, "exactly one order");
    assert_eq!(stock(&store, p.id).await, 97);
    assert_eq!(events_of(&store, EventType::OrderPlaced).await.len(), 1);
}

/// Racing checkouts of one cart under different keys place one order; the others find the
/// cart empty (a refusal, never a store conflict or a second order).
pub async fn concurrent_checkouts_of_one_cart_place_one_order(store: Store) {
    let u = user("one-cart");
    let p = seeded(&store, "ONE-CART", 100, 100).await;
    add(&store, u.id, p.id, 2).await;
    let mut placed = 0;
    for result in race_checkouts(&store, u.id, |i| format!("key-{i}")).await {
        match result {
            Ok(out) => {
                assert!(!out.replayed);
                placed += 1;
            }
            Err(Error::Validation(v)) if v.has("cart") => {}
            Err(other) => panic!("unexpected checkout error: {other:?}"),
        }
    }
    assert_eq!(placed, 1);
    assert_eq!(stock(&store, p.id).await, 98);
    assert_eq!(events_of(&store, EventType::OrderPlaced).await.len(), 1);
}

/// Checkouts and cancels racing on the same products conserve stock:
/// initial = on hand + sold − released.
pub async fn checkout_cancel_contention_conserves_stock(store: Store) {
    const INITIAL: u32 = 40;
    let a = seeded(&store, "CC-A", 100, INITIAL).await;
    let b = seeded(&store, "CC-B", 100, INITIAL).await;
    let mut handles = Vec::new();
    for i in 0..24_i64 {
        let store = store.clone();
        let u = user(&format!("cc{i}"));
        handles.push(tokio::spawn(async move {
            add(&store, u.id, a.id, 1 + i % 3).await;
            add(&store, u.id, b.id, 1 + (i + 1) % 2).await;
            let placed = checkout(&store, u.id, &format!("cc-{i}")).await;
            if let Ok(out) = &placed
                && i % 2 == 0
            {
                OrderService::new(commerce(&store))
                    .cancel(out.order.id)
                    .await
                    .unwrap();
            }
            placed
        }));
    }
    for h in handles {
        match h.await.unwrap() {
            Ok(_) | Err(Error::InsufficientStock { .. }) => {}
            Err(e) => panic!("unexpected error: {e:?}"),
        }
    }
    let mut held: HashMap<ProductId, u32> = HashMap::new();
    for o in store.list_orders(&all_orders()).await.unwrap().items {
        if o.status != OrderStatus::Cancelled {
            for l in &o.lines {
                *held.entry(l.product_id).or_default() += l.quantity.get();
            }
        }
    }
    for p in [&a, &b] {
        let on_hand = stock(&store, p.id).await;
        assert_eq!(on_hand + held.get(&p.id).copied().unwrap_or(0), INITIAL);
    }
}
