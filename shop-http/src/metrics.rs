//! Prometheus metrics: request counts and latency by route and status, checkout outcomes and
//! outbox lag, served at `GET /metrics` in the OpenMetrics text format.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use parking_lot::Mutex;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use shop_core::{OutboxStats, PurgeReport};
use shop_events::RelayMetrics;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    /// The route template (`/api/products/{id}`), never the raw path: bounded cardinality.
    route: String,
    status: u16,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CheckoutLabels {
    outcome: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PurgeLabels {
    kind: &'static str,
}

fn latency_histogram() -> Histogram {
    // 0.5 ms … ~16 s.
    Histogram::new(exponential_buckets(0.0005, 2.0, 16))
}

/// The API's metrics. One per router; cheap to share.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RequestLabels, Histogram, fn() -> Histogram>,
    checkouts: Family<CheckoutLabels, Counter>,
    outbox_pending: Gauge,
    outbox_lag: Gauge<f64, AtomicU64>,
    throttle_failovers: Counter,
    relayed: Counter,
    unroutable: Counter,
    refused: Counter,
    relay_failures: Counter,
    purged: Family<PurgeLabels, Counter>,
    purge_failures: Counter,
    /// Serialises renders so two scrapes don't interleave their gauge updates.
    render_lock: Mutex<()>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Empty metrics, every family registered.
    #[must_use]
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("shop");
        let requests = Family::<RequestLabels, Counter>::default();
        let latency = Family::new_with_constructor(latency_histogram as fn() -> Histogram);
        let checkouts = Family::<CheckoutLabels, Counter>::default();
        let outbox_pending = Gauge::default();
        let outbox_lag = Gauge::<f64, AtomicU64>::default();
        registry.register(
            "http_requests",
            "HTTP requests by method, route template and status",
            requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency by method, route template and status",
            latency.clone(),
        );
        registry.register(
            "checkouts",
            "Checkout attempts by outcome (placed, replayed, or the error code)",
            checkouts.clone(),
        );
        registry.register(
            "outbox_pending_events",
            "Domain events written but not yet published",
            outbox_pending.clone(),
        );
        registry.register(
            "outbox_lag_seconds",
            "Age of the oldest unpublished domain event (0 when none)",
            outbox_lag.clone(),
        );
        let throttle_failovers = Counter::default();
        registry.register(
            "login_throttle_failovers",
            "Login attempts counted per process because the shared throttle (Redis) was unreachable",
            throttle_failovers.clone(),
        );
        let [relayed, unroutable, refused, relay_failures] = [(); 4].map(|()| Counter::default());
        for (name, help, counter) in [
            (
                "outbox_events_published",
                "Events the broker confirmed and the relays marked published (unroutable ones included)",
                &relayed,
            ),
            (
                "outbox_events_unroutable",
                "Confirmed events no queue was bound for: the broker dropped them; the outbox keeps them",
                &unroutable,
            ),
            (
                "outbox_events_refused",
                "Events the broker did not take; they stay in the outbox and are sent again",
                &refused,
            ),
            (
                "outbox_relay_failures",
                "Relay batches that failed as a whole (broker or store unreachable)",
                &relay_failures,
            ),
        ] {
            registry.register(name, help, counter.clone());
        }
        let purged = Family::<PurgeLabels, Counter>::default();
        registry.register(
            "retention_purged_records",
            "Records deleted by retention purges, by kind",
            purged.clone(),
        );
        let purge_failures = Counter::default();
        registry.register(
            "retention_purge_failures",
            "Retention purges that stopped on a store error",
            purge_failures.clone(),
        );
        Self {
            registry,
            requests,
            latency,
            checkouts,
            outbox_pending,
            outbox_lag,
            throttle_failovers,
            relayed,
            unroutable,
            refused,
            relay_failures,
            purged,
            purge_failures,
            render_lock: Mutex::new(()),
        }
    }

    /// Records one finished request.
    pub fn observe_request(&self, method: &str, route: &str, status: u16, took: Duration) {
        let labels = RequestLabels {
            method: method.to_owned(),
            route: route.to_owned(),
            status,
        };
        self.requests.get_or_create(&labels).inc();
        self.latency
            .get_or_create(&labels)
            .observe(took.as_secs_f64());
    }

    /// Records one checkout outcome: `placed`, `replayed` or an error code.
    pub fn observe_checkout(&self, outcome: &str) {
        self.checkouts
            .get_or_create(&CheckoutLabels {
                outcome: outcome.to_owned(),
            })
            .inc();
    }

    /// Brings `shop_login_throttle_failovers_total` up to `total`, the count the auth service
    /// keeps (see `shop_auth::AuthService::throttle_failovers`).
    pub fn set_login_throttle_failovers(&self, total: u64) {
        let _guard = self.render_lock.lock();
        raise(&self.throttle_failovers, total);
    }

    /// Brings the `shop_outbox_events_*` and `shop_outbox_relay_failures` counters up to what
    /// the relay counted.
    pub fn set_relay_counts(&self, relay: &RelayMetrics) {
        let _guard = self.render_lock.lock();
        for (counter, total) in [
            (&self.relayed, &relay.confirmed),
            (&self.unroutable, &relay.unroutable),
            (&self.refused, &relay.refused),
            (&self.relay_failures, &relay.failed),
        ] {
            raise(counter, total.load(Ordering::Relaxed));
        }
    }

    /// Records what one retention purge deleted.
    pub fn observe_purge(&self, report: &PurgeReport) {
        for (kind, n) in [
            ("published_events", report.published_events),
            ("refresh_tokens", report.refresh_tokens),
            ("idempotency_keys", report.idempotency_keys),
            ("processed_events", report.processed_events),
        ] {
            self.purged.get_or_create(&PurgeLabels { kind }).inc_by(n);
        }
    }

    /// Records a retention purge that stopped on a store error.
    pub fn observe_purge_failure(&self) {
        self.purge_failures.inc();
    }

    /// The text exposition, with the outbox gauges set from `outbox` (left as they were when
    /// the store could not say).
    #[must_use]
    pub fn render(&self, outbox: Option<OutboxStats>) -> String {
        let _guard = self.render_lock.lock();
        if let Some(stats) = outbox {
            self.outbox_pending
                .set(i64::try_from(stats.pending).unwrap_or(i64::MAX));
            let lag = stats.oldest_pending_at.map_or(0.0, |at| {
                (shop_core::time::now() - at).num_milliseconds().max(0) as f64 / 1000.0
            });
            self.outbox_lag.set(lag);
        }
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }
}

/// Raises `counter` to `total` (a count kept elsewhere), never lowers it.
fn raise(counter: &Counter, total: u64) {
    let counted = counter.get();
    if total > counted {
        counter.inc_by(total - counted);
    }
}

/// Middleware recording every routed request.
pub(crate) async fn track(
    State(metrics): State<Arc<Metrics>>,
    req: Request,
    next: Next,
) -> Response {
    // MatchedPath clones cheaply (shared text); the label set makes the one owned copy.
    let route = req.extensions().get::<MatchedPath>().cloned();
    let method = req.method().clone();
    let started = Instant::now();
    let res = next.run(req).await;
    metrics.observe_request(
        method.as_str(),
        route.as_ref().map_or("unmatched", MatchedPath::as_str),
        res.status().as_u16(),
        started.elapsed(),
    );
    res
}
