use ::mongodb::bson::{Document, doc};
use ::mongodb::options::ReturnDocument;
use ::mongodb::{ClientSession, Collection};
use async_trait::async_trait;
use shop_core::catalog::MAX_STOCK;
use shop_core::time::now;
use shop_core::{
    CheckoutStore, Conflict, DomainEvent, Error, IdempotencyKey, Order, OrderCursor, OrderId,
    OrderQuery, OrderStatus, OrderStore, OrderTransition, Page, PlaceOrder, PlaceOrderOutcome,
    Product, RequestFingerprint, Result, Timestamp, UserId,
};
use tracing::instrument;

use super::docs::{self, date, id, text};
use super::error::{carry, is_duplicate, map};
use super::outbox::insert_events;
use super::{MongoStore, newest_after, newest_first};

fn key_id(user_id: UserId, key: &IdempotencyKey) -> String {
    // Keys are visible ASCII without spaces, so ':' after a UUID is unambiguous.
    format!("{}:{}", id(user_id.as_uuid()), key.as_str())
}

/// The order an idempotency record points to, with its fingerprint; within `session` if given.
async fn find_by_key(
    keys: &Collection<Document>,
    orders: &Collection<Document>,
    session: Option<&mut ClientSession>,
    user_id: UserId,
    key: &IdempotencyKey,
) -> ::mongodb::error::Result<Option<(Order, RequestFingerprint)>> {
    let filter = doc! { "_id": key_id(user_id, key) };
    let (record, order_doc) = match session {
        Some(s) => {
            let Some(record) = keys.find_one(filter).session(&mut *s).await? else {
                return Ok(None);
            };
            let order_id = text(&record, "order_id", "idempotency key").map_err(carry)?;
            let order = orders
                .find_one(doc! { "_id": order_id })
                .session(&mut *s)
                .await?;
            (record, order)
        }
        None => {
            let Some(record) = keys.find_one(filter).await? else {
                return Ok(None);
            };
            let order_id = text(&record, "order_id", "idempotency key").map_err(carry)?;
            let order = orders.find_one(doc! { "_id": order_id }).await?;
            (record, order)
        }
    };
    let order_doc =
        order_doc.ok_or_else(|| carry(Error::internal("idempotency key names a missing order")))?;
    let fingerprint =
        RequestFingerprint::parse(text(&record, "fingerprint", "idempotency key").map_err(carry)?)
            .map_err(|e| carry(Error::internal(e)))?;
    Ok(Some((docs::order(&order_doc).map_err(carry)?, fingerprint)))
}

#[async_trait]
impl OrderStore for MongoStore {
    #[tracing::instrument(level = "debug", skip_all, fields(db.system = "mongodb"))]
    async fn get_order(&self, order_id: OrderId) -> Result<Option<Order>> {
        let filter = doc! { "_id": id(order_id.as_uuid()) };
        self.find_one_as("orders", filter, docs::order).await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(db.system = "mongodb"))]
    async fn list_orders(&self, q: &OrderQuery) -> Result<Page<Order, OrderCursor>> {
        let mut filter = Document::new();
        if let Some(u) = q.user_id {
            filter.insert("user_id", id(u.as_uuid()));
        }
        if let Some(s) = q.status {
            filter.insert("status", s.as_str());
        }
        if let Some(c) = &q.after {
            newest_after(&mut filter, c.created_at, c.id.as_uuid());
        }
        let items = self
            .find_as(
                "orders",
                filter,
                newest_first(),
                q.limit.get() + 1,
                docs::order,
            )
            .await?;
        Ok(Page::from_overfetch(items, q.limit, OrderCursor::after))
    }

    #[tracing::instrument(level = "debug", skip_all, fields(db.system = "mongodb"))]
    async fn find_order_by_idempotency_key(
        &self,
        user_id: UserId,
        key: &IdempotencyKey,
    ) -> Result<Option<(Order, RequestFingerprint)>> {
        find_by_key(
            &self.col("idempotency_keys"),
            &self.col("orders"),
            None,
            user_id,
            key,
        )
        .await
        .map_err(map)
    }

    #[tracing::instrument(level = "debug", skip_all, fields(db.system = "mongodb"))]
    async fn purge_idempotency_keys(&self, created_before: Timestamp) -> Result<u64> {
        self.delete_where(
            "idempotency_keys",
            doc! { "created_at": { "$lt": date(created_before) } },
        )
        .await
    }
}

#[async_trait]
impl CheckoutStore for MongoStore {
    #[instrument(skip_all, fields(db.system = "mongodb", order_id = %req.order.id, user_id = %req.order.user_id))]
    async fn place_order(&self, req: &PlaceOrder) -> Result<PlaceOrderOutcome> {
        let order = &req.order;
        let wanted = order.quantities_by_product();
        // Room for OrderPlaced and a StockLow per product.
        let first_seq = self.reserve_seqs(req.events.len() + wanted.len()).await?;
        let (products, carts, orders, keys, outbox) = (
            self.col("products"),
            self.col("carts"),
            self.col("orders"),
            self.col("idempotency_keys"),
            self.col("outbox"),
        );
        let user = id(order.user_id.as_uuid());
        let cart_version = i64::try_from(req.cart_version).map_err(Error::internal)?;
        in_transaction!(self, s => async {
            if let Some((first, fingerprint)) =
                find_by_key(&keys, &orders, Some(&mut *s), order.user_id, &req.idempotency_key)
                    .await?
            {
                return Ok(PlaceOrderOutcome::Replayed {
                    order: first,
                    fingerprint,
                });
            }
            // Claim the cart: the version check and bump make racing checkouts of one user
            // conflict here (and the loser's retry then sees the new version).
            let claimed = carts
                .find_one_and_update(
                    doc! { "_id": &user, "version": cart_version },
                    doc! {
                        "$set": { "lines": [], "updated_at": date(now()) },
                        "$inc": { "version": 1_i64 },
                    },
                )
                .session(&mut *s)
                .await?;
            if claimed.is_none() {
                return Err(carry(Conflict::ConcurrentModification));
            }

            let mut low_stock = Vec::new();
            for (&product_id, &qty) in &wanted {
                let line = order
                    .lines
                    .iter()
                    .find(|l| l.product_id == product_id)
                    .ok_or_else(|| carry(Error::internal("line vanished")))?;
                let price = line.unit_price;
                // Conditional decrement: active, same price, enough stock — or no change.
                let before = products
                    .find_one_and_update(
                        doc! {
                            "_id": id(product_id.as_uuid()),
                            "active": true,
                            "price_minor": price.minor(),
                            "currency": price.currency().code(),
                            "stock": { "$gte": i64::from(qty) },
                        },
                        doc! { "$inc": { "stock": -i64::from(qty) } },
                    )
                    .return_document(ReturnDocument::Before)
                    .session(&mut *s)
                    .await?;
                let Some(before) = before else {
                    let current = products
                        .find_one(doc! { "_id": id(product_id.as_uuid()) })
                        .session(&mut *s)
                        .await?;
                    let refusal = match current.map(|d| docs::product(&d)).transpose() {
                        Err(e) => e,
                        Ok(None) => Conflict::ProductUnavailable(product_id).into(),
                        Ok(Some(p)) if !p.active => Conflict::ProductUnavailable(product_id).into(),
                        Ok(Some(p)) if p.price.money() != price => {
                            Conflict::ProductChanged(product_id).into()
                        }
                        Ok(Some(p)) => Error::InsufficientStock {
                            product_id,
                            requested: qty,
                            available: p.stock,
                        },
                    };
                    return Err(carry(refusal));
                };
                let p: Product = docs::product(&before).map_err(carry)?;
                let left = p.stock - qty;
                if p.stock >= req.low_stock_threshold && left < req.low_stock_threshold {
                    let after = Product { stock: left, ..p };
                    low_stock.push(DomainEvent::stock_low(&after, req.low_stock_threshold));
                }
            }

            orders
                .insert_one(docs::order_doc(order))
                .session(&mut *s)
                .await?;
            let recorded = keys
                .insert_one(doc! {
                    "_id": key_id(order.user_id, &req.idempotency_key),
                    "order_id": id(order.id.as_uuid()),
                    "fingerprint": req.fingerprint.as_str(),
                    "created_at": date(order.created_at),
                })
                .session(&mut *s)
                .await;
            match recorded {
                // Another request with this key won; the caller looks up and replays its order.
                Err(e) if is_duplicate(&e) => {
                    return Err(carry(Conflict::ConcurrentModification));
                }
                other => {
                    other?;
                }
            }
            let events: Vec<DomainEvent> =
                req.events.iter().cloned().chain(low_stock).collect();
            insert_events(&outbox, s, first_seq, &events).await?;
            Ok(PlaceOrderOutcome::Placed(order.clone()))
        })
    }

    #[instrument(skip_all, fields(db.system = "mongodb", order_id = %t.order_id, to = %t.to))]
    async fn transition_order(&self, t: &OrderTransition) -> Result<Order> {
        let first_seq = self.reserve_seqs(t.events.len()).await?;
        let (products, orders, outbox) =
            (self.col("products"), self.col("orders"), self.col("outbox"));
        let key = id(t.order_id.as_uuid());
        in_transaction!(self, s => async {
            let current = orders
                .find_one(doc! { "_id": &key })
                .session(&mut *s)
                .await?
                .ok_or_else(|| carry(Error::NotFound("order")))?;
            let current = docs::order(&current).map_err(carry)?;
            if current.status != t.from {
                return Err(carry(Conflict::ConcurrentModification));
            }
            if !t.from.can_become(t.to) {
                return Err(carry(Error::InvalidTransition {
                    from: t.from,
                    to: t.to,
                }));
            }
            let moved = orders
                .update_one(
                    doc! { "_id": &key, "status": t.from.as_str() },
                    doc! { "$set": { "status": t.to.as_str(), "updated_at": date(t.at) } },
                )
                .session(&mut *s)
                .await?;
            if moved.matched_count != 1 {
                return Err(carry(Conflict::ConcurrentModification));
            }
            if t.to == OrderStatus::Cancelled {
                for (product_id, qty) in current.quantities_by_product() {
                    let pid = id(product_id.as_uuid());
                    let qty = i64::from(qty);
                    let released = products
                        .update_one(
                            doc! { "_id": &pid, "stock": { "$lte": i64::from(MAX_STOCK) - qty } },
                            doc! { "$inc": { "stock": qty } },
                        )
                        .session(&mut *s)
                        .await?;
                    if released.matched_count == 0 {
                        // At the cap (or deleted): clamp rather than exceed the maximum.
                        products
                            .update_one(
                                doc! { "_id": &pid },
                                doc! { "$set": { "stock": i64::from(MAX_STOCK) } },
                            )
                            .session(&mut *s)
                            .await?;
                    }
                }
            }
            insert_events(&outbox, s, first_seq, &t.events).await?;
            Ok(Order {
                status: t.to,
                updated_at: t.at,
                ..current
            })
        })
    }
}
