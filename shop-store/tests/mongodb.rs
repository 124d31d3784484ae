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

use shop_core::Error;
use shop_store::config::SecretString;
use shop_store::conformance::{Harness, Store};
use shop_store::mongodb::{MongoConfig, MongoStore};

/// Drops the test's database when the test is over.
async fn fresh() -> Option<Harness> {
    let scratch = shop_store::scratch::mongodb().await?;
    Some(Harness::with_cleanup(
        Arc::new(scratch.store.clone()) as Store,
        scratch,
    ))
}

shop_store::conformance_tests!(fresh());

#[tokio::test]
async fn ensure_indexes_is_idempotent() {
    let Some(scratch) = shop_store::scratch::mongodb().await else {
        return;
    };
    let store = &scratch.store;
    store.ensure_indexes().await.unwrap();
    store.ensure_indexes().await.unwrap();
}

#[tokio::test]
async fn unreachable_server_is_unavailable() {
    let config = {
        let mut config = MongoConfig::default();
        config.uri = SecretString::from("mongodb://127.0.0.1:1/?directConnection=true");
        config.database = "nope".into();
        config.timeout = Duration::from_millis(500);
        config
    };
    let err = MongoStore::connect(&config).await.unwrap_err();
    assert!(matches!(err, Error::Unavailable(_)), "{err:?}");
    assert_eq!(
        err.to_string(),
        "storage unavailable",
        "no driver text in the message"
    );
}
