//! # reference-app
//!
//! The shop crates wired into one service. With no configuration at all it serves the demo
//! shop on `0.0.0.0:8080` from memory; the README lists every environment variable. Beside
//! the API it serves its face, built only on that API (module `web`): the storefront at `/`,
//! the admin console at `/admin` and the interactive API docs at `/docs`.
//!
//! Start-up: read the configuration (a bad value → one message naming the variable, exit 2),
//! connect the stores (MySQL migrations and MongoDB indexes are applied), bootstrap the admin
//! account, seed the demo catalog into an empty catalog, start the outbox relay (to RabbitMQ
//! when `RABBITMQ_URL` is set, else to the in-process bus) and the periodic retention purge,
//! serve. On SIGTERM/SIGINT `/ready` answers 503 at once; after `SHOP_SHUTDOWN_DELAY_SECS` it
//! stops accepting, closes idle connections, lets requests in flight finish (bounded by
//! `SHOP_SHUTDOWN_GRACE_SECS`), drains the outbox relay and closes the pools.
//!
//! Subcommands: `reference-app migrate` applies the schema (MySQL migrations, MongoDB indexes)
//! for the configured backends and exits, for a deploy step that should own it;
//! `reference-app purge` deletes what the retention policy no longer keeps and exits;
//! `reference-app healthcheck` asks the running app's `/health` (the image has no shell or curl).

// mimalloc: faster small allocations than glibc's malloc and, above all, far less memory held
// back as fragmentation under many threads (see benches/README.md for the figures).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod config;
mod demo;
mod notifications;
mod retention;
mod stores;
mod telemetry;
mod web;
mod wiring;

use std::process::ExitCode;

use config::AppConfig;
use tracing::{error, info};

/// `reference-app healthcheck`: exit 0 when `GET /health` on this host's `PORT` answers 200.
/// For container health checks in images without a shell or curl.
fn healthcheck() -> ExitCode {
    use std::io::{Read, Write};
    let port = std::env::var("PORT").unwrap_or_else(|_| "8080".into());
    let root = std::env::var("ROOT_PATH").unwrap_or_default();
    let timeout = std::time::Duration::from_secs(2);
    let Ok(addr) = format!("127.0.0.1:{port}").parse::<std::net::SocketAddr>() else {
        return ExitCode::FAILURE;
    };
    let Ok(mut conn) = std::net::TcpStream::connect_timeout(&addr, timeout) else {
        return ExitCode::FAILURE;
    };
    let _ = conn.set_read_timeout(Some(timeout));
    let request = format!(
        "GET {}/health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
        root.trim_end_matches('/')
    );
    let mut head = [0u8; 12];
    if conn.write_all(request.as_bytes()).is_err() || conn.read_exact(&mut head).is_err() {
        return ExitCode::FAILURE;
    }
    if head.starts_with(b"HTTP/1.1 200") {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn main() -> ExitCode {
    if std::env::args().nth(1).as_deref() == Some("healthcheck") {
        return healthcheck();
    }
    let config = match AppConfig::from_env() {
        Ok(c) => c,
        Err(e) => {
            #[allow(clippy::print_stderr)] // logging is not set up yet, and must not be needed
            {
                eprintln!("reference-app: configuration error: {e}");
            }
            return ExitCode::from(2);
        }
    };
    let telemetry = telemetry::init(config.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            error!(error = %e, "cannot start the async runtime");
            return ExitCode::FAILURE;
        }
    };
    let subcommand = std::env::args().nth(1);
    let work = async {
        match subcommand.as_deref() {
            Some("migrate") => stores::migrate(config).await,
            Some("purge") => retention::purge_once(config).await,
            _ => wiring::run(config).await,
        }
    };
    let code = match runtime.block_on(work) {
        Ok(()) => {
            match subcommand.as_deref() {
                Some("migrate") => info!("migrated"),
                Some("purge") => {}
                _ => info!("stopped cleanly"),
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            error!(error = %e, "reference-app failed");
            ExitCode::FAILURE
        }
    };
    drop(runtime);
    telemetry.shutdown();
    code
}
