//! Consumers' processed-event records. Each step is one conditional statement, so racing
//! claimants are decided by the row itself: the primary key lets exactly one INSERT win
//! (`ON CONFLICT DO NOTHING` inserts nothing for the others), and a takeover UPDATE matches
//! only while the claim is free.

use async_trait::async_trait;
use shop_core::{
    EventId, ProcessedEventStore, ProcessingClaim, ProcessingState, Result, Timestamp,
};
use sqlx::Row;

use super::PgStore;
use super::error::map;

#[async_trait]
impl ProcessedEventStore for PgStore {
    #[tracing::instrument(level = "debug", skip_all, fields(db.system = "postgresql"))]
    async fn claim_processing(&self, claim: &ProcessingClaim) -> Result<ProcessingState> {
        let event_id = claim.event_id.as_uuid();
        let inserted = sqlx::query(
            "INSERT INTO processed_events (consumer, event_id, claimed_by, claim_until) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (consumer, event_id) DO NOTHING",
        )
        .bind(&claim.consumer)
        .bind(event_id)
        .bind(&claim.claimant)
        .bind(claim.lease_until)
        .execute(&self.pool)
        .await
        .map_err(map)?
        .rows_affected();
        if inserted == 1 {
            return Ok(ProcessingState::Claimed);
        }
        // An UPDATE counts the rows it matched, so renewing one's own claim with unchanged
        // values still counts.
        let taken = sqlx::query(
            "UPDATE processed_events SET claimed_by = $1, claim_until = $2 \
             WHERE consumer = $3 AND event_id = $4 AND processed_at IS NULL \
             AND (claim_until <= $5 OR claimed_by = $6)",
        )
        .bind(&claim.claimant)
        .bind(claim.lease_until)
        .bind(&claim.consumer)
        .bind(event_id)
        .bind(claim.now)
        .bind(&claim.claimant)
        .execute(&self.pool)
        .await
        .map_err(map)?
        .rows_affected();
        if taken == 1 {
            return Ok(ProcessingState::Claimed);
        }
        let row = sqlx::query(
            "SELECT processed_at, claim_until FROM processed_events \
             WHERE consumer = $1 AND event_id = $2",
        )
        .bind(&claim.consumer)
        .bind(event_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(map)?;
        let Some(row) = row else {
            // Released or purged between our statements: claim afresh.
            return Box::pin(self.claim_processing(claim)).await;
        };
        ProcessingState::of_unclaimable(
            row.try_get("processed_at").map_err(map)?,
            row.try_get("claim_until").map_err(map)?,
        )
    }

    #[tracing::instrument(level = "debug", skip_all, fields(db.system = "postgresql"))]
    async fn finish_processing(
        &self,
        consumer: &str,
        event_id: EventId,
        claimant: &str,
        at: Timestamp,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE processed_events SET processed_at = $1, claimed_by = NULL, claim_until = NULL \
             WHERE consumer = $2 AND event_id = $3 AND processed_at IS NULL AND claimed_by = $4",
        )
        .bind(at)
        .bind(consumer)
        .bind(event_id.as_uuid())
        .bind(claimant)
        .execute(&self.pool)
        .await
        .map_err(map)?
        .rows_affected();
        Ok(done == 1)
    }

    #[tracing::instrument(level = "debug", skip_all, fields(db.system = "postgresql"))]
    async fn release_processing(
        &self,
        consumer: &str,
        event_id: EventId,
        claimant: &str,
    ) -> Result<()> {
        sqlx::query(
            "DELETE FROM processed_events \
             WHERE consumer = $1 AND event_id = $2 AND processed_at IS NULL AND claimed_by = $3",
        )
        .bind(consumer)
        .bind(event_id.as_uuid())
        .bind(claimant)
        .execute(&self.pool)
        .await
        .map_err(map)?;
        Ok(())
    }

    #[tracing::instrument(level = "debug", skip_all, fields(db.system = "postgresql"))]
    async fn purge_processed_events(&self, before: Timestamp) -> Result<u64> {
        let done = self
            .purge_in_batches("processed_events", "processed_at < $1", Some(before))
            .await?;
        let lapsed = self
            .purge_in_batches(
                "processed_events",
                "processed_at IS NULL AND claim_until < $1",
                Some(before),
            )
            .await?;
        Ok(done + lapsed)
    }
}
