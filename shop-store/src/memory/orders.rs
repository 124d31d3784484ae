//! Orders, and checkout and transitions under the commerce lock.

use std::ops::Bound;

use async_trait::async_trait;
use shop_core::catalog::MAX_STOCK;
use shop_core::checkout::{self, CheckoutDecision};
use shop_core::{
    CartCommand, CheckoutStore, Error, IdempotencyKey, Order, OrderCursor, OrderId, OrderQuery,
    OrderStatus, OrderStore, OrderTransition, Page, PlaceOrder, PlaceOrderOutcome,
    RequestFingerprint, Result, Timestamp, UserId,
};

use super::{Commerce, MemoryStore};

#[async_trait]
impl OrderStore for MemoryStore {
    async fn get_order(&self, id: OrderId) -> Result<Option<Order>> {
        Ok(self.commerce.read().orders.get(&id).cloned())
    }

    async fn list_orders(&self, query: &OrderQuery) -> Result<Page<Order, OrderCursor>> {
        let c = self.commerce.read();
        let upper = match &query.after {
            Some(cur) => Bound::Excluded((cur.created_at, cur.id)),
            None => Bound::Unbounded,
        };
        let items: Vec<Order> = c
            .orders_by_created
            .range((Bound::Unbounded, upper))
            .rev()
            .filter_map(|(_, id)| c.orders.get(id))
            .filter(|o| query.matches(o))
            .take(query.limit.get() + 1)
            .cloned()
            .collect();
        Ok(Page::from_overfetch(items, query.limit, OrderCursor::after))
    }

    async fn find_order_by_idempotency_key(
        &self,
        user_id: UserId,
        key: &IdempotencyKey,
    ) -> Result<Option<(Order, RequestFingerprint)>> {
        let c = self.commerce.read();
        Ok(c.idempotency
            .get(&(user_id, key.clone()))
            .and_then(|(id, fp)| c.orders.get(id).map(|o| (o.clone(), fp.clone()))))
    }

    async fn purge_idempotency_keys(&self, created_before: Timestamp) -> Result<u64> {
        let mut c = self.commerce.write();
        let Commerce {
            idempotency,
            orders,
            ..
        } = &mut *c;
        let before = idempotency.len();
        // A key is as old as its order (they are written together).
        idempotency.retain(|_, (id, _)| {
            orders
                .get(id)
                .is_some_and(|o| o.created_at >= created_before)
        });
        Ok((before - idempotency.len()) as u64)
    }
}

#[async_trait]
impl CheckoutStore for MemoryStore {
    async fn place_order(&self, request: &PlaceOrder) -> Result<PlaceOrderOutcome> {
        let mut c = self.commerce.write();
        let key = (request.user_id, request.idempotency_key.clone());
        if let Some((id, fingerprint)) = c.idempotency.get(&key)
            && let Some(first) = c.orders.get(id)
        {
            return Ok(PlaceOrderOutcome::Replayed {
                order: first.clone(),
                fingerprint: fingerprint.clone(),
            });
        }
        // The write lock is the unit of work: decide on what it guards, then write.
        let CheckoutDecision {
            order,
            stock,
            events,
        } = checkout::decide(request, c.carts.get(&request.user_id), |id| {
            c.products.get(&id)
        })?;
        for take in &stock {
            if let Some(p) = c.products.get_mut(&take.product_id) {
                p.stock = take.remaining;
            }
        }
        if let Some(cart) = c.carts.get_mut(&request.user_id) {
            cart.apply(&CartCommand::Clear, request.at)?;
        }
        c.orders_by_created.insert((order.created_at, order.id));
        c.idempotency
            .insert(key, (order.id, request.fingerprint.clone()));
        c.orders.insert(order.id, order.clone());
        c.append(events);
        Ok(PlaceOrderOutcome::Placed(order))
    }

    async fn transition_order(&self, t: &OrderTransition) -> Result<Order> {
        let mut c = self.commerce.write();
        let order = c.orders.get(&t.order_id).ok_or(Error::NotFound("order"))?;
        t.check(order)?;
        let lines = order.lines.clone();
        if t.to == OrderStatus::Cancelled {
            for line in &lines {
                if let Some(p) = c.products.get_mut(&line.product_id) {
                    p.stock = p.stock.saturating_add(line.quantity.get()).min(MAX_STOCK);
                }
            }
        }
        let order = c
            .orders
            .get_mut(&t.order_id)
            .ok_or(Error::NotFound("order"))?;
        order.status = t.to;
        order.updated_at = t.at;
        let order = order.clone();
        c.append(t.events.iter().cloned());
        Ok(order)
    }
}
