use ::mongodb::bson::{Bson, Document, doc};
use ::mongodb::{ClientSession, Collection};
use async_trait::async_trait;
use futures::TryStreamExt;
use shop_core::time::now;
use shop_core::{
    DomainEvent, Error, EventId, OutboxClaim, OutboxRecord, OutboxStats, OutboxStore, Result,
    Timestamp,
};

use super::MongoStore;
use super::docs::{self, date, id};
use super::error::map;

/// Appends events at positions `first_seq..`, inside the caller's transaction.
pub(super) async fn insert_events(
    outbox: &Collection<Document>,
    session: &mut ClientSession,
    first_seq: u64,
    events: &[DomainEvent],
) -> ::mongodb::error::Result<()> {
    if events.is_empty() {
        return Ok(());
    }
    let docs: Vec<Document> = (first_seq..)
        .zip(events)
        .map(|(seq, e)| docs::event_doc(seq, e))
        .collect();
    outbox.insert_many(docs).session(session).await?;
    Ok(())
}

/// Unpublished and not leased to anyone else.
fn claimable(claim: &OutboxClaim) -> Document {
    doc! {
        "published": false,
        "$or": [
            { "claim_until": Bson::Null },
            { "claim_until": { "$lte": date(claim.now) } },
            { "claimed_by": &claim.claimant },
        ],
    }
}

#[async_trait]
impl OutboxStore for MongoStore {
    #[tracing::instrument(level = "debug", skip_all, fields(db.system = "mongodb"))]
    async fn append_events(&self, events: &[DomainEvent]) -> Result<()> {
        if events.is_empty() {
            return Ok(());
        }
        let first = self.reserve_seqs(events.len()).await?;
        let docs: Vec<Document> = (first..)
            .zip(events)
            .map(|(seq, e)| docs::event_doc(seq, e))
            .collect();
        self.col("outbox").insert_many(docs).await.map_err(map)?;
        Ok(())
    }

    /// Finds candidates, then marks them with a token unique to this call in one
    /// `update_many` whose filter repeats "claimable": each document is updated atomically, so
    /// a document another relay claimed in between is skipped, and the token then names exactly
    /// the documents this call won.
    #[tracing::instrument(level = "debug", skip_all, fields(db.system = "mongodb"))]
    async fn claim_events(&self, claim: &OutboxClaim) -> Result<Vec<OutboxRecord>> {
        let outbox = self.col("outbox");
        let limit = i64::try_from(claim.limit).map_err(Error::internal)?;
        let candidates: Vec<Bson> = outbox
            .find(claimable(claim))
            .sort(doc! { "_id": 1 })
            .limit(limit)
            .projection(doc! { "_id": 1 })
            .await
            .map_err(map)?
            .try_collect::<Vec<Document>>()
            .await
            .map_err(map)?
            .into_iter()
            .filter_map(|d| d.get("_id").cloned())
            .collect();
        if candidates.is_empty() {
            return Ok(Vec::new());
        }
        let token = id(EventId::generate().as_uuid());
        let mut filter = claimable(claim);
        filter.insert("_id", doc! { "$in": candidates });
        outbox
            .update_many(
                filter,
                doc! { "$set": {
                    "claimed_by": &claim.claimant,
                    "claim_until": date(claim.lease_until),
                    "claim_token": &token,
                } },
            )
            .await
            .map_err(map)?;
        let won: Vec<Document> = outbox
            .find(doc! { "claim_token": &token })
            .sort(doc! { "_id": 1 })
            .await
            .map_err(map)?
            .try_collect()
            .await
            .map_err(map)?;
        won.iter().map(docs::outbox_record).collect()
    }

    #[tracing::instrument(level = "debug", skip_all, fields(db.system = "mongodb"))]
    async fn mark_published(&self, seqs: &[u64]) -> Result<()> {
        if seqs.is_empty() {
            return Ok(());
        }
        let ids: Vec<i64> = seqs.iter().filter_map(|s| i64::try_from(*s).ok()).collect();
        self.col("outbox")
            .update_many(
                doc! { "_id": { "$in": ids }, "published": false },
                doc! {
                    "$set": { "published": true, "published_at": date(now()) },
                    "$unset": { "claimed_by": "", "claim_until": "", "claim_token": "" },
                },
            )
            .await
            .map_err(map)?;
        Ok(())
    }

    #[tracing::instrument(level = "debug", skip_all, fields(db.system = "mongodb"))]
    async fn outbox_stats(&self) -> Result<OutboxStats> {
        let outbox = self.col("outbox");
        let pending = outbox
            .count_documents(doc! { "published": false })
            .await
            .map_err(map)?;
        let oldest = outbox
            .find_one(doc! { "published": false })
            .sort(doc! { "occurred_at": 1 })
            .await
            .map_err(map)?
            .map(|d| docs::time(&d, "occurred_at", "outbox event"))
            .transpose()?;
        Ok(OutboxStats {
            pending,
            oldest_pending_at: oldest,
        })
    }

    #[tracing::instrument(level = "debug", skip_all, fields(db.system = "mongodb"))]
    async fn purge_published_events(&self, published_before: Timestamp) -> Result<u64> {
        self.delete_where(
            "outbox",
            doc! { "published": true, "published_at": { "$lt": date(published_before) } },
        )
        .await
    }
}
