//! The reference consumer of domain events: on `order.placed` it writes the confirmation a
//! mailer would send (one `info` line with the order, its customer and its total). It shows
//! the consuming side wired as a team would: a durable queue every replica shares, duplicates
//! absorbed through the commerce store's processed-event records, its counters at `/metrics`,
//! and the trace that placed the order continued into the handler.

use std::sync::Arc;
use std::time::Duration;

use shop_core::{DomainEvent, ProcessedEventStore};
use shop_events::{ConsumerConfig, EventConsumer, RabbitConfig};
use shop_http::Metrics;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tracing::{info, warn};

/// Consumes until `stop` turns true, reconnecting after a lost broker connection.
pub(crate) fn spawn(
    rabbit: RabbitConfig,
    processed: Arc<dyn ProcessedEventStore>,
    metrics: &Metrics,
    mut stop: watch::Receiver<bool>,
) -> JoinHandle<()> {
    // One queue per deployment (named after its exchange), shared by every replica.
    let queue = format!("{}.order-notifications", rabbit.exchange);
    // Which broker, as configured (password redacted), for the warnings.
    let broker = rabbit.redacted_url();
    let consumer = EventConsumer::new(
        rabbit,
        ConsumerConfig::new(queue.clone(), vec!["order.placed".into()]),
        processed,
    );
    metrics.watch_consumer(&queue, consumer.metrics());
    tokio::spawn(async move {
        while !*stop.borrow() {
            if let Err(e) = consumer.run(confirm_order, stop.clone()).await {
                warn!(
                    queue = consumer.queue(),
                    broker = %broker,
                    error = %e,
                    "consumer lost the broker; reconnecting"
                );
            }
            // A lost connection (or a clean end of the stream): wait a little, unless stopping.
            tokio::select! {
                () = tokio::time::sleep(Duration::from_secs(2)) => {}
                _ = stop.changed() => {}
            }
        }
    })
}

async fn confirm_order(event: DomainEvent) -> Result<(), String> {
    let order = event.payload_value();
    info!(
        order_id = %event.aggregate_id,
        user_id = order["user_id"].as_str().unwrap_or_default(),
        total_minor = order["total"]["minor"].as_i64().unwrap_or_default(),
        currency = order["total"]["currency"].as_str().unwrap_or_default(),
        "order confirmation sent"
    );
    Ok(())
}
