use std::collections::HashMap;
use std::sync::LazyLock;

use async_trait::async_trait;
use shop_core::catalog::MAX_STOCK;
use shop_core::checkout::{self, CheckoutDecision};
use shop_core::{
    Cart, CartId, CartLine, CheckoutStore, Error, IdempotencyKey, Order, OrderCursor, OrderId,
    OrderLine, OrderQuery, OrderStatus, OrderStore, OrderTransition, Page, PlaceOrder,
    PlaceOrderOutcome, Product, ProductId, Quantity, RequestFingerprint, Result, Timestamp, UserId,
};
use sqlx::mysql::MySqlConnection;
use sqlx::{MySql, QueryBuilder, Row};
use tracing::instrument;

use super::cart::clear_cart;
use super::error::{TxResult, is_duplicate, map};
use super::outbox::insert_events;
use super::rows::{self, Columns as _, LINE_COLUMNS, ORDER_COLUMNS, PRODUCT_COLUMNS_OF_P};
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
    let fingerprint = RequestFingerprint::parse(row.text("fingerprint")?)
        .map_err(|e| Error::internal(format!("stored fingerprint is invalid: {e}")))?;
    let order = fetch_order(conn, order_id, false)
        .await?
        .ok_or_else(|| Error::internal("idempotency key names a missing order"))?;
    Ok(Some((order, fingerprint)))
}

/// The user's cart and the products it names, read and locked in one statement.
///
/// The cart row is locked first (racing checkouts of one user queue there), then its lines,
/// then each line's product: the lines are read in primary-key order `(user_id, product_id)`,
/// so products are locked in ID order and two checkouts cannot deadlock on each other's
/// products.
async fn lock_cart_and_products(
    conn: &mut MySqlConnection,
    user_id: UserId,
) -> TxResult<(Option<Cart>, HashMap<ProductId, Product>)> {
    // Made once: this runs on every checkout.
    static SQL: LazyLock<String> = LazyLock::new(|| {
        format!(
            "SELECT c.id AS cart_id, c.version AS cart_version, c.updated_at AS cart_updated_at, \
             l.position AS line_position, l.quantity AS line_quantity, \
             l.product_id AS line_product, {PRODUCT_COLUMNS_OF_P} \
             FROM carts c \
             LEFT JOIN cart_lines l ON l.user_id = c.user_id \
             LEFT JOIN products p ON p.id = l.product_id \
             WHERE c.user_id = ? ORDER BY l.product_id FOR UPDATE"
        )
    });
    let rows = sqlx::query(SQL.as_str())
        .bind(user_id.as_uuid())
        .fetch_all(&mut *conn)
        .await?;
    let Some(head) = rows.first() else {
        return Ok((None, HashMap::new()));
    };
    let mut lines = Vec::with_capacity(rows.len());
    let mut products = HashMap::with_capacity(rows.len());
    for row in &rows {
        let Some(product_id) = row.try_get::<Option<uuid::Uuid>, _>("line_product")? else {
            continue; // an empty cart: one row whose line columns are NULL
        };
        let quantity = i64::from(row.try_get::<u16, _>("line_quantity")?);
        let position: u16 = row.try_get("line_position")?;
        lines.push((
            position,
            CartLine {
                product_id: ProductId::from_uuid(product_id),
                quantity: Quantity::new(quantity).map_err(|e| Error::internal(e.to_string()))?,
            },
        ));
        // A deleted product leaves its product columns NULL.
        if row.try_get::<Option<uuid::Uuid>, _>("id")?.is_some() {
            let p = rows::product(row)?;
            products.insert(p.id, p);
        }
    }
    lines.sort_unstable_by_key(|(position, _)| *position);
    let cart = Cart {
        id: CartId::from_uuid(head.try_get("cart_id")?),
        user_id,
        lines: lines.into_iter().map(|(_, l)| l).collect(),
        version: head.try_get("cart_version")?,
        updated_at: head.try_get("cart_updated_at")?,
    };
    Ok((Some(cart), products))
}

impl MySqlStore {
    async fn place_order_once(&self, req: &PlaceOrder) -> TxResult<PlaceOrderOutcome> {
        let mut tx = self.pool.begin().await?;

        // Record the key first: of racing requests with one key, the second waits here on the
        // first's uncommitted row and then gets a duplicate (the first committed: a replay) or
        // the row (the first rolled back). One statement both reserves the key and finds a
        // replay, and it holds no other lock while it waits.
        let recorded = sqlx::query(
            "INSERT INTO idempotency_keys (user_id, idem_key, order_id, fingerprint, created_at) \
             VALUES (?, ?, ?, ?, ?)",
        )
        .bind(req.user_id.as_uuid())
        .bind(req.idempotency_key.as_str())
        .bind(req.order_id.as_uuid())
        .bind(req.fingerprint.as_str())
        .bind(req.at)
        .execute(&mut *tx)
        .await;
        if let Err(e) = &recorded
            && is_duplicate(e)
        {
            let (order, fingerprint) = find_by_key(&mut tx, req.user_id, &req.idempotency_key)
                .await?
                .ok_or_else(|| Error::internal("a duplicate idempotency key vanished"))?;
            tx.rollback().await?;
            return Ok(PlaceOrderOutcome::Replayed { order, fingerprint });
        }
        recorded?;

        let (cart, products) = lock_cart_and_products(&mut tx, req.user_id).await?;
        let CheckoutDecision {
            order,
            stock,
            events,
        } = checkout::decide(req, cart.as_ref(), |id| products.get(&id))?;

        // Every product row is locked and `decide` checked the stock, so the new values are
        // written as they are: one statement for all of them.
        let mut qb = QueryBuilder::<MySql>::new("UPDATE products SET stock = CASE id");
        for take in &stock {
            qb.push(" WHEN ")
                .push_bind(take.product_id.as_uuid())
                .push(" THEN ")
                .push_bind(take.remaining);
        }
        qb.push(" END WHERE id IN (");
        let mut list = qb.separated(", ");
        for take in &stock {
            list.push_bind(take.product_id.as_uuid());
        }
        qb.push(")");
        let updated = qb.build().execute(&mut *tx).await?.rows_affected();
        if updated != stock.len() as u64 {
            return Err(Error::internal("a locked product vanished during checkout").into());
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

        clear_cart(&mut tx, req.user_id, req.at).await?;
        insert_events(&mut tx, &events).await?;
        tx.commit().await?;
        Ok(PlaceOrderOutcome::Placed(order))
    }

    async fn transition_once(&self, t: &OrderTransition) -> TxResult<Order> {
        let mut tx = self.pool.begin().await?;
        let current = fetch_order(&mut tx, t.order_id, true)
            .await?
            .ok_or(Error::NotFound("order"))?;
        t.check(&current)?;
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
                .collect::<shop_core::Result<Vec<_>>>()?;
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
    #[instrument(skip_all, fields(db.system = "mysql", order_id = %request.order_id, user_id = %request.user_id))]
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
