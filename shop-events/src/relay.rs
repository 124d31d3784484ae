//! The outbox relay: claims unpublished events, publishes them, marks them published.
//!
//! Stores only ever write events into the outbox; nothing else takes them out. An application
//! that places orders must run a relay ([`OutboxRelay::run`], spawned beside its server, one
//! or more per deployment) or its events pile up there — `OutboxStore::outbox_stats` (and the
//! `shop_outbox_pending_events` gauge at `/metrics`) show how many are waiting.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use shop_core::time::now;
use shop_core::{EventType, OutboxClaim, OutboxStore};
use tokio::sync::watch;
use tracing::{debug, info, warn};

use crate::publisher::{Delivery, EventPublisher};

/// Relay settings.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RelayConfig {
    /// Names this relay's claims; give every running relay its own.
    pub relay_id: String,
    /// Most events per batch.
    pub batch_size: usize,
    /// How long a claim hides events from other relays; longer than a publish takes.
    pub lease: Duration,
    /// Sleep between polls when the outbox is empty.
    pub poll_interval: Duration,
    /// First retry delay after a failure; doubles up to `max_backoff`, with jitter.
    pub min_backoff: Duration,
    /// Longest retry delay.
    pub max_backoff: Duration,
}

impl Default for RelayConfig {
    fn default() -> Self {
        Self {
            relay_id: format!("relay-{}", shop_core::EventId::generate()),
            batch_size: 100,
            lease: Duration::from_secs(30),
            poll_interval: Duration::from_millis(200),
            min_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(10),
        }
    }
}

/// Counters of a relay, for a metrics endpoint.
#[derive(Debug, Default)]
pub struct RelayMetrics {
    /// Events handed to the publisher.
    pub published: AtomicU64,
    /// Events the publisher confirmed (and the relay marked published), unroutable ones
    /// included.
    pub confirmed: AtomicU64,
    /// Confirmed events no queue was bound for (marked published, never sent again).
    pub unroutable: AtomicU64,
    /// Events the broker did not take (left in the outbox, tried again).
    pub refused: AtomicU64,
    /// Batches that failed (store or publisher), however the relay was driven.
    pub failed: AtomicU64,
    /// Retries the running relay scheduled after a failure.
    pub retried: AtomicU64,
}

/// Moves committed events from an [`OutboxStore`] to an [`EventPublisher`].
///
/// Guarantees: an event is marked published only after the publisher confirmed it, so a crash
/// or outage at any point loses nothing (the event is claimed again once its lease ends, or at
/// once by the same relay); events go out in outbox order within a relay. Each event is
/// decided on its own: every event the broker confirmed is marked (an unroutable one too:
/// counted and logged, never sent again), and one the broker refused stays in the outbox to be
/// tried again with the next batch, without holding back or re-sending the others — so it
/// can overtake nothing but can be overtaken. Several relays may run at once: claims keep them
/// off each other's events in normal operation, so an event is published twice only when a
/// relay stalls past its lease.
pub struct OutboxRelay {
    store: Arc<dyn OutboxStore>,
    publisher: Arc<dyn EventPublisher>,
    config: RelayConfig,
    metrics: Arc<RelayMetrics>,
    unroutable_warned: Mutex<HashMap<EventType, Instant>>,
}

impl std::fmt::Debug for OutboxRelay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutboxRelay")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl OutboxRelay {
    /// A relay from `store` to `publisher`.
    #[must_use]
    pub fn new(
        store: Arc<dyn OutboxStore>,
        publisher: Arc<dyn EventPublisher>,
        config: RelayConfig,
    ) -> Self {
        Self {
            store,
            publisher,
            config,
            metrics: Arc::new(RelayMetrics::default()),
            unroutable_warned: Mutex::new(HashMap::new()),
        }
    }

    /// The relay's counters.
    #[must_use]
    pub fn metrics(&self) -> Arc<RelayMetrics> {
        self.metrics.clone()
    }

    /// How far behind the outbox is: unpublished events and the oldest one's time.
    ///
    /// # Errors
    /// Store errors.
    pub async fn lag(&self) -> shop_core::Result<shop_core::OutboxStats> {
        self.store.outbox_stats().await
    }

    /// Claims, publishes and marks one batch; returns how many events were marked published.
    ///
    /// # Errors
    /// A description of the store or publisher failure, when nothing of the batch could be
    /// marked (a refused event beside marked ones is no error: it is tried again next time).
    pub async fn run_once(&self) -> Result<usize, String> {
        let result = self.relay_batch().await;
        if result.is_err() {
            self.metrics.failed.fetch_add(1, Ordering::Relaxed);
        }
        result
    }

    async fn relay_batch(&self) -> Result<usize, String> {
        let at = now();
        let lease = chrono::TimeDelta::from_std(self.config.lease).map_err(|e| e.to_string())?;
        let batch = self
            .store
            .claim_events(&OutboxClaim {
                claimant: self.config.relay_id.clone(),
                limit: self.config.batch_size,
                now: at,
                lease_until: at + lease,
            })
            .await
            .map_err(|e| format!("claiming: {e}"))?;
        if batch.is_empty() {
            return Ok(0);
        }
        let events: Vec<_> = batch.iter().map(|r| r.event.clone()).collect();
        self.metrics
            .published
            .fetch_add(events.len() as u64, Ordering::Relaxed);
        let outcomes = self
            .publisher
            .publish(&events)
            .await
            .map_err(|e| format!("publishing: {e}"))?;
        let mut settled = Vec::with_capacity(batch.len());
        let mut refused = Vec::new();
        // An outcome the publisher did not report counts as a refusal: sent again, never lost.
        let reported = outcomes
            .into_iter()
            .map(Some)
            .chain(std::iter::repeat(None));
        for (record, outcome) in batch.iter().zip(reported) {
            match outcome {
                Some(Delivery::Delivered) => settled.push(record.seq),
                Some(Delivery::Unroutable) => {
                    settled.push(record.seq);
                    self.metrics.unroutable.fetch_add(1, Ordering::Relaxed);
                    self.warn_unroutable(record.event.event_type);
                }
                Some(Delivery::Failed(reason)) => refused.push((record.event.id, reason)),
                None => refused.push((record.event.id, "no outcome reported".into())),
            }
        }
        if !settled.is_empty() {
            self.store
                .mark_published(&settled)
                .await
                .map_err(|e| format!("marking published: {e}"))?;
            self.metrics
                .confirmed
                .fetch_add(settled.len() as u64, Ordering::Relaxed);
        }
        if !refused.is_empty() {
            self.metrics
                .refused
                .fetch_add(refused.len() as u64, Ordering::Relaxed);
            for (event_id, reason) in &refused {
                warn!(%event_id, %reason, "the broker did not take an event; it stays in the outbox");
            }
            if settled.is_empty() {
                return Err(format!("the broker took none of {} events", refused.len()));
            }
        }
        Ok(settled.len())
    }

    /// Logs an unroutable event's type, at most once a minute per type: the counter says how
    /// many, the log says which.
    fn warn_unroutable(&self, event_type: EventType) {
        let mut last = self.unroutable_warned.lock();
        let due = last
            .get(&event_type)
            .is_none_or(|at| at.elapsed() >= Duration::from_secs(60));
        if due {
            last.insert(event_type, Instant::now());
            warn!(
                event_type = event_type.as_str(),
                "no queue is bound for this event type: the broker drops it (counted in \
                 shop_outbox_events_unroutable_total; the outbox keeps it for replay)"
            );
        }
    }

    /// Runs until `shutdown` turns `true`: drains the outbox, sleeps when it is empty, backs
    /// off (exponentially, with jitter) after failures. A batch in flight when shutdown is
    /// asked for is finished (published and marked) first.
    pub async fn run(&self, mut shutdown: watch::Receiver<bool>) {
        info!(relay_id = %self.config.relay_id, "outbox relay started");
        let mut failures: u32 = 0;
        while !*shutdown.borrow() {
            let pause = match self.run_once().await {
                Ok(n) if n > 0 => {
                    failures = 0;
                    debug!(n, "relayed events");
                    continue;
                }
                Ok(_) => {
                    failures = 0;
                    // Idle: a store that can say when events arrive (PostgreSQL's
                    // LISTEN/NOTIFY) wakes the relay at once; polling stays the fallback.
                    let waited = tokio::select! {
                        waited = self.store.wait_for_events(self.config.poll_interval) => waited,
                        _ = shutdown.changed() => continue,
                    };
                    if waited {
                        continue;
                    }
                    self.config.poll_interval
                }
                Err(e) => {
                    failures = failures.saturating_add(1);
                    self.metrics.retried.fetch_add(1, Ordering::Relaxed);
                    let delay = self.backoff(failures);
                    warn!(error = %e, ?delay, "outbox relay failed; retrying");
                    delay
                }
            };
            tokio::select! {
                () = tokio::time::sleep(pause) => {}
                _ = shutdown.changed() => {}
            }
        }
        info!(relay_id = %self.config.relay_id, "outbox relay stopped");
    }

    fn backoff(&self, failures: u32) -> Duration {
        use std::hash::{BuildHasher, Hasher};
        let exp = self
            .config
            .min_backoff
            .saturating_mul(1 << failures.min(16).saturating_sub(1))
            .min(self.config.max_backoff);
        // Jitter in [0.5, 1.0): relays that failed together do not retry together.
        let noise = std::collections::hash_map::RandomState::new()
            .build_hasher()
            .finish()
            % 500;
        exp.mul_f64(0.5 + f64::from(u32::try_from(noise).unwrap_or(0)) / 1000.0)
    }
}
