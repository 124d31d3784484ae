//! The PostgreSQL adapter (feature `postgres`), built on sqlx — **in progress**.
//!
//! Done: configuration ([`PgConfig`], `DATABASE_URL` or the libpq variables), the connection
//! pool, the embedded schema ([`PgStore::migrate`], safe on every start; the same tables,
//! keys and ordering rules as the MySQL schema: `uuid` IDs, `bigint` money, `COLLATE "C"`
//! text so sorting and uniqueness follow code points as on every other backend), and
//! [`StoreHealth`]. Not yet: the store traits (catalog, carts, checkout, orders, outbox,
//! reviews, users, refresh tokens, processed events), so `PgStore` cannot back the shop yet.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use shop_store::postgres::{PgConfig, PgStore};
//!
//! let store = PgStore::connect(&PgConfig::from_env()?).await?;
//! store.migrate().await?;
//! # Ok(()) }
//! ```

mod config;
mod error;

use std::time::Duration;

use async_trait::async_trait;
use shop_core::{Result, StoreHealth};
use sqlx::postgres::{PgPool, PgPoolOptions};
use tracing::instrument;

pub use config::PgConfig;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// The shop's schema on PostgreSQL 13+ (see the [module docs](self) for what is done).
#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
}

impl PgStore {
    /// Opens a connection pool and checks that the server answers.
    ///
    /// # Errors
    /// [`Error::Unavailable`](shop_core::Error::Unavailable) when the server cannot be reached.
    #[instrument(skip(config), fields(target = %config.redacted_target()))]
    pub async fn connect(config: &PgConfig) -> Result<Self> {
        let pool = PgPoolOptions::new()
            .max_connections(config.max_connections)
            .min_connections(0)
            .acquire_timeout(config.acquire_timeout)
            .idle_timeout(Some(Duration::from_secs(300)))
            .test_before_acquire(true)
            .connect_with(config.connect_options()?)
            .await
            .map_err(error::map)?;
        Ok(Self { pool })
    }

    /// Creates or upgrades the schema (embedded migrations; safe to run on every start, and
    /// from several replicas at once: sqlx takes an advisory lock).
    ///
    /// # Errors
    /// [`Error::Unavailable`](shop_core::Error::Unavailable) or
    /// [`Error::Internal`](shop_core::Error::Internal) when a migration fails.
    pub async fn migrate(&self) -> Result<()> {
        MIGRATOR
            .run(&self.pool)
            .await
            .map_err(|e| crate::sql::migration(e, error::map))
    }

    /// Closes the pool, waiting for connections in use to be returned.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

#[async_trait]
impl StoreHealth for PgStore {
    #[tracing::instrument(level = "debug", skip_all, fields(db.system = "postgresql"))]
    async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map(drop)
            .map_err(error::map)
    }
}
