//! Retention: purges delete only what their cutoff allows, never pending events or live
//! tokens, and stay correct when several replicas purge at once.

use std::sync::Arc;

use chrono::TimeDelta;
use shop_core::time::now;
use shop_core::{
    CommerceStore, DomainEvent, EventId, IdempotencyKey, OutboxClaim, OutboxRecord,
    ProcessingClaim, RefreshTokenUse, RetentionPolicy, RetentionService, TokenFamilyId, UserId,
};

use super::Store;
use super::fixtures::*;

/// Everything pending, claimed (again) by one relay.
async fn claim_all(store: &Store) -> Vec<OutboxRecord> {
    let at = now();
    store
        .claim_events(&OutboxClaim {
            claimant: "relay".into(),
            limit: 1000,
            now: at,
            lease_until: at + TimeDelta::seconds(30),
        })
        .await
        .unwrap()
}

/// Claims everything pending and marks the first `published` of them published.
async fn publish_first(store: &Store, published: usize) {
    let claimed = claim_all(store).await;
    let seqs: Vec<u64> = claimed.iter().take(published).map(|r| r.seq).collect();
    store.mark_published(&seqs).await.unwrap();
}

/// Published events go once older than the cutoff; pending ones stay, however old.
pub async fn purge_published_events_keeps_pending(store: Store) {
    let all = events(3);
    store.append_events(&all).await.unwrap();
    publish_first(&store, 2).await;
    assert_eq!(
        store
            .purge_published_events(now() - TimeDelta::hours(1))
            .await
            .unwrap(),
        0,
        "published just now: younger than the cutoff"
    );
    let purged = store
        .purge_published_events(now() + TimeDelta::seconds(1))
        .await
        .unwrap();
    // 2 where published events are kept until purged; 0 where the adapter drops them at once.
    assert!(purged == 2 || purged == 0, "purged {purged}");
    assert_eq!(
        store
            .purge_published_events(now() + TimeDelta::seconds(1))
            .await
            .unwrap(),
        0
    );
    let pending: Vec<DomainEvent> = claim_all(&store)
        .await
        .into_iter()
        .map(|r| r.event)
        .collect();
    assert_eq!(pending, vec![all[2].clone()], "the pending one");
    assert_eq!(store.outbox_stats().await.unwrap().pending, 1);
}

/// Expired and revoked tokens go; a live token and a used but unexpired one (still needed to
/// detect reuse) stay.
pub async fn purge_refresh_tokens_keeps_live_and_used(store: Store) {
    let u = UserId::generate();
    let live = token(u, TokenFamilyId::generate(), 1, 600);
    let used = token(u, TokenFamilyId::generate(), 2, 600);
    let revoked = token(u, TokenFamilyId::generate(), 3, 600);
    let expired = token(u, TokenFamilyId::generate(), 4, -1);
    for t in [&live, &used, &revoked, &expired] {
        store.insert_refresh_token(t).await.unwrap();
    }
    store
        .use_refresh_token(&used.token_hash, now())
        .await
        .unwrap();
    store
        .revoke_token_family(revoked.family_id, now())
        .await
        .unwrap();
    assert_eq!(store.purge_refresh_tokens(now()).await.unwrap(), 2);
    assert_eq!(store.purge_refresh_tokens(now()).await.unwrap(), 0);
    let found = |t: &shop_core::RefreshTokenRecord| {
        let store = store.clone();
        let hash = t.token_hash;
        async move { store.use_refresh_token(&hash, now()).await.unwrap() }
    };
    assert!(matches!(
        found(&used).await,
        RefreshTokenUse::AlreadyUsed(_)
    ));
    assert_eq!(found(&revoked).await, RefreshTokenUse::Unknown);
    assert_eq!(found(&expired).await, RefreshTokenUse::Unknown);
    assert!(matches!(found(&live).await, RefreshTokenUse::Fresh(_)));
}

/// An old idempotency key goes and its order stays; the same key then places a new order.
pub async fn purge_idempotency_keys_keeps_orders(store: Store) {
    let p = seeded(&store, "RET-1", 100, 10).await;
    let u = UserId::generate();
    add(&store, u, p.id, 1).await;
    let first = checkout(&store, u, "key-1").await.unwrap().order;
    let key = IdempotencyKey::parse("key-1").unwrap();
    assert_eq!(
        store
            .purge_idempotency_keys(first.created_at - TimeDelta::hours(1))
            .await
            .unwrap(),
        0
    );
    assert!(
        store
            .find_order_by_idempotency_key(u, &key)
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(
        store
            .purge_idempotency_keys(now() + TimeDelta::seconds(1))
            .await
            .unwrap(),
        1
    );
    assert!(
        store
            .find_order_by_idempotency_key(u, &key)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        store.get_order(first.id).await.unwrap(),
        Some(first.clone())
    );
    add(&store, u, p.id, 1).await;
    let second = checkout(&store, u, "key-1").await.unwrap();
    assert!(!second.replayed, "a forgotten key places a new order");
    assert_ne!(second.order.id, first.id);
}

/// Replicas purging at once delete each record exactly once between them.
pub async fn purge_racing_replicas_delete_each_record_once(store: Store) {
    let p = seeded(&store, "RET-2", 100, 100).await;
    for i in 0..6 {
        let u = UserId::generate();
        add(&store, u, p.id, 1).await;
        checkout(&store, u, &format!("race-{i}")).await.unwrap();
    }
    let cutoff = now() + TimeDelta::seconds(1);
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move { store.purge_idempotency_keys(cutoff).await.unwrap() })
        })
        .collect();
    let mut total = 0;
    for h in handles {
        total += h.await.unwrap();
    }
    assert_eq!(total, 6);
}

/// The service applies each age of its policy to the matching records.
pub async fn retention_service_applies_the_policy(store: Store) {
    let commerce: Arc<dyn CommerceStore> = store.clone();
    let policy = {
        let mut config = RetentionPolicy::default();
        config.published_events = TimeDelta::days(7);
        config.idempotency_keys = TimeDelta::days(30);
        config.processed_events = TimeDelta::days(30);
        config
    };
    let service =
        RetentionService::new(commerce, store.clone(), policy).with_processed_events(store.clone());
    let t0 = now();
    let u = UserId::generate();
    store
        .insert_refresh_token(&token(u, TokenFamilyId::generate(), 5, -1))
        .await
        .unwrap();
    let old = EventId::generate();
    let at = t0 - TimeDelta::days(31);
    store
        .claim_processing(&ProcessingClaim {
            consumer: "mailer".into(),
            event_id: old,
            claimant: "a".into(),
            now: at,
            lease_until: at + TimeDelta::seconds(30),
        })
        .await
        .unwrap();
    store
        .finish_processing("mailer", old, "a", at)
        .await
        .unwrap();
    let p = seeded(&store, "RET-3", 100, 10).await;
    add(&store, u, p.id, 1).await;
    checkout(&store, u, "recent").await.unwrap();

    let report = service.purge(t0).await.unwrap();
    assert_eq!(report.refresh_tokens, 1);
    assert_eq!(report.processed_events, 1);
    assert_eq!(
        report.idempotency_keys, 0,
        "a minute-old key is kept 30 days"
    );
    assert_eq!(report.published_events, 0, "nothing was published");
    let later = service.purge(t0 + TimeDelta::days(31)).await.unwrap();
    assert_eq!(later.idempotency_keys, 1);
}
