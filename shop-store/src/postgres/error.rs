//! Mapping sqlx errors onto shop-core's backend-neutral kinds, by SQLSTATE. SQL text never
//! reaches callers: it stays in the error source, for logs.

use shop_core::{Conflict, Error};

/// This server's errors, for the transactions of `crate::sql`.
#[derive(Debug)]
pub(super) struct PostgresErrors;

impl crate::sql::Dialect for PostgresErrors {
    fn map(e: sqlx::Error) -> Error {
        map(e)
    }

    fn is_retryable(e: &sqlx::Error) -> bool {
        is_retryable(e)
    }
}

/// Failure inside a transaction: the driver's (maybe retryable) or the domain's.
pub(super) type TxError = crate::sql::TxError<PostgresErrors>;

pub(super) type TxResult<T> = Result<T, TxError>;

/// SQLSTATE classes and codes the store tells apart.
mod sqlstate {
    /// `23505`: unique violation.
    pub(super) const UNIQUE_VIOLATION: &str = "23505";
    /// `40001`, `40P01`: serialization failure, deadlock — the transaction may run again.
    pub(super) const SERIALIZATION_FAILURE: &str = "40001";
    pub(super) const DEADLOCK: &str = "40P01";
    /// `55P03`: a lock could not be taken (`lock_timeout`).
    pub(super) const LOCK_NOT_AVAILABLE: &str = "55P03";
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

/// Whether a whole transaction may simply be run again.
pub(super) fn is_retryable(e: &sqlx::Error) -> bool {
    use sqlstate::*;
    matches!(
        code(e).as_deref(),
        Some(SERIALIZATION_FAILURE | DEADLOCK | LOCK_NOT_AVAILABLE)
    )
}

/// Maps a driver error to the domain's kinds: a unique key taken is the `Conflict` its
/// constraint names, a lost race `ConcurrentModification`, a server or network that cannot
/// serve `Unavailable`, anything else `Internal`.
pub(super) fn map(e: sqlx::Error) -> Error {
    use sqlstate::*;
    match code(&e).as_deref() {
        Some(UNIQUE_VIOLATION) => Error::Conflict(duplicate_kind(&e)),
        Some(SERIALIZATION_FAILURE | DEADLOCK | LOCK_NOT_AVAILABLE) => {
            Error::Conflict(Conflict::ConcurrentModification)
        }
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

/// Which unique key a violation names (the server reports the constraint by name).
fn duplicate_kind(e: &sqlx::Error) -> Conflict {
    let constraint = match e {
        sqlx::Error::Database(db) => db.constraint().unwrap_or_default(),
        _ => "",
    };
    match constraint {
        "uq_products_sku" => Conflict::SkuTaken,
        "uq_products_slug" => Conflict::SlugTaken,
        "uq_users_email" => Conflict::EmailTaken,
        "uq_reviews_product_author" => Conflict::ReviewExists,
        _ => Conflict::ConcurrentModification,
    }
}

/// Why the server refused a connection: `3D000` no such database; `28000` (no such role, or
/// no `pg_hba.conf` entry for it) and `28P01` (wrong password) not authorized.
pub(super) fn refusal(db: &dyn sqlx::error::DatabaseError) -> crate::sql::Refusal {
    use crate::sql::Refusal;
    match db.code().as_deref() {
        Some("3D000") => Refusal::NoSuchDatabase,
        Some("28000" | "28P01") => Refusal::NotAuthorized,
        _ => Refusal::Other,
    }
}
