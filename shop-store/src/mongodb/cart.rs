//! Carts: one document per user, written with optimistic concurrency.

use ::mongodb::bson::doc;
use ::mongodb::options::ReturnDocument;
use async_trait::async_trait;
use shop_core::time::now;
use shop_core::{Cart, CartCommand, CartStore, Error, Result, UserId};
use tracing::instrument;

use super::MongoStore;
use super::docs::{self, date, id};
use super::error::{is_duplicate, map};

/// How many times a cart change re-reads after losing an optimistic-concurrency race.
const CART_ATTEMPTS: usize = 20;

#[async_trait]
impl CartStore for MongoStore {
    #[tracing::instrument(level = "debug", skip_all, fields(db.system = "mongodb"))]
    async fn get_cart(&self, user_id: UserId) -> Result<Option<Cart>> {
        self.col("carts")
            .find_one(doc! { "_id": id(user_id.as_uuid()) })
            .await
            .map_err(map)?
            .map(|d| docs::cart(&d, user_id))
            .transpose()
    }

    /// Optimistic concurrency: the write only lands if the version read is still current;
    /// otherwise re-read and re-apply.
    #[instrument(skip(self), fields(db.system = "mongodb", user_id = %user_id))]
    async fn modify_cart(&self, user_id: UserId, command: &CartCommand) -> Result<Cart> {
        let carts = self.col("carts");
        let key = id(user_id.as_uuid());
        for _ in 0..CART_ATTEMPTS {
            let current = self.get_cart(user_id).await?;
            let is_new = current.is_none();
            let mut cart = current.unwrap_or_else(|| Cart::empty(user_id));
            let read_version = i64::try_from(cart.version).map_err(Error::internal)?;
            cart.apply(command, now())?;
            let version = i64::try_from(cart.version).map_err(Error::internal)?;
            if is_new {
                let created = carts
                    .insert_one(doc! {
                        "_id": &key,
                        "cart_id": id(cart.id.as_uuid()),
                        "lines": docs::cart_lines(&cart.lines),
                        "version": version,
                        "updated_at": date(cart.updated_at),
                    })
                    .await;
                match created {
                    Ok(_) => return Ok(cart),
                    Err(e) if is_duplicate(&e) => continue,
                    Err(e) => return Err(map(e)),
                }
            }
            let updated = carts
                .find_one_and_update(
                    doc! { "_id": &key, "version": read_version },
                    doc! { "$set": {
                        "lines": docs::cart_lines(&cart.lines),
                        "version": version,
                        "updated_at": date(cart.updated_at),
                    } },
                )
                .return_document(ReturnDocument::After)
                .await
                .map_err(map)?;
            if updated.is_some() {
                return Ok(cart);
            }
        }
        Err(shop_core::Conflict::ConcurrentModification.into())
    }
}
