use std::sync::Arc;

use tracing::{instrument, warn};

use crate::error::{Error, Result};
use crate::event::DomainEvent;
use crate::id::ProductId;
use crate::review::{Review, ReviewInput};
use crate::store::{CatalogStore, OutboxStore, ReviewStore};
use crate::user::User;

/// Writes reviews of existing products and announces them.
///
/// Reviews may live in another backend than the catalog and outbox, so `ReviewAdded` is
/// appended after the review is stored, not in the same transaction: if the outbox write fails
/// the review stands and the failure is logged.
#[derive(Clone)]
pub struct ReviewService {
    catalog: Arc<dyn CatalogStore>,
    reviews: Arc<dyn ReviewStore>,
    outbox: Arc<dyn OutboxStore>,
}

impl std::fmt::Debug for ReviewService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReviewService").finish_non_exhaustive()
    }
}

impl ReviewService {
    /// A service over the three stores.
    #[must_use]
    pub fn new(
        catalog: Arc<dyn CatalogStore>,
        reviews: Arc<dyn ReviewStore>,
        outbox: Arc<dyn OutboxStore>,
    ) -> Self {
        Self {
            catalog,
            reviews,
            outbox,
        }
    }

    /// Adds `author`'s review of a product.
    ///
    /// # Errors
    /// Validation errors; `NotFound` for an unknown product;
    /// [`Conflict::ReviewExists`](crate::Conflict::ReviewExists) for a second review.
    #[instrument(skip(self, author, input), fields(author_id = %author.id), err(level = "debug"))]
    pub async fn add_review(
        &self,
        product_id: ProductId,
        author: &User,
        input: &ReviewInput,
    ) -> Result<Review> {
        let review = Review::create(product_id, author.id, author.display_name.clone(), input)?;
        if self.catalog.get_product(product_id).await?.is_none() {
            return Err(Error::NotFound("product"));
        }
        self.reviews.add_review(&review).await?;
        if let Err(e) = self
            .outbox
            .append_events(&[DomainEvent::review_added(&review)])
            .await
        {
            warn!(error = %e, review_id = %review.id, "review stored but ReviewAdded not queued");
        }
        Ok(review)
    }
}
