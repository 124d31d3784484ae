//! Consuming domain events from RabbitMQ, idempotently.
//!
//! [`EventConsumer`] declares a durable queue bound to chosen routing keys, with a dead-letter
//! exchange `<queue>.dlx` and queue `<queue>.dlq`; takes `prefetch` messages at a time; and
//! acknowledges a message only after the handler succeeded. A failed message is re-queued with
//! an attempt counter (header `x-shop-attempts`) and dead-lettered after `max_attempts`; one that
//! is not a domain event at all is dead-lettered at once.
//!
//! Duplicates (at-least-once delivery makes them) are absorbed through a
//! [`ProcessedEventStore`] — the same durable store for every replica of a consumer, so a
//! restarted consumer, or two replicas receiving two copies of one event at the same moment,
//! run the handler once: before the handler runs the consumer claims the event (see
//! [`shop_core::inbox`]); a claim held by another replica sends the copy back to the queue
//! until that replica finished or its lease lapsed; a handled event is acknowledged at once.
//! When the store cannot be reached the message goes back to the queue — never is a store
//! failure taken for "not seen".

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use chrono::TimeDelta;
use futures::StreamExt;
use lapin::message::Delivery;
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicNackOptions, BasicPublishOptions, BasicQosOptions,
    ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions,
};
use lapin::types::{AMQPValue, FieldTable, LongString};
use lapin::{Channel, ExchangeKind};
use shop_core::time::now;
use shop_core::{DomainEvent, EventId, ProcessedEventStore, ProcessingClaim, ProcessingState};
use tokio::sync::watch;
use tracing::{Instrument, debug, warn};

use crate::consumer_metrics::{ConsumerMetrics, count};
use crate::rabbit::{RabbitConfig, connect, declare_exchange};

/// What to consume.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConsumerConfig {
    /// Durable queue name; also the consumer's name in the [`ProcessedEventStore`], so every
    /// replica of this consumer shares its records.
    pub queue: String,
    /// Routing keys to bind (`order.*`, `#`, …).
    pub routing_keys: Vec<String>,
    /// Unacknowledged messages in flight.
    pub prefetch: u16,
    /// Handler attempts before a message is dead-lettered.
    pub max_attempts: u32,
    /// How long a claim on an event lasts: longer than the handler ever takes. If this
    /// consumer dies mid-handler, another replica may handle the event after it.
    pub lease: Duration,
}

impl ConsumerConfig {
    /// A queue bound to `routing_keys`: prefetch 32, 5 attempts, 60 s leases.
    #[must_use]
    pub fn new(queue: impl Into<String>, routing_keys: Vec<String>) -> Self {
        Self {
            queue: queue.into(),
            routing_keys,
            prefetch: 32,
            max_attempts: 5,
            lease: Duration::from_secs(60),
        }
    }
}

/// How long a copy whose event another replica holds, or that met a store failure, waits
/// before it goes back to the queue (so it is not redelivered in a tight loop).
const REQUEUE_PAUSE: Duration = Duration::from_millis(250);

const ATTEMPTS: &str = "x-shop-attempts";

/// The message header `name`, if the message has it.
fn header(d: &Delivery, name: &str) -> Option<AMQPValue> {
    d.properties
        .headers()
        .as_ref()
        .and_then(|h| h.inner().get(name).cloned())
}

fn attempts(d: &Delivery) -> u32 {
    header(d, ATTEMPTS)
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
    processed: Arc<dyn ProcessedEventStore>,
    /// This instance, in its claims.
    claimant: String,
    metrics: Arc<ConsumerMetrics>,
}

impl std::fmt::Debug for EventConsumer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventConsumer")
            .field("rabbit", &self.rabbit)
            .field("config", &self.config)
            .field("claimant", &self.claimant)
            .finish_non_exhaustive()
    }
}

impl EventConsumer {
    /// A consumer of `config.queue` on the broker and exchange of `rabbit`, remembering what
    /// it handled in `processed` (share one durable store between its replicas).
    #[must_use]
    pub fn new(
        rabbit: RabbitConfig,
        config: ConsumerConfig,
        processed: Arc<dyn ProcessedEventStore>,
    ) -> Self {
        Self {
            claimant: format!(
                "{}-{}",
                config.queue,
                EventId::generate().as_uuid().simple()
            ),
            rabbit,
            config,
            processed,
            metrics: Arc::new(ConsumerMetrics::default()),
        }
    }

    /// This consumer's counters (shared: read them while it runs).
    #[must_use]
    pub fn metrics(&self) -> Arc<ConsumerMetrics> {
        self.metrics.clone()
    }

    /// The queue this consumer reads (also its name in metrics).
    #[must_use]
    pub fn queue(&self) -> &str {
        &self.config.queue
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
        let Ok(mut event) = serde_json::from_slice::<DomainEvent>(&d.data) else {
            warn!(queue = %self.config.queue, "not a domain event; dead-lettering it");
            count(&self.metrics.dead_lettered);
            return d
                .nack(BasicNackOptions {
                    requeue: false,
                    multiple: false,
                })
                .await;
        };
        // The trace it belongs to: the handler's span continues it, and events the handler
        // makes carry it on.
        event.traceparent = header(&d, crate::trace::TRACEPARENT)
            .and_then(|v| match v {
                AMQPValue::LongString(s) => Some(s.to_string()),
                _ => None,
            })
            .filter(|tp| shop_core::trace::is_traceparent(tp));
        let span = crate::trace::handle_span(&self.config.queue, &event);
        self.handle_event(channel, d, event, handler)
            .instrument(span)
            .await
    }

    /// Handles one domain event (claim, handler, record, ack or retry), inside its span.
    async fn handle_event<H, F>(
        &self,
        channel: &Channel,
        d: Delivery,
        event: DomainEvent,
        handler: &H,
    ) -> Result<bool, lapin::Error>
    where
        H: Fn(DomainEvent) -> F,
        F: Future<Output = Result<(), String>>,
    {
        let id = event.id;
        let at = now();
        let claim = ProcessingClaim {
            consumer: self.config.queue.clone(),
            event_id: id,
            claimant: self.claimant.clone(),
            now: at,
            lease_until: at + TimeDelta::from_std(self.config.lease).unwrap_or(TimeDelta::MAX),
        };
        match self.processed.claim_processing(&claim).await {
            Ok(ProcessingState::Claimed) => {}
            Ok(ProcessingState::Processed) => {
                debug!(event_id = %id, "duplicate delivery absorbed");
                count(&self.metrics.duplicates);
                return d.ack(BasicAckOptions::default()).await;
            }
            Ok(ProcessingState::InProgress { until }) => {
                debug!(event_id = %id, %until, "another replica is handling it; back to the queue");
                return requeue_after_pause(d).await;
            }
            Err(e) => {
                warn!(event_id = %id, error = %e, "processed-event store unavailable; back to the queue");
                return requeue_after_pause(d).await;
            }
        }
        match handler(event).await {
            Ok(()) => {
                match self
                    .processed
                    .finish_processing(&self.config.queue, id, &self.claimant, now())
                    .await
                {
                    Ok(true) => {}
                    Ok(false) => warn!(
                        event_id = %id,
                        "claim lapsed before the handler finished; another replica may have handled it too"
                    ),
                    Err(e) => warn!(
                        event_id = %id, error = %e,
                        "handled, but not recorded; a redelivery after the lease may handle it again"
                    ),
                }
                count(&self.metrics.handled);
                d.ack(BasicAckOptions::default()).await
            }
            Err(e) => {
                if let Err(store) = self
                    .processed
                    .release_processing(&self.config.queue, id, &self.claimant)
                    .await
                {
                    warn!(event_id = %id, error = %store, "claim not released; it lapses with its lease");
                }
                let attempt = attempts(&d);
                if attempt >= self.config.max_attempts {
                    warn!(event_id = %id, attempt, error = %e, "handler gave up; dead-lettering");
                    count(&self.metrics.dead_lettered);
                    return d
                        .nack(BasicNackOptions {
                            requeue: false,
                            multiple: false,
                        })
                        .await;
                }
                warn!(event_id = %id, attempt, error = %e, "handler failed; will retry");
                count(&self.metrics.retried);
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

/// Puts `d` back at the head of its queue after a short pause.
async fn requeue_after_pause(d: Delivery) -> Result<bool, lapin::Error> {
    tokio::time::sleep(REQUEUE_PAUSE).await;
    d.nack(BasicNackOptions {
        requeue: true,
        multiple: false,
    })
    .await
}
