//! Configuration from the environment. Every variable is listed in the README; a bad value is
//! one [`ConfigError`] naming the variable (never echoing a secret), and the app exits 2.

use std::time::Duration;

use shop_core::config::ConfigError;
use shop_core::secret::{ExposeSecret as _, SecretString};
use shop_store::mongodb::MongoConfig;
use shop_store::mysql::MySqlConfig;
use shop_store::postgres::PgConfig;

/// Which adapter holds a group of data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Backend {
    Memory,
    MySql,
    Postgres,
    MongoDb,
}

impl Backend {
    fn parse(variable: &'static str, value: &str) -> Result<Self, ConfigError> {
        match value.trim().to_ascii_lowercase().as_str() {
            "memory" => Ok(Self::Memory),
            "mysql" | "mariadb" => Ok(Self::MySql),
            "postgres" | "postgresql" => Ok(Self::Postgres),
            "mongodb" | "mongo" => Ok(Self::MongoDb),
            _ => Err(ConfigError::new(
                variable,
                "must be one of memory, mysql, postgres, mongodb",
            )),
        }
    }
}

/// How access tokens are signed.
#[derive(Debug)]
pub(crate) enum JwtKeys {
    /// `JWT_SECRET_KEY` (HS256, at least 32 bytes).
    Secret(SecretString),
    /// `JWT_PRIVATE_KEY_FILE` + `JWT_PUBLIC_KEY_FILE` (Ed25519 PEM).
    Ed25519 {
        private_pem: Vec<u8>,
        public_pem: Vec<u8>,
    },
    /// Neither: a random secret for this process only.
    Generated,
}

/// Where login attempts are counted.
#[derive(Debug)]
pub(crate) enum ThrottleBackend {
    /// Per process (`SHOP_THROTTLE=memory`).
    Memory,
    /// Shared by every replica (`SHOP_THROTTLE=redis`).
    Redis(shop_auth::RedisThrottleConfig),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LogFormat {
    Json,
    Pretty,
}

/// Everything the app reads from the environment.
#[derive(Debug)]
pub(crate) struct AppConfig {
    pub(crate) port: u16,
    /// The operations listener's port (`/metrics`); never routed from the public side.
    pub(crate) ops_port: u16,
    pub(crate) store: Backend,
    pub(crate) users_store: Backend,
    pub(crate) reviews_store: Backend,
    pub(crate) mysql: Option<MySqlConfig>,
    pub(crate) postgres: Option<PgConfig>,
    pub(crate) mongodb: Option<MongoConfig>,
    pub(crate) rabbitmq: Option<shop_events::RabbitConfig>,
    pub(crate) jwt: JwtKeys,
    pub(crate) http: shop_http::HttpConfig,
    pub(crate) log_format: LogFormat,
    pub(crate) admin_email: String,
    pub(crate) admin_password: Option<SecretString>,
    pub(crate) demo_data: bool,
    /// The source revision the image was built from (`SHOP_REVISION`), reported by `/health`.
    pub(crate) revision: Option<String>,
    /// With RabbitMQ: run the order-notifications consumer (`SHOP_ORDER_NOTIFICATIONS`).
    pub(crate) order_notifications: bool,
    pub(crate) throttle: ThrottleBackend,
    /// Failed logins allowed per email and per client within `login_window`.
    pub(crate) login_limits: shop_auth::LoginLimits,
    pub(crate) login_window: Duration,
    pub(crate) retention: shop_core::RetentionPolicy,
    /// How often each replica purges; `None`: never (run `reference-app purge` instead).
    pub(crate) purge_interval: Option<Duration>,
    /// How long `/ready` answers 503 before the listener closes, after SIGTERM.
    pub(crate) shutdown_delay: Duration,
    pub(crate) shutdown_grace: Duration,
}

fn var(name: &'static str) -> Result<Option<String>, ConfigError> {
    match std::env::var(name) {
        Ok(v) if v.trim().is_empty() => Ok(None),
        Ok(v) => Ok(Some(v)),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(_)) => Err(ConfigError::new(name, "is not valid UTF-8")),
    }
}

fn flag(name: &'static str, default: bool) -> Result<bool, ConfigError> {
    match var(name)?.as_deref().map(str::trim) {
        None => Ok(default),
        Some("true" | "1" | "yes") => Ok(true),
        Some("false" | "0" | "no") => Ok(false),
        Some(_) => Err(ConfigError::new(name, "must be true or false")),
    }
}

/// A whole number, or `default` when unset.
fn number<T: std::str::FromStr>(name: &'static str, default: T) -> Result<T, ConfigError> {
    match var(name)? {
        None => Ok(default),
        Some(v) => v
            .trim()
            .parse()
            .map_err(|_| ConfigError::new(name, "must be a whole number")),
    }
}

fn read_file(name: &'static str, path: &str) -> Result<Vec<u8>, ConfigError> {
    std::fs::read(path).map_err(|e| ConfigError::new(name, format!("cannot read the file: {e}")))
}

impl AppConfig {
    pub(crate) fn from_env() -> Result<Self, ConfigError> {
        let port = match var("PORT")? {
            None => 8080,
            Some(p) => p
                .trim()
                .parse::<u16>()
                .map_err(|_| ConfigError::new("PORT", "must be a port number (0-65535)"))?,
        };
        let ops_port = match var("SHOP_OPS_PORT")? {
            None => 9090,
            Some(p) => p.trim().parse::<u16>().map_err(|_| {
                ConfigError::new("SHOP_OPS_PORT", "must be a port number (0-65535)")
            })?,
        };
        if ops_port == port && port != 0 {
            return Err(ConfigError::new(
                "SHOP_OPS_PORT",
                "must differ from PORT: metrics must not be served on the public port",
            ));
        }
        let store = match var("SHOP_STORE")? {
            None => Backend::Memory,
            Some(v) => Backend::parse("SHOP_STORE", &v)?,
        };
        let users_store = match var("SHOP_USERS_STORE")? {
            None => store,
            Some(v) => Backend::parse("SHOP_USERS_STORE", &v)?,
        };
        let reviews_store = match var("SHOP_REVIEWS_STORE")? {
            None => store,
            Some(v) => Backend::parse("SHOP_REVIEWS_STORE", &v)?,
        };
        let used = [store, users_store, reviews_store];
        let mysql = if used.contains(&Backend::MySql) {
            Some(MySqlConfig::from_env()?)
        } else {
            None
        };
        let postgres = if used.contains(&Backend::Postgres) {
            Some(PgConfig::from_env()?)
        } else {
            None
        };
        let mongodb = if used.contains(&Backend::MongoDb) {
            if var("MONGODB_URI")?.is_none() {
                return Err(ConfigError::new(
                    "MONGODB_URI",
                    "must be set when a store is mongodb",
                ));
            }
            Some(MongoConfig::from_env()?)
        } else {
            None
        };
        let rabbitmq = if var("RABBITMQ_URL")?.is_some() {
            Some(shop_events::RabbitConfig::from_env()?)
        } else {
            None
        };
        let jwt = match (
            var("JWT_SECRET_KEY")?,
            var("JWT_PRIVATE_KEY_FILE")?,
            var("JWT_PUBLIC_KEY_FILE")?,
        ) {
            (Some(_), Some(_), _) | (Some(_), _, Some(_)) => {
                return Err(ConfigError::new(
                    "JWT_SECRET_KEY",
                    "set either JWT_SECRET_KEY or the JWT_*_KEY_FILE pair, not both",
                ));
            }
            (Some(secret), None, None) => {
                if secret.len() < 32 {
                    return Err(ConfigError::new(
                        "JWT_SECRET_KEY",
                        "must be at least 32 bytes",
                    ));
                }
                JwtKeys::Secret(SecretString::from(secret))
            }
            (None, Some(private), Some(public)) => JwtKeys::Ed25519 {
                private_pem: read_file("JWT_PRIVATE_KEY_FILE", &private)?,
                public_pem: read_file("JWT_PUBLIC_KEY_FILE", &public)?,
            },
            (None, Some(_), None) => {
                return Err(ConfigError::new(
                    "JWT_PUBLIC_KEY_FILE",
                    "must be set with JWT_PRIVATE_KEY_FILE",
                ));
            }
            (None, None, Some(_)) => {
                return Err(ConfigError::new(
                    "JWT_PRIVATE_KEY_FILE",
                    "must be set with JWT_PUBLIC_KEY_FILE",
                ));
            }
            (None, None, None) => JwtKeys::Generated,
        };
        let root_path = var("ROOT_PATH")?.unwrap_or_default();
        // Plain path characters only: the value is also written into the pages' HTML.
        if !root_path.is_empty()
            && (!root_path.starts_with('/')
                || !root_path
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "/-._~".contains(c)))
        {
            return Err(ConfigError::new(
                "ROOT_PATH",
                "must be a path starting with / of letters, digits and - . _ ~ (e.g. /shop)",
            ));
        }
        let cors_origins: Vec<String> = var("CORS_ORIGINS")?
            .map(|v| {
                v.split(',')
                    .map(|o| o.trim().to_owned())
                    .filter(|o| !o.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        if let Some(bad) = cors_origins
            .iter()
            .find(|o| !(o.starts_with("http://") || o.starts_with("https://")))
        {
            return Err(ConfigError::new(
                "CORS_ORIGINS",
                format!("{bad:?} is not an http(s) origin"),
            ));
        }
        let log_format = match var("LOG_FORMAT")?.as_deref().map(str::trim) {
            None | Some("json") => LogFormat::Json,
            Some("pretty") => LogFormat::Pretty,
            Some(_) => return Err(ConfigError::new("LOG_FORMAT", "must be json or pretty")),
        };
        let admin_email = var("SHOP_ADMIN_EMAIL")?.unwrap_or_else(|| "admin@shop.local".into());
        shop_core::Email::parse(&admin_email)
            .map_err(|e| ConfigError::new("SHOP_ADMIN_EMAIL", e.message.into_owned()))?;
        let admin_password = var("SHOP_ADMIN_PASSWORD")?.map(SecretString::from);
        if let Some(p) = &admin_password {
            let email = shop_core::Email::parse(&admin_email)
                .map_err(|e| ConfigError::new("SHOP_ADMIN_EMAIL", e.message.into_owned()))?;
            shop_auth::check_password_policy(p.expose_secret(), &email)
                .map_err(|e| ConfigError::new("SHOP_ADMIN_PASSWORD", e.message.into_owned()))?;
        }
        let defaults = shop_http::HttpConfig::default();
        let trusted_proxies =
            shop_http::TrustedProxies::parse(&var("TRUSTED_PROXIES")?.unwrap_or_default())
                .map_err(|e| ConfigError::new("TRUSTED_PROXIES", e))?;
        let throttle = match var("SHOP_THROTTLE")?.as_deref().map(str::trim) {
            None | Some("memory") => ThrottleBackend::Memory,
            Some("redis") => ThrottleBackend::Redis(shop_auth::RedisThrottleConfig::from_env()?),
            Some(_) => return Err(ConfigError::new("SHOP_THROTTLE", "must be memory or redis")),
        };
        let days = |name, default| {
            number(name, default).map(|d: u32| chrono::TimeDelta::days(i64::from(d)))
        };
        let retention = {
            let mut config = shop_core::RetentionPolicy::default();
            config.published_events = days("SHOP_RETENTION_EVENTS_DAYS", 7)?;
            config.idempotency_keys = days("SHOP_RETENTION_IDEMPOTENCY_DAYS", 30)?;
            config.processed_events = days("SHOP_RETENTION_PROCESSED_EVENTS_DAYS", 30)?;
            config
        };
        let purge_interval = match number("SHOP_PURGE_INTERVAL_SECS", 3600u64)? {
            0 => None,
            s => Some(Duration::from_secs(s)),
        };
        Ok(Self {
            port,
            ops_port,
            store,
            users_store,
            reviews_store,
            mysql,
            postgres,
            mongodb,
            rabbitmq,
            jwt,
            http: {
                let mut config = shop_http::HttpConfig::default();
                config.root_path = root_path;
                config.cors_origins = cors_origins;
                config.trusted_proxies = trusted_proxies;
                config.body_limit = number("SHOP_BODY_LIMIT_BYTES", defaults.body_limit)?.max(1);
                config.request_timeout = Duration::from_secs(
                    number(
                        "SHOP_REQUEST_TIMEOUT_SECS",
                        defaults.request_timeout.as_secs(),
                    )?
                    .max(1),
                );
                config.concurrency_limit =
                    number("SHOP_CONCURRENCY_LIMIT", defaults.concurrency_limit)?.max(1);
                config.header_read_timeout = Duration::from_secs(
                    number(
                        "SHOP_HEADER_READ_TIMEOUT_SECS",
                        defaults.header_read_timeout.as_secs(),
                    )?
                    .max(1),
                );
                config.max_connections =
                    number("SHOP_MAX_CONNECTIONS", defaults.max_connections)?.max(1);
                config
            },
            log_format,
            admin_email,
            admin_password,
            demo_data: flag("SHOP_DEMO_DATA", true)?,
            revision: var("SHOP_REVISION")?,
            order_notifications: flag("SHOP_ORDER_NOTIFICATIONS", true)?,
            throttle,
            login_limits: {
                let mut config = shop_auth::LoginLimits::default();
                config.per_email = number("SHOP_LOGIN_MAX_FAILURES", 5usize)?.max(1);
                config.per_client = number("SHOP_LOGIN_MAX_FAILURES_PER_CLIENT", 20usize)?.max(1);
                config
            },
            login_window: Duration::from_secs(number("SHOP_LOGIN_WINDOW_SECS", 900u64)?),
            retention,
            purge_interval,
            shutdown_delay: Duration::from_secs(number("SHOP_SHUTDOWN_DELAY_SECS", 0u64)?),
            shutdown_grace: Duration::from_secs(number("SHOP_SHUTDOWN_GRACE_SECS", 20u64)?),
        })
    }
}
