//! The publisher abstraction the relay drives.

use async_trait::async_trait;
use shop_core::DomainEvent;

/// Why a batch was not (fully) published. Nothing in a failed batch counts as published; the
/// relay retries it, so subscribers may see some of its events twice.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PublishError {
    /// The broker could not be reached or the connection broke.
    #[error("broker unavailable: {0}")]
    Unavailable(String),
    /// The broker refused (nacked) an event or could not route it.
    #[error("event {event_id} was not accepted: {reason}")]
    Rejected {
        /// The refused event.
        event_id: shop_core::EventId,
        /// What the broker said.
        reason: String,
    },
}

/// Publishes events. `publish` returns `Ok` only when every event of the batch is safely with
/// the broker (for RabbitMQ: confirmed), which is when the relay marks them published.
#[async_trait]
pub trait EventPublisher: Send + Sync {
    /// Publishes a batch in order.
    async fn publish(&self, events: &[DomainEvent]) -> Result<(), PublishError>;
}
