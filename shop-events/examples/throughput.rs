//! Events per second through the whole path: memory outbox → relay → RabbitMQ (persistent
//! messages, publisher confirms) → consumer (manual acks, idempotency check). The clock runs
//! from the relay's start until the consumer has handled the last event.
//!
//! ```text
//! cargo run --release -p shop-events --example throughput -- [EVENTS] [BATCH]
//! ```

#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::cast_precision_loss)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use shop_core::secret::SecretString;
use shop_core::{DomainEvent, EventType, OutboxStore, UserId};
use shop_events::{
    ConsumerConfig, EventConsumer, OutboxRelay, RabbitConfig, RabbitPublisher, RelayConfig,
};
use shop_store::MemoryStore;
use tokio::sync::watch;

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let n: usize = args.first().map_or(20_000, |s| s.parse().unwrap());
    let batch: usize = args.get(1).map_or(200, |s| s.parse().unwrap());
    let id = UserId::generate().as_uuid().simple().to_string();
    let url = std::env::var("RABBITMQ_URL")
        .unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".into());
    let rabbit = {
        let mut config = RabbitConfig::default();
        config.url = SecretString::from(url.clone());
        config.exchange = format!("shop-bench.{id}");
        config.connection_name = "shop-throughput".into();
        config
    };
    let handled = Arc::new(AtomicUsize::new(0));
    let counter = handled.clone();
    let consumer = EventConsumer::new(
        rabbit.clone(),
        {
            let mut config = ConsumerConfig::new(format!("shop-bench.{id}"), vec!["#".into()]);
            config.prefetch = 500;
            config.max_attempts = 3;
            config
        },
        Arc::new(MemoryStore::new()),
    );
    let (stop, stopped) = watch::channel(false);
    let consuming = tokio::spawn({
        let stopped = stopped.clone();
        async move {
            consumer
                .run(
                    move |_e| {
                        counter.fetch_add(1, Ordering::Relaxed);
                        std::future::ready(Ok(()))
                    },
                    stopped,
                )
                .await
        }
    });
    tokio::time::sleep(Duration::from_millis(500)).await; // let the consumer declare its queue

    let store = Arc::new(MemoryStore::new());
    let events: Vec<DomainEvent> = (0..n)
        .map(|i| {
            DomainEvent::new(
                EventType::OrderPlaced,
                UserId::generate().as_uuid(),
                serde_json::json!({ "n": i, "total": { "minor": 1999, "currency": "EUR" } }),
            )
        })
        .collect();
    store.append_events(&events).await.unwrap();
    let relay = OutboxRelay::new(store.clone(), Arc::new(RabbitPublisher::new(rabbit)), {
        let mut config = RelayConfig::default();
        config.batch_size = batch;
        config
    });
    let started = Instant::now();
    let relaying = tokio::spawn(async move { relay.run(stopped).await });
    while handled.load(Ordering::Relaxed) < n {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let elapsed = started.elapsed();
    stop.send(true).unwrap();
    relaying.await.unwrap();
    consuming.await.unwrap().unwrap();
    // Leave nothing behind on the broker.
    let conn = lapin::Connection::connect(&url, lapin::ConnectionProperties::default())
        .await
        .unwrap();
    let ch = conn.create_channel().await.unwrap();
    let queue = format!("shop-bench.{id}");
    for q in [queue.clone(), format!("{queue}.dlq")] {
        ch.queue_delete(q.as_str().into(), Default::default())
            .await
            .unwrap();
    }
    for x in [queue.clone(), format!("{queue}.dlx")] {
        ch.exchange_delete(x.as_str().into(), Default::default())
            .await
            .unwrap();
    }
    println!(
        "events={n} batch={batch} elapsed={:.2}s rate={:.0} events/s (outbox -> RabbitMQ with confirms -> consumer with acks)",
        elapsed.as_secs_f64(),
        n as f64 / elapsed.as_secs_f64()
    );
}
