//! The MongoDB adapter (feature `mongodb`), built on the official driver.
//!
//! Checkout records the idempotency key (or reads the earlier one) with one upsert, claims
//! the cart with one `findOneAndUpdate`, reads the products, lets
//! [`shop_core::checkout::decide`] decide, and sets every product's stock with one pipeline
//! update; snapshot isolation makes a product changed meanwhile a write conflict, and the
//! whole transaction is retried.
//!
//! Checkout, cancel and every catalog write are multi-document transactions run through the
//! driver's convenient-transaction helper, which retries on `TransientTransactionError` and
//! re-commits on `UnknownTransactionCommitResult`. **Transactions need a replica set**: a
//! production MongoDB must run as one (a single-node replica set is fine); a standalone
//! `mongod` rejects them.
//!
//! Collections: `products`, `carts` (one document per user, lines embedded, versioned),
//! `orders` (lines embedded), `idempotency_keys`, `outbox`, `counters`, `reviews`, `users`,
//! `refresh_tokens`, `processed_events`. Call [`MongoStore::ensure_indexes`] at start-up; it is idempotent.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use shop_store::mongodb::{MongoConfig, MongoStore};
//!
//! let store = MongoStore::connect(&MongoConfig::from_env()?).await?;
//! store.ensure_indexes().await?;
//! # Ok(()) }
//! ```

/// The longest a transaction keeps retrying, as in the driver's own convenient-transaction API.
const MAX_TRANSACTION_TIME: std::time::Duration = std::time::Duration::from_secs(120);

/// Runs `$body` (an `async` block using `$s: &mut ClientSession` and evaluating to a driver
/// `Result`) as one transaction, with the driver's retry rules: an error labelled
/// `TransientTransactionError` reruns the whole transaction after a jittered backoff; a commit
/// labelled `UnknownTransactionCommitResult` is committed again; both within two minutes.
/// Domain errors raised inside (via `error::carry`) end it at once and come back unchanged.
///
/// A macro rather than the driver's `and_run2` helper: futures of higher-ranked async closures
/// are not yet provably `Send`, which the store traits require.
macro_rules! in_transaction {
    ($store:expr, $s:ident => $body:expr) => {{
        use ::mongodb::error::{TRANSIENT_TRANSACTION_ERROR, UNKNOWN_TRANSACTION_COMMIT_RESULT};
        let started = ::std::time::Instant::now();
        let mut session = $store
            .client
            .start_session()
            .await
            .map_err($crate::mongodb::error::map)?;
        let mut attempt: u32 = 0;
        'transaction: loop {
            attempt += 1;
            session
                .start_transaction()
                .await
                .map_err($crate::mongodb::error::map)?;
            let result: ::mongodb::error::Result<_> = {
                let $s = &mut session;
                $body.await
            };
            let in_time = started.elapsed() < $crate::mongodb::MAX_TRANSACTION_TIME;
            match result {
                Err(e) => {
                    // The server may have aborted it already; a failed abort changes nothing.
                    let _ = session.abort_transaction().await;
                    if e.contains_label(TRANSIENT_TRANSACTION_ERROR) && in_time {
                        ::tokio::time::sleep($crate::rules::full_jitter_backoff(attempt)).await;
                        continue 'transaction;
                    }
                    break Err($crate::mongodb::error::map(e));
                }
                Ok(value) => loop {
                    match session.commit_transaction().await {
                        Ok(()) => break 'transaction Ok(value),
                        Err(e)
                            if e.contains_label(UNKNOWN_TRANSACTION_COMMIT_RESULT)
                                && started.elapsed() < $crate::mongodb::MAX_TRANSACTION_TIME => {}
                        Err(e)
                            if e.contains_label(TRANSIENT_TRANSACTION_ERROR)
                                && started.elapsed() < $crate::mongodb::MAX_TRANSACTION_TIME =>
                        {
                            ::tokio::time::sleep($crate::rules::full_jitter_backoff(attempt)).await;
                            continue 'transaction;
                        }
                        Err(e) => break 'transaction Err($crate::mongodb::error::map(e)),
                    }
                },
            }
        }
    }};
}

mod cart;
mod catalog;
mod config;
mod docs;
mod error;
mod orders;
mod outbox;
mod processed_events;
mod refresh_tokens;
mod reviews;
mod users;

use ::mongodb::bson::{Document, doc};
use ::mongodb::options::{ClientOptions, IndexOptions, ReturnDocument};
use ::mongodb::{Client, Collection, Database, IndexModel};
use async_trait::async_trait;
use futures::TryStreamExt;
use shop_core::secret::ExposeSecret as _;
use shop_core::{Error, Result, StoreHealth};
use tracing::instrument;

pub use config::MongoConfig;
use error::map;

/// Every shop-core store trait on MongoDB (a replica set, for transactions).
#[derive(Debug, Clone)]
pub struct MongoStore {
    client: Client,
    db: Database,
}

impl MongoStore {
    /// Connects and checks that the server answers.
    ///
    /// # Errors
    /// [`Error::Unavailable`] when no server can be reached in time.
    #[instrument(skip(config), fields(database = %config.database))]
    pub async fn connect(config: &MongoConfig) -> Result<Self> {
        let mut options = ClientOptions::parse(config.uri.expose_secret())
            .await
            .map_err(Error::unavailable)?;
        options.app_name = Some("shop".into());
        options.server_selection_timeout = Some(config.timeout);
        options.connect_timeout = Some(config.timeout);
        let client = Client::with_options(options).map_err(Error::unavailable)?;
        let store = Self {
            db: client.database(&config.database),
            client,
        };
        store.ping().await?;
        Ok(store)
    }

    /// Creates the indexes the adapter relies on: unique SKU, slug, email, review author and
    /// (through `_id`) idempotency key; compound indexes serving the catalog, order, review and
    /// outbox queries; single-field indexes for the retention purges. Idempotent: safe at every start.
    ///
    /// # Errors
    /// Store errors.
    pub async fn ensure_indexes(&self) -> Result<()> {
        let index = |keys: Document, name: &str, unique: bool| {
            IndexModel::builder()
                .keys(keys)
                .options(
                    IndexOptions::builder()
                        .name(name.to_owned())
                        .unique(unique)
                        .build(),
                )
                .build()
        };
        let plan: [(&str, Vec<IndexModel>); 8] = [
            (
                "products",
                vec![
                    index(doc! { "sku": 1 }, "uq_sku", true),
                    index(doc! { "slug": 1 }, "uq_slug", true),
                    index(doc! { "name": 1, "_id": 1 }, "ix_name", false),
                    index(doc! { "price_minor": 1, "_id": 1 }, "ix_price", false),
                    index(doc! { "created_at": -1, "_id": -1 }, "ix_created", false),
                ],
            ),
            (
                "orders",
                vec![
                    index(doc! { "created_at": -1, "_id": -1 }, "ix_created", false),
                    index(
                        doc! { "user_id": 1, "created_at": -1, "_id": -1 },
                        "ix_user_created",
                        false,
                    ),
                    index(
                        doc! { "status": 1, "created_at": -1, "_id": -1 },
                        "ix_status_created",
                        false,
                    ),
                ],
            ),
            (
                "outbox",
                vec![
                    index(doc! { "published": 1, "_id": 1 }, "ix_pending", false),
                    index(doc! { "published_at": 1 }, "ix_published_at", false),
                ],
            ),
            (
                "idempotency_keys",
                vec![index(doc! { "created_at": 1 }, "ix_created", false)],
            ),
            (
                "processed_events",
                vec![
                    index(doc! { "processed_at": 1 }, "ix_processed_at", false),
                    index(doc! { "claim_until": 1 }, "ix_claim_until", false),
                ],
            ),
            (
                "reviews",
                vec![
                    index(
                        doc! { "product_id": 1, "author_id": 1 },
                        "uq_review_author",
                        true,
                    ),
                    index(
                        doc! { "product_id": 1, "created_at": -1, "_id": -1 },
                        "ix_product_created",
                        false,
                    ),
                ],
            ),
            ("users", vec![index(doc! { "email": 1 }, "uq_email", true)]),
            (
                "refresh_tokens",
                vec![
                    index(doc! { "family_id": 1 }, "ix_family", false),
                    index(doc! { "user_id": 1 }, "ix_user", false),
                    index(doc! { "expires_at": 1 }, "ix_expires", false),
                    index(doc! { "revoked_at": 1 }, "ix_revoked", false),
                ],
            ),
        ];
        for (collection, models) in plan {
            self.col(collection)
                .create_indexes(models)
                .await
                .map_err(map)?;
        }
        Ok(())
    }

    /// Drops the whole database (tests and teardown only).
    ///
    /// # Errors
    /// Store errors.
    pub async fn drop_database(&self) -> Result<()> {
        self.db.drop().await.map_err(map)
    }

    /// Closes every connection.
    pub async fn close(&self) {
        self.client.clone().shutdown().await;
    }

    fn col(&self, name: &str) -> Collection<Document> {
        self.db.collection(name)
    }

    /// One document of `collection` matching `filter`, converted.
    async fn find_one_as<T>(
        &self,
        collection: &str,
        filter: Document,
        convert: fn(&Document) -> Result<T>,
    ) -> Result<Option<T>> {
        self.col(collection)
            .find_one(filter)
            .await
            .map_err(map)?
            .map(|d| convert(&d))
            .transpose()
    }

    /// Up to `limit` documents of `collection` matching `filter` in `sort` order, converted.
    async fn find_as<T>(
        &self,
        collection: &str,
        filter: Document,
        sort: Option<Document>,
        limit: usize,
        convert: fn(&Document) -> Result<T>,
    ) -> Result<Vec<T>> {
        let limit = i64::try_from(limit).map_err(Error::internal)?;
        let found: Vec<Document> = self
            .col(collection)
            .find(filter)
            .with_options(
                ::mongodb::options::FindOptions::builder()
                    .sort(sort)
                    .limit(Some(limit))
                    .build(),
            )
            .await
            .map_err(map)?
            .try_collect()
            .await
            .map_err(map)?;
        found.iter().map(convert).collect()
    }

    /// Deletes every document of `collection` matching `filter`; returns how many. Each
    /// document's deletion is atomic, so racing purges delete each document once between them.
    async fn delete_where(&self, collection: &str, filter: Document) -> Result<u64> {
        self.col(collection)
            .delete_many(filter)
            .await
            .map(|r| r.deleted_count)
            .map_err(map)
    }

    /// Reserves `n` consecutive outbox positions; returns the first. Done outside any
    /// transaction so appends never conflict on the counter (positions of an aborted
    /// transaction are simply skipped).
    ///
    /// Why a shared counter at all, rather than positions made up locally (a clock and a
    /// random suffix, say): the relay publishes in position order, and an event caused by an
    /// earlier one (an order cancelled after it was placed, maybe by another replica) must
    /// come after it. A counter read after the earlier commit guarantees that; clocks of
    /// several replicas do not. Checkout hides the round trip by asking while it reads the
    /// products.
    async fn reserve_seqs(&self, n: usize) -> Result<u64> {
        let n = i64::try_from(n).map_err(Error::internal)?;
        let counter = self
            .col("counters")
            .find_one_and_update(doc! { "_id": "outbox" }, doc! { "$inc": { "seq": n } })
            .upsert(true)
            .return_document(ReturnDocument::After)
            .await
            .map_err(map)?
            .ok_or_else(|| Error::internal("outbox counter missing after upsert"))?;
        let last = docs::int(&counter, "seq", "outbox counter")?;
        u64::try_from(last - n + 1).map_err(Error::internal)
    }
}

/// Adds "created before (`at`, `last_id`)" to `filter`: the next page of a newest-first list.
fn newest_after(filter: &mut Document, at: shop_core::Timestamp, last_id: uuid::Uuid) {
    filter.insert(
        "$or",
        vec![
            doc! { "created_at": { "$lt": docs::date(at) } },
            doc! { "created_at": docs::date(at), "_id": { "$lt": docs::id(last_id) } },
        ],
    );
}

/// Newest first, ties by ID.
fn newest_first() -> Option<Document> {
    Some(doc! { "created_at": -1, "_id": -1 })
}

#[async_trait]
impl StoreHealth for MongoStore {
    #[tracing::instrument(level = "debug", skip_all, fields(db.system = "mongodb"))]
    async fn ping(&self) -> Result<()> {
        self.db
            .run_command(doc! { "ping": 1 })
            .await
            .map(drop)
            .map_err(map)
    }
}
