//! The outbox: claims, leases, publication marks, statistics.

use shop_core::time::now;
use shop_core::{DomainEvent, EventType, OutboxClaim, UserId};

use super::Store;
use super::fixtures::*;

/// Claims come lowest position first, each event as it was appended (its `traceparent`
/// included, so a consumer continues the trace); marked events are never claimed again.
pub async fn outbox_claim_and_mark(store: Store) {
    let mut events = events(5);
    events[1].traceparent = Some("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".into());
    events[3].traceparent = Some("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00".into());
    store.append_events(&events[..2]).await.unwrap();
    store.append_events(&events[2..]).await.unwrap();
    let at = now();
    let claim = |limit| OutboxClaim {
        claimant: "relay-1".into(),
        limit,
        now: at,
        lease_until: at + chrono::TimeDelta::seconds(30),
    };
    let first = store.claim_events(&claim(3)).await.unwrap();
    assert_eq!(
        first.iter().map(|r| r.event.clone()).collect::<Vec<_>>(),
        events[..3].to_vec()
    );
    assert!(first.windows(2).all(|w| w[0].seq < w[1].seq));
    store
        .mark_published(&first.iter().map(|r| r.seq).collect::<Vec<_>>())
        .await
        .unwrap();
    let rest = store.claim_events(&claim(10)).await.unwrap();
    assert_eq!(
        rest.iter().map(|r| r.event.clone()).collect::<Vec<_>>(),
        events[3..].to_vec()
    );
    store
        .mark_published(&[rest[0].seq, rest[1].seq, 999_999])
        .await
        .unwrap();
    assert!(store.claim_events(&claim(10)).await.unwrap().is_empty());
}

/// A claimed event is hidden from other claimants until its lease ends; then another relay
/// may take it over.
pub async fn outbox_claims_are_exclusive_until_lease_ends(store: Store) {
    let e = DomainEvent::new(
        EventType::UserRegistered,
        UserId::generate().as_uuid(),
        serde_json::json!({}),
    );
    store.append_events(std::slice::from_ref(&e)).await.unwrap();
    let t0 = now();
    let lease = t0 + chrono::TimeDelta::seconds(30);
    let claim = |who: &str, at| OutboxClaim {
        claimant: who.into(),
        limit: 10,
        now: at,
        lease_until: lease,
    };
    assert_eq!(store.claim_events(&claim("a", t0)).await.unwrap().len(), 1);
    assert!(
        store
            .claim_events(&claim("b", t0))
            .await
            .unwrap()
            .is_empty()
    );
    let again = store.claim_events(&claim("a", t0)).await.unwrap();
    assert_eq!(again.len(), 1, "a claimant may re-read its own claim");
    let later = lease + chrono::TimeDelta::seconds(1);
    let taken = store.claim_events(&claim("b", later)).await.unwrap();
    assert_eq!(taken.len(), 1);
    assert_eq!(taken[0].event, e);
}

/// Stats count unpublished events and report the oldest.
pub async fn outbox_stats(store: Store) {
    assert_eq!(store.outbox_stats().await.unwrap().pending, 0);
    let p = seeded(&store, "OS-1", 100, 1).await;
    seeded(&store, "OS-2", 100, 1).await;
    let stats = store.outbox_stats().await.unwrap();
    assert_eq!(stats.pending, 2);
    assert_eq!(
        stats.oldest_pending_at,
        Some(outbox(&store).await[0].occurred_at)
    );
    let _ = p;
}
