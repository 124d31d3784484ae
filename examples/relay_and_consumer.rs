//! Running the outbox relay and an event consumer in your own process: orders placed through
//! the shop's services reach RabbitMQ through the transactional outbox, and a consumer of
//! yours (here: "send the order confirmation") handles each event once.
//!
//! ```text
//! RABBITMQ_URL=amqp://guest:guest@127.0.0.1:5672/%2f cargo run -p shop-examples --example relay_and_consumer
//! ```
//!
//! What to notice:
//! - The store wrote `OrderPlaced` in the same unit of work as the order; nothing is lost if
//!   the broker is down — the [`OutboxRelay`] publishes it when it can (with publisher
//!   confirms) and only then marks it published. **Without a running relay, events pile up in
//!   the outbox.** Run one per deployment or per replica: relays claim batches, so several
//!   never publish the same event at once.
//! - Delivery is at-least-once: the [`EventConsumer`] deduplicates through a durable
//!   [`ProcessedEventStore`](shop_core::ProcessedEventStore) (every shop store is one), so a
//!   redelivered event does not send a second email.
//! - Both stop cleanly when the shutdown channel turns `true`.

// An example program talks to the person running it.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::sync::Arc;

use shop_core::{
    CartService, CheckoutConfig, CheckoutRequest, CheckoutService, CommerceStore, DomainEvent,
    EventType, IdempotencyKey, NewProduct, Order, Product, ProductInput, Quantity,
    RequestFingerprint, UserId,
};
use shop_events::{
    ConsumerConfig, EventConsumer, OutboxRelay, RabbitConfig, RabbitPublisher, RelayConfig,
};
use shop_store::MemoryStore;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

/// The relay and the consumer, running until `shutdown` turns `true`. Each handled
/// `order.placed` event is passed to `confirmations` (your email sender, in real life).
fn start(
    store: Arc<MemoryStore>,
    rabbit: &RabbitConfig,
    queue: &str,
    confirmations: mpsc::UnboundedSender<DomainEvent>,
    shutdown: &watch::Receiver<bool>,
) -> (JoinHandle<()>, JoinHandle<()>) {
    let relay = OutboxRelay::new(
        store.clone(),
        Arc::new(RabbitPublisher::new(rabbit.clone())),
        RelayConfig::default(),
    );
    let relaying = tokio::spawn({
        let shutdown = shutdown.clone();
        async move { relay.run(shutdown).await }
    });
    let consumer = EventConsumer::new(
        rabbit.clone(),
        ConsumerConfig::new(queue, vec![EventType::OrderPlaced.as_str().to_owned()]),
        store,
    );
    let consuming = tokio::spawn({
        let shutdown = shutdown.clone();
        async move {
            // The consumer returns on a lost connection; run it again to reconnect.
            while !*shutdown.borrow() {
                let handler = |event: DomainEvent| {
                    let sent = confirmations.send(event).map_err(|e| e.to_string());
                    std::future::ready(sent)
                };
                if let Err(e) = consumer.run(handler, shutdown.clone()).await {
                    eprintln!("consumer stopped ({e}); reconnecting");
                    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                }
            }
        }
    });
    (relaying, consuming)
}

/// Places one order through the shop's services (what your HTTP handlers would do).
async fn place_an_order(store: &Arc<MemoryStore>) -> Result<Order, shop_core::Error> {
    let commerce: Arc<dyn CommerceStore> = store.clone();
    let input: ProductInput = serde_json::from_value(serde_json::json!({
        "sku": "EX-MUG", "name": "Mug", "price_minor": 1200, "currency": "EUR", "stock": 10
    }))
    .map_err(|e| shop_core::Error::internal(e.to_string()))?;
    let product = Product::create(NewProduct::try_from(input)?);
    commerce.create_product(&product).await?;
    let user = UserId::generate();
    let quantity = Quantity::new(2).map_err(shop_core::Error::from)?;
    CartService::new(commerce.clone())
        .add_item(user, product.id, quantity)
        .await?;
    let outcome = CheckoutService::new(commerce, CheckoutConfig::default())
        .checkout(&CheckoutRequest {
            user_id: user,
            idempotency_key: IdempotencyKey::parse("example-1")?,
            fingerprint: RequestFingerprint::parse("0".repeat(64))?,
            expected_cart_version: None,
        })
        .await?;
    Ok(outcome.order)
}

fn rabbit_config() -> RabbitConfig {
    let mut config = RabbitConfig::from_env().unwrap_or_default();
    config.connection_name = "shop-example".into();
    config
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let store = Arc::new(MemoryStore::new());
    let (stop, shutdown) = watch::channel(false);
    let (sent, mut confirmations) = mpsc::unbounded_channel();
    let (relaying, consuming) = start(
        store.clone(),
        &rabbit_config(),
        "example.order-confirmations",
        sent,
        &shutdown,
    );
    let order = place_an_order(&store).await?;
    println!("placed order {}", order.id);
    if let Some(event) = confirmations.recv().await {
        println!(
            "would email the confirmation of {}",
            event.payload_value()["order_id"]
        );
    }
    stop.send(true)?;
    relaying.await?;
    consuming.await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // test code

    use std::time::Duration;

    use lapin::{Connection, ConnectionProperties};
    use shop_core::OutboxStore as _;
    use shop_core::secret::ExposeSecret as _;

    use super::*;

    /// The broker, or `None` (outside CI) when it cannot be reached.
    async fn broker(config: &RabbitConfig) -> Option<Connection> {
        let url = config.url.expose_secret();
        match tokio::time::timeout(
            Duration::from_secs(10),
            Connection::connect(url, ConnectionProperties::default()),
        )
        .await
        {
            Ok(Ok(c)) => Some(c),
            _ => {
                assert!(
                    std::env::var("CI").as_deref() != Ok("true"),
                    "RabbitMQ is required under CI=true but unreachable"
                );
                eprintln!("skipping: RabbitMQ unreachable");
                None
            }
        }
    }

    #[tokio::test]
    async fn an_order_placed_reaches_the_consumer_once_through_the_broker() {
        let tag = uuid::Uuid::now_v7().simple().to_string();
        let mut rabbit = rabbit_config();
        rabbit.exchange = format!("shop-example.{tag}");
        let Some(plumbing) = broker(&rabbit).await else {
            return;
        };
        let queue = format!("shop-example.{tag}.confirmations");
        let store = Arc::new(MemoryStore::new());
        let (stop, shutdown) = watch::channel(false);
        let (sent, mut confirmations) = mpsc::unbounded_channel();
        let (relaying, consuming) = start(store.clone(), &rabbit, &queue, sent, &shutdown);
        // Let the consumer declare and bind its queue before the relay publishes.
        tokio::time::sleep(Duration::from_millis(500)).await;

        let order = place_an_order(&store).await.unwrap();
        let event = tokio::time::timeout(Duration::from_secs(20), confirmations.recv())
            .await
            .expect("the consumer saw no event within 20 s")
            .unwrap();
        assert_eq!(event.event_type, EventType::OrderPlaced);
        assert_eq!(event.payload_value()["order_id"], order.id.to_string());
        // Once: nothing else arrives (no StockLow is bound, no duplicate is handled).
        assert!(
            tokio::time::timeout(Duration::from_millis(700), confirmations.recv())
                .await
                .is_err()
        );
        assert_eq!(store.outbox_stats().await.unwrap().pending, 0);

        stop.send(true).unwrap();
        relaying.await.unwrap();
        consuming.await.unwrap();
        let channel = plumbing.create_channel().await.unwrap();
        for q in [queue.clone(), format!("{queue}.dlq")] {
            channel
                .queue_delete(q.as_str().into(), Default::default())
                .await
                .unwrap();
        }
        for x in [rabbit.exchange.clone(), format!("{queue}.dlx")] {
            channel
                .exchange_delete(x.as_str().into(), Default::default())
                .await
                .unwrap();
        }
    }
}
