//! What the tests that start the binary share.

#![allow(clippy::unwrap_used)] // test support: panics are reports

// Each test binary uses a part of it.
#[allow(dead_code)]
pub(crate) mod app;
#[allow(dead_code)]
pub(crate) mod broker;

/// A port nothing listens on now, for one app.
pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
