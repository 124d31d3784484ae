//! A connection that could not be made at start-up, told so an operator can act on it: which
//! server, what went wrong in the server's or the network's own words, and which variable to
//! look at — instead of the bare "storage unavailable" a request gets.

use std::time::Duration;

use shop_core::Error;
use sqlx::ConnectOptions;

/// What the server answered when it refused a connection, as a dialect reads its codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// The database named in the configuration does not exist.
    NoSuchDatabase,
    /// The user or role is unknown, the password wrong, or the account may not connect.
    NotAuthorized,
    /// Anything else the server said.
    Other,
}

/// The configuration variables of one adapter, named in the hints.
pub(crate) struct Variables {
    pub(crate) url: &'static str,
    pub(crate) host_port: &'static str,
    pub(crate) database: &'static str,
    pub(crate) account: &'static str,
    pub(crate) tls: &'static str,
}

/// A failed start-up connection (its `Display` is the whole story, in one line).
#[derive(Debug, thiserror::Error)]
#[error("cannot connect to {target}: {cause}; {check}")]
pub(crate) struct ConnectError {
    target: String,
    cause: String,
    check: String,
}

/// Describes `e`, the error of connecting to `target`, as an [`Error::Unavailable`] whose
/// source names the cause and what to check.
fn describe(
    target: String,
    e: &sqlx::Error,
    refusal: fn(&dyn sqlx::error::DatabaseError) -> Refusal,
    vars: &Variables,
) -> Error {
    let (cause, check) = match e {
        sqlx::Error::Database(db) => {
            let said = format!("the server refused: {}", db.message());
            match refusal(db.as_ref()) {
                Refusal::NoSuchDatabase => (
                    said,
                    format!(
                        "create the database, or name an existing one in {} or {}",
                        vars.database, vars.url
                    ),
                ),
                Refusal::NotAuthorized => (
                    said,
                    format!(
                        "check the account and password ({} or {}) and that the server lets \
                         it connect from here",
                        vars.account, vars.url
                    ),
                ),
                Refusal::Other => (said, format!("check the server's log and {}", vars.url)),
            }
        }
        sqlx::Error::Io(io) => {
            let cause = match io.kind() {
                std::io::ErrorKind::ConnectionRefused => {
                    format!("nothing is listening there ({io})")
                }
                std::io::ErrorKind::TimedOut => format!("no answer ({io})"),
                _ if io.to_string().contains("lookup") => {
                    format!("the host name does not resolve ({io})")
                }
                _ => format!("network error ({io})"),
            };
            (
                cause,
                format!(
                    "check that the server is running and reachable at the host and port in \
                     {} or {}",
                    vars.host_port, vars.url
                ),
            )
        }
        sqlx::Error::Tls(tls) => (
            format!("TLS failed ({tls})"),
            format!(
                "check the server's certificate and TLS settings and the TLS mode in {}",
                vars.tls
            ),
        ),
        sqlx::Error::PoolTimedOut => (
            "no connection within the acquire timeout".to_owned(),
            format!(
                "check that the server is running and reachable at the host and port in {} or {}",
                vars.host_port, vars.url
            ),
        ),
        other => (other.to_string(), format!("check {}", vars.url)),
    };
    Error::unavailable(ConnectError {
        target,
        cause,
        check,
    })
}

/// The error for a pool that could not open its first connection to `target`: the cause
/// told as [`describe`] does. A pool gives up with only "timed out" when it retried network
/// errors until its acquire timeout, so then one direct attempt (within `within`) tells why.
pub(crate) async fn explain<O>(
    pool_error: sqlx::Error,
    options: &O,
    within: Duration,
    target: String,
    refusal: fn(&dyn sqlx::error::DatabaseError) -> Refusal,
    vars: &Variables,
) -> Error
where
    O: ConnectOptions,
    O::Connection: Sized,
{
    let cause = if matches!(pool_error, sqlx::Error::PoolTimedOut) {
        match tokio::time::timeout(within, options.connect()).await {
            Ok(Err(direct)) => direct,
            Ok(Ok(_)) | Err(_) => pool_error,
        }
    } else {
        pool_error
    };
    describe(target, &cause, refusal, vars)
}
