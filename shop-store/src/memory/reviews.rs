//! Reviews, one per author and product.

use async_trait::async_trait;
use shop_core::{
    Conflict, Page, ProductId, RatingSummary, Result, Review, ReviewCursor, ReviewQuery,
    ReviewStore,
};

use super::MemoryStore;

#[async_trait]
impl ReviewStore for MemoryStore {
    async fn add_review(&self, review: &Review) -> Result<()> {
        let mut r = self.reviews.write();
        if !r.authors.insert((review.product_id, review.author_id)) {
            return Err(Conflict::ReviewExists.into());
        }
        let list = r.by_product.entry(review.product_id).or_default();
        // Keep each product's list newest first, so a page is a slice of it.
        let at = list.partition_point(|x| (x.created_at, x.id) > (review.created_at, review.id));
        list.insert(at, review.clone());
        Ok(())
    }

    async fn list_reviews(&self, query: &ReviewQuery) -> Result<Page<Review, ReviewCursor>> {
        let r = self.reviews.read();
        let items: Vec<Review> = r
            .by_product
            .get(&query.product_id)
            .map(|list| {
                list.iter()
                    .filter(|rv| query.after.as_ref().is_none_or(|c| c.precedes(rv)))
                    .take(query.limit.get() + 1)
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        Ok(Page::from_overfetch(
            items,
            query.limit,
            ReviewCursor::after,
        ))
    }

    async fn rating_summary(&self, product_id: ProductId) -> Result<RatingSummary> {
        let r = self.reviews.read();
        let list = r.by_product.get(&product_id).map_or(&[][..], Vec::as_slice);
        Ok(RatingSummary {
            count: list.len() as u64,
            total: list.iter().map(|rv| u64::from(rv.rating.get())).sum(),
        })
    }
}
