//! Users, reviews and refresh tokens.

use async_trait::async_trait;
use shop_core::time::now;
use shop_core::{
    Email, Error, Page, ProductId, RatingSummary, RefreshTokenRecord, RefreshTokenStore,
    RefreshTokenUse, Result, Review, ReviewCursor, ReviewQuery, ReviewStore, Timestamp,
    TokenFamilyId, TokenHash, User, UserId, UserStore, UserUpdate,
};
use sqlx::{MySql, QueryBuilder, Row};

use super::error::{TxResult, map};
use super::rows::{self, REVIEW_COLUMNS, TOKEN_COLUMNS, USER_COLUMNS};
use super::{MySqlStore, push_keyset};

impl MySqlStore {
    async fn update_user_once(&self, id: UserId, update: &UserUpdate) -> TxResult<User> {
        let mut tx = self.pool.begin().await?;
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = ? FOR UPDATE");
        let row = sqlx::query(&sql)
            .bind(id.as_uuid())
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(Error::NotFound("user"))?;
        let mut user = rows::user(&row)?;
        update.apply_to(&mut user, now());
        sqlx::query(
            "UPDATE users SET display_name = ?, password_hash = ?, roles = ?, updated_at = ? \
             WHERE id = ?",
        )
        .bind(user.display_name.as_str())
        .bind(user.password_hash.as_str())
        .bind(rows::roles_text(&user.roles))
        .bind(user.updated_at)
        .bind(id.as_uuid())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(user)
    }

    async fn one_user(&self, column: &str, value: Vec<u8>) -> Result<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE {column} = ?");
        let row = sqlx::query(&sql)
            .bind(value)
            .fetch_optional(&self.pool)
            .await
            .map_err(map)?;
        row.map(|r| rows::user(&r)).transpose().map_err(Error::from)
    }
}

#[async_trait]
impl UserStore for MySqlStore {
    async fn create_user(&self, u: &User) -> Result<()> {
        sqlx::query(
            "INSERT INTO users (id, email, display_name, password_hash, roles, created_at, \
             updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(u.id.as_uuid())
        .bind(u.email.as_str())
        .bind(u.display_name.as_str())
        .bind(u.password_hash.as_str())
        .bind(rows::roles_text(&u.roles))
        .bind(u.created_at)
        .bind(u.updated_at)
        .execute(&self.pool)
        .await
        .map_err(map)?;
        Ok(())
    }

    async fn get_user(&self, id: UserId) -> Result<Option<User>> {
        self.one_user("id", id.as_uuid().as_bytes().to_vec()).await
    }

    async fn find_user_by_email(&self, email: &Email) -> Result<Option<User>> {
        self.one_user("email", email.as_str().as_bytes().to_vec())
            .await
    }

    async fn update_user(&self, id: UserId, update: &UserUpdate) -> Result<User> {
        self.retrying("update_user", || self.update_user_once(id, update))
            .await
    }
}

#[async_trait]
impl ReviewStore for MySqlStore {
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
            .collect::<TxResult<Vec<_>>>()
            .map_err(Error::from)?;
        Ok(Page::from_overfetch(items, q.limit, ReviewCursor::after))
    }

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

#[async_trait]
impl RefreshTokenStore for MySqlStore {
    async fn insert_refresh_token(&self, r: &RefreshTokenRecord) -> Result<()> {
        sqlx::query(
            "INSERT INTO refresh_tokens (token_hash, family_id, user_id, issued_at, expires_at, \
             used_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
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

    async fn use_refresh_token(&self, hash: &TokenHash, at: Timestamp) -> Result<RefreshTokenUse> {
        // One conditional UPDATE decides the race: only one caller can flip used_at.
        let won = sqlx::query(
            "UPDATE refresh_tokens SET used_at = ? WHERE token_hash = ? AND used_at IS NULL \
             AND revoked_at IS NULL AND expires_at > ?",
        )
        .bind(at)
        .bind(&hash.0[..])
        .bind(at)
        .execute(&self.pool)
        .await
        .map_err(map)?
        .rows_affected()
            == 1;
        let sql = format!("SELECT {TOKEN_COLUMNS} FROM refresh_tokens WHERE token_hash = ?");
        let Some(row) = sqlx::query(&sql)
            .bind(&hash.0[..])
            .fetch_optional(&self.pool)
            .await
            .map_err(map)?
        else {
            return Ok(RefreshTokenUse::Unknown);
        };
        let rec = rows::refresh_token(&row).map_err(Error::from)?;
        Ok(if won {
            RefreshTokenUse::Fresh(rec)
        } else {
            // Lost the update: the row says why (a race that used it in between reads as used).
            rec.refusal_at(at)
        })
    }

    async fn revoke_token_family(&self, family_id: TokenFamilyId, at: Timestamp) -> Result<u64> {
        sqlx::query(
            "UPDATE refresh_tokens SET revoked_at = ? WHERE family_id = ? AND revoked_at IS NULL",
        )
        .bind(at)
        .bind(family_id.as_uuid())
        .execute(&self.pool)
        .await
        .map(|r| r.rows_affected())
        .map_err(map)
    }

    async fn revoke_user_tokens(&self, user_id: UserId, at: Timestamp) -> Result<u64> {
        sqlx::query(
            "UPDATE refresh_tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL",
        )
        .bind(at)
        .bind(user_id.as_uuid())
        .execute(&self.pool)
        .await
        .map(|r| r.rows_affected())
        .map_err(map)
    }
}
