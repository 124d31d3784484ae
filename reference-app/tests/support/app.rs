//! Running the built binary as an operator does: start it on free ports and read its JSON
//! logs, wait until ready, a short story over HTTP, SIGTERM.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::free_port;

/// The binary under test.
pub(crate) const BIN: &str = env!("CARGO_BIN_EXE_reference-app");

pub(crate) struct Running {
    pub(crate) child: Child,
    /// The public listener, `http://127.0.0.1:PORT`.
    pub(crate) base: String,
    /// The operations listener (`/metrics`), `http://127.0.0.1:SHOP_OPS_PORT`.
    pub(crate) ops: String,
    /// The admin password logged at start-up, if one was generated.
    pub(crate) printed_password: Option<String>,
    /// The lines it wrote up to its start-up line, that one included.
    pub(crate) startup: Vec<String>,
    /// Every later line of its standard output (the logs).
    pub(crate) lines: mpsc::Receiver<String>,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

/// Starts the binary with exactly `env` (plus `PORT` and `SHOP_OPS_PORT`), waits for its
/// start-up line. Unless `LOG_FORMAT=pretty`, every line it writes until then must be JSON
/// (one log format throughout, the generated-password notice included).
pub(crate) fn start(env: &[(&str, String)]) -> Running {
    let port = free_port();
    let ops_port = free_port();
    let mut cmd = Command::new(BIN);
    cmd.env_clear()
        .env("PORT", port.to_string())
        .env("SHOP_OPS_PORT", ops_port.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let json = !env.iter().any(|(k, v)| *k == "LOG_FORMAT" && v == "pretty");
    let mut child = cmd.spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut printed_password = None;
    let mut startup = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let line = rx
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .expect("the app printed no start-up line in time");
        startup.push(line.clone());
        if !json {
            if line.contains("listening") {
                break;
            }
            continue;
        }
        let event: Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("a log line that is not JSON ({e}): {line}"));
        if let Some(password) = event["password"].as_str() {
            printed_password = Some(password.to_owned());
        }
        if event["message"] == "listening" {
            assert!(
                event["try_it"].as_str().unwrap().starts_with("curl "),
                "it says how to try it: {line}"
            );
            assert!(
                event["storefront"]
                    .as_str()
                    .unwrap()
                    .starts_with("http://localhost:")
                    && event["docs"].as_str().unwrap().ends_with("/docs"),
                "it says where the pages are: {line}"
            );
            break;
        }
    }
    Running {
        child,
        base: format!("http://127.0.0.1:{port}"),
        ops: format!("http://127.0.0.1:{ops_port}"),
        printed_password,
        startup,
        lines: rx,
    }
}

impl Running {
    /// The JSON log lines printed so far, waiting until `done` holds for them (or 10 s).
    pub(crate) fn logs_until(&self, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        let mut logs = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(10);
        while !done(&logs) && Instant::now() < deadline {
            if let Ok(line) = self.lines.recv_timeout(Duration::from_millis(100))
                && let Ok(v) = serde_json::from_str::<Value>(&line)
            {
                logs.push(v);
            }
        }
        logs
    }
}

pub(crate) async fn wait_ready(http: &reqwest::Client, base: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(r) = http.get(format!("{base}/ready")).send().await
            && r.status().is_success()
        {
            return;
        }
        assert!(Instant::now() < deadline, "never ready");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub(crate) async fn post(
    http: &reqwest::Client,
    url: String,
    token: Option<&str>,
    body: Value,
) -> (u16, Value) {
    let mut req = http.post(url).json(&body);
    if let Some(t) = token {
        req = req.bearer_auth(t).header("idempotency-key", "story-1");
    }
    let res = req.send().await.unwrap();
    (
        res.status().as_u16(),
        res.json().await.unwrap_or(Value::Null),
    )
}

pub(crate) async fn get(http: &reqwest::Client, url: String, token: Option<&str>) -> Value {
    let mut req = http.get(url);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    req.send().await.unwrap().json().await.unwrap()
}

/// Register → login → cart → checkout against a running app; the admin then sees one order.
pub(crate) async fn story(app: &Running, admin_password: &str) {
    let http = reqwest::Client::new();
    let base = &app.base;
    wait_ready(&http, base).await;
    let products = get(&http, format!("{base}/api/products?limit=1"), None).await;
    let product_id = products["items"][0]["id"]
        .as_str()
        .expect("demo catalog")
        .to_owned();
    let creds = json!({"email": "op@example.com", "password": "an operator passphrase"});
    let mut register = creds.clone();
    register["display_name"] = json!("Op");
    let (status, _) = post(&http, format!("{base}/api/auth/register"), None, register).await;
    assert_eq!(status, 201);
    let (status, session) = post(&http, format!("{base}/api/auth/login"), None, creds).await;
    assert_eq!(status, 200);
    let token = session["access_token"].as_str().unwrap();
    let (status, _) = post(
        &http,
        format!("{base}/api/cart/items"),
        Some(token),
        json!({"product_id": product_id, "quantity": 1}),
    )
    .await;
    assert_eq!(status, 200);
    let (status, order) = post(
        &http,
        format!("{base}/api/checkout"),
        Some(token),
        json!({}),
    )
    .await;
    assert_eq!(status, 201, "{order}");
    let (status, admin) = post(
        &http,
        format!("{base}/api/auth/login"),
        None,
        json!({"email": "admin@shop.local", "password": admin_password}),
    )
    .await;
    assert_eq!(status, 200, "the bootstrap admin can sign in");
    let orders = get(
        &http,
        format!("{base}/api/orders"),
        admin["access_token"].as_str(),
    )
    .await;
    assert_eq!(orders["items"].as_array().unwrap().len(), 1);
}

pub(crate) fn terminate(mut app: Running) {
    let pid = app.child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = app.child.try_wait().unwrap() {
            assert!(status.success(), "clean exit after SIGTERM: {status}");
            return;
        }
        assert!(Instant::now() < deadline, "did not stop after SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    }
}
