//! The PostgreSQL adapter (feature `postgres`), built on sqlx.
//!
//! Every write that must be atomic is one transaction at READ COMMITTED. Checkout records the
//! idempotency key first (`ON CONFLICT DO NOTHING`: a key another request holds makes this
//! one wait for it, then see its order — a replay), locks the user's cart row, then the
//! cart's products `FOR UPDATE` in ID order (so two checkouts never deadlock on the same
//! products), lets [`shop_core::checkout::decide`] decide, and writes the stock (one
//! `UPDATE`), the order, its lines, the cleared cart and the outbox rows before one `COMMIT`.
//! Serialization failures, deadlocks and lock timeouts are retried a bounded number of times
//! with jittered backoff; every other failure rolls back and surfaces as a typed
//! [`shop_core::Error`] (unique violations by constraint name, lost connections as
//! `Unavailable`). Only parameterised queries are used. The schema keeps the other adapters'
//! rules: `uuid` IDs, `bigint` money, `COLLATE "C"` text so sorting and uniqueness follow code
//! points as on every other backend.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use shop_store::postgres::{PgConfig, PgStore};
//!
//! let store = PgStore::connect(&PgConfig::from_env()?).await?;
//! store.migrate().await?;
//! # Ok(()) }
//! ```

mod cart;
mod catalog;
mod config;
mod error;
mod orders;
mod outbox;
mod processed_events;
mod refresh_tokens;
mod reviews;
mod rows;
mod users;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use shop_core::{Result, StoreHealth, Timestamp};
use sqlx::postgres::{PgPool, PgPoolOptions};
use tracing::instrument;

pub use config::PgConfig;
use error::TxResult;

/// Appends ` AND (column OP value OR (column = value AND id OP id))`: "after this key" in a
/// keyset page. `op` is `">"` for ascending order, `"<"` for descending.
fn push_keyset<'a, T>(
    qb: &mut sqlx::QueryBuilder<'a, sqlx::Postgres>,
    column: &str,
    op: &str,
    value: T,
    id: uuid::Uuid,
) where
    T: 'a + Clone + Send + sqlx::Encode<'a, sqlx::Postgres> + sqlx::Type<sqlx::Postgres>,
{
    qb.push(format_args!(" AND ({column} {op} "))
        .push_bind(value.clone())
        .push(format_args!(" OR ({column} = "))
        .push_bind(value)
        .push(format_args!(" AND id {op} "))
        .push_bind(id)
        .push("))");
}

/// Rows one retention `DELETE` removes at most.
const PURGE_BATCH: i64 = 1000;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// Every shop-core store trait on PostgreSQL 13+.
#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
    max_attempts: u32,
    /// The relay's wake-ups (`OutboxStore::wait_for_events`), on a connection of their own.
    notifications: Arc<tokio::sync::Mutex<outbox::Notifications>>,
}

/// The configuration variables a connection failure names.
const VARIABLES: crate::sql::Variables = crate::sql::Variables {
    url: "DATABASE_URL",
    host_port: "PGHOST/PGPORT",
    database: "PGDATABASE",
    account: "PGUSER/PGPASSWORD",
    tls: "DATABASE_URL (sslmode)",
};

impl PgStore {
    /// Opens a connection pool and checks that the server answers.
    ///
    /// # Errors
    /// [`Error::Unavailable`](shop_core::Error::Unavailable) when the server cannot be reached.
    #[instrument(skip(config), fields(target = %config.redacted_target()))]
    pub async fn connect(config: &PgConfig) -> Result<Self> {
        let options = config.connect_options()?;
        let pool = PgPoolOptions::new()
            .max_connections(config.max_connections)
            .min_connections(0)
            .acquire_timeout(config.acquire_timeout)
            .idle_timeout(Some(Duration::from_secs(300)))
            .test_before_acquire(true)
            .connect_with(options.clone())
            .await;
        let pool = match pool {
            Ok(pool) => pool,
            Err(e) => {
                let target = config.redacted_target();
                let within = config.acquire_timeout;
                let explained =
                    crate::sql::explain(e, &options, within, target, error::refusal, &VARIABLES);
                return Err(explained.await);
            }
        };
        Ok(Self {
            pool,
            max_attempts: config.transaction_retries.saturating_add(1),
            notifications: Arc::new(tokio::sync::Mutex::new(outbox::Notifications::new(options))),
        })
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

    /// Deletes the rows of `table` that match `condition` (SQL with at most one parameter,
    /// `$1`, bound to `cutoff`) in batches of [`PURGE_BATCH`] until one deletes fewer: each
    /// batch is a short transaction with short row locks, however much has piled up.
    async fn purge_in_batches(
        &self,
        table: &str,
        condition: &str,
        cutoff: Option<Timestamp>,
    ) -> Result<u64> {
        // PostgreSQL's DELETE has no LIMIT: pick the batch's rows by their physical address.
        let sql = format!(
            "DELETE FROM {table} WHERE ctid = ANY(ARRAY(\
             SELECT ctid FROM {table} WHERE {condition} LIMIT {PURGE_BATCH}))"
        );
        let mut total = 0;
        loop {
            let deleted = self
                .retrying("purge", || async {
                    let mut query = sqlx::query(&sql);
                    if let Some(cutoff) = cutoff {
                        query = query.bind(cutoff);
                    }
                    Ok(query.execute(&self.pool).await?.rows_affected())
                })
                .await?;
            total += deleted;
            if deleted < PURGE_BATCH.unsigned_abs() {
                return Ok(total);
            }
        }
    }

    /// Runs `op` (one whole transaction), running it again while the server reports a lost
    /// race (see `crate::sql::retrying`).
    async fn retrying<T, F, Fut>(&self, what: &'static str, op: F) -> Result<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = TxResult<T>>,
    {
        crate::sql::retrying(self.max_attempts, what, op).await
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
