//! Transactions as both SQL adapters run them: a failure is the driver's (perhaps a lost race
//! worth running again) or the domain's, and a lost race re-runs the whole transaction a
//! bounded number of times. What counts as a lost race, and how a server error maps onto
//! shop-core's kinds, is each dialect's ([`Dialect`]).

use std::future::Future;
use std::marker::PhantomData;

use shop_core::{Conflict, Error};
use tracing::debug;

use crate::rules::backoff;

/// How one server's errors read.
pub(crate) trait Dialect {
    /// The domain's kind of a driver error.
    fn map(e: sqlx::Error) -> Error;
    /// Whether a whole transaction may simply be run again.
    fn is_retryable(e: &sqlx::Error) -> bool;
}

/// Failure inside a transaction of dialect `D`: the driver's or the domain's.
pub(crate) struct TxError<D> {
    failure: Failure,
    dialect: PhantomData<D>,
}

enum Failure {
    Db(sqlx::Error),
    Domain(Error),
}

impl<D> std::fmt::Debug for TxError<D> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.failure {
            Failure::Db(e) => f.debug_tuple("Db").field(e).finish(),
            Failure::Domain(e) => f.debug_tuple("Domain").field(e).finish(),
        }
    }
}

impl<D: Dialect> TxError<D> {
    fn new(failure: Failure) -> Self {
        Self {
            failure,
            dialect: PhantomData,
        }
    }

    /// The error as shop-core's kinds.
    pub(crate) fn into_domain(self) -> Error {
        match self.failure {
            Failure::Db(e) => D::map(e),
            Failure::Domain(e) => e,
        }
    }

    fn is_retryable(&self) -> bool {
        matches!(&self.failure, Failure::Db(e) if D::is_retryable(e))
    }
}

impl<D: Dialect> From<TxError<D>> for Error {
    fn from(e: TxError<D>) -> Self {
        e.into_domain()
    }
}

impl<D: Dialect> From<sqlx::Error> for TxError<D> {
    fn from(e: sqlx::Error) -> Self {
        Self::new(Failure::Db(e))
    }
}

impl<D: Dialect> From<Error> for TxError<D> {
    fn from(e: Error) -> Self {
        Self::new(Failure::Domain(e))
    }
}

impl<D: Dialect> From<Conflict> for TxError<D> {
    fn from(c: Conflict) -> Self {
        Self::new(Failure::Domain(c.into()))
    }
}

/// Runs `op` (one whole transaction) up to `max_attempts` times while the server reports a
/// lost race, with exponential backoff and jitter between attempts.
pub(crate) async fn retrying<D, T, F, Fut>(
    max_attempts: u32,
    what: &'static str,
    mut op: F,
) -> Result<T, Error>
where
    D: Dialect,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, TxError<D>>>,
{
    let mut attempt = 0;
    loop {
        attempt += 1;
        match op().await {
            Ok(v) => return Ok(v),
            Err(e) if e.is_retryable() && attempt < max_attempts => {
                let delay = backoff(attempt);
                debug!(what, attempt, ?delay, "transaction lost a race; retrying");
                tokio::time::sleep(delay).await;
            }
            Err(e) => return Err(e.into_domain()),
        }
    }
}
