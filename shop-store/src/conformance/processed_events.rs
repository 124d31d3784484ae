//! Processed events: claims, completion, release, lapsed claims, racing claimants, purge.

use chrono::TimeDelta;
use shop_core::time::now;
use shop_core::{EventId, ProcessingClaim, ProcessingState, Timestamp};

use super::Store;

const LEASE: TimeDelta = TimeDelta::seconds(30);

/// `who` (an instance of consumer `mailer`) claims `e` at `at`, for [`LEASE`].
async fn claim(store: &Store, e: EventId, who: &str, at: Timestamp) -> ProcessingState {
    claim_for(store, "mailer", e, who, at).await
}

async fn claim_for(
    store: &Store,
    consumer: &str,
    e: EventId,
    who: &str,
    at: Timestamp,
) -> ProcessingState {
    store
        .claim_processing(&ProcessingClaim {
            consumer: consumer.into(),
            event_id: e,
            claimant: who.into(),
            now: at,
            lease_until: at + LEASE,
        })
        .await
        .unwrap()
}

async fn finish(store: &Store, e: EventId, who: &str, at: Timestamp) -> bool {
    store.finish_processing("mailer", e, who, at).await.unwrap()
}

use ProcessingState::{Claimed, Processed};

/// One claimant at a time; its own claim renews; once finished, every later claim reports
/// `Processed` and a second finish changes nothing.
pub async fn processing_claim_finish_and_replay(store: Store) {
    let e = EventId::generate();
    let at = now();
    assert_eq!(claim(&store, e, "a", at).await, Claimed);
    assert_eq!(
        claim(&store, e, "a", at).await,
        Claimed,
        "the holder may claim again (a redelivery to the same instance)"
    );
    assert_eq!(
        claim(&store, e, "b", at).await,
        ProcessingState::InProgress { until: at + LEASE }
    );
    assert!(
        !finish(&store, e, "b", now()).await,
        "only the holder finishes"
    );
    assert!(finish(&store, e, "a", now()).await);
    for who in ["a", "b"] {
        assert_eq!(claim(&store, e, who, now()).await, Processed);
    }
    assert!(!finish(&store, e, "a", now()).await);
}

/// A released claim is free at once; a release by anyone but the holder, or of a finished
/// event, changes nothing.
pub async fn processing_release_frees_the_event(store: Store) {
    let e = EventId::generate();
    let at = now();
    claim(&store, e, "a", at).await;
    store.release_processing("mailer", e, "a").await.unwrap();
    assert_eq!(claim(&store, e, "b", at).await, Claimed);
    store.release_processing("mailer", e, "a").await.unwrap();
    assert!(
        matches!(
            claim(&store, e, "c", at).await,
            ProcessingState::InProgress { .. }
        ),
        "b still holds it"
    );
    assert!(finish(&store, e, "b", now()).await);
    store.release_processing("mailer", e, "b").await.unwrap();
    assert_eq!(claim(&store, e, "c", at).await, Processed);
}

/// A claim whose lease ran out is taken over; the old holder can then no longer finish.
pub async fn processing_lapsed_claim_is_taken_over(store: Store) {
    let e = EventId::generate();
    let t0 = now();
    claim(&store, e, "a", t0).await;
    let later = t0 + LEASE + TimeDelta::seconds(1);
    assert_eq!(claim(&store, e, "b", later).await, Claimed);
    assert!(!finish(&store, e, "a", later).await);
    assert!(finish(&store, e, "b", later).await);
}

/// Each consumer handles each event once, independently of the others.
pub async fn processing_is_per_consumer(store: Store) {
    let e = EventId::generate();
    let at = now();
    claim(&store, e, "a", at).await;
    finish(&store, e, "a", at).await;
    assert_eq!(
        claim_for(&store, "search-indexer", e, "a", at).await,
        Claimed
    );
}

/// Of many claimants racing for one event exactly one wins; the rest see it in progress.
pub async fn processing_racing_claims_have_one_winner(store: Store) {
    let e = EventId::generate();
    let at = now();
    let handles: Vec<_> = (0..16)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move { claim(&store, e, &format!("replica-{i}"), at).await })
        })
        .collect();
    let mut won = 0;
    for h in handles {
        match h.await.unwrap() {
            Claimed => won += 1,
            ProcessingState::InProgress { .. } => {}
            Processed => panic!("nobody finished it"),
        }
    }
    assert_eq!(won, 1);
}

/// Purge deletes records finished before the cutoff and claims that lapsed before it; newer
/// records and live claims stay.
pub async fn processing_purge_keeps_recent_and_live(store: Store) {
    let t0 = now();
    let ten_days_ago = t0 - TimeDelta::days(10);
    let [old_done, new_done, lapsed, live] = [(); 4].map(|()| EventId::generate());
    for (e, at) in [(old_done, ten_days_ago), (new_done, t0)] {
        claim(&store, e, "a", at).await;
        assert!(finish(&store, e, "a", at).await);
    }
    claim(&store, lapsed, "a", ten_days_ago).await;
    claim(&store, live, "a", t0).await;
    let cutoff = t0 - TimeDelta::days(1);
    assert_eq!(store.purge_processed_events(cutoff).await.unwrap(), 2);
    assert_eq!(store.purge_processed_events(cutoff).await.unwrap(), 0);
    assert_eq!(claim(&store, old_done, "b", t0).await, Claimed, "forgotten");
    assert_eq!(claim(&store, new_done, "b", t0).await, Processed);
    assert!(matches!(
        claim(&store, live, "b", t0).await,
        ProcessingState::InProgress { .. }
    ));
}
