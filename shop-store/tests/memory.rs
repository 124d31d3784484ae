//! The memory adapter runs the whole conformance suite.

use std::sync::Arc;

use shop_store::MemoryStore;
use shop_store::conformance::Store;

async fn fresh() -> Option<Store> {
    Some(Arc::new(MemoryStore::new()))
}

shop_store::conformance_tests!(fresh());
