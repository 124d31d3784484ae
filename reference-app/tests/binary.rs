//! The built binary as an operator runs it: no configuration, a short story over HTTP,
//! SIGTERM and a clean exit; the MySQL + MongoDB layout; and bad configuration exiting 2.

#![allow(clippy::unwrap_used)] // test code

mod support;
use support::app::{BIN, get, post, start, story, terminate, wait_ready};
use support::free_port;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_with_no_configuration_and_stops_cleanly_on_sigterm() {
    let app = start(&[]);
    let password = app
        .printed_password
        .clone()
        .expect("a generated admin password is printed");
    story(&app, &password).await;
    terminate(app);
}

/// `/health` names the build: the version, and the revision the image was built from — what a
/// deployment's smoke test waits for before it trusts the answers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_names_the_version_and_revision_it_runs() {
    let app = start(&[("SHOP_REVISION", "0123abcd".into())]);
    let http = reqwest::Client::new();
    wait_ready(&http, &app.base).await;
    let health = get(&http, format!("{}/health", app.base), None).await;
    assert_eq!(health["status"], "ok");
    assert_eq!(health["build"]["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(health["build"]["revision"], "0123abcd");
    terminate(app);
}

/// Signing with an Ed25519 key pair, the app publishes the public key; a verifier holding
/// only that JWK Set accepts the app's tokens.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publishes_its_signing_key_as_a_jwk_set_for_other_services() {
    let keys = concat!(env!("CARGO_MANIFEST_DIR"), "/../shop-auth/tests/keys");
    let app = start(&[
        ("JWT_PRIVATE_KEY_FILE", format!("{keys}/ed25519-a.pem")),
        ("JWT_PUBLIC_KEY_FILE", format!("{keys}/ed25519-a.pub.pem")),
    ]);
    let http = reqwest::Client::new();
    wait_ready(&http, &app.base).await;
    let jwks = http
        .get(format!("{}/.well-known/jwks.json", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(jwks.status(), 200);
    let jwks = jwks.bytes().await.unwrap();
    let verifier = shop_auth::AccessTokens::new(
        shop_auth::KeySet::from_jwks_json(&jwks).unwrap(),
        shop_auth::TokenPolicy::default(),
    );
    let password = app.printed_password.clone().unwrap();
    let (status, session) = post(
        &http,
        format!("{}/api/auth/login", app.base),
        None,
        json!({"email": "admin@shop.local", "password": password}),
    )
    .await;
    assert_eq!(status, 200);
    let principal = verifier
        .verify(session["access_token"].as_str().unwrap())
        .unwrap();
    assert_eq!(
        principal.user_id.to_string(),
        session["user"]["id"].as_str().unwrap()
    );
    terminate(app);
}

/// The pages are served by the binary itself, under `ROOT_PATH`, with a policy of their own
/// (this origin only, no inline script), while the API keeps its stricter one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serves_storefront_admin_and_docs_under_the_root_path() {
    let app = start(&[("ROOT_PATH", "/shop".into())]);
    let http = reqwest::Client::new();
    let base = format!("{}/shop", app.base);
    wait_ready(&http, &base).await;
    for path in [
        "",
        "/products/classic-mug",
        "/cart",
        "/admin",
        "/admin/orders",
    ] {
        let res = http.get(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(res.status(), 200, "{path}");
        let csp = res.headers()["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("script-src 'self'"), "{path}: {csp}");
        assert!(!csp.contains("unsafe-inline"), "{path}: {csp}");
        let html = res.text().await.unwrap();
        assert!(html.contains(r#"<meta name="shop-root" content="/shop">"#));
        assert!(html.contains(r#"src="/shop/assets/app.js""#));
        assert!(!html.contains("<script>"), "no inline script");
    }
    let js = http
        .get(format!("{base}/assets/app.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        js.headers()["content-type"],
        "text/javascript; charset=utf-8"
    );
    let missing = http
        .get(format!("{base}/assets/nope.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    assert_eq!(
        missing.headers()["content-type"],
        "application/problem+json"
    );
    // The docs: Swagger UI's own files, pointed at the served document under the root path.
    let init = http
        .get(format!("{base}/docs/swagger-initializer.js"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(init.contains(r#""url": "/shop/openapi.json""#), "{init}");
    let docs = http.get(format!("{base}/docs/")).send().await.unwrap();
    assert_eq!(docs.status(), 200);
    assert!(docs.text().await.unwrap().contains("swagger-ui-bundle.js"));
    let api = http
        .get(format!("{base}/api/products?limit=1"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        api.headers()["content-security-policy"],
        "default-src 'none'; frame-ancestors 'none'"
    );
    terminate(app);
}

/// The access log as an operator reads it (JSON, the default): one line per request at the
/// default level with its request ID, route template, status, latency, bytes, client and user;
/// a line a handler writes while serving the request carries the same request ID; no secret is
/// ever written; `RUST_LOG` silences the access lines alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn access_log_has_one_line_per_request_with_its_request_id() {
    let password = "access log admin passphrase";
    for silenced in [false, true] {
        let mut env = vec![("SHOP_ADMIN_PASSWORD", password.to_owned())];
        if silenced {
            env.push(("RUST_LOG", "info,shop_http::access=off".to_owned()));
        }
        let app = start(&env);
        let http = reqwest::Client::new();
        let base = &app.base;
        wait_ready(&http, base).await;
        let (status, session) = post(
            &http,
            format!("{base}/api/auth/login"),
            None,
            json!({"email": "admin@shop.local", "password": password}),
        )
        .await;
        assert_eq!(status, 200);
        let token = session["access_token"].as_str().unwrap().to_owned();
        let admin_id = session["user"]["id"].as_str().unwrap().to_owned();
        let products = get(&http, format!("{base}/api/products?limit=1"), None).await;
        let product = products["items"][0]["id"].as_str().unwrap().to_owned();
        let res = http
            .post(format!("{base}/api/products/{product}/stock"))
            .bearer_auth(&token)
            .header("x-request-id", "access-log-stock")
            .json(&json!({"delta": 2, "reason": "a recount"}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        let body_len = res.bytes().await.unwrap().len();
        let missing = http
            .get(format!("{base}/api/nothing-here"))
            .header("x-request-id", "access-log-404")
            .send()
            .await
            .unwrap();
        assert_eq!(missing.status(), 404);

        let with_id = |logs: &[Value], id: &str, target: &str| -> Option<Value> {
            logs.iter()
                .find(|l| {
                    l["target"] == target
                        && (l["request_id"] == id || l["span"]["request_id"] == id)
                })
                .cloned()
        };
        let logs = app.logs_until(|logs| {
            with_id(logs, "access-log-stock", "audit").is_some()
                && (silenced || with_id(logs, "access-log-404", "shop_http::access").is_some())
        });
        // The handler's own line (the stock audit) carries the request's ID.
        let audit = with_id(&logs, "access-log-stock", "audit").expect("the audit line");
        assert_eq!(audit["admin_id"], admin_id.as_str());
        for line in &logs {
            let text = line.to_string();
            assert!(!text.contains(&token), "a token was logged: {text}");
            assert!(!text.contains(password), "a password was logged: {text}");
        }
        let access: Vec<&Value> = logs
            .iter()
            .filter(|l| l["target"] == "shop_http::access")
            .collect();
        if silenced {
            assert!(access.is_empty(), "RUST_LOG silences them: {access:?}");
            terminate(app);
            continue;
        }
        let stock = with_id(&logs, "access-log-stock", "shop_http::access").unwrap();
        assert_eq!(stock["level"], "INFO");
        assert_eq!(stock["method"], "POST");
        assert_eq!(stock["route"], "/api/products/{id}/stock");
        assert_eq!(stock["status"], 200);
        assert!(stock["latency_ms"].as_f64().unwrap() > 0.0, "{stock}");
        assert!(stock["bytes"].as_u64().unwrap() > 0, "{stock}");
        // Uncompressed here (the client asked for no encoding): the bytes are the body's.
        assert_eq!(stock["bytes"].as_u64().unwrap(), body_len as u64);
        assert_eq!(stock["client"], "127.0.0.1");
        assert_eq!(stock["user_id"], admin_id.as_str());
        assert_eq!(stock["complete"], true);
        let missing = with_id(&logs, "access-log-404", "shop_http::access").unwrap();
        assert_eq!(missing["status"], 404);
        assert!(missing.get("user_id").is_none(), "{missing}");
        // The login itself was logged, without its body.
        assert!(access.iter().any(|l| l["route"] == "/api/auth/login"));
        terminate(app);
    }
}

/// SIGTERM as a balancer needs it: `/ready` is 503 at once while requests are still served
/// for the delay; then the process exits without waiting out the grace period (or the header
/// timeout) for an idle keep-alive connection, a silent one or one that sent half a head.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_turns_ready_503_then_exits_without_waiting_for_idle_connections() {
    use std::io::{Read, Write};
    let mut app = start(&[
        ("SHOP_SHUTDOWN_DELAY_SECS", "2".into()),
        ("SHOP_SHUTDOWN_GRACE_SECS", "30".into()),
        ("SHOP_HEADER_READ_TIMEOUT_SECS", "30".into()),
    ]);
    let http = reqwest::Client::new();
    let base = app.base.clone();
    wait_ready(&http, &base).await;
    // A keep-alive connection left idle after one request.
    let port = base.rsplit(':').next().unwrap();
    let mut idle = std::net::TcpStream::connect(format!("127.0.0.1:{port}")).unwrap();
    idle.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut head = [0u8; 12];
    idle.read_exact(&mut head).unwrap();
    assert_eq!(&head, b"HTTP/1.1 200");
    let silent = std::net::TcpStream::connect(format!("127.0.0.1:{port}")).unwrap();
    let mut half = std::net::TcpStream::connect(format!("127.0.0.1:{port}")).unwrap();
    half.write_all(b"GET /api/prod").unwrap();

    let signalled = Instant::now();
    assert!(
        Command::new("kill")
            .args(["-TERM", &app.child.id().to_string()])
            .status()
            .unwrap()
            .success()
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    let ready = http.get(format!("{base}/ready")).send().await.unwrap();
    assert_eq!(ready.status(), 503, "not ready once draining");
    let products = http
        .get(format!("{base}/api/products?limit=1"))
        .send()
        .await
        .unwrap();
    assert_eq!(products.status(), 200, "still serving during the delay");
    let status = loop {
        if let Some(status) = app.child.try_wait().unwrap() {
            break status;
        }
        assert!(
            signalled.elapsed() < Duration::from_secs(15),
            "a connection held the exit back toward the 30 s grace"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "{status}");
    let took = signalled.elapsed();
    assert!(
        took >= Duration::from_secs(2),
        "the delay was kept: {took:?}"
    );
    drop((idle, silent, half));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_on_mysql_with_reviews_in_mongodb() {
    let Some(mysql) = shop_store::scratch::mysql(4).await else {
        return;
    };
    let Some(mongo) = shop_store::scratch::mongodb().await else {
        return;
    };
    let password = "operator chosen passphrase".to_owned();
    let app = start(&[
        ("SHOP_STORE", "mysql".into()),
        ("MYSQL_URL", mysql.url()),
        ("SHOP_REVIEWS_STORE", "mongodb".into()),
        ("MONGODB_URI", mongo.uri().to_owned()),
        ("MONGODB_DATABASE", mongo.database().to_owned()),
        ("SHOP_ADMIN_PASSWORD", password.clone()),
        (
            "JWT_SECRET_KEY",
            "a test secret of at least thirty-two bytes".into(),
        ),
    ]);
    assert!(
        app.printed_password.is_none(),
        "a configured password is never printed"
    );
    story(&app, &password).await;
    terminate(app);
}

/// The whole story on PostgreSQL, and `migrate` for it: the schema is created on an empty
/// database by the subcommand, which exits without serving.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_on_postgres_and_migrates_it() {
    let Some(pg) = shop_store::scratch::postgres(1).await else {
        return;
    };
    // Start from an empty database: the scratch one comes migrated.
    {
        use sqlx::{Connection, Executor};
        let mut conn = sqlx::PgConnection::connect(&pg.url()).await.unwrap();
        conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
            .await
            .unwrap();
    }
    let status = Command::new(BIN)
        .arg("migrate")
        .env_clear()
        .env("SHOP_STORE", "postgres")
        .env("DATABASE_URL", pg.url())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "{status:?}");
    let tables: i64 = {
        use sqlx::Connection;
        let mut conn = sqlx::PgConnection::connect(&pg.url()).await.unwrap();
        sqlx::query_scalar(
            "SELECT count(*) FROM information_schema.tables \
             WHERE table_schema = 'public' AND table_name IN ('orders', 'outbox', 'users')",
        )
        .fetch_one(&mut conn)
        .await
        .unwrap()
    };
    assert_eq!(tables, 3, "migrate created the schema");

    let password = "operator chosen passphrase".to_owned();
    let app = start(&[
        ("SHOP_STORE", "postgres".into()),
        ("DATABASE_URL", pg.url()),
        ("SHOP_ADMIN_PASSWORD", password.clone()),
        (
            "JWT_SECRET_KEY",
            "a test secret of at least thirty-two bytes".into(),
        ),
    ]);
    story(&app, &password).await;
    terminate(app);
}

async fn table_names(conn: &mut sqlx::MySqlConnection, database: &str) -> Vec<String> {
    use sqlx::Row;
    sqlx::query(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = ? \
         ORDER BY table_name",
    )
    .bind(database)
    .fetch_all(conn)
    .await
    .unwrap()
    .iter()
    .map(|r| r.get::<String, _>(0))
    .collect()
}

/// `reference-app migrate` on a database whose tables were all dropped recreates them and
/// exits 0 without serving.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_subcommand_creates_the_schema_and_exits() {
    use sqlx::{Connection, Executor};
    let Some(mysql) = shop_store::scratch::mysql(1).await else {
        return;
    };
    let mut conn = sqlx::MySqlConnection::connect(&mysql.url()).await.unwrap();
    let migrated = table_names(&mut conn, &mysql.database).await;
    assert!(migrated.iter().any(|t| t == "orders"), "{migrated:?}");
    conn.execute("SET FOREIGN_KEY_CHECKS = 0").await.unwrap();
    for table in &migrated {
        conn.execute(format!("DROP TABLE `{table}`").as_str())
            .await
            .unwrap();
    }
    assert!(table_names(&mut conn, &mysql.database).await.is_empty());

    let mut child = Command::new(BIN)
        .arg("migrate")
        .env_clear()
        .env("SHOP_STORE", "mysql")
        .env("MYSQL_URL", mysql.url())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("`migrate` did not exit: it must not start serving");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "{status:?}");
    assert_eq!(table_names(&mut conn, &mysql.database).await, migrated);
}

#[test]
fn bad_configuration_exits_2_naming_the_variable() {
    let cases: &[(&[(&str, &str)], &str)] = &[
        (&[("PORT", "eighty")], "PORT"),
        (&[("SHOP_STORE", "oracle")], "SHOP_STORE"),
        (&[("SHOP_REVIEWS_STORE", "sqlite")], "SHOP_REVIEWS_STORE"),
        (
            &[("SHOP_STORE", "postgres"), ("DATABASE_URL", "mysql://h/db")],
            "DATABASE_URL",
        ),
        (&[("SHOP_STORE", "postgres"), ("PGPORT", "x")], "PGPORT"),
        (&[("SHOP_STORE", "mongodb")], "MONGODB_URI"),
        (
            &[("SHOP_STORE", "mysql"), ("MYSQL_PORT", "x")],
            "MYSQL_PORT",
        ),
        (&[("JWT_SECRET_KEY", "short")], "JWT_SECRET_KEY"),
        (
            &[("JWT_PRIVATE_KEY_FILE", "/nonexistent.pem")],
            "JWT_PUBLIC_KEY_FILE",
        ),
        (&[("LOG_FORMAT", "xml")], "LOG_FORMAT"),
        (
            &[("LOG_FORMAT", "pretty"), ("PORT", "x")],
            "reference-app: configuration error: PORT",
        ),
        (
            &[("PORT", "8080"), ("SHOP_OPS_PORT", "8080")],
            "SHOP_OPS_PORT",
        ),
        (&[("SHOP_OPS_PORT", "metrics")], "SHOP_OPS_PORT"),
        (&[("ROOT_PATH", "shop")], "ROOT_PATH"),
        (&[("ROOT_PATH", "/shop\"><script>")], "ROOT_PATH"),
        (&[("CORS_ORIGINS", "example.com")], "CORS_ORIGINS"),
        (&[("SHOP_ADMIN_EMAIL", "not-an-email")], "SHOP_ADMIN_EMAIL"),
        (&[("SHOP_ADMIN_PASSWORD", "short")], "SHOP_ADMIN_PASSWORD"),
        (&[("SHOP_DEMO_DATA", "maybe")], "SHOP_DEMO_DATA"),
        (&[("RABBITMQ_URL", "http://not-amqp")], "RABBITMQ_URL"),
        (
            &[("TRUSTED_PROXIES", "10.0.0.0/8, proxy.local")],
            "TRUSTED_PROXIES",
        ),
        (&[("SHOP_THROTTLE", "memcached")], "SHOP_THROTTLE"),
        (
            &[("SHOP_THROTTLE", "redis"), ("REDIS_URL", "http://cache")],
            "REDIS_URL",
        ),
        (
            &[("SHOP_LOGIN_MAX_FAILURES", "many")],
            "SHOP_LOGIN_MAX_FAILURES",
        ),
        (
            &[("SHOP_RETENTION_EVENTS_DAYS", "-1")],
            "SHOP_RETENTION_EVENTS_DAYS",
        ),
        (
            &[("SHOP_PURGE_INTERVAL_SECS", "hourly")],
            "SHOP_PURGE_INTERVAL_SECS",
        ),
        (
            &[("SHOP_SHUTDOWN_DELAY_SECS", "soon")],
            "SHOP_SHUTDOWN_DELAY_SECS",
        ),
        (
            &[("SHOP_HEADER_READ_TIMEOUT_SECS", "1.5")],
            "SHOP_HEADER_READ_TIMEOUT_SECS",
        ),
        (&[("SHOP_MAX_CONNECTIONS", "lots")], "SHOP_MAX_CONNECTIONS"),
        (
            &[("SHOP_REQUEST_TIMEOUT_SECS", "x")],
            "SHOP_REQUEST_TIMEOUT_SECS",
        ),
        (
            &[("SHOP_CONCURRENCY_LIMIT", "-5")],
            "SHOP_CONCURRENCY_LIMIT",
        ),
        (&[("SHOP_BODY_LIMIT_BYTES", "64k")], "SHOP_BODY_LIMIT_BYTES"),
    ];
    let down = Command::new(BIN)
        .arg("healthcheck")
        .env_clear()
        .env("PORT", free_port().to_string())
        .status()
        .unwrap();
    assert!(
        !down.success(),
        "the health check fails when nothing listens"
    );
    for (env, variable) in cases {
        let out = Command::new(BIN)
            .env_clear()
            .envs(env.iter().copied())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{env:?}: {stderr}");
        assert!(
            !stderr.contains("panicked") && stderr.lines().count() == 1,
            "{stderr}"
        );
        // A JSON event like every other line, unless the logs are pretty.
        let pretty = env.contains(&("LOG_FORMAT", "pretty"));
        let error = if pretty {
            stderr.into_owned()
        } else {
            let event: Value = serde_json::from_str(&stderr)
                .unwrap_or_else(|e| panic!("{env:?}: not JSON ({e}): {stderr}"));
            assert_eq!(event["level"], "ERROR", "{event}");
            event["error"].as_str().unwrap().to_owned()
        };
        assert!(
            error.starts_with(variable),
            "{env:?} names {variable}: {error}"
        );
    }
}

/// The pages answer like a web site's, under `ROOT_PATH` too: a product page for a missing
/// product is a 404 (the page says so), a browser's unknown path is the HTML page with 404
/// while an API client gets its problem document, and the demo products' pictures are drawn
/// and served by the app itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_answer_with_the_status_a_browser_expects() {
    let app = start(&[("ROOT_PATH", "/shop".into())]);
    let http = reqwest::Client::new();
    let base = format!("{}/shop", app.base);
    wait_ready(&http, &base).await;
    let browse = |path: &str| {
        http.get(format!("{base}{path}"))
            .header(
                "accept",
                "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
            )
            .send()
    };
    for (path, status, html) in [
        ("/products/classic-mug", 200, true),
        ("/products/no-such-thing", 404, true),
        ("/products/NOT%20A%20SLUG", 404, true),
        ("/no/such/page", 404, true),
        ("/api/no-such-route", 404, false),
        ("/assets/no-such-file.js", 404, false),
    ] {
        let res = browse(path).await.unwrap();
        assert_eq!(res.status(), status, "{path}");
        let content_type = res.headers()["content-type"].to_str().unwrap().to_owned();
        if html {
            assert_eq!(content_type, "text/html; charset=utf-8", "{path}");
            let csp = res.headers()["content-security-policy"].to_str().unwrap();
            assert!(csp.contains("script-src 'self'"), "{path}: {csp}");
            let page = res.text().await.unwrap();
            assert!(page.contains(r#"src="/shop/assets/app.js""#), "{path}");
        } else {
            assert_eq!(content_type, "application/problem+json", "{path}");
        }
    }
    // An API client (no HTML accepted) asking for an unknown path keeps its problem document.
    let res = http
        .get(format!("{base}/no/such/page"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    assert_eq!(res.headers()["content-type"], "application/problem+json");
    let problem: Value = res.json().await.unwrap();
    assert_eq!(problem["type"], "about:blank");
    assert_eq!(problem["title"], "Not Found");

    let products = get(&http, format!("{base}/api/products?limit=100"), None).await;
    let items = products["items"].as_array().unwrap();
    assert_eq!(items.len(), 36);
    for product in items {
        let url = product["image_url"].as_str().expect("a demo picture");
        assert!(url.starts_with("/shop/assets/demo/"), "{url}");
    }
    let url = items[0]["image_url"].as_str().unwrap();
    let picture = http.get(format!("{}{url}", app.base)).send().await.unwrap();
    assert_eq!(picture.status(), 200);
    assert_eq!(picture.headers()["content-type"], "image/svg+xml");
    assert!(picture.text().await.unwrap().starts_with("<svg "));
    terminate(app);
}
