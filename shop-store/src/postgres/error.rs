//! Mapping sqlx errors onto shop-core's backend-neutral kinds, by SQLSTATE. SQL text never
//! reaches callers: it stays in the error source, for logs.

use shop_core::Error;

/// SQLSTATE classes and codes the store tells apart.
mod sqlstate {
    /// `08…`: connection exceptions.
    pub(super) const CONNECTION_CLASS: &str = "08";
    /// `57P01`–`57P03`: the server is shutting down, crashed, or not accepting connections.
    pub(super) const ADMIN_SHUTDOWN: &str = "57P01";
    pub(super) const CRASH_SHUTDOWN: &str = "57P02";
    pub(super) const CANNOT_CONNECT_NOW: &str = "57P03";
    /// `53300`: too many connections.
    pub(super) const TOO_MANY_CONNECTIONS: &str = "53300";
    /// `25006`: a read-only transaction (a standby, or a primary being failed over).
    pub(super) const READ_ONLY: &str = "25006";
}

fn code(e: &sqlx::Error) -> Option<String> {
    match e {
        sqlx::Error::Database(db) => db.code().map(std::borrow::Cow::into_owned),
        _ => None,
    }
}

/// Maps a driver error to the domain's kinds: a server or network that cannot serve is
/// `Unavailable`; anything else `Internal`.
pub(super) fn map(e: sqlx::Error) -> Error {
    use sqlstate::*;
    match code(&e).as_deref() {
        Some(c)
            if c.starts_with(CONNECTION_CLASS)
                || [
                    ADMIN_SHUTDOWN,
                    CRASH_SHUTDOWN,
                    CANNOT_CONNECT_NOW,
                    TOO_MANY_CONNECTIONS,
                    READ_ONLY,
                ]
                .contains(&c) =>
        {
            Error::unavailable(e)
        }
        Some(_) => Error::internal(e),
        None => crate::sql::transport(e),
    }
}
