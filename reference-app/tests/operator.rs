//! The operator's first hour, through the binary: a command line that answers without serving,
//! start-up failures that name their cause, metrics only on the operations listener, and logs
//! that hold no customer data at any level.

#![allow(clippy::unwrap_used)] // test code

mod support;
use support::app::{BIN, start, terminate, wait_ready};
use support::free_port;

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// Runs the binary with exactly `env` and `args`, killing it after 60 s (whatever must not
/// serve would otherwise run forever).
fn run(args: &[&str], env: &[(&str, String)]) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .env_clear()
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("{args:?} {env:?} did not exit: it must not serve");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `--help`, `-h`, `help`, `--version` answer and exit 0; a mistyped subcommand exits 2 with
/// the usage and a suggestion; each subcommand has its help; `--help` lists every
/// environment variable with its default. None of them serves.
#[test]
fn the_command_line_answers_without_serving() {
    // Ports a server would take: whatever runs here must not bind them.
    let env = [
        ("PORT", free_port().to_string()),
        ("SHOP_OPS_PORT", free_port().to_string()),
    ];
    let long = run(&["--help"], &env);
    assert_eq!(long.status.code(), Some(0));
    let help = text(&long.stdout);
    for subcommand in ["serve", "migrate", "purge", "healthcheck"] {
        assert!(help.contains(&format!("  {subcommand} ")), "{help}");
    }
    for (variable, default) in [
        ("PORT", "[default: 8080]"),
        ("SHOP_OPS_PORT", "[default: 9090]"),
        ("SHOP_STORE", "[default: memory]"),
        ("DATABASE_URL", ""),
        ("MYSQL_URL", ""),
        ("MONGODB_URI", ""),
        ("RABBITMQ_URL", ""),
        ("RABBITMQ_EXCHANGE", "[default: shop.events]"),
        ("JWT_SECRET_KEY", ""),
        ("SHOP_SHUTDOWN_GRACE_SECS", "[default: 20]"),
    ] {
        // An entry: its names on a line of their own (indented by two), then its text and
        // default on the next (indented further).
        let lines: Vec<&str> = help.lines().collect();
        let at = lines
            .iter()
            .position(|l| {
                l.strip_prefix("  ")
                    .is_some_and(|names| names.split(", ").any(|n| n == variable))
            })
            .unwrap_or_else(|| panic!("{variable} is not in --help:\n{help}"));
        let entry = lines[at + 1];
        assert!(entry.contains(default), "{variable}: {entry}");
        assert!(
            entry.contains("[default: "),
            "{variable} has a default: {entry}"
        );
    }

    let short = run(&["-h"], &env);
    assert_eq!(short.status.code(), Some(0));
    assert!(text(&short.stdout).contains("Usage: reference-app [COMMAND]"));
    let help_word = run(&["help"], &env);
    assert_eq!(help_word.status.code(), Some(0));
    assert!(text(&help_word.stdout).contains("Commands:"));
    for subcommand in ["serve", "migrate", "purge", "healthcheck"] {
        let out = run(&[subcommand, "--help"], &env);
        assert_eq!(out.status.code(), Some(0), "{subcommand} --help");
        assert!(
            text(&out.stdout).contains(&format!("Usage: reference-app {subcommand}")),
            "{}",
            text(&out.stdout)
        );
    }
    let version = run(&["--version"], &env);
    assert_eq!(version.status.code(), Some(0));
    assert_eq!(
        text(&version.stdout).trim(),
        format!("reference-app {}", env!("CARGO_PKG_VERSION"))
    );

    for typo in [&["migrat"][..], &["serve", "--port", "1"], &["--verbose"]] {
        let out = run(typo, &env);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{typo:?}: {stderr}");
        assert!(stderr.contains("Usage: reference-app"), "{stderr}");
    }
    let typo = text(&run(&["migrat"], &env).stderr);
    assert!(
        typo.contains("'migrate'"),
        "it suggests the right word: {typo}"
    );
}

/// The one `ERROR` line of a failed start, at the default log level.
fn failure_line(out: &Output) -> String {
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    let stdout = text(&out.stdout);
    let errors: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .filter(|l| l["level"] == "ERROR")
        .collect();
    assert_eq!(errors.len(), 1, "one error line: {stdout}");
    errors[0]["error"].as_str().unwrap().to_owned()
}

/// `url` with its `user[:password]@` replaced.
fn with_account(url: &str, account: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap();
    let host_and_path = rest.split_once('@').map_or(rest, |(_, h)| h);
    format!("{scheme}://{account}@{host_and_path}")
}

/// `url` naming another database.
fn with_database(url: &str, database: &str) -> String {
    let (base, _) = url.rsplit_once('/').unwrap();
    format!("{base}/{database}")
}

/// A database that does not exist, an account that does not, a wrong password, a port
/// nothing listens on, a port already taken: each one line naming the cause and what to
/// check, and exit 1.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_up_failures_name_their_cause_and_what_to_check() {
    let closed = format!("127.0.0.1:{}", free_port());
    // (the environment, what its error line must say)
    type Case<'a> = (Vec<(&'a str, String)>, Vec<&'a str>);
    let mut cases: Vec<Case<'_>> = Vec::new();
    if let Some(pg) = shop_store::scratch::postgres(1).await {
        let url = pg.url();
        let store = ("SHOP_STORE", "postgres".to_owned());
        cases.extend([
            (
                vec![
                    store.clone(),
                    ("DATABASE_URL", with_database(&url, "shop_no_such_db")),
                ],
                vec![
                    "database \"shop_no_such_db\" does not exist",
                    "create the database",
                    "PGDATABASE",
                ],
            ),
            (
                vec![
                    store.clone(),
                    ("DATABASE_URL", with_account(&url, "shop_no_such_role")),
                ],
                vec![
                    "role \"shop_no_such_role\" does not exist",
                    "PGUSER/PGPASSWORD",
                ],
            ),
            (
                vec![
                    store.clone(),
                    ("DATABASE_URL", format!("postgres://postgres@{closed}/shop")),
                ],
                vec![&closed, "nothing is listening there", "PGHOST/PGPORT"],
            ),
        ]);
        drop(pg);
    }
    if let Some(mysql) = shop_store::scratch::mysql(1).await {
        let url = mysql.url();
        let store = ("SHOP_STORE", "mysql".to_owned());
        cases.extend([
            (
                vec![
                    store.clone(),
                    ("MYSQL_URL", with_database(&url, "shop_no_such_db")),
                ],
                vec!["Unknown database 'shop_no_such_db'", "MYSQL_DATABASE"],
            ),
            (
                vec![
                    store.clone(),
                    ("MYSQL_URL", with_account(&url, "shop_no_such_user:wrong")),
                ],
                vec![
                    "Access denied for user 'shop_no_such_user'",
                    "MYSQL_USER/MYSQL_PASSWORD",
                ],
            ),
            (
                // Whether the server speaks TLS or not, it cannot prove it is 127.0.0.1's
                // rightful owner to a client that verifies the name.
                vec![
                    store.clone(),
                    ("MYSQL_URL", format!("{url}?ssl-mode=verify_identity")),
                ],
                vec!["TLS failed", "ssl-mode"],
            ),
            (
                vec![
                    store.clone(),
                    ("MYSQL_URL", format!("mysql://root@{closed}/shop")),
                ],
                vec![
                    &closed,
                    "nothing is listening there",
                    "MYSQL_HOST/MYSQL_PORT",
                ],
            ),
        ]);
    }
    for (env, needles) in &cases {
        let line = failure_line(&run(&[], env));
        for needle in needles {
            assert!(line.contains(needle), "{env:?}: {needle:?} in {line}");
        }
        assert!(!line.contains("wrong"), "no password in the line: {line}");
    }

    // Ports taken: the address and the variable that sets it.
    let taken = std::net::TcpListener::bind("0.0.0.0:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let line = failure_line(&run(
        &[],
        &[
            ("PORT", port.clone()),
            ("SHOP_OPS_PORT", free_port().to_string()),
        ],
    ));
    assert!(
        line.contains(&format!("cannot listen on 0.0.0.0:{port} (PORT)"))
            && line.contains("Address already in use"),
        "{line}"
    );
    let line = failure_line(&run(
        &[],
        &[
            ("PORT", free_port().to_string()),
            ("SHOP_OPS_PORT", port.clone()),
        ],
    ));
    assert!(
        line.contains(&format!("0.0.0.0:{port} (SHOP_OPS_PORT)")),
        "{line}"
    );
}

/// `/metrics` answers on the operations listener only; the public port says 404 (a problem
/// document for an API client).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_served_on_the_operations_listener_only() {
    let app = start(&[]);
    let http = reqwest::Client::new();
    wait_ready(&http, &app.base).await;
    let public = http
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(public.status(), 404);
    assert_eq!(public.headers()["content-type"], "application/problem+json");
    let ops = http
        .get(format!("{}/metrics", app.ops))
        .send()
        .await
        .unwrap();
    assert_eq!(ops.status(), 200);
    let scrape = ops.text().await.unwrap();
    assert!(
        scrape.contains("shop_order_revenue_minor_units_total"),
        "{scrape}"
    );
    let ready = http.get(format!("{}/ready", app.ops)).send().await.unwrap();
    assert_eq!(ready.status(), 200);
    terminate(app);
}

/// The API of one running app, for a test that makes many calls.
struct Api {
    http: reqwest::Client,
    base: String,
}

impl Api {
    /// One request to `/api{path}` (with a fresh `Idempotency-Key` when signed in); its JSON
    /// body after checking the status.
    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
        expect: u16,
    ) -> Value {
        let mut req = self
            .http
            .request(method, format!("{}/api{path}", self.base));
        if let Some(t) = token {
            req = req
                .bearer_auth(t)
                .header("idempotency-key", uuid::Uuid::new_v4().to_string());
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        let body: Value = res.json().await.unwrap_or(Value::Null);
        assert_eq!(status, expect, "{path}: {body}");
        body
    }
}

/// Every event type published to RabbitMQ (all but `order.placed` returned by the broker, no
/// queue being bound for them), a failed login, a token refresh — with every level of every
/// crate logged (`RUST_LOG=trace`). The whole log then holds none of the e-mail addresses,
/// passwords or tokens used, and every line is JSON.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_hold_no_customer_data_at_any_level() {
    use reqwest::Method;
    let Some(plumbing) = support::broker::broker().await else {
        return;
    };
    let exchange = format!("shop.events.t{}", uuid::Uuid::new_v4().simple());
    let admin_email = "privacy-admin@example.org";
    let admin_password = "privacy test admin passphrase";
    let shopper_email = "privacy-shopper@example.org";
    let shopper_password = "privacy test shopper passphrase";
    let wrong_password = "privacy test wrong passphrase";
    let app = start(&[
        ("RABBITMQ_URL", support::broker::rabbit_url()),
        ("RABBITMQ_EXCHANGE", exchange.clone()),
        ("RUST_LOG", "trace".into()),
        ("SHOP_ADMIN_EMAIL", admin_email.into()),
        ("SHOP_ADMIN_PASSWORD", admin_password.into()),
        (
            "JWT_SECRET_KEY",
            "privacy tests only, thirty-two bytes or more".into(),
        ),
    ]);
    let http = reqwest::Client::new();
    wait_ready(&http, &app.base).await;
    let api = Api {
        http,
        base: app.base.clone(),
    };
    let (post, put) = (Method::POST, Method::PUT);
    let login = |email: &str, password: &str, expect: u16| {
        let body = json!({"email": email, "password": password});
        api.send(Method::POST, "/auth/login", None, Some(body), expect)
    };

    // user.registered; a failed login; sessions; a refresh.
    let account =
        json!({"email": shopper_email, "password": shopper_password, "display_name": "P"});
    api.send(post.clone(), "/auth/register", None, Some(account), 201)
        .await;
    login(shopper_email, wrong_password, 401).await;
    let session = login(shopper_email, shopper_password, 200).await;
    let refresh = json!({"refresh_token": session["refresh_token"]});
    let refreshed = api
        .send(post.clone(), "/auth/refresh", None, Some(refresh), 200)
        .await;
    let shopper = refreshed["access_token"].as_str().unwrap().to_owned();
    let admin_session = login(admin_email, admin_password, 200).await;
    let admin = admin_session["access_token"].as_str().unwrap().to_owned();

    // product.created, product.updated.
    let new = json!({"sku": "PRIV-1", "name": "Privacy mug", "price_minor": 1200,
                     "currency": "EUR", "stock": 6, "active": true});
    let product = api
        .send(post.clone(), "/products", Some(&admin), Some(new), 201)
        .await;
    let product_id = product["id"].as_str().unwrap().to_owned();
    let rename = json!({"name": "Privacy mug, blue"});
    let path = format!("/products/{product_id}");
    api.send(Method::PATCH, &path, Some(&admin), Some(rename), 200)
        .await;
    // order.placed and product.stock_low (6 → 4 crosses the threshold of 5); then
    // order.status_changed; then order.cancelled.
    let buy = |quantity: u32| {
        let (api, shopper, line) = (
            &api,
            &shopper,
            json!({"product_id": product_id, "quantity": quantity}),
        );
        async move {
            api.send(Method::POST, "/cart/items", Some(shopper), Some(line), 200)
                .await;
            api.send(Method::POST, "/checkout", Some(shopper), None, 201)
                .await
        }
    };
    let paid = buy(2).await;
    let path = format!("/orders/{}/status", paid["id"].as_str().unwrap());
    let status = json!({"status": "paid"});
    api.send(put, &path, Some(&admin), Some(status), 200).await;
    let cancelled = buy(1).await;
    let path = format!("/orders/{}/cancel", cancelled["id"].as_str().unwrap());
    api.send(post.clone(), &path, Some(&shopper), None, 200)
        .await;
    // review.added.
    let review = json!({"rating": 5, "title": "Private", "body": "Keeps my coffee to itself."});
    let path = format!("/products/{product_id}/reviews");
    api.send(post, &path, Some(&shopper), Some(review), 201)
        .await;

    // Wait for the thing itself: the broker returned every event no queue is bound for, and
    // the shop said so for each of those types.
    let returned = [
        "user.registered",
        "product.created",
        "product.updated",
        "product.stock_low",
        "order.status_changed",
        "order.cancelled",
        "review.added",
    ];
    let mut logs: Vec<String> = app.startup.clone();
    let deadline = Instant::now() + Duration::from_secs(60);
    let said = |logs: &[String], event_type: &str| {
        logs.iter().any(|l| {
            l.contains("no queue is bound")
                && l.contains(&format!("\"event_type\":\"{event_type}\""))
        })
    };
    while !returned.iter().all(|t| said(&logs, t)) {
        assert!(
            Instant::now() < deadline,
            "the relay did not report every returned event type: {:?}",
            returned
                .iter()
                .filter(|t| !said(&logs, t))
                .collect::<Vec<_>>()
        );
        if let Ok(line) = app.lines.recv_timeout(Duration::from_millis(200)) {
            logs.push(line);
        }
    }
    terminate(app);

    let secrets = [
        admin_email,
        admin_password,
        shopper_email,
        shopper_password,
        wrong_password,
        session["access_token"].as_str().unwrap(),
        session["refresh_token"].as_str().unwrap(),
        refreshed["refresh_token"].as_str().unwrap(),
        &shopper,
        &admin,
    ];
    assert!(logs.len() > 40, "a trace-level log: {} lines", logs.len());
    for line in &logs {
        assert!(
            serde_json::from_str::<Value>(line).is_ok(),
            "one format throughout: {line}"
        );
        for secret in secrets {
            assert!(
                !line.contains(secret),
                "{secret:?} is in a log line: {line}"
            );
            // As a byte array, the way a Debug of a message body prints it.
            let bytes: Vec<String> = secret.bytes().map(|b| b.to_string()).collect();
            assert!(
                !line.contains(&bytes.join(", ")),
                "{secret:?} (as bytes): {line}"
            );
        }
        // The library's dump of a returned message: the body as a decimal byte array.
        assert!(!line.contains("Server returned us a message"), "{line}");
    }
    support::broker::delete_deployment(&plumbing, &exchange).await;
}

/// A broker that cannot be reached does not stop the shop (the outbox keeps the events), and
/// the relay's and the consumer's warnings say which broker, without its password.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_broker_is_named_in_the_warnings() {
    let closed = free_port();
    let app = start(&[(
        "RABBITMQ_URL",
        format!("amqp://shop:broker-secret@127.0.0.1:{closed}/%2f"),
    )]);
    let named = format!("amqp://shop:<redacted>@127.0.0.1:{closed}");
    let said = |logs: &[Value], target: &str| {
        logs.iter().any(|l| {
            l["level"] == "WARN"
                && l["target"] == target
                && l.to_string().contains(&named)
                && l.to_string().contains("Connection refused")
        })
    };
    let logs = app.logs_until(|logs| {
        said(logs, "shop_events::relay") && said(logs, "reference_app::notifications")
    });
    assert!(said(&logs, "shop_events::relay"), "{logs:#?}");
    assert!(said(&logs, "reference_app::notifications"), "{logs:#?}");
    for line in &logs {
        assert!(!line.to_string().contains("broker-secret"), "{line}");
    }
    let http = reqwest::Client::new();
    wait_ready(&http, &app.base).await;
    terminate(app);
}
