//! Carts: creation, merging, limits, quantities, clearing, one cart per user.

use shop_core::{CartCommand, Error, ProductId};

use super::Store;
use super::fixtures::*;

/// A user without a cart has none; the first change creates it.
pub async fn cart_created_on_first_change(store: Store) {
    let u = user("c1");
    assert_eq!(store.get_cart(u.id).await.unwrap(), None);
    let p = seeded(&store, "CA-1", 100, 5).await;
    let cart = add(&store, u.id, p.id, 2).await;
    assert_eq!(cart.user_id, u.id);
    assert_eq!(cart.lines.len(), 1);
    assert_eq!(store.get_cart(u.id).await.unwrap(), Some(cart));
}

/// Adding a product twice merges the quantities into one line; the version rises each time.
pub async fn cart_add_merges_lines(store: Store) {
    let u = user("c2");
    let p = seeded(&store, "CA-2", 100, 5).await;
    let first = add(&store, u.id, p.id, 2).await;
    let second = add(&store, u.id, p.id, 3).await;
    assert_eq!(second.lines.len(), 1);
    assert_eq!(second.lines[0].quantity.get(), 5);
    assert!(second.version > first.version);
    assert_eq!(second.id, first.id, "one open cart per user");
}

/// A line never exceeds 999 units; the refused change leaves the cart as it was.
pub async fn cart_quantity_limit(store: Store) {
    let u = user("c3");
    let p = seeded(&store, "CA-3", 100, 5).await;
    let before = add(&store, u.id, p.id, 999).await;
    let err = store
        .modify_cart(
            u.id,
            &CartCommand::Add {
                product_id: p.id,
                quantity: q(1),
            },
        )
        .await;
    assert!(matches!(err, Err(Error::Validation(_))), "{err:?}");
    assert_eq!(store.get_cart(u.id).await.unwrap(), Some(before));
}

/// A cart holds at most 100 lines.
pub async fn cart_line_limit(store: Store) {
    let u = user("c4");
    for _ in 0..shop_core::cart::MAX_CART_LINES {
        add(&store, u.id, ProductId::generate(), 1).await;
    }
    let err = store
        .modify_cart(
            u.id,
            &CartCommand::Add {
                product_id: ProductId::generate(),
                quantity: q(1),
            },
        )
        .await;
    assert!(matches!(err, Err(Error::Validation(_))), "{err:?}");
    let cart = store.get_cart(u.id).await.unwrap().unwrap();
    assert_eq!(cart.lines.len(), shop_core::cart::MAX_CART_LINES);
}

/// Setting a quantity and removing a line work on existing lines and are `NotFound` otherwise.
pub async fn cart_set_quantity_and_remove(store: Store) {
    let u = user("c5");
    let a = seeded(&store, "CA-5A", 100, 5).await;
    let b = seeded(&store, "CA-5B", 100, 5).await;
    add(&store, u.id, a.id, 1).await;
    add(&store, u.id, b.id, 1).await;
    let cart = store
        .modify_cart(
            u.id,
            &CartCommand::SetQuantity {
                product_id: a.id,
                quantity: q(7),
            },
        )
        .await
        .unwrap();
    assert_eq!(cart.line(a.id).unwrap().quantity.get(), 7);
    let cart = store
        .modify_cart(u.id, &CartCommand::Remove { product_id: b.id })
        .await
        .unwrap();
    assert_eq!(cart.lines.len(), 1);
    for cmd in [
        CartCommand::Remove { product_id: b.id },
        CartCommand::SetQuantity {
            product_id: b.id,
            quantity: q(1),
        },
    ] {
        let r = store.modify_cart(u.id, &cmd).await;
        assert!(matches!(r, Err(Error::NotFound(_))), "{r:?}");
    }
    // Line order is the order lines were first added.
    add(&store, u.id, b.id, 1).await;
    let cart = add(&store, u.id, a.id, 1).await;
    let order: Vec<ProductId> = cart.lines.iter().map(|l| l.product_id).collect();
    assert_eq!(order, vec![a.id, b.id]);
}

/// Clearing empties the cart but keeps it (and its identity).
pub async fn cart_clear(store: Store) {
    let u = user("c6");
    let p = seeded(&store, "CA-6", 100, 5).await;
    let before = add(&store, u.id, p.id, 1).await;
    let cleared = store.modify_cart(u.id, &CartCommand::Clear).await.unwrap();
    assert!(cleared.is_empty());
    assert_eq!(cleared.id, before.id);
    assert!(cleared.version > before.version);
}

/// Users' carts are independent.
pub async fn carts_are_per_user(store: Store) {
    let (u1, u2) = (user("c7a"), user("c7b"));
    let p = seeded(&store, "CA-7", 100, 5).await;
    add(&store, u1.id, p.id, 1).await;
    add(&store, u2.id, p.id, 4).await;
    let c1 = store.get_cart(u1.id).await.unwrap().unwrap();
    let c2 = store.get_cart(u2.id).await.unwrap().unwrap();
    assert_ne!(c1.id, c2.id);
    assert_eq!(c1.lines[0].quantity.get(), 1);
    assert_eq!(c2.lines[0].quantity.get(), 4);
}
