//! Pieces shared by the adapters' configuration types.

use std::fmt;
use std::time::Duration;

/// A configuration value was missing or malformed; names the environment variable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{variable}: {reason}")]
pub struct ConfigError {
    /// The environment variable at fault.
    pub variable: &'static str,
    /// What is wrong with it (never its value, which may be secret).
    pub reason: String,
}

impl ConfigError {
    /// A new error about `variable`.
    pub fn new(variable: &'static str, reason: impl Into<String>) -> Self {
        Self {
            variable,
            reason: reason.into(),
        }
    }
}

/// A string that never shows in `Debug` or `Display` output.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    #[must_use]
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }

    /// The secret itself; call only where it is handed to a driver.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"<redacted>\"")
    }
}

/// A URL with its password replaced, for logs: `scheme://user:<redacted>@host/...`.
#[must_use]
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return "<redacted>".to_owned();
    };
    let (authority, tail) = match rest.find(['/', '?']) {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split_once(':').map_or(userinfo, |(u, _)| u);
            if userinfo.contains(':') {
                format!("{scheme}://{user}:<redacted>@{host}{tail}")
            } else {
                format!("{scheme}://{user}@{host}{tail}")
            }
        }
        None => url.to_owned(),
    }
}

/// Reads an environment variable; empty counts as unset.
pub(crate) fn var(name: &'static str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// Reads and parses an environment variable, or returns `default` when it is unset.
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
pub(crate) fn seconds(name: &'static str, default: u64) -> Result<Duration, ConfigError> {
    parsed(name, default).map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_redacted() {
        assert_eq!(
            redact_url("mysql://root:hunter2@db:3306/shop?ssl-mode=required"),
            "mysql://root:<redacted>@db:3306/shop?ssl-mode=required"
        );
        assert_eq!(redact_url("mysql://root@db/shop"), "mysql://root@db/shop");
        assert_eq!(
            redact_url("mongodb://u:p@a:1,b:2/?replicaSet=rs0"),
            "mongodb://u:<redacted>@a:1,b:2/?replicaSet=rs0"
        );
        assert_eq!(redact_url("garbage"), "<redacted>");
        assert_eq!(format!("{:?}", Secret::new("pw")), "\"<redacted>\"");
    }
}
