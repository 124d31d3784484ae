//! Users, unique by email; updates under a row lock.

use std::sync::LazyLock;

use async_trait::async_trait;
use shop_core::time::now;
use shop_core::{Email, Error, Result, User, UserId, UserStore, UserUpdate};

use super::PgStore;
use super::error::{TxResult, map};
use super::rows::{self, USER_COLUMNS};

impl PgStore {
    async fn update_user_once(&self, id: UserId, update: &UserUpdate) -> TxResult<User> {
        let mut tx = self.pool.begin().await?;
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1 FOR UPDATE");
        let row = sqlx::query(&sql)
            .bind(id.as_uuid())
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(Error::NotFound("user"))?;
        let mut user = rows::user(&row)?;
        update.apply_to(&mut user, now());
        sqlx::query(
            "UPDATE users SET display_name = $1, password_hash = $2, roles = $3, updated_at = $4 \
             WHERE id = $5",
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

    async fn one_user(
        &self,
        query: sqlx::query::Query<'_, sqlx::Postgres, sqlx::postgres::PgArguments>,
    ) -> Result<Option<User>> {
        let row = query.fetch_optional(&self.pool).await.map_err(map)?;
        row.map(|r| rows::user(&r)).transpose()
    }
}

#[async_trait]
impl UserStore for PgStore {
    #[tracing::instrument(level = "debug", skip_all, fields(db.system = "postgresql"))]
    async fn create_user(&self, u: &User) -> Result<()> {
        sqlx::query(
            "INSERT INTO users (id, email, display_name, password_hash, roles, created_at, \
             updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
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

    #[tracing::instrument(level = "debug", skip_all, fields(db.system = "postgresql"))]
    async fn get_user(&self, id: UserId) -> Result<Option<User>> {
        static SQL: LazyLock<String> =
            LazyLock::new(|| format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1"));
        self.one_user(sqlx::query(SQL.as_str()).bind(id.as_uuid()))
            .await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(db.system = "postgresql"))]
    async fn find_user_by_email(&self, email: &Email) -> Result<Option<User>> {
        static SQL: LazyLock<String> =
            LazyLock::new(|| format!("SELECT {USER_COLUMNS} FROM users WHERE email = $1"));
        self.one_user(sqlx::query(SQL.as_str()).bind(email.as_str()))
            .await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(db.system = "postgresql"))]
    async fn update_user(&self, id: UserId, update: &UserUpdate) -> Result<User> {
        self.retrying("update_user", || self.update_user_once(id, update))
            .await
    }
}
