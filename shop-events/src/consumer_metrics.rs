//! A consumer's counters, apart from the consumer so that a metrics endpoint can read them
//! without the `rabbitmq` feature.

use std::sync::atomic::AtomicU64;

/// Counters of a consumer, for a metrics endpoint (`EventConsumer::metrics`, with the
/// `rabbitmq` feature).
#[derive(Debug, Default)]
pub struct ConsumerMetrics {
    /// Events the handler handled (acknowledged once recorded).
    pub handled: AtomicU64,
    /// Copies of events already handled, acknowledged without running the handler.
    pub duplicates: AtomicU64,
    /// Handler failures sent back to the queue for another attempt.
    pub retried: AtomicU64,
    /// Messages dead-lettered: the handler gave up, or the message was no domain event.
    pub dead_lettered: AtomicU64,
}

#[cfg(feature = "rabbitmq")]
pub(crate) fn count(counter: &AtomicU64) {
    counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
}
