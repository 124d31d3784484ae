//! A fleet per test (`scripts/fleet up` with the binary under test), an HTTP client for the
//! API behind nginx, the fleet's database, and a shopping load that survives disruptions.

#![allow(unreachable_pub, dead_code)] // test support, shared by the tests of this binary

use std::collections::HashMap;
use std::net::IpAddr;
use std::process::{Command, Output};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::db::{FleetDb, FleetStore};

const BIN: &str = env!("CARGO_BIN_EXE_reference-app");

/// Fleets run one at a time: two at once would compete for this machine's two cores.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn script() -> String {
    format!("{}/../scripts/fleet", env!("CARGO_MANIFEST_DIR"))
}

fn required() -> bool {
    std::env::var("CI").as_deref() == Ok("true")
}

fn port_open(addr: &str) -> bool {
    addr.parse()
        .ok()
        .and_then(|a| std::net::TcpStream::connect_timeout(&a, Duration::from_secs(2)).ok())
        .is_some()
}

/// Why the fleet cannot start here, if a service it needs is missing.
fn missing_service(store: FleetStore) -> Option<String> {
    let database = match store {
        FleetStore::MySql => ("MYSQL_URL", "127.0.0.1:3306", "MariaDB"),
        FleetStore::Postgres => ("POSTGRES_URL", "127.0.0.1:5432", "PostgreSQL"),
    };
    let checks = [
        database,
        ("RABBITMQ_URL", "127.0.0.1:5672", "RabbitMQ"),
        ("REDIS_URL", "127.0.0.1:6379", "Redis"),
    ];
    for (variable, default, what) in checks {
        if std::env::var(variable).is_err() && !port_open(default) {
            return Some(format!("{what} is not reachable on {default}"));
        }
    }
    let mongo_venv = format!("{}/../target/mongo-venv", env!("CARGO_MANIFEST_DIR"));
    if std::env::var("MONGODB_URI").is_err() && !std::path::Path::new(&mongo_venv).exists() {
        return Some("MONGODB_URI is not set (scripts/test starts a server)".into());
    }
    None
}

/// A running fleet; `scripts/fleet down` when dropped, also after a failed assertion.
pub struct Fleet {
    pub name: String,
    pub url: String,
    pub store: FleetStore,
    env: HashMap<String, String>,
    _turn: tokio::sync::MutexGuard<'static, ()>,
}

impl Fleet {
    /// `replicas` replicas behind nginx on `store`, or `None` (outside CI) when a service is
    /// missing.
    pub async fn up(store: FleetStore, replicas: usize) -> Option<Self> {
        if let Some(why) = missing_service(store) {
            assert!(!required(), "the fleet is required under CI=true: {why}");
            eprintln!("skipping: {why}");
            return None;
        }
        let turn = ONE_AT_A_TIME.lock().await;
        let name = format!("ft{}", &uuid::Uuid::new_v4().simple().to_string()[..10]);
        let n = replicas.to_string();
        let started = run(&[
            "up",
            "--name",
            &name,
            "--replicas",
            &n,
            "--bin",
            BIN,
            "--store",
            store.name(),
        ])
        .await;
        let mut fleet = Self {
            name,
            url: String::new(),
            store,
            env: HashMap::new(),
            _turn: turn,
        };
        assert!(
            started.status.success(),
            "scripts/fleet up failed:\n{}{}",
            String::from_utf8_lossy(&started.stdout),
            String::from_utf8_lossy(&started.stderr)
        );
        fleet.reload_env().await;
        fleet.url = fleet.setting("URL");
        Some(fleet)
    }

    /// Runs `scripts/fleet ARGS --name NAME`; panics unless it succeeds.
    pub async fn ctl(&self, args: &[&str]) -> String {
        let mut all = args.to_vec();
        all.extend(["--name", &self.name]);
        let out = run(&all).await;
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            out.status.success(),
            "scripts/fleet {args:?} failed:\n{text}"
        );
        text
    }

    /// Re-reads `scripts/fleet env` (PIDs change when replicas restart).
    pub async fn reload_env(&mut self) {
        let text = self.ctl(&["env"]).await;
        self.env = text
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
    }

    pub fn setting(&self, key: &str) -> String {
        self.env
            .get(key)
            .cloned()
            .unwrap_or_else(|| panic!("the fleet's env has no {key}"))
    }

    /// The replicas' PIDs, 1-based order.
    pub fn replica_pids(&self) -> Vec<String> {
        let n: usize = self.setting("REPLICAS").parse().unwrap();
        (1..=n).map(|i| self.setting(&format!("PID_{i}"))).collect()
    }

    /// A connection to the fleet's database.
    pub async fn db(&self) -> FleetDb {
        FleetDb::connect(self.store, &self.setting("DATABASE_URL")).await
    }

    /// A store over the fleet's database that records which events a consumer handled.
    pub async fn processed_event_store(&self) -> Arc<dyn shop_events::ProcessedEventStore> {
        use shop_store::config::SecretString;
        let url = Some(SecretString::from(self.setting("DATABASE_URL")));
        match self.store {
            FleetStore::MySql => {
                let mut config = shop_store::mysql::MySqlConfig::default();
                config.url = url;
                Arc::new(
                    shop_store::mysql::MySqlStore::connect(&config)
                        .await
                        .unwrap(),
                )
            }
            FleetStore::Postgres => {
                let mut config = shop_store::postgres::PgConfig::default();
                config.url = url;
                Arc::new(
                    shop_store::postgres::PgStore::connect(&config)
                        .await
                        .unwrap(),
                )
            }
        }
    }

    /// The lines of nginx's access log (JSON) whose URI starts with `prefix`.
    pub fn access_log(&self, prefix: &str) -> Vec<Value> {
        let path = format!(
            "{}/../target/fleet/{}/nginx/logs/access.log",
            env!("CARGO_MANIFEST_DIR"),
            self.name
        );
        std::fs::read_to_string(path)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|v| v["uri"].as_str().is_some_and(|u| u.starts_with(prefix)))
            .collect()
    }

    /// The environment the replicas run with (for running the binary's subcommands).
    pub fn app_env(&self) -> Vec<(String, String)> {
        let path = format!(
            "{}/../target/fleet/{}/app.env",
            env!("CARGO_MANIFEST_DIR"),
            self.name
        );
        std::fs::read_to_string(path)
            .unwrap()
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect()
    }

    /// Runs the binary with the replicas' environment and `args`.
    pub async fn app_command(&self, args: &[&str]) -> Output {
        let env = self.app_env();
        let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
        tokio::task::spawn_blocking(move || {
            Command::new(BIN)
                .args(args)
                .env_clear()
                .envs(env)
                .output()
                .unwrap()
        })
        .await
        .unwrap()
    }
}

impl Drop for Fleet {
    fn drop(&mut self) {
        let _ = Command::new(script())
            .args(["down", "--name", &self.name])
            .output();
    }
}

async fn run(args: &[&str]) -> Output {
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    tokio::task::spawn_blocking(move || Command::new(script()).args(args).output().unwrap())
        .await
        .unwrap()
}

/// What one request got: a status and body, or no HTTP answer at all.
#[derive(Debug, Clone)]
pub enum Reply {
    Http {
        status: StatusCode,
        content_type: String,
        body: Value,
    },
    Transport(String),
}

impl Reply {
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Reply::Http { status, .. } => Some(*status),
            Reply::Transport(_) => None,
        }
    }

    pub fn body(&self) -> &Value {
        match self {
            Reply::Http { body, .. } => body,
            Reply::Transport(_) => &Value::Null,
        }
    }

    pub fn is_success(&self) -> bool {
        self.status().is_some_and(|s| s.is_success())
    }

    /// An HTTP answer a client can act on: a success, or a refusal as a problem document.
    pub fn is_clean(&self) -> bool {
        match self {
            Reply::Http {
                status,
                content_type,
                ..
            } => status.is_success() || content_type.starts_with("application/problem+json"),
            Reply::Transport(_) => false,
        }
    }
}

/// A client of the API behind nginx.
#[derive(Clone)]
pub struct Api {
    http: reqwest::Client,
    base: String,
}

impl Api {
    pub fn new(base: &str) -> Self {
        Self::from_address(base, "127.0.0.1")
    }

    /// A client whose connections come from `source` (any address on 127.0.0.0/8).
    pub fn from_address(base: &str, source: &str) -> Self {
        Self {
            http: reqwest::Client::builder()
                .local_address(source.parse::<IpAddr>().unwrap())
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap(),
            base: base.to_owned(),
        }
    }

    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
        idempotency_key: Option<&str>,
    ) -> Reply {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(k) = idempotency_key {
            req = req.header("idempotency-key", k);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        match req.send().await {
            Ok(res) => {
                let status = res.status();
                let content_type = res
                    .headers()
                    .get("content-type")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                let body = res.json().await.unwrap_or(Value::Null);
                Reply::Http {
                    status,
                    content_type,
                    body,
                }
            }
            Err(e) => Reply::Transport(e.to_string()),
        }
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Reply {
        self.call(Method::GET, path, token, None, None).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Reply {
        self.call(Method::POST, path, token, Some(body), None).await
    }

    pub async fn login(&self, email: &str, password: &str) -> Reply {
        self.post(
            "/api/auth/login",
            None,
            json!({ "email": email, "password": password }),
        )
        .await
    }

    pub async fn admin_token(&self, fleet: &Fleet) -> String {
        let r = self
            .login(
                &fleet.setting("ADMIN_EMAIL"),
                &fleet.setting("ADMIN_PASSWORD"),
            )
            .await;
        assert!(r.is_success(), "admin login: {r:?}");
        r.body()["access_token"].as_str().unwrap().to_owned()
    }

    /// Registers and signs in a new customer.
    pub async fn customer(&self, tag: &str) -> Customer {
        let email = format!("{tag}-{}@example.com", uuid::Uuid::new_v4().simple());
        let password = "a customer passphrase";
        let r = self
            .post(
                "/api/auth/register",
                None,
                json!({ "email": email, "password": password, "display_name": tag }),
            )
            .await;
        assert_eq!(r.status(), Some(StatusCode::CREATED), "{r:?}");
        let r = self.login(&email, password).await;
        assert!(r.is_success(), "{r:?}");
        Customer {
            email,
            token: r.body()["access_token"].as_str().unwrap().to_owned(),
            user_id: r.body()["user"]["id"].as_str().unwrap().to_owned(),
        }
    }

    /// Creates an active product with `stock` units at 1.00 EUR; returns its ID.
    pub async fn product(&self, admin: &str, stock: u32) -> String {
        let sku = format!("FLEET-{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
        let r = self
            .post(
                "/api/products",
                Some(admin),
                json!({ "sku": sku, "name": sku, "price_minor": 100, "currency": "EUR", "stock": stock }),
            )
            .await;
        assert_eq!(r.status(), Some(StatusCode::CREATED), "{r:?}");
        r.body()["id"].as_str().unwrap().to_owned()
    }

    pub async fn add_to_cart(&self, token: &str, product_id: &str, quantity: u32) -> Reply {
        self.post(
            "/api/cart/items",
            Some(token),
            json!({ "product_id": product_id, "quantity": quantity }),
        )
        .await
    }

    pub async fn checkout(&self, token: &str, key: &str) -> Reply {
        self.call(
            Method::POST,
            "/api/checkout",
            Some(token),
            Some(json!({})),
            Some(key),
        )
        .await
    }
}

/// A signed-in customer.
#[derive(Debug, Clone)]
pub struct Customer {
    pub email: String,
    pub token: String,
    pub user_id: String,
}

/// `n` customers, signed up a few at a time.
pub async fn customers(api: &Api, n: usize) -> Vec<Customer> {
    let mut out = Vec::with_capacity(n);
    for chunk in (0..n).collect::<Vec<_>>().chunks(8) {
        let batch = chunk.iter().map(|i| {
            let api = api.clone();
            let tag = format!("c{i}");
            async move { api.customer(&tag).await }
        });
        out.extend(futures::future::join_all(batch).await);
    }
    out
}

/// For every product: the stock it started with = its stock now + units in live orders.
pub async fn assert_stock_conserved(api: &Api, fleet: &Fleet, initial: &[(String, u32)]) {
    let ordered = fleet.db().await.ordered_units().await;
    for (id, start) in initial {
        let now = api.get(&format!("/api/products/{id}"), None).await;
        let stock = now.body()["stock"].as_i64().unwrap();
        let units = ordered
            .get(&Uuid::parse_str(id).unwrap())
            .copied()
            .unwrap_or(0);
        assert_eq!(
            i64::from(*start),
            stock + units,
            "product {id}: started with {start}, has {stock}, {units} in orders"
        );
    }
}

/// What a shopping load saw.
#[derive(Debug, Default)]
pub struct LoadReport {
    /// Reads that did not answer 200, with what they got.
    pub failed_reads: Vec<String>,
    pub reads: usize,
    /// Checkout attempts answered with neither a success nor a problem document.
    pub unclean: Vec<String>,
    /// Checkouts whose first attempt failed (then retried with the same key).
    pub retried: usize,
    /// (user ID, idempotency key, order ID, when) of every checkout that succeeded.
    pub placed: Vec<(String, String, String, Instant)>,
}

/// Shoppers and readers until `stop`: each shopper fills its cart and checks out with a new
/// key, retrying a failed checkout with the same key until it gets an answer that settles it,
/// as a careful client does; readers fetch products and pages.
pub async fn shop_until(
    api: &Api,
    shoppers: &[Customer],
    products: &[(String, u32)],
    stop: Arc<AtomicBool>,
) -> LoadReport {
    let report = Arc::new(Mutex::new(LoadReport::default()));
    let mut tasks = Vec::new();
    for r in 0..2 {
        let (api, stop, report) = (api.clone(), stop.clone(), report.clone());
        let ids: Vec<String> = products.iter().map(|p| p.0.clone()).collect();
        tasks.push(tokio::spawn(async move {
            let mut n = r;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let path = if n % 2 == 0 {
                    format!("/api/products/{}", ids[n % ids.len()])
                } else {
                    "/api/products?limit=5".to_owned()
                };
                let got = api.get(&path, None).await;
                let mut rep = report.lock();
                rep.reads += 1;
                if got.status() != Some(StatusCode::OK) {
                    rep.failed_reads.push(format!("GET {path}: {got:?}"));
                }
            }
        }));
    }
    for (s, shopper) in shoppers.iter().enumerate() {
        let (api, stop, report, shopper) =
            (api.clone(), stop.clone(), report.clone(), shopper.clone());
        let ids: Vec<String> = products.iter().map(|p| p.0.clone()).collect();
        tasks.push(tokio::spawn(async move {
            let mut round = 0;
            while !stop.load(Ordering::Relaxed) {
                round += 1;
                let product = &ids[(s + round) % ids.len()];
                fill_cart(&api, &shopper, product).await;
                let key = format!("{}-{round}", shopper.user_id);
                let mut first = true;
                loop {
                    let got = api.checkout(&shopper.token, &key).await;
                    if !got.is_clean() {
                        report.lock().unclean.push(format!("{key}: {got:?}"));
                    }
                    if got.is_success() {
                        let order = got.body()["id"].as_str().unwrap_or_default().to_owned();
                        report.lock().placed.push((
                            shopper.user_id.clone(),
                            key,
                            order,
                            Instant::now(),
                        ));
                        break;
                    }
                    if got.status().is_some_and(|s| s.is_client_error()) {
                        break; // settled: refused
                    }
                    if first {
                        report.lock().retried += 1;
                        first = false;
                    }
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    Arc::try_unwrap(report).ok().unwrap().into_inner()
}

/// Makes the cart hold exactly one unit of `product`, whatever earlier failures left in it.
async fn fill_cart(api: &Api, shopper: &Customer, product: &str) {
    for _ in 0..100 {
        let cleared = api
            .call(
                Method::DELETE,
                "/api/cart",
                Some(&shopper.token),
                None,
                None,
            )
            .await;
        if !cleared.is_success() {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        }
        if api
            .add_to_cart(&shopper.token, product, 1)
            .await
            .is_success()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("could not fill a cart in 100 tries");
}
