//! Users, reviews and refresh tokens.

use ::mongodb::bson::{Bson, Document, doc};
use ::mongodb::options::ReturnDocument;
use async_trait::async_trait;
use futures::TryStreamExt;
use shop_core::time::now;
use shop_core::{
    Email, Error, Page, ProductId, RatingSummary, RefreshTokenRecord, RefreshTokenStore,
    RefreshTokenUse, Result, Review, ReviewCursor, ReviewQuery, ReviewStore, Timestamp,
    TokenFamilyId, TokenHash, User, UserId, UserStore, UserUpdate,
};

use super::MongoStore;
use super::docs::{self, date, id};
use super::error::map;

#[async_trait]
impl UserStore for MongoStore {
    async fn create_user(&self, user: &User) -> Result<()> {
        self.col("users")
            .insert_one(docs::user_doc(user))
            .await
            .map_err(map)?;
        Ok(())
    }

    async fn get_user(&self, user_id: UserId) -> Result<Option<User>> {
        self.col("users")
            .find_one(doc! { "_id": id(user_id.as_uuid()) })
            .await
            .map_err(map)?
            .map(|d| docs::user(&d))
            .transpose()
    }

    async fn find_user_by_email(&self, email: &Email) -> Result<Option<User>> {
        self.col("users")
            .find_one(doc! { "email": email.as_str() })
            .await
            .map_err(map)?
            .map(|d| docs::user(&d))
            .transpose()
    }

    async fn update_user(&self, user_id: UserId, update: &UserUpdate) -> Result<User> {
        let mut set = doc! { "updated_at": date(now()) };
        if let Some(n) = &update.display_name {
            set.insert("display_name", n.as_str());
        }
        if let Some(h) = &update.password_hash {
            set.insert("password_hash", h.as_str());
        }
        if let Some(r) = update.roles.as_ref().filter(|r| !r.is_empty()) {
            set.insert("roles", docs::roles(r));
        }
        self.col("users")
            .find_one_and_update(doc! { "_id": id(user_id.as_uuid()) }, doc! { "$set": set })
            .return_document(ReturnDocument::After)
            .await
            .map_err(map)?
            .map(|d| docs::user(&d))
            .transpose()?
            .ok_or(Error::NotFound("user"))
    }
}

#[async_trait]
impl ReviewStore for MongoStore {
    async fn add_review(&self, review: &Review) -> Result<()> {
        self.col("reviews")
            .insert_one(docs::review_doc(review))
            .await
            .map_err(map)?;
        Ok(())
    }

    async fn list_reviews(&self, q: &ReviewQuery) -> Result<Page<Review, ReviewCursor>> {
        let mut filter = doc! { "product_id": id(q.product_id.as_uuid()) };
        if let Some(c) = &q.after {
            filter.insert(
                "$or",
                vec![
                    doc! { "created_at": { "$lt": date(c.created_at) } },
                    doc! { "created_at": date(c.created_at), "_id": { "$lt": id(c.id.as_uuid()) } },
                ],
            );
        }
        let limit = i64::try_from(q.limit.get() + 1).map_err(Error::internal)?;
        let found: Vec<Document> = self
            .col("reviews")
            .find(filter)
            .sort(doc! { "created_at": -1, "_id": -1 })
            .limit(limit)
            .await
            .map_err(map)?
            .try_collect()
            .await
            .map_err(map)?;
        let items = found.iter().map(docs::review).collect::<Result<Vec<_>>>()?;
        Ok(Page::from_overfetch(items, q.limit, ReviewCursor::after))
    }

    /// Count and sum by an aggregation pipeline, computed where the data lives.
    async fn rating_summary(&self, product_id: ProductId) -> Result<RatingSummary> {
        let pipeline = vec![
            doc! { "$match": { "product_id": id(product_id.as_uuid()) } },
            doc! { "$group": { "_id": Bson::Null, "count": { "$sum": 1 }, "total": { "$sum": "$rating" } } },
        ];
        let groups: Vec<Document> = self
            .col("reviews")
            .aggregate(pipeline)
            .await
            .map_err(map)?
            .try_collect()
            .await
            .map_err(map)?;
        let Some(g) = groups.first() else {
            return Ok(RatingSummary::default());
        };
        let count = docs::int(g, "count", "rating summary")?;
        let total = docs::int(g, "total", "rating summary")?;
        Ok(RatingSummary {
            count: u64::try_from(count).map_err(Error::internal)?,
            total: u64::try_from(total).map_err(Error::internal)?,
        })
    }
}

#[async_trait]
impl RefreshTokenStore for MongoStore {
    async fn insert_refresh_token(&self, record: &RefreshTokenRecord) -> Result<()> {
        self.col("refresh_tokens")
            .insert_one(docs::token_doc(record))
            .await
            .map_err(map)?;
        Ok(())
    }

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
        let rec = docs::token(&d)?;
        Ok(if rec.revoked_at.is_some() {
            RefreshTokenUse::Revoked(rec)
        } else if rec.used_at.is_some() {
            RefreshTokenUse::AlreadyUsed(rec)
        } else {
            RefreshTokenUse::Expired(rec)
        })
    }

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
}
