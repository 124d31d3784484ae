use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use shop_core::Error;
use sqlx::mysql::MySqlConnectOptions;

use crate::config::{ConfigError, ExposeSecret, SecretString, parsed, seconds, var};

/// How to reach MySQL / MariaDB. `Debug` never shows the password.
///
/// | variable | meaning | default |
/// |---|---|---|
/// | `MYSQL_URL` | full URL, e.g. `mysql://user:pass@host:3306/shop`; wins over the parts | — |
/// | `MYSQL_HOST` | server host | `127.0.0.1` |
/// | `MYSQL_PORT` | server port | `3306` |
/// | `MYSQL_USER` | user | `root` |
/// | `MYSQL_PASSWORD` | password | empty |
/// | `MYSQL_DATABASE` | database | `shop` |
/// | `MYSQL_MAX_CONNECTIONS` | pool size | `10` |
/// | `MYSQL_ACQUIRE_TIMEOUT_SECS` | longest wait for a pooled connection | `5` |
/// | `MYSQL_DEADLOCK_RETRIES` | extra attempts after a deadlock / lock-wait timeout | `4` |
#[derive(Clone)]
#[non_exhaustive]
pub struct MySqlConfig {
    /// A full URL; when set, the host/port/user/password/database fields are ignored.
    pub url: Option<SecretString>,
    /// Server host.
    pub host: String,
    /// Server port.
    pub port: u16,
    /// User name.
    pub user: String,
    /// Password (may be empty).
    pub password: SecretString,
    /// Database name.
    pub database: String,
    /// Pool size.
    pub max_connections: u32,
    /// Longest wait for a pooled connection before the store reports `Unavailable`.
    pub acquire_timeout: Duration,
    /// Extra attempts of a transaction that lost a deadlock or lock-wait race.
    pub deadlock_retries: u32,
}

impl Default for MySqlConfig {
    fn default() -> Self {
        Self {
            url: None,
            host: "127.0.0.1".into(),
            port: 3306,
            user: "root".into(),
            password: SecretString::default(),
            database: "shop".into(),
            max_connections: 10,
            acquire_timeout: Duration::from_secs(5),
            deadlock_retries: 4,
        }
    }
}

impl MySqlConfig {
    /// Reads the variables in the table above.
    ///
    /// # Errors
    /// A [`ConfigError`] naming the first malformed variable.
    pub fn from_env() -> Result<Self, ConfigError> {
        let d = Self::default();
        let url = var("MYSQL_URL").map(SecretString::from);
        if let Some(u) = &url {
            MySqlConnectOptions::from_str(u.expose_secret()).map_err(|_| {
                ConfigError::new(
                    "MYSQL_URL",
                    "is not a mysql:// URL (user:password@host:port/db)",
                )
            })?;
        }
        let config = Self {
            url,
            host: var("MYSQL_HOST").unwrap_or(d.host),
            port: parsed("MYSQL_PORT", d.port)?,
            user: var("MYSQL_USER").unwrap_or(d.user),
            password: var("MYSQL_PASSWORD").map_or(d.password, SecretString::from),
            database: var("MYSQL_DATABASE").unwrap_or(d.database),
            max_connections: parsed("MYSQL_MAX_CONNECTIONS", d.max_connections)?,
            acquire_timeout: seconds("MYSQL_ACQUIRE_TIMEOUT_SECS", 5)?,
            deadlock_retries: parsed("MYSQL_DEADLOCK_RETRIES", d.deadlock_retries)?,
        };
        if config.max_connections == 0 {
            return Err(ConfigError::new(
                "MYSQL_MAX_CONNECTIONS",
                "must be at least 1",
            ));
        }
        Ok(config)
    }

    /// The same settings pointed at another database (tests give each test its own).
    #[must_use]
    pub fn with_database(&self, database: &str) -> Self {
        let mut c = self.clone();
        database.clone_into(&mut c.database);
        c.url = crate::sql::with_database(c.url, database);
        c
    }

    /// Where it points, without the password, for logs.
    #[must_use]
    pub fn redacted_target(&self) -> String {
        crate::sql::Target {
            scheme: "mysql",
            url: self.url.as_ref(),
            user: &self.user,
            host: &self.host,
            port: self.port,
            database: &self.database,
        }
        .redacted()
    }

    pub(super) fn connect_options(&self) -> Result<MySqlConnectOptions, Error> {
        let base = match &self.url {
            Some(u) => MySqlConnectOptions::from_str(u.expose_secret()).map_err(Error::internal)?,
            None => {
                let mut o = MySqlConnectOptions::new()
                    .host(&self.host)
                    .port(self.port)
                    .username(&self.user)
                    .database(&self.database);
                if !self.password.expose_secret().is_empty() {
                    o = o.password(self.password.expose_secret());
                }
                o
            }
        };
        // Money and timestamps are exact types; keep the session strict and in UTC.
        Ok(base
            .charset("utf8mb4")
            .timezone(Some("+00:00".into()))
            .pipes_as_concat(false))
    }
}

impl fmt::Debug for MySqlConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MySqlConfig")
            .field("target", &self.redacted_target())
            .field("max_connections", &self.max_connections)
            .field("acquire_timeout", &self.acquire_timeout)
            .field("deadlock_retries", &self.deadlock_retries)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_password() {
        let c = MySqlConfig {
            password: SecretString::from("hunter2"),
            ..MySqlConfig::default()
        };
        assert!(!format!("{c:?}").contains("hunter2"));
        let c = MySqlConfig {
            url: Some(SecretString::from("mysql://u:hunter2@h:3306/db")),
            ..MySqlConfig::default()
        };
        let dbg = format!("{c:?}");
        assert!(!dbg.contains("hunter2"), "{dbg}");
        assert!(dbg.contains("u:<redacted>@h:3306/db"), "{dbg}");
    }

    #[test]
    fn database_can_be_swapped_in_a_url() {
        let c = MySqlConfig {
            url: Some(SecretString::from("mysql://u@h/old")),
            ..MySqlConfig::default()
        }
        .with_database("t1");
        assert_eq!(c.redacted_target(), "mysql://u@h/t1");
    }
}
