//! RabbitMQ: configuration and the publisher.
//!
//! Events go to a durable topic exchange (default `shop.events`) with the event type as the
//! routing key (`order.placed`, …), as persistent JSON messages whose `message_id` is the event
//! ID. The channel is in confirm mode: a batch is published back to back and then every
//! confirm is awaited (pipelined, one round trip per batch, not per message). Messages are
//! `mandatory`: one the broker cannot route to any queue comes back and fails the batch, so an
//! event is never silently dropped for want of a binding.

use std::fmt;

use async_trait::async_trait;
use lapin::Confirmation;
use lapin::options::{BasicPublishOptions, ConfirmSelectOptions, ExchangeDeclareOptions};
use lapin::types::{AMQPValue, FieldTable};
use lapin::{BasicProperties, Channel, Connection, ConnectionProperties, ExchangeKind};
use shop_core::DomainEvent;
use shop_core::config::ConfigError;
use shop_core::secret::{ExposeSecret, SecretString, redact_url};
use tokio::sync::Mutex;
use tracing::{Instrument, info, warn};

use crate::publisher::{Delivery, EventPublisher, PublishError};

/// How to reach RabbitMQ. `Debug` never shows the password.
///
/// | variable | meaning | default |
/// |---|---|---|
/// | `RABBITMQ_URL` | AMQP URL | `amqp://guest:guest@127.0.0.1:5672/%2f` |
/// | `RABBITMQ_EXCHANGE` | topic exchange for domain events | `shop.events` |
#[derive(Clone)]
#[non_exhaustive]
pub struct RabbitConfig {
    /// AMQP URL (may hold credentials).
    pub url: SecretString,
    /// The durable topic exchange events are published to.
    pub exchange: String,
    /// How the connection shows in the broker's connection list.
    pub connection_name: String,
}

impl Default for RabbitConfig {
    fn default() -> Self {
        Self {
            url: SecretString::from("amqp://guest:guest@127.0.0.1:5672/%2f"),
            exchange: "shop.events".into(),
            connection_name: "shop".into(),
        }
    }
}

impl RabbitConfig {
    /// The broker's URL with its password replaced, for logs and error messages.
    #[must_use]
    pub fn redacted_url(&self) -> String {
        redact_url(self.url.expose_secret())
    }

    /// Reads the variables in the table above.
    ///
    /// # Errors
    /// A [`ConfigError`] naming a malformed variable.
    pub fn from_env() -> Result<Self, ConfigError> {
        let mut c = Self::default();
        if let Some(url) = std::env::var("RABBITMQ_URL").ok().filter(|v| !v.is_empty()) {
            if !(url.starts_with("amqp://") || url.starts_with("amqps://")) {
                return Err(ConfigError::new(
                    "RABBITMQ_URL",
                    "must start with amqp:// or amqps://",
                ));
            }
            c.url = SecretString::from(url);
        }
        if let Some(x) = std::env::var("RABBITMQ_EXCHANGE")
            .ok()
            .filter(|v| !v.is_empty())
        {
            c.exchange = x;
        }
        Ok(c)
    }
}

impl fmt::Debug for RabbitConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RabbitConfig")
            .field("url", &redact_url(self.url.expose_secret()))
            .field("exchange", &self.exchange)
            .field("connection_name", &self.connection_name)
            .finish()
    }
}

/// Opens a connection named after the config.
pub(crate) async fn connect(config: &RabbitConfig) -> Result<Connection, lapin::Error> {
    let props = ConnectionProperties::default()
        .with_connection_name(config.connection_name.as_str().into());
    Connection::connect(config.url.expose_secret(), props).await
}

/// Declares the durable topic exchange.
pub(crate) async fn declare_exchange(
    channel: &Channel,
    exchange: &str,
) -> Result<(), lapin::Error> {
    channel
        .exchange_declare(
            exchange.into(),
            ExchangeKind::Topic,
            ExchangeDeclareOptions {
                durable: true,
                ..ExchangeDeclareOptions::default()
            },
            FieldTable::default(),
        )
        .await
}

/// Publishes to RabbitMQ with publisher confirms, `mandatory`, and reports per event: a
/// confirmed event is [`Delivery::Delivered`], or [`Delivery::Unroutable`] when the broker
/// returned it because no queue is bound for its type; a nacked one [`Delivery::Failed`].
/// A broken connection fails the batch; it reconnects on the next one.
pub struct RabbitPublisher {
    config: RabbitConfig,
    state: Mutex<Option<(Connection, Channel)>>,
}

impl fmt::Debug for RabbitPublisher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RabbitPublisher")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

fn unavailable(e: &lapin::Error) -> PublishError {
    PublishError::Unavailable(e.to_string())
}

impl RabbitPublisher {
    /// A publisher; it connects on first use (and again after a failure).
    #[must_use]
    pub fn new(config: RabbitConfig) -> Self {
        Self {
            config,
            state: Mutex::new(None),
        }
    }

    async fn open(&self) -> Result<(Connection, Channel), lapin::Error> {
        let conn = connect(&self.config).await?;
        let channel = conn.create_channel().await?;
        channel
            .confirm_select(ConfirmSelectOptions::default())
            .await?;
        declare_exchange(&channel, &self.config.exchange).await?;
        info!(target = %redact_url(self.config.url.expose_secret()), exchange = %self.config.exchange, "connected to RabbitMQ");
        Ok((conn, channel))
    }

    async fn publish_on(
        &self,
        channel: &Channel,
        events: &[DomainEvent],
    ) -> Result<Vec<Delivery>, PublishError> {
        let mut confirms = Vec::with_capacity(events.len());
        for e in events {
            let payload = match serde_json::to_vec(e) {
                Ok(p) => p,
                Err(err) => {
                    confirms.push(Err(format!("not serializable: {err}")));
                    continue;
                }
            };
            let span = crate::trace::publish_span(e);
            let mut properties = BasicProperties::default()
                .with_delivery_mode(2)
                .with_content_type("application/json".into())
                .with_message_id(e.id.to_string().as_str().into())
                .with_type(e.event_type.as_str().into())
                .with_timestamp(u64::try_from(e.occurred_at.timestamp()).unwrap_or(0));
            if let Some(tp) = crate::trace::outgoing(&span, e) {
                let mut headers = FieldTable::default();
                headers.insert(
                    crate::trace::TRACEPARENT.into(),
                    AMQPValue::LongString(tp.into()),
                );
                properties = properties.with_headers(headers);
            }
            let confirm = channel
                .basic_publish(
                    self.config.exchange.as_str().into(),
                    e.event_type.as_str().into(),
                    BasicPublishOptions {
                        mandatory: true,
                        ..BasicPublishOptions::default()
                    },
                    &payload,
                    properties,
                )
                .instrument(span)
                .await
                .map_err(|err| unavailable(&err))?;
            confirms.push(Ok(confirm));
        }
        // All sent; now each confirm decides its own event.
        let mut outcomes = Vec::with_capacity(confirms.len());
        for confirm in confirms {
            outcomes.push(match confirm {
                Err(reason) => Delivery::Failed(reason),
                Ok(confirm) => match confirm.await.map_err(|err| unavailable(&err))? {
                    Confirmation::Ack(None) => Delivery::Delivered,
                    // `mandatory` and no queue bound: returned, yet confirmed.
                    Confirmation::Ack(Some(_)) => Delivery::Unroutable,
                    Confirmation::Nack(_) => Delivery::Failed("nacked by the broker".into()),
                    Confirmation::NotRequested => {
                        return Err(PublishError::Unavailable("confirms are not enabled".into()));
                    }
                },
            });
        }
        Ok(outcomes)
    }
}

#[async_trait]
impl EventPublisher for RabbitPublisher {
    async fn publish(&self, events: &[DomainEvent]) -> Result<Vec<Delivery>, PublishError> {
        if events.is_empty() {
            return Ok(Vec::new());
        }
        // One batch at a time: confirms are matched to this batch only.
        let mut state = self.state.lock().await;
        let stale = state
            .as_ref()
            .is_none_or(|(conn, ch)| !conn.status().connected() || !ch.status().connected());
        if stale {
            *state = None;
            // Which broker, as configured (password redacted): "connection refused" alone
            // does not say where to look.
            *state = Some(self.open().await.map_err(|e| {
                let broker = self.config.redacted_url();
                PublishError::Unavailable(format!("cannot use the broker at {broker}: {e}"))
            })?);
        }
        let Some((_, channel)) = state.as_ref() else {
            return Err(PublishError::Unavailable("no channel".into()));
        };
        let result = self.publish_on(channel, events).await;
        if let Err(PublishError::Unavailable(why)) = &result {
            warn!(reason = %why, "RabbitMQ publish failed; reconnecting on the next batch");
            *state = None;
        }
        result
    }
}
