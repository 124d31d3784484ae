//! Users, unique by email; updates under a row lock.

use async_trait::async_trait;
use shop_core::time::now;
use shop_core::{Email, Error, Result, User, UserId, UserStore, UserUpdate};

use super::MySqlStore;
use super::error::{TxResult, map};
use super::rows::{self, USER_COLUMNS};

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
        row.map(|r| rows::user(&r)).transpose()
    }
}

#[async_trait]
impl UserStore for MySqlStore {
    #[tracing::instrument(level = "debug", skip_all, fields(db.system = "mysql"))]
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

    #[tracing::instrument(level = "debug", skip_all, fields(db.system = "mysql"))]
    async fn get_user(&self, id: UserId) -> Result<Option<User>> {
        self.one_user("id", id.as_uuid().as_bytes().to_vec()).await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(db.system = "mysql"))]
    async fn find_user_by_email(&self, email: &Email) -> Result<Option<User>> {
        self.one_user("email", email.as_str().as_bytes().to_vec())
            .await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(db.system = "mysql"))]
    async fn update_user(&self, id: UserId, update: &UserUpdate) -> Result<User> {
        self.retrying("update_user", || self.update_user_once(id, update))
            .await
    }
}
