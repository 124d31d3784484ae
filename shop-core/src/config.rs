//! Configuration from the environment: the error every shop crate that reads a variable
//! returns, so an application reports them all the same way.

/// A configuration value was missing or malformed; names the environment variable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{variable}: {reason}")]
#[non_exhaustive]
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
