//! Opening the configured backends (once each, however many roles one plays), closing them,
//! and the `migrate` subcommand.

use std::collections::HashMap;
use std::sync::Arc;

use shop_core::ShopStore;
use shop_store::MemoryStore;
use shop_store::mongodb::MongoStore;
use shop_store::mysql::MySqlStore;
use shop_store::postgres::PgStore;
use tracing::info;

use crate::config::{AppConfig, Backend};

/// A failure after configuration was accepted (a dependency down, a port taken).
pub(crate) type Failure = Box<dyn std::error::Error + Send + Sync>;

/// One opened backend and how to close it.
pub(crate) struct Opened {
    pub(crate) store: Arc<dyn ShopStore>,
    mysql: Option<MySqlStore>,
    postgres: Option<PgStore>,
    mongo: Option<MongoStore>,
}

async fn open(backend: Backend, config: &AppConfig) -> Result<Opened, Failure> {
    Ok(match backend {
        Backend::Memory => Opened {
            store: Arc::new(MemoryStore::new()),
            mysql: None,
            postgres: None,
            mongo: None,
        },
        Backend::MySql => {
            let cfg = config.mysql.as_ref().ok_or("MySQL is not configured")?;
            info!(server = ?cfg, "connecting to MySQL");
            let store = MySqlStore::connect(cfg).await?;
            store.migrate().await?;
            Opened {
                store: Arc::new(store.clone()),
                mysql: Some(store),
                postgres: None,
                mongo: None,
            }
        }
        Backend::Postgres => {
            let cfg = config
                .postgres
                .as_ref()
                .ok_or("PostgreSQL is not configured")?;
            info!(server = ?cfg, "connecting to PostgreSQL");
            let store = PgStore::connect(cfg).await?;
            store.migrate().await?;
            Opened {
                store: Arc::new(store.clone()),
                mysql: None,
                postgres: Some(store),
                mongo: None,
            }
        }
        Backend::MongoDb => {
            let cfg = config.mongodb.as_ref().ok_or("MongoDB is not configured")?;
            info!(server = ?cfg, "connecting to MongoDB");
            // The driver connects lazily: creating the indexes is the first round trip.
            let store = MongoStore::connect(cfg).await.map_err(mongo_failure)?;
            store.ensure_indexes().await.map_err(mongo_failure)?;
            Opened {
                store: Arc::new(store.clone()),
                mysql: None,
                postgres: None,
                mongo: Some(store),
            }
        }
    })
}

/// A MongoDB start-up failure with what to check (the driver's own text names the address and
/// the network's or the server's answer).
#[allow(clippy::needless_pass_by_value)] // the shape `map_err` calls
fn mongo_failure(e: shop_core::Error) -> Failure {
    format!(
        "cannot use MongoDB: {}; check that the server is running and reachable at the \
         address in MONGODB_URI, and the credentials there",
        shop_core::error::causes(&e)
    )
    .into()
}

/// Opens (and migrates) each configured backend once, however many roles it plays.
pub(crate) async fn open_all(config: &AppConfig) -> Result<HashMap<Backend, Opened>, Failure> {
    let mut opened: HashMap<Backend, Opened> = HashMap::new();
    for backend in [config.store, config.users_store, config.reviews_store] {
        if let std::collections::hash_map::Entry::Vacant(slot) = opened.entry(backend) {
            slot.insert(open(backend, config).await?);
        }
    }
    Ok(opened)
}

pub(crate) async fn close_all(opened: HashMap<Backend, Opened>) {
    for o in opened.into_values() {
        if let Some(s) = o.mysql {
            s.close().await;
        }
        if let Some(s) = o.postgres {
            s.close().await;
        }
        if let Some(s) = o.mongo {
            s.close().await;
        }
    }
}

/// The `migrate` subcommand: applies MySQL and PostgreSQL migrations and creates MongoDB
/// indexes for every
/// configured backend, then exits (for a deploy step or init container; `run` does the same
/// at start-up, so it is optional).
pub(crate) async fn migrate(config: AppConfig) -> Result<(), Failure> {
    let opened = open_all(&config).await?;
    let backends: Vec<String> = opened.keys().map(|b| format!("{b:?}")).collect();
    close_all(opened).await;
    info!(?backends, "schema is up to date");
    Ok(())
}
