//! Retention: the periodic purge every replica runs, and the `purge` subcommand.

use std::sync::Arc;
use std::time::Duration;

use shop_core::time::now;
use shop_core::{RefreshTokenStore, RetentionService, ShopStore};
use shop_http::Metrics;
use tokio::task::JoinHandle;
use tracing::{info, warn};

use crate::config::AppConfig;
use crate::stores::{Failure, close_all, open_all};

/// The purge over the configured stores: outbox, idempotency keys and processed events live
/// in the commerce store; refresh tokens with the users.
pub(crate) fn service(
    commerce: Arc<dyn ShopStore>,
    users: Arc<dyn ShopStore>,
    config: &AppConfig,
) -> RetentionService {
    let tokens: Arc<dyn RefreshTokenStore> = users;
    RetentionService::new(commerce.clone(), tokens, config.retention)
        .with_processed_events(commerce)
}

/// A fraction in [0, 1) from the system's randomness (0 if it has none).
fn random_fraction() -> f64 {
    let mut bytes = [0u8; 4];
    let _ = getrandom::fill(&mut bytes);
    f64::from(u32::from_le_bytes(bytes)) / (f64::from(u32::MAX) + 1.0)
}

/// Purges every `interval` (±10 %), the first time after a random part of it, so replicas
/// started together do not purge together. Safe on every replica at once: each deletion only
/// takes rows past their age, and racing deletions of a row delete it once.
pub(crate) fn spawn_periodic(
    retention: RetentionService,
    interval: Duration,
    metrics: Arc<Metrics>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut wait = interval.mul_f64(random_fraction());
        loop {
            tokio::time::sleep(wait).await;
            match retention.purge(now()).await {
                Ok(report) => metrics.observe_purge(&report),
                Err(e) => {
                    metrics.observe_purge_failure();
                    warn!(error = %e, "retention purge failed; the next one carries on");
                }
            }
            wait = interval.mul_f64(0.9 + 0.2 * random_fraction());
        }
    })
}

/// The `purge` subcommand: one purge with the configured policy, its counts printed as one
/// JSON line, then exit (for a cron job, or when `SHOP_PURGE_INTERVAL_SECS=0`).
pub(crate) async fn purge_once(config: AppConfig) -> Result<(), Failure> {
    let opened = open_all(&config).await?;
    let commerce = opened[&config.store].store.clone();
    let users = opened[&config.users_store].store.clone();
    let result = service(commerce, users, &config).purge(now()).await;
    close_all(opened).await;
    let report = result?;
    info!(?report, "purged");
    #[allow(clippy::print_stdout)] // the subcommand's output
    {
        println!(
            "{{\"published_events\":{},\"refresh_tokens\":{},\"idempotency_keys\":{},\"processed_events\":{}}}",
            report.published_events,
            report.refresh_tokens,
            report.idempotency_keys,
            report.processed_events
        );
    }
    Ok(())
}
