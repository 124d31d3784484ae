//! Retention: records that only serve deduplication or audit are deleted once they are old
//! enough, so the stores do not grow without bound.
//!
//! [`RetentionService::purge`] deletes, on every store it is given:
//!
//! - published outbox events older than [`RetentionPolicy::published_events`] (unpublished
//!   ones are never touched, however old);
//! - refresh tokens that are expired or revoked (a used but live token stays: presenting it
//!   again must still be detected as reuse);
//! - idempotency keys older than [`RetentionPolicy::idempotency_keys`] (their orders stay; a
//!   client retrying with such a key afterwards places a new order);
//! - consumers' processed-event records older than [`RetentionPolicy::processed_events`],
//!   and claims that lapsed that long ago.
//!
//! Every deletion is idempotent and touches only rows past their age, so any number of
//! replicas may run it at once.

use std::sync::Arc;

use chrono::TimeDelta;
use tracing::{info, instrument};

use crate::error::Result;
use crate::store::{
    CommerceStore, OrderStore, OutboxStore, ProcessedEventStore, RefreshTokenStore,
};
use crate::time::Timestamp;

/// How long each kind of record is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetentionPolicy {
    /// Published outbox events, counted from publication.
    pub published_events: TimeDelta,
    /// Checkout idempotency keys, counted from the order. Longer than any client retries.
    pub idempotency_keys: TimeDelta,
    /// Consumers' records of handled events. Longer than any redelivery can take.
    pub processed_events: TimeDelta,
}

impl Default for RetentionPolicy {
    /// Published events 7 days, idempotency keys and processed events 30 days.
    fn default() -> Self {
        Self {
            published_events: TimeDelta::days(7),
            idempotency_keys: TimeDelta::days(30),
            processed_events: TimeDelta::days(30),
        }
    }
}

/// How many records one purge deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PurgeReport {
    /// Published outbox events.
    pub published_events: u64,
    /// Expired or revoked refresh tokens.
    pub refresh_tokens: u64,
    /// Idempotency keys.
    pub idempotency_keys: u64,
    /// Processed-event records and lapsed claims.
    pub processed_events: u64,
}

impl PurgeReport {
    /// Everything deleted.
    #[must_use]
    pub fn total(&self) -> u64 {
        self.published_events + self.refresh_tokens + self.idempotency_keys + self.processed_events
    }
}

/// Applies a [`RetentionPolicy`] to the stores that hold such records.
#[derive(Clone)]
pub struct RetentionService {
    outbox: Arc<dyn OutboxStore>,
    orders: Arc<dyn OrderStore>,
    refresh_tokens: Arc<dyn RefreshTokenStore>,
    processed_events: Vec<Arc<dyn ProcessedEventStore>>,
    policy: RetentionPolicy,
}

impl std::fmt::Debug for RetentionService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RetentionService")
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl RetentionService {
    /// Purges the outbox and idempotency keys of `commerce` (one backend holds both) and the
    /// refresh tokens of `refresh_tokens`.
    #[must_use]
    pub fn new(
        commerce: Arc<dyn CommerceStore>,
        refresh_tokens: Arc<dyn RefreshTokenStore>,
        policy: RetentionPolicy,
    ) -> Self {
        Self {
            outbox: commerce.clone(),
            orders: commerce,
            refresh_tokens,
            processed_events: Vec::new(),
            policy,
        }
    }

    /// Also purges the processed-event records of `store` (where event consumers keep them).
    #[must_use]
    pub fn with_processed_events(mut self, store: Arc<dyn ProcessedEventStore>) -> Self {
        self.processed_events.push(store);
        self
    }

    /// The policy applied.
    #[must_use]
    pub fn policy(&self) -> RetentionPolicy {
        self.policy
    }

    /// Deletes everything the policy no longer keeps, as of `now`.
    ///
    /// # Errors
    /// The first store error; what was deleted before it stays deleted (each deletion is
    /// complete in itself), and the next purge carries on.
    #[instrument(skip(self))]
    pub async fn purge(&self, now: Timestamp) -> Result<PurgeReport> {
        let mut report = PurgeReport {
            published_events: self
                .outbox
                .purge_published_events(now - self.policy.published_events)
                .await?,
            refresh_tokens: self.refresh_tokens.purge_refresh_tokens(now).await?,
            idempotency_keys: self
                .orders
                .purge_idempotency_keys(now - self.policy.idempotency_keys)
                .await?,
            processed_events: 0,
        };
        for store in &self.processed_events {
            report.processed_events += store
                .purge_processed_events(now - self.policy.processed_events)
                .await?;
        }
        info!(?report, "retention purge done");
        Ok(report)
    }
}
