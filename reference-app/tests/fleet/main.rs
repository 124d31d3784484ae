//! The reference app as a fleet: replicas behind nginx on MariaDB or PostgreSQL, MongoDB,
//! RabbitMQ and Redis, started by `scripts/fleet` with the binary under test, one fleet per
//! test (and one test at a time). Every request goes through nginx. Each test runs on both
//! SQL stores (`on_mysql::…`, `on_postgres::…`), except the throttle's, which is Redis's alone.
//! Services missing: skipped with a message, except under `CI=true`, where that is a failure.

#![allow(clippy::unwrap_used, clippy::print_stderr)] // test code

mod db;
mod harness;

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use db::FleetStore;
use harness::{Api, Fleet, assert_stock_conserved, customers, shop_until};
use reqwest::{Method, StatusCode};
use serde_json::Value;

/// 64 customers race for the last 5 units: exactly 5 orders, stock 0, no 5xx.
async fn racing_customers_never_oversell(store: FleetStore) {
    let Some(fleet) = Fleet::up(store, 3).await else {
        return;
    };
    let api = Api::new(&fleet.url);
    let admin = api.admin_token(&fleet).await;
    let product = api.product(&admin, 5).await;
    let racers = customers(&api, 64).await;
    for c in &racers {
        assert!(api.add_to_cart(&c.token, &product, 1).await.is_success());
    }
    let attempts = racers.iter().enumerate().map(|(i, c)| {
        let api = api.clone();
        let token = c.token.clone();
        async move { api.checkout(&token, &format!("race-{i}")).await }
    });
    let replies = futures::future::join_all(attempts).await;
    let mut by_status: HashMap<u16, usize> = HashMap::new();
    for r in &replies {
        let status = r
            .status()
            .unwrap_or_else(|| panic!("no HTTP answer: {r:?}"));
        assert!(!status.is_server_error(), "{r:?}");
        *by_status.entry(status.as_u16()).or_default() += 1;
        if status == StatusCode::CONFLICT {
            assert_eq!(r.body()["code"], "insufficient_stock", "{r:?}");
        }
    }
    assert_eq!(by_status.get(&201), Some(&5), "{by_status:?}");
    assert_eq!(by_status.get(&409), Some(&59), "{by_status:?}");
    let now = api.get(&format!("/api/products/{product}"), None).await;
    assert_eq!(now.body()["stock"], 0);
    assert_stock_conserved(&api, &fleet, &[(product, 5)]).await;
    let upstreams: HashSet<String> = fleet
        .access_log("/api/checkout")
        .iter()
        .filter_map(|l| l["upstream"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(
        upstreams.len(),
        3,
        "every replica took checkouts: {upstreams:?}"
    );
}

/// 20 requests with one Idempotency-Key, spread over the replicas: one order, and every
/// success carries its ID.
async fn one_key_over_every_replica_places_one_order(store: FleetStore) {
    let Some(fleet) = Fleet::up(store, 3).await else {
        return;
    };
    let api = Api::new(&fleet.url);
    let admin = api.admin_token(&fleet).await;
    let product = api.product(&admin, 50).await;
    let shopper = api.customer("once").await;
    assert!(
        api.add_to_cart(&shopper.token, &product, 2)
            .await
            .is_success()
    );
    let attempts = (0..20).map(|_| {
        let api = api.clone();
        let token = shopper.token.clone();
        async move { api.checkout(&token, "the-one-key").await }
    });
    let replies = futures::future::join_all(attempts).await;
    let ids: BTreeSet<String> = replies
        .iter()
        .map(|r| {
            assert!(r.is_success(), "every attempt gets the order: {r:?}");
            r.body()["id"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(ids.len(), 1, "one order: {ids:?}");
    let orders = fleet.db().await.orders_by_user().await;
    assert_eq!(orders.get(&shopper.user_id.parse().unwrap()), Some(&1));
    assert_stock_conserved(&api, &fleet, &[(product, 50)]).await;
    let upstreams: HashSet<String> = fleet
        .access_log("/api/checkout")
        .iter()
        .filter_map(|l| l["upstream"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(
        upstreams.len(),
        3,
        "spread over every replica: {upstreams:?}"
    );
}

/// Three products with 1000 units each, six shoppers buying them, and readers beside.
struct Shopping {
    api: Api,
    products: Vec<(String, u32)>,
    stop: Arc<AtomicBool>,
    load: tokio::task::JoinHandle<harness::LoadReport>,
}

impl Shopping {
    async fn start(fleet: &Fleet) -> Self {
        let api = Api::new(&fleet.url);
        let admin = api.admin_token(fleet).await;
        let mut products = Vec::new();
        for _ in 0..3 {
            products.push((api.product(&admin, 1000).await, 1000));
        }
        let shoppers = customers(&api, 6).await;
        let stop = Arc::new(AtomicBool::new(false));
        let load = tokio::spawn({
            let (api, products, stop) = (api.clone(), products.clone(), stop.clone());
            async move { shop_until(&api, &shoppers, &products, stop).await }
        });
        Self {
            api,
            products,
            stop,
            load,
        }
    }

    /// Stops the shoppers and readers; what they saw.
    async fn stop(&mut self) -> harness::LoadReport {
        self.stop.store(true, Ordering::Relaxed);
        (&mut self.load).await.unwrap()
    }
}

/// Checks a load's outcome: no failed read, every checkout answer clean, and every user has
/// exactly the orders its successful keys name (a retried key never made a second one).
async fn assert_load_settled(fleet: &Fleet, report: &harness::LoadReport) {
    assert!(
        report.failed_reads.is_empty(),
        "{} of {} reads failed: {:?}",
        report.failed_reads.len(),
        report.reads,
        &report.failed_reads[..report.failed_reads.len().min(5)]
    );
    assert!(
        report.unclean.is_empty(),
        "unclean answers: {:?}",
        report.unclean
    );
    let mut keys_by_user: HashMap<uuid::Uuid, usize> = HashMap::new();
    let mut orders = HashSet::new();
    for (user, _key, order, _) in &report.placed {
        *keys_by_user.entry(user.parse().unwrap()).or_default() += 1;
        assert!(orders.insert(order.clone()), "two keys got one order");
    }
    let mut db = fleet.db().await;
    let in_db = db.orders_by_user().await;
    for (user, keys) in &keys_by_user {
        assert_eq!(
            in_db.get(user).copied().unwrap_or(0),
            i64::try_from(*keys).unwrap(),
            "user {user}: one order per key that succeeded, none for a failed attempt"
        );
    }
    assert_eq!(
        db.orders_without_event().await,
        0,
        "every order has its order.placed event"
    );
}

/// A rolling restart while reads and checkouts run: no failed read, every checkout clean
/// and settled once by retrying with its key, stock conserved.
async fn a_rolling_restart_under_load_loses_nothing(store: FleetStore) {
    let Some(mut fleet) = Fleet::up(store, 3).await else {
        return;
    };
    let before = fleet.replica_pids();
    let mut shopping = Shopping::start(&fleet).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let restart_began = Instant::now();
    fleet.ctl(&["restart"]).await;
    let restart_ended = Instant::now();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let report = shopping.stop().await;

    fleet.reload_env().await;
    let after = fleet.replica_pids();
    assert!(
        before.iter().zip(&after).all(|(b, a)| b != a),
        "every replica restarted: {before:?} → {after:?}"
    );
    let during = report
        .placed
        .iter()
        .filter(|p| p.3 > restart_began && p.3 < restart_ended)
        .count();
    assert!(during > 0, "checkouts ran during the restart");
    eprintln!(
        "rolling restart: {} reads, {} checkouts ({during} during the restart), {} retried",
        report.reads,
        report.placed.len(),
        report.retried
    );
    assert_load_settled(&fleet, &report).await;
    assert_stock_conserved(&shopping.api, &fleet, &shopping.products).await;
}

/// SIGKILL of one replica in the middle of checkouts: the others keep serving, nothing is
/// half-written, every order has its event.
async fn a_killed_replica_leaves_nothing_half_done(store: FleetStore) {
    let Some(fleet) = Fleet::up(store, 3).await else {
        return;
    };
    let mut shopping = Shopping::start(&fleet).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    fleet.ctl(&["replica", "2", "kill"]).await;
    let killed = Instant::now();
    tokio::time::sleep(Duration::from_secs(4)).await;
    let report = shopping.stop().await;

    let after_kill = report.placed.iter().filter(|p| p.3 > killed).count();
    assert!(after_kill > 0, "the other replicas kept taking orders");
    eprintln!(
        "kill: {} reads, {} checkouts ({after_kill} after the kill), {} retried",
        report.reads,
        report.placed.len(),
        report.retried
    );
    assert_load_settled(&fleet, &report).await;
    assert_stock_conserved(&shopping.api, &fleet, &shopping.products).await;
}

/// Throttling behind nginx, keyed on the address nginx saw: client A's failures do not
/// throttle client B; failures for one email spread over the replicas are counted together.
async fn throttling_is_per_client_and_shared_by_the_replicas(store: FleetStore) {
    let Some(fleet) = Fleet::up(store, 3).await else {
        return;
    };
    let api = Api::new(&fleet.url);
    let victim = api.customer("victim").await;
    let password = "a customer passphrase";
    let (a, b) = (
        Api::from_address(&fleet.url, "127.0.0.2"),
        Api::from_address(&fleet.url, "127.0.0.3"),
    );
    // Client A reaches its own limit (20 by default), each failure for another email.
    for i in 0..20 {
        let r = a.login(&format!("nobody{i}@example.com"), "wrong").await;
        assert_eq!(r.status(), Some(StatusCode::UNAUTHORIZED), "{r:?}");
    }
    let r = a.login(&victim.email, password).await;
    assert_eq!(
        r.status(),
        Some(StatusCode::TOO_MANY_REQUESTS),
        "A is throttled"
    );
    let r = b.login(&victim.email, password).await;
    assert_eq!(r.status(), Some(StatusCode::OK), "B is not: {r:?}");

    // One email, failures from five addresses, so only the email's count can stop them.
    let target = api.customer("target").await;
    for i in 0..5 {
        let from = Api::from_address(&fleet.url, &format!("127.0.1.{}", i + 1));
        let r = from.login(&target.email, "wrong").await;
        assert_eq!(r.status(), Some(StatusCode::UNAUTHORIZED), "{r:?}");
    }
    let log = fleet.access_log("/api/auth/login");
    let failures: HashSet<String> = log
        .iter()
        .filter(|l| l["status"] == 401)
        .rev()
        .take(5)
        .filter_map(|l| l["upstream"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(failures.len(), 3, "the failures went to every replica");
    let fresh = Api::from_address(&fleet.url, "127.0.2.1");
    for attempt in 0..3 {
        let r = fresh.login(&target.email, password).await;
        assert_eq!(
            r.status(),
            Some(StatusCode::TOO_MANY_REQUESTS),
            "attempt {attempt}, whichever replica answers: {r:?}"
        );
        assert!(r.body()["code"] == "throttled");
    }
}

/// Events: a relay in every replica, two consumer replicas over the durable store — every
/// `order.placed` is handled exactly once (counting the handler's side effects).
async fn every_order_placed_event_is_handled_once(store: FleetStore) {
    use shop_events::{ConsumerConfig, EventConsumer, RabbitConfig};
    use shop_store::config::SecretString;

    let Some(fleet) = Fleet::up(store, 3).await else {
        return;
    };
    let rabbit = {
        let mut config = RabbitConfig::default();
        config.url = SecretString::from(fleet.setting("RABBITMQ_URL"));
        config.exchange = fleet.setting("RABBITMQ_EXCHANGE");
        config.connection_name = "fleet-test-consumer".into();
        config
    };
    let queue = format!("fleet-test.{}.orders", fleet.name);
    // Bound to `order.placed` only: every other type the fleet emits is unroutable, and must
    // hold nothing up.
    let config = {
        let mut config = ConsumerConfig::new(queue.clone(), vec!["order.placed".into()]);
        config.prefetch = 4;
        config
    };
    let effects: Arc<parking_lot::Mutex<HashMap<String, usize>>> = Arc::default();
    let mut consumers = Vec::new();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    for _ in 0..2 {
        let store = fleet.processed_event_store().await;
        let consumer = EventConsumer::new(rabbit.clone(), config.clone(), store);
        let effects = effects.clone();
        let handler = move |e: shop_core::DomainEvent| {
            let effects = effects.clone();
            async move {
                if e.event_type == shop_core::EventType::OrderPlaced {
                    let payload: Value = serde_json::from_str(e.payload.get()).unwrap();
                    let order = payload["order_id"].as_str().unwrap().to_owned();
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    *effects.lock().entry(order).or_default() += 1;
                }
                Ok::<(), String>(())
            }
        };
        let stopped = stopped.clone();
        consumers.push(tokio::spawn(
            async move { consumer.run(handler, stopped).await },
        ));
    }
    let api = Api::new(&fleet.url);
    let admin = api.admin_token(&fleet).await;
    let product = api.product(&admin, 1000).await;
    let shoppers = customers(&api, 5).await;
    let mut placed = Vec::new();
    for round in 0..6 {
        for s in &shoppers {
            assert!(api.add_to_cart(&s.token, &product, 1).await.is_success());
            let r = api.checkout(&s.token, &format!("ev-{round}")).await;
            assert_eq!(r.status(), Some(StatusCode::CREATED), "{r:?}");
            placed.push(r.body()["id"].as_str().unwrap().to_owned());
        }
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    while effects.lock().len() < placed.len() {
        assert!(Instant::now() < deadline, "not every order.placed arrived");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Time for any duplicate to arrive and be absorbed (or not).
    tokio::time::sleep(Duration::from_secs(2)).await;
    stop.send(true).unwrap();
    for c in consumers {
        c.await.unwrap().unwrap();
    }
    let effects = effects.lock().clone();
    let want: HashSet<&String> = placed.iter().collect();
    assert_eq!(effects.keys().collect::<HashSet<_>>(), want);
    let repeated: Vec<_> = effects.iter().filter(|(_, n)| **n != 1).collect();
    assert!(repeated.is_empty(), "handled more than once: {repeated:?}");
    assert_eq!(
        fleet.db().await.pending_events().await,
        0,
        "the relays drained the outbox"
    );
    cleanup_queue(&fleet, &queue).await;
}

async fn cleanup_queue(fleet: &Fleet, queue: &str) {
    use lapin::options::{ExchangeDeleteOptions, QueueDeleteOptions};
    let conn = lapin::Connection::connect(
        &fleet.setting("RABBITMQ_URL"),
        lapin::ConnectionProperties::default(),
    )
    .await
    .unwrap();
    let ch = conn.create_channel().await.unwrap();
    for q in [queue.to_owned(), format!("{queue}.dlq")] {
        let _ = ch
            .queue_delete(q.as_str().into(), QueueDeleteOptions::default())
            .await;
    }
    for x in [format!("{queue}.dlx"), fleet.setting("RABBITMQ_EXCHANGE")] {
        let _ = ch
            .exchange_delete(x.as_str().into(), ExchangeDeleteOptions::default())
            .await;
    }
}

/// `reference-app purge` against the fleet's database: only what retention allows is gone,
/// and the fleet keeps serving (orders, live sessions) throughout.
async fn purge_removes_only_what_retention_allows(store: FleetStore) {
    let Some(fleet) = Fleet::up(store, 3).await else {
        return;
    };
    let api = Api::new(&fleet.url);
    let admin = api.admin_token(&fleet).await;
    let product = api.product(&admin, 100).await;
    let shopper = api.customer("keeper").await;
    let mut orders = Vec::new();
    for key in ["old-key", "new-key"] {
        assert!(
            api.add_to_cart(&shopper.token, &product, 1)
                .await
                .is_success()
        );
        let r = api.checkout(&shopper.token, key).await;
        assert_eq!(r.status(), Some(StatusCode::CREATED));
        orders.push(r.body()["id"].as_str().unwrap().to_owned());
    }
    // Sessions: one to keep using, one logged out (revoked), one that will have expired.
    let sessions: Vec<Value> = futures::future::join_all(
        (0..3).map(|_| api.login(&shopper.email, "a customer passphrase")),
    )
    .await
    .into_iter()
    .map(|r| r.body().clone())
    .collect();
    let refresh = |i: usize| sessions[i]["refresh_token"].as_str().unwrap().to_owned();
    let out = api
        .post(
            "/api/auth/logout",
            None,
            serde_json::json!({ "refresh_token": refresh(1) }),
        )
        .await;
    assert_eq!(out.status(), Some(StatusCode::NO_CONTENT));

    let mut db = fleet.db().await;
    let user = db.id(&shopper.user_id);
    let day = 24 * 3600;
    // The relays publish everything (no queue is bound: unroutable, yet published); wait for
    // the outbox to drain before aging one of its published events.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while db.pending_events().await > 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the outbox never drained"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Age what retention should take: one published event, one idempotency key, one token's
    // expiry, one consumer record — and add what it must never take: an old pending event.
    // (The doubled subqueries: MySQL updates no table it reads in the same statement.)
    let eight_days_ago = db.now_plus(-8 * day);
    db.execute(&format!(
        "UPDATE outbox SET published_at = {eight_days_ago}, occurred_at = {eight_days_ago} \
         WHERE seq = (SELECT seq FROM (SELECT MIN(seq) AS seq FROM outbox \
         WHERE event_type = 'product.created') AS first)"
    ))
    .await;
    db.execute(&format!(
        "UPDATE idempotency_keys SET created_at = {} \
         WHERE user_id = {user} AND idem_key = 'old-key'",
        db.now_plus(-31 * day)
    ))
    .await;
    db.execute(&format!(
        "UPDATE refresh_tokens SET expires_at = {} \
         WHERE token_hash = (SELECT token_hash FROM (SELECT token_hash FROM refresh_tokens \
         WHERE user_id = {user} AND revoked_at IS NULL AND used_at IS NULL \
         ORDER BY issued_at LIMIT 1) AS oldest)",
        db.now_plus(-1)
    ))
    .await;
    db.execute(&format!(
        "INSERT INTO processed_events (consumer, event_id, processed_at) VALUES \
         ('mailer', {id}, {}), ('mailer', {id}, {})",
        db.now_plus(-31 * day),
        db.now_plus(0),
        id = db.new_id(),
    ))
    .await;
    // Held by a relay that died mid-claim (its lease runs for an hour), so the running relays
    // leave it pending: left unclaimed, they could publish it before the purge, and the
    // check below would prove nothing.
    db.execute(&format!(
        "INSERT INTO outbox (event_id, event_type, aggregate_id, occurred_at, payload, \
         claimed_by, claim_until) \
         VALUES ({id}, 'order.placed', {id}, {}, '{{}}', 'a-relay-that-died', {})",
        db.now_plus(-60 * day),
        db.now_plus(3600),
        id = db.new_id(),
    ))
    .await;
    let old_published = format!(
        "SELECT COUNT(*) FROM outbox WHERE published_at < {}",
        db.now_plus(-7 * day)
    );
    let old_pending = format!(
        "SELECT COUNT(*) FROM outbox WHERE published_at IS NULL AND occurred_at < {}",
        db.now_plus(-59 * day)
    );
    let keys = "SELECT COUNT(*) FROM idempotency_keys";
    let tokens = "SELECT COUNT(*) FROM refresh_tokens";
    let live_tokens = format!(
        "SELECT COUNT(*) FROM refresh_tokens WHERE revoked_at IS NULL AND expires_at > {}",
        db.now_plus(0)
    );
    // The test's own consumer records; the replicas' order-notifications consumer keeps
    // recent records of its own, which must stay too.
    let processed = "SELECT COUNT(*) FROM processed_events WHERE consumer = 'mailer'";
    let other_processed = "SELECT COUNT(*) FROM processed_events WHERE consumer <> 'mailer'";
    assert_eq!(db.count(&old_published).await, 1);
    let others_before = db.count(other_processed).await;
    let live_before = db.count(&live_tokens).await;
    assert!(
        db.count(tokens).await >= live_before + 2,
        "a revoked and an expired token wait"
    );

    // Readers keep going while the purge runs, and must never fail.
    let stop = Arc::new(AtomicBool::new(false));
    let reading = tokio::spawn({
        let (api, stop, order) = (api.clone(), stop.clone(), orders[0].clone());
        let token = shopper.token.clone();
        async move {
            let mut failures = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let r = api.get(&format!("/api/orders/{order}"), Some(&token)).await;
                if r.status() != Some(StatusCode::OK) {
                    failures.push(format!("{r:?}"));
                }
            }
            failures
        }
    });
    let out = fleet.app_command(&["purge"]).await;
    stop.store(true, Ordering::Relaxed);
    assert!(
        out.status.success(),
        "purge: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Its report is the one stdout line with the counts (the JSON logs share stdout).
    let report: Value = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|v| v.get("published_events").is_some())
        .expect("the purge report");
    eprintln!("purge reported {report}");
    assert!(
        reading.await.unwrap().is_empty(),
        "reads failed during the purge"
    );

    assert_eq!(
        db.count(&old_published).await,
        0,
        "the old published event is gone"
    );
    assert_eq!(
        db.count(&old_pending).await,
        1,
        "a pending event stays, however old"
    );
    assert_eq!(db.count(keys).await, 1, "only the 31-day-old key went");
    assert_eq!(
        db.count(processed).await,
        1,
        "only the 31-day-old record went"
    );
    assert!(
        db.count(other_processed).await >= others_before,
        "recent records of other consumers stay"
    );
    assert_eq!(
        db.count(tokens).await,
        live_before,
        "revoked and expired tokens went, every live one stayed"
    );

    // Still serving: the order of the forgotten key, the live session, a new checkout.
    let r = api
        .get(&format!("/api/orders/{}", orders[0]), Some(&shopper.token))
        .await;
    assert_eq!(
        r.status(),
        Some(StatusCode::OK),
        "orders stay when their keys go"
    );
    let r = api
        .post(
            "/api/auth/refresh",
            None,
            serde_json::json!({ "refresh_token": refresh(0) }),
        )
        .await;
    assert_eq!(
        r.status(),
        Some(StatusCode::OK),
        "the live session survives: {r:?}"
    );
    assert!(
        api.add_to_cart(&shopper.token, &product, 1)
            .await
            .is_success()
    );
    let r = api
        .call(
            Method::POST,
            "/api/checkout",
            Some(&shopper.token),
            Some(serde_json::json!({})),
            Some("new-key"),
        )
        .await;
    assert_eq!(
        r.status(),
        Some(StatusCode::OK),
        "a kept key still replays: {r:?}"
    );
    assert_eq!(r.body()["id"], orders[1].as_str());
}

/// The deployment smoke test (`deploy/smoke.py`, what the pipeline runs after every deploy)
/// passes through nginx, as a throwaway customer and with its own product, and leaves no
/// product behind.
async fn the_deployment_smoke_test_passes_through_nginx(store: FleetStore) {
    let Some(fleet) = Fleet::up(store, 3).await else {
        return;
    };
    let smoke = format!("{}/../deploy/smoke.py", env!("CARGO_MANIFEST_DIR"));
    for with_admin in [false, true] {
        let mut command = std::process::Command::new("python3");
        command.args([smoke.as_str(), fleet.url.as_str(), "--wait", "30"]);
        if with_admin {
            command
                .env("SMOKE_ADMIN_EMAIL", fleet.setting("ADMIN_EMAIL"))
                .env("SMOKE_ADMIN_PASSWORD", fleet.setting("ADMIN_PASSWORD"));
        }
        let out = tokio::task::spawn_blocking(move || command.output().unwrap())
            .await
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "smoke (admin: {with_admin}):\n{text}");
        assert!(!text.contains("note: clean-up"), "{text}");
    }
    let api = Api::new(&fleet.url);
    let left = api.get("/api/products?q=SMOKE-&limit=5", None).await;
    assert_eq!(left.body()["items"], serde_json::json!([]), "{left:?}");
}

/// Each test above as a `#[tokio::test]` on the given stores.
macro_rules! on_store {
    ($module:ident, $store:expr, [$($test:ident),* $(,)?]) => {
        mod $module {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $test() {
                    super::$test($store).await;
                }
            )*
        }
    };
}

on_store!(
    on_mysql,
    crate::FleetStore::MySql,
    [
        racing_customers_never_oversell,
        one_key_over_every_replica_places_one_order,
        a_rolling_restart_under_load_loses_nothing,
        a_killed_replica_leaves_nothing_half_done,
        throttling_is_per_client_and_shared_by_the_replicas,
        every_order_placed_event_is_handled_once,
        purge_removes_only_what_retention_allows,
        the_deployment_smoke_test_passes_through_nginx,
    ]
);

on_store!(
    on_postgres,
    crate::FleetStore::Postgres,
    [
        racing_customers_never_oversell,
        one_key_over_every_replica_places_one_order,
        a_rolling_restart_under_load_loses_nothing,
        a_killed_replica_leaves_nothing_half_done,
        every_order_placed_event_is_handled_once,
        purge_removes_only_what_retention_allows,
        the_deployment_smoke_test_passes_through_nginx,
    ]
);
