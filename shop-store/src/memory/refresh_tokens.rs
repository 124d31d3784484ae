//! Refresh-token records by digest.

use std::collections::HashMap;

use async_trait::async_trait;
use shop_core::{
    Conflict, RefreshTokenRecord, RefreshTokenStore, RefreshTokenUse, Result, Timestamp,
    TokenFamilyId, TokenHash, UserId,
};

use super::MemoryStore;

#[async_trait]
impl RefreshTokenStore for MemoryStore {
    async fn insert_refresh_token(&self, record: &RefreshTokenRecord) -> Result<()> {
        let mut t = self.tokens.lock();
        if t.contains_key(&record.token_hash) {
            return Err(Conflict::ConcurrentModification.into());
        }
        t.insert(record.token_hash, record.clone());
        Ok(())
    }

    async fn use_refresh_token(&self, hash: &TokenHash, at: Timestamp) -> Result<RefreshTokenUse> {
        let mut t = self.tokens.lock();
        let Some(rec) = t.get_mut(hash) else {
            return Ok(RefreshTokenUse::Unknown);
        };
        if rec.is_usable_at(at) {
            rec.used_at = Some(at);
            return Ok(RefreshTokenUse::Fresh(rec.clone()));
        }
        Ok(rec.clone().refusal_at(at))
    }

    async fn revoke_token_family(&self, family_id: TokenFamilyId, at: Timestamp) -> Result<u64> {
        Ok(revoke_where(&mut self.tokens.lock(), at, |r| {
            r.family_id == family_id
        }))
    }

    async fn revoke_user_tokens(&self, user_id: UserId, at: Timestamp) -> Result<u64> {
        Ok(revoke_where(&mut self.tokens.lock(), at, |r| {
            r.user_id == user_id
        }))
    }

    async fn purge_refresh_tokens(&self, now: Timestamp) -> Result<u64> {
        let mut t = self.tokens.lock();
        let before = t.len();
        t.retain(|_, r| !r.is_purgeable_at(now));
        Ok((before - t.len()) as u64)
    }
}

fn revoke_where(
    tokens: &mut HashMap<TokenHash, RefreshTokenRecord>,
    at: Timestamp,
    pred: impl Fn(&RefreshTokenRecord) -> bool,
) -> u64 {
    let mut n = 0;
    for rec in tokens.values_mut() {
        if rec.revoked_at.is_none() && pred(rec) {
            rec.revoked_at = Some(at);
            n += 1;
        }
    }
    n
}
