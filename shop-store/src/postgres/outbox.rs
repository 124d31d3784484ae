use std::time::Duration;

use async_trait::async_trait;
use shop_core::time::now;
use shop_core::{
    DomainEvent, OutboxClaim, OutboxRecord, OutboxStats, OutboxStore, Result, Timestamp,
};
use sqlx::postgres::{PgConnectOptions, PgConnection, PgListener, PgPoolOptions};
use sqlx::{Postgres, QueryBuilder, Row};
use tracing::warn;

use super::PgStore;
use super::error::{TxResult, map};
use super::rows::{self, OUTBOX_COLUMNS};

/// Appends events in order, inside the caller's transaction.
pub(super) async fn insert_events(conn: &mut PgConnection, events: &[DomainEvent]) -> TxResult<()> {
    if events.is_empty() {
        return Ok(());
    }
    let mut qb = QueryBuilder::<Postgres>::new(
        "INSERT INTO outbox (event_id, event_type, aggregate_id, occurred_at, payload, traceparent) ",
    );
    qb.push_values(events, |mut b, e| {
        b.push_bind(e.id.as_uuid())
            .push_bind(e.event_type.as_str())
            .push_bind(e.aggregate_id)
            .push_bind(e.occurred_at)
            .push_bind(e.payload.to_string())
            .push_bind(e.traceparent.as_deref());
    });
    qb.build().execute(&mut *conn).await?;
    Ok(())
}

/// The channel the outbox's insert trigger notifies (see the migrations).
const CHANNEL: &str = "shop_outbox";

/// A listening connection, opened on first use and again after it fails.
#[derive(Debug)]
pub(super) struct Notifications {
    /// One connection, made only when a relay first waits (a pool that reconnects for us).
    pool: sqlx::PgPool,
    listener: Option<PgListener>,
}

impl Notifications {
    pub(super) fn new(options: PgConnectOptions) -> Self {
        Self {
            pool: PgPoolOptions::new()
                .max_connections(1)
                .connect_lazy_with(options),
            listener: None,
        }
    }

    /// Waits for a notification or `within`; `false` when no connection can listen.
    async fn wait(&mut self, within: Duration) -> bool {
        if self.listener.is_none() {
            let listening = async {
                let mut listener = PgListener::connect_with(&self.pool).await?;
                listener.listen(CHANNEL).await?;
                Ok::<_, sqlx::Error>(listener)
            };
            match listening.await {
                Ok(l) => self.listener = Some(l),
                Err(e) => {
                    warn!(error = %e, "cannot LISTEN for outbox events; the relay polls");
                    return false;
                }
            }
        }
        let Some(listener) = self.listener.as_mut() else {
            return false;
        };
        match tokio::time::timeout(within, listener.recv()).await {
            // A notification, or the time is up: either way the relay polls now. The
            // listener stays open, so one committed while the relay works is kept for it.
            Ok(Ok(_)) | Err(_) => true,
            Ok(Err(e)) => {
                warn!(error = %e, "outbox notifications lost; listening again");
                self.listener = None;
                false
            }
        }
    }
}

/// Outbox positions as the schema keeps them (`bigint`, never negative).
fn positions(seqs: &[u64]) -> Vec<i64> {
    seqs.iter()
        .map(|s| i64::try_from(*s).unwrap_or(i64::MAX))
        .collect()
}

impl PgStore {
    async fn append_once(&self, events: &[DomainEvent]) -> TxResult<()> {
        let mut conn = self.pool.acquire().await?;
        insert_events(&mut conn, events).await
    }

    async fn claim_once(&self, claim: &OutboxClaim) -> TxResult<Vec<OutboxRecord>> {
        let mut tx = self.pool.begin().await?;
        // SKIP LOCKED: a relay never waits for rows another relay is claiming right now.
        let seqs: Vec<i64> = sqlx::query_scalar(
            "SELECT seq FROM outbox WHERE published_at IS NULL \
             AND (claim_until IS NULL OR claim_until <= $1 OR claimed_by = $2) \
             ORDER BY seq LIMIT $3 FOR UPDATE SKIP LOCKED",
        )
        .bind(claim.now)
        .bind(&claim.claimant)
        .bind(i64::try_from(claim.limit).unwrap_or(i64::MAX))
        .fetch_all(&mut *tx)
        .await?;
        if seqs.is_empty() {
            tx.commit().await?;
            return Ok(Vec::new());
        }
        // One statement claims the rows and returns them; RETURNING has no order of its own.
        let sql = format!(
            "UPDATE outbox SET claimed_by = $1, claim_until = $2 WHERE seq = ANY($3) \
             RETURNING {OUTBOX_COLUMNS}"
        );
        let mut records = sqlx::query(&sql)
            .bind(&claim.claimant)
            .bind(claim.lease_until)
            .bind(&seqs)
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(rows::outbox_record)
            .collect::<shop_core::Result<Vec<_>>>()?;
        records.sort_unstable_by_key(|r| r.seq);
        tx.commit().await?;
        Ok(records)
    }
}

#[async_trait]
impl OutboxStore for PgStore {
    #[tracing::instrument(level = "debug", skip_all, fields(db.system = "postgresql"))]
    async fn append_events(&self, events: &[DomainEvent]) -> Result<()> {
        self.retrying("append_events", || self.append_once(events))
            .await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(db.system = "postgresql"))]
    async fn claim_events(&self, claim: &OutboxClaim) -> Result<Vec<OutboxRecord>> {
        self.retrying("claim_events", || self.claim_once(claim))
            .await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(db.system = "postgresql"))]
    async fn mark_published(&self, seqs: &[u64]) -> Result<()> {
        if seqs.is_empty() {
            return Ok(());
        }
        sqlx::query(
            "UPDATE outbox SET published_at = $1, claimed_by = NULL, claim_until = NULL \
             WHERE published_at IS NULL AND seq = ANY($2)",
        )
        .bind(now())
        .bind(positions(seqs))
        .execute(&self.pool)
        .await
        .map_err(map)?;
        Ok(())
    }

    #[tracing::instrument(level = "debug", skip_all, fields(db.system = "postgresql"))]
    async fn outbox_stats(&self) -> Result<OutboxStats> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS pending, MIN(occurred_at) AS oldest \
             FROM outbox WHERE published_at IS NULL",
        )
        .fetch_one(&self.pool)
        .await
        .map_err(map)?;
        Ok(OutboxStats {
            pending: row
                .try_get::<i64, _>("pending")
                .map_err(map)?
                .unsigned_abs(),
            oldest_pending_at: row.try_get("oldest").map_err(map)?,
        })
    }

    async fn wait_for_events(&self, within: Duration) -> bool {
        // Several relays of one process share the connection; one waits on it, the others
        // sleep their interval as they would without notifications.
        match self.notifications.try_lock() {
            Ok(mut notifications) => notifications.wait(within).await,
            Err(_) => false,
        }
    }

    #[tracing::instrument(level = "debug", skip_all, fields(db.system = "postgresql"))]
    async fn purge_published_events(&self, published_before: Timestamp) -> Result<u64> {
        // NULL (unpublished) never compares below a date: pending events cannot match.
        self.purge_in_batches("outbox", "published_at < $1", Some(published_before))
            .await
    }
}
