//! # shop-events
//!
//! Domain events leave the shop through the transactional outbox: stores append events in the
//! same unit of work as the change that caused them, and an [`OutboxRelay`] later hands them
//! to an [`EventPublisher`] and marks them published only once the publisher has confirmed
//! them. Delivery is therefore at-least-once; consumers deduplicate by event ID.
//!
//! - [`InProcessBus`]: a broadcast publisher for a single process (the embedded default).
//! - `RabbitPublisher` (feature `rabbitmq`): a durable topic exchange, persistent messages,
//!   publisher confirms.
//! - `EventConsumer` (feature `rabbitmq`): a durable queue with prefetch, manual acks, retries, a dead-letter queue
//!   and idempotent handling through a durable [`ProcessedEventStore`] shared by its replicas
//!   (every `shop-store` adapter implements it).
//! - [`RelayMetrics`], [`ConsumerMetrics`]: counters a metrics endpoint can read.
//!
//! Traces cross the broker: an event's `traceparent` (kept by the outbox) is sent in the
//! message's `traceparent` header, and a consumer handles the event in a span that continues
//! it. With the `otel` feature the publish and handle spans join that trace through
//! `tracing-opentelemetry`.
//!
//! An application runs the relay beside its server; without it, events stay in the outbox:
//!
//! ```
//! use std::sync::Arc;
//! use shop_core::{DomainEvent, EventType, OutboxStore, UserId};
//! use shop_events::{InProcessBus, OutboxRelay, RelayConfig};
//! use shop_store::MemoryStore;
//!
//! # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
//! let store = Arc::new(MemoryStore::new());
//! let bus = Arc::new(InProcessBus::default());
//! let mut received = bus.subscribe();
//! let relay = OutboxRelay::new(store.clone(), bus, RelayConfig::default());
//!
//! // A store writes events with the change that caused them (here, by hand).
//! let event = DomainEvent::new(EventType::UserRegistered, UserId::generate().as_uuid(), serde_json::json!({}));
//! store.append_events(&[event.clone()]).await?;
//! assert_eq!(relay.run_once().await?, 1); // `relay.run(shutdown)` loops until shutdown
//! assert_eq!(received.recv().await?.id, event.id);
//! assert_eq!(store.outbox_stats().await?.pending, 0);
//! # Ok::<(), Box<dyn std::error::Error>>(()) }).unwrap();
//! ```

pub mod bus;
#[cfg(feature = "rabbitmq")]
pub mod consumer;
mod consumer_metrics;
pub mod publisher;
#[cfg(feature = "rabbitmq")]
pub mod rabbit;
pub mod relay;
#[cfg(any(feature = "rabbitmq", feature = "otel"))]
mod trace;

#[cfg(feature = "otel")]
pub use trace::traceparent_of;

pub use bus::InProcessBus;
#[cfg(feature = "rabbitmq")]
pub use consumer::{ConsumerConfig, EventConsumer};
pub use consumer_metrics::ConsumerMetrics;
pub use publisher::{Delivery, EventPublisher, PublishError};
#[cfg(feature = "rabbitmq")]
pub use rabbit::{RabbitConfig, RabbitPublisher};
pub use relay::{OutboxRelay, RelayConfig, RelayMetrics};
pub use shop_core::{ProcessedEventStore, ProcessingClaim, ProcessingState};
