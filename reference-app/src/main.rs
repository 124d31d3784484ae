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
//! The command line (`--help`, `--version`, subcommands `serve` — the default — `migrate`,
//! `purge`, `healthcheck`) is in [`cli`]; `--help` also lists every environment variable.
//! A failure after the configuration was accepted (a database that refuses, a port taken) is
//! one `ERROR` line naming its cause and what to check, and the exit code is 1.

// mimalloc: faster small allocations than glibc's malloc and, above all, far less memory held
// back as fragmentation under many threads (see benches/README.md for the figures).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod cli;
mod config;
mod demo;
mod demo_images;
mod environment;
mod healthcheck;
mod notifications;
mod retention;
mod stores;
mod telemetry;
mod web;
mod wiring;

use std::process::ExitCode;

use cli::{Cli, Command};
use config::AppConfig;
use tracing::{error, info};

fn main() -> ExitCode {
    let command = Cli::parse_args().subcommand();
    if command == Command::Healthcheck {
        return healthcheck::run();
    }
    let config = match AppConfig::from_env() {
        Ok(c) => c,
        Err(e) => {
            report_configuration_error(&e);
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
    let work = async {
        match command {
            Command::Migrate => stores::migrate(config).await,
            Command::Purge => retention::purge_once(config).await,
            Command::Serve | Command::Healthcheck => wiring::run(config).await,
        }
    };
    let code = match runtime.block_on(work) {
        Ok(()) => {
            match command {
                Command::Migrate => info!("migrated"),
                Command::Purge | Command::Healthcheck => {}
                Command::Serve => info!("stopped cleanly"),
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            error!(error = %shop_core::error::causes(e.as_ref()), "reference-app failed");
            ExitCode::FAILURE
        }
    };
    drop(runtime);
    telemetry.shutdown();
    code
}

/// One line on standard error naming the bad variable, before (and without) the logging it
/// may have broken: a JSON event like every other line unless `LOG_FORMAT=pretty`.
fn report_configuration_error(e: &shop_core::config::ConfigError) {
    let pretty = std::env::var("LOG_FORMAT").is_ok_and(|f| f.trim() == "pretty");
    let line = if pretty {
        format!("reference-app: configuration error: {e}")
    } else {
        serde_json::json!({
            "timestamp": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            "level": "ERROR",
            "message": "configuration error: the app does not start",
            "error": e.to_string(),
            "target": "reference_app",
        })
        .to_string()
    };
    #[allow(clippy::print_stderr)] // logging is not set up yet, and must not be needed
    {
        eprintln!("{line}");
    }
}
