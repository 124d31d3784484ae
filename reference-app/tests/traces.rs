//! One trace from a checkout request to the consumer's handler, through the real binary
//! (MySQL), RabbitMQ and an in-process OTLP/HTTP receiver that decodes what the app exports:
//! the caller's `traceparent` is continued by the request span; the checkout service call and
//! the store call (with `db.system`) are inside it; the relay's publish and the order
//! notifications consumer's handling join the same trace through the outbox and the message
//! headers.

#![allow(clippy::unwrap_used, clippy::print_stderr)] // test code: panics and skips are reports

mod support;
use support::broker::{broker, rabbit_url};
use support::free_port;

use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::routing::post;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value as AnyValue;
use parking_lot::Mutex;
use prost::Message;
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_reference-app");

#[derive(Debug, Clone)]
struct SpanSeen {
    trace_id: String,
    span_id: String,
    parent: String,
    name: String,
    attributes: HashMap<String, String>,
}

/// An OTLP/HTTP trace receiver on a free port: what it decodes lands in the returned list.
async fn receiver() -> (String, Arc<Mutex<Vec<SpanSeen>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    let app = axum::Router::new().route(
        "/v1/traces",
        post(move |body: Bytes| {
            let sink = sink.clone();
            async move {
                let request = ExportTraceServiceRequest::decode(body).unwrap();
                for scope in request.resource_spans.iter().flat_map(|r| &r.scope_spans) {
                    for span in &scope.spans {
                        let attributes = span
                            .attributes
                            .iter()
                            .map(|kv| {
                                let value = match kv.value.as_ref().and_then(|v| v.value.clone()) {
                                    Some(AnyValue::StringValue(s)) => s,
                                    Some(other) => format!("{other:?}"),
                                    None => String::new(),
                                };
                                (kv.key.clone(), value)
                            })
                            .collect();
                        sink.lock().push(SpanSeen {
                            trace_id: hex::encode(&span.trace_id),
                            span_id: hex::encode(&span.span_id),
                            parent: hex::encode(&span.parent_span_id),
                            name: span.name.clone(),
                            attributes,
                        });
                    }
                }
                // An empty ExportTraceServiceResponse.
                (
                    [("content-type", "application/x-protobuf")],
                    Vec::<u8>::new(),
                )
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}"), seen)
}

struct App(Child);

impl Drop for App {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn log_path() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("traces-app.log")
}

async fn call(req: reqwest::RequestBuilder, expect: u16) -> Value {
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let body: Value = res.json().await.unwrap_or(Value::Null);
    assert_eq!(status, expect, "{body}");
    body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_checkout_is_one_trace_from_request_to_consumer() {
    let Some(plumbing) = broker().await else {
        return;
    };
    let Some(mysql) = shop_store::scratch::mysql(4).await else {
        return;
    };
    let (endpoint, seen) = receiver().await;
    let exchange = format!("shop.events.t{}", uuid::Uuid::new_v4().simple());
    let port = free_port();
    let child = Command::new(BIN)
        .env_clear()
        .env("PORT", port.to_string())
        .env("SHOP_OPS_PORT", free_port().to_string())
        .env("SHOP_STORE", "mysql")
        .env("MYSQL_URL", mysql.url())
        .env("RABBITMQ_URL", rabbit_url())
        .env("RABBITMQ_EXCHANGE", &exchange)
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint)
        .env("OTEL_BSP_SCHEDULE_DELAY", "100")
        .env("SHOP_ADMIN_PASSWORD", "trace test admin passphrase")
        .env(
            "JWT_SECRET_KEY",
            "trace tests only, thirty-two bytes or more",
        )
        // Its logs, for when this fails.
        .stdout(std::fs::File::create(log_path()).unwrap())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let app = App(child);
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !http
        .get(format!("{base}/ready"))
        .send()
        .await
        .is_ok_and(|r| r.status().is_success())
    {
        assert!(Instant::now() < deadline, "the app never became ready");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let creds = json!({"email": "traced@example.com", "password": "a traced passphrase"});
    let mut register = creds.clone();
    register["display_name"] = json!("Traced");
    call(
        http.post(format!("{base}/api/auth/register"))
            .json(&register),
        201,
    )
    .await;
    let session = call(
        http.post(format!("{base}/api/auth/login")).json(&creds),
        200,
    )
    .await;
    let token = session["access_token"].as_str().unwrap().to_owned();
    let products = call(http.get(format!("{base}/api/products?limit=1")), 200).await;
    let product = products["items"][0]["id"].as_str().unwrap().to_owned();
    call(
        http.post(format!("{base}/api/cart/items"))
            .bearer_auth(&token)
            .json(&json!({"product_id": product, "quantity": 1})),
        200,
    )
    .await;
    // The caller's own trace, which the app must continue.
    let trace_id = uuid::Uuid::new_v4().simple().to_string();
    let caller_span = "00f067aa0ba902b7";
    call(
        http.post(format!("{base}/api/checkout"))
            .bearer_auth(&token)
            .header("idempotency-key", "traced-1")
            .header("traceparent", format!("00-{trace_id}-{caller_span}-01")),
        201,
    )
    .await;

    let deadline = Instant::now() + Duration::from_secs(30);
    let spans = loop {
        let spans: Vec<SpanSeen> = seen
            .lock()
            .iter()
            .filter(|s| s.trace_id == trace_id)
            .cloned()
            .collect();
        if spans.iter().any(|s| s.name == "event.handle") {
            break spans;
        }
        assert!(
            Instant::now() < deadline,
            "no consumer span in the trace; spans of the trace so far: {:?}; all spans: {:?}; \
             the app's log is {}",
            spans.iter().map(|s| &s.name).collect::<Vec<_>>(),
            seen.lock()
                .iter()
                .map(|s| (&s.name, &s.trace_id))
                .collect::<Vec<_>>(),
            log_path().display()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let named = |name: &str| {
        spans
            .iter()
            .find(|s| s.name == name)
            .unwrap_or_else(|| panic!("no {name} span in {spans:#?}"))
    };
    let request = named("request");
    assert_eq!(
        request.parent, caller_span,
        "the caller's traceparent is continued"
    );
    let checkout = named("checkout");
    let place = spans
        .iter()
        .find(|s| s.attributes.get("db.system").map(String::as_str) == Some("mysql"))
        .unwrap_or_else(|| panic!("no store span with db.system in {spans:#?}"));
    let publish = named("outbox.publish");
    let handle = named("event.handle");
    assert_eq!(
        handle.parent, publish.span_id,
        "the consumer's span is the publish span's child, through the message headers"
    );
    assert_eq!(
        handle.attributes.get("event.type").map(String::as_str),
        Some("order.placed")
    );
    // The store call and the service call happen inside the request.
    let ids: HashMap<&str, &SpanSeen> = spans.iter().map(|s| (s.span_id.as_str(), s)).collect();
    let inside = |span: &SpanSeen, ancestor: &SpanSeen| {
        let mut at = span;
        while let Some(parent) = ids.get(at.parent.as_str()) {
            if parent.span_id == ancestor.span_id {
                return true;
            }
            at = parent;
        }
        false
    };
    assert!(inside(checkout, request), "{checkout:?} under {request:?}");
    assert!(inside(place, checkout), "{place:?} under {checkout:?}");

    drop(app);
    support::broker::delete_deployment(&plumbing, &exchange).await;
}
