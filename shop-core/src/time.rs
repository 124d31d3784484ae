//! Timestamps.

use chrono::{DateTime, Utc};

/// A point in time, always UTC.
pub type Timestamp = DateTime<Utc>;

/// The current time, truncated to whole milliseconds.
///
/// Milliseconds are the finest precision every supported backend keeps (BSON dates are
/// milliseconds), so a timestamp made here reads back from any store unchanged.
#[must_use]
pub fn now() -> Timestamp {
    truncate_to_millis(Utc::now())
}

/// Drops everything below the millisecond from `t`.
#[must_use]
pub fn truncate_to_millis(t: Timestamp) -> Timestamp {
    DateTime::from_timestamp_millis(t.timestamp_millis()).unwrap_or(t)
}
