//! Refresh tokens: single use, expiry, revocation, racing uses.

use shop_core::time::now;
use shop_core::{RefreshTokenUse, TokenFamilyId, TokenHash, UserId};

use super::Store;
use super::fixtures::token;

/// A token works once; presenting it again reports reuse.
pub async fn refresh_token_single_use(store: Store) {
    let t = token(UserId::generate(), TokenFamilyId::generate(), 1, 600);
    store.insert_refresh_token(&t).await.unwrap();
    let at = now();
    match store.use_refresh_token(&t.token_hash, at).await.unwrap() {
        RefreshTokenUse::Fresh(r) => {
            assert_eq!(r.user_id, t.user_id);
            assert_eq!(r.family_id, t.family_id);
        }
        other => panic!("expected fresh, got {other:?}"),
    }
    let again = store.use_refresh_token(&t.token_hash, now()).await.unwrap();
    assert!(
        matches!(again, RefreshTokenUse::AlreadyUsed(_)),
        "{again:?}"
    );
    let unknown = store
        .use_refresh_token(&TokenHash([9; 32]), now())
        .await
        .unwrap();
    assert_eq!(unknown, RefreshTokenUse::Unknown);
}

/// Expired tokens and revoked ones are refused; revoking a family or a user's tokens counts
/// only the tokens not yet revoked.
pub async fn refresh_token_expiry_and_revocation(store: Store) {
    let u = UserId::generate();
    let fam = TokenFamilyId::generate();
    let expired = token(u, fam, 2, -1);
    store.insert_refresh_token(&expired).await.unwrap();
    let r = store
        .use_refresh_token(&expired.token_hash, now())
        .await
        .unwrap();
    assert!(matches!(r, RefreshTokenUse::Expired(_)), "{r:?}");

    let live = token(u, fam, 3, 600);
    let other_family = token(u, TokenFamilyId::generate(), 4, 600);
    let other_user = token(UserId::generate(), TokenFamilyId::generate(), 5, 600);
    for t in [&live, &other_family, &other_user] {
        store.insert_refresh_token(t).await.unwrap();
    }
    assert_eq!(store.revoke_token_family(fam, now()).await.unwrap(), 2);
    assert_eq!(store.revoke_token_family(fam, now()).await.unwrap(), 0);
    let r = store
        .use_refresh_token(&live.token_hash, now())
        .await
        .unwrap();
    assert!(matches!(r, RefreshTokenUse::Revoked(_)), "{r:?}");
    assert_eq!(store.revoke_user_tokens(u, now()).await.unwrap(), 1);
    let r = store
        .use_refresh_token(&other_family.token_hash, now())
        .await
        .unwrap();
    assert!(matches!(r, RefreshTokenUse::Revoked(_)));
    let r = store
        .use_refresh_token(&other_user.token_hash, now())
        .await
        .unwrap();
    assert!(
        matches!(r, RefreshTokenUse::Fresh(_)),
        "other users are untouched"
    );
}

/// Of many racing uses of one token exactly one is fresh.
pub async fn refresh_token_concurrent_use_has_one_winner(store: Store) {
    let t = token(UserId::generate(), TokenFamilyId::generate(), 7, 600);
    store.insert_refresh_token(&t).await.unwrap();
    let handles: Vec<_> = (0..16)
        .map(|_| {
            let store = store.clone();
            let h = t.token_hash;
            tokio::spawn(async move { store.use_refresh_token(&h, now()).await.unwrap() })
        })
        .collect();
    let mut fresh = 0;
    for h in handles {
        match h.await.unwrap() {
            RefreshTokenUse::Fresh(_) => fresh += 1,
            RefreshTokenUse::AlreadyUsed(_) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(fresh, 1);
}
