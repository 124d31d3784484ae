//! The MongoDB adapter against a real MongoDB-wire server: the whole conformance suite, each
//! test in its own database (dropped afterwards), plus index and configuration checks.
//!
//! The server is `MONGODB_URI` (the test script starts a local single-node server and exports
//! it). Unset or unreachable: skipped with a message, except under `CI=true`, where it is a
//! failure.

#![cfg(feature = "mongodb")]
#![allow(clippy::unwrap_used, clippy::print_stderr)] // test code

use std::sync::Arc;
use std::time::Duration;

use shop_core::{Error, UserId};
use shop_store::config::Secret;
use shop_store::conformance::{Harness, Store};
use shop_store::mongodb::{MongoConfig, MongoStore};

/// Drops the test's database when the test is over.
struct DropDatabase(MongoConfig);

impl Drop for DropDatabase {
    fn drop(&mut self) {
        let config = self.0.clone();
        // Drop runs inside the test's runtime, which may be single-threaded and is blocked
        // while we wait: the helper thread gets its own runtime and its own client.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                if let Ok(store) = MongoStore::connect(&config).await {
                    let _ = store.drop_database().await;
                    store.close().await;
                }
            });
        })
        .join();
    }
}

fn skip_or_fail(why: &str) -> Option<(MongoStore, DropDatabase)> {
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "a MongoDB-compatible server is required under CI=true: {why}"
    );
    eprintln!("skipping: {why} (scripts/test starts one and sets MONGODB_URI)");
    None
}

async fn fresh_mongo() -> Option<(MongoStore, DropDatabase)> {
    let Some(uri) = std::env::var("MONGODB_URI").ok().filter(|u| !u.is_empty()) else {
        return skip_or_fail("MONGODB_URI is not set");
    };
    let config = MongoConfig {
        uri: Secret::new(uri),
        database: format!("shop_t_{}", UserId::generate().as_uuid().simple()),
        timeout: Duration::from_secs(10),
    };
    let store = match MongoStore::connect(&config).await {
        Ok(s) => s,
        Err(e) => return skip_or_fail(&format!("MongoDB unreachable: {e:?}")),
    };
    store.ensure_indexes().await.unwrap();
    let guard = DropDatabase(config);
    Some((store, guard))
}

async fn fresh() -> Option<Harness> {
    let (store, guard) = fresh_mongo().await?;
    Some(Harness::with_cleanup(Arc::new(store) as Store, guard))
}

shop_store::conformance_tests!(fresh());

#[tokio::test]
async fn ensure_indexes_is_idempotent() {
    let Some((store, _guard)) = fresh_mongo().await else {
        return;
    };
    store.ensure_indexes().await.unwrap();
    store.ensure_indexes().await.unwrap();
}

#[tokio::test]
async fn unreachable_server_is_unavailable() {
    let config = MongoConfig {
        uri: Secret::new("mongodb://127.0.0.1:1/?directConnection=true"),
        database: "nope".into(),
        timeout: Duration::from_millis(500),
    };
    let err = MongoStore::connect(&config).await.unwrap_err();
    assert!(matches!(err, Error::Unavailable(_)), "{err:?}");
    assert_eq!(
        err.to_string(),
        "storage unavailable",
        "no driver text in the message"
    );
}
