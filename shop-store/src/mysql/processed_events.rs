//! Consumers' processed-event records. Each step is one conditional statement, so racing
//! claimants are decided by the row itself: the primary key lets exactly one INSERT win, and a
//! takeover UPDATE matches only while the claim is free.

use async_trait::async_trait;
use shop_core::{
    EventId, ProcessedEventStore, ProcessingClaim, ProcessingState, Result, Timestamp,
};
use sqlx::Row;

use super::MySqlStore;
use super::error::{is_duplicate, map};

#[async_trait]
impl ProcessedEventStore for MySqlStore {
    #[tracing::instrument(level = "debug", skip_all, fields(db.system = "mysql"))]
    async fn claim_processing(&self, claim: &ProcessingClaim) -> Result<ProcessingState> {
        let event_id = claim.event_id.as_uuid();
        let inserted = sqlx::query(
            "INSERT INTO processed_events (consumer, event_id, claimed_by, claim_until) \
             VALUES (?, ?, ?, ?)",
        )
        .bind(&claim.consumer)
        .bind(event_id)
        .bind(&claim.claimant)
        .bind(claim.lease_until)
        .execute(&self.pool)
        .await;
        match inserted {
            Ok(_) => return Ok(ProcessingState::Claimed),
            Err(e) if is_duplicate(&e) => {}
            Err(e) => return Err(map(e)),
        }
        // The connection reports matched rows (FOUND_ROWS), so renewing one's own claim with
        // unchanged values still counts as a match.
        let taken = sqlx::query(
            "UPDATE processed_events SET claimed_by = ?, claim_until = ? \
             WHERE consumer = ? AND event_id = ? AND processed_at IS NULL \
             AND (claim_until <= ? OR claimed_by = ?)",
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
             WHERE consumer = ? AND event_id = ?",
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

    #[tracing::instrument(level = "debug", skip_all, fields(db.system = "mysql"))]
    async fn finish_processing(
        &self,
        consumer: &str,
        event_id: EventId,
        claimant: &str,
        at: Timestamp,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE processed_events SET processed_at = ?, claimed_by = NULL, claim_until = NULL \
             WHERE consumer = ? AND event_id = ? AND processed_at IS NULL AND claimed_by = ?",
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

    #[tracing::instrument(level = "debug", skip_all, fields(db.system = "mysql"))]
    async fn release_processing(
        &self,
        consumer: &str,
        event_id: EventId,
        claimant: &str,
    ) -> Result<()> {
        sqlx::query(
            "DELETE FROM processed_events \
             WHERE consumer = ? AND event_id = ? AND processed_at IS NULL AND claimed_by = ?",
        )
        .bind(consumer)
        .bind(event_id.as_uuid())
        .bind(claimant)
        .execute(&self.pool)
        .await
        .map_err(map)?;
        Ok(())
    }

    #[tracing::instrument(level = "debug", skip_all, fields(db.system = "mysql"))]
    async fn purge_processed_events(&self, before: Timestamp) -> Result<u64> {
        let done = self
            .purge_in_batches(
                "DELETE FROM processed_events WHERE processed_at < ?",
                Some(before),
            )
            .await?;
        let lapsed = self
            .purge_in_batches(
                "DELETE FROM processed_events WHERE processed_at IS NULL AND claim_until < ?",
                Some(before),
            )
            .await?;
        Ok(done + lapsed)
    }
}
