//! The consumer side of at-least-once delivery: which events a consumer has handled.
//!
//! A broker may deliver one event more than once (a relay republished it, a consumer died
//! before acknowledging it), and with several consumer replicas two copies can arrive at the
//! same moment in two processes. A [`ProcessedEventStore`](crate::ProcessedEventStore)
//! decides, per consumer and event, who may handle it:
//!
//! 1. [`claim_processing`](crate::ProcessedEventStore::claim_processing) before the handler
//!    runs: [`ProcessingState::Claimed`] for exactly one caller at a time;
//!    [`ProcessingState::Processed`] once it was handled; [`ProcessingState::InProgress`] while
//!    another claimant's lease runs.
//! 2. [`finish_processing`](crate::ProcessedEventStore::finish_processing) after the handler
//!    succeeded, or [`release_processing`](crate::ProcessedEventStore::release_processing)
//!    after it failed, so the event can be retried at once.
//!
//! A claimant that dies mid-handler leaves a claim that lapses at `lease_until`; then another
//! may take the event over. So a handler runs more than once only when its process died (or
//! overran its lease) between its side effect and `finish_processing`; for strictly
//! exactly-once effects, make the handler's write idempotent by event ID.

use crate::error::{Error, Result};
use crate::id::EventId;
use crate::time::Timestamp;

/// A consumer instance's request to handle one event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessingClaim {
    /// The logical consumer (its queue name, say): each consumer handles each event once, and
    /// the replicas of one consumer share this name.
    pub consumer: String,
    /// The event.
    pub event_id: EventId,
    /// Which instance claims (unique per process).
    pub claimant: String,
    /// Now: claims whose lease ended before this are free again.
    pub now: Timestamp,
    /// When this claim lapses unless it is finished or released first.
    pub lease_until: Timestamp,
}

/// What [`claim_processing`](crate::ProcessedEventStore::claim_processing) found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProcessingState {
    /// The caller holds the claim now: run the handler (first delivery, the caller's own claim
    /// renewed, or a lapsed claim of another taken over).
    Claimed,
    /// Handled already: acknowledge without running the handler again.
    Processed,
    /// Another claimant is handling it; its claim lapses at `until` if it never finishes.
    InProgress {
        /// When the other claim lapses.
        until: Timestamp,
    },
}

impl ProcessingState {
    /// What a stored record the caller could not claim says: handled when it has a
    /// `processed_at`, else held by another claimant until `claim_until`.
    ///
    /// # Errors
    /// [`Error::Internal`] for a record with neither (not one an adapter writes).
    pub fn of_unclaimable(
        processed_at: Option<Timestamp>,
        claim_until: Option<Timestamp>,
    ) -> Result<Self> {
        match (processed_at, claim_until) {
            (Some(_), _) => Ok(Self::Processed),
            (None, Some(until)) => Ok(Self::InProgress { until }),
            (None, None) => Err(Error::internal("processed-event record without a claim")),
        }
    }
}
