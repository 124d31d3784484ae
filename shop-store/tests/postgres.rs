//! The PostgreSQL adapter against a real server (`POSTGRES_URL`, default
//! `postgres://postgres@127.0.0.1:5432/test`), each test in a database of its own. Unreachable:
//! skipped with a message, except under `CI=true`, where it is a failure.
//!
//! The adapter is in progress (see `shop_store::postgres`): these tests cover what exists —
//! connection, schema, health, configuration. The conformance suite joins when the store
//! traits do.

#![cfg(feature = "postgres")]
#![allow(clippy::unwrap_used)] // test code

use shop_core::{Error, StoreHealth};
use shop_store::postgres::{PgConfig, PgStore};
use shop_store::scratch;
use sqlx::{Connection, PgConnection, Row};

#[tokio::test]
async fn the_schema_migrates_once_and_again_and_the_store_answers() {
    let Some(db) = scratch::postgres(2).await else {
        return;
    };
    // Safe on every start: a second run changes nothing.
    db.store.migrate().await.unwrap();
    db.store.ping().await.unwrap();
    let mut conn = PgConnection::connect(&db.url()).await.unwrap();
    let tables: Vec<String> = sqlx::query(
        "SELECT table_name::text FROM information_schema.tables \
         WHERE table_schema = 'public' AND table_name <> '_sqlx_migrations' ORDER BY 1",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap()
    .iter()
    .map(|r| r.get(0))
    .collect();
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
    let names: Vec<String> = sqlx::query("SELECT name FROM products ORDER BY name")
        .fetch_all(&mut conn)
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
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
