//! Consumers' processed-event records in `processed_events`, one document per (consumer,
//! event). Each step is one single-document write, so racing claimants are decided by the
//! document itself: the `_id` lets exactly one insert win, and a takeover update matches only
//! while the claim is free.

use ::mongodb::bson::{Bson, Document, doc};
use async_trait::async_trait;
use shop_core::{
    EventId, ProcessedEventStore, ProcessingClaim, ProcessingState, Result, Timestamp,
};

use super::MongoStore;
use super::docs::{date, opt_time};
use super::error::{is_duplicate, map};

/// `<event id>:<consumer>`: the event ID has a fixed length, so no two pairs share a key.
fn key(consumer: &str, event_id: EventId) -> String {
    format!("{}:{consumer}", event_id.as_uuid())
}

/// Unfinished, and held by `claimant`.
fn held_by(consumer: &str, event_id: EventId, claimant: &str) -> Document {
    doc! { "_id": key(consumer, event_id), "processed_at": Bson::Null, "claimed_by": claimant }
}

#[async_trait]
impl ProcessedEventStore for MongoStore {
    #[tracing::instrument(level = "debug", skip_all, fields(db.system = "mongodb"))]
    async fn claim_processing(&self, claim: &ProcessingClaim) -> Result<ProcessingState> {
        let records = self.col("processed_events");
        let key = key(&claim.consumer, claim.event_id);
        let inserted = records
            .insert_one(doc! {
                "_id": &key,
                "claimed_by": &claim.claimant,
                "claim_until": date(claim.lease_until),
                "processed_at": Bson::Null,
            })
            .await;
        match inserted {
            Ok(_) => return Ok(ProcessingState::Claimed),
            Err(e) if is_duplicate(&e) => {}
            Err(e) => return Err(map(e)),
        }
        let taken = records
            .update_one(
                doc! {
                    "_id": &key,
                    "processed_at": Bson::Null,
                    "$or": [
                        { "claim_until": { "$lte": date(claim.now) } },
                        { "claimed_by": &claim.claimant },
                    ],
                },
                doc! { "$set": {
                    "claimed_by": &claim.claimant,
                    "claim_until": date(claim.lease_until),
                } },
            )
            .await
            .map_err(map)?;
        if taken.matched_count == 1 {
            return Ok(ProcessingState::Claimed);
        }
        let Some(found) = records.find_one(doc! { "_id": &key }).await.map_err(map)? else {
            // Released or purged between our writes: claim afresh.
            return Box::pin(self.claim_processing(claim)).await;
        };
        const W: &str = "processed event";
        ProcessingState::of_unclaimable(
            opt_time(&found, "processed_at", W)?,
            opt_time(&found, "claim_until", W)?,
        )
    }

    #[tracing::instrument(level = "debug", skip_all, fields(db.system = "mongodb"))]
    async fn finish_processing(
        &self,
        consumer: &str,
        event_id: EventId,
        claimant: &str,
        at: Timestamp,
    ) -> Result<bool> {
        let done = self
            .col("processed_events")
            .update_one(
                held_by(consumer, event_id, claimant),
                doc! {
                    "$set": { "processed_at": date(at) },
                    "$unset": { "claimed_by": "", "claim_until": "" },
                },
            )
            .await
            .map_err(map)?;
        Ok(done.matched_count == 1)
    }

    #[tracing::instrument(level = "debug", skip_all, fields(db.system = "mongodb"))]
    async fn release_processing(
        &self,
        consumer: &str,
        event_id: EventId,
        claimant: &str,
    ) -> Result<()> {
        self.col("processed_events")
            .delete_one(held_by(consumer, event_id, claimant))
            .await
            .map_err(map)?;
        Ok(())
    }

    #[tracing::instrument(level = "debug", skip_all, fields(db.system = "mongodb"))]
    async fn purge_processed_events(&self, before: Timestamp) -> Result<u64> {
        self.delete_where(
            "processed_events",
            doc! { "$or": [
                { "processed_at": { "$lt": date(before) } },
                { "processed_at": Bson::Null, "claim_until": { "$lt": date(before) } },
            ] },
        )
        .await
    }
}
