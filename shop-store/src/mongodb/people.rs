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

use super::docs::{self, date, id};
use super::error::map;
use super::{MongoStore, newest_after, newest_first};

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
        let filter = doc! { "_id": id(user_id.as_uuid()) };
        self.find_one_as("users", filter, docs::user).await
    }

    async fn find_user_by_email(&self, email: &Email) -> Result<Option<User>> {
        let filter = doc! { "email": email.as_str() };
        self.find_one_as("users", filter, docs::user).await
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
            newest_after(&mut filter, c.created_at, c.id.as_uuid());
        }
        let items = self
            .find_as(
                "reviews",
                filter,
                newest_first(),
                q.limit.get() + 1,
                docs::review,
            )
            .await?;
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
        Ok(docs::token(&d)?.refusal_at(at))
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
