use std::collections::HashMap;

use ::mongodb::bson::{Bson, Document, doc};
use ::mongodb::{ClientSession, Collection};
use async_trait::async_trait;
use futures::TryStreamExt;
use shop_core::catalog::MAX_STOCK;
use shop_core::checkout::{self, CheckoutDecision};
use shop_core::{
    CheckoutStore, Conflict, Error, IdempotencyKey, Order, OrderCursor, OrderId, OrderQuery,
    OrderStatus, OrderStore, OrderTransition, Page, PlaceOrder, PlaceOrderOutcome, Product,
    ProductId, RequestFingerprint, Result, Timestamp, UserId,
};
use tracing::instrument;

use super::docs::{self, date, id, text};
use super::error::{carry, map};
use super::outbox::insert_events;
use super::{MongoStore, newest_after, newest_first};

fn key_id(user_id: UserId, key: &IdempotencyKey) -> String {
    // Keys are visible ASCII without spaces, so ':' after a UUID is unambiguous.
    format!("{}:{}", id(user_id.as_uuid()), key.as_str())
}

/// The order an idempotency record names, with the fingerprint recorded; read within
/// `session` if given.
async fn order_of_record(
    orders: &Collection<Document>,
    session: Option<&mut ClientSession>,
    record: &Document,
) -> ::mongodb::error::Result<(Order, RequestFingerprint)> {
    let order_id = text(record, "order_id", "idempotency key").map_err(carry)?;
    let find = orders.find_one(doc! { "_id": order_id });
    let order = match session {
        Some(s) => find.session(s).await?,
        None => find.await?,
    }
    .ok_or_else(|| carry(Error::internal("idempotency key names a missing order")))?;
    let fingerprint =
        RequestFingerprint::parse(text(record, "fingerprint", "idempotency key").map_err(carry)?)
            .map_err(|e| carry(Error::internal(e)))?;
    Ok((docs::order(&order).map_err(carry)?, fingerprint))
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
        let filter = doc! { "_id": key_id(user_id, key) };
        let Some(record) = self
            .col("idempotency_keys")
            .find_one(filter)
            .await
            .map_err(map)?
        else {
            return Ok(None);
        };
        order_of_record(&self.col("orders"), None, &record)
            .await
            .map(Some)
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
    #[instrument(skip_all, fields(db.system = "mongodb", order_id = %req.order_id, user_id = %req.user_id))]
    async fn place_order(&self, req: &PlaceOrder) -> Result<PlaceOrderOutcome> {
        let (products, carts, orders, keys, outbox) = (
            self.col("products"),
            self.col("carts"),
            self.col("orders"),
            self.col("idempotency_keys"),
            self.col("outbox"),
        );
        let user = id(req.user_id.as_uuid());
        in_transaction!(self, s => async {
            // Record the key, or read the one recorded before, in one write: a request racing
            // with the same key write-conflicts here and, retried, reads the winner's record.
            let earlier = keys
                .find_one_and_update(
                    doc! { "_id": key_id(req.user_id, &req.idempotency_key) },
                    doc! { "$setOnInsert": {
                        "order_id": id(req.order_id.as_uuid()),
                        "fingerprint": req.fingerprint.as_str(),
                        "created_at": date(req.at),
                    } },
                )
                .upsert(true)
                .session(&mut *s)
                .await?;
            if let Some(record) = earlier {
                let (order, fingerprint) = order_of_record(&orders, Some(&mut *s), &record).await?;
                return Ok(PlaceOrderOutcome::Replayed { order, fingerprint });
            }

            // Claim the cart: clear it and bump its version, reading it as it was. Racing
            // checkouts of one user write-conflict here; the retry sees the cleared cart.
            let cart = carts
                .find_one_and_update(
                    doc! { "_id": &user },
                    doc! {
                        "$set": { "lines": [], "updated_at": date(req.at) },
                        "$inc": { "version": 1_i64 },
                    },
                )
                .session(&mut *s)
                .await?
                .map(|d| docs::cart(&d, req.user_id))
                .transpose()
                .map_err(carry)?;
            let ids: Vec<Bson> = cart
                .iter()
                .flat_map(|c| &c.lines)
                .map(|l| Bson::from(id(l.product_id.as_uuid())))
                .collect();
            // The outbox positions come from a counter outside the transaction (see
            // `reserve_seqs`); asking for them while the products are read costs no extra
            // round trip. Room for OrderPlaced and a StockLow per product.
            let (found, first_seq) = futures::try_join!(
                async {
                    let mut cursor = products
                        .find(doc! { "_id": { "$in": &ids } })
                        .session(&mut *s)
                        .await?;
                    cursor.stream(&mut *s).try_collect::<Vec<Document>>().await
                },
                async { self.reserve_seqs(1 + ids.len()).await.map_err(carry) },
            )?;
            let found: HashMap<ProductId, Product> = found
                .iter()
                .map(|d| docs::product(d).map(|p| (p.id, p)))
                .collect::<Result<_>>()
                .map_err(carry)?;
            let CheckoutDecision {
                order,
                stock,
                events,
            } = checkout::decide(req, cart.as_ref(), |pid| found.get(&pid)).map_err(carry)?;

            // Snapshot isolation: a product changed since this transaction's snapshot makes
            // this write conflict and the whole checkout retry, so the stock `decide` saw is
            // the stock it replaces. One update sets every product's new stock.
            let branches: Vec<Document> = stock
                .iter()
                .map(|t| {
                    doc! {
                        "case": { "$eq": ["$_id", id(t.product_id.as_uuid())] },
                        "then": i64::from(t.remaining),
                    }
                })
                .collect();
            let taken = products
                .update_many(
                    doc! { "_id": { "$in": &ids } },
                    vec![doc! { "$set": { "stock": {
                        "$switch": { "branches": branches, "default": "$stock" },
                    } } }],
                )
                .session(&mut *s)
                .await?;
            if taken.matched_count != stock.len() as u64 {
                return Err(carry(Error::internal("a product vanished during checkout")));
            }
            orders
                .insert_one(docs::order_doc(&order))
                .session(&mut *s)
                .await?;
            insert_events(&outbox, s, first_seq, &events).await?;
            Ok(PlaceOrderOutcome::Placed(order))
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
            t.check(&current).map_err(carry)?;
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
