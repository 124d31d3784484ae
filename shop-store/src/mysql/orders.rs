use std::collections::HashMap;

use async_trait::async_trait;
use shop_core::catalog::MAX_STOCK;
use shop_core::{
    CheckoutStore, Conflict, DomainEvent, Error, IdempotencyKey, Order, OrderCursor, OrderId,
    OrderLine, OrderQuery, OrderStatus, OrderStore, OrderTransition, Page, PlaceOrder,
    PlaceOrderOutcome, Product, ProductId, RequestFingerprint, Result, Timestamp, UserId,
};
use sqlx::mysql::MySqlConnection;
use sqlx::{MySql, QueryBuilder, Row};
use tracing::instrument;

use super::cart::clear_cart;
use super::error::{TxResult, is_duplicate, map};
use super::outbox::insert_events;
use super::rows::{self, LINE_COLUMNS, ORDER_COLUMNS, PRODUCT_COLUMNS, text};
use super::{MySqlStore, push_keyset};

/// Fills in the lines of `orders` with one query.
async fn attach_lines(conn: &mut MySqlConnection, orders: &mut [Order]) -> TxResult<()> {
    if orders.is_empty() {
        return Ok(());
    }
    let mut qb = QueryBuilder::<MySql>::new(format!(
        "SELECT {LINE_COLUMNS} FROM order_lines WHERE order_id IN ("
    ));
    let mut list = qb.separated(", ");
    for o in orders.iter() {
        list.push_bind(o.id.as_uuid());
    }
    qb.push(") ORDER BY order_id, position");
    let mut by_order: HashMap<OrderId, Vec<OrderLine>> = HashMap::new();
    for row in qb.build().fetch_all(&mut *conn).await? {
        let (id, line) = rows::order_line(&row)?;
        by_order.entry(id).or_default().push(line);
    }
    for o in orders {
        o.lines = by_order.remove(&o.id).unwrap_or_default();
    }
    Ok(())
}

async fn fetch_order(
    conn: &mut MySqlConnection,
    id: OrderId,
    lock: bool,
) -> TxResult<Option<Order>> {
    let sql = format!(
        "SELECT {ORDER_COLUMNS} FROM orders WHERE id = ?{}",
        if lock { " FOR UPDATE" } else { "" }
    );
    let Some(row) = sqlx::query(&sql)
        .bind(id.as_uuid())
        .fetch_optional(&mut *conn)
        .await?
    else {
        return Ok(None);
    };
    let mut orders = [rows::order_head(&row)?];
    attach_lines(conn, &mut orders).await?;
    let [order] = orders;
    Ok(Some(order))
}

async fn find_by_key(
    conn: &mut MySqlConnection,
    user_id: UserId,
    key: &IdempotencyKey,
) -> TxResult<Option<(Order, RequestFingerprint)>> {
    let Some(row) = sqlx::query(
        "SELECT order_id, fingerprint FROM idempotency_keys WHERE user_id = ? AND idem_key = ?",
    )
    .bind(user_id.as_uuid())
    .bind(key.as_str())
    .fetch_optional(&mut *conn)
    .await?
    else {
        return Ok(None);
    };
    let order_id = OrderId::from_uuid(row.try_get("order_id")?);
    let fingerprint = RequestFingerprint::parse(text(&row, "fingerprint")?)
        .map_err(|e| Error::internal(format!("stored fingerprint is invalid: {e}")))?;
    let order = fetch_order(conn, order_id, false)
        .await?
        .ok_or_else(|| Error::internal("idempotency key names a missing order"))?;
    Ok(Some((order, fingerprint)))
}

impl MySqlStore {
    async fn place_order_once(&self, req: &PlaceOrder) -> TxResult<PlaceOrderOutcome> {
        let order = &req.order;
        let mut tx = self.pool.begin().await?;

        if let Some((first, fingerprint)) =
            find_by_key(&mut tx, order.user_id, &req.idempotency_key).await?
        {
            return Ok(PlaceOrderOutcome::Replayed {
                order: first,
                fingerprint,
            });
        }

        // Lock the cart first: racing checkouts of one user queue here, and the loser then
        // sees the version moved.
        let version: Option<u64> =
            sqlx::query_scalar("SELECT version FROM carts WHERE user_id = ? FOR UPDATE")
                .bind(order.user_id.as_uuid())
                .fetch_optional(&mut *tx)
                .await?;
        if version != Some(req.cart_version) {
            return Err(Conflict::ConcurrentModification.into());
        }

        // Lock the products in ID order and check every line before changing anything.
        let wanted = order.quantities_by_product();
        let mut qb = QueryBuilder::<MySql>::new(format!(
            "SELECT {PRODUCT_COLUMNS} FROM products WHERE id IN ("
        ));
        let mut list = qb.separated(", ");
        for id in wanted.keys() {
            list.push_bind(id.as_uuid());
        }
        qb.push(") ORDER BY id FOR UPDATE");
        let products: HashMap<ProductId, Product> = qb
            .build()
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(|r| rows::product(r).map(|p| (p.id, p)))
            .collect::<TxResult<_>>()?;
        for line in &order.lines {
            let p = products
                .get(&line.product_id)
                .filter(|p| p.active)
                .ok_or(Conflict::ProductUnavailable(line.product_id))?;
            if p.price.money() != line.unit_price {
                return Err(Conflict::ProductChanged(line.product_id).into());
            }
        }
        let mut low_stock = Vec::new();
        for (&id, &qty) in &wanted {
            let available = products.get(&id).map_or(0, |p| p.stock);
            let taken =
                sqlx::query("UPDATE products SET stock = stock - ? WHERE id = ? AND stock >= ?")
                    .bind(qty)
                    .bind(id.as_uuid())
                    .bind(qty)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
            if taken != 1 {
                return Err(Error::InsufficientStock {
                    product_id: id,
                    requested: qty,
                    available,
                }
                .into());
            }
            if let Some(p) = products.get(&id) {
                let left = p.stock - qty;
                if p.stock >= req.low_stock_threshold && left < req.low_stock_threshold {
                    let after = Product {
                        stock: left,
                        ..p.clone()
                    };
                    low_stock.push(DomainEvent::stock_low(&after, req.low_stock_threshold));
                }
            }
        }

        sqlx::query(
            "INSERT INTO orders (id, user_id, status, total_minor, currency, created_at, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(order.id.as_uuid())
        .bind(order.user_id.as_uuid())
        .bind(order.status.as_str())
        .bind(order.total.minor())
        .bind(order.total.currency().code())
        .bind(order.created_at)
        .bind(order.updated_at)
        .execute(&mut *tx)
        .await?;
        let mut qb = QueryBuilder::<MySql>::new(
            "INSERT INTO order_lines (order_id, position, product_id, sku, name, \
             unit_price_minor, currency, quantity, line_total_minor) ",
        );
        qb.push_values(order.lines.iter().enumerate(), |mut b, (i, l)| {
            b.push_bind(order.id.as_uuid())
                .push_bind(u16::try_from(i).unwrap_or(u16::MAX))
                .push_bind(l.product_id.as_uuid())
                .push_bind(l.sku.as_str())
                .push_bind(l.name.as_str())
                .push_bind(l.unit_price.minor())
                .push_bind(l.unit_price.currency().code().to_owned())
                .push_bind(u16::try_from(l.quantity.get()).unwrap_or(u16::MAX))
                .push_bind(l.line_total.minor());
        });
        qb.build().execute(&mut *tx).await?;

        let recorded = sqlx::query(
            "INSERT INTO idempotency_keys (user_id, idem_key, order_id, fingerprint, created_at) \
             VALUES (?, ?, ?, ?, ?)",
        )
        .bind(order.user_id.as_uuid())
        .bind(req.idempotency_key.as_str())
        .bind(order.id.as_uuid())
        .bind(req.fingerprint.as_str())
        .bind(order.created_at)
        .execute(&mut *tx)
        .await;
        match recorded {
            // Another request with this key won; the caller looks up and replays its order.
            Err(e) if is_duplicate(&e) => return Err(Conflict::ConcurrentModification.into()),
            other => {
                other?;
            }
        }

        clear_cart(&mut tx, order.user_id).await?;
        let events: Vec<DomainEvent> = req.events.iter().cloned().chain(low_stock).collect();
        insert_events(&mut tx, &events).await?;
        tx.commit().await?;
        Ok(PlaceOrderOutcome::Placed(order.clone()))
    }

    async fn transition_once(&self, t: &OrderTransition) -> TxResult<Order> {
        let mut tx = self.pool.begin().await?;
        let current = fetch_order(&mut tx, t.order_id, true)
            .await?
            .ok_or(Error::NotFound("order"))?;
        if current.status != t.from {
            return Err(Conflict::ConcurrentModification.into());
        }
        if !t.from.can_become(t.to) {
            return Err(Error::InvalidTransition {
                from: t.from,
                to: t.to,
            }
            .into());
        }
        sqlx::query("UPDATE orders SET status = ?, updated_at = ? WHERE id = ?")
            .bind(t.to.as_str())
            .bind(t.at)
            .bind(t.order_id.as_uuid())
            .execute(&mut *tx)
            .await?;
        if t.to == OrderStatus::Cancelled {
            for (id, qty) in current.quantities_by_product() {
                sqlx::query("UPDATE products SET stock = LEAST(stock + ?, ?) WHERE id = ?")
                    .bind(qty)
                    .bind(MAX_STOCK)
                    .bind(id.as_uuid())
                    .execute(&mut *tx)
                    .await?;
            }
        }
        insert_events(&mut tx, &t.events).await?;
        tx.commit().await?;
        Ok(Order {
            status: t.to,
            updated_at: t.at,
            ..current
        })
    }
}

#[async_trait]
impl OrderStore for MySqlStore {
    #[tracing::instrument(level = "debug", skip_all, fields(db.system = "mysql"))]
    async fn get_order(&self, id: OrderId) -> Result<Option<Order>> {
        let mut conn = self.pool.acquire().await.map_err(map)?;
        fetch_order(&mut conn, id, false).await.map_err(Error::from)
    }

    #[tracing::instrument(level = "debug", skip_all, fields(db.system = "mysql"))]
    async fn list_orders(&self, q: &OrderQuery) -> Result<Page<Order, OrderCursor>> {
        let mut qb =
            QueryBuilder::<MySql>::new(format!("SELECT {ORDER_COLUMNS} FROM orders WHERE TRUE"));
        if let Some(u) = q.user_id {
            qb.push(" AND user_id = ").push_bind(u.as_uuid());
        }
        if let Some(s) = q.status {
            qb.push(" AND status = ").push_bind(s.as_str());
        }
        if let Some(c) = &q.after {
            push_keyset(&mut qb, "created_at", "<", c.created_at, c.id.as_uuid());
        }
        qb.push(" ORDER BY created_at DESC, id DESC LIMIT ")
            .push_bind(q.limit.get() as u64 + 1);
        let mut conn = self.pool.acquire().await.map_err(map)?;
        let result: TxResult<Vec<Order>> = async {
            let mut orders = qb
                .build()
                .fetch_all(&mut *conn)
                .await?
                .iter()
                .map(rows::order_head)
                .collect::<TxResult<Vec<_>>>()?;
            attach_lines(&mut conn, &mut orders).await?;
            Ok(orders)
        }
        .await;
        let orders = result.map_err(Error::from)?;
        Ok(Page::from_overfetch(orders, q.limit, OrderCursor::after))
    }

    #[tracing::instrument(level = "debug", skip_all, fields(db.system = "mysql"))]
    async fn find_order_by_idempotency_key(
        &self,
        user_id: UserId,
        key: &IdempotencyKey,
    ) -> Result<Option<(Order, RequestFingerprint)>> {
        let mut conn = self.pool.acquire().await.map_err(map)?;
        find_by_key(&mut conn, user_id, key)
            .await
            .map_err(Error::from)
    }

    #[tracing::instrument(level = "debug", skip_all, fields(db.system = "mysql"))]
    async fn purge_idempotency_keys(&self, created_before: Timestamp) -> Result<u64> {
        self.purge_in_batches(
            "DELETE FROM idempotency_keys WHERE created_at < ?",
            Some(created_before),
        )
        .await
    }
}

#[async_trait]
impl CheckoutStore for MySqlStore {
    #[instrument(skip_all, fields(db.system = "mysql", order_id = %request.order.id, user_id = %request.order.user_id))]
    async fn place_order(&self, request: &PlaceOrder) -> Result<PlaceOrderOutcome> {
        self.retrying("place_order", || self.place_order_once(request))
            .await
    }

    #[instrument(skip_all, fields(db.system = "mysql", order_id = %transition.order_id, to = %transition.to))]
    async fn transition_order(&self, transition: &OrderTransition) -> Result<Order> {
        self.retrying("transition_order", || self.transition_once(transition))
            .await
    }
}
