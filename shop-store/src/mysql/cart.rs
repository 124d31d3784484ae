use async_trait::async_trait;
use shop_core::time::now;
use shop_core::{Cart, CartCommand, CartId, CartStore, Error, Result, Timestamp, UserId};
use sqlx::mysql::MySqlConnection;
use sqlx::{MySql, QueryBuilder, Row};
use tracing::instrument;

use super::MySqlStore;
use super::error::{TxResult, map};
use super::rows;

/// Reads a user's cart with its lines in one statement (one snapshot, one round trip);
/// `lock` also holds the cart row until commit.
async fn load_cart(
    conn: &mut MySqlConnection,
    user_id: UserId,
    lock: bool,
) -> TxResult<Option<Cart>> {
    let sql = format!(
        "SELECT c.id, c.version, c.updated_at, l.product_id, l.quantity \
         FROM carts c LEFT JOIN cart_lines l ON l.user_id = c.user_id \
         WHERE c.user_id = ? ORDER BY l.position{}",
        if lock { " FOR UPDATE" } else { "" }
    );
    let rows = sqlx::query(&sql)
        .bind(user_id.as_uuid())
        .fetch_all(&mut *conn)
        .await?;
    let Some(head) = rows.first() else {
        return Ok(None);
    };
    // An empty cart is one row whose line columns are NULL.
    let mut lines = Vec::with_capacity(rows.len());
    for row in &rows {
        if row
            .try_get::<Option<uuid::Uuid>, _>("product_id")?
            .is_some()
        {
            lines.push(rows::cart_line(row)?);
        }
    }
    Ok(Some(rows::cart(head, user_id, lines)?))
}

/// Empties a cart and bumps its version.
pub(super) async fn clear_cart(
    conn: &mut MySqlConnection,
    user_id: UserId,
    at: Timestamp,
) -> TxResult<()> {
    sqlx::query("DELETE FROM cart_lines WHERE user_id = ?")
        .bind(user_id.as_uuid())
        .execute(&mut *conn)
        .await?;
    sqlx::query("UPDATE carts SET version = version + 1, updated_at = ? WHERE user_id = ?")
        .bind(at)
        .bind(user_id.as_uuid())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

impl MySqlStore {
    async fn modify_cart_once(&self, user_id: UserId, cmd: &CartCommand) -> TxResult<Cart> {
        let at = now();
        let mut tx = self.pool.begin().await?;
        // Create the cart if needed and lock its row: every change to one cart is serialised.
        sqlx::query(
            "INSERT INTO carts (user_id, id, version, updated_at) VALUES (?, ?, 0, ?) \
             ON DUPLICATE KEY UPDATE user_id = user_id",
        )
        .bind(user_id.as_uuid())
        .bind(CartId::generate().as_uuid())
        .bind(at)
        .execute(&mut *tx)
        .await?;
        let mut cart = load_cart(&mut tx, user_id, true)
            .await?
            .ok_or_else(|| Error::internal("cart vanished inside its transaction"))?;
        cart.apply(cmd, at)?;
        // A cart holds at most 100 lines: rewriting them is simpler than diffing and as cheap.
        sqlx::query("DELETE FROM cart_lines WHERE user_id = ?")
            .bind(user_id.as_uuid())
            .execute(&mut *tx)
            .await?;
        if !cart.lines.is_empty() {
            let mut qb = QueryBuilder::<MySql>::new(
                "INSERT INTO cart_lines (user_id, product_id, position, quantity) ",
            );
            qb.push_values(cart.lines.iter().enumerate(), |mut b, (i, line)| {
                b.push_bind(user_id.as_uuid())
                    .push_bind(line.product_id.as_uuid())
                    .push_bind(u16::try_from(i).unwrap_or(u16::MAX))
                    .push_bind(u16::try_from(line.quantity.get()).unwrap_or(u16::MAX));
            });
            qb.build().execute(&mut *tx).await?;
        }
        sqlx::query("UPDATE carts SET version = ?, updated_at = ? WHERE user_id = ?")
            .bind(cart.version)
            .bind(cart.updated_at)
            .bind(user_id.as_uuid())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(cart)
    }
}

#[async_trait]
impl CartStore for MySqlStore {
    #[tracing::instrument(level = "debug", skip_all, fields(db.system = "mysql"))]
    async fn get_cart(&self, user_id: UserId) -> Result<Option<Cart>> {
        let mut conn = self.pool.acquire().await.map_err(map)?;
        load_cart(&mut conn, user_id, false)
            .await
            .map_err(Error::from)
    }

    #[instrument(skip(self), fields(db.system = "mysql", user_id = %user_id))]
    async fn modify_cart(&self, user_id: UserId, command: &CartCommand) -> Result<Cart> {
        self.retrying("modify_cart", || self.modify_cart_once(user_id, command))
            .await
    }
}
