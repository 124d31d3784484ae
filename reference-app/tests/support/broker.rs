//! The machine's RabbitMQ, for tests that start the binary with `RABBITMQ_URL`: reachable or
//! skipped (a failure under `CI=true`), and a deployment's exchange and queues deleted after.

use std::time::Duration;

use lapin::options::{ExchangeDeleteOptions, QueueDeleteOptions};
use lapin::{Connection, ConnectionProperties};

/// `RABBITMQ_URL`, else the machine's broker.
pub(crate) fn rabbit_url() -> String {
    std::env::var("RABBITMQ_URL")
        .ok()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| "amqp://guest:guest@127.0.0.1:5672/%2f".to_owned())
}

/// A connection for the test's own plumbing, or `None` (and a message) when the broker is
/// unreachable outside CI.
pub(crate) async fn broker() -> Option<Connection> {
    match tokio::time::timeout(
        Duration::from_secs(10),
        Connection::connect(&rabbit_url(), ConnectionProperties::default()),
    )
    .await
    {
        Ok(Ok(c)) => Some(c),
        other => {
            let why = match other {
                Ok(Err(e)) => e.to_string(),
                _ => "timed out".into(),
            };
            assert!(
                !shop_store::scratch::services_required(),
                "RabbitMQ is required under CI=true but unreachable: {why}"
            );
            #[allow(clippy::print_stderr)] // why the test is skipped
            {
                eprintln!("skipping: RabbitMQ unreachable ({why})");
            }
            None
        }
    }
}

/// Deletes what an app with `RABBITMQ_EXCHANGE=exchange` declared: the exchange, and the
/// order-notifications queue with its dead-letter exchange and queue.
pub(crate) async fn delete_deployment(plumbing: &Connection, exchange: &str) {
    let channel = plumbing.create_channel().await.unwrap();
    let queue = format!("{exchange}.order-notifications");
    for q in [queue.clone(), format!("{queue}.dlq")] {
        let _ = channel
            .queue_delete(q.as_str().into(), QueueDeleteOptions::default())
            .await;
    }
    for x in [exchange.to_owned(), format!("{queue}.dlx")] {
        let _ = channel
            .exchange_delete(x.as_str().into(), ExchangeDeleteOptions::default())
            .await;
    }
}
