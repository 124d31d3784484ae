//! Mapping sqlx errors onto shop-core's backend-neutral kinds. SQL text never reaches callers:
//! it stays in the error source, for logs.

use shop_core::{Conflict, Error};
use sqlx::mysql::MySqlDatabaseError;

/// This server's errors, for the transactions of `crate::sql`.
#[derive(Debug)]
pub(super) struct MySqlErrors;

impl crate::sql::Dialect for MySqlErrors {
    fn map(e: sqlx::Error) -> Error {
        map(e)
    }

    fn is_retryable(e: &sqlx::Error) -> bool {
        is_retryable(e)
    }
}

/// Failure inside a transaction: the driver's (maybe retryable) or the domain's.
pub(super) type TxError = crate::sql::TxError<MySqlErrors>;

pub(super) type TxResult<T> = Result<T, TxError>;

// Server error numbers (shared by MySQL and MariaDB unless noted).
const DUPLICATE_KEY: u16 = 1062;
const LOCK_WAIT_TIMEOUT: u16 = 1205;
const DEADLOCK: u16 = 1213;
const SERVER_SHUTDOWN: u16 = 1053;
const TOO_MANY_CONNECTIONS: u16 = 1040;
const QUERY_INTERRUPTED: u16 = 1317;
const CONNECTION_KILLED: u16 = 1927; // MariaDB
const SERVER_GONE: u16 = 2006;
const LOST_CONNECTION: u16 = 2013;
const READ_ONLY: u16 = 1290;

fn number(e: &sqlx::Error) -> Option<u16> {
    match e {
        sqlx::Error::Database(db) => db
            .try_downcast_ref::<MySqlDatabaseError>()
            .map(MySqlDatabaseError::number),
        _ => None,
    }
}

/// Whether a whole transaction may simply be run again.
pub(super) fn is_retryable(e: &sqlx::Error) -> bool {
    matches!(number(e), Some(DEADLOCK | LOCK_WAIT_TIMEOUT))
}

/// Whether the error is a duplicate-key violation.
pub(super) fn is_duplicate(e: &sqlx::Error) -> bool {
    number(e) == Some(DUPLICATE_KEY)
}

/// Maps a driver error to the domain's kinds.
pub(super) fn map(e: sqlx::Error) -> Error {
    match number(&e) {
        Some(DUPLICATE_KEY) => Error::Conflict(duplicate_kind(&e)),
        Some(DEADLOCK | LOCK_WAIT_TIMEOUT) => Error::Conflict(Conflict::ConcurrentModification),
        Some(
            SERVER_SHUTDOWN | TOO_MANY_CONNECTIONS | QUERY_INTERRUPTED | CONNECTION_KILLED
            | SERVER_GONE | LOST_CONNECTION | READ_ONLY,
        ) => Error::unavailable(e),
        Some(_) => Error::internal(e),
        None => crate::sql::transport(e),
    }
}

/// Which unique key a duplicate-key error names (the key name is in the server's message:
/// `for key 'uq_…'` on MariaDB, `for key 'table.uq_…'` on MySQL 8).
fn duplicate_kind(e: &sqlx::Error) -> Conflict {
    let msg = match e {
        sqlx::Error::Database(db) => db.message(),
        _ => "",
    };
    if msg.contains("uq_products_sku") {
        Conflict::SkuTaken
    } else if msg.contains("uq_products_slug") {
        Conflict::SlugTaken
    } else if msg.contains("uq_users_email") {
        Conflict::EmailTaken
    } else if msg.contains("uq_reviews_product_author") {
        Conflict::ReviewExists
    } else {
        Conflict::ConcurrentModification
    }
}

/// Why the server refused a connection: `1049` unknown database; `1045` access denied (user or
/// password), `1044` access to the database denied.
pub(super) fn refusal(db: &dyn sqlx::error::DatabaseError) -> crate::sql::Refusal {
    use crate::sql::Refusal;
    match db
        .try_downcast_ref::<MySqlDatabaseError>()
        .map(MySqlDatabaseError::number)
    {
        Some(1049) => Refusal::NoSuchDatabase,
        Some(1044 | 1045) => Refusal::NotAuthorized,
        _ => Refusal::Other,
    }
}
