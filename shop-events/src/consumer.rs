//! Consuming domain events from RabbitMQ, idempotently.
//!
//! [`EventConsumer`] declares a durable queue bound to chosen routing keys, with a dead-letter
//! exchange `<queue>.dlx` and queue `<queue>.dlq`; takes `prefetch` messages at a time; and
//! acknowledges a message only after the handler succeeded. A failed message is re-queued with
//! an attempt counter (header `x-shop-attempts`) and dead-lettered after `max_attempts`; one that
//! is not a domain event at all is dead-lettered at once. Events already handled (by event ID,
//! through a [`ProcessedEvents`] store) are acknowledged without calling the handler again, which
//! absorbs the duplicates at-least-once delivery produces.

use std::collections::HashSet;
use std::future::Future;
use std::sync::Arc;

use async_trait::async_trait;
use futures::StreamExt;
use lapin::message::Delivery;
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicNackOptions, BasicPublishOptions, BasicQosOptions,
    ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions,
};
use lapin::types::{AMQPValue, FieldTable, LongString};
use lapin::{Channel, ExchangeKind};
use parking_lot::Mutex;
use shop_core::{DomainEvent, EventId};
use tokio::sync::watch;
use tracing::{debug, warn};

use crate::rabbit::{RabbitConfig, connect, declare_exchange};

/// Remembers which events were handled. Implement it over the consumer's own database (in the
/// same transaction as the handler's writes) for exactly-once effects.
#[async_trait]
pub trait ProcessedEvents: Send + Sync {
    /// Whether `id` was handled already.
    async fn is_processed(&self, id: EventId) -> bool;
    /// Records that `id` was handled.
    async fn mark_processed(&self, id: EventId);
}

/// A [`ProcessedEvents`] in memory (per process, unbounded: for tests and small consumers).
#[derive(Debug, Default)]
pub struct MemoryProcessedEvents(Mutex<HashSet<EventId>>);

#[async_trait]
impl ProcessedEvents for MemoryProcessedEvents {
    async fn is_processed(&self, id: EventId) -> bool {
        self.0.lock().contains(&id)
    }

    async fn mark_processed(&self, id: EventId) {
        self.0.lock().insert(id);
    }
}

/// What to consume.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsumerConfig {
    /// Durable queue name.
    pub queue: String,
    /// Routing keys to bind (`order.*`, `#`, …).
    pub routing_keys: Vec<String>,
    /// Unacknowledged messages in flight.
    pub prefetch: u16,
    /// Handler attempts before a message is dead-lettered.
    pub max_attempts: u32,
}

const ATTEMPTS: &str = "x-shop-attempts";

fn attempts(d: &Delivery) -> u32 {
    d.properties
        .headers()
        .as_ref()
        .and_then(|h| h.inner().get(ATTEMPTS).cloned())
        .and_then(|v| match v {
            AMQPValue::LongUInt(n) => Some(n),
            AMQPValue::LongLongInt(n) => u32::try_from(n).ok(),
            AMQPValue::LongInt(n) => u32::try_from(n).ok(),
            _ => None,
        })
        .unwrap_or(1)
}

/// Consumes one queue; see the [module docs](self).
pub struct EventConsumer {
    rabbit: RabbitConfig,
    config: ConsumerConfig,
    processed: Arc<dyn ProcessedEvents>,
}

impl std::fmt::Debug for EventConsumer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventConsumer")
            .field("rabbit", &self.rabbit)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl EventConsumer {
    /// A consumer of `config.queue` on the broker and exchange of `rabbit`.
    #[must_use]
    pub fn new(
        rabbit: RabbitConfig,
        config: ConsumerConfig,
        processed: Arc<dyn ProcessedEvents>,
    ) -> Self {
        Self {
            rabbit,
            config,
            processed,
        }
    }

    /// The dead-letter queue's name.
    #[must_use]
    pub fn dead_letter_queue(&self) -> String {
        format!("{}.dlq", self.config.queue)
    }

    /// Declares exchange, queue, bindings and the dead-letter pair (idempotent).
    async fn declare(&self, channel: &Channel) -> Result<(), lapin::Error> {
        declare_exchange(channel, &self.rabbit.exchange).await?;
        let dlx = format!("{}.dlx", self.config.queue);
        let durable = QueueDeclareOptions {
            durable: true,
            ..QueueDeclareOptions::default()
        };
        channel
            .exchange_declare(
                dlx.as_str().into(),
                ExchangeKind::Fanout,
                ExchangeDeclareOptions {
                    durable: true,
                    ..ExchangeDeclareOptions::default()
                },
                FieldTable::default(),
            )
            .await?;
        let dlq = self.dead_letter_queue();
        channel
            .queue_declare(dlq.as_str().into(), durable, FieldTable::default())
            .await?;
        channel
            .queue_bind(
                dlq.as_str().into(),
                dlx.as_str().into(),
                "".into(),
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await?;
        let mut args = FieldTable::default();
        args.insert(
            "x-dead-letter-exchange".into(),
            AMQPValue::LongString(LongString::from(dlx.as_str())),
        );
        channel
            .queue_declare(self.config.queue.as_str().into(), durable, args)
            .await?;
        for key in &self.config.routing_keys {
            channel
                .queue_bind(
                    self.config.queue.as_str().into(),
                    self.rabbit.exchange.as_str().into(),
                    key.as_str().into(),
                    QueueBindOptions::default(),
                    FieldTable::default(),
                )
                .await?;
        }
        Ok(())
    }

    /// Declares the topology and consumes until `shutdown` turns `true` (returns `Ok`) or the
    /// connection fails (returns the error; run it again to reconnect).
    ///
    /// # Errors
    /// Connection and channel errors.
    pub async fn run<H, F>(
        &self,
        handler: H,
        mut shutdown: watch::Receiver<bool>,
    ) -> Result<(), lapin::Error>
    where
        H: Fn(DomainEvent) -> F + Send + Sync,
        F: Future<Output = Result<(), String>> + Send,
    {
        let conn = connect(&self.rabbit).await?;
        let channel = conn.create_channel().await?;
        self.declare(&channel).await?;
        channel
            .basic_qos(self.config.prefetch, BasicQosOptions::default())
            .await?;
        let mut deliveries = channel
            .basic_consume(
                self.config.queue.as_str().into(),
                "".into(),
                BasicConsumeOptions::default(),
                FieldTable::default(),
            )
            .await?;
        loop {
            if *shutdown.borrow() {
                break;
            }
            let next = tokio::select! {
                next = deliveries.next() => next,
                _ = shutdown.changed() => continue,
            };
            let Some(delivery) = next else { break };
            self.handle(&channel, delivery?, &handler).await?;
        }
        let _ = conn.close(200, "consumer stopped".into()).await;
        Ok(())
    }

    /// Handles one delivery; the `bool` is the broker's answer to the final ack or nack.
    async fn handle<H, F>(
        &self,
        channel: &Channel,
        d: Delivery,
        handler: &H,
    ) -> Result<bool, lapin::Error>
    where
        H: Fn(DomainEvent) -> F,
        F: Future<Output = Result<(), String>>,
    {
        let Ok(event) = serde_json::from_slice::<DomainEvent>(&d.data) else {
            warn!(queue = %self.config.queue, "not a domain event; dead-lettering it");
            return d
                .nack(BasicNackOptions {
                    requeue: false,
                    multiple: false,
                })
                .await;
        };
        if self.processed.is_processed(event.id).await {
            debug!(event_id = %event.id, "duplicate delivery absorbed");
            return d.ack(BasicAckOptions::default()).await;
        }
        let id = event.id;
        match handler(event).await {
            Ok(()) => {
                self.processed.mark_processed(id).await;
                d.ack(BasicAckOptions::default()).await
            }
            Err(e) => {
                let attempt = attempts(&d);
                if attempt >= self.config.max_attempts {
                    warn!(event_id = %id, attempt, error = %e, "handler gave up; dead-lettering");
                    return d
                        .nack(BasicNackOptions {
                            requeue: false,
                            multiple: false,
                        })
                        .await;
                }
                warn!(event_id = %id, attempt, error = %e, "handler failed; will retry");
                let mut headers = d.properties.headers().clone().unwrap_or_default();
                headers.insert(ATTEMPTS.into(), AMQPValue::LongUInt(attempt + 1));
                let properties = d.properties.clone().with_headers(headers);
                // Back to the end of the same queue through the default exchange.
                let sent = channel
                    .basic_publish(
                        "".into(),
                        self.config.queue.as_str().into(),
                        BasicPublishOptions::default(),
                        &d.data,
                        properties,
                    )
                    .await;
                match sent {
                    Ok(_) => d.ack(BasicAckOptions::default()).await,
                    Err(_) => {
                        d.nack(BasicNackOptions {
                            requeue: true,
                            multiple: false,
                        })
                        .await
                    }
                }
            }
        }
    }
}
