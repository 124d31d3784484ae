//! Consumers' processed-event records: claims and completions by (consumer, event).

use async_trait::async_trait;
use shop_core::{
    EventId, ProcessedEventStore, ProcessingClaim, ProcessingState, Result, Timestamp,
};

use super::{MemoryStore, Processing};

#[async_trait]
impl ProcessedEventStore for MemoryStore {
    async fn claim_processing(&self, claim: &ProcessingClaim) -> Result<ProcessingState> {
        let mut all = self.processed.lock();
        let record = all
            .entry((claim.consumer.clone(), claim.event_id))
            .or_insert(Processing::Claimed {
                by: claim.claimant.clone(),
                until: claim.lease_until,
            });
        match record {
            Processing::Done { .. } => Ok(ProcessingState::Processed),
            Processing::Claimed { by, until } => {
                if *by == claim.claimant || *until <= claim.now {
                    *by = claim.claimant.clone();
                    *until = claim.lease_until;
                    Ok(ProcessingState::Claimed)
                } else {
                    Ok(ProcessingState::InProgress { until: *until })
                }
            }
        }
    }

    async fn finish_processing(
        &self,
        consumer: &str,
        event_id: EventId,
        claimant: &str,
        at: Timestamp,
    ) -> Result<bool> {
        let mut all = self.processed.lock();
        let record = all.get_mut(&(consumer.to_owned(), event_id));
        let Some(record) =
            record.filter(|r| matches!(r, Processing::Claimed { by, .. } if by == claimant))
        else {
            return Ok(false);
        };
        *record = Processing::Done { at };
        Ok(true)
    }

    async fn release_processing(
        &self,
        consumer: &str,
        event_id: EventId,
        claimant: &str,
    ) -> Result<()> {
        let mut all = self.processed.lock();
        let key = (consumer.to_owned(), event_id);
        if matches!(all.get(&key), Some(Processing::Claimed { by, .. }) if by == claimant) {
            all.remove(&key);
        }
        Ok(())
    }

    async fn purge_processed_events(&self, before: Timestamp) -> Result<u64> {
        let mut all = self.processed.lock();
        let count = all.len();
        all.retain(|_, record| match record {
            Processing::Done { at } => *at >= before,
            Processing::Claimed { until, .. } => *until >= before,
        });
        Ok((count - all.len()) as u64)
    }
}
