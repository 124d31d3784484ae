//! The MySQL / MariaDB adapter (feature `mysql`), built on sqlx.
//!
//! Every write that must be atomic is one InnoDB transaction. Checkout records the idempotency
//! key (a duplicate means a replay), locks the user's cart row, its lines and their products
//! in ID order with one `SELECT … FOR UPDATE` (so two checkouts can never deadlock each other
//! on the same products), lets [`shop_core::checkout::decide`] decide, and writes the stock
//! (one `UPDATE`), the order, its lines, the cleared cart and the outbox rows (multi-row
//! inserts) before one `COMMIT`. Connections run at READ COMMITTED, so no gap locks: different users' carts and
//! checkouts never lock each other. Deadlocks and lock-wait timeouts are retried a bounded number of times with
//! jittered backoff; every other failure rolls back and surfaces as a typed
//! [`shop_core::Error`]. Only parameterised queries are used.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use shop_store::mysql::{MySqlConfig, MySqlStore};
//!
//! let store = MySqlStore::connect(&MySqlConfig::from_env()?).await?;
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
use std::time::Duration;

use async_trait::async_trait;
use shop_core::{Result, StoreHealth, Timestamp};
use sqlx::Executor;
use sqlx::mysql::{MySqlConnectOptions, MySqlPool, MySqlPoolOptions};
use tracing::instrument;

pub use config::MySqlConfig;
use error::TxResult;

/// Appends ` AND (column OP value OR (column = value AND id OP id))`: "after this key" in a
/// keyset page. Written as OR/AND, not a row comparison, so the `(column, id)` index serves it
/// on MySQL and MariaDB alike. `op` is `">"` for ascending order, `"<"` for descending.
fn push_keyset<'a, T>(
    qb: &mut sqlx::QueryBuilder<'a, sqlx::MySql>,
    column: &str,
    op: &str,
    value: T,
    id: uuid::Uuid,
) where
    T: 'a + Clone + Send + sqlx::Encode<'a, sqlx::MySql> + sqlx::Type<sqlx::MySql>,
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
const PURGE_BATCH: u64 = 1000;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/mysql");

/// Every shop-core store trait on MySQL 8 or MariaDB 10.11+.
#[derive(Debug, Clone)]
pub struct MySqlStore {
    pool: MySqlPool,
    max_attempts: u32,
}

/// The configuration variables a connection failure names.
const VARIABLES: crate::sql::Variables = crate::sql::Variables {
    url: "MYSQL_URL",
    host_port: "MYSQL_HOST/MYSQL_PORT",
    database: "MYSQL_DATABASE",
    account: "MYSQL_USER/MYSQL_PASSWORD",
    tls: "MYSQL_URL (ssl-mode)",
};

impl MySqlStore {
    /// Opens a connection pool and checks that the server answers.
    ///
    /// # Errors
    /// [`Error::Unavailable`](shop_core::Error::Unavailable) when the server cannot be reached.
    #[instrument(skip(config), fields(target = %config.redacted_target()))]
    pub async fn connect(config: &MySqlConfig) -> Result<Self> {
        let options: MySqlConnectOptions = config.connect_options()?;
        let pool = MySqlPoolOptions::new()
            .max_connections(config.max_connections)
            .min_connections(0)
            .acquire_timeout(config.acquire_timeout)
            .idle_timeout(Some(Duration::from_secs(300)))
            .test_before_acquire(true)
            // READ COMMITTED: no gap locks. Under REPEATABLE READ, `DELETE FROM cart_lines
            // WHERE user_id = ?` gap-locks the neighbouring users' key range, so two users
            // rewriting their carts deadlock on each other's inserts. Every invariant here
            // rests on row locks (cart row, product rows in ID order) and unique keys, which
            // READ COMMITTED keeps.
            .after_connect(|conn, _| {
                Box::pin(async move {
                    conn.execute("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED")
                        .await
                        .map(drop)
                })
            })
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
            max_attempts: config.deadlock_retries.saturating_add(1),
        })
    }

    /// Creates or upgrades the schema (embedded migrations; safe to run on every start).
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

    /// Runs `delete` (a `DELETE … WHERE …` with at most one `?`, bound to `cutoff`) in batches
    /// of [`PURGE_BATCH`] rows until one deletes fewer: each batch is a short transaction with
    /// short row locks, however much has piled up. Returns how many rows went.
    async fn purge_in_batches(&self, delete: &str, cutoff: Option<Timestamp>) -> Result<u64> {
        let sql = format!("{delete} LIMIT {PURGE_BATCH}");
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
            if deleted < PURGE_BATCH {
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
impl StoreHealth for MySqlStore {
    #[tracing::instrument(level = "debug", skip_all, fields(db.system = "mysql"))]
    async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map(drop)
            .map_err(error::map)
    }
}
