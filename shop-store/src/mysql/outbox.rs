use async_trait::async_trait;
use shop_core::time::now;
use shop_core::{
    DomainEvent, OutboxClaim, OutboxRecord, OutboxStats, OutboxStore, Result, Timestamp,
};
use sqlx::mysql::MySqlConnection;
use sqlx::{MySql, QueryBuilder, Row};

use super::MySqlStore;
use super::error::{TxResult, map};
use super::rows::{self, OUTBOX_COLUMNS};

/// Appends events in order, inside the caller's transaction.
pub(super) async fn insert_events(
    conn: &mut MySqlConnection,
    events: &[DomainEvent],
) -> TxResult<()> {
    if events.is_empty() {
        return Ok(());
    }
    let mut qb = QueryBuilder::<MySql>::new(
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

fn seq_list<'a>(qb: &mut QueryBuilder<'a, MySql>, seqs: &'a [u64]) {
    let mut list = qb.separated(", ");
    for s in seqs {
        list.push_bind(*s);
    }
    qb.push(")");
}

impl MySqlStore {
    async fn append_once(&self, events: &[DomainEvent]) -> TxResult<()> {
        let mut conn = self.pool.acquire().await?;
        insert_events(&mut conn, events).await
    }

    async fn claim_once(&self, claim: &OutboxClaim) -> TxResult<Vec<OutboxRecord>> {
        let mut tx = self.pool.begin().await?;
        // SKIP LOCKED: a relay never waits for rows another relay is claiming right now.
        let seqs: Vec<u64> = sqlx::query_scalar(
            "SELECT seq FROM outbox WHERE published_at IS NULL \
             AND (claim_until IS NULL OR claim_until <= ? OR claimed_by = ?) \
             ORDER BY seq LIMIT ? FOR UPDATE SKIP LOCKED",
        )
        .bind(claim.now)
        .bind(&claim.claimant)
        .bind(claim.limit as u64)
        .fetch_all(&mut *tx)
        .await?;
        if seqs.is_empty() {
            tx.commit().await?;
            return Ok(Vec::new());
        }
        let mut qb = QueryBuilder::<MySql>::new("UPDATE outbox SET claimed_by = ");
        qb.push_bind(&claim.claimant)
            .push(", claim_until = ")
            .push_bind(claim.lease_until)
            .push(" WHERE seq IN (");
        seq_list(&mut qb, &seqs);
        qb.build().execute(&mut *tx).await?;
        let mut qb = QueryBuilder::<MySql>::new(format!(
            "SELECT {OUTBOX_COLUMNS} FROM outbox WHERE seq IN ("
        ));
        seq_list(&mut qb, &seqs);
        qb.push(" ORDER BY seq");
        let records = qb
            .build()
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(rows::outbox_record)
            .collect::<shop_core::Result<Vec<_>>>()?;
        tx.commit().await?;
        Ok(records)
    }
}

#[async_trait]
impl OutboxStore for MySqlStore {
    #[tracing::instrument(level = "debug", skip_all, fields(db.system = "mysql"))]
    async fn append_events(&self, events: &[DomainEvent]) -> Result<()> {
        self.retrying("append_events", || self.append_once(events))
            .await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(db.system = "mysql"))]
    async fn claim_events(&self, claim: &OutboxClaim) -> Result<Vec<OutboxRecord>> {
        self.retrying("claim_events", || self.claim_once(claim))
            .await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(db.system = "mysql"))]
    async fn mark_published(&self, seqs: &[u64]) -> Result<()> {
        if seqs.is_empty() {
            return Ok(());
        }
        let mut qb = QueryBuilder::<MySql>::new("UPDATE outbox SET published_at = ");
        qb.push_bind(now()).push(
            ", claimed_by = NULL, claim_until = NULL WHERE published_at IS NULL AND seq IN (",
        );
        seq_list(&mut qb, seqs);
        qb.build().execute(&self.pool).await.map_err(map)?;
        Ok(())
    }

    #[tracing::instrument(level = "debug", skip_all, fields(db.system = "mysql"))]
    async fn outbox_stats(&self) -> Result<OutboxStats> {
        let row = sqlx::query(
            "SELECT CAST(COUNT(*) AS UNSIGNED) AS pending, MIN(occurred_at) AS oldest \
             FROM outbox WHERE published_at IS NULL",
        )
        .fetch_one(&self.pool)
        .await
        .map_err(map)?;
        Ok(OutboxStats {
            pending: row.try_get("pending").map_err(map)?,
            oldest_pending_at: row.try_get("oldest").map_err(map)?,
        })
    }

    #[tracing::instrument(level = "debug", skip_all, fields(db.system = "mysql"))]
    async fn purge_published_events(&self, published_before: Timestamp) -> Result<u64> {
        // NULL (unpublished) never compares below a date: pending events cannot match.
        self.purge_in_batches(
            "DELETE FROM outbox WHERE published_at < ?",
            Some(published_before),
        )
        .await
    }
}
