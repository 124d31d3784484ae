//! Reviews, one per author and product; newest-first keyset pages.

use async_trait::async_trait;
use shop_core::{
    Page, ProductId, RatingSummary, Result, Review, ReviewCursor, ReviewQuery, ReviewStore,
};
use sqlx::{Postgres, QueryBuilder, Row};

use super::error::map;
use super::rows::{self, REVIEW_COLUMNS};
use super::{PgStore, push_keyset};

#[async_trait]
impl ReviewStore for PgStore {
    #[tracing::instrument(level = "debug", skip_all, fields(db.system = "postgresql"))]
    async fn add_review(&self, r: &Review) -> Result<()> {
        sqlx::query(
            "INSERT INTO reviews (id, product_id, author_id, author_name, rating, title, body, \
             created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(r.id.as_uuid())
        .bind(r.product_id.as_uuid())
        .bind(r.author_id.as_uuid())
        .bind(r.author_name.as_str())
        .bind(i16::from(r.rating.get()))
        .bind(r.title.as_str())
        .bind(r.body.as_str())
        .bind(r.created_at)
        .execute(&self.pool)
        .await
        .map_err(map)?;
        Ok(())
    }

    #[tracing::instrument(level = "debug", skip_all, fields(db.system = "postgresql"))]
    async fn list_reviews(&self, q: &ReviewQuery) -> Result<Page<Review, ReviewCursor>> {
        let mut qb = QueryBuilder::<Postgres>::new(format!(
            "SELECT {REVIEW_COLUMNS} FROM reviews WHERE product_id = "
        ));
        qb.push_bind(q.product_id.as_uuid());
        if let Some(c) = &q.after {
            push_keyset(&mut qb, "created_at", "<", c.created_at, c.id.as_uuid());
        }
        qb.push(" ORDER BY created_at DESC, id DESC LIMIT ")
            .push_bind(i64::try_from(q.limit.get()).unwrap_or(i64::MAX) + 1);
        let items = qb
            .build()
            .fetch_all(&self.pool)
            .await
            .map_err(map)?
            .iter()
            .map(rows::review)
            .collect::<shop_core::Result<Vec<_>>>()?;
        Ok(Page::from_overfetch(items, q.limit, ReviewCursor::after))
    }

    #[tracing::instrument(level = "debug", skip_all, fields(db.system = "postgresql"))]
    async fn rating_summary(&self, product_id: ProductId) -> Result<RatingSummary> {
        // SUM of a smallint is a bigint; neither is ever negative.
        let row = sqlx::query(
            "SELECT COUNT(*) AS n, COALESCE(SUM(rating), 0) AS total \
             FROM reviews WHERE product_id = $1",
        )
        .bind(product_id.as_uuid())
        .fetch_one(&self.pool)
        .await
        .map_err(map)?;
        Ok(RatingSummary {
            count: row.try_get::<i64, _>("n").map_err(map)?.unsigned_abs(),
            total: row.try_get::<i64, _>("total").map_err(map)?.unsigned_abs(),
        })
    }
}
