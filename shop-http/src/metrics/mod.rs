//! Prometheus metrics, served at `GET /metrics` in the OpenMetrics text format: every
//! response by route and status (whichever layer made it) with its latency; checkout
//! outcomes; the business (orders placed and cancelled, revenue by currency, cart additions,
//! logins by outcome); the outbox and its relay; retention purges; the standard `process_*`
//! metrics. Embedders add their own with [`Metrics::register`].

mod process;

use std::borrow::Cow;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use parking_lot::Mutex;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::{Metric, Registry};
use shop_core::{Money, OutboxStats, PurgeReport};
use shop_events::{ConsumerMetrics, RelayMetrics};

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    /// Borrowed for the standard methods: no allocation per request.
    method: Cow<'static, str>,
    /// The route template (`/api/products/{id}`), never the raw path: bounded cardinality.
    route: String,
    status: u16,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CheckoutLabels {
    outcome: Cow<'static, str>,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PurgeLabels {
    kind: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ConsumedLabels {
    queue: String,
    outcome: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CurrencyLabels {
    currency: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LoginLabels {
    outcome: &'static str,
}

/// How a login attempt ended, for `shop_logins_total{outcome}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginOutcome {
    /// Signed in.
    Succeeded,
    /// Wrong email or password.
    Failed,
    /// Refused by the login throttle before the password was tried.
    Throttled,
}

impl LoginOutcome {
    const ALL: [Self; 3] = [Self::Succeeded, Self::Failed, Self::Throttled];

    /// The `outcome` label.
    fn label(self) -> &'static str {
        match self {
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::Throttled => "throttled",
        }
    }
}

fn latency_histogram() -> Histogram {
    // 0.5 ms … ~16 s.
    Histogram::new(exponential_buckets(0.0005, 2.0, 16))
}

/// The API's metrics. One per router; cheap to share.
pub struct Metrics {
    /// Also serialises renders, so two scrapes don't interleave their gauge updates.
    registry: Mutex<Registry>,
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
    relay_retries: Counter,
    purged: Family<PurgeLabels, Counter>,
    purge_failures: Counter,
    orders_placed: Counter,
    orders_cancelled: Counter,
    revenue: Family<CurrencyLabels, Counter>,
    cart_additions: Counter,
    logins: Family<LoginLabels, Counter>,
    ready: Gauge,
    consumed: Family<ConsumedLabels, Counter>,
    consumers: Mutex<Vec<(String, Arc<ConsumerMetrics>)>>,
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
        let mut root = Registry::default();
        root.register_collector(Box::new(process::ProcessCollector));
        let registry = root.sub_registry_with_prefix("shop");
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
        let [relayed, unroutable, refused, relay_failures, relay_retries] =
            [(); 5].map(|()| Counter::default());
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
            (
                "outbox_relay_retries",
                "Retries the relays scheduled after a failed batch",
                &relay_retries,
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
        let [orders_placed, orders_cancelled, cart_additions] =
            [(); 3].map(|()| Counter::default());
        registry.register(
            "orders_placed",
            "Orders placed (replayed checkouts not counted again)",
            orders_placed.clone(),
        );
        registry.register(
            "orders_cancelled",
            "Orders cancelled, by their customer or an admin",
            orders_cancelled.clone(),
        );
        let revenue = Family::<CurrencyLabels, Counter>::default();
        registry.register(
            "order_revenue_minor_units",
            "Sum of placed orders' totals in the currency's minor units (cents for EUR), by currency",
            revenue.clone(),
        );
        registry.register(
            "cart_additions",
            "Products added to carts",
            cart_additions.clone(),
        );
        let logins = Family::<LoginLabels, Counter>::default();
        registry.register(
            "logins",
            "Login attempts by outcome: succeeded, failed (wrong credentials) or throttled",
            logins.clone(),
        );
        // Every outcome from the start: a rate over a series that appears later misses its
        // first increase.
        for outcome in LoginOutcome::ALL {
            let _ = logins.get_or_create(&LoginLabels {
                outcome: outcome.label(),
            });
        }
        let ready = Gauge::default();
        registry.register(
            "ready",
            "1 when this replica would answer /ready with 200 (every store answers, not draining)",
            ready.clone(),
        );
        let consumed = Family::<ConsumedLabels, Counter>::default();
        registry.register(
            "events_consumed",
            "Deliveries to event consumers by queue and outcome: handled, duplicate, retried, dead_lettered",
            consumed.clone(),
        );
        Self {
            registry: Mutex::new(root),
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
            relay_retries,
            purged,
            purge_failures,
            orders_placed,
            orders_cancelled,
            revenue,
            cart_additions,
            logins,
            ready,
            consumed,
            consumers: Mutex::new(Vec::new()),
        }
    }

    /// Serves the counters of an event consumer (`shop_events_consumed_total{queue, outcome}`).
    pub fn watch_consumer(&self, queue: &str, counters: Arc<ConsumerMetrics>) {
        self.consumers.lock().push((queue.to_owned(), counters));
    }

    /// Sets `shop_ready`.
    pub fn set_ready(&self, ready: bool) {
        self.ready.set(i64::from(ready));
    }

    /// Registers an embedder's own metric in the same registry, served at the same
    /// `/metrics`. `name` is taken as given (no `shop_` prefix); counters get `_total`.
    ///
    /// ```
    /// use prometheus_client::metrics::counter::Counter;
    /// let metrics = shop_http::Metrics::new();
    /// let gift_wraps = Counter::<u64>::default();
    /// metrics.register("gift_wraps", "Orders gift-wrapped", gift_wraps.clone());
    /// gift_wraps.inc();
    /// assert!(metrics.render(None).contains("gift_wraps_total 1"));
    /// ```
    pub fn register(&self, name: &str, help: &str, metric: impl Metric) {
        self.registry.lock().register(name, help, metric);
    }

    /// Registers an embedder's collector (metrics computed at each scrape).
    pub fn register_collector(&self, collector: Box<dyn Collector>) {
        self.registry.lock().register_collector(collector);
    }

    /// Records a placed order (not a replay): the count and its total's revenue.
    pub fn observe_order_placed(&self, total: Money) {
        self.orders_placed.inc();
        // Revenue counts up: a negative total (never made by checkout) is not revenue.
        let minor = u64::try_from(total.minor()).unwrap_or(0);
        self.revenue
            .get_or_create(&CurrencyLabels {
                currency: total.currency().code().to_owned(),
            })
            .inc_by(minor);
    }

    /// Records a cancelled order.
    pub fn observe_order_cancelled(&self) {
        self.orders_cancelled.inc();
    }

    /// Records a product added to a cart.
    pub fn observe_cart_addition(&self) {
        self.cart_additions.inc();
    }

    /// Records how a login attempt ended.
    pub fn observe_login(&self, outcome: LoginOutcome) {
        self.logins
            .get_or_create(&LoginLabels {
                outcome: outcome.label(),
            })
            .inc();
    }

    /// Records one finished request.
    pub fn observe_request(&self, method: &Method, route: &str, status: u16, took: Duration) {
        let labels = RequestLabels {
            method: method_label(method),
            route: route.to_owned(),
            status,
        };
        self.requests.get_or_create(&labels).inc();
        self.latency
            .get_or_create(&labels)
            .observe(took.as_secs_f64());
    }

    /// Records one checkout outcome: `placed`, `replayed` or an error code.
    pub fn observe_checkout(&self, outcome: impl Into<Cow<'static, str>>) {
        self.checkouts
            .get_or_create(&CheckoutLabels {
                outcome: outcome.into(),
            })
            .inc();
    }

    /// Brings `shop_login_throttle_failovers_total` up to `total`, the count the auth service
    /// keeps (see `shop_auth::AuthService::throttle_failovers`).
    pub fn set_login_throttle_failovers(&self, total: u64) {
        let _guard = self.registry.lock();
        raise(&self.throttle_failovers, total);
    }

    /// Brings the `shop_outbox_events_*`, `shop_outbox_relay_failures` and
    /// `shop_outbox_relay_retries` counters up to what the relay counted.
    pub fn set_relay_counts(&self, relay: &RelayMetrics) {
        let _guard = self.registry.lock();
        for (counter, total) in [
            (&self.relayed, &relay.confirmed),
            (&self.unroutable, &relay.unroutable),
            (&self.refused, &relay.refused),
            (&self.relay_failures, &relay.failed),
            (&self.relay_retries, &relay.retried),
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
        let registry = self.registry.lock();
        for (queue, c) in self.consumers.lock().iter() {
            for (outcome, total) in [
                ("handled", &c.handled),
                ("duplicate", &c.duplicates),
                ("retried", &c.retried),
                ("dead_lettered", &c.dead_lettered),
            ] {
                let labels = ConsumedLabels {
                    queue: queue.clone(),
                    outcome,
                };
                raise(
                    &self.consumed.get_or_create(&labels),
                    total.load(Ordering::Relaxed),
                );
            }
        }
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
        let _ = encode(&mut out, &registry);
        out
    }
}

/// The Prometheus text format (0.0.4) of an OpenMetrics exposition, for clients that do not
/// ask for OpenMetrics (`promtool check metrics`, older scrapers, a person with curl): a
/// counter's `# HELP` and `# TYPE` name its samples' `_total` name, and the `# UNIT` and
/// `# EOF` lines, which that format lacks, are left out.
#[must_use]
pub fn openmetrics_to_text(openmetrics: &str) -> String {
    let counters: std::collections::HashSet<&str> = openmetrics
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.strip_suffix(" counter"))
        .collect();
    let mut out = String::with_capacity(openmetrics.len() + 16 * counters.len());
    for line in openmetrics.lines() {
        if line.starts_with("# UNIT ") || line == "# EOF" {
            continue;
        }
        let descriptor = ["# HELP ", "# TYPE "]
            .into_iter()
            .find_map(|p| line.strip_prefix(p).map(|rest| (p, rest)));
        match descriptor {
            Some((prefix, rest)) => {
                let (name, tail) = rest.split_once(' ').unwrap_or((rest, ""));
                out.push_str(prefix);
                out.push_str(name);
                if counters.contains(name) {
                    out.push_str("_total");
                }
                out.push(' ');
                out.push_str(tail);
            }
            None => out.push_str(line),
        }
        out.push('\n');
    }
    out
}

/// Raises `counter` to `total` (a count kept elsewhere), never lowers it.
fn raise(counter: &Counter, total: u64) {
    let counted = counter.get();
    if total > counted {
        counter.inc_by(total - counted);
    }
}

/// A method's label: static text for the standard methods, a copy for any other.
fn method_label(method: &Method) -> Cow<'static, str> {
    const STANDARD: [(Method, &str); 9] = [
        (Method::GET, "GET"),
        (Method::POST, "POST"),
        (Method::PUT, "PUT"),
        (Method::PATCH, "PATCH"),
        (Method::DELETE, "DELETE"),
        (Method::HEAD, "HEAD"),
        (Method::OPTIONS, "OPTIONS"),
        (Method::CONNECT, "CONNECT"),
        (Method::TRACE, "TRACE"),
    ];
    STANDARD.iter().find(|(m, _)| m == method).map_or_else(
        || Cow::Owned(method.as_str().to_owned()),
        |(_, s)| Cow::Borrowed(*s),
    )
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
        &method,
        route.as_ref().map_or("unmatched", MatchedPath::as_str),
        res.status().as_u16(),
        started.elapsed(),
    );
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_format_names_counters_by_their_samples() {
        let om = "# HELP shop_logins Login attempts.\n# TYPE shop_logins counter\n\
                  shop_logins_total{outcome=\"failed\"} 3\n\
                  # HELP process_start_time_seconds Start.\n# TYPE process_start_time_seconds gauge\n\
                  # UNIT process_start_time_seconds seconds\nprocess_start_time_seconds 1.5\n# EOF\n";
        assert_eq!(
            openmetrics_to_text(om),
            "# HELP shop_logins_total Login attempts.\n# TYPE shop_logins_total counter\n\
             shop_logins_total{outcome=\"failed\"} 3\n\
             # HELP process_start_time_seconds Start.\n# TYPE process_start_time_seconds gauge\n\
             process_start_time_seconds 1.5\n"
        );
    }
}
