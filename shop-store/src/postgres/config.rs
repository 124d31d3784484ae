use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use shop_core::Error;
use sqlx::postgres::PgConnectOptions;

use crate::config::{ConfigError, ExposeSecret, SecretString, parsed, seconds, var};

/// How to reach PostgreSQL. `Debug` never shows the password.
///
/// `DATABASE_URL` wins; otherwise the standard libpq variables name the server.
///
/// | variable | meaning | default |
/// |---|---|---|
/// | `DATABASE_URL` | full URL, e.g. `postgres://user:pass@host:5432/shop?sslmode=require` | — |
/// | `PGHOST` | server host | `127.0.0.1` |
/// | `PGPORT` | server port | `5432` |
/// | `PGUSER` | user | `postgres` |
/// | `PGPASSWORD` | password | empty |
/// | `PGDATABASE` | database | `shop` |
/// | `PG_MAX_CONNECTIONS` | pool size (see below) | `10` |
/// | `PG_ACQUIRE_TIMEOUT_SECS` | longest wait for a pooled connection | `5` |
/// | `PG_TRANSACTION_RETRIES` | extra attempts after a serialization failure or deadlock | `4` |
///
/// **Pool size.** Each replica holds up to `max_connections` server connections, and a
/// checkout holds one for its whole transaction (about ten round trips). The server's
/// `max_connections` (100 by default) must cover every replica's pool plus the relay's and
/// the operators' sessions: with 10 per replica, 8 replicas leave room for the rest. More
/// connections than the server has cores rarely adds throughput; put PgBouncer (transaction
/// pooling) in front for more replicas.
#[derive(Clone)]
#[non_exhaustive]
pub struct PgConfig {
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
    /// Extra attempts of a transaction that lost a serialization or deadlock race.
    pub transaction_retries: u32,
}

impl Default for PgConfig {
    fn default() -> Self {
        Self {
            url: None,
            host: "127.0.0.1".into(),
            port: 5432,
            user: "postgres".into(),
            password: SecretString::default(),
            database: "shop".into(),
            max_connections: 10,
            acquire_timeout: Duration::from_secs(5),
            transaction_retries: 4,
        }
    }
}

impl PgConfig {
    /// Reads the variables in the table above.
    ///
    /// # Errors
    /// A [`ConfigError`] naming the first malformed variable.
    pub fn from_env() -> Result<Self, ConfigError> {
        let d = Self::default();
        let url = var("DATABASE_URL").map(SecretString::from);
        if let Some(u) = &url {
            let text = u.expose_secret();
            let scheme_ok = text.starts_with("postgres://") || text.starts_with("postgresql://");
            if !scheme_ok || PgConnectOptions::from_str(text).is_err() {
                return Err(ConfigError::new(
                    "DATABASE_URL",
                    "is not a postgres:// URL (user:password@host:port/db)",
                ));
            }
        }
        let config = Self {
            url,
            host: var("PGHOST").unwrap_or(d.host),
            port: parsed("PGPORT", d.port)?,
            user: var("PGUSER").unwrap_or(d.user),
            password: var("PGPASSWORD").map_or(d.password, SecretString::from),
            database: var("PGDATABASE").unwrap_or(d.database),
            max_connections: parsed("PG_MAX_CONNECTIONS", d.max_connections)?,
            acquire_timeout: seconds("PG_ACQUIRE_TIMEOUT_SECS", 5)?,
            transaction_retries: parsed("PG_TRANSACTION_RETRIES", d.transaction_retries)?,
        };
        if config.max_connections == 0 {
            return Err(ConfigError::new("PG_MAX_CONNECTIONS", "must be at least 1"));
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
            scheme: "postgres",
            url: self.url.as_ref(),
            user: &self.user,
            host: &self.host,
            port: self.port,
            database: &self.database,
        }
        .redacted()
    }

    pub(super) fn connect_options(&self) -> Result<PgConnectOptions, Error> {
        let options = match &self.url {
            Some(u) => PgConnectOptions::from_str(u.expose_secret()).map_err(Error::internal)?,
            // The fields override libpq's variables (`PGSSLMODE` and the like still apply);
            // the password is this configuration's, never one from a `~/.pgpass` file.
            None => {
                let mut o = PgConnectOptions::new_without_pgpass()
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
        // Timestamps are exact instants; keep the session in UTC whatever the server's zone.
        Ok(options
            .application_name("shop")
            .options([("timezone", "UTC")]))
    }
}

impl fmt::Debug for PgConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgConfig")
            .field("target", &self.redacted_target())
            .field("max_connections", &self.max_connections)
            .field("acquire_timeout", &self.acquire_timeout)
            .field("transaction_retries", &self.transaction_retries)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_password() {
        let c = PgConfig {
            password: SecretString::from("hunter2"),
            ..PgConfig::default()
        };
        assert!(!format!("{c:?}").contains("hunter2"));
        let c = PgConfig {
            url: Some(SecretString::from("postgres://u:hunter2@h:5432/db")),
            ..c
        };
        let dbg = format!("{c:?}");
        assert!(!dbg.contains("hunter2"), "{dbg}");
        assert!(dbg.contains("u:<redacted>@h:5432/db"), "{dbg}");
    }

    #[test]
    fn the_database_can_be_swapped() {
        let c = PgConfig {
            url: Some(SecretString::from("postgres://u@h/old?sslmode=disable")),
            ..PgConfig::default()
        };
        assert_eq!(
            c.with_database("t1").redacted_target(),
            "postgres://u@h/t1?sslmode=disable"
        );
        assert_eq!(
            PgConfig::default().with_database("t2").redacted_target(),
            "postgres://postgres@127.0.0.1:5432/t2"
        );
    }
}
