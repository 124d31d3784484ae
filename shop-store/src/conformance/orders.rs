//! Orders: the status machine, cancellation releasing stock, listing.

use shop_core::time::now;
use shop_core::{
    Conflict, DomainEvent, Error, EventType, OrderQuery, OrderService, OrderStatus, OrderTransition,
};

use super::Store;
use super::fixtures::*;

/// pending → paid → shipped → delivered, each step appending `OrderStatusChanged`.
pub async fn order_status_happy_path(store: Store) {
    let u = user("o1");
    let p = seeded(&store, "O-1", 100, 5).await;
    add(&store, u.id, p.id, 1).await;
    let order = checkout(&store, u.id, "o1").await.unwrap().order;
    let svc = OrderService::new(commerce(&store));
    for to in [
        OrderStatus::Paid,
        OrderStatus::Shipped,
        OrderStatus::Delivered,
    ] {
        let moved = svc.change_status(order.id, to).await.unwrap();
        assert_eq!(moved.status, to);
        assert_eq!(store.get_order(order.id).await.unwrap().unwrap().status, to);
    }
    let changes = events_of(&store, EventType::OrderStatusChanged).await;
    let tos: Vec<_> = changes
        .iter()
        .map(|e| e.payload_value()["to"].clone())
        .collect();
    assert_eq!(tos, vec!["paid", "shipped", "delivered"]);
    assert_eq!(
        stock(&store, p.id).await,
        4,
        "only cancelling releases stock"
    );
}

/// Every move the machine forbids is `InvalidTransition` and changes nothing.
pub async fn order_invalid_transitions(store: Store) {
    let u = user("o2");
    let p = seeded(&store, "O-2", 100, 5).await;
    add(&store, u.id, p.id, 1).await;
    let order = checkout(&store, u.id, "o2").await.unwrap().order;
    let svc = OrderService::new(commerce(&store));
    for to in [
        OrderStatus::Pending,
        OrderStatus::Shipped,
        OrderStatus::Delivered,
    ] {
        let r = svc.change_status(order.id, to).await;
        assert!(
            matches!(r, Err(Error::InvalidTransition { .. })),
            "{to}: {r:?}"
        );
    }
    svc.change_status(order.id, OrderStatus::Paid)
        .await
        .unwrap();
    svc.change_status(order.id, OrderStatus::Shipped)
        .await
        .unwrap();
    let r = svc.cancel(order.id).await;
    assert!(
        matches!(
            r,
            Err(Error::InvalidTransition {
                from: OrderStatus::Shipped,
                to: OrderStatus::Cancelled
            })
        ),
        "{r:?}"
    );
    assert_eq!(stock(&store, p.id).await, 4);
    let missing = svc.cancel(shop_core::OrderId::generate()).await;
    assert!(matches!(missing, Err(Error::NotFound(_))));
}

/// Cancelling (from pending or paid) gives the stock back once and appends `OrderCancelled`.
pub async fn cancel_releases_stock(store: Store) {
    let u = user("o3");
    let p = seeded(&store, "O-3", 100, 10).await;
    let svc = OrderService::new(commerce(&store));
    add(&store, u.id, p.id, 3).await;
    let pending = checkout(&store, u.id, "o3a").await.unwrap().order;
    add(&store, u.id, p.id, 2).await;
    let paid = checkout(&store, u.id, "o3b").await.unwrap().order;
    svc.change_status(paid.id, OrderStatus::Paid).await.unwrap();
    assert_eq!(stock(&store, p.id).await, 5);
    assert_eq!(
        svc.cancel(pending.id).await.unwrap().status,
        OrderStatus::Cancelled
    );
    assert_eq!(stock(&store, p.id).await, 8);
    svc.cancel(paid.id).await.unwrap();
    assert_eq!(stock(&store, p.id).await, 10);
    let again = svc.cancel(paid.id).await;
    assert!(matches!(again, Err(Error::InvalidTransition { .. })));
    assert_eq!(
        stock(&store, p.id).await,
        10,
        "a second cancel releases nothing"
    );
    assert_eq!(events_of(&store, EventType::OrderCancelled).await.len(), 2);
}

/// The store refuses a transition whose `from` is no longer the order's status.
pub async fn transition_refuses_stale_status(store: Store) {
    let u = user("o4");
    let p = seeded(&store, "O-4", 100, 10).await;
    add(&store, u.id, p.id, 1).await;
    let order = checkout(&store, u.id, "o4").await.unwrap().order;
    let t = OrderTransition {
        order_id: order.id,
        from: OrderStatus::Paid,
        to: OrderStatus::Cancelled,
        at: now(),
        events: vec![DomainEvent::order_cancelled(&order, OrderStatus::Paid)],
    };
    assert_conflict(
        store.transition_order(&t).await,
        &Conflict::ConcurrentModification,
    );
    assert_eq!(stock(&store, p.id).await, 9);
    assert!(
        events_of(&store, EventType::OrderCancelled)
            .await
            .is_empty()
    );
}

/// Orders list newest first, filter by user and status, and paginate without gaps.
pub async fn list_orders_filters_and_pages(store: Store) {
    let (a, b) = (user("o5a"), user("o5b"));
    let p = seeded(&store, "O-5", 100, 100).await;
    let mut placed = Vec::new();
    for i in 0..7 {
        let u = if i % 2 == 0 { a.id } else { b.id };
        add(&store, u, p.id, 1).await;
        placed.push(checkout(&store, u, &format!("o5-{i}")).await.unwrap().order);
    }
    OrderService::new(commerce(&store))
        .change_status(placed[0].id, OrderStatus::Paid)
        .await
        .unwrap();

    let mut q = OrderQuery {
        limit: limit(3),
        ..OrderQuery::default()
    };
    let mut all = Vec::new();
    loop {
        let page = store.list_orders(&q).await.unwrap();
        all.extend(page.items);
        match page.next {
            Some(c) => q.after = Some(c),
            None => break,
        }
    }
    let got: Vec<_> = all.iter().map(|o| o.id).collect();
    let want: Vec<_> = placed.iter().rev().map(|o| o.id).collect();
    assert_eq!(got, want, "newest first");

    let mine = OrderQuery {
        user_id: Some(a.id),
        limit: limit(100),
        ..OrderQuery::default()
    };
    let mine = store.list_orders(&mine).await.unwrap().items;
    assert_eq!(mine.len(), 4);
    assert!(mine.iter().all(|o| o.user_id == a.id));
    let paid = OrderQuery {
        status: Some(OrderStatus::Paid),
        ..OrderQuery::default()
    };
    let paid = store.list_orders(&paid).await.unwrap().items;
    assert_eq!(
        paid.iter().map(|o| o.id).collect::<Vec<_>>(),
        vec![placed[0].id]
    );
}
