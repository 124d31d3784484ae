use std::fmt;
use std::time::Duration;

use crate::config::{ConfigError, ExposeSecret, SecretString, parsed, redact_url, var};

/// How to reach MongoDB. `Debug` never shows credentials.
///
/// | variable | meaning | default |
/// |---|---|---|
/// | `MONGODB_URI` | connection string; production needs a replica set (one node is fine) | `mongodb://127.0.0.1:27017/?directConnection=true` |
/// | `MONGODB_DATABASE` | database name | `shop` |
/// | `MONGODB_TIMEOUT_SECS` | server selection and connect timeout | `5` |
#[derive(Clone)]
#[non_exhaustive]
pub struct MongoConfig {
    /// Connection string (may hold credentials).
    pub uri: SecretString,
    /// Database name.
    pub database: String,
    /// How long to wait for a usable server before reporting `Unavailable`.
    pub timeout: Duration,
}

impl Default for MongoConfig {
    fn default() -> Self {
        Self {
            uri: SecretString::from("mongodb://127.0.0.1:27017/?directConnection=true"),
            database: "shop".into(),
            timeout: Duration::from_secs(5),
        }
    }
}

impl MongoConfig {
    /// Reads the variables in the table above.
    ///
    /// # Errors
    /// A [`ConfigError`] naming the first malformed variable.
    pub fn from_env() -> Result<Self, ConfigError> {
        let d = Self::default();
        let uri = var("MONGODB_URI").map_or(d.uri, SecretString::from);
        let u = uri.expose_secret();
        if !(u.starts_with("mongodb://") || u.starts_with("mongodb+srv://")) {
            return Err(ConfigError::new(
                "MONGODB_URI",
                "must start with mongodb:// or mongodb+srv://",
            ));
        }
        let database = var("MONGODB_DATABASE").unwrap_or(d.database);
        if database.is_empty()
            || database.len() > 63
            || database.contains(['/', '\\', '.', ' ', '"', '$'])
        {
            return Err(ConfigError::new(
                "MONGODB_DATABASE",
                "must be 1-63 characters without / \\ . space \" $",
            ));
        }
        Ok(Self {
            uri,
            database,
            timeout: Duration::from_secs(parsed("MONGODB_TIMEOUT_SECS", 5)?),
        })
    }

    /// The same server, another database (tests give each test its own).
    #[must_use]
    pub fn with_database(&self, database: &str) -> Self {
        Self {
            database: database.to_owned(),
            ..self.clone()
        }
    }
}

impl fmt::Debug for MongoConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MongoConfig")
            .field("uri", &redact_url(self.uri.expose_secret()))
            .field("database", &self.database)
            .field("timeout", &self.timeout)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_credentials() {
        let c = MongoConfig {
            uri: SecretString::from("mongodb://app:s3cret@db:27017/?replicaSet=rs0"),
            ..MongoConfig::default()
        };
        let dbg = format!("{c:?}");
        assert!(!dbg.contains("s3cret"), "{dbg}");
        assert!(dbg.contains("app:<redacted>@db:27017"), "{dbg}");
    }
}
