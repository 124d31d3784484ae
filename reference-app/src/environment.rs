//! Every environment variable the app reads, with its default: the table `--help` prints.
//! The README's table says the same at more length; a test holds the two (and `config.rs`)
//! together.

/// One variable (or a group read together), what it does, and what applies when it is unset.
pub(crate) struct Variable {
    pub(crate) names: &'static str,
    pub(crate) meaning: &'static str,
    pub(crate) default: &'static str,
}

const fn v(names: &'static str, meaning: &'static str, default: &'static str) -> Variable {
    Variable {
        names,
        meaning,
        default,
    }
}

/// In the order an operator meets them.
pub(crate) const VARIABLES: &[Variable] = &[
    v(
        "PORT",
        "public listen port (on 0.0.0.0): the shop, its pages, /health, /ready",
        "8080",
    ),
    v(
        "SHOP_OPS_PORT",
        "operations listen port (on 0.0.0.0): /metrics, /health, /ready; never route it from the internet",
        "9090",
    ),
    v(
        "SHOP_STORE",
        "memory, mysql, postgres or mongodb: catalog, carts, orders, outbox",
        "memory",
    ),
    v(
        "SHOP_USERS_STORE",
        "another backend for users and refresh tokens",
        "SHOP_STORE",
    ),
    v(
        "SHOP_REVIEWS_STORE",
        "another backend for reviews",
        "SHOP_STORE",
    ),
    v(
        "MYSQL_URL",
        "MySQL / MariaDB server, as one URL",
        "unset: the MYSQL_* parts",
    ),
    v("MYSQL_HOST, MYSQL_PORT", "MySQL server", "127.0.0.1, 3306"),
    v(
        "MYSQL_USER, MYSQL_PASSWORD, MYSQL_DATABASE",
        "MySQL account and database",
        "root, none, shop",
    ),
    v(
        "MYSQL_MAX_CONNECTIONS, MYSQL_ACQUIRE_TIMEOUT_SECS, MYSQL_DEADLOCK_RETRIES",
        "MySQL pool size, wait for a connection, re-runs of a transaction that lost a race",
        "10, 5, 4",
    ),
    v(
        "DATABASE_URL",
        "PostgreSQL server, as one URL",
        "unset: the PG* parts",
    ),
    v("PGHOST, PGPORT", "PostgreSQL server", "127.0.0.1, 5432"),
    v(
        "PGUSER, PGPASSWORD, PGDATABASE",
        "PostgreSQL role and database",
        "postgres, none, shop",
    ),
    v(
        "PG_MAX_CONNECTIONS, PG_ACQUIRE_TIMEOUT_SECS, PG_TRANSACTION_RETRIES",
        "PostgreSQL pool size, wait for a connection, re-runs of a transaction that lost a race",
        "10, 5, 4",
    ),
    v(
        "MONGODB_URI",
        "MongoDB connection string (a replica set in production)",
        "required when used",
    ),
    v(
        "MONGODB_DATABASE, MONGODB_TIMEOUT_SECS",
        "MongoDB database, server selection timeout",
        "shop, 5",
    ),
    v(
        "RABBITMQ_URL",
        "send domain events to RabbitMQ through the outbox",
        "unset: in-process bus",
    ),
    v(
        "RABBITMQ_EXCHANGE",
        "the topic exchange events are published to",
        "shop.events",
    ),
    v(
        "SHOP_ORDER_NOTIFICATIONS",
        "with RabbitMQ, run the order-notifications consumer",
        "true",
    ),
    v(
        "JWT_SECRET_KEY",
        "HS256 signing secret, at least 32 bytes",
        "random per process (warning)",
    ),
    v(
        "JWT_PRIVATE_KEY_FILE, JWT_PUBLIC_KEY_FILE",
        "Ed25519 PEM key pair instead of a secret (public half served as a JWK Set)",
        "unset",
    ),
    v(
        "SHOP_ADMIN_EMAIL",
        "the admin account created at start-up when missing",
        "admin@shop.local",
    ),
    v(
        "SHOP_ADMIN_PASSWORD",
        "its password",
        "generated, logged once",
    ),
    v(
        "SHOP_DEMO_DATA",
        "seed the demo catalog into an empty catalog",
        "true",
    ),
    v(
        "SHOP_REVISION",
        "source revision reported by /health",
        "unset",
    ),
    v(
        "ROOT_PATH",
        "serve everything under this prefix, e.g. /shop",
        "empty",
    ),
    v("CORS_ORIGINS", "comma-separated allowed origins", "none"),
    v(
        "TRUSTED_PROXIES",
        "addresses and CIDR ranges whose X-Forwarded-For is believed",
        "none",
    ),
    v("LOG_FORMAT", "json or pretty", "json"),
    v("RUST_LOG", "log filter", "info"),
    v(
        "OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, OTEL_SERVICE_NAME",
        "export traces over OTLP/HTTP",
        "unset: no traces; service shop",
    ),
    v(
        "SHOP_THROTTLE",
        "where login attempts are counted: memory or redis",
        "memory",
    ),
    v(
        "REDIS_URL, REDIS_KEY_PREFIX, REDIS_TIMEOUT_MS",
        "Redis for the shared throttle",
        "redis://127.0.0.1:6379, shop:, 250",
    ),
    v(
        "SHOP_LOGIN_MAX_FAILURES, SHOP_LOGIN_MAX_FAILURES_PER_CLIENT, SHOP_LOGIN_WINDOW_SECS",
        "failed logins allowed per email and per client within the window",
        "5, 20, 900",
    ),
    v(
        "SHOP_RETENTION_EVENTS_DAYS, SHOP_RETENTION_IDEMPOTENCY_DAYS, SHOP_RETENTION_PROCESSED_EVENTS_DAYS",
        "how long published events, idempotency keys, processed-event records are kept",
        "7, 30, 30",
    ),
    v(
        "SHOP_PURGE_INTERVAL_SECS",
        "how often each replica purges; 0: never",
        "3600",
    ),
    v(
        "SHOP_REQUEST_TIMEOUT_SECS, SHOP_CONCURRENCY_LIMIT, SHOP_BODY_LIMIT_BYTES",
        "HTTP limits",
        "10, 1024, 65536",
    ),
    v(
        "SHOP_HEADER_READ_TIMEOUT_SECS, SHOP_MAX_CONNECTIONS",
        "HTTP connection limits",
        "10, 10000",
    ),
    v(
        "SHOP_SHUTDOWN_DELAY_SECS",
        "after SIGTERM, how long /ready answers 503 while still serving",
        "0",
    ),
    v(
        "SHOP_SHUTDOWN_GRACE_SECS",
        "longest wait for requests in flight once the listener closed",
        "20",
    ),
    v(
        "MIMALLOC_PURGE_DELAY",
        "the allocator's delay before returning memory to the OS, ms",
        "10",
    ),
];

/// The `Environment:` section of `--help`.
pub(crate) fn help() -> String {
    let mut text = String::from(
        "Environment (the whole configuration; a bad value exits 2 naming the variable):\n",
    );
    for var in VARIABLES {
        text.push_str(&format!(
            "  {}\n      {} [default: {}]\n",
            var.names, var.meaning, var.default
        ));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::VARIABLES;

    fn listed(name: &str) -> bool {
        VARIABLES
            .iter()
            .any(|v| v.names.split(", ").any(|n| n == name))
    }

    /// Every variable `config.rs` reads by name is in the table (`--help` cannot forget one).
    #[test]
    fn every_variable_the_configuration_reads_is_listed() {
        let source = include_str!("config.rs");
        let mut read = Vec::new();
        for reader in ["var(\"", "flag(\"", "number(\"", "days(\""] {
            for (i, _) in source.match_indices(reader) {
                let rest = &source[i + reader.len()..];
                let name = &rest[..rest.find('"').unwrap_or(0)];
                if !name.is_empty() && name.chars().all(|c| c.is_ascii_uppercase() || c == '_') {
                    read.push(name.to_owned());
                }
            }
        }
        assert!(read.len() > 30, "found only {read:?}");
        let missing: Vec<_> = read.iter().filter(|n| !listed(n)).collect();
        assert!(missing.is_empty(), "not in VARIABLES: {missing:?}");
    }

    /// And every variable of the README's table for the reference app.
    #[test]
    fn every_variable_the_readme_documents_is_listed() {
        let readme = include_str!("../../README.md");
        let start = readme
            .find("| `PORT` |")
            .expect("the README's variable table");
        let table = &readme[start..];
        let table = &table[..table.find("\n\n").unwrap_or(table.len())];
        let mut missing = Vec::new();
        for row in table.lines() {
            let first_cell = row.split('|').nth(1).unwrap_or_default();
            for name in first_cell.split('`').skip(1).step_by(2) {
                if !listed(name) {
                    missing.push(name.to_owned());
                }
            }
        }
        assert!(
            missing.is_empty(),
            "in the README but not in VARIABLES: {missing:?}"
        );
    }
}
