//! The outbox: unpublished events in position order, with leases.

use async_trait::async_trait;
use shop_core::{
    DomainEvent, OutboxClaim, OutboxRecord, OutboxStats, OutboxStore, Result, Timestamp,
};

use super::MemoryStore;

#[async_trait]
impl OutboxStore for MemoryStore {
    async fn append_events(&self, events: &[DomainEvent]) -> Result<()> {
        self.commerce.write().append(events.iter().cloned());
        Ok(())
    }

    async fn claim_events(&self, claim: &OutboxClaim) -> Result<Vec<OutboxRecord>> {
        let mut c = self.commerce.write();
        let mut out = Vec::new();
        for (seq, entry) in &mut c.outbox {
            if out.len() >= claim.limit {
                break;
            }
            let free = match &entry.claim {
                None => true,
                Some((who, until)) => *who == claim.claimant || *until <= claim.now,
            };
            if free {
                entry.claim = Some((claim.claimant.clone(), claim.lease_until));
                out.push(OutboxRecord {
                    seq: *seq,
                    event: entry.event.clone(),
                });
            }
        }
        Ok(out)
    }

    async fn mark_published(&self, seqs: &[u64]) -> Result<()> {
        let mut c = self.commerce.write();
        for seq in seqs {
            c.outbox.remove(seq);
        }
        Ok(())
    }

    async fn outbox_stats(&self) -> Result<OutboxStats> {
        let c = self.commerce.read();
        Ok(OutboxStats {
            pending: c.outbox.len() as u64,
            oldest_pending_at: c.outbox.values().map(|e| e.event.occurred_at).min(),
        })
    }

    /// Nothing to do: published events are dropped as soon as they are marked, which keeps
    /// the process's memory bounded without a purge.
    async fn purge_published_events(&self, _published_before: Timestamp) -> Result<u64> {
        Ok(0)
    }
}
