//! Login throttling: once a key (an email, a client address) has had its limit of failed
//! attempts within a sliding window, further attempts are refused until the oldest failure
//! leaves the window. Each key has its own limit: one address may stand for many people.
//!
//! Admission and counting are one atomic step: [`LoginThrottle::admit`] checks every key and,
//! if none is at its limit, counts the attempt against all of them at once. Counting an
//! attempt before its outcome is known is what closes the race a check-then-record design
//! has, where a burst of concurrent guesses all pass the check before any failure is
//! recorded. An attempt that was no failure is then [uncounted](LoginThrottle::uncount): a
//! successful login (which also forgets the email's failures), or one that never got to test
//! a password because a store failed. A failed one needs nothing more, so a failed login
//! costs the throttle one round trip.
//!
//! - [`MemoryThrottle`]: per process.
//! - `RedisThrottle` (feature `redis`): shared by every replica.

mod memory;
#[cfg(feature = "redis")]
mod redis;

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;

pub use memory::MemoryThrottle;
#[cfg(feature = "redis")]
pub use redis::{RedisThrottle, RedisThrottleConfig};

/// A key an attempt is counted against, and how many attempts it may have in the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottleKey<'a> {
    /// What is counted: `email:…`, `client:…`.
    pub key: &'a str,
    /// Attempts allowed within the window.
    pub limit: usize,
}

/// One counted attempt, named so that a success can uncount exactly it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AttemptId(String);

impl AttemptId {
    /// A fresh, random ID.
    #[must_use]
    pub fn generate() -> Self {
        Self(uuid::Uuid::new_v4().simple().to_string())
    }

    /// The ID as text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What [`LoginThrottle::admit`] decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admission {
    /// Go ahead: the attempt is counted against every key until it succeeds.
    Admitted(AttemptId),
    /// A key is at its limit; nothing was counted.
    Refused {
        /// How long until the oldest failure leaves the window.
        retry_after: Duration,
    },
}

/// The throttle's own store could not answer (Redis down, say).
#[derive(Debug, thiserror::Error)]
#[error("login throttle unavailable")]
pub struct ThrottleUnavailable(#[source] pub Box<dyn std::error::Error + Send + Sync>);

/// Counts login attempts per key; see the [module docs](self).
#[async_trait]
pub trait LoginThrottle: Send + Sync + fmt::Debug {
    /// Admits an attempt unless one of `keys` already has its limit of attempts within the
    /// window, and then counts it against every key — atomically, so of concurrent attempts
    /// no more are admitted than the limits allow.
    ///
    /// # Errors
    /// [`ThrottleUnavailable`] when the throttle's store cannot be reached.
    async fn admit(&self, keys: &[ThrottleKey<'_>]) -> Result<Admission, ThrottleUnavailable>;

    /// Uncounts `attempt` from `keys` — it was no failure: the login succeeded, or it never
    /// got to test a password — and, given `forget`, forgets every attempt counted against
    /// that key (the email that just proved its password).
    ///
    /// # Errors
    /// [`ThrottleUnavailable`] when the throttle's store cannot be reached.
    async fn uncount(
        &self,
        attempt: &AttemptId,
        keys: &[&str],
        forget: Option<&str>,
    ) -> Result<(), ThrottleUnavailable>;
}
