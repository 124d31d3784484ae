//! The PostgreSQL adapter against a real server (`POSTGRES_URL`, default
//! `postgres://postgres@127.0.0.1:5432/test`), each test in a database of its own. Unreachable:
//! skipped with a message, except under `CI=true`, where it is a failure.
//!
//! The whole conformance suite (the same one-line macro as every adapter), plus what is
//! PostgreSQL's own: the schema, code-point ordering, typed errors, and a fault test that
//! terminates the store's connection while its checkout transaction waits on a lock.

#![cfg(feature = "postgres")]
#![allow(clippy::unwrap_used)] // test code

use std::sync::Arc;
use std::time::Duration;

use shop_core::{Error, EventType, OutboxStore, StoreHealth, UserId};
use shop_store::conformance::{Harness, InterruptedCheckout, Store};
use shop_store::postgres::{PgConfig, PgStore};
use shop_store::scratch;
use sqlx::{Connection, Executor, PgConnection, Row};

async fn fresh() -> Option<Harness> {
    let scratch = scratch::postgres(16).await?;
    Some(Harness::with_cleanup(
        Arc::new(scratch.store.clone()) as Store,
        scratch,
    ))
}

shop_store::conformance_tests!(fresh());

#[tokio::test]
async fn the_schema_migrates_once_and_again_and_the_store_answers() {
    let Some(db) = scratch::postgres(2).await else {
        return;
    };
    // Safe on every start: a second run changes nothing.
    db.store.migrate().await.unwrap();
    db.store.ping().await.unwrap();
    let mut conn = PgConnection::connect(&db.url()).await.unwrap();
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables \
         WHERE table_schema = 'public' AND table_name <> '_sqlx_migrations' ORDER BY 1",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    assert_eq!(
        tables,
        [
            "cart_lines",
            "carts",
            "idempotency_keys",
            "order_lines",
            "orders",
            "outbox",
            "processed_events",
            "products",
            "refresh_tokens",
            "reviews",
            "users"
        ]
    );
}

/// Names sort and compare by code point, as on the other backends (the conformance suite's
/// sorting tests rest on it): upper case before lower case, accents after ASCII, and no
/// case-folding in unique keys.
#[tokio::test]
async fn text_sorts_and_compares_by_code_point() {
    let Some(db) = scratch::postgres(2).await else {
        return;
    };
    let mut conn = PgConnection::connect(&db.url()).await.unwrap();
    for (i, name) in ["émail", "zebra", "Zebra", "apple", "Apple"]
        .iter()
        .enumerate()
    {
        sqlx::query(
            "INSERT INTO products (id, sku, slug, name, description, price_minor, currency, \
             stock, active, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, '', 100, 'EUR', 1, true, now(), now())",
        )
        .bind(uuid::Uuid::now_v7())
        .bind(format!("SKU-{i}"))
        .bind(format!("slug-{i}"))
        .bind(*name)
        .execute(&mut conn)
        .await
        .unwrap();
    }
    let names: Vec<String> = sqlx::query_scalar("SELECT name FROM products ORDER BY name")
        .fetch_all(&mut conn)
        .await
        .unwrap();
    assert_eq!(names, ["Apple", "Zebra", "apple", "zebra", "émail"]);
}

#[tokio::test]
async fn an_unreachable_server_is_unavailable() {
    let mut config = PgConfig::default();
    config.port = 1; // nothing listens there
    config.acquire_timeout = std::time::Duration::from_secs(2);
    let err = PgStore::connect(&config).await.unwrap_err();
    assert!(matches!(err, Error::Unavailable(_)), "{err:?}");
}

/// An active 1.00 EUR product; the slug is the SKU in lower case.
/// `pg_terminate_backend` on the store's connection while its checkout transaction waits for
/// a lock: the checkout is `Unavailable`, the server rolled everything back, and the pool
/// hands out a working connection for the next call.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn terminated_connection_mid_checkout_leaves_nothing_half_written() {
    let Some(scratch) = scratch::postgres(16).await else {
        return;
    };
    let case = InterruptedCheckout::prepare(Arc::new(scratch.store.clone()) as Store).await;
    let user = case.user;

    // A second session holds the user's cart row locked, so the checkout, having recorded
    // its idempotency key, waits there with that row uncommitted.
    let mut blocker = PgConnection::connect(&scratch.url()).await.unwrap();
    blocker.execute("BEGIN").await.unwrap();
    sqlx::query("SELECT 1 FROM carts WHERE user_id = $1 FOR UPDATE")
        .bind(user.as_uuid())
        .execute(&mut blocker)
        .await
        .unwrap();

    let task = case.start();

    let mut killer = PgConnection::connect(&scratch.url()).await.unwrap();
    let mut victim = None;
    for _ in 0..200 {
        let row = sqlx::query(
            "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock' \
             AND query LIKE 'SELECT 1 FROM carts%' AND pid <> pg_backend_pid()",
        )
        .bind(&scratch.database)
        .fetch_optional(&mut killer)
        .await
        .unwrap();
        if let Some(row) = row {
            victim = Some(row.try_get::<i32, _>(0).unwrap());
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let victim = victim.expect("the checkout never waited on the cart lock");
    let terminated: bool = sqlx::query_scalar("SELECT pg_terminate_backend($1)")
        .bind(victim)
        .fetch_one(&mut killer)
        .await
        .unwrap();
    assert!(terminated);

    InterruptedCheckout::assert_unavailable(task).await;
    blocker.execute("ROLLBACK").await.unwrap();
    case.assert_nothing_written_and_the_store_recovers().await;
}

/// A relay waiting for events is woken by the insert trigger's notification when the
/// appending transaction commits, long before its wait would end.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waiting_for_events_wakes_when_one_commits() {
    let Some(scratch) = scratch::postgres(4).await else {
        return;
    };
    let store = Arc::new(scratch.store.clone());
    // The first wait opens the listening connection; nothing is pending, so it runs out.
    let started = std::time::Instant::now();
    assert!(store.wait_for_events(Duration::from_millis(300)).await);
    assert!(started.elapsed() >= Duration::from_millis(250));

    let waiter = {
        let store = store.clone();
        tokio::spawn(async move {
            let started = std::time::Instant::now();
            let woke = store.wait_for_events(Duration::from_secs(30)).await;
            (woke, started.elapsed())
        })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    let event = shop_core::DomainEvent::new(
        EventType::UserRegistered,
        UserId::generate().as_uuid(),
        serde_json::json!({}),
    );
    store.append_events(&[event]).await.unwrap();
    let (woke, waited) = tokio::time::timeout(Duration::from_secs(10), waiter)
        .await
        .expect("the notification never came")
        .unwrap();
    assert!(woke);
    assert!(waited < Duration::from_secs(10), "{waited:?}");
}
