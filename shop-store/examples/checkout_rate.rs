//! Checkouts per second through `CheckoutService` on a chosen backend: `TASKS` concurrent tasks,
//! each checking out `PER_TASK` prepared 3-line carts over a shared set of products (so tasks
//! contend for product rows, as real shoppers do). Carts are filled first; only the checkouts
//! are timed.
//!
//! ```text
//! cargo run --release -p shop-store --all-features --example checkout_rate -- mysql [TASKS] [PER_TASK]
//! cargo run --release -p shop-store --all-features --example checkout_rate -- postgres
//! cargo run --release -p shop-store --all-features --example checkout_rate -- mongodb
//! cargo run --release -p shop-store --all-features --example checkout_rate -- memory
//! ```
//!
//! MySQL: `MYSQL_URL` (default `mysql://root@127.0.0.1:3306/test`). PostgreSQL:
//! `POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/test`). MongoDB: `MONGODB_URI`
//! (a replica set or a SecantusDB server). A scratch database is created and dropped.

#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::cast_precision_loss)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use shop_core::{
    CartCommand, CheckoutConfig, CheckoutRequest, CheckoutService, CommerceStore, Currency,
    Description, IdempotencyKey, Money, NewProduct, Price, Product, ProductId, ProductName,
    Quantity, RequestFingerprint, Sku, Slug, UserId,
};

const PRODUCTS: usize = 30;

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let backend = args.first().map_or("memory", String::as_str).to_owned();
    let tasks: usize = args.get(1).map_or(8, |s| s.parse().unwrap());
    let per_task: usize = args.get(2).map_or(250, |s| s.parse().unwrap());

    let (store, cleanup) = open(&backend).await;
    let products = seed(&store).await;

    // Prepare one cart per checkout: 3 distinct products each.
    let mut users = Vec::with_capacity(tasks * per_task);
    for i in 0..tasks * per_task {
        let user = UserId::generate();
        for k in 0..3 {
            let cmd = CartCommand::Add {
                product_id: products[(i * 3 + k) % PRODUCTS],
                quantity: Quantity::new(1).unwrap(),
            };
            store.modify_cart(user, &cmd).await.unwrap();
        }
        users.push(user);
    }

    let checkout = CheckoutService::new(store.clone(), CheckoutConfig::default());
    let started = Instant::now();
    let handles: Vec<_> = users
        .chunks(per_task)
        .map(|chunk| {
            let chunk = chunk.to_vec();
            let checkout = checkout.clone();
            tokio::spawn(async move {
                let mut latencies = Vec::with_capacity(chunk.len());
                for user in chunk {
                    let t = Instant::now();
                    checkout
                        .checkout(&CheckoutRequest {
                            expected_cart_version: None,
                            user_id: user,
                            idempotency_key: IdempotencyKey::parse("bench").unwrap(),
                            fingerprint: RequestFingerprint::default(),
                        })
                        .await
                        .unwrap();
                    latencies.push(t.elapsed());
                }
                latencies
            })
        })
        .collect();
    let mut latencies: Vec<Duration> = Vec::new();
    for h in handles {
        latencies.extend(h.await.unwrap());
    }
    let elapsed = started.elapsed();
    latencies.sort();
    let pct = |percent: usize| latencies[(latencies.len() - 1) * percent / 100];
    println!(
        "backend={backend} tasks={tasks} checkouts={} lines_per_cart=3 elapsed={:.2}s \
         rate={:.0} checkouts/s p50={:.2}ms p99={:.2}ms",
        latencies.len(),
        elapsed.as_secs_f64(),
        latencies.len() as f64 / elapsed.as_secs_f64(),
        pct(50).as_secs_f64() * 1e3,
        pct(99).as_secs_f64() * 1e3,
    );
    cleanup.await;
}

async fn seed(store: &Arc<dyn CommerceStore>) -> Vec<ProductId> {
    let mut ids = Vec::new();
    for i in 0..PRODUCTS {
        let p = Product::create(NewProduct {
            sku: Sku::parse(format!("RATE-{i}")).unwrap(),
            slug: Slug::parse(format!("rate-{i}")).unwrap(),
            name: ProductName::parse(format!("Rate product {i}")).unwrap(),
            description: Description::parse("").unwrap(),
            image_url: None,
            price: Price::new(Money::new(100 + i64::try_from(i).unwrap(), Currency::EUR)).unwrap(),
            stock: 1_000_000,
            active: true,
        });
        store.create_product(&p).await.unwrap();
        ids.push(p.id);
    }
    ids
}

type Cleanup = std::pin::Pin<Box<dyn std::future::Future<Output = ()>>>;

async fn open(backend: &str) -> (Arc<dyn CommerceStore>, Cleanup) {
    match backend {
        "memory" => (Arc::new(shop_store::MemoryStore::new()), Box::pin(async {})),
        #[cfg(feature = "mysql")]
        "mysql" => mysql::open().await,
        #[cfg(all(feature = "postgres", feature = "conformance"))]
        "postgres" => {
            let scratch = shop_store::scratch::postgres(16)
                .await
                .expect("PostgreSQL is unreachable");
            let store = scratch.store.clone();
            (Arc::new(store), Box::pin(async move { drop(scratch) }))
        }
        #[cfg(feature = "mongodb")]
        "mongodb" => mongo::open().await,
        other => panic!(
            "unknown or not compiled-in backend {other:?} (memory, mysql, postgres, mongodb)"
        ),
    }
}

#[cfg(feature = "mysql")]
mod mysql {
    use super::*;
    use shop_store::config::SecretString;
    use shop_store::mysql::{MySqlConfig, MySqlStore};
    use sqlx::{Connection, Executor, MySqlConnection};

    pub(super) async fn open() -> (Arc<dyn CommerceStore>, Cleanup) {
        let server = std::env::var("MYSQL_URL")
            .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/test".to_owned());
        let name = format!("shop_bench_{}", UserId::generate().as_uuid().simple());
        let mut admin = MySqlConnection::connect(&server).await.unwrap();
        admin
            .execute(format!("CREATE DATABASE `{name}`").as_str())
            .await
            .unwrap();
        let config = {
            let mut config = MySqlConfig::default();
            config.url = Some(SecretString::from(server.clone()));
            config.max_connections = 16;
            config
        }
        .with_database(&name);
        let store = MySqlStore::connect(&config).await.unwrap();
        store.migrate().await.unwrap();
        let cleanup = Box::pin(async move {
            admin
                .execute(format!("DROP DATABASE `{name}`").as_str())
                .await
                .unwrap();
        });
        (Arc::new(store), cleanup)
    }
}

#[cfg(feature = "mongodb")]
mod mongo {
    use super::*;
    use shop_store::config::SecretString;
    use shop_store::mongodb::{MongoConfig, MongoStore};

    pub(super) async fn open() -> (Arc<dyn CommerceStore>, Cleanup) {
        let uri = std::env::var("MONGODB_URI").expect("set MONGODB_URI");
        let config = {
            let mut config = MongoConfig::default();
            config.uri = SecretString::from(uri);
            config.database = format!("shop_bench_{}", UserId::generate().as_uuid().simple());
            config
        };
        let store = MongoStore::connect(&config).await.unwrap();
        store.ensure_indexes().await.unwrap();
        let dropper = store.clone();
        let cleanup = Box::pin(async move { dropper.drop_database().await.unwrap() });
        (Arc::new(store), cleanup)
    }
}
