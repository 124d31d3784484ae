//! Checkout per operation through the library (`CheckoutService` over each adapter), each beside
//! a hand-written baseline in the same group: the minimal raw transaction doing the same writes
//! (sqlx for MySQL and PostgreSQL, the official driver for MongoDB), so the library's overhead
//! is a ratio.
//!
//! Every checkout buys one unit each of 3 products. Filling the cart is set-up, not timed.
//! MariaDB comes from `MYSQL_URL` (default `mysql://root@127.0.0.1:3306/test`), PostgreSQL from
//! `POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/test`), MongoDB from
//! `MONGODB_URI`; a backend that is not reachable is skipped with the reason printed.

#![allow(clippy::unwrap_used, clippy::print_stderr, missing_docs)] // bench code

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{
    BenchmarkGroup, Criterion, Throughput, criterion_group, criterion_main, measurement::WallTime,
};
use mongodb::bson::{DateTime as BsonDate, Document, doc};
use shop_benches::{checkout_request, commerce, fill_cart, runtime, seed};
use shop_core::{CheckoutConfig, CheckoutService, CommerceStore, ProductId, UserId};
use shop_store::MemoryStore;
use sqlx::{Executor, MySqlPool, PgPool, Row};
use tokio::runtime::Runtime;
use uuid::Uuid;

const LINES: usize = 3;

/// Times `op` once per iteration, after an untimed `fill_cart` for a fresh key.
fn per_op<F, Fut>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    name: &str,
    rt: &Runtime,
    store: &Arc<dyn CommerceStore>,
    products: &[ProductId],
    op: F,
) where
    F: Fn(UserId, u64) -> Fut,
    Fut: Future<Output = ()>,
{
    let mut key = 0_u64;
    let user = UserId::generate();
    group.bench_function(name, |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let mut timed = Duration::ZERO;
                for _ in 0..iters {
                    fill_cart(store.as_ref(), user, products).await.unwrap();
                    key += 1;
                    let start = Instant::now();
                    op(user, key).await;
                    timed += start.elapsed();
                }
                timed
            })
        });
    });
}

fn library(
    group: &mut BenchmarkGroup<'_, WallTime>,
    rt: &Runtime,
    store: &Arc<dyn CommerceStore>,
    products: &[ProductId],
) {
    let service = CheckoutService::new(store.clone(), CheckoutConfig::default());
    per_op(group, "library", rt, store, products, |user, key| {
        let service = service.clone();
        async move {
            service
                .checkout(&checkout_request(user, key))
                .await
                .unwrap();
        }
    });
}

fn memory(c: &mut Criterion) {
    let rt = runtime();
    let store = commerce(Arc::new(MemoryStore::new()));
    let products = rt.block_on(seed(store.as_ref(), LINES)).unwrap();
    let mut group = c.benchmark_group("store_checkout_memory");
    group.throughput(Throughput::Elements(1));
    library(&mut group, &rt, &store, &products);
    group.finish();
}

// ------------------------------------------------------------------ MySQL

/// The checkout a careful engineer would write by hand against the same schema: one
/// transaction that locks the cart's products, takes the stock, writes order, lines,
/// idempotency key and one outbox event, and empties the cart.
async fn raw_mysql_checkout(pool: &MySqlPool, user: UserId, key: u64) {
    let user = user.as_uuid();
    let now = chrono::Utc::now();
    let order_id = Uuid::now_v7();
    let mut tx = pool.begin().await.unwrap();
    let lines = sqlx::query(
        "SELECT p.id, p.sku, p.name, p.price_minor, p.currency, l.quantity \
         FROM cart_lines l JOIN products p ON p.id = l.product_id \
         WHERE l.user_id = ? ORDER BY p.id FOR UPDATE",
    )
    .bind(user)
    .fetch_all(&mut *tx)
    .await
    .unwrap();
    let mut total = 0_i64;
    for l in &lines {
        let qty: u16 = l.get("quantity");
        let taken =
            sqlx::query("UPDATE products SET stock = stock - ? WHERE id = ? AND stock >= ?")
                .bind(qty)
                .bind(l.get::<Uuid, _>("id"))
                .bind(qty)
                .execute(&mut *tx)
                .await
                .unwrap()
                .rows_affected();
        assert_eq!(taken, 1);
        total += l.get::<i64, _>("price_minor") * i64::from(qty);
    }
    sqlx::query(
        "INSERT INTO orders (id, user_id, status, total_minor, currency, created_at, updated_at) \
         VALUES (?, ?, 'pending', ?, 'EUR', ?, ?)",
    )
    .bind(order_id)
    .bind(user)
    .bind(total)
    .bind(now)
    .bind(now)
    .execute(&mut *tx)
    .await
    .unwrap();
    let mut insert = sqlx::QueryBuilder::new(
        "INSERT INTO order_lines (order_id, position, product_id, sku, name, unit_price_minor, \
         currency, quantity, line_total_minor) ",
    );
    insert.push_values(lines.iter().enumerate(), |mut b, (i, l)| {
        let qty: u16 = l.get("quantity");
        let price: i64 = l.get("price_minor");
        b.push_bind(order_id)
            .push_bind(u16::try_from(i).unwrap())
            .push_bind(l.get::<Uuid, _>("id"))
            .push_bind(l.get_unchecked::<String, _>("sku"))
            .push_bind(l.get_unchecked::<String, _>("name"))
            .push_bind(price)
            .push_bind(l.get_unchecked::<String, _>("currency"))
            .push_bind(qty)
            .push_bind(price * i64::from(qty));
    });
    insert.build().execute(&mut *tx).await.unwrap();
    sqlx::query(
        "INSERT INTO idempotency_keys (user_id, idem_key, order_id, fingerprint, created_at) \
         VALUES (?, ?, ?, '', ?)",
    )
    .bind(user)
    .bind(format!("raw-{key}"))
    .bind(order_id)
    .bind(now)
    .execute(&mut *tx)
    .await
    .unwrap();
    sqlx::query("DELETE FROM cart_lines WHERE user_id = ?")
        .bind(user)
        .execute(&mut *tx)
        .await
        .unwrap();
    sqlx::query("UPDATE carts SET version = version + 1, updated_at = ? WHERE user_id = ?")
        .bind(now)
        .bind(user)
        .execute(&mut *tx)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO outbox (event_id, event_type, aggregate_id, occurred_at, payload) \
         VALUES (?, 'order.placed', ?, ?, ?)",
    )
    .bind(Uuid::now_v7())
    .bind(order_id)
    .bind(now)
    .bind(format!(
        r#"{{"order_id":"{order_id}","total_minor":{total}}}"#
    ))
    .execute(&mut *tx)
    .await
    .unwrap();
    tx.commit().await.unwrap();
}

fn mysql(c: &mut Criterion) {
    let rt = runtime();
    let Some(scratch) = rt.block_on(shop_store::scratch::mysql(4)) else {
        return;
    };
    let store = commerce(Arc::new(scratch.store.clone()));
    let products = rt.block_on(seed(store.as_ref(), LINES)).unwrap();
    let pool = rt.block_on(async {
        sqlx::mysql::MySqlPoolOptions::new()
            .max_connections(4)
            // The adapter's isolation level, so both sides take the same locks.
            .after_connect(|conn, _| {
                Box::pin(async move {
                    conn.execute("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED")
                        .await
                        .map(drop)
                })
            })
            .connect(&scratch.url())
            .await
            .unwrap()
    });
    let mut group = c.benchmark_group("store_checkout_mysql");
    group.throughput(Throughput::Elements(1)).sample_size(30);
    library(&mut group, &rt, &store, &products);
    per_op(
        &mut group,
        "raw_sqlx_baseline",
        &rt,
        &store,
        &products,
        |user, key| {
            let pool = pool.clone();
            async move { raw_mysql_checkout(&pool, user, key).await }
        },
    );
    group.finish();
    rt.block_on(pool.close());
    drop(scratch);
}

// ------------------------------------------------------------------ PostgreSQL

/// [`raw_mysql_checkout`] in PostgreSQL's dialect: the same statements, the same locks.
async fn raw_pg_checkout(pool: &PgPool, user: UserId, key: u64) {
    let user = user.as_uuid();
    let now = chrono::Utc::now();
    let order_id = Uuid::now_v7();
    let mut tx = pool.begin().await.unwrap();
    let lines = sqlx::query(
        "SELECT p.id, p.sku, p.name, p.price_minor, p.currency, l.quantity \
         FROM cart_lines l JOIN products p ON p.id = l.product_id \
         WHERE l.user_id = $1 ORDER BY p.id FOR UPDATE OF p",
    )
    .bind(user)
    .fetch_all(&mut *tx)
    .await
    .unwrap();
    let mut total = 0_i64;
    for l in &lines {
        let qty: i16 = l.get("quantity");
        let taken =
            sqlx::query("UPDATE products SET stock = stock - $1 WHERE id = $2 AND stock >= $1")
                .bind(i32::from(qty))
                .bind(l.get::<Uuid, _>("id"))
                .execute(&mut *tx)
                .await
                .unwrap()
                .rows_affected();
        assert_eq!(taken, 1);
        total += l.get::<i64, _>("price_minor") * i64::from(qty);
    }
    sqlx::query(
        "INSERT INTO orders (id, user_id, status, total_minor, currency, created_at, updated_at) \
         VALUES ($1, $2, 'pending', $3, 'EUR', $4, $4)",
    )
    .bind(order_id)
    .bind(user)
    .bind(total)
    .bind(now)
    .execute(&mut *tx)
    .await
    .unwrap();
    let mut insert = sqlx::QueryBuilder::new(
        "INSERT INTO order_lines (order_id, position, product_id, sku, name, unit_price_minor, \
         currency, quantity, line_total_minor) ",
    );
    insert.push_values(lines.iter().enumerate(), |mut b, (i, l)| {
        let qty: i16 = l.get("quantity");
        let price: i64 = l.get("price_minor");
        b.push_bind(order_id)
            .push_bind(i16::try_from(i).unwrap())
            .push_bind(l.get::<Uuid, _>("id"))
            .push_bind(l.get::<String, _>("sku"))
            .push_bind(l.get::<String, _>("name"))
            .push_bind(price)
            .push_bind(l.get::<String, _>("currency"))
            .push_bind(qty)
            .push_bind(price * i64::from(qty));
    });
    insert.build().execute(&mut *tx).await.unwrap();
    sqlx::query(
        "INSERT INTO idempotency_keys (user_id, idem_key, order_id, fingerprint, created_at) \
         VALUES ($1, $2, $3, '', $4)",
    )
    .bind(user)
    .bind(format!("raw-{key}"))
    .bind(order_id)
    .bind(now)
    .execute(&mut *tx)
    .await
    .unwrap();
    sqlx::query("DELETE FROM cart_lines WHERE user_id = $1")
        .bind(user)
        .execute(&mut *tx)
        .await
        .unwrap();
    sqlx::query("UPDATE carts SET version = version + 1, updated_at = $1 WHERE user_id = $2")
        .bind(now)
        .bind(user)
        .execute(&mut *tx)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO outbox (event_id, event_type, aggregate_id, occurred_at, payload) \
         VALUES ($1, 'order.placed', $2, $3, $4)",
    )
    .bind(Uuid::now_v7())
    .bind(order_id)
    .bind(now)
    .bind(format!(
        r#"{{"order_id":"{order_id}","total_minor":{total}}}"#
    ))
    .execute(&mut *tx)
    .await
    .unwrap();
    tx.commit().await.unwrap();
}

fn postgres(c: &mut Criterion) {
    let rt = runtime();
    let Some(scratch) = rt.block_on(shop_store::scratch::postgres(4)) else {
        return;
    };
    let store = commerce(Arc::new(scratch.store.clone()));
    let products = rt.block_on(seed(store.as_ref(), LINES)).unwrap();
    let pool = rt.block_on(async {
        sqlx::postgres::PgPoolOptions::new()
            .max_connections(4)
            .connect(&scratch.url())
            .await
            .unwrap()
    });
    let mut group = c.benchmark_group("store_checkout_postgres");
    group.throughput(Throughput::Elements(1)).sample_size(30);
    library(&mut group, &rt, &store, &products);
    per_op(
        &mut group,
        "raw_sqlx_baseline",
        &rt,
        &store,
        &products,
        |user, key| {
            let pool = pool.clone();
            async move { raw_pg_checkout(&pool, user, key).await }
        },
    );
    group.finish();
    rt.block_on(pool.close());
    drop(scratch);
}

// ------------------------------------------------------------------ MongoDB

/// The same by hand with the driver: one transaction that claims the cart (version bump and
/// empty lines), reads the products, takes each line's stock conditionally, and inserts order,
/// idempotency key and outbox event (into collections of its own, same shapes).
async fn raw_mongo_checkout(client: &mongodb::Client, db: &mongodb::Database, user: UserId) {
    let user = user.as_uuid().hyphenated().to_string();
    let (carts, products) = (
        db.collection::<Document>("carts"),
        db.collection::<Document>("products"),
    );
    let (orders, keys, outbox) = (
        db.collection::<Document>("raw_orders"),
        db.collection::<Document>("raw_idempotency_keys"),
        db.collection::<Document>("raw_outbox"),
    );
    let now = BsonDate::now();
    let order_id = Uuid::now_v7().hyphenated().to_string();
    let mut s = client.start_session().await.unwrap();
    s.start_transaction().await.unwrap();
    let cart = carts
        .find_one_and_update(
            doc! { "_id": &user },
            doc! { "$set": { "lines": [], "updated_at": now }, "$inc": { "version": 1_i64 } },
        )
        .session(&mut s)
        .await
        .unwrap()
        .unwrap();
    let lines = cart.get_array("lines").unwrap().clone();
    let mut order_lines = Vec::new();
    let mut total = 0_i64;
    for line in &lines {
        let line = line.as_document().unwrap();
        let product_id = line.get_str("product_id").unwrap();
        let qty = line.get_i64("quantity").unwrap();
        let p = products
            .find_one_and_update(
                doc! { "_id": product_id, "active": true, "stock": { "$gte": qty } },
                doc! { "$inc": { "stock": -qty } },
            )
            .session(&mut s)
            .await
            .unwrap()
            .unwrap();
        let price = p.get_i64("price_minor").unwrap();
        total += price * qty;
        order_lines.push(doc! {
            "product_id": product_id,
            "sku": p.get_str("sku").unwrap(),
            "name": p.get_str("name").unwrap(),
            "unit_price_minor": price,
            "currency": p.get_str("currency").unwrap(),
            "quantity": qty,
            "line_total_minor": price * qty,
        });
    }
    orders
        .insert_one(doc! {
            "_id": &order_id, "user_id": &user, "status": "pending", "total_minor": total,
            "currency": "EUR", "lines": order_lines, "created_at": now, "updated_at": now,
        })
        .session(&mut s)
        .await
        .unwrap();
    keys.insert_one(doc! {
        "_id": format!("{user}:{order_id}"), "order_id": &order_id, "fingerprint": "",
        "created_at": now,
    })
    .session(&mut s)
    .await
    .unwrap();
    outbox
        .insert_one(doc! {
            "_id": Uuid::now_v7().hyphenated().to_string(), "event_type": "order.placed",
            "aggregate_id": &order_id, "occurred_at": now,
            "payload": format!(r#"{{"order_id":"{order_id}","total_minor":{total}}}"#),
            "published_at": null,
        })
        .session(&mut s)
        .await
        .unwrap();
    s.commit_transaction().await.unwrap();
}

fn mongo(c: &mut Criterion) {
    let rt = runtime();
    let Some(scratch) = rt.block_on(shop_store::scratch::mongodb()) else {
        return;
    };
    let store = commerce(Arc::new(scratch.store.clone()));
    let products = rt.block_on(seed(store.as_ref(), LINES)).unwrap();
    let client = rt
        .block_on(mongodb::Client::with_uri_str(scratch.uri()))
        .unwrap();
    let db = client.database(scratch.database());
    let mut group = c.benchmark_group("store_checkout_mongodb");
    group.throughput(Throughput::Elements(1)).sample_size(10);
    library(&mut group, &rt, &store, &products);
    per_op(
        &mut group,
        "raw_driver_baseline",
        &rt,
        &store,
        &products,
        |user, _| {
            let (client, db) = (client.clone(), db.clone());
            async move { raw_mongo_checkout(&client, &db, user).await }
        },
    );
    group.finish();
    drop(scratch);
}

criterion_group!(benches, memory, mysql, postgres, mongo);
criterion_main!(benches);
