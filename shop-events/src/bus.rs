//! An in-process event bus: every subscriber receives every event published after it
//! subscribed.

use async_trait::async_trait;
use shop_core::DomainEvent;
use tokio::sync::broadcast;

use crate::publisher::{Delivery, EventPublisher, PublishError};

/// Broadcasts events to in-process subscribers. A subscriber that falls more than `capacity`
/// events behind misses the oldest ones (and learns how many from the receiver).
#[derive(Debug, Clone)]
pub struct InProcessBus {
    sender: broadcast::Sender<DomainEvent>,
}

impl InProcessBus {
    /// A bus buffering up to `capacity` events per slow subscriber.
    #[must_use]
    pub fn new(capacity: usize) -> Self {
        let (sender, _) = broadcast::channel(capacity.max(1));
        Self { sender }
    }

    /// A receiver of every event published from now on.
    #[must_use]
    pub fn subscribe(&self) -> broadcast::Receiver<DomainEvent> {
        self.sender.subscribe()
    }
}

impl Default for InProcessBus {
    fn default() -> Self {
        Self::new(1024)
    }
}

#[async_trait]
impl EventPublisher for InProcessBus {
    async fn publish(&self, events: &[DomainEvent]) -> Result<Vec<Delivery>, PublishError> {
        Ok(events
            .iter()
            .map(|e| {
                // No subscriber is not an error: in-process events are best effort by design.
                let _ = self.sender.send(e.clone());
                Delivery::Delivered
            })
            .collect())
    }
}
