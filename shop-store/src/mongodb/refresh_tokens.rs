//! Refresh-token records by digest; a conditional update decides racing uses.

use ::mongodb::bson::{Bson, doc};
use ::mongodb::options::ReturnDocument;
use async_trait::async_trait;
use shop_core::{
    RefreshTokenRecord, RefreshTokenStore, RefreshTokenUse, Result, Timestamp, TokenFamilyId,
    TokenHash, UserId,
};

use super::MongoStore;
use super::docs::{self, date, id};
use super::error::map;

#[async_trait]
impl RefreshTokenStore for MongoStore {
    #[tracing::instrument(level = "debug", skip_all, fields(db.system = "mongodb"))]
    async fn insert_refresh_token(&self, record: &RefreshTokenRecord) -> Result<()> {
        self.col("refresh_tokens")
            .insert_one(docs::token_doc(record))
            .await
            .map_err(map)?;
        Ok(())
    }

    #[tracing::instrument(level = "debug", skip_all, fields(db.system = "mongodb"))]
    async fn use_refresh_token(&self, hash: &TokenHash, at: Timestamp) -> Result<RefreshTokenUse> {
        let tokens = self.col("refresh_tokens");
        let key = docs::token_id(hash);
        // One conditional update decides the race: only one caller can set used_at.
        let won = tokens
            .find_one_and_update(
                doc! {
                    "_id": &key,
                    "used_at": Bson::Null,
                    "revoked_at": Bson::Null,
                    "expires_at": { "$gt": date(at) },
                },
                doc! { "$set": { "used_at": date(at) } },
            )
            .return_document(ReturnDocument::After)
            .await
            .map_err(map)?;
        if let Some(d) = won {
            return Ok(RefreshTokenUse::Fresh(docs::token(&d)?));
        }
        let Some(d) = tokens.find_one(doc! { "_id": &key }).await.map_err(map)? else {
            return Ok(RefreshTokenUse::Unknown);
        };
        Ok(docs::token(&d)?.refusal_at(at))
    }

    #[tracing::instrument(level = "debug", skip_all, fields(db.system = "mongodb"))]
    async fn revoke_token_family(&self, family_id: TokenFamilyId, at: Timestamp) -> Result<u64> {
        self.col("refresh_tokens")
            .update_many(
                doc! { "family_id": id(family_id.as_uuid()), "revoked_at": Bson::Null },
                doc! { "$set": { "revoked_at": date(at) } },
            )
            .await
            .map(|r| r.modified_count)
            .map_err(map)
    }

    #[tracing::instrument(level = "debug", skip_all, fields(db.system = "mongodb"))]
    async fn revoke_user_tokens(&self, user_id: UserId, at: Timestamp) -> Result<u64> {
        self.col("refresh_tokens")
            .update_many(
                doc! { "user_id": id(user_id.as_uuid()), "revoked_at": Bson::Null },
                doc! { "$set": { "revoked_at": date(at) } },
            )
            .await
            .map(|r| r.modified_count)
            .map_err(map)
    }

    #[tracing::instrument(level = "debug", skip_all, fields(db.system = "mongodb"))]
    async fn purge_refresh_tokens(&self, now: Timestamp) -> Result<u64> {
        // The query twin of `RefreshTokenRecord::is_purgeable_at`: revoked, or expired at `now`.
        self.delete_where(
            "refresh_tokens",
            doc! { "$or": [
                { "revoked_at": { "$ne": Bson::Null } },
                { "expires_at": { "$lte": date(now) } },
            ] },
        )
        .await
    }
}
