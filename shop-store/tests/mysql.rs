//! The MySQL adapter against a real MariaDB / MySQL: the whole conformance suite (each test in
//! its own freshly created database, dropped afterwards) and a fault test that kills the
//! store's connection in the middle of a checkout transaction.
//!
//! The server is `MYSQL_URL` or `mysql://root@127.0.0.1:3306/test`. Unreachable: skipped with
//! a message, except under `CI=true`, where it is a failure.

#![cfg(feature = "mysql")]
#![allow(clippy::unwrap_used, clippy::print_stderr)] // test code

use std::sync::Arc;
use std::time::Duration;

use shop_core::{
    CartCommand, CartStore, CatalogStore, CheckoutConfig, CheckoutRequest, CheckoutService,
    Currency, Description, Error, IdempotencyKey, Money, NewProduct, Price, Product, ProductName,
    Quantity, RequestFingerprint, Sku, Slug, UserId,
};
use shop_store::config::SecretString;
use shop_store::conformance::{Harness, InterruptedCheckout, Store};
use shop_store::mysql::{MySqlConfig, MySqlStore};
use shop_store::scratch::MySqlScratch;
use sqlx::{Connection, Executor, MySqlConnection, Row};

async fn fresh_mysql() -> Option<MySqlScratch> {
    shop_store::scratch::mysql(16).await
}

/// An active $1.00 product; the slug is the SKU in lower case.
fn product(sku: impl Into<String>, stock: u32) -> Product {
    let sku = sku.into();
    Product::create(NewProduct {
        slug: Slug::parse(sku.to_lowercase()).unwrap(),
        sku: Sku::parse(sku).unwrap(),
        name: ProductName::parse("Test product").unwrap(),
        description: Description::parse("").unwrap(),
        image_url: None,
        price: Price::new(Money::new(100, Currency::USD)).unwrap(),
        stock,
        active: true,
    })
}

async fn fresh() -> Option<Harness> {
    let scratch = fresh_mysql().await?;
    Some(Harness::with_cleanup(
        Arc::new(scratch.store.clone()) as Store,
        scratch,
    ))
}

shop_store::conformance_tests!(fresh());

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrations_are_idempotent() {
    let Some(scratch) = fresh_mysql().await else {
        return;
    };
    let store = &scratch.store;
    store.migrate().await.unwrap();
    store.migrate().await.unwrap();
}

#[tokio::test]
async fn bad_config_and_dead_servers_are_typed_errors() {
    let dead = {
        let mut config = MySqlConfig::default();
        config.url = Some(SecretString::from("mysql://root@127.0.0.1:1/none"));
        config.acquire_timeout = Duration::from_secs(2);
        config
    };
    let err = MySqlStore::connect(&dead).await.unwrap_err();
    assert!(matches!(err, Error::Unavailable(_)), "{err:?}");
    assert_eq!(
        err.to_string(),
        "storage unavailable",
        "no driver text in the message"
    );
}

/// Kills the store's connection while its checkout transaction has already taken stock and
/// written the order, and is blocked on the idempotency-key insert. The store must report
/// `Unavailable`, the server must have rolled everything back, and the pool must recover.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn killed_connection_mid_checkout_leaves_nothing_half_written() {
    let Some(scratch) = fresh_mysql().await else {
        return;
    };
    let case = InterruptedCheckout::prepare(Arc::new(scratch.store.clone()) as Store).await;
    let user = case.user;

    // A second session holds an uncommitted row with the same idempotency key, so the store's
    // insert of that key waits for it: by then stock and order are written, uncommitted.
    let mut blocker = MySqlConnection::connect(&scratch.url()).await.unwrap();
    blocker.execute("BEGIN").await.unwrap();
    let decoy = UserId::generate().as_uuid();
    sqlx::query(
        "INSERT INTO orders (id, user_id, status, total_minor, currency, created_at, updated_at) \
         VALUES (?, ?, 'pending', 0, 'USD', NOW(3), NOW(3))",
    )
    .bind(decoy)
    .bind(user.as_uuid())
    .execute(&mut blocker)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO idempotency_keys (user_id, idem_key, order_id, fingerprint, created_at) \
         VALUES (?, 'kill-key', ?, '', NOW(3))",
    )
    .bind(user.as_uuid())
    .bind(decoy)
    .execute(&mut blocker)
    .await
    .unwrap();

    let task = case.start();

    let mut killer = MySqlConnection::connect(&scratch.url()).await.unwrap();
    let mut victim = None;
    for _ in 0..200 {
        let row = sqlx::query(
            "SELECT ID FROM information_schema.PROCESSLIST \
             WHERE DB = ? AND INFO LIKE 'INSERT INTO idempotency_keys%' AND ID <> CONNECTION_ID()",
        )
        .bind(&scratch.database)
        .fetch_optional(&mut killer)
        .await
        .unwrap();
        if let Some(row) = row {
            victim = Some(row.try_get::<i64, _>(0).unwrap());
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let victim = victim.expect("the checkout never reached the idempotency insert");
    killer
        .execute(format!("KILL CONNECTION {victim}").as_str())
        .await
        .unwrap();

    InterruptedCheckout::assert_unavailable(task).await;
    blocker.execute("ROLLBACK").await.unwrap();
    case.assert_nothing_written_and_the_store_recovers().await;
}

/// Different users' carts and checkouts share no rows, so they must never lock each other out:
/// with deadlock retries switched off, 32 new users filling carts and checking out at once all
/// succeed. (Under REPEATABLE READ the cart-line rewrite gap-locks neighbouring users' key
/// ranges and this deadlocks every run.)
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn distinct_users_never_deadlock_each_other() {
    let Some(scratch) = fresh_mysql().await else {
        return;
    };
    let store = Arc::new(
        MySqlStore::connect(&{
            let mut config = MySqlConfig::default();
            config.url = Some(SecretString::from(scratch.url()));
            config.max_connections = 16;
            config.deadlock_retries = 0;
            config
        })
        .await
        .unwrap(),
    );
    let mut products = Vec::new();
    for n in 0..2 {
        let product = product(format!("DL-{n}"), 1_000);
        store.create_product(&product).await.unwrap();
        products.push(product.id);
    }
    let checkout = CheckoutService::new(store.clone(), CheckoutConfig::default());
    let tasks: Vec<_> = (0..32)
        .map(|i| {
            let (store, checkout, products) = (store.clone(), checkout.clone(), products.clone());
            tokio::spawn(async move {
                let user = UserId::generate();
                for &product_id in &products {
                    let add = CartCommand::Add {
                        product_id,
                        quantity: Quantity::new(1).unwrap(),
                    };
                    store.modify_cart(user, &add).await?;
                }
                checkout
                    .checkout(&CheckoutRequest {
                        expected_cart_version: None,
                        user_id: user,
                        idempotency_key: IdempotencyKey::parse(format!("dl-{i}")).unwrap(),
                        fingerprint: RequestFingerprint::default(),
                    })
                    .await
                    .map(drop)
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    for id in products {
        assert_eq!(
            store.get_product(id).await.unwrap().unwrap().stock,
            1_000 - 32
        );
    }
}

/// Concurrent changes to one cart queue on its row lock: none is lost and each bumps the
/// version once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_changes_to_one_cart_are_all_kept() {
    let Some(scratch) = fresh_mysql().await else {
        return;
    };
    let store = Arc::new(scratch.store.clone());
    let product = product("ONE-CART", 100);
    store.create_product(&product).await.unwrap();
    let user = UserId::generate();
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                let add = CartCommand::Add {
                    product_id: product.id,
                    quantity: Quantity::new(1).unwrap(),
                };
                store.modify_cart(user, &add).await
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    let cart = store.get_cart(user).await.unwrap().unwrap();
    assert_eq!(cart.lines.len(), 1);
    assert_eq!(cart.lines[0].quantity.get(), 16);
    assert_eq!(cart.version, 16);
}
