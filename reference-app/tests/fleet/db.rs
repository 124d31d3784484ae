//! The fleet's database, read and aged behind the replicas' backs, in either SQL dialect: the
//! invariant queries are written per dialect here, and the few expressions the tests splice
//! into their own statements (an ID, a fresh ID, a moment) come from [`FleetDb`].

#![allow(unreachable_pub, dead_code)] // test support, shared by the tests of this binary

use std::collections::HashMap;

use sqlx::{Connection, Executor, MySqlConnection, PgConnection, Row};
use uuid::Uuid;

/// Which store the fleet's replicas run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FleetStore {
    MySql,
    Postgres,
}

impl FleetStore {
    /// The name `scripts/fleet up --store` and `SHOP_STORE` take.
    pub fn name(self) -> &'static str {
        match self {
            Self::MySql => "mysql",
            Self::Postgres => "postgres",
        }
    }
}

/// A connection to the fleet's database.
pub enum FleetDb {
    MySql(MySqlConnection),
    Postgres(PgConnection),
}

impl FleetDb {
    pub async fn connect(store: FleetStore, url: &str) -> Self {
        match store {
            FleetStore::MySql => Self::MySql(MySqlConnection::connect(url).await.unwrap()),
            FleetStore::Postgres => Self::Postgres(PgConnection::connect(url).await.unwrap()),
        }
    }

    /// Runs a statement; panics on failure.
    pub async fn execute(&mut self, sql: &str) {
        match self {
            Self::MySql(c) => c.execute(sql).await.map(drop),
            Self::Postgres(c) => c.execute(sql).await.map(drop),
        }
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    /// The one `COUNT(*)` a query selects.
    pub async fn count(&mut self, sql: &str) -> i64 {
        match self {
            Self::MySql(c) => sqlx::query_scalar(sql).fetch_one(c).await,
            Self::Postgres(c) => sqlx::query_scalar(sql).fetch_one(c).await,
        }
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    /// An ID column's literal for `uuid` (MySQL keeps IDs as `BINARY(16)`).
    pub fn id(&self, uuid: &str) -> String {
        let uuid = Uuid::parse_str(uuid).unwrap();
        match self {
            Self::MySql(_) => format!("UNHEX('{}')", uuid.simple()),
            Self::Postgres(_) => format!("'{uuid}'::uuid"),
        }
    }

    /// An expression for a new random ID.
    pub fn new_id(&self) -> &'static str {
        match self {
            Self::MySql(_) => "UNHEX(REPLACE(UUID(), '-', ''))",
            Self::Postgres(_) => "gen_random_uuid()",
        }
    }

    /// An expression for now plus `seconds` (negative: in the past), at the columns' precision.
    pub fn now_plus(&self, seconds: i64) -> String {
        match self {
            Self::MySql(_) => format!("(NOW(3) + INTERVAL {seconds} SECOND)"),
            Self::Postgres(_) => format!("(now() + make_interval(secs => {seconds}))"),
        }
    }

    /// Rows of (ID as text, count), keyed by the parsed ID.
    async fn counts_by_id(&mut self, mysql: &str, postgres: &str) -> HashMap<Uuid, i64> {
        let rows = match self {
            Self::MySql(c) => sqlx::query(mysql)
                .fetch_all(c)
                .await
                .unwrap()
                .iter()
                .map(|r| (r.get::<String, _>(0), r.get::<i64, _>(1)))
                .collect::<Vec<_>>(),
            Self::Postgres(c) => sqlx::query(postgres)
                .fetch_all(c)
                .await
                .unwrap()
                .iter()
                .map(|r| (r.get::<String, _>(0), r.get::<i64, _>(1)))
                .collect(),
        };
        rows.into_iter()
            .map(|(id, n)| (Uuid::parse_str(&id).unwrap(), n))
            .collect()
    }

    /// Units of each product in orders that are not cancelled.
    pub async fn ordered_units(&mut self) -> HashMap<Uuid, i64> {
        self.counts_by_id(
            "SELECT HEX(l.product_id), CAST(SUM(l.quantity) AS SIGNED) \
             FROM order_lines l JOIN orders o ON o.id = l.order_id \
             WHERE o.status <> 'cancelled' GROUP BY l.product_id",
            "SELECT l.product_id::text, SUM(l.quantity)::bigint \
             FROM order_lines l JOIN orders o ON o.id = l.order_id \
             WHERE o.status <> 'cancelled' GROUP BY l.product_id",
        )
        .await
    }

    /// Orders each user placed.
    pub async fn orders_by_user(&mut self) -> HashMap<Uuid, i64> {
        self.counts_by_id(
            "SELECT HEX(user_id), COUNT(*) FROM orders GROUP BY user_id",
            "SELECT user_id::text, COUNT(*) FROM orders GROUP BY user_id",
        )
        .await
    }

    /// Orders with no `order.placed` event in the outbox.
    pub async fn orders_without_event(&mut self) -> i64 {
        self.count(
            "SELECT COUNT(*) FROM orders o WHERE NOT EXISTS (SELECT 1 FROM outbox e \
             WHERE e.aggregate_id = o.id AND e.event_type = 'order.placed')",
        )
        .await
    }

    /// Events the relays have not published yet.
    pub async fn pending_events(&mut self) -> i64 {
        self.count("SELECT COUNT(*) FROM outbox WHERE published_at IS NULL")
            .await
    }
}
