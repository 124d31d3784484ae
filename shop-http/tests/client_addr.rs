//! Login throttling keys on the client's address over real sockets, from several source
//! addresses on 127.0.0.0/8: behind a trusted proxy the address `X-Forwarded-For` names, and
//! without one the socket peer, whatever the header claims.

#![allow(clippy::unwrap_used)] // test code

mod support;

use std::net::IpAddr;
use std::sync::Arc;

use reqwest::StatusCode;
use serde_json::json;
use shop_http::{HttpConfig, TrustedProxies, router, serve};
use shop_store::MemoryStore;

/// Serves the app (5 failures allowed per key) on 127.0.0.1; returns its base URL.
async fn serve_with(trusted: &str) -> String {
    let state = support::state_over(Arc::new(MemoryStore::new())).await;
    let config = {
        let mut config = HttpConfig::default();
        config.trusted_proxies = TrustedProxies::parse(trusted).unwrap();
        config
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(serve(
        listener,
        router(state, &config),
        &config,
        std::future::pending(),
    ));
    base
}

/// A client whose connections come from `source`.
fn client_from(source: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(source.parse::<IpAddr>().unwrap())
        .build()
        .unwrap()
}

async fn login(
    http: &reqwest::Client,
    base: &str,
    forwarded_for: Option<&str>,
    email: &str,
    password: &str,
) -> StatusCode {
    let mut req = http
        .post(format!("{base}/api/auth/login"))
        .json(&json!({ "email": email, "password": password }));
    if let Some(xff) = forwarded_for {
        req = req.header("x-forwarded-for", xff);
    }
    req.send().await.unwrap().status()
}

/// Five failures, each for another email, from one client.
async fn five_failures(http: &reqwest::Client, base: &str, forwarded_for: Option<&str>) {
    for i in 0..5 {
        let status = login(
            http,
            base,
            forwarded_for,
            &format!("nobody{i}@example.com"),
            "wrong password",
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_forwarded_client_is_throttled_alone() {
    let base = serve_with("127.0.0.1/32").await;
    let proxy = client_from("127.0.0.1");
    five_failures(&proxy, &base, Some("198.51.100.1")).await;
    let admin = support::ADMIN_EMAIL;
    assert_eq!(
        login(
            &proxy,
            &base,
            Some("198.51.100.1"),
            admin,
            support::PASSWORD
        )
        .await,
        StatusCode::TOO_MANY_REQUESTS,
        "client A is throttled"
    );
    assert_eq!(
        login(
            &proxy,
            &base,
            Some("198.51.100.2"),
            admin,
            support::PASSWORD
        )
        .await,
        StatusCode::OK,
        "client B, through the same proxy, is not"
    );
    // A hop the client wrote itself, left of what the proxy saw, changes nothing.
    assert_eq!(
        login(
            &proxy,
            &base,
            Some("198.51.100.2, 198.51.100.1"),
            admin,
            support::PASSWORD
        )
        .await,
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test]
async fn without_trusted_proxies_a_spoofed_header_changes_nothing() {
    let base = serve_with("").await;
    let attacker = client_from("127.0.0.2");
    // Five failures, each claiming to come from another address.
    for i in 0..5 {
        let xff = format!("203.0.113.{i}");
        let status = login(
            &attacker,
            &base,
            Some(&xff),
            "x@example.com",
            "wrong password",
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let admin = support::ADMIN_EMAIL;
    assert_eq!(
        login(
            &attacker,
            &base,
            Some("203.0.113.99"),
            admin,
            support::PASSWORD
        )
        .await,
        StatusCode::TOO_MANY_REQUESTS,
        "the socket peer is the client, whatever the header says"
    );
    assert_eq!(
        login(
            &client_from("127.0.0.3"),
            &base,
            None,
            admin,
            support::PASSWORD
        )
        .await,
        StatusCode::OK,
        "another peer is not throttled"
    );
}

#[tokio::test]
async fn an_untrusted_peer_cannot_pose_as_a_proxy() {
    let base = serve_with("127.0.0.1/32").await;
    let outsider = client_from("127.0.0.4");
    five_failures(&outsider, &base, Some("198.51.100.7")).await;
    assert_eq!(
        login(
            &outsider,
            &base,
            Some("198.51.100.8"),
            support::ADMIN_EMAIL,
            support::PASSWORD
        )
        .await,
        StatusCode::TOO_MANY_REQUESTS,
        "127.0.0.4 is not a trusted proxy: its header is ignored"
    );
}
