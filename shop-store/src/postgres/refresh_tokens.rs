//! Refresh-token records by digest; a conditional UPDATE decides racing uses.

use async_trait::async_trait;
use shop_core::{
    RefreshTokenRecord, RefreshTokenStore, RefreshTokenUse, Result, Timestamp, TokenFamilyId,
    TokenHash, UserId,
};

use super::PgStore;
use super::error::map;
use super::rows::{self, TOKEN_COLUMNS};

#[async_trait]
impl RefreshTokenStore for PgStore {
    #[tracing::instrument(level = "debug", skip_all, fields(db.system = "postgresql"))]
    async fn insert_refresh_token(&self, r: &RefreshTokenRecord) -> Result<()> {
        sqlx::query(
            "INSERT INTO refresh_tokens (token_hash, family_id, user_id, issued_at, expires_at, \
             used_at, revoked_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&r.token_hash.0[..])
        .bind(r.family_id.as_uuid())
        .bind(r.user_id.as_uuid())
        .bind(r.issued_at)
        .bind(r.expires_at)
        .bind(r.used_at)
        .bind(r.revoked_at)
        .execute(&self.pool)
        .await
        .map_err(map)?;
        Ok(())
    }

    #[tracing::instrument(level = "debug", skip_all, fields(db.system = "postgresql"))]
    async fn use_refresh_token(&self, hash: &TokenHash, at: Timestamp) -> Result<RefreshTokenUse> {
        // One conditional UPDATE decides the race: only one caller can flip used_at.
        let won = sqlx::query(
            "UPDATE refresh_tokens SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL \
             AND revoked_at IS NULL AND expires_at > $3",
        )
        .bind(at)
        .bind(&hash.0[..])
        .bind(at)
        .execute(&self.pool)
        .await
        .map_err(map)?
        .rows_affected()
            == 1;
        let sql = format!("SELECT {TOKEN_COLUMNS} FROM refresh_tokens WHERE token_hash = $1");
        let Some(row) = sqlx::query(&sql)
            .bind(&hash.0[..])
            .fetch_optional(&self.pool)
            .await
            .map_err(map)?
        else {
            return Ok(RefreshTokenUse::Unknown);
        };
        let rec = rows::refresh_token(&row)?;
        Ok(if won {
            RefreshTokenUse::Fresh(rec)
        } else {
            // Lost the update: the row says why (a race that used it in between reads as used).
            rec.refusal_at(at)
        })
    }

    #[tracing::instrument(level = "debug", skip_all, fields(db.system = "postgresql"))]
    async fn revoke_token_family(&self, family_id: TokenFamilyId, at: Timestamp) -> Result<u64> {
        sqlx::query(
            "UPDATE refresh_tokens SET revoked_at = $1 WHERE family_id = $2 AND revoked_at IS NULL",
        )
        .bind(at)
        .bind(family_id.as_uuid())
        .execute(&self.pool)
        .await
        .map(|r| r.rows_affected())
        .map_err(map)
    }

    #[tracing::instrument(level = "debug", skip_all, fields(db.system = "postgresql"))]
    async fn revoke_user_tokens(&self, user_id: UserId, at: Timestamp) -> Result<u64> {
        sqlx::query(
            "UPDATE refresh_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL",
        )
        .bind(at)
        .bind(user_id.as_uuid())
        .execute(&self.pool)
        .await
        .map(|r| r.rows_affected())
        .map_err(map)
    }

    #[tracing::instrument(level = "debug", skip_all, fields(db.system = "postgresql"))]
    async fn purge_refresh_tokens(&self, now: Timestamp) -> Result<u64> {
        // The SQL twin of `RefreshTokenRecord::is_purgeable_at`: revoked, or expired at `now`.
        let revoked = self
            .purge_in_batches("refresh_tokens", "revoked_at IS NOT NULL", None)
            .await?;
        let expired = self
            .purge_in_batches("refresh_tokens", "expires_at <= $1", Some(now))
            .await?;
        Ok(revoked + expired)
    }
}
