//! Reviews, one per author and product; newest-first keyset pages.

use async_trait::async_trait;
use shop_core::{
    Page, ProductId, RatingSummary, Result, Review, ReviewCursor, ReviewQuery, ReviewStore,
};
use sqlx::{MySql, QueryBuilder, Row};

use super::error::map;
use super::rows::{self, REVIEW_COLUMNS};
use super::{MySqlStore, push_keyset};

#[async_trait]
impl ReviewStore for MySqlStore {
    #[tracing::instrument(level = "debug", skip_all, fields(db.system = "mysql"))]
    async fn add_review(&self, r: &Review) -> Result<()> {
        sqlx::query(
            "INSERT INTO reviews (id, product_id, author_id, author_name, rating, title, body, \
             created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(r.id.as_uuid())
        .bind(r.product_id.as_uuid())
        .bind(r.author_id.as_uuid())
        .bind(r.author_name.as_str())
        .bind(r.rating.get())
        .bind(r.title.as_str())
        .bind(r.body.as_str())
        .bind(r.created_at)
        .execute(&self.pool)
        .await
        .map_err(map)?;
        Ok(())
    }

    #[tracing::instrument(level = "debug", skip_all, fields(db.system = "mysql"))]
    async fn list_reviews(&self, q: &ReviewQuery) -> Result<Page<Review, ReviewCursor>> {
        let mut qb = QueryBuilder::<MySql>::new(format!(
            "SELECT {REVIEW_COLUMNS} FROM reviews WHERE product_id = "
        ));
        qb.push_bind(q.product_id.as_uuid());
        if let Some(c) = &q.after {
            push_keyset(&mut qb, "created_at", "<", c.created_at, c.id.as_uuid());
        }
        qb.push(" ORDER BY created_at DESC, id DESC LIMIT ")
            .push_bind(q.limit.get() as u64 + 1);
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

    #[tracing::instrument(level = "debug", skip_all, fields(db.system = "mysql"))]
    async fn rating_summary(&self, product_id: ProductId) -> Result<RatingSummary> {
        // SUM yields DECIMAL; cast both to BIGINT UNSIGNED so they decode as u64.
        let row = sqlx::query(
            "SELECT CAST(COUNT(*) AS UNSIGNED) AS n, CAST(COALESCE(SUM(rating), 0) AS UNSIGNED) AS total \
             FROM reviews WHERE product_id = ?",
        )
        .bind(product_id.as_uuid())
        .fetch_one(&self.pool)
        .await
        .map_err(map)?;
        Ok(RatingSummary {
            count: row.try_get("n").map_err(map)?,
            total: row.try_get("total").map_err(map)?,
        })
    }
}
