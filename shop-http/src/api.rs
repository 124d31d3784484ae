//! [`ShopApi`]: the shop's routes as a building block for an application of your own.

use axum::Router;
use shop_auth::AuthLayer;
use utoipa::OpenApi as _;
use utoipa_axum::router::OpenApiRouter;

use crate::client_addr::ClientAddrLayer;
use crate::routes::{self, ops::OpenApiDoc};
use crate::state::{AppState, HttpConfig};
use crate::{access_log, openapi, refuse_token};

/// A part of the API that can be mounted on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum RouteGroup {
    /// `GET /health`, `/ready`, `/openapi.json`.
    Ops,
    /// `/api/auth/*`, `/api/users/me*` and `GET /.well-known/jwks.json` (needs an
    /// `AuthService` in the state; without one they answer `404`).
    Auth,
    /// `/api/products*` and the reviews under them.
    Catalog,
    /// `/api/cart*`.
    Cart,
    /// `POST /api/checkout` and `/api/orders*`.
    Orders,
    /// `GET /metrics`: for operators only (revenue, login counters), so it is not among the
    /// [public](Self::PUBLIC) groups; serve it on a private listener with
    /// [`crate::ops_router`].
    Metrics,
}

impl RouteGroup {
    /// Every group.
    pub const ALL: [Self; 6] = [
        Self::Ops,
        Self::Auth,
        Self::Catalog,
        Self::Cart,
        Self::Orders,
        Self::Metrics,
    ];

    /// What the public may reach: every group but [`Metrics`](Self::Metrics). What
    /// [`crate::router`] and [`ShopApi::new`] mount.
    pub const PUBLIC: [Self; 5] = [
        Self::Ops,
        Self::Auth,
        Self::Catalog,
        Self::Cart,
        Self::Orders,
    ];
}

/// The shop's routes for an application of your own: choose the groups, where they are
/// mounted, and whether the shop's middleware stack comes with them.
///
/// [`ShopApi::into_router`] returns an axum [`Router`] **without a fallback**, so it can be
/// `merge`d into an app that has its own, or `nest`ed under a path. Bearer tokens are verified
/// for its routes (when the state has an `AuthService`) and refused with a problem document.
/// Its `/openapi.json` documents only the chosen groups, with a `servers` entry for wherever
/// it is reached from (a [`prefix`](Self::prefix), your `nest` path, or both), and `Location`
/// headers carry that path too.
///
/// Without [`with_stack`](Self::with_stack) the routes come bare — your app's own layers
/// (tracing, timeouts, limits) wrap them; with it, they get the whole hardened stack that
/// [`crate::router`] uses (request IDs, access log, metrics, security headers, CORS, load
/// shedding, timeout, body limit, compression), around these routes only.
///
/// ```
/// use std::sync::Arc;
/// use axum::Router;
/// use shop_http::{AppState, RouteGroup, ShopApi};
/// use shop_store::MemoryStore;
///
/// let state = AppState::new(Arc::new(MemoryStore::new()));
/// let shop = ShopApi::new(state)
///     .groups([RouteGroup::Catalog, RouteGroup::Ops])
///     .prefix("/shop")
///     .into_router();
/// let app: Router = Router::new()
///     .route("/", axum::routing::get(|| async { "our own home page" }))
///     .merge(shop)
///     .fallback(|| async { "our own 404" });
/// ```
///
/// Serve it with `into_make_service_with_connect_info::<SocketAddr>()` (or
/// [`crate::serve`]): the login throttle and the access log need the peer's address.
#[derive(Debug, Clone)]
pub struct ShopApi {
    state: AppState,
    groups: Vec<RouteGroup>,
    prefix: String,
    stack: Option<HttpConfig>,
}

impl ShopApi {
    /// The [public](RouteGroup::PUBLIC) groups, at the root, without the middleware stack.
    #[must_use]
    pub fn new(state: AppState) -> Self {
        Self {
            state,
            groups: RouteGroup::PUBLIC.to_vec(),
            prefix: String::new(),
            stack: None,
        }
    }

    /// Mounts only `groups`.
    #[must_use]
    pub fn groups(mut self, groups: impl IntoIterator<Item = RouteGroup>) -> Self {
        self.groups = groups.into_iter().collect();
        self.groups.sort_unstable();
        self.groups.dedup();
        self
    }

    /// Serves the routes under `path` (`/shop` serves `/shop/api/products`), for `merge`.
    /// To `nest` instead, leave the prefix out: the document and links follow either way.
    #[must_use]
    pub fn prefix(mut self, path: &str) -> Self {
        path.trim_end_matches('/').clone_into(&mut self.prefix);
        self
    }

    /// Wraps the routes in the shop's middleware stack, configured by `config` (its
    /// `root_path` is not used: see [`prefix`](Self::prefix)).
    #[must_use]
    pub fn with_stack(mut self, config: &HttpConfig) -> Self {
        self.stack = Some(config.clone());
        self
    }

    /// The OpenAPI document of the chosen groups, with the prefix as its server.
    #[must_use]
    pub fn openapi(&self) -> utoipa::openapi::OpenApi {
        let (_, mut doc) = routes_of(&self.groups);
        if !self.prefix.is_empty() {
            doc.servers = Some(vec![utoipa::openapi::Server::new(&self.prefix)]);
        }
        doc
    }

    /// The router: see the [type docs](Self).
    pub fn into_router(self) -> Router {
        let bare = self.stack.is_none();
        let api = self.into_routes();
        // Bare, the client's address is the socket peer (unless a layer further out set it).
        if bare {
            api.layer(ClientAddrLayer::default())
        } else {
            api
        }
    }

    /// The router without a client-address layer of its own when bare: for
    /// [`crate::router_with`], whose stack outside it has one.
    pub(crate) fn into_routes(self) -> Router {
        let (routes, doc) = routes_of(&self.groups);
        let api = routes
            .with_state(self.state.clone())
            .layer(axum::Extension(OpenApiDoc::new(doc)))
            .layer(axum::middleware::from_fn(access_log::note_signed_in));
        // Bearer tokens are verified once, for every route; handlers read the `Principal`.
        let api = match &self.state.auth {
            Some(auth) => {
                api.layer(AuthLayer::new(auth.access_tokens().clone()).with_rejection(refuse_token))
            }
            None => api,
        };
        // Bare, the body limit is axum's default or the embedder's `DefaultBodyLimit`.
        let api = match &self.stack {
            Some(config) => crate::wrap_in_stack(api, &self.state.metrics, config),
            None => api,
        };
        if self.prefix.is_empty() {
            api
        } else {
            Router::new().nest(&self.prefix, api)
        }
    }
}

/// The routes of `groups` and their finished document (without servers).
pub(crate) fn routes_of(groups: &[RouteGroup]) -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let mut router = OpenApiRouter::with_openapi(openapi::ApiDoc::openapi());
    for group in groups {
        router = add_group(router, *group);
    }
    let (routes, mut doc) = router.split_for_parts();
    utoipa::Modify::modify(&openapi::CommonResponses, &mut doc);
    (routes, doc)
}

fn add_group(router: OpenApiRouter<AppState>, group: RouteGroup) -> OpenApiRouter<AppState> {
    use routes::{auth, cart, catalog, ops, orders, reviews, users};
    use utoipa_axum::routes;
    match group {
        RouteGroup::Ops => router
            .routes(routes!(ops::health))
            .routes(routes!(ops::ready))
            .routes(routes!(ops::openapi)),
        RouteGroup::Metrics => router.routes(routes!(ops::metrics)),
        RouteGroup::Auth => router
            .routes(routes!(auth::register))
            .routes(routes!(auth::login))
            .routes(routes!(auth::refresh))
            .routes(routes!(auth::logout))
            .routes(routes!(auth::jwks))
            .routes(routes!(users::me, users::update_me))
            .routes(routes!(users::change_password)),
        RouteGroup::Catalog => router
            .routes(routes!(catalog::list, catalog::create))
            .routes(routes!(catalog::get, catalog::update, catalog::delete))
            .routes(routes!(catalog::adjust_stock))
            .routes(routes!(reviews::list, reviews::create)),
        RouteGroup::Cart => router
            .routes(routes!(cart::get, cart::clear))
            .routes(routes!(cart::add_item))
            .routes(routes!(cart::set_quantity, cart::remove_item)),
        RouteGroup::Orders => router
            .routes(routes!(orders::checkout))
            .routes(routes!(orders::list))
            .routes(routes!(orders::get))
            .routes(routes!(orders::cancel))
            .routes(routes!(orders::set_status)),
    }
}
