//! What handlers share, and how the HTTP layer is configured.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use shop_auth::AuthService;
use shop_core::{
    CartService, CheckoutConfig, CheckoutService, CommerceStore, OrderService, ReviewService,
    ReviewStore, StoreHealth,
};

use shop_events::RelayMetrics;

use crate::client_addr::TrustedProxies;
use crate::metrics::Metrics;

/// The stores and services handlers use. Cloned for every request, so it is one `Arc`: a
/// clone is one reference count, not one per store and service. Read its parts through it
/// (`state.commerce`, `state.metrics`, …; see [`SharedState`]).
#[derive(Clone)]
pub struct AppState(Arc<SharedState>);

/// What an [`AppState`] shares; built through [`AppState::new`] and its `with_*` methods.
#[derive(Clone)]
pub struct SharedState {
    /// Catalog, carts, orders and outbox (one backend; checkout spans them).
    pub commerce: Arc<dyn CommerceStore>,
    /// Reviews, possibly in another backend; without it the review routes answer 404.
    pub reviews: Option<Arc<dyn ReviewStore>>,
    /// Everything `/ready` checks (the commerce store is always included).
    pub readiness: Vec<(&'static str, Arc<dyn StoreHealth>)>,
    /// Users and sessions; without it the `/api/auth` routes are not served and requests stay
    /// anonymous.
    pub auth: Option<Arc<AuthService>>,
    /// Counters and histograms served at `/metrics`.
    pub metrics: Arc<Metrics>,
    /// Set at the start of a shutdown: `/ready` answers `503` from then on.
    pub draining: Draining,
    /// The outbox relay's counters, served at `/metrics` when given.
    pub relay: Option<Arc<RelayMetrics>>,
    /// What build this is, reported by `/health` when given.
    pub build: Option<BuildInfo>,
    pub(crate) carts: CartService,
    pub(crate) checkout: CheckoutService,
    pub(crate) orders: OrderService,
}

/// Which build of the application answers: its version and, when known, the source revision
/// it was built from (reported by `/health`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct BuildInfo {
    /// The application's version, e.g. `0.1.0`.
    pub version: String,
    /// The source revision (e.g. a git commit) it was built from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revision: Option<String>,
}

impl BuildInfo {
    /// A build of `version`, from `revision` when known.
    #[must_use]
    pub fn new(version: impl Into<String>, revision: Option<String>) -> Self {
        Self {
            version: version.into(),
            revision,
        }
    }
}

impl std::ops::Deref for AppState {
    type Target = SharedState;

    fn deref(&self) -> &SharedState {
        &self.0
    }
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::fmt::Debug for SharedState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<_> = self.readiness.iter().map(|(n, _)| *n).collect();
        f.debug_struct("AppState")
            .field("readiness", &names)
            .field("reviews", &self.reviews.is_some())
            .field("auth", &self.auth.is_some())
            .finish_non_exhaustive()
    }
}

impl AppState {
    /// State over a commerce store; `/ready` pings it.
    #[must_use]
    pub fn new(commerce: Arc<dyn CommerceStore>) -> Self {
        let health: Arc<dyn StoreHealth> = commerce.clone();
        Self(Arc::new(SharedState {
            carts: CartService::new(commerce.clone()),
            checkout: CheckoutService::new(commerce.clone(), CheckoutConfig::default()),
            orders: OrderService::new(commerce.clone()),
            commerce,
            reviews: None,
            readiness: vec![("commerce", health)],
            auth: None,
            metrics: Arc::new(Metrics::new()),
            draining: Draining::default(),
            relay: None,
            build: None,
        }))
    }

    fn parts(&mut self) -> &mut SharedState {
        Arc::make_mut(&mut self.0)
    }

    /// Serves the auth and profile routes with `auth` and authenticates bearer tokens with its
    /// keys.
    #[must_use]
    pub fn with_auth(mut self, auth: AuthService) -> Self {
        self.parts().auth = Some(Arc::new(auth));
        self
    }

    /// Serves the review routes from `reviews`.
    #[must_use]
    pub fn with_reviews(mut self, reviews: Arc<dyn ReviewStore>) -> Self {
        self.parts().reviews = Some(reviews);
        self
    }

    /// Checkout with other settings (e.g. the low-stock threshold).
    #[must_use]
    pub fn with_checkout_config(mut self, config: CheckoutConfig) -> Self {
        let checkout = CheckoutService::new(self.commerce.clone(), config);
        self.parts().checkout = checkout;
        self
    }

    /// Serves the counters of the outbox relay running beside this API at `/metrics`.
    #[must_use]
    pub fn with_relay_metrics(mut self, relay: Arc<RelayMetrics>) -> Self {
        self.parts().relay = Some(relay);
        self
    }

    /// Reports `build` in `/health`, so that a deployment can tell when its version is the
    /// one answering.
    #[must_use]
    pub fn with_build(mut self, build: BuildInfo) -> Self {
        self.parts().build = Some(build);
        self
    }

    /// Also checks `dependency` (another store, the broker) in `/ready`.
    #[must_use]
    pub fn with_readiness(mut self, name: &'static str, dependency: Arc<dyn StoreHealth>) -> Self {
        self.parts().readiness.push((name, dependency));
        self
    }

    pub(crate) fn review_service(&self) -> Option<(ReviewService, &Arc<dyn ReviewStore>)> {
        self.reviews.as_ref().map(|r| {
            (
                ReviewService::new(self.commerce.clone(), r.clone(), self.commerce.clone()),
                r,
            )
        })
    }
}

/// Whether the process is shutting down. Once [started](Draining::start), `/ready` answers
/// `503` so that balancers and orchestrators stop routing new requests here, while requests
/// keep being served until the server stops accepting. Cheap to clone; clones share the flag.
#[derive(Debug, Clone, Default)]
pub struct Draining(Arc<AtomicBool>);

impl Draining {
    /// Marks the process as shutting down (for good).
    pub fn start(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    /// Whether [`Draining::start`] was called.
    #[must_use]
    pub fn is_draining(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// HTTP settings.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct HttpConfig {
    /// Prefix every route is served under, e.g. `/shop` behind a gateway; empty for none.
    pub root_path: String,
    /// Largest accepted request body.
    pub body_limit: usize,
    /// Longest a request may take before the server answers 503.
    pub request_timeout: Duration,
    /// Requests in flight in the whole process; beyond it the server sheds load with an
    /// immediate 503.
    pub concurrency_limit: usize,
    /// Longest a connection may take to deliver a request head, counted from when the server
    /// starts waiting for it: a new connection, or a keep-alive one between requests.
    pub header_read_timeout: Duration,
    /// Most connections open at once; more wait in the listen backlog.
    pub max_connections: usize,
    /// Origins allowed by CORS; empty allows none.
    pub cors_origins: Vec<String>,
    /// Proxies whose `X-Forwarded-For` names the client (for throttling and logs); empty
    /// trusts none, so the client is the socket peer.
    pub trusted_proxies: TrustedProxies,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            root_path: String::new(),
            body_limit: 64 * 1024,
            request_timeout: Duration::from_secs(10),
            concurrency_limit: 1024,
            header_read_timeout: Duration::from_secs(10),
            max_connections: 10_000,
            cors_origins: Vec::new(),
            trusted_proxies: TrustedProxies::default(),
        }
    }
}
