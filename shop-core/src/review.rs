//! Product reviews and rating summaries.

use serde::{Deserialize, Serialize};

use crate::id::{ProductId, ReviewId, UserId};
use crate::page::{PageLimit, decode_cursor, encode_cursor};
use crate::time::{Timestamp, now};
use crate::user::DisplayName;
use crate::validate::{FieldError, ValidationErrors, Validator, bounded_text};

bounded_text!(
    /// A review's headline: 1–200 characters.
    ReviewTitle, field = "title", min = 1, max = 200
);
bounded_text!(
    /// A review's text: up to 5 000 characters.
    ReviewBody, field = "body", min = 0, max = 5_000
);

/// A star rating, 1 to 5.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = u8))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "u8")]
pub struct Rating(u8);

impl Rating {
    /// Checks `n`.
    ///
    /// # Errors
    /// A [`FieldError`] on `rating` unless `1 <= n <= 5`.
    pub fn new(n: i64) -> Result<Self, FieldError> {
        match u8::try_from(n) {
            Ok(v @ 1..=5) => Ok(Self(v)),
            _ => Err(FieldError::new(
                "rating",
                "out_of_range",
                "must be between 1 and 5",
            )),
        }
    }

    /// The number of stars.
    #[must_use]
    pub const fn get(self) -> u8 {
        self.0
    }
}

impl TryFrom<i64> for Rating {
    type Error = FieldError;
    fn try_from(n: i64) -> Result<Self, FieldError> {
        Self::new(n)
    }
}

impl From<Rating> for u8 {
    fn from(r: Rating) -> u8 {
        r.0
    }
}

/// A review of a product by a user; one per user per product.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Review {
    /// Identity.
    pub id: ReviewId,
    /// The product reviewed.
    pub product_id: ProductId,
    /// Who wrote it.
    pub author_id: UserId,
    /// The author's display name when they wrote it.
    pub author_name: DisplayName,
    /// Stars.
    pub rating: Rating,
    /// Headline.
    pub title: ReviewTitle,
    /// Text.
    pub body: ReviewBody,
    /// When it was written.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: Timestamp,
}

/// Raw review fields as a client sends them.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReviewInput {
    /// Stars, 1–5.
    pub rating: i64,
    /// Headline.
    pub title: String,
    /// Text.
    #[serde(default)]
    pub body: String,
}

impl Review {
    /// Validates `input` and makes a review of `product_id` by the given author.
    ///
    /// # Errors
    /// Every invalid field.
    pub fn create(
        product_id: ProductId,
        author_id: UserId,
        author_name: DisplayName,
        input: &ReviewInput,
    ) -> Result<Self, ValidationErrors> {
        let mut v = Validator::default();
        let rating = v.check(Rating::new(input.rating));
        let title = v.check(ReviewTitle::parse(&input.title));
        let body = v.check(ReviewBody::parse(&input.body));
        match (rating, title, body) {
            (Some(rating), Some(title), Some(body)) => Ok(Self {
                id: ReviewId::generate(),
                product_id,
                author_id,
                author_name,
                rating,
                title,
                body,
                created_at: now(),
            }),
            _ => Err(v.into_errors()),
        }
    }
}

/// Count and sum of a product's ratings.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RatingSummary {
    /// How many reviews.
    pub count: u64,
    /// Sum of their stars.
    pub total: u64,
}

impl RatingSummary {
    /// Mean stars rounded to two decimals, or `None` without reviews.
    #[must_use]
    #[allow(clippy::cast_precision_loss)] // counts far below 2^52
    pub fn average(&self) -> Option<f64> {
        (self.count > 0).then(|| {
            let avg = self.total as f64 / self.count as f64;
            (avg * 100.0).round() / 100.0
        })
    }
}

/// Where a review page ends (reviews are listed newest first).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewCursor {
    /// Last item's creation time.
    pub created_at: Timestamp,
    /// Last item's ID.
    pub id: ReviewId,
}

impl ReviewCursor {
    /// The cursor naming `r` as the last item of a page.
    #[must_use]
    pub fn after(r: &Review) -> Self {
        Self {
            created_at: r.created_at,
            id: r.id,
        }
    }

    /// The opaque text form.
    #[must_use]
    pub fn encode(&self) -> String {
        encode_cursor(self)
    }

    /// Parses the text form.
    ///
    /// # Errors
    /// A [`FieldError`] on `cursor`.
    pub fn decode(s: &str) -> Result<Self, FieldError> {
        decode_cursor(s)
    }

    /// Whether `r` comes after this cursor in newest-first order.
    #[must_use]
    pub fn precedes(&self, r: &Review) -> bool {
        (r.created_at, r.id) < (self.created_at, self.id)
    }
}

/// One product's reviews, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewQuery {
    /// The product.
    pub product_id: ProductId,
    /// Page size.
    pub limit: PageLimit,
    /// Continue after this item.
    pub after: Option<ReviewCursor>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rating_bounds() {
        assert!(Rating::new(0).is_err());
        assert!(Rating::new(6).is_err());
        assert!(Rating::new(-1).is_err());
        assert_eq!(Rating::new(5).unwrap().get(), 5);
        assert!(serde_json::from_str::<Rating>("6").is_err());
    }

    #[test]
    fn average_rounds() {
        let s = RatingSummary {
            count: 3,
            total: 11,
        };
        assert_eq!(s.average(), Some(3.67));
        assert_eq!(RatingSummary::default().average(), None);
    }

    #[test]
    fn review_input_reports_all_fields() {
        let input = ReviewInput {
            rating: 6,
            title: String::new(),
            body: "x".repeat(5001),
        };
        let errs = Review::create(
            ProductId::generate(),
            UserId::generate(),
            DisplayName::parse("A").unwrap(),
            &input,
        )
        .unwrap_err();
        assert!(errs.has("rating") && errs.has("title") && errs.has("body"));
    }
}
