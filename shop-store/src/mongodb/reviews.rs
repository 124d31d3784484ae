//! Reviews, one per author and product; newest-first keyset pages.

use ::mongodb::bson::{Bson, Document, doc};
use async_trait::async_trait;
use futures::TryStreamExt;
use shop_core::{
    Error, Page, ProductId, RatingSummary, Result, Review, ReviewCursor, ReviewQuery, ReviewStore,
};

use super::docs::{self, id};
use super::error::map;
use super::{MongoStore, newest_after, newest_first};

#[async_trait]
impl ReviewStore for MongoStore {
    #[tracing::instrument(level = "debug", skip_all, fields(db.system = "mongodb"))]
    async fn add_review(&self, review: &Review) -> Result<()> {
        self.col("reviews")
            .insert_one(docs::review_doc(review))
            .await
            .map_err(map)?;
        Ok(())
    }

    #[tracing::instrument(level = "debug", skip_all, fields(db.system = "mongodb"))]
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
    #[tracing::instrument(level = "debug", skip_all, fields(db.system = "mongodb"))]
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
