//! A small closed-loop HTTP/1.1 load generator: a fixed number of keep-alive connections, each
//! sending its next request when the previous answer has been read in full, for a fixed time or
//! a fixed number of operations. Latencies are recorded per operation (microseconds) and
//! reported as percentiles. One generator drives both the reference app and the bare hyper
//! baseline, so their figures compare like with like.
//!
//! Written here rather than taken from `oha` or `wrk` because the checkout scenario is a
//! sequence (fill a fresh cart, then check out under a fresh idempotency key) per operation.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};

/// Any failure of the generator or an unexpected answer.
pub type LoadError = Box<dyn std::error::Error + Send + Sync>;

/// One keep-alive HTTP/1.1 connection.
pub struct Conn {
    sender: SendRequest<Full<Bytes>>,
}

impl std::fmt::Debug for Conn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Conn").finish_non_exhaustive()
    }
}

impl Conn {
    /// Opens a connection to `addr`.
    ///
    /// # Errors
    /// When the server cannot be reached.
    pub async fn open(addr: SocketAddr) -> Result<Self, LoadError> {
        let stream = tokio::net::TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        let (sender, connection) =
            hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(connection);
        Ok(Self { sender })
    }

    /// Sends one request and reads the whole answer.
    ///
    /// # Errors
    /// On a transport failure.
    pub async fn send(
        &mut self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<String>,
    ) -> Result<(StatusCode, Bytes), LoadError> {
        let mut req = Request::builder()
            .method(method)
            .uri(path)
            .header(hyper::header::HOST, "bench");
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let body = match body {
            Some(b) => {
                req = req.header(hyper::header::CONTENT_TYPE, "application/json");
                Full::new(Bytes::from(b))
            }
            None => Full::new(Bytes::new()),
        };
        self.sender.ready().await?;
        let res = self.sender.send_request(req.body(body)?).await?;
        let status = res.status();
        let bytes = res.into_body().collect().await?.to_bytes();
        Ok((status, bytes))
    }

    /// Sends and insists on `expected`.
    ///
    /// # Errors
    /// On a transport failure or another status (the body is in the message).
    pub async fn expect(
        &mut self,
        expected: StatusCode,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<String>,
    ) -> Result<Bytes, LoadError> {
        let (status, bytes) = self.send(method, path, headers, body).await?;
        if status == expected {
            Ok(bytes)
        } else {
            Err(format!(
                "{path}: expected {expected}, got {status}: {}",
                String::from_utf8_lossy(&bytes)
            )
            .into())
        }
    }
}

/// What one operation is.
#[derive(Debug, Clone)]
pub enum Scenario {
    /// `GET path`, expecting 200; the whole request is timed.
    Get(String),
    /// Put one unit of `product_id` in the cart (not timed), then `POST /api/checkout` under a
    /// fresh idempotency key (timed), expecting 201. One bearer token per connection.
    Checkout {
        /// The product bought.
        product_id: String,
        /// `Authorization` header values, one per connection (one user each).
        bearers: Vec<String>,
    },
    /// `POST /api/products` (admin), creating product number `n` of a shared counter.
    CreateProduct {
        /// The admin's `Authorization` header value.
        bearer: String,
    },
}

/// How long to run.
#[derive(Debug, Clone, Copy)]
pub enum Budget {
    /// For this long.
    Time(Duration),
    /// Until this many operations completed.
    Count(u64),
}

/// What a run measured.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Operations completed.
    pub completed: u64,
    /// Wall time of the run.
    pub elapsed: Duration,
    /// Timed part of each operation, microseconds, sorted.
    pub latencies_us: Vec<u32>,
}

impl Outcome {
    /// Operations per second.
    #[must_use]
    #[allow(clippy::cast_precision_loss)] // counts far below 2^52
    pub fn rate(&self) -> f64 {
        self.completed as f64 / self.elapsed.as_secs_f64()
    }

    /// The `p`-th percentile (0–100) of the timed latencies.
    #[must_use]
    #[allow(
        clippy::cast_precision_loss,
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss
    )] // an index within the vector
    pub fn percentile(&self, p: f64) -> Duration {
        if self.latencies_us.is_empty() {
            return Duration::ZERO;
        }
        let rank = ((p / 100.0) * (self.latencies_us.len() - 1) as f64).round() as usize;
        Duration::from_micros(u64::from(self.latencies_us[rank]))
    }
}

fn micros(d: Duration) -> u32 {
    u32::try_from(d.as_micros()).unwrap_or(u32::MAX)
}

async fn one(
    conn: &mut Conn,
    scenario: &Scenario,
    connection: usize,
    op: u64,
) -> Result<Duration, LoadError> {
    match scenario {
        Scenario::Get(path) => {
            let start = Instant::now();
            conn.expect(StatusCode::OK, Method::GET, path, &[], None)
                .await?;
            Ok(start.elapsed())
        }
        Scenario::Checkout {
            product_id,
            bearers,
        } => {
            let auth = bearers[connection % bearers.len()].as_str();
            let headers = [("authorization", auth)];
            conn.expect(
                StatusCode::OK,
                Method::POST,
                "/api/cart/items",
                &headers,
                Some(format!(r#"{{"product_id":"{product_id}","quantity":1}}"#)),
            )
            .await?;
            let key = format!("load-{connection}-{op}-{}", uuid::Uuid::now_v7().simple());
            let headers = [("authorization", auth), ("idempotency-key", key.as_str())];
            let start = Instant::now();
            conn.expect(
                StatusCode::CREATED,
                Method::POST,
                "/api/checkout",
                &headers,
                Some("{}".into()),
            )
            .await?;
            Ok(start.elapsed())
        }
        Scenario::CreateProduct { bearer } => {
            let n = format!("{connection}-{op}");
            let body = format!(
                r#"{{"sku":"LOAD-{n}","slug":"load-{n}","name":"Load product {n}","description":"Created by the load harness to measure memory.","price_minor":1999,"currency":"EUR","stock":100}}"#
            );
            let start = Instant::now();
            conn.expect(
                StatusCode::CREATED,
                Method::POST,
                "/api/products",
                &[("authorization", bearer.as_str())],
                Some(body),
            )
            .await?;
            Ok(start.elapsed())
        }
    }
}

/// Runs `scenario` over `connections` connections to `addr` within `budget`.
///
/// # Errors
/// The first failure of any connection (a load test with errors has no meaningful figures).
pub async fn drive(
    addr: SocketAddr,
    connections: usize,
    budget: Budget,
    scenario: &Scenario,
) -> Result<Outcome, LoadError> {
    let issued = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let mut tasks = Vec::with_capacity(connections);
    for connection in 0..connections {
        let (issued, scenario) = (issued.clone(), scenario.clone());
        let mut conn = Conn::open(addr).await?;
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let op = issued.fetch_add(1, Ordering::Relaxed);
                let go_on = match budget {
                    Budget::Time(d) => start.elapsed() < d,
                    Budget::Count(n) => op < n,
                };
                if !go_on {
                    break;
                }
                latencies.push(micros(one(&mut conn, &scenario, connection, op).await?));
            }
            Ok::<_, LoadError>(latencies)
        }));
    }
    let mut latencies_us = Vec::new();
    for t in tasks {
        latencies_us.extend(t.await??);
    }
    let elapsed = start.elapsed();
    latencies_us.sort_unstable();
    Ok(Outcome {
        completed: latencies_us.len() as u64,
        elapsed,
        latencies_us,
    })
}

/// Sends a JSON body (with a bearer token if given), insists on `expected`, parses the answer.
///
/// # Errors
/// On a transport failure, another status or an answer that is not JSON.
pub async fn json_of(
    conn: &mut Conn,
    expected: StatusCode,
    method: Method,
    path: &str,
    bearer: Option<&str>,
    body: Value,
) -> Result<Value, LoadError> {
    let headers: Vec<(&str, &str)> = bearer.map(|b| ("authorization", b)).into_iter().collect();
    let bytes = conn
        .expect(expected, method, path, &headers, Some(body.to_string()))
        .await?;
    Ok(serde_json::from_slice(&bytes)?)
}

/// Signs in and returns the `Authorization` header value.
///
/// # Errors
/// When signing in fails.
pub async fn bearer_for(conn: &mut Conn, email: &str, password: &str) -> Result<String, LoadError> {
    let session = json_of(
        conn,
        StatusCode::OK,
        Method::POST,
        "/api/auth/login",
        None,
        json!({"email": email, "password": password}),
    )
    .await?;
    let token = session["access_token"].as_str().ok_or("no access_token")?;
    Ok(format!("Bearer {token}"))
}

/// What [`prepare`] made: a product with stock for any run, and signed-in users.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// The product every scenario reads and buys (`LOAD-MUG`, a billion units).
    pub product_id: String,
    /// One `Authorization` value per user (`load{i}@example.com`).
    pub bearers: Vec<String>,
    /// The admin's `Authorization` value.
    pub admin: String,
}

/// Through the API alone (so any server with the shop's API can be driven): signs the admin
/// (`admin@shop.local`) in, creates the product and registers and signs in `users` users.
///
/// # Errors
/// When a step is refused.
pub async fn prepare(
    addr: SocketAddr,
    admin_password: &str,
    users: usize,
) -> Result<Prepared, LoadError> {
    let mut setup = Conn::open(addr).await?;
    let admin = bearer_for(&mut setup, "admin@shop.local", admin_password).await?;
    let product = json_of(
        &mut setup,
        StatusCode::CREATED,
        Method::POST,
        "/api/products",
        Some(&admin),
        json!({"sku": "LOAD-MUG", "name": "Load mug", "price_minor": 1250, "currency": "EUR",
               "stock": 1_000_000_000_i64}),
    )
    .await?;
    let product_id = product["id"].as_str().ok_or("no product id")?.to_owned();
    let mut bearers = Vec::with_capacity(users);
    for i in 0..users {
        let email = format!("load{i}@example.com");
        json_of(
            &mut setup,
            StatusCode::CREATED,
            Method::POST,
            "/api/auth/register",
            None,
            json!({"email": email, "password": "a load passphrase", "display_name": "Load"}),
        )
        .await?;
        bearers.push(bearer_for(&mut setup, &email, "a load passphrase").await?);
    }
    Ok(Prepared {
        product_id,
        bearers,
        admin,
    })
}

/// Waits until `GET path` answers 200 (a server starting up), at most a minute.
///
/// # Errors
/// When it never does.
pub async fn wait_ready(addr: SocketAddr, path: &str) -> Result<(), LoadError> {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if let Ok(mut c) = Conn::open(addr).await
            && let Ok((StatusCode::OK, _)) = c.send(Method::GET, path, &[], None).await
        {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(format!("server on {addr} never answered {path}").into())
}
