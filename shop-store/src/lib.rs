//! # shop-store
//!
//! Adapters for the [`shop_core`] store traits, and the conformance suite every adapter
//! passes.
//!
//! | module | backend | feature |
//! |---|---|---|
//! | [`memory`] | in-process, behind locks | always built |
//! | `mysql` | MySQL 8 / MariaDB 10.11+ via sqlx | `mysql` |
//! | `mongodb` | MongoDB replica set via the official driver | `mongodb` |
//! | `postgres` | PostgreSQL 13+ (with ICU, as most builds have) via sqlx | `postgres` |
//! | `conformance` | the shared test suite | `conformance` |
//!
//! ```
//! use std::sync::Arc;
//! use shop_core::{ShopStore, StoreHealth};
//! use shop_store::memory::MemoryStore;
//!
//! # tokio_test_block(async {
//! let store: Arc<dyn ShopStore> = Arc::new(MemoryStore::new());
//! store.ping().await.unwrap();
//! # });
//! # fn tokio_test_block(f: impl std::future::Future<Output = ()>) {
//! #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
//! # }
//! ```

pub mod config;
pub mod memory;
mod rules;
#[cfg(any(feature = "mysql", feature = "postgres"))]
mod sql;

#[cfg(feature = "mongodb")]
pub mod mongodb;
#[cfg(feature = "mysql")]
pub mod mysql;
#[cfg(feature = "postgres")]
pub mod postgres;

#[cfg(feature = "conformance")]
pub mod conformance;
#[cfg(feature = "conformance")]
pub mod scratch;

pub use config::ConfigError;
pub use memory::MemoryStore;

// The README's Rust examples run as doctests, so the front page cannot drift from the code.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;
