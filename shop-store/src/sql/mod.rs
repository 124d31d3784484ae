//! What the two SQL adapters (MySQL, PostgreSQL) share: naming a server, and sorting driver
//! errors that are not the database's.

mod connect;
pub(crate) mod rows;
mod tx;

pub(crate) use connect::{Refusal, Variables, explain};
pub(crate) use tx::{Dialect, TxError, retrying};

use shop_core::Error;

use crate::config::{ExposeSecret as _, SecretString, redact_url};

/// A server as a configuration names it: a whole URL, or its parts.
pub(crate) struct Target<'a> {
    pub(crate) scheme: &'a str,
    pub(crate) url: Option<&'a SecretString>,
    pub(crate) user: &'a str,
    pub(crate) host: &'a str,
    pub(crate) port: u16,
    pub(crate) database: &'a str,
}

impl Target<'_> {
    /// Where it points, without the password, for logs.
    pub(crate) fn redacted(&self) -> String {
        match self.url {
            Some(u) => redact_url(u.expose_secret()),
            None => format!(
                "{}://{}@{}:{}/{}",
                self.scheme, self.user, self.host, self.port, self.database
            ),
        }
    }
}

/// `url` pointed at another database (tests give each test its own).
pub(crate) fn with_database(url: Option<SecretString>, database: &str) -> Option<SecretString> {
    url.map(|u| SecretString::from(replace_database(u.expose_secret(), database)))
}

/// Replaces the path (database) of a `scheme://…/db` URL, keeping any query string.
fn replace_database(url: &str, database: &str) -> String {
    let (before_query, query) = match url.split_once('?') {
        Some((a, q)) => (a, Some(q)),
        None => (url, None),
    };
    let scheme_end = before_query.find("://").map_or(0, |i| i + 3);
    let base = match before_query[scheme_end..].find('/') {
        Some(i) => &before_query[..scheme_end + i],
        None => before_query,
    };
    match query {
        Some(q) => format!("{base}/{database}?{q}"),
        None => format!("{base}/{database}"),
    }
}

/// A driver error that is not the server's answer: the network, TLS, the pool — the server
/// cannot be used (`Unavailable`) — or something else (`Internal`).
pub(crate) fn transport(e: sqlx::Error) -> Error {
    match e {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::Protocol(_) => Error::unavailable(e),
        other => Error::internal(other),
    }
}

/// A failed migration run: the statement's error as the adapter maps it, else `Internal`.
pub(crate) fn migration(e: sqlx::migrate::MigrateError, map: fn(sqlx::Error) -> Error) -> Error {
    match e {
        sqlx::migrate::MigrateError::Execute(inner) => map(inner),
        other => Error::internal(other),
    }
}

#[cfg(test)]
mod tests {
    use super::replace_database;

    #[test]
    fn database_can_be_swapped_in_a_url() {
        assert_eq!(
            replace_database("mysql://u:p@h:1/old?ssl-mode=disabled", "new"),
            "mysql://u:p@h:1/new?ssl-mode=disabled"
        );
        assert_eq!(replace_database("mysql://h", "new"), "mysql://h/new");
        assert_eq!(
            replace_database("postgres://u@h/old?sslmode=require", "t1"),
            "postgres://u@h/t1?sslmode=require"
        );
    }
}
