//! The publisher abstraction the relay drives.

use async_trait::async_trait;
use shop_core::DomainEvent;

/// Why a whole batch could not be published: nothing of it counts as published, and the relay
/// tries it again after a backoff.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PublishError {
    /// The broker could not be reached or the connection broke.
    #[error("broker unavailable: {0}")]
    Unavailable(String),
}

/// What became of one event of a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Delivery {
    /// The broker has it and routed it (for RabbitMQ: confirmed, not returned).
    Delivered,
    /// The broker has it, but no queue takes this type (for RabbitMQ: confirmed and returned
    /// as unroutable). It is as published as it will ever be: the relay marks it and counts
    /// it, and never sends it again.
    Unroutable,
    /// The broker did not take it (nacked, or it could not be sent): the relay leaves it in
    /// the outbox and tries again, without holding up the events behind it.
    Failed(String),
}

impl Delivery {
    /// Whether the broker has the event (delivered or unroutable): it must not be sent again.
    #[must_use]
    pub fn is_settled(&self) -> bool {
        !matches!(self, Delivery::Failed(_))
    }
}

/// Publishes events.
#[async_trait]
pub trait EventPublisher: Send + Sync {
    /// Publishes a batch in order and says, per event and in the same order, what became of
    /// it; only an event reported [`Delivery::Delivered`] or [`Delivery::Unroutable`] is
    /// marked published.
    ///
    /// # Errors
    /// [`PublishError`] when the batch as a whole could not be published.
    async fn publish(&self, events: &[DomainEvent]) -> Result<Vec<Delivery>, PublishError>;
}
