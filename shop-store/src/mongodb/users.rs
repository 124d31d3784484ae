//! Users, unique by email.

use ::mongodb::bson::doc;
use ::mongodb::options::ReturnDocument;
use async_trait::async_trait;
use shop_core::time::now;
use shop_core::{Email, Error, Result, User, UserId, UserStore, UserUpdate};

use super::MongoStore;
use super::docs::{self, date, id};
use super::error::map;

#[async_trait]
impl UserStore for MongoStore {
    #[tracing::instrument(level = "debug", skip_all, fields(db.system = "mongodb"))]
    async fn create_user(&self, user: &User) -> Result<()> {
        self.col("users")
            .insert_one(docs::user_doc(user))
            .await
            .map_err(map)?;
        Ok(())
    }

    #[tracing::instrument(level = "debug", skip_all, fields(db.system = "mongodb"))]
    async fn get_user(&self, user_id: UserId) -> Result<Option<User>> {
        let filter = doc! { "_id": id(user_id.as_uuid()) };
        self.find_one_as("users", filter, docs::user).await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(db.system = "mongodb"))]
    async fn find_user_by_email(&self, email: &Email) -> Result<Option<User>> {
        let filter = doc! { "email": email.as_str() };
        self.find_one_as("users", filter, docs::user).await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(db.system = "mongodb"))]
    async fn update_user(&self, user_id: UserId, update: &UserUpdate) -> Result<User> {
        let mut set = doc! { "updated_at": date(now()) };
        if let Some(n) = &update.display_name {
            set.insert("display_name", n.as_str());
        }
        if let Some(h) = &update.password_hash {
            set.insert("password_hash", h.as_str());
        }
        if let Some(r) = update.roles.as_ref().filter(|r| !r.is_empty()) {
            set.insert("roles", docs::roles(r));
        }
        self.col("users")
            .find_one_and_update(doc! { "_id": id(user_id.as_uuid()) }, doc! { "$set": set })
            .return_document(ReturnDocument::After)
            .await
            .map_err(map)?
            .map(|d| docs::user(&d))
            .transpose()?
            .ok_or(Error::NotFound("user"))
    }
}
