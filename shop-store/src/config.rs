//! Pieces shared by the adapters' configuration types.

use std::time::Duration;

pub use shop_core::config::ConfigError;
pub use shop_core::secret::{ExposeSecret, SecretString, redact_url};

/// Reads an environment variable; empty counts as unset.
#[cfg_attr(
    not(any(feature = "mysql", feature = "mongodb", feature = "postgres")),
    allow(dead_code)
)]
pub(crate) fn var(name: &'static str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// Reads and parses an environment variable, or returns `default` when it is unset.
#[cfg_attr(
    not(any(feature = "mysql", feature = "mongodb", feature = "postgres")),
    allow(dead_code)
)]
pub(crate) fn parsed<T: std::str::FromStr>(
    name: &'static str,
    default: T,
) -> Result<T, ConfigError> {
    match var(name) {
        None => Ok(default),
        Some(v) => v
            .trim()
            .parse()
            .map_err(|_| ConfigError::new(name, format!("expected a number, got {v:?}"))),
    }
}

/// Reads a whole number of seconds.
#[cfg_attr(not(any(feature = "mysql", feature = "postgres")), allow(dead_code))]
pub(crate) fn seconds(name: &'static str, default: u64) -> Result<Duration, ConfigError> {
    parsed(name, default).map(Duration::from_secs)
}
