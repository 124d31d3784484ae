//! Users, unique by email.

use async_trait::async_trait;
use shop_core::time::now;
use shop_core::{Conflict, Email, Error, Result, User, UserId, UserStore, UserUpdate};

use super::MemoryStore;

#[async_trait]
impl UserStore for MemoryStore {
    async fn create_user(&self, user: &User) -> Result<()> {
        let mut u = self.users.write();
        if u.by_email.contains_key(&user.email) {
            return Err(Conflict::EmailTaken.into());
        }
        u.by_email.insert(user.email.clone(), user.id);
        u.by_id.insert(user.id, user.clone());
        Ok(())
    }

    async fn get_user(&self, id: UserId) -> Result<Option<User>> {
        Ok(self.users.read().by_id.get(&id).cloned())
    }

    async fn find_user_by_email(&self, email: &Email) -> Result<Option<User>> {
        let u = self.users.read();
        Ok(u.by_email
            .get(email)
            .and_then(|id| u.by_id.get(id))
            .cloned())
    }

    async fn update_user(&self, id: UserId, update: &UserUpdate) -> Result<User> {
        let mut u = self.users.write();
        let user = u.by_id.get_mut(&id).ok_or(Error::NotFound("user"))?;
        update.apply_to(user, now());
        Ok(user.clone())
    }
}
