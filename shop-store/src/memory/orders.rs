//! Orders, and checkout and transitions under the commerce lock.

use std::ops::Bound;

use async_trait::async_trait;
use shop_core::catalog::MAX_STOCK;
use shop_core::time::now;
use shop_core::{
    CartCommand, CheckoutStore, Conflict, DomainEvent, Error, IdempotencyKey, Order, OrderCursor,
    OrderId, OrderQuery, OrderStatus, OrderStore, OrderTransition, Page, PlaceOrder,
    PlaceOrderOutcome, RequestFingerprint, Result, Timestamp, UserId,
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
        let order = &request.order;
        let mut c = self.commerce.write();
        let key = (order.user_id, request.idempotency_key.clone());
        if let Some((id, fingerprint)) = c.idempotency.get(&key)
            && let Some(first) = c.orders.get(id)
        {
            return Ok(PlaceOrderOutcome::Replayed {
                order: first.clone(),
                fingerprint: fingerprint.clone(),
            });
        }
        // Check everything before changing anything: that is what makes it all-or-nothing.
        for line in &order.lines {
            let p = c
                .products
                .get(&line.product_id)
                .filter(|p| p.active)
                .ok_or(Conflict::ProductUnavailable(line.product_id))?;
            if p.price.money() != line.unit_price {
                return Err(Conflict::ProductChanged(line.product_id).into());
            }
        }
        for (id, qty) in order.quantities_by_product() {
            let stock = c.products.get(&id).map_or(0, |p| p.stock);
            if stock < qty {
                return Err(Error::InsufficientStock {
                    product_id: id,
                    requested: qty,
                    available: stock,
                });
            }
        }
        if c.carts.get(&order.user_id).map(|cart| cart.version) != Some(request.cart_version) {
            return Err(Conflict::ConcurrentModification.into());
        }

        let mut low = Vec::new();
        for line in &order.lines {
            if let Some(p) = c.products.get_mut(&line.product_id) {
                let before = p.stock;
                p.stock -= line.quantity.get();
                if before >= request.low_stock_threshold && p.stock < request.low_stock_threshold {
                    low.push(DomainEvent::stock_low(p, request.low_stock_threshold));
                }
            }
        }
        if let Some(cart) = c.carts.get_mut(&order.user_id) {
            cart.apply(&CartCommand::Clear, now())?;
        }
        c.orders.insert(order.id, order.clone());
        c.orders_by_created.insert((order.created_at, order.id));
        c.idempotency
            .insert(key, (order.id, request.fingerprint.clone()));
        c.append(request.events.iter().cloned().chain(low));
        Ok(PlaceOrderOutcome::Placed(order.clone()))
    }

    async fn transition_order(&self, t: &OrderTransition) -> Result<Order> {
        let mut c = self.commerce.write();
        let order = c.orders.get(&t.order_id).ok_or(Error::NotFound("order"))?;
        if order.status != t.from {
            return Err(Conflict::ConcurrentModification.into());
        }
        if !t.from.can_become(t.to) {
            return Err(Error::InvalidTransition {
                from: t.from,
                to: t.to,
            });
        }
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
