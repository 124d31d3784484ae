use async_trait::async_trait;
use shop_core::time::now;
use shop_core::{Cart, CartCommand, CartId, CartStore, Error, Result, Timestamp, UserId};
use sqlx::postgres::PgConnection;
use sqlx::{Postgres, QueryBuilder, Row};
use tracing::instrument;

use super::PgStore;
use super::error::{TxResult, map};
use super::rows;

/// Reads a user's cart with its lines; `lock` also holds the cart row until commit.
///
/// Without a lock, one statement (one snapshot, one round trip). With one, the cart row is
/// locked by a statement of its own and the cart read by the next: at READ COMMITTED a
/// statement that waited for a row lock sees that row's newest version but everything else —
/// the lines of a join — as of its start, so reading the lines in the locking statement would
/// hand a second checkout the lines the first one just deleted.
pub(super) async fn load_cart(
    conn: &mut PgConnection,
    user_id: UserId,
    lock: bool,
) -> TxResult<Option<Cart>> {
    if lock {
        let locked = sqlx::query("SELECT 1 FROM carts WHERE user_id = $1 FOR UPDATE")
            .bind(user_id.as_uuid())
            .fetch_optional(&mut *conn)
            .await?;
        if locked.is_none() {
            return Ok(None);
        }
    }
    let rows = sqlx::query(
        "SELECT c.id, c.version, c.updated_at, l.product_id, l.quantity \
         FROM carts c LEFT JOIN cart_lines l ON l.user_id = c.user_id \
         WHERE c.user_id = $1 ORDER BY l.position",
    )
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
    conn: &mut PgConnection,
    user_id: UserId,
    at: Timestamp,
) -> TxResult<()> {
    sqlx::query("DELETE FROM cart_lines WHERE user_id = $1")
        .bind(user_id.as_uuid())
        .execute(&mut *conn)
        .await?;
    sqlx::query("UPDATE carts SET version = version + 1, updated_at = $1 WHERE user_id = $2")
        .bind(at)
        .bind(user_id.as_uuid())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

impl PgStore {
    async fn modify_cart_once(&self, user_id: UserId, cmd: &CartCommand) -> TxResult<Cart> {
        let at = now();
        let mut tx = self.pool.begin().await?;
        // Create the cart if needed and lock its row: every change to one cart is serialised.
        sqlx::query(
            "INSERT INTO carts (user_id, id, version, updated_at) VALUES ($1, $2, 0, $3) \
             ON CONFLICT (user_id) DO NOTHING",
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
        sqlx::query("DELETE FROM cart_lines WHERE user_id = $1")
            .bind(user_id.as_uuid())
            .execute(&mut *tx)
            .await?;
        if !cart.lines.is_empty() {
            let mut qb = QueryBuilder::<Postgres>::new(
                "INSERT INTO cart_lines (user_id, product_id, position, quantity) ",
            );
            qb.push_values(cart.lines.iter().enumerate(), |mut b, (i, line)| {
                b.push_bind(user_id.as_uuid())
                    .push_bind(line.product_id.as_uuid())
                    .push_bind(i16::try_from(i).unwrap_or(i16::MAX))
                    .push_bind(i16::try_from(line.quantity.get()).unwrap_or(i16::MAX));
            });
            qb.build().execute(&mut *tx).await?;
        }
        sqlx::query("UPDATE carts SET version = $1, updated_at = $2 WHERE user_id = $3")
            .bind(i64::try_from(cart.version).unwrap_or(i64::MAX))
            .bind(cart.updated_at)
            .bind(user_id.as_uuid())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(cart)
    }
}

#[async_trait]
impl CartStore for PgStore {
    #[tracing::instrument(level = "debug", skip_all, fields(db.system = "postgresql"))]
    async fn get_cart(&self, user_id: UserId) -> Result<Option<Cart>> {
        let mut conn = self.pool.acquire().await.map_err(map)?;
        load_cart(&mut conn, user_id, false)
            .await
            .map_err(Error::from)
    }

    #[instrument(skip(self), fields(db.system = "postgresql", user_id = %user_id))]
    async fn modify_cart(&self, user_id: UserId, command: &CartCommand) -> Result<Cart> {
        self.retrying("modify_cart", || self.modify_cart_once(user_id, command))
            .await
    }
}
